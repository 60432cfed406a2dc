//! The `key_set` and `verify` oracles catch a broken key-set reader and a broken verifier.
//!
//! Each oracle takes the function under test as an argument (`check_with`, `run_with`); here
//! it is given deliberately broken stand-ins, each of which must be caught, with the message of
//! the invariant written for it, on a known input: a reader that drops every key or refuses
//! every set, a verifier that accepts every token, one that refuses every token, and one that
//! decodes the signature leniently (the leftover bits of its last base64url symbol ignored), the
//! one change to a token's text that could look harmless.

// Tests fail by panicking: `expect`/`unwrap`/`panic!` are how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use oidc_refresh_core::{Algorithm, ClientSecret, JwkSet, SignatureError, verify_signature};
use oidc_refresh_oracles::common::panic_message;
use oidc_refresh_oracles::reference::jose::{base64url_decode, base64url_encode};
use oidc_refresh_oracles::verify::{Op, genuine, mutation_input, run_with};
use oidc_refresh_oracles::{key_set, verify};

/// What `f` panicked with, if it did.
fn failure(f: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(f)).err().map(|p| panic_message(&*p))
}

fn caught(f: impl FnOnce(), expected: &str) {
    match failure(f) {
        Some(message) => assert!(message.contains(expected), "caught, but by {message:?}, not {expected:?}"),
        None => panic!("not caught (expected {expected:?})"),
    }
}

#[test]
fn the_core_passes() {
    key_set::check_with(JwkSet::parse, genuine().key_set.as_bytes());
    for (i, t) in genuine().tokens.iter().enumerate() {
        assert_eq!(
            run_with(verify_signature, &mutation_input(i as u8, false, Op::Replace, false, 0, b'e')),
            Ok(t.alg)
        );
    }
}

#[test]
fn a_reader_that_drops_every_key_is_caught() {
    let drop_all: key_set::Parser = |body| JwkSet::parse(body).and_then(|_| JwkSet::parse(br#"{"keys":[]}"#));
    caught(|| key_set::check_with(drop_all, genuine().key_set.as_bytes()), "not the usable keys");
}

#[test]
fn a_reader_that_refuses_every_set_is_caught() {
    // An empty body is never a set: every body is refused as one.
    let refuse: key_set::Parser = |_| JwkSet::parse(b"");
    caught(|| key_set::check_with(refuse, genuine().key_set.as_bytes()), "a JWK Set was refused");
}

/// A stand-in verifier: the header's `alg`, whatever the signature.
fn accept_all(
    jwt: &str,
    _: &JwkSet,
    _: Option<&ClientSecret>,
    _: Option<&[Algorithm]>,
) -> Result<Algorithm, SignatureError> {
    let header = base64url_decode(jwt.split('.').next().unwrap_or_default()).unwrap_or_default();
    let header: serde_json::Value = serde_json::from_slice(&header).map_err(|_| SignatureError::Malformed)?;
    header["alg"].as_str().and_then(Algorithm::from_name).ok_or(SignatureError::UnsupportedAlg)
}

#[test]
fn a_verifier_that_accepts_every_token_is_caught() {
    // The payload of the genuine ES256 token changed.
    let i = genuine().tokens.iter().position(|t| t.alg == Algorithm::Es256).unwrap();
    let dot = genuine().tokens[i].jwt.find('.').unwrap() as u16;
    caught(
        || {
            run_with(accept_all, &mutation_input(i as u8, false, Op::Replace, false, dot + 5, b'A')).ok();
        },
        "still verifies",
    );
}

#[test]
fn a_verifier_that_refuses_every_token_is_caught() {
    let refuse_all: verify::Verifier = |_, _, _, _| Err(SignatureError::BadSignature);
    caught(
        || {
            run_with(refuse_all, &mutation_input(0, false, Op::Replace, false, 0, b'e')).ok();
        },
        "a genuine token does not verify",
    );
}

/// A stand-in verifier that reads the signature leniently: its last symbol's leftover bits
/// ignored (the signature re-encoded canonically before the core sees it).
fn lenient(
    jwt: &str,
    keys: &JwkSet,
    secret: Option<&ClientSecret>,
    allowed: Option<&[Algorithm]>,
) -> Result<Algorithm, SignatureError> {
    let cut = jwt.rfind('.').unwrap_or(0);
    let canonical = base64url_decode(&jwt[cut + 1..])
        .map(|sig| format!("{}.{}", &jwt[..cut], base64url_encode(&sig)))
        .unwrap_or_else(|| jwt.to_owned());
    verify_signature(&canonical, keys, secret, allowed)
}

#[test]
fn a_verifier_with_a_lenient_signature_decoder_is_caught() {
    // The ES256 signature is 64 bytes: 86 symbols, the last carrying 4 leftover bits. Setting
    // its lowest bit changes the text, not the bytes a lenient decoder reads.
    let i = genuine().tokens.iter().position(|t| t.alg == Algorithm::Es256).unwrap();
    let jwt = &genuine().tokens[i].jwt;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = *jwt.as_bytes().last().unwrap();
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    assert_eq!(value & 0xF, 0, "a canonical last symbol has no leftover bits");
    let other = ALPHABET[value | 1];
    let input = mutation_input(i as u8, false, Op::Replace, false, (jwt.len() - 1) as u16, other);
    // The core refuses it as malformed; the lenient stand-in verifies it, and is caught.
    assert_eq!(run_with(verify_signature, &input), Err(SignatureError::Malformed));
    caught(
        || {
            run_with(lenient, &input).ok();
        },
        "still verifies",
    );
}
