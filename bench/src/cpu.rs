//! Where the CPU went: user + system time of a process and of each of its
//! threads, read from `/proc/<pid>/stat` and `/proc/<pid>/task/*/stat`
//! (proc(5): fields 14 `utime` and 15 `stime`, in clock ticks). Two
//! snapshots around a phase give each thread group's share of it: the
//! profile `BENCHMARKS.md` cites when a bar is not met.

use std::collections::BTreeMap;

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`): 100 on Linux for
/// every architecture Rust supports there (`USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds of one process, by thread group.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The whole process, in ticks.
    pub total: u64,
    /// Per thread name with digits and trailing separators dropped
    /// (`tokio-runtime-w`, `rocksdb:low`, ...), in ticks.
    pub threads: BTreeMap<String, u64>,
}

/// `(comm, utime + stime)` of one `stat` line. `comm` is in parentheses
/// and may hold spaces or parentheses itself: the fields after it start
/// at the last `)`.
fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// A thread name without its number: `tokio-runtime-w` stays, `rocksdb:low3`
/// becomes `rocksdb:low`, `worker-12` becomes `worker`.
fn group(comm: &str) -> String {
    comm.trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['-', '_', ':', '#'])
        .to_owned()
}

/// The CPU time of process `pid` (`"self"` for this one) and its threads
/// now. Threads that end between the listing and the read are skipped: a
/// profile, not an account.
pub fn snapshot(pid: &str) -> Snapshot {
    let mut out = Snapshot::default();
    if let Some((_, t)) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .as_deref()
        .and_then(parse_stat)
    {
        out.total = t;
    }
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(line) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((comm, t)) = parse_stat(&line) {
            *out.threads.entry(group(&comm)).or_default() += t;
        }
    }
    out
}

/// CPU spent between two snapshots of one process.
#[derive(Debug, Clone)]
pub struct Spent {
    /// The whole process, seconds.
    pub seconds: f64,
    /// Per thread group, seconds, largest first. A thread that ended
    /// during the phase is missing from the later snapshot; its group may
    /// then show less than it used.
    pub threads: Vec<(String, f64)>,
}

impl Spent {
    /// `after - before`.
    pub fn between(before: &Snapshot, after: &Snapshot) -> Spent {
        let mut threads: Vec<(String, f64)> = after
            .threads
            .iter()
            .map(|(name, &t)| {
                let was = before.threads.get(name).copied().unwrap_or(0);
                (
                    name.clone(),
                    t.saturating_sub(was) as f64 / TICKS_PER_SECOND,
                )
            })
            .filter(|(_, s)| *s > 0.0)
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        Spent {
            seconds: after.total.saturating_sub(before.total) as f64 / TICKS_PER_SECOND,
            threads,
        }
    }

    /// As JSON: `{"seconds": .., "threads": {"name": seconds, ..}}`.
    pub fn json(&self) -> serde_json::Value {
        let threads: serde_json::Map<String, serde_json::Value> = self
            .threads
            .iter()
            .map(|(n, s)| (n.clone(), serde_json::json!((s * 100.0).round() / 100.0)))
            .collect();
        serde_json::json!({
            "seconds": (self.seconds * 100.0).round() / 100.0,
            "threads": threads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names() {
        let line =
            "42 (tokio-runtime-w) S 1 42 42 0 -1 4194368 100 0 0 0 250 31 0 0 20 0 3 0 1 0 0";
        assert_eq!(parse_stat(line), Some(("tokio-runtime-w".into(), 281)));
        let odd = "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0";
        assert_eq!(parse_stat(odd), Some(("a) b (c)".into(), 11)));
        assert_eq!(parse_stat("7 (short) R 1"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn groups_drop_numbers() {
        assert_eq!(group("rocksdb:low3"), "rocksdb:low");
        assert_eq!(group("worker-12"), "worker");
        assert_eq!(group("tokio-runtime-w"), "tokio-runtime-w");
    }

    #[test]
    fn this_process_uses_cpu() {
        let before = snapshot("self");
        let mut x = 0u64;
        let start = std::time::Instant::now();
        // Busy until a tick is charged to a thread (10 ms of CPU), or 10 s
        // pass.
        let spent = loop {
            for _ in 0..1_000_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            let spent = Spent::between(&before, &snapshot("self"));
            // The process total also counts other tests' threads that
            // ended: wait for this thread's own tick.
            if !spent.threads.is_empty() || start.elapsed() > std::time::Duration::from_secs(10) {
                break spent;
            }
        };
        std::hint::black_box(x);
        assert!(spent.seconds > 0.0, "{spent:?}");
        assert!(!spent.threads.is_empty());
    }
}
