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
//!
//! ID-token signatures (issue 13) have their own vector and pipelines, in [`verify`]: a
//! token verified against a 3-key JWK Set, the set parsed, and the whole refresh response
//! parsed and verified, each against jsonwebtoken 12, openidconnect 4 and ring alone.

pub mod digest;
pub mod interleaved;
pub mod lean;
pub mod others;
pub mod ours;
pub mod requests;
pub mod vectors;
pub mod verify;

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
    fn every_verify_pipeline_accepts_the_tokens_and_refuses_a_tampered_one() {
        use jsonwebtoken::Algorithm as J;
        use oidc_refresh_core::Algorithm as A;
        use verify::*;
        let v = verify_vector();
        let ours = ours_parse_keys(&v.jwks).expect("ours: the set");
        assert_eq!(ours.len(), 3);
        let jwt_keys = jsonwebtoken_parse_keys(&v.jwks).expect("jsonwebtoken: the set");
        let jwt_set = jsonwebtoken_parse_set(&v.jwks).expect("jsonwebtoken: the set");
        let oidc = openidconnect_verifier_with(openidconnect_parse_keys(&v.jwks).expect("openidconnect"));
        let (client, cache) = ours_cache(&v);
        for (alg, jalg, jwt) in [(A::Rs256, J::RS256, &v.rs256), (A::Es256, J::ES256, &v.es256)] {
            let validation = jsonwebtoken_validation(jalg);
            assert_eq!(ours_verify(jwt, &ours), Some(alg));
            let claims = ours_verify_decode(jwt, &ours).expect("ours: claims");
            assert_eq!(claims.sub(), Some("248289761001"));
            assert!(
                jsonwebtoken_verify(jwt, &jwt_keys, &validation)
                    .is_some_and(|d| d.claims.sub == "248289761001")
            );
            assert!(jsonwebtoken_verify_find(jwt, &jwt_set, &validation).is_some());
            assert!(openidconnect_verify(jwt, &oidc).is_some());
            assert!(ring_verify(alg, jwt, &v));
            // One byte of the payload changed: every pipeline refuses it.
            let at = jwt.find('.').expect("a dot") + 5;
            let flip = if jwt.as_bytes()[at] == b'A' { "B" } else { "A" };
            let tampered = format!("{}{flip}{}", &jwt[..at], &jwt[at + 1..]);
            assert_eq!(ours_verify(&tampered, &ours), None);
            assert!(jsonwebtoken_verify(&tampered, &jwt_keys, &validation).is_none());
            assert!(openidconnect_verify(&tampered, &oidc).is_none());
            assert!(!ring_verify(alg, &tampered, &v));
        }
        assert!(ours_parse_and_check(&v.response, &client, &cache).is_some());
        assert!(parse_and_ring(&v.response, &v, false).is_some());
        assert!(parse_and_ring(&v.response, &v, true).is_some());
        // The re-signed token carries the small vector's claims.
        let signed = ours_verify_decode(&v.rs256, &ours).expect("claims");
        let original = ours_lazy(&small()).expect("the small vector");
        let original = original.id_token_payload().expect("claims");
        assert_eq!(signed.email(), original.email());
        assert_eq!(signed.extra().len(), original.extra().len());
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
