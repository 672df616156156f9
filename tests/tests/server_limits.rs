//! Issue #11 item 7, end to end: what one client may hold of a Sigil
//! server, for each of the three (`sigil-log`, `sigil-ca`,
//! `sigil-witness`, started as real processes on 127.0.0.1). A client that
//! trickles its headers one byte at a time (slowloris) is cut off after the
//! header timeout while the server serves others; beyond the connection cap
//! a connection waits until a slot frees, while the connections that hold
//! one are served; a request whose body never arrives is answered `408`
//! after the request timeout.
//!
//! The attacker is a raw TCP client in this test. Reads that wait for the
//! server carry a generous guard (a minute), so that a server without a
//! limit fails a test instead of hanging it; nothing asserts a duration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use sigil_e2e::{Server, command, layout};

const ORIGIN: &str = "limits-e2e.sigil.example/log";
/// How long a read waits for the server before the test gives up.
const GUARD: Duration = Duration::from_secs(60);

/// A CA, a log key and a witness key in one temporary directory.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        let mut c = command("sigil-witness").unwrap();
        c.args(["keygen", "--name", "w.limits.example", "--out"])
            .arg(dir.path().join("w"));
        sigil_e2e::run_ok(c).unwrap();
        let vkey = std::fs::read_to_string(dir.path().join("logkey/log.pub")).unwrap();
        std::fs::write(
            dir.path().join("w/logs"),
            format!("logs/v0\nvkey {}\n", vkey.trim()),
        )
        .unwrap();
        World { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The three servers' commands, each with `extra` flags, by name.
    fn servers(&self, extra: &[&str]) -> Vec<(&'static str, Server)> {
        let mut log = layout::log_command(self.path(), "logdata").unwrap();
        log.args(extra);
        let log = Server::start(log).unwrap();
        let mut ca = layout::ca_command(
            self.path(),
            "http://127.0.0.1:9",
            &self.path().join("logkey/log.pub"),
        )
        .unwrap();
        ca.args(extra);
        let ca = Server::start(ca).unwrap();
        let mut witness = command("sigil-witness").unwrap();
        witness
            .arg("serve")
            .arg("--key")
            .arg(self.path().join("w/witness.key"))
            .arg("--logs")
            .arg(self.path().join("w/logs"))
            .arg("--data-dir")
            .arg(self.path().join("w/data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        let witness = Server::start(witness).unwrap();
        vec![
            ("sigil-log", log),
            ("sigil-ca", ca),
            ("sigil-witness", witness),
        ]
    }
}

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

fn connect(server: &Server) -> TcpStream {
    let conn = TcpStream::connect(addr(server)).unwrap();
    conn.set_read_timeout(Some(GUARD)).unwrap();
    conn
}

/// Reads one HTTP/1.1 response with a `Content-Length`; its status.
fn read_response(conn: &mut TcpStream) -> u16 {
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut buf).expect("no response from the server");
        assert!(n > 0, "the server closed the connection without a response");
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while data.len() < head_end + length {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the body was cut short");
        data.extend_from_slice(&buf[..n]);
    }
    head[9..12].parse().unwrap()
}

/// `GET /healthz` on a kept-alive connection: its status.
fn health(conn: &mut TcpStream) -> u16 {
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: sigil\r\n\r\n")
        .unwrap();
    read_response(conn)
}

/// `GET /healthz` on a new connection, as any other client.
fn others_are_served(name: &str, server: &Server) {
    let status = reqwest::blocking::Client::builder()
        .timeout(GUARD)
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.url))
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200, "{name}");
}

/// Whether the server has closed `conn` (or answered on it): a read that
/// does not wait.
fn closed_by_server(conn: &mut TcpStream) -> bool {
    conn.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    let closed = match conn.read(&mut buf) {
        Ok(_) => true, // EOF, or an answer: either way the headers are refused
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(_) => true, // reset
    };
    conn.set_nonblocking(false).unwrap();
    closed
}

#[test]
fn item7_a_client_that_trickles_its_headers_is_cut_off_and_others_are_served() {
    let w = World::new();
    // The default header timeout (10 s), on all three servers at once.
    let servers = w.servers(&[]);
    std::thread::scope(|scope| {
        for (name, server) in &servers {
            scope.spawn(move || {
                let mut slow = connect(server);
                let request = b"GET /healthz HTTP/1.1\r\nHost: sigil\r\nX-Slow: ";
                // One byte every 100 ms, for up to 60 s: never a whole header.
                let bytes = request.iter().chain(std::iter::repeat(&b'a'));
                let mut cut = false;
                for (sent, byte) in bytes.take(600).enumerate() {
                    if slow.write_all(&[*byte]).is_err() || closed_by_server(&mut slow) {
                        cut = true;
                        break;
                    }
                    if sent % 20 == 0 {
                        others_are_served(name, server);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                assert!(cut, "{name} kept a slowloris connection open for 60 s");
                others_are_served(name, server);
            });
        }
    });
}

#[test]
fn item7_beyond_the_connection_cap_a_connection_waits_while_the_others_are_served() {
    let w = World::new();
    // Two slots; timeouts long enough that no slot frees by itself.
    let servers = w.servers(&["--max-connections", "2", "--header-timeout-ms", "600000"]);
    for (name, server) in &servers {
        // A and B take both slots and stay open (keep-alive).
        let mut a = connect(server);
        let mut b = connect(server);
        assert_eq!(health(&mut a), 200, "{name}");
        assert_eq!(health(&mut b), 200, "{name}");
        // C asks; it is not accepted while A and B hold the slots ...
        let mut c = connect(server);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: sigil\r\n\r\n")
            .unwrap();
        // ... and A and B are served meanwhile.
        for _ in 0..20 {
            assert_eq!(health(&mut a), 200, "{name}");
            assert_eq!(health(&mut b), 200, "{name}");
        }
        assert!(
            !closed_by_server(&mut c),
            "{name} answered a connection beyond its cap of 2"
        );
        // B leaves: C gets its slot and its answer.
        drop(b);
        assert_eq!(read_response(&mut c), 200, "{name}");
        drop((a, c));
        others_are_served(name, server);
    }
}

#[test]
fn item7_a_request_whose_body_never_arrives_is_answered_408() {
    let w = World::new();
    // The witness waits for nothing; the CA waits for the log up to
    // --log-timeout, so its request timeout must be longer.
    let mut ca = layout::ca_command(
        w.path(),
        "http://127.0.0.1:9",
        &w.path().join("logkey/log.pub"),
    )
    .unwrap();
    // layout::ca_command waits 5 s for the log (--log-timeout 5s).
    ca.args(["--request-timeout-ms", "6000"]);
    let ca = Server::start(ca).unwrap();
    let mut witness = command("sigil-witness").unwrap();
    witness
        .arg("serve")
        .arg("--key")
        .arg(w.path().join("w/witness.key"))
        .arg("--logs")
        .arg(w.path().join("w/logs"))
        .arg("--data-dir")
        .arg(w.path().join("w/data"))
        .args(["--listen", "127.0.0.1:0", "--request-timeout-ms", "2000"]);
    let witness = Server::start(witness).unwrap();
    for (name, server, path) in [
        ("sigil-ca", &ca, "/api/v1/enroll"),
        ("sigil-witness", &witness, "/add-checkpoint"),
    ] {
        let mut conn = connect(server);
        write!(
            conn,
            "POST {path} HTTP/1.1\r\nHost: sigil\r\nContent-Length: 1000\r\n\r\n{{"
        )
        .unwrap();
        assert_eq!(read_response(&mut conn), 408, "{name}");
        others_are_served(name, server);
    }
    // The log's requests wait for publication by design: its request
    // timeout cannot be set below that wait.
    let mut log = layout::log_command(w.path(), "logdata").unwrap();
    log.args(["--request-timeout-ms", "2000"])
        .env("SIGIL_LOG", "warn");
    let out = log.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--request-timeout-ms 2000"), "{stderr}");
}

/// `POST /api/v1/entries` with an empty JSON object (refused as a
/// submission, or over the rate limit) claiming `X-Forwarded-For: xff`:
/// its status.
fn submit_as(log: &Server, xff: &str) -> u16 {
    reqwest::blocking::Client::builder()
        .timeout(GUARD)
        .build()
        .unwrap()
        .post(format!("{}/api/v1/entries", log.url))
        .header("X-Forwarded-For", xff)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Submits as `xff` until the log answers 429 (a burst is twice the
/// rate); whether it did within 20 tries.
fn exhaust(log: &Server, xff: &str) -> bool {
    (0..20).any(|_| submit_as(log, xff) == 429)
}

#[test]
fn item7_x_forwarded_for_counts_only_from_a_trusted_proxy() {
    let w = World::new();
    // Trusting no proxy (the default), the header is the client's to
    // write: a new address in it does not buy a new budget.
    let mut c = layout::log_command(w.path(), "logdata").unwrap();
    c.args(["--rate-limit", "1"]);
    let log = Server::start(c).unwrap();
    // (Two tries where one would do: a token that refills in between
    // cannot pass both.)
    assert!(exhaust(&log, "198.51.100.1"));
    assert!((0..2).any(|_| submit_as(&log, "198.51.100.2") == 429));
    drop(log);
    // Behind a trusted proxy (here the test, on 127.0.0.1), the header
    // names the client: each address has its own budget.
    let mut c = layout::log_command(w.path(), "logdata2").unwrap();
    c.args(["--rate-limit", "1", "--trusted-proxy", "127.0.0.1/32"]);
    let log = Server::start(c).unwrap();
    assert!(exhaust(&log, "198.51.100.1"));
    // A fresh budget: a burst of two.
    assert!((0..2).all(|_| submit_as(&log, "198.51.100.2") != 429));
    // A client's own entry to the left of its real address changes nothing.
    assert!(exhaust(&log, "198.51.100.1"));
    assert!((0..2).any(|_| submit_as(&log, "203.0.113.5, 198.51.100.1") == 429));
}
