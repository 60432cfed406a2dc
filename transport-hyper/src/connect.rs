//! [`Connector`]: opens the TCP connection of an exchange, directly or through the
//! environment's proxy (an HTTP `CONNECT` tunnel), never through a proxy to a loopback host.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use oidc_refresh_core::is_loopback_host;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The TCP side of the transport's connector (TLS is layered on top by hyper-rustls).
#[derive(Clone)]
pub(crate) struct Connector {
    http: HttpConnector,
    /// The environment's proxy rules, read when the transport was built.
    proxy: Option<Arc<Matcher>>,
}

impl Connector {
    pub(crate) fn new(http: HttpConnector, proxy_from_env: bool) -> Self {
        Self { http, proxy: proxy_from_env.then(|| Arc::new(Matcher::from_env())) }
    }

    /// The proxy a request to `dst` goes through, if any: never for a loopback host.
    fn proxy_for(&self, dst: &Uri) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        let host = dst.host()?;
        if is_loopback_host(host) {
            return None;
        }
        self.proxy.as_ref()?.intercept(dst)
    }

    /// Whether any proxy is configured (for `Debug`).
    pub(crate) fn has_proxy(&self) -> bool {
        let probe = Uri::from_static("https://proxy-probe.invalid/");
        self.proxy.as_ref().is_some_and(|m| m.intercept(&probe).is_some())
    }
}

impl Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match self.proxy_for(&dst) {
            None => {
                let mut http = self.http.clone();
                Box::pin(async move { http.call(dst).await.map_err(Into::into) })
            }
            Some(proxy) if proxy.uri().scheme_str() != Some("http") => {
                Box::pin(async move { Err("only http:// proxies are supported (CONNECT)".into()) })
            }
            Some(proxy) => {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), self.http.clone());
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                Box::pin(async move { tunnel.call(dst).await.map_err(Into::into) })
            }
        }
    }
}
