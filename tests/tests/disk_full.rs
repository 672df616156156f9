//! A full disk (issue #13): `sigil-log` on RocksDB in a small tmpfs of its
//! own (a private mount namespace, `unshare -rm`), which a helper loop in
//! that namespace fills and frees on the test's signal. While the disk is
//! full the log refuses submissions with `503 storage_unavailable` and says
//! why, keeps serving reads, and takes submissions again once space
//! returns; nothing acknowledged is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sigil_core::api_error::ErrorBody;
use sigil_core::log_api::{Submitted, encode_submission};
use sigil_e2e::test_ca::TestCa;
use sigil_e2e::{Server, binary, layout};

const ORIGIN: &str = "disk-full.sigil.example/log";

/// Whether this machine lets us mount a tmpfs in a namespace of our own.
fn can_mount() -> bool {
    let ok = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=1m tmpfs /tmp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("SIGIL_SKIP_EXTERNAL_TOOLS").is_none_or(|v| v != "1") {
        panic!(
            "`unshare -rm` cannot mount a tmpfs here (util-linux's unshare, and user namespaces \
             or root, are needed); set SIGIL_SKIP_EXTERNAL_TOOLS=1 to skip"
        );
    }
    ok
}

/// The shell run inside the namespace: mounts a `size` tmpfs on `$1`,
/// then, beside the log it execs, a loop that fills the tmpfs when
/// `$2/fill` appears and frees it when `$2/free` does.
const WRAPPER: &str = r#"
set -e
MNT=$1; CTL=$2; shift 2
mount -t tmpfs -o size=24m tmpfs "$MNT"
(
  while kill -0 $$ 2>/dev/null; do
    if [ -e "$CTL/fill" ] && [ ! -e "$CTL/filled" ]; then
      dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
      touch "$CTL/filled"
    fi
    if [ -e "$CTL/free" ] && [ ! -e "$CTL/freed" ]; then
      rm -f "$MNT/filler"
      touch "$CTL/freed"
    fi
    sleep 0.05
  done
) &
exec "$@"
"#;

struct World {
    dir: tempfile::TempDir,
    ca: TestCa,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("Disk").unwrap();
        std::fs::create_dir_all(dir.path().join("ca")).unwrap();
        std::fs::write(dir.path().join("ca/root.pem"), ca.root_pem()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        World { dir, ca }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The log, its data directory in a fresh tmpfs at `mnt`.
    fn start_log(&self, mnt: &Path, ctl: &Path) -> Server {
        std::fs::create_dir_all(mnt).unwrap();
        std::fs::create_dir_all(ctl).unwrap();
        let mut c = Command::new("unshare");
        c.args(["-rm", "sh", "-c", WRAPPER, "sh"])
            .arg(mnt)
            .arg(ctl)
            .arg(binary("sigil-log").unwrap())
            .arg("serve")
            .arg("--data-dir")
            .arg(mnt.join("data"))
            .arg("--key")
            .arg(self.path("logkey/log.key"))
            .arg("--ca-root")
            .arg(self.path("ca/root.pem"))
            .args(["--listen", "127.0.0.1:0", "--batch-window-ms", "10"])
            .args(["--rate-limit", "0"]);
        Server::start(c).unwrap()
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Submits a fresh certificate: (status, index if accepted, error body).
fn submit(w: &World, log: &Server) -> (u16, Option<u64>, Option<ErrorBody>) {
    let r = client()
        .post(format!("{}/api/v1/entries", log.url))
        .header("content-type", "application/json")
        .body(encode_submission(&w.ca.certificate("disk").unwrap()))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().unwrap();
    let index = serde_json::from_slice::<Submitted>(&bytes)
        .ok()
        .map(|s| s.index);
    (status, index, ErrorBody::parse(&bytes))
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_full_disk_refuses_writes_clearly_serves_reads_and_recovers() {
    if !can_mount() {
        return;
    }
    let w = World::new();
    let (mnt, ctl) = (w.path("mnt"), w.path("ctl"));
    let log = w.start_log(&mnt, &ctl);
    let mut acked = Vec::new();
    for _ in 0..5 {
        let (status, index, error) = submit(&w, &log);
        assert_eq!(status, 201, "{error:?}");
        acked.push(index.unwrap());
    }

    // The disk fills up. Submissions go on until the log notices (RocksDB
    // has room left in its preallocated write-ahead log, about 1.1 times
    // a 16 MiB memtable), then every new one is refused at once, saying
    // why. Sixteen submitters get there in seconds.
    std::fs::write(ctl.join("fill"), b"").unwrap();
    wait_for(&ctl.join("filled"));
    let start = Instant::now();
    let refused = std::sync::Mutex::new(None::<ErrorBody>);
    let more = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                while refused.lock().unwrap().is_none()
                    && start.elapsed() < Duration::from_secs(180)
                {
                    let (status, index, error) = submit(&w, &log);
                    match status {
                        201 => more.lock().unwrap().push(index.unwrap()),
                        503 if error
                            .as_ref()
                            .is_some_and(|e| e.error.code == "storage_unavailable") =>
                        {
                            *refused.lock().unwrap() = error;
                        }
                        // A submission in the failed round waits, then
                        // times out.
                        503 => {}
                        other => panic!("{other}: {error:?}"),
                    }
                }
            });
        }
    });
    acked.extend(more.into_inner().unwrap());
    let refusal = refused
        .into_inner()
        .unwrap()
        .expect("the log never refused a write on a full disk");
    assert!(
        refusal.error.message.contains("No space left on device"),
        "{}",
        refusal.error.message
    );
    // Reads are served meanwhile.
    let http = client();
    let r = http.get(format!("{}/checkpoint", log.url)).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .get(format!("{}/api/v1/entries/{}", log.url, acked[0]))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Space returns: submissions are taken again, by the same process.
    std::fs::write(ctl.join("free"), b"").unwrap();
    wait_for(&ctl.join("freed"));
    let start = Instant::now();
    loop {
        let (status, index, error) = submit(&w, &log);
        if status == 201 {
            acked.push(index.unwrap());
            break;
        }
        assert_eq!(status, 503, "{error:?}");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the log did not recover once space returned: {error:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Nothing acknowledged was lost.
    for index in acked {
        let r = http
            .get(format!("{}/api/v1/entries/{index}", log.url))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "entry {index}");
    }
}
