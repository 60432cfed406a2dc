//! **oidc-refresh** keeps OAuth 2.0 / OpenID Connect sessions alive with the refresh-token
//! grant (RFC 6749 §6): the Rust counterpart of ReachFive's
//! `client.refreshTokens({ refreshToken, scope })`, built for rotating single-use refresh
//! tokens, concurrent callers, hostile responses and secrets that must never leak.
//!
//! **What it does.** It hands out a valid access token to any number of threads or tasks,
//! refreshing it at most once per refresh token (across processes too, through a shared
//! store), storing the rotated refresh token *before* the new access token is used, retrying
//! transient failures, and checking every refreshed ID token against the client, the issuer
//! and the previous ID token. Underneath is a sans-IO core that builds the requests and reads
//! the responses for any HTTP stack.
//!
//! **What it does not do.** It does not sign users in: the first refresh token comes from
//! your sign-in (an authorization code flow), and when the grant is dead (`invalid_grant`)
//! the errors say so ([`Error::is_reauth_required`]). With the `verify` feature (on by
//! default) it verifies ID-token signatures with the provider's key set, fetched and cached
//! by the session (`Session::with_key_set_cache`). It does not check access tokens for an
//! API: it is a client library.
//!
//! # Where things are
//!
//! | you want | use |
//! | --- | --- |
//! | a valid access token, blocking | `oidc_refresh::ureq::TokenManager<S>` (feature `ureq`) |
//! | a valid access token, async | `oidc_refresh::hyper::TokenManager<S>` (feature `hyper`) |
//! | where the tokens live between refreshes (`S`) | [`store::FileStore`] (shared by threads and processes), [`store::MemoryStore`] |
//! | one refresh by hand | `oidc_refresh::ureq::Transport::refresh_tokens`, `oidc_refresh::hyper::Transport::refresh_tokens` |
//! | the token manager over your own HTTP client | [`blocking::TokenManager`] with your [`blocking::Exchange`]; `asynchronous::TokenManager` with your `asynchronous::AsyncExchange` (feature `hyper`) |
//! | ID tokens verified | `Session::new(client).with_key_set_cache(provider.key_set_cache()?)` and `TokenManager::with_session`; `verify_signature` for a token from elsewhere (feature `verify`) |
//! | your own HTTP client, sans-IO | the core, at the root of this crate: [`build_refresh_request`], [`check_refresh_response`], the [`Session`] state machine |
//!
//! The two `TokenManager`s are the driver's [`blocking::TokenManager`] and
//! `asynchronous::TokenManager` with the transport filled in. Clones of a manager share
//! everything; hand one to every thread or task.
//!
//! # Features
//!
//! | feature | default | gives |
//! | --- | --- | --- |
//! | `ureq` | yes | `oidc_refresh::ureq`: the blocking transport (ureq, rustls) and its `TokenManager` |
//! | `verify` | yes | ID-token signature verification with `ring`: `KeySetCache`, `JwkSet`, `verify_signature`, `Session::with_key_set_cache`, `blocking::refresh_tokens_verified` |
//! | `sign` | no | signing keys, client assertions (`private_key_jwt`, `client_secret_jwt`) and DPoP proofs, for a driver of your own: `SigningKey`, `build_client_assertion`, `build_dpop_proof`, `DpopNonces` |
//! | `hyper` | no | `oidc_refresh::hyper`: the async transport (hyper 1, rustls) and its `TokenManager`; `oidc_refresh::asynchronous`; the stores as [`store::AsyncTokenStore`]s |
//!
//! Always there: the core (at the root), [`store`], [`blocking`], [`Clock`], [`Options`].
//!
//! **The async side needs a tokio runtime** (any flavour, with the I/O and time drivers, as
//! `#[tokio::main]` builds): the hyper transport's exchanges and the async manager's refresh
//! task run on it; another executor panics at the first exchange.
//!
//! The command line is the package `oidc-refresh-cli` (binary `oidc-refresh`): a library
//! user compiles none of its dependencies.
//!
//! # Example
//!
//! ```no_run
//! # #[cfg(feature = "ureq")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oidc_refresh::RefreshToken;
//! use oidc_refresh::store::{FileStore, TokenStore};
//! use oidc_refresh::ureq::{Options, TokenManager, Transport};
//!
//! let transport = Transport::new(Options::default())?;
//! let client = transport.discover("https://id.example")?.client("my-app")?;
//! let store = FileStore::new("tokens.json");
//! store.seed(RefreshToken::new("rt-from-sign-in"))?; // only into an empty store
//! let manager = TokenManager::new(transport, client, store);
//!
//! let token = manager.access_token()?;
//! let header = token.bearer_header()?; // `Authorization: Bearer ...`, marked sensitive
//! // ... the API answered 401? The next `access_token` refreshes, once:
//! manager.invalidate(&token);
//! # let _ = header;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "ureq"))]
//! # fn main() {}
//! ```
//!
//! The async twin, on tokio:
//!
//! ```no_run
//! # #[cfg(feature = "hyper")]
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     use oidc_refresh::RefreshToken;
//!     use oidc_refresh::hyper::{Options, TokenManager, Transport};
//!     use oidc_refresh::store::MemoryStore;
//!
//!     let transport = Transport::new(Options::default())?;
//!     let client = transport.discover("https://id.example").await?.client("my-app")?;
//!     let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-from-sign-in"));
//!     let manager = TokenManager::new(transport, client, store);
//!     let worker = manager.clone(); // clones share the token and the refresh in flight
//!     let token = tokio::spawn(async move { worker.access_token().await }).await??;
//!     # let _ = token;
//!     Ok(())
//! }
//! # #[cfg(not(feature = "hyper"))]
//! # fn main() {}
//! ```
//!
//! The core alone, with any HTTP stack:
//!
//! ```
//! use oidc_refresh::{build_refresh_request, ClientConfig, RefreshParams, RefreshToken};
//!
//! let client = ClientConfig::reachfive("acme.reach5.net", "my-app")?;
//! let token = RefreshToken::new("rt");
//! let request = build_refresh_request(&client, &RefreshParams::new(&token))?;
//! assert_eq!(request.uri(), "https://acme.reach5.net/oauth/token");
//! # Ok::<(), oidc_refresh::ConfigError>(())
//! ```
//!
//! The repository's `examples/` are runnable programs: `blocking.rs`, `async_service.rs`,
//! `bring_your_own_client.rs`.
//!
//! # Imports
//!
//! The crate root holds the core's items and a few modules: [`store`], [`blocking`],
//! [`http`] (the `http` crate itself), `ureq`, `hyper` and `asynchronous` (by feature).
//! Nothing is named `core` or `std`, so `use oidc_refresh::*` shadows neither. It does bring
//! the module names `ureq` and `hyper` in: a crate that also depends on the `ureq` or `hyper`
//! crate itself then writes `::ureq::…` in its `use` lines, or imports this crate's items by
//! name.

#![forbid(unsafe_code)]

pub use oidc_refresh_core::*;
pub use oidc_refresh_driver::{
    BeforeSend, Clock, LockLapsed, Options, Ready, StoreEmptied, SystemClock, Via, blocking,
};

/// Where a grant's token set lives between refreshes: the store traits, the memory and file
/// stores, and the Redis store for a fleet (feature `redis`).
pub mod store {
    pub use oidc_refresh_driver::store::*;
    #[cfg(all(feature = "redis", feature = "hyper"))]
    pub use oidc_refresh_redis::AsyncRedisGuard;
    #[cfg(feature = "redis")]
    pub use oidc_refresh_redis::{RedisGuard, RedisStore, RedisStoreError, RedisStoreErrorKind};
}

/// The async side of the driver (feature `hyper`).
#[cfg(feature = "hyper")]
pub use oidc_refresh_driver::asynchronous;

/// The blocking transport (feature `ureq`, on by default).
#[cfg(feature = "ureq")]
pub use oidc_refresh_ureq as ureq;

/// The async transport (feature `hyper`).
#[cfg(feature = "hyper")]
pub use oidc_refresh_hyper as hyper;

/// Every Rust block of `README.md`, compiled (and run, unless `no_run`) by `cargo test --doc`
/// with both transports on, so that the README's quick starts stay true.
#[cfg(all(doctest, feature = "ureq", feature = "hyper"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// `use oidc_refresh::*` leaves `core` and `std` alone (no item of this crate has those
/// names):
///
/// ```
/// use oidc_refresh::*;
/// use core::time::Duration;
/// use std::collections::HashMap;
///
/// let mut margins: HashMap<&str, Duration> = HashMap::new();
/// margins.insert("access", Duration::from_secs(60));
/// assert_eq!(core::mem::size_of::<u8>(), 1);
/// assert_eq!(RefreshToken::new("rt-1").expose_secret(), "rt-1");
/// ```
#[cfg(doctest)]
pub struct GlobImportDoctest;
