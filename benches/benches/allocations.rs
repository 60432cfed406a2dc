//! Heap allocations per call: every pipeline of `oidc_refresh_benches` on both vectors, and
//! request building, under a counting global allocator.
//!
//! ```sh
//! cargo bench -p oidc-refresh-benches --bench allocations
//! ```
//!
//! Each call is made once to warm up (lazy statics), then `RUNS` times; the counts are the
//! allocations (and reallocations) made per call, the result's drop included.
#![allow(missing_docs, clippy::print_stdout)]
// The counting allocator is the only unsafe code of the workspace outside dependencies; the
// core forbids it (`#![forbid(unsafe_code)]`), this bench needs it to implement GlobalAlloc.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use oidc_refresh_benches::{
    build_request, jsonwebtoken_12, large, lean_best, lean_plain, lean_simd, lean_strict, oauth2_5,
    openidconnect_4, openidconnect_verifier, ours_borrowed, ours_full, ours_lazy, request_cases, small,
};

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting.
struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it
// upholds `GlobalAlloc`'s contract exactly as `System` does; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()), Relaxed);
        // SAFETY: forwarded as is; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const RUNS: usize = 1000;

/// Allocations, reallocations and bytes allocated per call of `f`.
fn per_call<T>(f: impl Fn() -> T) -> (f64, f64, f64) {
    drop(black_box(f()));
    let (a, r, b) = (ALLOCS.load(Relaxed), REALLOCS.load(Relaxed), BYTES.load(Relaxed));
    for _ in 0..RUNS {
        drop(black_box(f()));
    }
    let per = |now: usize, before: usize| (now - before) as f64 / RUNS as f64;
    (per(ALLOCS.load(Relaxed), a), per(REALLOCS.load(Relaxed), r), per(BYTES.load(Relaxed), b))
}

fn row(label: &str, (allocs, reallocs, bytes): (f64, f64, f64)) {
    println!("  {label:<52} {allocs:>8.1} {reallocs:>8.1} {bytes:>10.0}");
}

fn main() {
    let verifier = openidconnect_verifier();
    println!();
    println!("== oidc-refresh benches: heap allocations per call (counting allocator, {RUNS} runs) ==");
    for v in [small(), large()] {
        println!();
        println!(
            "{} vector ({} bytes)                                 allocs reallocs      bytes",
            v.name,
            v.body.len()
        );
        row("ours, lazy: parse_refresh_response alone", per_call(|| ours_lazy(&v)));
        row("ours, lazy, borrowed body", per_call(|| ours_borrowed(&v).is_some()));
        row("ours, full: the parse + every field read", per_call(|| ours_full(&v)));
        row("lean-plain: serde_json + base64 scalar", per_call(|| lean_plain(&v.body)));
        row("lean-simd: serde_json + base64 SIMD", per_call(|| lean_simd(&v.body)));
        row("lean-best: sonic-rs + base64 SIMD", per_call(|| lean_best(&v.body)));
        row("lean-strict: lean-best, repeated names refused", per_call(|| lean_strict(&v.body)));
        row("oauth2 5 (does not decode the ID token)", per_call(|| oauth2_5(&v.body)));
        row("openidconnect 4 (claims, no key)", per_call(|| openidconnect_4(&v.body, &verifier)));
        row("jsonwebtoken 12 insecure_decode", per_call(|| jsonwebtoken_12(&v.body)));
    }
    println!();
    println!("request building                                              allocs reallocs      bytes");
    for case in request_cases() {
        row(case.name, per_call(|| build_request(&case)));
    }
}
