//! The I/O side of [oidc-refresh] that every transport shares, so that the policy exists once:
//!
//! - **stores** ([`store`]): where a grant's token set lives between refreshes, in a blocking
//!   ([`store::TokenStore`]) and an async ([`store::AsyncTokenStore`]) flavour; a file store
//!   shared by threads and processes through a `flock`, and a memory store;
//! - **the clock** ([`Clock`], [`SystemClock`]): the time the sans-IO core takes as an argument;
//! - **the options** of every transport ([`Options`]) and their defaults;
//! - **the drive loop** that runs the core's [`Session`](oidc_refresh_core::Session) — once, for
//!   both sides: [`blocking::Drive`] and, with the `tokio` feature, [`asynchronous::AsyncDrive`];
//! - **the token managers** built on it, [`blocking::TokenManager`] and
//!   [`asynchronous::TokenManager`]: a valid access token for any number of threads or tasks,
//!   a lock-free fresh path, one refresh in flight, and a sign-out in one call (`revoke`:
//!   the refresh token revoked, RFC 7009, and the store cleared);
//! - **the log events** ([`log`]) every driver and transport emits, and the errors of what
//!   every transport refuses ([`refusal`]).
//!
//! **What it does not do.** No HTTP: a transport implements [`blocking::Exchange`] or
//! [`asynchronous::AsyncExchange`] (`oidc-refresh-ureq` and `oidc-refresh-hyper` do, and so can
//! your own). No protocol: building requests, reading responses, the refresh policy are the
//! core's.
//!
//! # Example: your own blocking HTTP client, a managed token
//!
//! ```
//! use oidc_refresh_core::{ClientConfig, Error, RefreshToken, TokenSet, http};
//! use oidc_refresh_driver::blocking::{Exchange, TokenManager};
//! use oidc_refresh_driver::store::MemoryStore;
//!
//! /// Your HTTP client: one exchange, no redirects, a capped body, one deadline.
//! struct MyClient;
//!
//! impl Exchange for MyClient {
//!     fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
//!         # let _ = request;
//!         // ... send `request`, read the whole response ...
//!         # Ok(http::Response::new(br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600}"#.to_vec()))
//!     }
//! }
//!
//! let client = ClientConfig::new("https://id.example/token", "my-app")?;
//! let store = MemoryStore::with_tokens(TokenSet::from_refresh_token(RefreshToken::new("rt-1")));
//! let manager = TokenManager::new(MyClient, client, store);
//! assert_eq!(manager.access_token()?.expose_secret(), "at-2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | gives |
//! | --- | --- |
//! | `tokio` | the async side: [`asynchronous`], and [`store::FileStore`] as an async store |
//! | `verify` | ID-token signatures verified: the drive loop answers the session's `FetchKeys`, and `blocking::refresh_tokens_verified` (and its async twin) |
//!
//! [oidc-refresh]: https://docs.rs/oidc-refresh

#![forbid(unsafe_code)]

pub mod blocking;
mod clock;
mod fresh;
pub mod log;
mod manager;
mod oneshot;
mod options;
mod outcome;
pub mod refusal;
mod run;
pub mod store;

#[cfg(feature = "tokio")]
pub mod asynchronous;

pub use clock::{Clock, SystemClock};
pub use options::Options;
pub use outcome::{Ready, Via};
pub use run::{BeforeSend, LockLapsed, StoreEmptied};
