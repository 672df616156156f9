//! Plain HTTP requests for tests that speak to a server's JSON API
//! directly, as a client nobody here wrote would: each answer is its
//! status and its body as JSON (or the text itself, when it is not JSON).

use std::time::Duration;

use serde_json::Value;

/// A blocking client with a generous guard against a server that never
/// answers (a guard, not a timing assertion).
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|e| panic!("HTTP client: {e}"))
}

/// `POST url` with a JSON `body` (and `Authorization: Bearer` when given):
/// (status, answer).
pub fn post(
    url: &str,
    body: impl Into<reqwest::blocking::Body>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let mut req = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    answer(req)
}

/// `GET url` (with `Authorization: Bearer` when given): (status, answer).
pub fn get(url: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut req = client().get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    answer(req)
}

/// The `error.code` of a Sigil error answer.
pub fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn answer(req: reqwest::blocking::RequestBuilder) -> (u16, Value) {
    let resp = req.send().unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .unwrap_or_else(|e| panic!("answer unreadable: {e}"));
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}
