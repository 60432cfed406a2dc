//! [`Transport`]: one exchange with hyper on tokio, and the one-shot calls built on it.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderValue, USER_AGENT};
use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body as _;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use oidc_refresh_core::ProviderMetadata;
use oidc_refresh_core::{
    AuthResult, ClientConfig, ConfigError, Continuity, Error, IdTokenPayload, RefreshParams, RefreshToken,
    TransportError, TransportErrorKind, parse_endpoint,
};
use oidc_refresh_driver::asynchronous::{self, AsyncExchange};
use oidc_refresh_driver::{Options, SystemClock, log, refusal};

use crate::connect::Connector;
use crate::error::from_client;

/// Sent when the request has no `User-Agent` of its own.
const DEFAULT_USER_AGENT: &str = concat!("oidc-refresh/", env!("CARGO_PKG_VERSION"), " (hyper)");

/// An async HTTP transport for the core's requests: hyper, rustls, tokio.
///
/// Cheap to clone (the clones share the TLS configuration); `Send + Sync`. `Debug` shows the
/// options and whether a proxy is configured, never proxy credentials.
#[derive(Clone)]
pub struct Transport {
    client: Client<HttpsConnector<Connector>, Full<Bytes>>,
    proxied: bool,
    options: Options,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport").field("options", &self.options).field("proxy", &self.proxied).finish()
    }
}

/// rustls with *ring*, the crypto provider every crate of this workspace links. (rustls
/// 0.23.48 deprecates *ring*'s provider because it has no post-quantum key exchange; that
/// needs aws-lc-rs, a far heavier build.)
#[allow(deprecated)]
fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

impl Transport {
    /// A transport with `options`. Works inside or outside a tokio runtime; using it needs
    /// one. The environment's proxy, if used, is read now.
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
        for (i, der) in options.root_certificates_der().iter().enumerate() {
            roots
                .add(der.as_slice().into())
                .map_err(|_| ConfigError::InvalidRootCertificate { index: i + 1 })?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.get_connect_timeout()));
        http.set_nodelay(true);
        let connector = Connector::new(http, options.get_proxy_from_env());
        let proxied = connector.has_proxy();
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);

        let client = Client::builder(TokioExecutor::new())
            // No pool: one connection per exchange, closed at its end (see the crate docs).
            .pool_max_idle_per_host(0)
            // Never resend a request, not even one hyper believes was never written.
            .retry_canceled_requests(false)
            .build(https);
        Ok(Self { client, proxied, options })
    }

    /// The options this transport was built with.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Sends one request and returns the response with its whole body, whatever its status
    /// (other than a redirect, which is refused).
    ///
    /// The request's URL must be one the core's [`parse_endpoint`] accepts: `https`, or
    /// `http` to a loopback host. A `User-Agent` is added when the request has none; `Host`
    /// and `Content-Length` are set by hyper.
    ///
    /// # Errors
    ///
    /// - [`Error::Config`]: [`ConfigError::InsecureUrl`] for `http` to a host that is not
    ///   loopback, [`ConfigError::InvalidUrl`] for any other URL [`parse_endpoint`] refuses.
    ///   Nothing is sent.
    /// - [`Error::Transport`], by [`TransportErrorKind`]: `Connect` (refused, unreachable,
    ///   DNS, the proxy), `Timeout` (the total deadline or the connect timeout), `Tls`,
    ///   `Redirect` (any 3xx), `BodyTooLarge`, `Interrupted` (the connection broke before the
    ///   response was complete), `Other`.
    pub async fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        parse_endpoint(&request.uri().to_string())?;
        let host = request.uri().host().unwrap_or_default().to_owned();
        log::exchange_started(&host, request.method());
        let (mut parts, body) = request.into_parts();
        parts.headers.entry(USER_AGENT).or_insert(HeaderValue::from_static(DEFAULT_USER_AGENT));
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));

        let started = Instant::now();
        let timeout = self.options.get_timeout();
        let outcome = match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete response within the deadline of {timeout:?}"),
            )
            .into()),
        };
        log::exchange_ended(&host, &outcome, started.elapsed());
        outcome
    }

    /// The exchange without its deadline: send, refuse redirects, collect the capped body.
    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Response<Vec<u8>>, Error> {
        let response = self.client.request(request).await.map_err(from_client)?;
        let status = response.status();
        if status.is_redirection() {
            // Dropped unread: the connection closes with it.
            return Err(refusal::redirect(status, response.headers().contains_key("location")));
        }
        let (parts, body) = response.into_parts();
        let max_body = self.options.get_max_body();
        // A declared Content-Length over the cap fails without reading the body.
        if body.size_hint().lower() > max_body {
            return Err(refusal::body_too_large(max_body));
        }
        let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
        let collected = Limited::new(body, limit).collect().await.map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                refusal::body_too_large(max_body)
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
    /// As [`asynchronous::discover`]: [`Error::Config`] for an unusable issuer URL; the
    /// errors of [`execute`](Self::execute); [`Error::Protocol`] when the document is not a
    /// 2xx JSON object naming exactly this issuer and a usable token endpoint.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, Error> {
        asynchronous::discover(self, issuer).await
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
    /// and checks the response against the client, the issuer and `previous_id_token`
    /// (OIDC Core §12.2), at the system clock's time. Never retries.
    ///
    /// # Errors
    ///
    /// As [`asynchronous::refresh_tokens`]: [`Error::Config`] (nothing was sent),
    /// [`Error::Transport`], [`Error::Server`] (an OAuth error), [`Error::Protocol`] (a
    /// response that breaks the protocol), [`Error::IdToken`] (validation or continuity).
    /// A protocol or ID-token error may hold a rotated refresh token
    /// ([`Error::rotated_refresh_token`]): store it, the one that was sent is spent.
    pub async fn refresh_tokens_with_previous(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous_id_token: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        asynchronous::refresh_tokens(self, &SystemClock, client, params, previous_id_token).await
    }

    /// Revokes `refresh_token` (RFC 7009) at `revocation_endpoint` (the discovery document's
    /// [`revocation_endpoint`](ProviderMetadata::revocation_endpoint)): one request, the
    /// client authenticated as for a refresh; any 200 is success. To revoke a store's
    /// refresh token and clear the store in one call, use [`TokenManager::revoke`](
    /// oidc_refresh_driver::asynchronous::TokenManager::revoke).
    ///
    /// # Errors
    ///
    /// As [`asynchronous::revoke`]: [`Error::Config`] (nothing was sent), the errors of
    /// [`execute`](Self::execute), [`Error::Server`] for an OAuth error, [`Error::Protocol`]
    /// for any other answer than 200.
    pub async fn revoke(
        &self,
        client: &ClientConfig,
        revocation_endpoint: &str,
        refresh_token: &RefreshToken,
    ) -> Result<(), Error> {
        asynchronous::revoke(self, client, revocation_endpoint, refresh_token).await
    }
}

impl AsyncExchange for Transport {
    fn execute(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, Error>> + Send {
        Transport::execute(self, request)
    }
}

/// One refresh-token grant with a default [`Transport`], built on first use and shared by
/// every later call. Never retries.
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
