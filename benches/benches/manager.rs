//! `TokenManager::access_token()` on the fresh path (the token is fresh: no lock, no I/O),
//! from one thread and from many at once.
//!
//! `cargo bench -p oidc-refresh-benches --bench manager`. The `threads/N` groups report
//! throughput in calls per second for all N threads together (each thread makes the
//! iteration count of calls); the time is per call on one thread.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a bench: a panic is a failure report

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oidc_refresh_core::{AccessToken, ClientConfig, RefreshToken, TokenSet};
use oidc_refresh_driver::store::MemoryStore;
use oidc_refresh_driver::{Clock, SystemClock};
use oidc_refresh_ureq::{Options, TokenManager, Transport};

/// A manager whose store holds an access token fresh for a day: after the first call
/// (which reads the store under its lock and publishes the token), every call is the
/// fresh path. Nothing is ever sent.
fn fresh_manager() -> TokenManager<MemoryStore> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut set = TokenSet::from_refresh_token(RefreshToken::new("rt-bench"));
    // A realistic length: opaque tokens and small JWTs are 40 to 1000 bytes.
    set.access_token = Some(AccessToken::new("a".repeat(64)));
    set.token_type = Some("Bearer".into());
    set.expires_at = Some(now + 86_400);
    let client = ClientConfig::new("http://127.0.0.1:9/token", "bench").unwrap();
    let manager =
        TokenManager::new(Transport::new(Options::default()).unwrap(), client, MemoryStore::with_tokens(set));
    manager.access_token().expect("the stored token is fresh");
    manager
}

fn fresh_path(c: &mut Criterion) {
    let manager = fresh_manager();
    c.bench_function("manager/access_token/fresh", |b| b.iter(|| black_box(manager.access_token())));
    // The floor under it: cloning and dropping (zeroizing) the token, and reading the clock.
    let token = manager.access_token().unwrap();
    c.bench_function("manager/baseline/clone_and_drop_token", |b| b.iter(|| black_box(token.clone())));
    c.bench_function("manager/baseline/now", |b| b.iter(|| black_box(SystemClock.now())));

    threaded(c, "manager/access_token/fresh/threads", || {
        black_box(manager.access_token().unwrap());
    });
    // Calibration: the same harness with nothing shared between the threads (each clones
    // and drops its own token): how far this machine lets N threads scale at all.
    threaded(c, "manager/baseline/unshared/threads", || {
        thread_local!(static TOKEN: AccessToken = AccessToken::new("a".repeat(64)));
        TOKEN.with(|t| black_box(t.clone()));
    });
}

/// Runs `call` on N threads at once for N in 1, 2, 4, 64: throughput in calls per second
/// for all N together.
fn threaded(c: &mut Criterion, name: &str, call: impl Fn() + Sync) {
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(4));
    for threads in [1_u64, 2, 4, 64] {
        group.throughput(Throughput::Elements(threads));
        group.bench_function(threads.to_string(), |b| {
            b.iter_custom(|iters| {
                let n = usize::try_from(threads).unwrap();
                let start = Barrier::new(n);
                // Each thread times itself: the wall time runs from the first start to the
                // last end (a coordinating thread could be scheduled late among 64).
                let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            s.spawn(|| {
                                start.wait();
                                let began = Instant::now();
                                for _ in 0..iters {
                                    call();
                                }
                                (began, Instant::now())
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                let first = spans.iter().map(|s| s.0).min().unwrap();
                let last = spans.iter().map(|s| s.1).max().unwrap();
                last - first
            });
        });
    }
    group.finish();
}

criterion_group!(benches, fresh_path);
criterion_main!(benches);
