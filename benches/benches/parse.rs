//! Timing: every pipeline of `oidc_refresh_benches` on both vectors, request building, in
//! one run; then the medians and the ratios to the lean baseline, read back from
//! criterion's own estimates.
//!
//! ```sh
//! cargo bench -p oidc-refresh-benches --bench parse
//! ```
//!
//! (The token manager's fresh `access_token()` path is timed by `benches/manager.rs`.)
#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use oidc_refresh_benches::{
    build_request, jsonwebtoken_12, large, lean, oauth2_5, openidconnect_4, openidconnect_verifier, ours,
    ours_borrowed, request_cases, small,
};

/// The pipelines, in the order of the summary: criterion id and label.
const PIPELINES: &[(&str, &str)] = &[
    ("oidc_refresh", "oidc-refresh parse_refresh_response"),
    ("oidc_refresh_borrowed", "oidc-refresh parse_refresh_response_borrowed"),
    ("lean", "lean: serde_json borrowed + base64 + serde_json claims"),
    ("oauth2_5", "oauth2 5 (does not decode the ID token)"),
    ("openidconnect_4", "openidconnect 4 (claims, no key)"),
    ("jsonwebtoken_12", "jsonwebtoken 12 insecure_decode"),
];

/// The targets of the issue: ours / lean at most this, per vector.
const TARGETS: &[(&str, f64)] = &[("small", 0.65), ("large", 0.40)];

fn parse_benches(c: &mut Criterion) {
    let verifier = openidconnect_verifier();
    for v in [small(), large()] {
        let mut g = c.benchmark_group(format!("parse_{}", v.name));
        g.bench_function("oidc_refresh", |b| b.iter(|| ours(black_box(&v))));
        g.bench_function("oidc_refresh_borrowed", |b| b.iter(|| ours_borrowed(black_box(&v)).is_some()));
        g.bench_function("lean", |b| b.iter(|| lean(black_box(&v.body))));
        g.bench_function("oauth2_5", |b| b.iter(|| oauth2_5(black_box(&v.body))));
        g.bench_function("openidconnect_4", |b| b.iter(|| openidconnect_4(black_box(&v.body), &verifier)));
        g.bench_function("jsonwebtoken_12", |b| b.iter(|| jsonwebtoken_12(black_box(&v.body))));
        g.finish();
    }
}

fn request_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("request");
    for case in request_cases() {
        g.bench_function(case.name, |b| b.iter(|| build_request(black_box(&case))));
    }
    g.finish();
}

fn main() {
    let started = SystemTime::now();
    let out = criterion_dir();
    let mut c = Criterion::default()
        .output_directory(&out)
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
        .configure_from_args();
    parse_benches(&mut c);
    request_benches(&mut c);
    c.final_summary();
    summary(&out, started);
}

/// Where criterion writes: `<target>/criterion` (the bench runs from `<target>/release/deps`).
fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME").map(PathBuf::from).map_or_else(
        || {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
                .unwrap_or_else(|| PathBuf::from("target/criterion"))
        },
        |home| home.join("criterion"),
    )
}

/// The median (ns) criterion estimated for `group/id` in this run, if it ran.
fn median_ns(out: &Path, group: &str, id: &str, started: SystemTime) -> Option<f64> {
    let path = out.join(group).join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= started);
    if !fresh {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn show(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns >= 1000.0 => format!("{:>9.2} µs", ns / 1000.0),
        Some(ns) => format!("{ns:>9.1} ns"),
        None => format!("{:>12}", "(not run)"),
    }
}

fn summary(out: &Path, started: SystemTime) {
    println!();
    println!("== oidc-refresh benches: medians (criterion's estimates) ==");
    let mut ratios = Vec::new();
    for (vector, target) in TARGETS {
        let group = format!("parse_{vector}");
        let lean = median_ns(out, &group, "lean", started);
        println!();
        println!("{vector} vector                                                      median    / lean");
        for (id, label) in PIPELINES {
            let m = median_ns(out, &group, id, started);
            let ratio = m.zip(lean).map_or_else(|| "     -".to_owned(), |(m, l)| format!("{:>6.2}", m / l));
            println!("  {label:<58} {} {ratio}", show(m));
        }
        let ours = median_ns(out, &group, "oidc_refresh", started);
        ratios.push((vector, target, ours.zip(lean).map(|(o, l)| o / l)));
    }
    println!();
    println!("request building                                                    median");
    for case in request_cases() {
        println!("  {:<58} {}", case.name, show(median_ns(out, "request", case.name, started)));
    }
    println!();
    println!("ratios, parse_refresh_response / lean baseline (target):");
    for (vector, target, ratio) in ratios {
        match ratio {
            Some(r) => println!(
                "  {vector:<6} {r:.2} x  (target <= {target:.2}: {})",
                if r <= *target { "met" } else { "missed" }
            ),
            None => println!("  {vector:<6} not measured in this run"),
        }
    }
}
