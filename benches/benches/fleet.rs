//! What the Redis store costs, against the file store, on this machine's loopback:
//!
//! 1. Each step of a refresh on the store (one interleaved run, medians of per-round
//!    ratios): an unlocked read; lock + read + release; the whole store side of a refresh
//!    (lock, read, confirm, compare-and-set write, release); a whole refresh run of the
//!    drive loop with an instant in-memory token endpoint (so that only the store differs).
//! 2. A fleet: N processes (this bench's binary run again, each a drive loop on its own
//!    store, as the command line's `token` is), started together on one grant whose access
//!    token is expired, N = 8, 32, 64, 5 rounds each: the wall time of a round, from the
//!    first spawn to the last exit, for Redis and for the file store (one machine), and the
//!    refreshes served per round (must be 1).
//!
//! `cargo bench -p oidc-refresh-benches --bench fleet` (starts its own redis-server).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a bench

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oidc_refresh_benches::interleaved::{Row, run, show};
use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{ClientConfig, Error, RefreshToken, Session, TokenSet};
use oidc_refresh_driver::SystemClock;
use oidc_refresh_driver::blocking::{Drive, Exchange};
use oidc_refresh_driver::store::{FileStore, StoreGuard, TokenStore};
use oidc_refresh_redis::RedisStore;
use oidc_refresh_testing::redis::RedisServer;

const KEY: &str = "bench:grant";
const CHILD: &str = "OIDC_REFRESH_FLEET_BENCH_CHILD";

/// An instant token endpoint that rotates `rt-N` to `rt-(N+1)` (N read from the request).
struct Instant_;

impl Exchange for Instant_ {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        let body = String::from_utf8(request.into_body()).unwrap();
        let n: u64 = body
            .split('&')
            .find_map(|p| p.strip_prefix("refresh_token=rt-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let json = format!(
            r#"{{"access_token":"at-{}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-{}"}}"#,
            n + 1,
            n + 1
        );
        Ok(Response::new(json.into_bytes()))
    }
}

fn expired(n: u64) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(format!("rt-{n}")));
    set.expires_at = Some(0);
    set
}

fn client() -> ClientConfig {
    ClientConfig::new("https://id.example/token", "bench").unwrap()
}

/// One refresh run on `store`: the stored set is made expired first (outside the lock, as
/// another process's expiry would be), then the drive loop refreshes it.
fn refresh_run<S: TokenStore>(store: &S) {
    let n = store.load().unwrap().map_or(0, |s| s.refresh_token.expose_secret()[3..].parse().unwrap());
    store.init(&expired(n)).unwrap();
    let mut session = Session::new(client());
    black_box(Drive::new(&Instant_, store, &SystemClock).run(&mut session).unwrap());
}

/// The store side of one refresh: lock, read, confirm, compare-and-set write, release.
fn store_side<S: TokenStore>(store: &S, set: &TokenSet) {
    let mut guard = store.lock().unwrap();
    black_box(guard.load().unwrap());
    assert!(guard.confirm().unwrap());
    black_box(guard.save_if_unchanged(set).unwrap());
}

fn child(spec: &str) {
    let (kind, where_) = spec.split_once(' ').unwrap();
    let mut session = Session::new(client());
    let ready = if kind == "redis" {
        let store = RedisStore::open(where_, KEY).unwrap();
        Drive::new(&Instant_, &store, &SystemClock).run(&mut session)
    } else {
        let store = FileStore::new(where_);
        Drive::new(&Instant_, &store, &SystemClock).run(&mut session)
    };
    assert!(ready.is_ok());
}

/// N processes on one grant, `rounds` rounds: the median wall time of a round.
fn fleet(
    kind: &str,
    where_: &str,
    load: &dyn Fn() -> u64,
    reset: &dyn Fn(u64),
    n: usize,
    rounds: usize,
) -> Duration {
    let exe = std::env::current_exe().unwrap();
    let mut times = Vec::new();
    for _ in 0..rounds {
        let before = load();
        reset(before);
        let started = Instant::now();
        let children: Vec<_> = (0..n)
            .map(|_| {
                Command::new(&exe)
                    .env(CHILD, format!("{kind} {where_}"))
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        times.push(started.elapsed());
        assert_eq!(load(), before + 1, "{kind}, {n} processes: exactly one refresh in the round");
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` runs bench binaries with these: nothing to test.
    }
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let redis = RedisStore::open(&server.url(), KEY).unwrap();
    let file = FileStore::new(&path);
    redis.init(&expired(0)).unwrap();
    file.init(&expired(0)).unwrap();
    let set = expired(1);

    println!(
        "== oidc-refresh fleet bench: the Redis store (redis-server on loopback, AOF with appendfsync always: every write on disk before its answer, as the file store's) against the file store ==\n"
    );
    let mut rows = vec![
        Row::new("file: load (unlocked read)", || file.load().unwrap()),
        Row::new("redis: load (unlocked read, 1 round trip)", || redis.load().unwrap()),
        Row::new("file: lock + read + release", || drop(black_box(file.lock().unwrap().load().unwrap()))),
        Row::new("redis: lock + read + release (3 round trips)", || {
            drop(black_box(redis.lock().unwrap().load().unwrap()))
        }),
        Row::new("file: store side of a refresh", || store_side(&file, &set)),
        Row::new("redis: store side of a refresh (5 round trips)", || store_side(&redis, &set)),
        Row::new("file: a whole refresh run (instant endpoint)", || refresh_run(&file)),
        Row::new("redis: a whole refresh run (instant endpoint)", || refresh_run(&redis)),
    ];
    run(&mut rows, 100, Duration::from_millis(5));
    println!("{:<52} {:>10} {:>12}", "one interleaved run, 100 rounds", "median", "redis / file");
    for pair in rows.chunks(2) {
        println!("  {:<50} {:>10}", pair[0].label, show(pair[0].median_ns()));
        println!(
            "  {:<50} {:>10} {:>12.2}",
            pair[1].label,
            show(pair[1].median_ns()),
            pair[1].ratio_to(&pair[0])
        );
    }

    println!("\nN processes started together on one expired grant, 5 rounds: median wall time of a round");
    println!("  (each process: exec, connect, lock or wait, read; one refreshes, the others adopt)");
    let n_of = |s: Option<TokenSet>| s.map_or(0, |s| s.refresh_token.expose_secret()[3..].parse().unwrap());
    let redis_load = || n_of(redis.load().unwrap());
    let redis_reset = |n| redis.init(&expired(n)).unwrap();
    let file_load = || n_of(file.load().unwrap());
    let file_reset = |n| file.init(&expired(n)).unwrap();
    let url = server.url();
    let file_where = path.to_str().unwrap().to_owned();
    // The same on a Redis that syncs its log once a second (a common production setting):
    // its writes no longer wait for the disk.
    let relaxed = RedisServer::builder().config("appendfsync", &["everysec"]).start();
    let relaxed_store = RedisStore::open(&relaxed.url(), KEY).unwrap();
    relaxed_store.init(&expired(0)).unwrap();
    let relaxed_load = || n_of(relaxed_store.load().unwrap());
    let relaxed_reset = |n| relaxed_store.init(&expired(n)).unwrap();
    let relaxed_url = relaxed.url();
    println!(
        "  {:>8} {:>22} {:>22} {:>12} {:>14}",
        "", "redis (fsync always)", "redis (fsync 1/s)", "file", "always / file"
    );
    for n in [8, 32, 64] {
        let r = fleet("redis", &url, &redis_load, &redis_reset, n, 5);
        let e = fleet("redis", &relaxed_url, &relaxed_load, &relaxed_reset, n, 5);
        let f = fleet("file", &file_where, &file_load, &file_reset, n, 5);
        println!(
            "  N = {n:>2}: {:>19.1} ms {:>19.1} ms {:>9.1} ms {:>14.2}",
            r.as_secs_f64() * 1e3,
            e.as_secs_f64() * 1e3,
            f.as_secs_f64() * 1e3,
            r.as_secs_f64() / f.as_secs_f64()
        );
    }
}
