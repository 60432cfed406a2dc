//! Timing, interleaved: ID-token signatures (issue 13) against jsonwebtoken 12 (aws-lc-rs)
//! and openidconnect 4, in one process; the rows take turns round after round, and each ratio
//! is the median of the per-round ratios (see `oidc_refresh_benches::interleaved`).
//!
//! ```sh
//! cargo bench -p oidc-refresh-benches --bench verify
//! ```
//!
//! What each row does is in `oidc_refresh_benches::verify`.
#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Duration;

use oidc_refresh_benches::interleaved::{Row, run, show};
use oidc_refresh_benches::ours_lazy;
use oidc_refresh_benches::vectors::Vector;
use oidc_refresh_benches::verify::*;
use oidc_refresh_core::Algorithm;

/// The whole-response target: ours at most this times parse + the raw signature check.
const WHOLE_TARGET: f64 = 1.05;

/// A group of rows: its title, its rows' indexes, the index of ours, the baselines' indexes
/// (the target is the fastest of them) and the row the last column divides by.
struct Group {
    title: &'static str,
    rows: std::ops::Range<usize>,
    ours: usize,
    baselines: &'static [usize],
    reference: (usize, &'static str),
    target: f64,
}

#[allow(clippy::too_many_lines)]
fn main() {
    let rounds = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(300);
    let batch = Duration::from_millis(2);
    let v = verify_vector();
    let ours_keys = ours_parse_keys(&v.jwks).expect("ours: the key set");
    let jwt_keys = jsonwebtoken_parse_keys(&v.jwks).expect("jsonwebtoken: the key set");
    let jwt_set = jsonwebtoken_parse_set(&v.jwks).expect("jsonwebtoken: the key set");
    let (rs, es) = (
        jsonwebtoken_validation(jsonwebtoken::Algorithm::RS256),
        jsonwebtoken_validation(jsonwebtoken::Algorithm::ES256),
    );
    let oidc =
        openidconnect_verifier_with(openidconnect_parse_keys(&v.jwks).expect("openidconnect: the set"));
    let (client, cache) = ours_cache(&v);
    let parsed =
        Vector { name: "small, signed", body: v.response.body().clone(), response: v.response.clone() };

    println!();
    println!(
        "== oidc-refresh verify bench: medians of {rounds} interleaved rounds (batches of ~{batch:?}); \
         small vector's ID token ({} / {} bytes RS256 / ES256), a {}-byte 3-key JWK Set \
         (RSA 2048, EC P-256, Ed25519) ==",
        v.rs256.len(),
        v.es256.len(),
        v.jwks.len()
    );
    let (rs256, es256) = (v.rs256.as_str(), v.es256.as_str());
    let mut rows = vec![
        // 0..6: RS256
        Row::new("ours: verify_signature + decode_id_token", || {
            ours_verify_decode(black_box(rs256), &ours_keys)
        }),
        Row::new("ours: verify_signature alone", || ours_verify(black_box(rs256), &ours_keys)),
        Row::new("jsonwebtoken 12 aws-lc-rs: keys made once, decode", || {
            jsonwebtoken_verify(black_box(rs256), &jwt_keys, &rs)
        }),
        Row::new("jsonwebtoken 12 aws-lc-rs: find + from_jwk, decode", || {
            jsonwebtoken_verify_find(black_box(rs256), &jwt_set, &rs)
        }),
        Row::new("openidconnect 4: from_str + into_claims", || openidconnect_verify(black_box(rs256), &oidc)),
        Row::new("ring alone: split, decode signature, verify", || {
            ring_verify(Algorithm::Rs256, black_box(rs256), &v)
        }),
        // 6..12: ES256
        Row::new("ours: verify_signature + decode_id_token", || {
            ours_verify_decode(black_box(es256), &ours_keys)
        }),
        Row::new("ours: verify_signature alone", || ours_verify(black_box(es256), &ours_keys)),
        Row::new("jsonwebtoken 12 aws-lc-rs: keys made once, decode", || {
            jsonwebtoken_verify(black_box(es256), &jwt_keys, &es)
        }),
        Row::new("jsonwebtoken 12 aws-lc-rs: find + from_jwk, decode", || {
            jsonwebtoken_verify_find(black_box(es256), &jwt_set, &es)
        }),
        Row::new("openidconnect 4: from_str + into_claims", || openidconnect_verify(black_box(es256), &oidc)),
        Row::new("ring alone: split, decode signature, verify", || {
            ring_verify(Algorithm::Es256, black_box(es256), &v)
        }),
        // 12..16: the key set
        Row::new("ours: JwkSet::parse", || ours_parse_keys(black_box(&v.jwks))),
        Row::new("jsonwebtoken 12: JwkSet + DecodingKey::from_jwk x3", || {
            jsonwebtoken_parse_keys(black_box(&v.jwks))
        }),
        Row::new("jsonwebtoken 12: JwkSet deserialised alone", || jsonwebtoken_parse_set(black_box(&v.jwks))),
        Row::new("openidconnect 4: CoreJsonWebKeySet", || openidconnect_parse_keys(black_box(&v.jwks))),
        // 16..20: the whole response
        Row::new("ours: parse_refresh_response + check_id_token_signature", || {
            ours_parse_and_check(black_box(&v.response), &client, &cache)
        }),
        Row::new("parse_refresh_response + ring alone", || parse_and_ring(black_box(&v.response), &v, false)),
        Row::new("parse_refresh_response + ring alone + at_hash", || {
            parse_and_ring(black_box(&v.response), &v, true)
        }),
        Row::new("parse_refresh_response alone", || ours_lazy(black_box(&parsed))),
    ];
    run(&mut rows, rounds, batch);

    let groups = [
        Group {
            title: "RS256 ID token, key looked up by kid in the 3-key set",
            rows: 0..6,
            ours: 0,
            baselines: &[2, 3, 4],
            reference: (5, "/ ring"),
            target: 1.0,
        },
        Group {
            title: "ES256 ID token, key looked up by kid in the 3-key set",
            rows: 6..12,
            ours: 6,
            baselines: &[8, 9, 10],
            reference: (11, "/ ring"),
            target: 1.0,
        },
        Group {
            title: "the 3-key JWK Set parsed into usable keys",
            rows: 12..16,
            ours: 12,
            baselines: &[13, 15],
            reference: (12, "/ ours"),
            target: 1.0,
        },
        Group {
            title: "the small refresh response parsed, its RS256 ID token verified",
            rows: 16..20,
            ours: 16,
            baselines: &[17],
            reference: (18, "/ +at_hash"),
            target: WHOLE_TARGET,
        },
    ];
    let mut verdicts = Vec::new();
    for g in &groups {
        let fastest = g
            .baselines
            .iter()
            .copied()
            .min_by(|&a, &b| rows[a].median_ns().total_cmp(&rows[b].median_ns()))
            .unwrap_or(g.ours);
        println!();
        println!("{}{:>14}{:>12}{:>13}", g.title, "median", "/ fastest", g.reference.1);
        for i in g.rows.clone() {
            let mark = if i == fastest { "*" } else { " " };
            println!(
                " {mark}{:<58} {} {:>10.2} {:>12.2}",
                rows[i].label,
                show(rows[i].median_ns()),
                rows[i].ratio_to(&rows[fastest]),
                rows[i].ratio_to(&rows[g.reference.0])
            );
        }
        verdicts.push((
            g.title,
            rows[g.ours].ratio_to(&rows[fastest]),
            rows[fastest].label.clone(),
            g.target,
        ));
    }
    println!();
    println!("(* the fastest baseline of the group)");
    println!("verdict (ratios of one interleaved run):");
    for (title, ratio, fastest, target) in verdicts {
        println!(
            "  {title}: ours / {} {ratio:.3} x (target <= {target:.2}: {})",
            fastest.split(':').next().unwrap_or(&fastest),
            if ratio <= target { "met" } else { "missed" }
        );
    }
}
