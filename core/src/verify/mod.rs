//! ID-token signatures (feature `verify`): JWK Sets read into typed keys, the signature
//! checked with `ring`, `at_hash`, and a key-set cache on a time passed in. Sans-IO like the
//! rest of the core: the key-set request is built and its response read here, the caller
//! sends it.
//!
//! ```text
//!  cache       KeySetCache, Verdict: when to fetch, on a virtual clock
//!    |
//!  request     build_key_set_request, parse_key_set_response, check_jwks_uri
//!  signature   verify_signature: the header's checks, the choice of key, ring
//!  at_hash     at_hash_matches
//!    |
//!  jwk         JwkSet: keys read once into what ring verifies with
//! ```
//!
//! `Algorithm` and the hashes are `crate::alg`'s, shared with `sign`.

mod at_hash;
mod cache;
mod jwk;
mod request;
mod signature;

// The error kinds live in `error` (below `verify`, which uses it); reachable here too.
#[allow(unused_imports)]
pub(crate) use crate::error::{KeySetError, SignatureError};
pub use at_hash::at_hash_matches;
pub use cache::{KeySetCache, Verdict};
pub use jwk::JwkSet;
pub use request::{build_key_set_request, check_jwks_uri, parse_key_set_response};
pub use signature::verify_signature;
