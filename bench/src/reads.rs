//! `sigil-bench reads` (issue #14, item 2): the read path of a grown log.
//! One log is grown by raw appends (`append.rs`) to `size` entries,
//! exported with `sigil-log export-tiles`, and then, in one run:
//!
//! * proofs: inclusion proofs at random indexes from the real release
//!   `sigil-log serve`, against the cheapest answer the same server gives
//!   (`GET /checkpoint`) at the same concurrency: what a proof costs beyond
//!   HTTP;
//! * tiles: full tiles at random (level-0 hash tiles, level-1 hash tiles,
//!   entry bundles) from `sigil-log serve` and from nginx serving the
//!   exported directory, the same paths in the same order, alternating
//!   between the two servers so that neither gets the quieter machine.
//!
//! nginx is Debian's (`apt-get install nginx`), run as a child of this
//! process on 127.0.0.1 with a configuration written into the run's temp
//! dir (no access log, `sendfile`, keep-alive without a request cap, one
//! worker per core).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigil_core::tile::{TILE_WIDTH, Tile, TileKind};
use sigil_e2e::test_ca::TestCa;

use crate::append::{Appender, release_signers};
use crate::http::{Counts, Load, mix};
use crate::server;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How the run is shaped.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Entries in the log.
    pub size: u64,
    /// Connections asking for proofs (and for the checkpoint baseline).
    pub proof_clients: usize,
    /// Connections asking for tiles (from each server).
    pub tile_connections: usize,
    /// Seconds per measurement.
    pub seconds: f64,
    /// Alternations of sigil-log and nginx.
    pub rounds: usize,
    /// Client worker threads.
    pub client_threads: usize,
    /// The nginx binary.
    pub nginx: PathBuf,
}

/// What the run measured.
#[derive(Debug)]
pub struct Report {
    /// Entries in the log.
    pub size: u64,
    /// Inclusion proofs per second.
    pub proofs: Counts,
    /// `GET /checkpoint` per second, same server and connections.
    pub checkpoints: Counts,
    /// Tile GETs per second from `sigil-log`, per round.
    pub sigil_tiles: Vec<Counts>,
    /// Tile GETs per second from nginx, per round.
    pub nginx_tiles: Vec<Counts>,
    /// Seconds to grow the log.
    pub grow_seconds: f64,
}

fn mean_rate(c: &[Counts]) -> f64 {
    c.iter().map(Counts::rate).sum::<f64>() / c.len().max(1) as f64
}

impl Report {
    /// One JSON line.
    pub fn json(&self) -> serde_json::Value {
        let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
        let rates = |c: &[Counts]| c.iter().map(|c| c.rate().round()).collect::<Vec<_>>();
        let failed = |c: &[Counts]| c.iter().map(|c| c.failed).sum::<u64>();
        serde_json::json!({
            "size": self.size,
            "grow_seconds": self.grow_seconds.round(),
            "proofs_per_s": self.proofs.rate().round(),
            "proofs_failed": self.proofs.failed,
            "baseline_checkpoint_per_s": self.checkpoints.rate().round(),
            "proofs_ratio": r3(self.proofs.rate() / self.checkpoints.rate().max(1e-9)),
            "sigil_tiles_per_s": mean_rate(&self.sigil_tiles).round(),
            "sigil_tiles_rounds": rates(&self.sigil_tiles),
            "sigil_tiles_failed": failed(&self.sigil_tiles),
            "baseline_nginx_tiles_per_s": mean_rate(&self.nginx_tiles).round(),
            "nginx_tiles_rounds": rates(&self.nginx_tiles),
            "nginx_tiles_failed": failed(&self.nginx_tiles),
            "tiles_ratio": r3(mean_rate(&self.sigil_tiles) / mean_rate(&self.nginx_tiles).max(1e-9)),
        })
    }
}

/// The `k`-th pick among the full tiles of a log of `size`: level-0 hash
/// tiles, entry bundles and level-1 hash tiles, by thirds, at random.
fn tile_path(size: u64, k: u64) -> String {
    let x = mix(k | 1);
    let w = u64::from(TILE_WIDTH);
    let level0 = (size / w).max(1);
    let level1 = (size / (w * w)).max(1);
    let (kind, count) = match x % 3 {
        0 => (TileKind::Hash { level: 0 }, level0),
        1 => (TileKind::Entries, level0),
        _ => (TileKind::Hash { level: 1 }, level1),
    };
    let index = (x >> 2) % count;
    // TILE_WIDTH is a valid width and level 1 a valid level.
    Tile::new(kind, index, TILE_WIDTH).map_or_else(|_| String::from("tile/0/000"), |t| t.path())
}

/// The whole run.
pub fn run(s: &Settings) -> Result<Report, String> {
    if s.size < u64::from(TILE_WIDTH) * u64::from(TILE_WIDTH) {
        return Err("--size must be at least 65536 (one full level-1 tile)".into());
    }
    let dir = tempfile::tempdir().map_err(err)?;
    let ca = TestCa::new("Reads").map_err(err)?;
    let (key, chain) = ca.signer("bench").map_err(err)?;
    let origin = "bench.sigil.example/log";
    let signer = server::write_keys(dir.path(), &ca, origin)?;
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut appender = Appender::open(&data, signer, release_signers(&key, chain)?)?;
    appender.append(s.size, 4096)?;
    drop(appender.close());
    let grow_seconds = started.elapsed().as_secs_f64();
    eprintln!("grew the log to {} entries in {grow_seconds:.0} s", s.size);

    let export = dir.path().join("export");
    let out = sigil_e2e::command("sigil-log")
        .map_err(err)?
        .arg("export-tiles")
        .arg("--data-dir")
        .arg(&data)
        .args(["--origin", origin, "--out"])
        .arg(&export)
        .stderr(Stdio::inherit())
        .output()
        .map_err(err)?;
    if !out.status.success() {
        return Err(format!("sigil-log export-tiles failed: {}", out.status));
    }
    let nginx = Nginx::start(&s.nginx, dir.path(), &export)?;
    let connections = s.proof_clients.max(s.tile_connections);
    let server = server::serve(dir.path(), Some(connections), &[])?;
    let load = Load::new(connections, s.client_threads)?;

    let size = s.size;
    let proofs = load.get_for(
        &server.url,
        s.proof_clients,
        s.seconds,
        Arc::new(move |k| {
            format!(
                "/api/v1/proofs/inclusion?index={}&size={size}",
                mix(k | 1) % size
            )
        }),
    );
    let checkpoints = load.get_for(
        &server.url,
        s.proof_clients,
        s.seconds,
        Arc::new(|_| "/checkpoint".to_owned()),
    );
    eprintln!(
        "proofs {:.0}/s, checkpoints {:.0}/s",
        proofs.rate(),
        checkpoints.rate()
    );
    let mut sigil_tiles = Vec::new();
    let mut nginx_tiles = Vec::new();
    let pick: Arc<dyn Fn(u64) -> String + Send + Sync> =
        Arc::new(move |k| format!("/{}", tile_path(size, k)));
    for _ in 0..s.rounds.max(1) {
        sigil_tiles.push(load.get_for(&server.url, s.tile_connections, s.seconds, pick.clone()));
        nginx_tiles.push(load.get_for(&nginx.url, s.tile_connections, s.seconds, pick.clone()));
        eprintln!(
            "tiles: sigil-log {:.0}/s, nginx {:.0}/s",
            sigil_tiles.last().map_or(0.0, Counts::rate),
            nginx_tiles.last().map_or(0.0, Counts::rate)
        );
    }
    if !server.terminate() {
        return Err("the server did not stop cleanly".into());
    }
    drop(nginx);
    Ok(Report {
        size,
        proofs,
        checkpoints,
        sigil_tiles,
        nginx_tiles,
        grow_seconds,
    })
}

/// `nginx` on the `PATH`, else Debian's `/usr/sbin/nginx` (not on a
/// user's `PATH`), else `nginx` (whose start then fails saying so).
pub fn default_nginx() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
    });
    let debian = Path::new("/usr/sbin/nginx");
    on_path.unwrap_or_else(|| {
        if debian.is_file() {
            debian.to_owned()
        } else {
            PathBuf::from("nginx")
        }
    })
}

/// nginx serving a directory on 127.0.0.1; stopped when dropped.
struct Nginx {
    child: Child,
    url: String,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, root: &Path) -> Result<Nginx, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(err)?
            .port();
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(&prefix).map_err(err)?;
        let p = |name: &str| prefix.join(name).display().to_string();
        // The master runs as this user and so do the workers (`user` is
        // only honoured as root): both can read the run's 0700 temp dir.
        let user = if is_root() { "user root;\n" } else { "" };
        let conf = format!(
            "{user}worker_processes auto;\ndaemon off;\npid {pid};\nerror_log {log} warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n\
               keepalive_requests 100000000;\n  keepalive_timeout 300s;\n\
               default_type application/octet-stream;\n\
               client_body_temp_path {t}/body;\n  proxy_temp_path {t}/proxy;\n\
               fastcgi_temp_path {t}/fastcgi;\n  uwsgi_temp_path {t}/uwsgi;\n  scgi_temp_path {t}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n  }}\n}}\n",
            pid = p("nginx.pid"),
            log = p("error.log"),
            t = prefix.display(),
            root = root.display(),
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(err)?;
        let child = Command::new(bin)
            .arg("-p")
            .arg(&prefix)
            .arg("-e")
            .arg(prefix.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {} ({e}): install Debian's nginx (apt-get install nginx) or \
                     pass --nginx PATH",
                    bin.display()
                )
            })?;
        let mut nginx = Nginx {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                return Err(format!(
                    "nginx exited at start ({status}): see {}",
                    prefix.join("error.log").display()
                ));
            }
            if Instant::now() > deadline {
                return Err("nginx did not listen within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(nginx)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGKILL to the master leaves its workers: they exit when they
        // see it gone, but quit them now with the master's own signal.
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn tile_paths_are_full_tiles_the_log_has() {
        let size = 1_000_000;
        for k in 0..10_000 {
            let path = tile_path(size, k);
            let tile = Tile::parse_path(&path).expect("a valid path");
            assert!(tile.is_full(), "{path}");
            let span = match tile.kind {
                TileKind::Hash { level: 0 } | TileKind::Entries => 256,
                TileKind::Hash { level: 1 } => 65_536,
                TileKind::Hash { .. } => panic!("{path}"),
            };
            assert!((tile.index + 1) * span <= size, "{path}");
        }
    }
}
