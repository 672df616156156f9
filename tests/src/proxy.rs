//! A man in the middle on 127.0.0.1, for tests where the attacker is the
//! log, a witness or the network: it reads each HTTP/1.1 request (keep-alive,
//! `Content-Length` bodies), asks the test's rule what to do with it, and
//! either relays it to the real server and its answer back, changes the
//! answer, answers itself, or never answers.

use std::io::{BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

/// A request as the proxy read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target: path and query, e.g. `/api/v1/proofs/consistency?from=1&to=2`.
    pub path: String,
    /// The body.
    pub body: Vec<u8>,
}

/// An answer: status, `Content-Type`, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// An answer with a `text/plain` body.
    pub fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// An answer with a JSON body.
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// What the proxy does with one request.
pub enum Reply {
    /// Relay it to the server, and its answer back.
    Forward,
    /// Relay it, then give back what this makes of the server's answer.
    Edit(Box<dyn FnOnce(Answer) -> Answer + Send>),
    /// Answer this instead; the server never sees the request.
    Answer(Answer),
    /// Never answer: hold the connection until the client closes it.
    Hold,
}

/// The rule a test gives the proxy.
type Rule = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running proxy; it lives as long as the test (its threads end with the
/// process).
pub struct Proxy {
    /// `http://127.0.0.1:PORT`: give it to the client in place of the server.
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// A proxy in front of the server at `backend` (`http://IP:PORT`).
    ///
    /// # Panics
    ///
    /// If it cannot listen on 127.0.0.1 (a test helper).
    #[allow(clippy::expect_used)]
    pub fn start(backend: &str, rule: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the proxy's address")
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule: Arc<Rule> = Arc::new(rule);
        let backend = backend.trim_end_matches('/').to_owned();
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (rule, log, backend) = (rule.clone(), log.clone(), backend.clone());
                std::thread::spawn(move || serve(conn, &backend, &*rule, &log));
            }
        });
        Proxy { url, seen }
    }

    /// Every request read so far, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One connection: requests until the client closes it.
fn serve(conn: TcpStream, backend: &str, rule: &Rule, seen: &Mutex<Vec<String>>) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = conn;
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let Ok(http) = http else { return };
    while let Some((request, headers)) = read_request(&mut reader) {
        seen.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{} {}", request.method, request.path));
        let answer = match rule(&request) {
            Reply::Hold => {
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return;
            }
            Reply::Answer(answer) => answer,
            Reply::Forward => match forward(&http, backend, &request, &headers) {
                Some(a) => a,
                None => return,
            },
            Reply::Edit(edit) => match forward(&http, backend, &request, &headers) {
                Some(a) => edit(a),
                None => return,
            },
        };
        let head = format!(
            "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer.body).is_err() {
            return;
        }
    }
}

/// Reads one request: its line, the headers worth relaying
/// (`content-type`, `authorization`) and its `Content-Length` body.
fn read_request(reader: &mut impl std::io::BufRead) -> Option<(Request, Vec<(String, String)>)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|n| *n > 0)?;
        if header == "\r\n" || header == "\n" {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        match name.as_str() {
            "content-length" => length = value.parse().ok()?,
            "content-type" | "authorization" => headers.push((name, value)),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((Request { method, path, body }, headers))
}

/// Relays a request to the server; `None` if it cannot be reached.
fn forward(
    http: &reqwest::blocking::Client,
    backend: &str,
    request: &Request,
    headers: &[(String, String)],
) -> Option<Answer> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).ok()?;
    let mut builder = http
        .request(method, format!("{backend}{}", request.path))
        .body(request.body.clone());
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let response = builder.send().ok()?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let body = response.bytes().ok()?.to_vec();
    Some(Answer {
        status,
        content_type,
        body,
    })
}
