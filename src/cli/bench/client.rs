//! The load generator: `connections` keep-alive HTTP/1.1 connections over loopback, each
//! sending its next request as soon as the last one is answered, for a fixed time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

pub type MakeRequest = Arc<dyn Fn(&mut StdRng) -> Request<Full<Bytes>> + Send + Sync>;

/// What one measurement saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sample {
    pub ok: u64,
    pub failed: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub first_failure: Option<String>,
}

#[derive(Default)]
struct Part {
    ok: u64,
    failed: u64,
    latencies_us: Vec<u32>,
    first_failure: Option<String>,
}

/// Runs the load for `run_for` and summarises it.
pub async fn drive(addr: SocketAddr, connections: usize, run_for: Duration, make: MakeRequest) -> Sample {
    let started = Instant::now();
    let deadline = started + run_for;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections.max(1) {
        let make = make.clone();
        tasks.spawn(async move {
            let mut part = Part::default();
            let mut rng = StdRng::seed_from_u64(c as u64 * 7_919 + 1);
            while Instant::now() < deadline {
                if let Err(e) = one_connection(addr, deadline, &make, &mut rng, &mut part).await {
                    part.failed += 1;
                    part.first_failure.get_or_insert_with(|| format!("connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            part
        });
    }
    let mut all = Part::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(mut p) = done {
            all.ok += p.ok;
            all.failed += p.failed;
            all.latencies_us.append(&mut p.latencies_us);
            if all.first_failure.is_none() {
                all.first_failure = p.first_failure;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let pct = |q: f64| -> f64 {
        let v = &all.latencies_us;
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * q) as usize).min(v.len() - 1);
        (v[i] as f64 / 1000.0 * 100.0).round() / 100.0
    };
    Sample {
        ok: all.ok,
        failed: all.failed,
        seconds,
        per_second: all.ok as f64 / seconds.max(1e-9),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
        first_failure: all.first_failure,
    }
}

async fn one_connection(addr: SocketAddr, deadline: Instant, make: &MakeRequest, rng: &mut StdRng, part: &mut Part) -> anyhow::Result<()> {
    let mut conn = Connection::open(addr).await?;
    while Instant::now() < deadline {
        let request = make(rng);
        let t = Instant::now();
        let (status, body) = conn.send(request).await?;
        let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
        if status.is_success() {
            part.ok += 1;
            part.latencies_us.push(us);
        } else {
            part.failed += 1;
            part.first_failure.get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
        }
    }
    Ok(())
}

/// One keep-alive HTTP/1.1 connection, one request at a time.
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Connection { sender })
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }
}

/// A request with the usual headers.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Bytes) -> Request<Full<Bytes>> {
    let mut b = Request::builder().method(method).uri(path).header("host", "127.0.0.1");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(body)).unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
}
