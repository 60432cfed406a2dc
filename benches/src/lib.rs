//! What the benches of `oidc-refresh-core` share: the two response vectors, every pipeline
//! they compare (each a plain function, so that the timing bench `benches/parse.rs` and the
//! allocation bench `benches/allocations.rs` run exactly the same code), the [`Digest`] that
//! shows two pipelines read the same values, and the interleaved timing harness.
//!
//! Every pipeline goes from the bytes of a token response to its decoded ID-token claims:
//!
//! - this crate's, in [`ours`]: the parse alone ([`ours_lazy`]) and the parse followed by
//!   reading every field through the public API ([`ours_full`]);
//! - the baselines a user could assemble from well-kept crates, in [`lean`];
//! - the other Rust crates of the field, in [`others`].

pub mod digest;
pub mod interleaved;
pub mod lean;
pub mod others;
pub mod ours;
pub mod requests;
pub mod vectors;

pub use digest::Digest;
pub use lean::{lean_best, lean_plain, lean_simd, lean_simd_json, lean_strict};
pub use others::{jsonwebtoken_12, oauth2_5, openidconnect_4, openidconnect_verifier};
pub use ours::{ours_borrowed, ours_full, ours_full_borrowed, ours_lazy};
pub use requests::{RequestCase, build_request, request_cases};
pub use vectors::{Vector, large, small};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_full_pipeline_reads_the_same_values() {
        for (v, groups) in [(small(), 0), (large(), 300)] {
            let expected = lean_plain(&v.body).expect("lean_plain");
            // 6 response strings and numbers aside: 3 tokens, type, scope; claims; groups.
            assert!(expected.strings() >= 20 + groups, "{}: {expected:?}", v.name);
            for (name, got) in [
                ("lean_simd", lean_simd(&v.body)),
                ("lean_best", lean_best(&v.body)),
                ("lean_simd_json", lean_simd_json(&v.body)),
                ("lean_strict", lean_strict(&v.body)),
                ("ours_full", ours_full(&v)),
                ("ours_full_borrowed", ours_full_borrowed(&v)),
            ] {
                assert_eq!(got, Some(expected), "{}: {name}", v.name);
            }
        }
    }

    #[test]
    fn the_other_pipelines_read_both_vectors() {
        let verifier = openidconnect_verifier();
        for (v, groups) in [(small(), 0), (large(), 300)] {
            let ours = ours_lazy(&v).map(|r| r.id_token_payload().map(|p| p.extra().len()));
            assert_eq!(ours, Some(Some(if groups == 0 { 1 } else { 2 })), "{}: sid (and groups)", v.name);
            assert!(ours_borrowed(&v).is_some(), "{}", v.name);
            assert!(oauth2_5(&v.body).is_some(), "{}", v.name);
            assert!(openidconnect_4(&v.body, &verifier).is_some(), "{}", v.name);
            let jwt = jsonwebtoken_12(&v.body).map(|d| d.claims.groups.map_or(0, |g| g.len()));
            assert_eq!(jwt, Some(groups), "{}", v.name);
        }
    }

    #[test]
    fn vector_sizes() {
        let (s, l) = (small().body.len(), large().body.len());
        assert!((2000..2400).contains(&s), "small: {s} bytes");
        assert!((30_000..34_000).contains(&l), "large: {l} bytes");
    }

    #[test]
    fn requests_build() {
        for case in request_cases() {
            assert!(build_request(&case).is_some(), "{}", case.name);
        }
    }
}
