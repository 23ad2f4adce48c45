//! Emulator benchmark (a program, not a test): requests per second of `GET /rest/api/3/user` and
//! `GET /rest/api/3/group/member` against a bare axum handler that returns the same bytes with no auth or lookup
//! (the ceiling on this machine), printed as ratios measured in one run; then the time and peak memory of seeding
//! a 1,000,000-user site, measured in a fresh child process.
//!
//! Run: `cargo bench -p jsm-emulator --bench emulator` (add `-- --seconds 5 --connections 32 --users 1000000`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures real wall time"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use base64::Engine;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const EMAIL: &str = "admin@example.com";
const TOKEN: &str = "bench-token";

struct Options {
    seconds: u64,
    connections: usize,
    users: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        seconds: value("--seconds", 4),
        connections: value("--connections", 32) as usize,
        users: value("--users", 1_000_000) as usize,
    }
}

fn main() {
    if let Some(users) = std::env::args().skip_while(|a| a != "--seed-only").nth(1) {
        seed_only(users.parse().unwrap_or(1_000_000));
        return;
    }
    let opts = options();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("load runtime");

    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .admin(EMAIL, TOKEN)
        .limits(LimitConfig::off())
        .build();
    let (account_id, group) = {
        let site = emu.site();
        let key = site.find_by_email(EMAIL).expect("admin");
        (
            site.account(key).account_id.clone(),
            "jira-servicemanagement-users",
        )
    };
    let emu_addr = server_rt.block_on(start_emulator(emu));
    let user_path = format!(
        "/rest/api/3/user?accountId={}",
        account_id.replace(':', "%3A")
    );
    let member_path = format!("/rest/api/3/group/member?groupname={group}");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));

    println!(
        "emulator benchmark: {} s per target, {} keep-alive connections, rate limits off, {} cores",
        opts.seconds,
        opts.connections,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (name, path) in [
        ("GET /rest/api/3/user", &user_path),
        ("GET /rest/api/3/group/member", &member_path),
    ] {
        let body = load_rt.block_on(fetch(emu_addr, path, &auth));
        let bare_addr = server_rt.block_on(start_bare(
            path.split('?').next().unwrap_or("/").to_string(),
            body.clone(),
        ));
        let duration = Duration::from_secs(opts.seconds);
        let emu_rps = load_rt.block_on(load(emu_addr, path, &auth, opts.connections, duration));
        let bare_rps = load_rt.block_on(load(bare_addr, path, &auth, opts.connections, duration));
        println!(
            "{name:<30} emulator {emu_rps:>9.0} req/s | bare axum, same {} bytes {bare_rps:>9.0} req/s | ratio {:.2}",
            body.len(),
            emu_rps / bare_rps
        );
    }

    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .args(["--seed-only", &opts.users.to_string()])
        .output()
        .expect("seed child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

/// Child process: seed a site and report time and peak resident memory.
fn seed_only(users: usize) {
    let started = Instant::now();
    let emu = Emulator::builder()
        .seed(Seed::Generated { users })
        .admin(EMAIL, TOKEN)
        .build();
    let elapsed = started.elapsed();
    let accounts = emu.site().accounts.len();
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "seed {accounts} accounts: {:.2} s (target < 10 s, ratio {:.2}) | peak RSS {:.0} MiB (target < 2048 MiB, ratio {:.2})",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / 10.0,
        peak_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0 / 2048.0
    );
}

async fn start_emulator(emu: Emulator) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(jsm_emulator::serve(listener, emu, std::future::pending()));
    addr
}

async fn start_bare(path: String, body: Vec<u8>) -> SocketAddr {
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let app = Router::new().route(
        &path,
        get(move || async move { ([(CONTENT_TYPE, "application/json;charset=UTF-8")], body) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn request(path: &str, auth: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic {auth}\r\nAccept: application/json\r\n\r\n")
        .into_bytes()
}

/// One request on a fresh connection; returns the body, checking the status.
async fn fetch(addr: SocketAddr, path: &str, auth: &str) -> Vec<u8> {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    let mut buf = Vec::new();
    let (status, body) = exchange(&mut conn, &request(path, auth), &mut buf)
        .await
        .expect("response");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    body
}

/// Writes one request and reads one `Content-Length` response on a keep-alive connection.
async fn exchange(
    conn: &mut TcpStream,
    req: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, Vec<u8>)> {
    conn.write_all(req).await?;
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = conn.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((status, buf[end + 4..end + 4 + length].to_vec()));
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Requests per second over `duration` with `connections` keep-alive connections, each one request at a time.
async fn load(
    addr: SocketAddr,
    path: &str,
    auth: &str,
    connections: usize,
    duration: Duration,
) -> f64 {
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let req = Arc::new(request(path, auth));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (done, count, req) = (done.clone(), count.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut conn) = TcpStream::connect(addr).await else {
                return;
            };
            let _ = conn.set_nodelay(true);
            let mut buf = Vec::with_capacity(16 * 1024);
            while !done.load(Ordering::Relaxed) {
                match exchange(&mut conn, &req, &mut buf).await {
                    Ok((200, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => return,
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    done.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    n as f64 / elapsed
}
