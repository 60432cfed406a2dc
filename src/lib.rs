//! **oidc-refresh** keeps OAuth 2.0 / OpenID Connect sessions alive with the refresh-token
//! grant: the Rust counterpart of ReachFive's `client.refreshTokens({ refreshToken, scope })`,
//! built for rotating single-use refresh tokens, concurrent callers, hostile responses and
//! secrets that must never leak.
//!
//! # Where things are
//!
//! - **A valid access token, for any number of threads or tasks**: `ureq::TokenManager`
//!   (blocking) or `hyper::TokenManager` (async), with a [`store`] shared by threads,
//!   processes and machines.
//! - **One refresh by hand**: `ureq::Transport::refresh_tokens` or
//!   `hyper::Transport::refresh_tokens`.
//! - **Your own HTTP client**: the sans-IO core, at the root of this crate
//!   ([`build_refresh_request`], [`parse_refresh_response`], the [`Session`] state machine),
//!   and [`blocking::Exchange`] to put your client under the token manager.
//!
//! # Features
//!
//! | feature | default | gives |
//! | --- | --- | --- |
//! | `ureq` | yes | `oidc_refresh::ureq`: the blocking transport (ureq, rustls) and its `TokenManager` |
//! | `hyper` | no | `oidc_refresh::hyper`: the async transport (hyper 1, rustls) and its `TokenManager`; [`asynchronous`]; stores awaited. **Needs a tokio runtime** (any flavour, with the I/O and time drivers): another executor panics at the first exchange |
//!
//! The command line is the package `oidc-refresh-cli` (binary `oidc-refresh`): a library
//! user compiles none of its dependencies.
//!
//! # Example
//!
//! ```no_run
//! # #[cfg(feature = "ureq")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oidc_refresh::store::FileStore;
//! use oidc_refresh::ureq::{Options, TokenManager, Transport};
//!
//! let transport = Transport::new(Options::default())?;
//! let client = transport.discover("https://id.example")?.client("my-app")?;
//! let manager = TokenManager::new(transport, client, FileStore::new("tokens.json"));
//! let token = manager.access_token()?;
//! let header = token.bearer_header()?; // `Authorization: Bearer ...`, marked sensitive
//! # let _ = header;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "ureq"))]
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

#![forbid(unsafe_code)]

pub use oidc_refresh_core::*;
pub use oidc_refresh_driver::{
    BeforeSend, Clock, Options, Ready, StoreEmptied, SystemClock, Via, blocking, store,
};

/// The async side of the driver (feature `hyper`).
#[cfg(feature = "hyper")]
pub use oidc_refresh_driver::asynchronous;

/// The blocking transport (feature `ureq`, on by default).
#[cfg(feature = "ureq")]
pub use oidc_refresh_ureq as ureq;

/// The async transport (feature `hyper`).
#[cfg(feature = "hyper")]
pub use oidc_refresh_hyper as hyper;
