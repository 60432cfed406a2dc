//! The independent references the oracles judge the core against: each written from the
//! contract and the RFCs, without the core's code, so that a bug in the core does not hide
//! in the check that should catch it.
//!
//! | module | reference |
//! | --- | --- |
//! | [`json`] | serde_json's reading of a body: the value, repeated names at every depth |
//! | [`rfc6749`] | refresh-token, scope and client-id syntax; form and Basic decoding |
//! | [`jose`] | base64url, and which ID tokens are well-formed (so must decode) |
//! | [`jws`] | JWK Sets read into usable keys, the candidate keys of a token, whether it verifies, `at_hash` |
//! | [`endpoint`] | loopback hosts, usable endpoint URLs, acceptable discovery documents |
//! | `session_model` | the `session` oracle's shadow model of the state machine (crate-private) |

pub mod endpoint;
pub mod jose;
pub mod json;
pub mod jws;
pub mod rfc6749;
pub(crate) mod session_model;
