//! A static file server on 127.0.0.1, for tests that need an upstream the
//! test builds itself (a cargo sparse registry: `index/…` and the
//! `.crate` files). `GET /path` answers the file `root/path`, or `404`;
//! anything with `..` in it is `404`. Each file has an `ETag` (its
//! SHA-256, quoted); a request whose `If-None-Match` is that tag gets
//! `304`, as the sparse index protocol expects. HTTP/1.1, one request per
//! connection (`Connection: close`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest as _, Sha256};

/// A running static server; it stops accepting when dropped.
pub struct StaticServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Arc<AtomicBool>,
}

impl StaticServer {
    /// Serves `root` on a free port.
    pub fn start(root: &Path) -> std::io::Result<StaticServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let stop = Arc::new(AtomicBool::new(false));
        let (root, flag) = (root.to_owned(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let root = root.clone();
                    std::thread::spawn(move || serve(conn, &root));
                }
            }
        });
        Ok(StaticServer { url, stop })
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(conn: TcpStream, root: &Path) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // The headers: only If-None-Match matters.
    let mut if_none_match = None;
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(value.trim().to_owned());
                }
            }
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let path = path
        .split('?')
        .next()
        .unwrap_or("/")
        .trim_start_matches('/');
    let file: Option<PathBuf> = (!path.contains("..")).then(|| root.join(path));
    let mut conn = conn;
    let (status, body, etag) = match file.and_then(|f| std::fs::read(f).ok()) {
        Some(body) => {
            let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body)));
            if if_none_match.as_deref() == Some(etag.as_str()) {
                ("304 Not Modified", Vec::new(), Some(etag))
            } else {
                ("200 OK", body, Some(etag))
            }
        }
        None => ("404 Not Found", b"not found\n".to_vec(), None),
    };
    let etag = etag.map(|t| format!("ETag: {t}\r\n")).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status}\r\n{etag}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}
