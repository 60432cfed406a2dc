//! The command line end to end, one test binary for every command (one link, not one per
//! command): `parse`, `refresh`, `token`, `store` and `revoke` against the bundled provider and scripted
//! servers, and a store shared by the library and the command line at once.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a panic is a failure report

mod common;
mod flags;
mod hostile;
mod parse;
#[cfg(feature = "redis")]
mod redis;
mod refresh;
mod revoke;
mod shared_store;
mod store;
mod token;
mod verify;
