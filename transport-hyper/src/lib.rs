//! The async transport of [oidc-refresh]: it sends the requests that the sans-IO
//! [`oidc_refresh_core`] builds with [hyper] on [tokio], and hands the answers back to the
//! core to parse and validate.
//!
//! **What it does.**
//!
//! - One refresh-token grant per call ([`Transport::refresh_tokens`]), or OpenID discovery
//!   ([`Transport::discover`]), or any single exchange ([`Transport::execute`]). The futures
//!   are `Send`, so they can be `tokio::spawn`ed on a multi-thread runtime, and nothing in
//!   them blocks a runtime thread (DNS goes through `getaddrinfo` on tokio's blocking pool).
//! - TLS with [rustls] (the `ring` provider) trusting Mozilla's roots ([webpki-roots]) plus
//!   any root certificates you add ([`Options::add_root_certificate_der`]).
//! - Plain `http` only to a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), checked
//!   again here even though the core already refuses such endpoints.
//! - Redirects are refused, never followed: any `3xx`, with or without `Location`, is a
//!   [`oidc_refresh_core::TransportErrorKind::Redirect`].
//! - Response bodies are capped ([`Options::max_body`], default 1 MiB, counted after
//!   transfer decoding; a body of exactly the cap passes): past it,
//!   [`oidc_refresh_core::TransportErrorKind::BodyTooLarge`].
//! - One total deadline per exchange ([`Options::timeout`], default 30 s) covering connect,
//!   TLS, sending and receiving the whole body, plus a connect timeout
//!   ([`Options::connect_timeout`], default 10 s).
//! - Goes through the proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY` (honouring
//!   `NO_PROXY`; an `http://` proxy, reached with `CONNECT`) unless
//!   [`Options::proxy_from_env`] turns that off; a loopback host is always reached directly,
//!   so plain http never leaves the machine.
//! - The `tracing` events of [`oidc_refresh_driver::log`] (target `oidc_refresh`): each
//!   attempt (the endpoint's host, never a token or a secret), its outcome class, and whether
//!   the refresh token rotated.
//!
//! [`TokenManager`] hands out valid access tokens to any number of tasks through this
//! transport: the driver's [async manager](oidc_refresh_driver::asynchronous::TokenManager).
//!
//! **What it does not do.**
//!
//! - It never retries: a refresh sends exactly one request. Retrying transient failures
//!   ([`Error::is_retryable`](oidc_refresh_core::Error::is_retryable)) is up to the caller,
//!   who must never have two requests with one refresh token in flight at once.
//! - No SOCKS or `https://` proxies (the ureq transport has them).
//! - No connection pool: every exchange opens its own connection, which is closed when the
//!   exchange ends. Refreshes are rare, and a pooled connection could not outlive the tokio
//!   runtime that drives it.
//! - No HTTP/2 and no content decoding (it sends no `Accept-Encoding`).
//! - It builds, parses and validates nothing itself: that is the core's job.
//!
//! It needs a **tokio** runtime with the I/O and time drivers enabled (`enable_all`, as
//! `#[tokio::main]` does); another executor panics at the first exchange.
//! [`Transport::new`] itself works outside a runtime.
//!
//! # Example
//!
//! ```no_run
//! use oidc_refresh_core::{ClientConfig, RefreshParams, RefreshToken};
//! use oidc_refresh_hyper::{Options, Transport};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), oidc_refresh_core::Error> {
//! let transport = Transport::new(Options::default().timeout(Duration::from_secs(10)))?;
//! let client = ClientConfig::new("https://id.example/oauth/token", "my-app")?;
//! let refresh_token = RefreshToken::new("rt-1");
//!
//! match transport.refresh_tokens(&client, &RefreshParams::new(&refresh_token)).await {
//!     Ok(result) => {
//!         // Store the rotated refresh token *before* using the access token.
//!         let next = result.refresh_token().unwrap_or(&refresh_token);
//!         let _ = (next, result.access_token());
//!     }
//!     Err(e) if e.is_reauth_required() => { /* invalid_grant: sign the user in again */ }
//!     Err(mut e) => {
//!         // A response that rotated the token but is otherwise unusable still hands
//!         // over the new refresh token: store it, the old one is spent.
//!         if let Some(rotated) = e.take_rotated_refresh_token() {
//!             let _ = rotated;
//!         }
//!         return Err(e);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [oidc-refresh]: https://docs.rs/oidc-refresh
//! [hyper]: https://docs.rs/hyper
//! [tokio]: https://docs.rs/tokio
//! [rustls]: https://docs.rs/rustls
//! [webpki-roots]: https://docs.rs/webpki-roots

#![forbid(unsafe_code)]

mod connect;
mod error;
mod transport;

pub use oidc_refresh_driver::Options;
use oidc_refresh_driver::SystemClock;
pub use transport::{Transport, refresh_tokens};

/// Hands out valid access tokens to any number of tasks through this transport: the driver's
/// [async manager](oidc_refresh_driver::asynchronous::TokenManager), whose docs say
/// everything; `S` is the store, `C` the clock.
///
/// ```no_run
/// use oidc_refresh_core::ClientConfig;
/// use oidc_refresh_driver::store::FileStore;
/// use oidc_refresh_hyper::{Options, TokenManager, Transport};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = Transport::new(Options::default())?;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let manager = TokenManager::new(transport, client, FileStore::new("tokens.json"));
/// let token = manager.access_token().await?;
/// # Ok(())
/// # }
/// ```
pub type TokenManager<S, C = SystemClock> = oidc_refresh_driver::asynchronous::TokenManager<Transport, S, C>;
