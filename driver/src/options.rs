//! [`Options`]: how a transport sends requests, the same for every transport.

use std::fmt;
use std::time::Duration;

/// How a transport sends requests: one deadline per exchange, a connect timeout, the cap on a
/// response body, extra trusted roots and whether to use the environment's proxy. Both
/// transports take these same options, with the same defaults.
///
/// ```
/// use std::time::Duration;
/// use oidc_refresh_driver::Options;
///
/// let options = Options::default().timeout(Duration::from_secs(5)).max_body(64 * 1024);
/// assert_eq!(options.get_timeout(), Duration::from_secs(5));
/// assert_eq!(options.get_connect_timeout(), Options::DEFAULT_CONNECT_TIMEOUT);
/// assert_eq!(options.get_max_body(), 65_536);
/// assert!(options.get_proxy_from_env());
/// ```
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct Options {
    timeout: Duration,
    connect_timeout: Duration,
    max_body: u64,
    extra_roots: Vec<Vec<u8>>,
    proxy_from_env: bool,
}

impl Default for Options {
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT),
    /// [`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT),
    /// [`DEFAULT_MAX_BODY`](Self::DEFAULT_MAX_BODY), Mozilla's roots only, the
    /// environment's proxy.
    fn default() -> Self {
        Self {
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            max_body: Self::DEFAULT_MAX_BODY,
            extra_roots: Vec::new(),
            proxy_from_env: true,
        }
    }
}

impl Options {
    /// The default deadline of one exchange: 30 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default connect timeout: 10 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default cap on a response body: 1 MiB.
    pub const DEFAULT_MAX_BODY: u64 = 1_048_576;

    /// The longest deadline and connect timeout a transport is given: 365 days. A longer
    /// one (up to [`Duration::MAX`], meaning "no deadline" in practice) is taken as this, so
    /// that a transport adding it to [`Instant::now`](std::time::Instant::now) cannot overflow.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

    /// Sets the one deadline of each exchange as a whole: connecting (DNS, TCP, proxy, TLS),
    /// sending, and receiving headers and the whole body. It is not reset by each byte.
    /// Capped at [`MAX_TIMEOUT`](Self::MAX_TIMEOUT).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.min(Self::MAX_TIMEOUT);
        self
    }

    /// Sets the connect timeout (DNS, TCP, proxy and TLS handshakes), within the deadline.
    /// Capped at [`MAX_TIMEOUT`](Self::MAX_TIMEOUT).
    #[must_use]
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout.min(Self::MAX_TIMEOUT);
        self
    }

    /// Sets the cap on a response body in bytes, counted after transfer decoding: a body of
    /// exactly `max_body` bytes passes, one more fails.
    #[must_use]
    pub fn max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    /// Trusts one more root certificate (DER-encoded X.509) beside Mozilla's roots, e.g. a
    /// corporate CA. A transport refuses, when it is built, a certificate it cannot parse.
    #[must_use]
    pub fn add_root_certificate_der(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(der);
        self
    }

    /// Whether to use the proxy named by the environment (`ALL_PROXY`, `HTTPS_PROXY`,
    /// `HTTP_PROXY`, and their lower-case forms, honouring `NO_PROXY`), read when the
    /// transport is built. On by default. Loopback hosts are always reached directly, so
    /// plain http (allowed only there) never leaves the machine.
    #[must_use]
    pub fn proxy_from_env(mut self, enabled: bool) -> Self {
        self.proxy_from_env = enabled;
        self
    }

    /// The deadline of one exchange.
    #[must_use]
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout.
    #[must_use]
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The cap on a response body, in bytes.
    #[must_use]
    pub fn get_max_body(&self) -> u64 {
        self.max_body
    }

    /// The extra trusted root certificates, DER-encoded, in the order they were added.
    #[must_use]
    pub fn root_certificates_der(&self) -> &[Vec<u8>] {
        &self.extra_roots
    }

    /// Whether the proxy named by the environment is used.
    #[must_use]
    pub fn get_proxy_from_env(&self) -> bool {
        self.proxy_from_env
    }
}

/// Shows the settings and how many extra roots there are, not their bytes.
impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_body", &self.max_body)
            .field("extra_root_certificates", &self.extra_roots.len())
            .field("proxy_from_env", &self.proxy_from_env)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_builder() {
        let o = Options::default();
        assert_eq!(o.get_timeout(), Duration::from_secs(30));
        assert_eq!(o.get_connect_timeout(), Duration::from_secs(10));
        assert_eq!(o.get_max_body(), 1_048_576);
        assert!(o.get_proxy_from_env());
        assert!(o.root_certificates_der().is_empty());

        let o = o
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(1))
            .max_body(10)
            .add_root_certificate_der(vec![1, 2, 3])
            .proxy_from_env(false);
        assert_eq!(o.get_timeout(), Duration::from_secs(3));
        assert_eq!(o.get_connect_timeout(), Duration::from_secs(1));
        assert_eq!(o.get_max_body(), 10);
        assert!(!o.get_proxy_from_env());
        assert_eq!(o.root_certificates_der(), [vec![1, 2, 3]]);
        let shown = format!("{o:?}");
        assert!(shown.contains("extra_root_certificates: 1") && !shown.contains("[1, 2, 3]"), "{shown}");
    }

    #[test]
    fn huge_timeouts_are_capped() {
        let o = Options::default().timeout(Duration::MAX).connect_timeout(Duration::MAX);
        assert_eq!(o.get_timeout(), Options::MAX_TIMEOUT);
        assert_eq!(o.get_connect_timeout(), Options::MAX_TIMEOUT);
        assert!(std::time::Instant::now().checked_add(o.get_timeout()).is_some());
    }
}
