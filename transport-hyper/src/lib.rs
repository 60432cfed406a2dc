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
//!   [`TransportErrorKind::Redirect`].
//! - Response bodies are capped ([`Options::max_body`], default 1 MiB, counted after
//!   transfer decoding; a body of exactly the cap passes): past it,
//!   [`TransportErrorKind::BodyTooLarge`].
//! - One total deadline per exchange ([`Options::timeout`], default 30 s) covering connect,
//!   TLS, sending and receiving the whole body, plus a connect timeout
//!   ([`Options::connect_timeout`], default 10 s).
//! - [`tracing`] events with target `"oidc_refresh"`: each attempt (the endpoint's host,
//!   never a token or a secret), its outcome class, and whether the refresh token rotated.
//!
//! **What it does not do.**
//!
//! - It never retries: a refresh sends exactly one request. Retrying transient failures
//!   ([`Error::is_retryable`](oidc_refresh_core::Error::is_retryable)) is up to the caller,
//!   who must never have two requests with one refresh token in flight at once.
//! - No proxies: hyper's client has no support for `HTTPS_PROXY` and friends, and this crate
//!   does not hand-write one yet. Use the ureq transport where a proxy is required.
//! - No connection pool: every exchange opens its own connection, which is closed when the
//!   exchange ends. Refreshes are rare, and a pooled connection could not outlive the tokio
//!   runtime that drives it.
//! - No HTTP/2 and no content decoding (it sends no `Accept-Encoding`).
//! - It builds, parses and validates nothing itself: that is the core's job.
//!
//! It needs a tokio runtime with the I/O and time drivers enabled (`enable_all`, as
//! `#[tokio::main]` does). [`Transport::new`] itself works outside a runtime.
//!
//! # Example
//!
//! ```no_run
//! use oidc_refresh_hyper::core::{ClientConfig, RefreshParams, RefreshToken};
//! use oidc_refresh_hyper::{Options, Transport};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), oidc_refresh_hyper::core::Error> {
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

pub use oidc_refresh_core as core;

mod manager;
pub use manager::TokenManager;

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderValue, USER_AGENT};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body as _;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use oidc_refresh_core::discovery::{ProviderMetadata, build_discovery_request, parse_discovery_response};
use oidc_refresh_core::validate::check_refresh_response;
use oidc_refresh_core::{
    AuthResult, ClientConfig, ConfigError, Continuity, Error, IdTokenPayload, RefreshParams, TransportError,
    TransportErrorKind, UnixTime, build_refresh_request, is_loopback_host,
};

/// The target of every `tracing` event of this crate.
const LOG_TARGET: &str = "oidc_refresh";

/// Sent when the request has no `User-Agent` of its own.
const DEFAULT_USER_AGENT: &str = concat!("oidc-refresh-hyper/", env!("CARGO_PKG_VERSION"));

/// How a [`Transport`] talks to servers: deadlines, the body cap and extra trusted roots.
///
/// ```
/// use oidc_refresh_hyper::Options;
/// use std::time::Duration;
///
/// let options = Options::default().timeout(Duration::from_secs(5)).max_body(64 * 1024);
/// assert_eq!(options.get_timeout(), Duration::from_secs(5));
/// assert_eq!(options.get_connect_timeout(), Duration::from_secs(10));
/// assert_eq!(options.get_max_body(), 65_536);
/// ```
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Options {
    timeout: Duration,
    connect_timeout: Duration,
    max_body: u64,
    root_certificates: RootCertificates,
}

/// Extra trusted roots; `Debug` shows how many, not their bytes.
#[derive(Clone, Default)]
struct RootCertificates(Vec<Vec<u8>>);

impl fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} extra root certificate(s)", self.0.len())
    }
}

impl Default for Options {
    /// A 30 s total deadline, a 10 s connect timeout, a 1 MiB body cap, Mozilla's roots only.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 1_048_576,
            root_certificates: RootCertificates::default(),
        }
    }
}

impl Options {
    /// Sets the one deadline of each exchange as a whole: connect, TLS, send, and receive
    /// the whole body (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the deadline for opening the TCP connection (default 10 s). The total deadline
    /// of [`timeout`](Self::timeout) applies as well.
    #[must_use]
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets the largest response body accepted, in bytes, counted after transfer decoding
    /// (default 1 MiB = 1 048 576). A body of exactly this size passes.
    #[must_use]
    pub fn max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    /// Trusts one more root certificate (DER bytes) besides Mozilla's roots, e.g. a
    /// company's own certificate authority. It is checked by [`Transport::new`].
    #[must_use]
    pub fn add_root_certificate_der(mut self, der: Vec<u8>) -> Self {
        self.root_certificates.0.push(der);
        self
    }

    /// The total deadline of each exchange.
    #[must_use]
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout.
    #[must_use]
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The response body cap, in bytes.
    #[must_use]
    pub fn get_max_body(&self) -> u64 {
        self.max_body
    }

    /// The extra root certificates (DER), in the order they were added.
    #[must_use]
    pub fn root_certificates_der(&self) -> &[Vec<u8>] {
        &self.root_certificates.0
    }
}

/// An async HTTP transport for the core's requests: hyper, rustls, tokio.
///
/// Cheap to clone (the clones share the TLS configuration); `Send + Sync`.
#[derive(Clone)]
pub struct Transport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    options: Options,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport").field("options", &self.options).finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport with `options`. Works inside or outside a tokio runtime; using it needs
    /// one.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::InvalidRootCertificate`] when an extra root
    /// certificate is not a usable DER certificate; [`Error::Transport`] with
    /// [`TransportErrorKind::Tls`] when the TLS configuration cannot be built.
    pub fn new(options: Options) -> Result<Self, Error> {
        let tls_error =
            |e: rustls::Error| -> Error { TransportError::new(TransportErrorKind::Tls, e).into() };
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for (i, der) in options.root_certificates.0.iter().enumerate() {
            roots
                .add(der.as_slice().into())
                .map_err(|_| ConfigError::InvalidRootCertificate { index: i + 1 })?;
        }
        let tls =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(tls_error)?
                .with_root_certificates(roots)
                .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.connect_timeout));
        http.set_nodelay(true);
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);

        let client = Client::builder(TokioExecutor::new())
            // No pool: one connection per exchange, closed at its end (see the crate docs).
            .pool_max_idle_per_host(0)
            // Never resend a request, not even one hyper believes was never written.
            .retry_canceled_requests(false)
            .build(https);
        Ok(Self { client, options })
    }

    /// The options this transport was built with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Sends one request and returns the response with its whole body, whatever its status
    /// (other than a redirect, which is refused).
    ///
    /// The request's URL must be `https`, or `http` to a loopback host. A `User-Agent` is
    /// added when the request has none; `Host` and `Content-Length` are set by hyper.
    ///
    /// # Errors
    ///
    /// - [`Error::Config`]: [`ConfigError::InsecureUrl`] for `http` to a host that is not
    ///   loopback, [`ConfigError::InvalidUrl`] for a URL without a host or with another
    ///   scheme. Nothing is sent.
    /// - [`Error::Transport`], by [`TransportErrorKind`]: `Connect` (refused, unreachable,
    ///   DNS), `Timeout` (the total deadline or the connect timeout), `Tls`, `Redirect`
    ///   (any 3xx), `BodyTooLarge`, `Interrupted` (the connection broke before the response
    ///   was complete), `Other`.
    pub async fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        check_url(request.uri())?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        let method = request.method().clone();
        let (mut parts, body) = request.into_parts();
        parts.headers.entry(USER_AGENT).or_insert(HeaderValue::from_static(DEFAULT_USER_AGENT));
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));

        tracing::debug!(target: LOG_TARGET, %host, %method, "HTTP exchange starts");
        let started = Instant::now();
        let timeout = self.options.timeout;
        let outcome = match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete response within the deadline of {timeout:?}"),
            )
            .into()),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok(response) => tracing::debug!(
                target: LOG_TARGET,
                %host,
                status = response.status().as_u16(),
                body_bytes = response.body().len(),
                elapsed_ms,
                "HTTP exchange complete"
            ),
            Err(Error::Transport(e)) => tracing::debug!(
                target: LOG_TARGET,
                %host,
                kind = ?e.kind(),
                elapsed_ms,
                "HTTP exchange failed"
            ),
            Err(_) => {}
        }
        outcome
    }

    /// The exchange without its deadline: send, refuse redirects, collect the capped body.
    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Response<Vec<u8>>, Error> {
        let response = self.client.request(request).await.map_err(map_client_error)?;
        let status = response.status();
        if status.is_redirection() {
            // Dropped unread: the connection closes with it.
            return Err(TransportError::new(
                TransportErrorKind::Redirect,
                format!("HTTP {} (redirects are never followed)", status.as_u16()),
            )
            .into());
        }
        let (parts, body) = response.into_parts();
        let max_body = self.options.max_body;
        // A declared Content-Length over the cap fails without reading the body.
        if body.size_hint().lower() > max_body {
            return Err(too_large(max_body));
        }
        let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
        let collected = Limited::new(body, limit).collect().await.map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                too_large(max_body)
            } else {
                TransportError::new(TransportErrorKind::Interrupted, e).into()
            }
        })?;
        Ok(Response::from_parts(parts, collected.to_bytes().to_vec()))
    }

    /// Fetches and checks the OpenID discovery document of `issuer`
    /// (`issuer` without a trailing `/`, then `/.well-known/openid-configuration`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an unusable issuer URL; the errors of
    /// [`execute`](Self::execute); [`Error::Protocol`] when the document is not a 2xx JSON
    /// object naming exactly this issuer and a usable token endpoint.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, Error> {
        let request = build_discovery_request(issuer)?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        let outcome = match self.execute(request).await {
            Ok(response) => parse_discovery_response(&response, issuer),
            Err(e) => Err(e),
        };
        match &outcome {
            Ok(_) => tracing::debug!(target: LOG_TARGET, %host, outcome = "success", "discovery"),
            Err(e) => {
                tracing::debug!(target: LOG_TARGET, %host, outcome = e.fault().as_str(), "discovery failed")
            }
        }
        outcome
    }

    /// Performs one refresh-token grant and validates the answer (without a previous ID
    /// token, so continuity is not checked). Never retries.
    ///
    /// # Errors
    ///
    /// As [`refresh_tokens_with_previous`](Self::refresh_tokens_with_previous).
    pub async fn refresh_tokens(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
    ) -> Result<AuthResult, Error> {
        self.refresh_tokens_with_previous(client, params, None).await.map(|(result, _)| result)
    }

    /// Performs one refresh-token grant: builds the request with the core, sends it once,
    /// and checks the response with
    /// [`check_refresh_response`]
    /// against the client, the issuer and `previous_id_token` (OIDC Core §12.2), at
    /// [`now`]. Never retries.
    ///
    /// # Errors
    ///
    /// - [`Error::Config`]: an invalid refresh token, scope, secret or endpoint; nothing
    ///   was sent.
    /// - [`Error::Transport`]: as [`execute`](Self::execute).
    /// - [`Error::Server`]: an OAuth error response (`invalid_grant`, ...).
    /// - [`Error::Protocol`]: a response that breaks the protocol (an HTML 502, a missing
    ///   `access_token`, ...).
    /// - [`Error::IdToken`]: the ID token failed validation or continuity.
    ///
    /// A protocol or ID-token error may hold a rotated refresh token
    /// ([`Error::rotated_refresh_token`]): store it, the one that was sent is spent.
    pub async fn refresh_tokens_with_previous(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous_id_token: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        let host = client.token_endpoint().host().unwrap_or_default().to_owned();
        tracing::debug!(target: LOG_TARGET, %host, "refresh attempt");
        let outcome = match build_refresh_request(client, params) {
            Ok(request) => match self.execute(request).await {
                Ok(response) => check_refresh_response(client, &response, previous_id_token, now()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e.into()),
        };
        match &outcome {
            Ok((result, continuity)) => tracing::info!(
                target: LOG_TARGET,
                %host,
                outcome = "success",
                rotated = result.refresh_token().is_some(),
                continuity = ?continuity,
                "refresh"
            ),
            Err(e) => tracing::info!(
                target: LOG_TARGET,
                %host,
                outcome = e.fault().as_str(),
                transport_kind = ?transport_kind(e),
                oauth_error = e.oauth_error_code().unwrap_or(""),
                status = e.status().map_or(0, |s| s.as_u16()),
                rotated = e.rotated_refresh_token().is_some(),
                "refresh failed"
            ),
        }
        outcome
    }
}

/// One refresh-token grant with a default [`Transport`], built on first use and shared
/// by every later call. Never retries.
///
/// # Errors
///
/// As [`Transport::refresh_tokens_with_previous`]; also the errors of [`Transport::new`]
/// when the default transport cannot be built.
pub async fn refresh_tokens(client: &ClientConfig, params: &RefreshParams<'_>) -> Result<AuthResult, Error> {
    static DEFAULT: OnceLock<Transport> = OnceLock::new();
    let transport = match DEFAULT.get() {
        Some(transport) => transport,
        None => {
            let built = Transport::new(Options::default())?;
            DEFAULT.get_or_init(|| built)
        }
    };
    transport.refresh_tokens(client, params).await
}

/// The current time from the system clock, as the core's [`UnixTime`] (the epoch if the
/// clock is set before 1970).
#[must_use]
pub fn now() -> UnixTime {
    UnixTime::from_duration_since_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// Defense in depth: `https`, or `http` to a loopback host, and nothing else.
fn check_url(uri: &Uri) -> Result<(), ConfigError> {
    let host = uri.host().filter(|h| !h.is_empty()).ok_or(ConfigError::InvalidUrl { reason: "no host" })?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") => {
            if is_loopback_host(host) {
                Ok(())
            } else {
                Err(ConfigError::InsecureUrl)
            }
        }
        _ => Err(ConfigError::InvalidUrl { reason: "the scheme must be https (or http on loopback)" }),
    }
}

fn too_large(max_body: u64) -> Error {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the response body exceeds {max_body} bytes"),
    )
    .into()
}

/// Sorts a hyper-util client error into the core's transport classes.
fn map_client_error(e: hyper_util::client::legacy::Error) -> Error {
    let mut kind = if e.is_connect() { TransportErrorKind::Connect } else { TransportErrorKind::Other };
    for cause in causes(&e) {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            kind = TransportErrorKind::Tls;
            break;
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::TimedOut => kind = TransportErrorKind::Timeout,
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
                    if !e.is_connect() =>
                {
                    kind = TransportErrorKind::Interrupted;
                }
                _ => {}
            }
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>()
            && !e.is_connect()
            && kind == TransportErrorKind::Other
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed() || h.is_body_write_aborted())
        {
            kind = TransportErrorKind::Interrupted;
        }
    }
    TransportError::new(kind, e).into()
}

/// The error and its causes, looking inside `io::Error`s too (whose `source` skips the
/// error they wrap, where rustls' errors hide).
fn causes<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&cur| match cur.downcast_ref::<io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => cur.source(),
    })
    .take(32)
}

fn transport_kind(e: &Error) -> Option<TransportErrorKind> {
    match e {
        Error::Transport(t) => Some(t.kind()),
        _ => None,
    }
}
