//! A token store on Redis (or Valkey) for oidc-refresh: one grant's token set shared by a
//! fleet of processes on many machines, so that a rotated refresh token is sent at most
//! once and never lost, as processes sharing a file store guarantee on one machine.
//!
//! [`RedisStore`] implements the driver's store traits: blocking
//! ([`TokenStore`](oidc_refresh_driver::store::TokenStore)) for the ureq `TokenManager`
//! and the command line, and async
//! ([`AsyncTokenStore`](oidc_refresh_driver::store::AsyncTokenStore), feature `tokio`) for
//! the hyper `TokenManager`, with no blocking thread. A refresh holds a **lease** on the
//! grant and writes with a **compare-and-set**; see [`RedisStore`] for the protocol and
//! what a holder that dies or stalls costs.
//!
//! What it does not do: run Redis, replicate it, or store anything but the token set (the
//! value at `KEY` is exactly a file store's JSON, and `KEY:lease` is the only other key).
//!
//! ```no_run
//! use oidc_refresh_core::RefreshToken;
//! use oidc_refresh_driver::store::TokenStore;
//! use oidc_refresh_redis::RedisStore;
//!
//! let store = RedisStore::open("redis://127.0.0.1:6379/", "oidc-refresh:my-app")?;
//! store.seed(RefreshToken::new("rt-from-sign-in"))?; // only into an empty store
//! let tokens = store.load()?.expect("seeded");
//! # let _ = tokens;
//! # Ok::<(), oidc_refresh_redis::RedisStoreError>(())
//! ```
//!
//! | feature | gives |
//! |---|---|
//! | (none) | the blocking store; `rediss://` with rustls |
//! | `tokio` | the async store, on tokio |

#![forbid(unsafe_code)]

mod error;
mod scripts;
mod store;
mod wait;

#[cfg(feature = "tokio")]
mod asynchronous;
mod blocking;

#[cfg(feature = "tokio")]
pub use asynchronous::AsyncRedisGuard;
pub use blocking::RedisGuard;
pub use error::{RedisStoreError, RedisStoreErrorKind};
pub use store::RedisStore;
