//! The fuzz oracles of [oidc-refresh]: for each fuzz target, how its input is decoded and
//! every invariant the core must keep on it, judged against independent references. Not
//! published.
//!
//! Three users share them, so that a fuzzer, the seeds and CI check exactly the same thing:
//!
//! - the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly), each one line calling the
//!   `run` of its module here;
//! - the stable replay of the committed inputs (`oracles/tests/corpora.rs`): every file under
//!   `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` goes through the same `run`, so
//!   CI keeps them green without nightly or cargo-fuzz;
//! - the seed generator (`fuzz/seedgen`), which writes inputs in these formats.
//!
//! Each `run(data: &[u8])` is the whole body of the fuzz target of its module's name: it
//! decodes the input exactly as the target does and panics when an invariant fails. Only the
//! core's public API and serde_json (as the independent JSON reader) are used, and structured
//! inputs are read with the small [`common::Reader`] rather than `arbitrary`, so everything
//! here builds on stable.
//!
//! | target | input | oracle |
//! | --- | --- | --- |
//! | [`token_response`] | `[s] body…` | `parse_refresh_response` against serde_json's reading of the body |
//! | [`error_response`] | `[m] …`: a raw or an OAuth-error-shaped body on an error status | the same, and no success |
//! | [`id_token`] | the input as (lossy) UTF-8 | `decode_id_token` against the JOSE reference: well-formed tokens must decode |
//! | [`scope_and_refresh_token`] | `[flags] refresh_token 0xFF scope 0xFF client_secret 0xFF client_id` | request checks against the RFC 6749 predicates, the request decoded back |
//! | [`discovery`] | `[s] issuer 0xFF body…` | `parse_discovery_response` against the endpoint reference: acceptable documents must be accepted |
//! | [`session`] | `[cfg] ([timing] [seed]) event*` | the `Session` state machine against a shadow model |
//! | [`key_set`] | the body | `JwkSet::parse`, `parse_key_set_response` against the JWK reference: a JWK Set must be read, into exactly its usable keys |
//! | [`verify`] | `[flags] …`: a token, key set, secret and algorithms, or one change to a genuine token or key set | `verify_signature`, `KeySetCache`, `at_hash_matches` against the JWS reference; no change to a genuine token verifies |
//!
//! The references (written from the contract and the RFCs, not from the core's code) are in
//! [`mod@reference`]; what the oracles share is in [`common`]. [`TARGETS`] lists the targets.
//!
//! [oidc-refresh]: https://docs.rs/oidc-refresh

pub mod common;
pub mod discovery;
pub mod error_response;
pub mod id_token;
pub mod key_set;
pub mod reference;
pub mod scope_and_refresh_token;
pub mod session;
pub mod token_response;
pub mod verify;

/// The whole body of one fuzz target.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the name of the cargo-fuzz binary, of its folders under
/// `fuzz/seeds/` and `fuzz/regressions/`, and of its module here).
pub const TARGETS: &[(&str, Target)] = &[
    ("token_response", token_response::run),
    ("error_response", error_response::run),
    ("id_token", id_token::run),
    ("scope_and_refresh_token", scope_and_refresh_token::run),
    ("discovery", discovery::run),
    ("session", session::run),
    ("key_set", key_set::run),
    ("verify", verify::run),
];
