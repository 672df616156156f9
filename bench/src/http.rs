//! The HTTP load itself: closed loops (each connection sends its next
//! request when the last is answered) and an open loop (requests leave on
//! a schedule, whatever the answers), on one tokio runtime apart from the
//! server's process. Every request goes to 127.0.0.1 and has a timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Longest wait for one answer.
const TIMEOUT: Duration = Duration::from_secs(60);

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A runtime and a client with room for `connections` kept-alive
/// connections to one server. `threads` worker threads (the client's
/// share of the machine).
pub struct Load {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Load {
    /// A load of up to `connections` connections on `threads` threads.
    pub fn new(connections: usize, threads: usize) -> Result<Load, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("bench-client")
            .enable_all()
            .build()
            .map_err(err)?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(TIMEOUT)
            .build()
            .map_err(err)?;
        Ok(Load { rt, client })
    }

    /// Closed loop: `connections` tasks POST `bodies` to `url` in order
    /// until all are sent; returns (answered `201`, other outcomes,
    /// seconds).
    pub fn post_all(&self, url: &str, bodies: Arc<Vec<Vec<u8>>>, connections: usize) -> Counts {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let (ok, failed) = self.rt.block_on(async {
            let mut tasks = Vec::with_capacity(connections);
            for _ in 0..connections {
                let (client, bodies, next, url) = (
                    self.client.clone(),
                    bodies.clone(),
                    next.clone(),
                    url.to_owned(),
                );
                tasks.push(tokio::spawn(async move {
                    let (mut ok, mut failed) = (0u64, 0u64);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(body) = bodies.get(i) else {
                            return (ok, failed);
                        };
                        if submit(&client, &url, body.clone()).await {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                    }
                }));
            }
            let mut sum = (0, 0);
            for t in tasks {
                if let Ok((o, f)) = t.await {
                    sum = (sum.0 + o, sum.1 + f);
                }
            }
            sum
        });
        Counts {
            ok,
            failed,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// Open loop: POST `bodies[k]` to `url` at `k / rate` seconds, each on
    /// its own task; returns the latency of every `201` (send to the end
    /// of the answer, proof included), sorted, and the failures.
    pub fn post_at_rate(&self, url: &str, bodies: Arc<Vec<Vec<u8>>>, rate: u64) -> Latencies {
        let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
        let results = self.rt.block_on(async {
            let mut tasks = Vec::with_capacity(bodies.len());
            let t0 = tokio::time::Instant::now();
            for k in 0..bodies.len() {
                tokio::time::sleep_until(t0 + interval.saturating_mul(k as u32)).await;
                let (client, bodies, url) = (self.client.clone(), bodies.clone(), url.to_owned());
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let body = bodies.get(k).cloned().unwrap_or_default();
                    let ok = submit(&client, &url, body).await;
                    (ok, sent.elapsed())
                }));
            }
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                out.push(t.await.unwrap_or((false, Duration::ZERO)));
            }
            out
        });
        let failed = results.iter().filter(|(ok, _)| !ok).count() as u64;
        let mut ok: Vec<Duration> = results
            .into_iter()
            .filter(|(ok, _)| *ok)
            .map(|(_, d)| d)
            .collect();
        ok.sort();
        Latencies { ok, failed }
    }

    /// Closed loop for `seconds`: `connections` tasks GET `base` + the
    /// paths `pick(i)` gives (`i` counts up per task, from a per-task
    /// seed), and count `200` answers read to the end.
    pub fn get_for(
        &self,
        base: &str,
        connections: usize,
        seconds: f64,
        pick: Arc<dyn Fn(u64) -> String + Send + Sync>,
    ) -> Counts {
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let until = started + Duration::from_secs_f64(seconds);
        self.rt.block_on(async {
            let mut tasks = Vec::with_capacity(connections);
            for task in 0..connections as u64 {
                let (client, base, ok, failed, pick) = (
                    self.client.clone(),
                    base.to_owned(),
                    ok.clone(),
                    failed.clone(),
                    pick.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut i = task.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    while Instant::now() < until {
                        i = i.wrapping_add(1);
                        let url = format!("{base}{}", pick(i));
                        let good = match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                            _ => false,
                        };
                        if good {
                            ok.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        });
        Counts {
            ok: ok.load(Ordering::Relaxed),
            failed: failed.load(Ordering::Relaxed),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// POSTs one submission; whether it was answered `201` and the answer
/// (which carries the proof) was read to the end.
async fn submit(client: &reqwest::Client, url: &str, body: Vec<u8>) -> bool {
    match client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) if r.status().as_u16() == 201 => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// What a closed loop did.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Requests answered as hoped.
    pub ok: u64,
    /// Requests that were not.
    pub failed: u64,
    /// Wall time.
    pub seconds: f64,
}

impl Counts {
    /// Good answers per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds.max(1e-9)
    }
}

/// What an open loop saw.
#[derive(Debug, Clone)]
pub struct Latencies {
    /// Latencies of the good answers, ascending.
    pub ok: Vec<Duration>,
    /// Requests that failed.
    pub failed: u64,
}

impl Latencies {
    /// The `p`-quantile (0..=1) in ms, nearest rank; 0 with no answers.
    pub fn ms(&self, p: f64) -> f64 {
        if self.ok.is_empty() {
            return 0.0;
        }
        let i = ((self.ok.len() as f64 - 1.0) * p).round() as usize;
        self.ok
            .get(i.min(self.ok.len() - 1))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    }
}

/// A xorshift step: cheap, repeatable picks of indexes and tiles.
pub fn mix(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
