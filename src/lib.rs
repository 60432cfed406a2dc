//! **oidc-refresh** keeps OAuth 2.0 / OpenID Connect sessions alive with the refresh-token
//! grant: the Rust counterpart of ReachFive's `client.refreshTokens({ refreshToken, scope })`,
//! built for rotating single-use refresh tokens, hostile responses and secrets that must
//! never leak.
//!
//! This facade re-exports the sans-IO core ([`oidc_refresh_core`], everything at the top
//! level here) and, by feature, the transports: `ureq` (blocking, the default) as
//! `oidc_refresh::ureq` and `hyper` (async) as `oidc_refresh::hyper`.
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

pub mod store;

/// The sans-IO core, under its own name.
pub use oidc_refresh_core as core;

/// The blocking transport (feature `ureq`, on by default).
#[cfg(feature = "ureq")]
pub use oidc_refresh_ureq as ureq;

/// The async transport (feature `hyper`).
#[cfg(feature = "hyper")]
pub use oidc_refresh_hyper as hyper;
