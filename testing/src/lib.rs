//! What the tests of oidc-refresh share, so that no test binary includes another's files:
//!
//! - [`provider`]: the bundled OpenID Provider (panva's `oidc-provider`, started on loopback
//!   per test) and a real sign-in against it; a clock that moves only when a test says;
//! - [`servers`]: loopback HTTP(S) servers that misbehave on purpose, certificates made on
//!   the spot, and a `tracing` subscriber that records every event;
//! - [`redis`]: a real `redis-server` per test (own port, own directory, AOF), with a raw RESP
//!   client;
//! - [`jose`]: signing keys, their JWKs, signed ID tokens, and the hostile tokens a verifier
//!   must refuse, each with its genuine twin.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // test support: a panic is a failure report

pub mod jose;
pub mod provider;
pub mod redis;
pub mod servers;
