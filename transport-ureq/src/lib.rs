//! The blocking transport of [oidc-refresh]: sends the requests that the sans-IO
//! [`oidc_refresh_core`] builds, with [ureq], and hands the responses back to the core.
//!
//! **What it does.** [`Transport::refresh_tokens`] is the Rust form of ReachFive's
//! `client.refreshTokens({ refreshToken, scope })`: the core builds the request, this crate
//! sends it once, and the core parses and validates the answer. [`Transport::discover`]
//! reads an issuer's OpenID discovery document and yields a configured client. Every
//! exchange, through one reusable, cheaply cloned [`Transport`]:
//!
//! - uses TLS with rustls and Mozilla's root certificates (webpki-roots), plus any extra
//!   roots you trust ([`Options::add_root_certificate_der`], for a corporate CA); no
//!   OpenSSL, no native-tls;
//! - sends plain `http` only to a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`);
//! - never follows a redirect: any 3xx, with or without `Location`, is
//!   [`TransportErrorKind::Redirect`];
//! - caps the response body ([`Options::max_body`], default 1 MiB; a body of exactly the cap
//!   passes), counted after transfer decoding; no content encoding is asked for;
//! - has one deadline for the whole exchange, connect, send and receive
//!   ([`Options::timeout`], default 30 s), and a connect timeout (default 10 s);
//! - goes through the proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY` (honouring
//!   `NO_PROXY`) unless [`Options::proxy_from_env`] turns that off; a loopback host is always
//!   reached directly, so plain http never leaves the machine;
//! - emits the `tracing` events of [`oidc_refresh_driver::log`] (target `oidc_refresh`): the
//!   endpoint's host, the outcome class, whether the refresh token rotated; never a token, a
//!   secret or a body.
//!
//! [`TokenManager`] hands out valid access tokens to any number of threads through this
//! transport: the driver's [blocking manager](oidc_refresh_driver::blocking::TokenManager).
//!
//! **What it does not do.** It never retries: a refresh token may be single-use, so whether
//! to send it again is the caller's decision ([`Error::is_retryable`] helps). It builds,
//! parses and validates nothing itself: that is the core's job, identical for every
//! transport. It stores no tokens and verifies no ID-token signatures (ID tokens come straight
//! from the token endpoint over TLS, where OIDC Core §3.1.3.7 allows that).
//!
//! Errors are [`oidc_refresh_core::Error`], so [`Error::fault`],
//! [`Error::is_reauth_required`] and [`Error::is_retryable`] work the same whichever
//! transport produced them; network failures are [`Error::Transport`] with a
//! [`TransportErrorKind`].
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use oidc_refresh_core::{RefreshParams, RefreshToken};
//! use oidc_refresh_ureq::{Options, Transport};
//!
//! let transport = Transport::new(Options::default().timeout(Duration::from_secs(10)))?;
//! let client = transport.discover("https://id.example")?.client("my-app")?;
//! let refresh_token = RefreshToken::new("rt-1");
//!
//! match transport.refresh_tokens(&client, &RefreshParams::new(&refresh_token).scope("openid")) {
//!     Ok(result) => {
//!         // Store the rotated refresh token *before* using the access token.
//!         let next = result.refresh_token().unwrap_or(&refresh_token);
//!         let _ = (next, result.access_token());
//!     }
//!     Err(e) if e.is_reauth_required() => { /* invalid_grant: sign the user in again */ }
//!     Err(e) if e.is_retryable() => { /* later, with the same refresh token */ }
//!     Err(mut e) => {
//!         // A response that rotated the token but is otherwise unusable still hands the new
//!         // refresh token over: store it, the old one is spent.
//!         if let Some(rotated) = e.take_rotated_refresh_token() {
//!             let _ = rotated;
//!         }
//!         return Err(e.into());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [oidc-refresh]: https://docs.rs/oidc-refresh
//! [ureq]: https://docs.rs/ureq

#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use oidc_refresh_core::ProviderMetadata;
use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{
    AuthResult, ClientConfig, ConfigError, Continuity, Error, IdTokenPayload, RefreshParams, RefreshToken,
    TransportError, TransportErrorKind, is_loopback_host, parse_endpoint,
};
pub use oidc_refresh_driver::Options;
use oidc_refresh_driver::blocking::{self, Exchange};
use oidc_refresh_driver::{SystemClock, log, refusal};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("oidc-refresh/", env!("CARGO_PKG_VERSION"), " (ureq)");

/// Hands out valid access tokens to any number of threads through this transport: the
/// driver's [blocking manager](oidc_refresh_driver::blocking::TokenManager), whose docs say
/// everything; `S` is the store, `C` the clock.
///
/// ```no_run
/// use oidc_refresh_core::ClientConfig;
/// use oidc_refresh_driver::store::FileStore;
/// use oidc_refresh_ureq::{Options, TokenManager, Transport};
///
/// let transport = Transport::new(Options::default())?;
/// let client = ClientConfig::new("https://id.example/token", "my-app")?;
/// let manager = TokenManager::new(transport, client, FileStore::new("tokens.json"));
/// let token = manager.access_token()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type TokenManager<S, C = SystemClock> = blocking::TokenManager<Transport, S, C>;

/// A reusable blocking HTTP client for token and discovery endpoints.
///
/// Cloning is cheap and clones share the connection pool. Its `Debug` shows the options and
/// the proxy's host, never proxy credentials.
#[derive(Clone)]
pub struct Transport {
    agent: ureq::Agent,
    options: Options,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = self.agent.config().proxy().map(|p| format!("{}:{}", p.host(), p.port()));
        f.debug_struct("Transport").field("options", &self.options).field("proxy", &proxy).finish()
    }
}

impl Transport {
    /// A transport with `options`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::InvalidRootCertificate`] when an extra root
    /// certificate is not a parsable DER X.509 certificate (nothing is sent).
    pub fn new(options: Options) -> Result<Self, Error> {
        if options.root_certificates_der().is_empty() {
            return Ok(Self::build(options, RootCerts::WebPki));
        }
        let mut check = rustls::RootCertStore::empty();
        for (i, der) in options.root_certificates_der().iter().enumerate() {
            check
                .add(rustls::pki_types::CertificateDer::from(der.as_slice()))
                .map_err(|_| ConfigError::InvalidRootCertificate { index: i + 1 })?;
        }
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| Certificate::from_der(c));
        let extra = options.root_certificates_der().iter().map(|der| Certificate::from_der(der).to_owned());
        let roots = RootCerts::Specific(Arc::new(mozilla.chain(extra).collect()));
        Ok(Self::build(options, roots))
    }

    fn build(options: Options, roots: RootCerts) -> Self {
        let tls = TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(roots).build();
        let proxy = if options.get_proxy_from_env() { ureq::Proxy::try_from_env() } else { None };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(options.get_timeout()))
            .timeout_connect(Some(options.get_connect_timeout()))
            .tls_config(tls)
            .proxy(proxy)
            .user_agent(USER_AGENT)
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .build();
        let agent = ureq::Agent::with_parts(config, DefaultConnector::default(), NameResolver::default());
        Self { agent, options }
    }

    /// The options this transport was built with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Sends one request and returns the response, whatever its status but 3xx, with the
    /// body read in full. Sends nothing for plain `http` to a host that is not loopback.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] with [`ConfigError::InsecureUrl`]
    /// or `InvalidUrl` for a URL that [`parse_endpoint`] refuses; [`Error::Transport`] with
    /// [`TransportErrorKind::Connect`], `Timeout` (the deadline passed), `Tls`, `Redirect`
    /// (any 3xx), `BodyTooLarge`, `Interrupted` (the connection broke mid-exchange) or `Other`.
    pub fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        parse_endpoint(&request.uri().to_string())?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        log::exchange_started(&host, request.method());
        let started = Instant::now();
        let outcome = self.exchange(request);
        log::exchange_ended(&host, &outcome, started.elapsed());
        outcome
    }

    fn exchange(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        let (mut parts, body) = request.into_parts();
        // A request-level ureq configuration riding in the extensions could lift the policy.
        parts.extensions.clear();
        let loopback = parts.uri.host().is_some_and(is_loopback_host);
        let response = if body.is_empty() {
            self.run(Request::from_parts(parts, ()), loopback)
        } else {
            self.run(Request::from_parts(parts, body), loopback)
        }
        .map_err(transport_error)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(refusal::redirect(status, response.headers().contains_key("location")));
        }
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(self.options.get_max_body())
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Response::from_parts(parts, body))
    }

    /// Runs one request; a loopback host is always reached directly, never through a proxy:
    /// plain http is allowed there only because it never leaves the machine.
    fn run<S: ureq::AsSendBody>(
        &self,
        request: Request<S>,
        loopback: bool,
    ) -> Result<Response<ureq::Body>, ureq::Error> {
        if loopback && self.agent.config().proxy().is_some() {
            self.agent.run(self.agent.configure_request(request).proxy(None).build())
        } else {
            self.agent.run(request)
        }
    }

    /// OpenID discovery: fetches `{issuer}/.well-known/openid-configuration` (a trailing `/`
    /// of `issuer` removed) and checks that the document names exactly `issuer` and an
    /// https (or loopback http) token endpoint. [`ProviderMetadata::client`] then gives a
    /// client whose ID tokens must name this issuer.
    ///
    /// # Errors
    ///
    /// As [`blocking::discover`]: [`Error::Config`] for an unusable issuer URL, the errors of
    /// [`execute`](Self::execute), and [`Error::Protocol`] for a document that is not a 2xx
    /// JSON object, names another issuer or lacks a usable token endpoint.
    pub fn discover(&self, issuer: &str) -> Result<ProviderMetadata, Error> {
        blocking::discover(self, issuer)
    }

    /// One refresh (RFC 6749 §6): builds the request, sends it once, parses the response and
    /// validates its ID token, if any, against `client` at the system clock's time.
    ///
    /// # Errors
    ///
    /// As [`blocking::refresh_tokens`]: [`Error::Config`] for a refresh token, scope or
    /// client the core refuses (nothing is sent), the errors of [`execute`](Self::execute),
    /// [`Error::Server`] for an OAuth error (`invalid_grant`:
    /// [`Error::is_reauth_required`]), [`Error::Protocol`] for a response that breaks the
    /// protocol, [`Error::IdToken`] for an ID token that fails validation. The last two may
    /// hold a rotated refresh token ([`Error::take_rotated_refresh_token`]): store it.
    pub fn refresh_tokens(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
    ) -> Result<AuthResult, Error> {
        self.refresh_tokens_with_previous(client, params, None).map(|(result, _)| result)
    }

    /// [`refresh_tokens`](Self::refresh_tokens) with the previous ID token's claims for the
    /// continuity checks of OIDC Core §12.2; the [`Continuity`] says whether they ran.
    ///
    /// # Errors
    ///
    /// As [`refresh_tokens`](Self::refresh_tokens), plus [`Error::IdToken`] when the new ID
    /// token breaks continuity with `previous_id_token`.
    pub fn refresh_tokens_with_previous(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous_id_token: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        blocking::refresh_tokens(self, &SystemClock, client, params, previous_id_token)
    }

    /// Revokes `refresh_token` (RFC 7009) at `revocation_endpoint` (the discovery document's
    /// [`revocation_endpoint`](ProviderMetadata::revocation_endpoint)): one request, the
    /// client authenticated as for a refresh; any 200 is success. To revoke a store's
    /// refresh token and clear the store in one call, use [`TokenManager::revoke`](
    /// oidc_refresh_driver::blocking::TokenManager::revoke).
    ///
    /// # Errors
    ///
    /// As [`blocking::revoke`]: [`Error::Config`] for an endpoint that is not https (plain
    /// http only to a loopback host) or a refresh token the core refuses (nothing is sent),
    /// the errors of [`execute`](Self::execute), [`Error::Server`] for an OAuth error,
    /// [`Error::Protocol`] for any other answer than 200.
    pub fn revoke(
        &self,
        client: &ClientConfig,
        revocation_endpoint: &str,
        refresh_token: &RefreshToken,
    ) -> Result<(), Error> {
        blocking::revoke(self, client, revocation_endpoint, refresh_token)
    }
}

impl Exchange for Transport {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        Transport::execute(self, request)
    }
}

/// One refresh through a default [`Transport`] ([`Options::default`]), built on first use
/// and shared by every later call: see [`Transport::refresh_tokens`].
///
/// # Errors
///
/// As [`Transport::refresh_tokens`].
pub fn refresh_tokens(client: &ClientConfig, params: &RefreshParams<'_>) -> Result<AuthResult, Error> {
    static DEFAULT: OnceLock<Transport> = OnceLock::new();
    DEFAULT
        .get_or_init(|| Transport::build(Options::default(), RootCerts::WebPki))
        .refresh_tokens(client, params)
}

/// Maps a ureq error to the core's transport error classes.
fn transport_error(e: ureq::Error) -> Error {
    use TransportErrorKind as K;
    let kind = match &e {
        ureq::Error::Timeout(_) => K::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::ConnectProxyFailed(_) => {
            K::Connect
        }
        ureq::Error::Io(io) => io_kind(io),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired => {
            K::Tls
        }
        ureq::Error::BodyExceedsLimit(_) => K::BodyTooLarge,
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => K::Redirect,
        _ => K::Other,
    };
    TransportError::new(kind, e).into()
}

fn io_kind(e: &io::Error) -> TransportErrorKind {
    use TransportErrorKind as K;
    use io::ErrorKind as Io;
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return K::Tls;
    }
    if e.get_ref().is_some_and(|inner| inner.is::<NameNotResolved>()) {
        return K::Connect;
    }
    match e.kind() {
        Io::TimedOut | Io::WouldBlock => K::Timeout,
        Io::ConnectionRefused | Io::HostUnreachable | Io::NetworkUnreachable | Io::AddrNotAvailable => {
            K::Connect
        }
        Io::UnexpectedEof | Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => K::Interrupted,
        _ => K::Other,
    }
}

/// ureq's resolver (the system's), whose failures say what they are: ureq reports the
/// system resolver's error as a bare `io::Error` of no particular kind, which would read as
/// [`TransportErrorKind::Other`]; a name that does not resolve is a connect failure
/// ([`TransportErrorKind::Connect`], retryable), as in the hyper transport.
#[derive(Debug, Default)]
struct NameResolver(DefaultResolver);

impl Resolver for NameResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout).map_err(|e| match e {
            ureq::Error::Io(cause) => {
                let host = uri.host().unwrap_or_default().to_owned();
                ureq::Error::Io(io::Error::new(cause.kind(), NameNotResolved { host, cause }))
            }
            e => e,
        })
    }
}

/// The system resolver's failure for `host`; the message names its cause (no `source`).
#[derive(Debug)]
struct NameNotResolved {
    host: String,
    cause: io::Error,
}

impl fmt::Display for NameNotResolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.cause)
    }
}

impl std::error::Error for NameNotResolved {}
