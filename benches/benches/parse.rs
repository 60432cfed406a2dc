//! Timing, interleaved: every pipeline of `oidc_refresh_benches` on both vectors, and request
//! building, in one process; the rows take turns round after round, and each ratio is the
//! median of the per-round ratios (see `oidc_refresh_benches::interleaved`).
//!
//! ```sh
//! cargo bench -p oidc-refresh-benches --bench parse
//! ```
//!
//! (The token manager's fresh `access_token()` path is timed by `benches/manager.rs`.)
#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Duration;

use oidc_refresh_benches::interleaved::{Row, run, show};
use oidc_refresh_benches::{
    build_request, jsonwebtoken_12, large, lean_best, lean_plain, lean_simd, lean_simd_json, lean_strict,
    oauth2_5, openidconnect_4, openidconnect_verifier, ours_full, ours_full_borrowed, ours_lazy,
    request_cases, small,
};

/// The targets of the issue: ours, full / lean-best at most this, per vector.
const TARGETS: &[(&str, f64)] = &[("small", 0.85), ("large", 0.50)];

fn main() {
    let rounds = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(300);
    let batch = Duration::from_millis(2);
    let verifier = openidconnect_verifier();
    println!();
    println!(
        "== oidc-refresh parse bench: medians of {rounds} interleaved rounds (batches of ~{batch:?}); \
         AVX2 compiled in: {} ==",
        cfg!(target_feature = "avx2")
    );
    let mut verdicts = Vec::new();
    for v in [small(), large()] {
        let mut rows = vec![
            Row::new("ours, lazy: parse_refresh_response alone", || ours_lazy(black_box(&v))),
            Row::new("ours, full: the parse + every field read", || ours_full(black_box(&v))),
            Row::new("ours, full, borrowed body", || ours_full_borrowed(black_box(&v))),
            Row::new("lean-plain: serde_json + base64 scalar + serde_json", || {
                lean_plain(black_box(&v.body))
            }),
            Row::new("lean-simd: serde_json + base64 SIMD + serde_json", || lean_simd(black_box(&v.body))),
            Row::new("lean-best: sonic-rs + base64 SIMD + sonic-rs", || lean_best(black_box(&v.body))),
            Row::new("simd-json + base64 SIMD + simd-json (copies the body)", || {
                lean_simd_json(black_box(&v.body))
            }),
            Row::new("lean-strict: lean-best, repeated names refused", || lean_strict(black_box(&v.body))),
            Row::new("oauth2 5 (does not decode the ID token)", || oauth2_5(black_box(&v.body))),
            Row::new("openidconnect 4 (claims, no key)", || openidconnect_4(black_box(&v.body), &verifier)),
            Row::new("jsonwebtoken 12 insecure_decode", || jsonwebtoken_12(black_box(&v.body))),
        ];
        run(&mut rows, rounds, batch);
        let (full, plain, best, strict) = (1, 3, 5, 7);
        println!();
        println!(
            "{} vector ({} bytes){:>44}{:>12}{:>12}",
            v.name,
            v.body.len(),
            "median",
            "/ lean-best",
            "/ lean-plain"
        );
        for row in &rows {
            println!(
                "  {:<58} {} {:>10.2} {:>11.2}",
                row.label,
                show(row.median_ns()),
                row.ratio_to(&rows[best]),
                row.ratio_to(&rows[plain])
            );
        }
        verdicts.push((
            v.name,
            rows[full].ratio_to(&rows[best]),
            rows[0].ratio_to(&rows[plain]),
            rows[strict].ratio_to(&rows[full]),
        ));
    }

    let cases = request_cases();
    let mut rows: Vec<_> =
        cases.iter().map(|case| Row::new(case.name, move || build_request(black_box(case)))).collect();
    run(&mut rows, rounds, batch);
    println!();
    println!("request building{:>58}", "median");
    for row in &rows {
        println!("  {:<58} {}", row.label, show(row.median_ns()));
    }

    println!();
    println!("verdict (ratios of one interleaved run):");
    for ((vector, full_best, lazy_plain, strict_full), (_, target)) in verdicts.into_iter().zip(TARGETS) {
        println!(
            "  {vector:<6} full / lean-best {full_best:.2} x (target <= {target:.2}: {});  \
             lean-strict / full {strict_full:.2} x;  lazy / lean-plain {lazy_plain:.2} x",
            if full_best <= *target { "met" } else { "missed" }
        );
    }
}
