//! The core's integration tests, one binary (one link on a small CI machine): each module
//! exercises the public API of `oidc-refresh-core` from outside, as a user would.
//!
//! - `vectors`: response, ID-token and request vectors shaped like real and broken providers.
//! - `differential`: the parser against an independent serde_json reference.
//! - `props`: generated responses and ID tokens (proptest), and no panic on any input.
//! - `deserialize`: `Deserialize` from the wire names, and the store's JSON shape.
//! - `session`: the state machine on a virtual clock with canned responses.
//! - `verify` (feature `verify`): ID-token signatures, hostile tokens, the key-set cache.
//! - `sign` (feature `sign`): client assertions and DPoP proofs, verified two ways; the keys.

// The big `json!` literals of the provider vectors need a deeper macro recursion.
#![recursion_limit = "256"]

mod deserialize;
mod differential;
mod props;
mod session;
#[cfg(feature = "verify")]
mod session_verify;
#[cfg(feature = "sign")]
mod sign;
mod vectors;
#[cfg(feature = "verify")]
mod verify;
