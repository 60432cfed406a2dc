//! [`ClientConfig`]: where to send refresh requests, as whom, and in which body format.

use std::fmt;
use std::time::Duration;

use http::Uri;

use crate::error::ConfigError;
use crate::secret::ClientSecret;

/// How the client authenticates at the token endpoint (RFC 6749 §2.3, OIDC Core §9).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, no secret (`none`).
    None,
    /// `client_secret_basic`: HTTP Basic with the id and secret each form-urlencoded before
    /// base64 (RFC 6749 §2.3.1). `client_id` is not repeated in the body.
    ClientSecretBasic(ClientSecret),
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    ClientSecretPost(ClientSecret),
}

impl ClientAuth {
    /// The secret, if this method uses one.
    #[must_use]
    pub fn secret(&self) -> Option<&ClientSecret> {
        match self {
            ClientAuth::None => None,
            ClientAuth::ClientSecretBasic(s) | ClientAuth::ClientSecretPost(s) => Some(s),
        }
    }
}

/// The encoding of the request body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`, as RFC 6749 §6 requires (the default).
    #[default]
    Form,
    /// `application/json;charset=UTF-8`, as ReachFive's SDKs send it.
    Json,
}

/// A configured client: token endpoint, client id, authentication and body format.
///
/// Built once, then used for every refresh request. The token endpoint must be `https`,
/// except on a loopback host (RFC 6749 §3.2; R8 https-except-loopback).
///
/// ```
/// use oidc_refresh_core::{BodyFormat, ClientAuth, ClientConfig, ClientSecret};
///
/// let generic = ClientConfig::new("https://id.example/token", "my-app")?
///     .with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("s3cret")));
/// assert_eq!(generic.body_format(), BodyFormat::Form);
///
/// let reachfive = ClientConfig::reachfive("acme.reach5.net", "my-app")?;
/// assert_eq!(reachfive.token_endpoint().to_string(), "https://acme.reach5.net/oauth/token");
/// assert_eq!(reachfive.body_format(), BodyFormat::Json);
///
/// assert!(ClientConfig::new("http://id.example/token", "my-app").is_err());
/// assert!(ClientConfig::new("http://127.0.0.1:8080/token", "my-app").is_ok());
/// # Ok::<(), oidc_refresh_core::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    token_endpoint: Uri,
    client_id: String,
    auth: ClientAuth,
    body_format: BodyFormat,
    issuer: Option<String>,
    leeway: Duration,
}

impl ClientConfig {
    /// The default leeway for an ID token's `exp` and `iat`: 60 s.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

    /// A public client (`ClientAuth::None`) sending form bodies to `token_endpoint`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] for anything but an absolute `http`/`https` URL without
    /// credentials or fragment, [`ConfigError::InsecureUrl`] for plain http to a host that is
    /// not loopback, [`ConfigError::InvalidClientId`] for an empty id or one with control
    /// characters.
    pub fn new(token_endpoint: &str, client_id: impl Into<String>) -> Result<Self, ConfigError> {
        let token_endpoint = parse_endpoint(token_endpoint)?;
        let client_id = client_id.into();
        check_client_id(&client_id)?;
        Ok(Self {
            token_endpoint,
            client_id,
            auth: ClientAuth::None,
            body_format: BodyFormat::Form,
            issuer: None,
            leeway: Self::DEFAULT_LEEWAY,
        })
    }

    /// The ReachFive profile: `https://DOMAIN/oauth/token`, JSON bodies, a public client.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] when `domain` is not a bare host (with optional port),
    /// and the errors of [`new`](Self::new).
    pub fn reachfive(domain: &str, client_id: impl Into<String>) -> Result<Self, ConfigError> {
        if domain.is_empty() || domain.contains(['/', '?', '#', '@']) || domain.contains(char::is_whitespace)
        {
            return Err(ConfigError::InvalidUrl {
                reason: "a ReachFive domain is a bare host name, like acme.reach5.net",
            });
        }
        Ok(Self::new(&format!("https://{domain}/oauth/token"), client_id)?.with_body_format(BodyFormat::Json))
    }

    /// Sets the client authentication.
    ///
    /// Panics never; a secret with control characters is rejected when a request is built.
    #[must_use]
    pub fn with_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the body format.
    #[must_use]
    pub fn with_body_format(mut self, body_format: BodyFormat) -> Self {
        self.body_format = body_format;
        self
    }

    /// Sets the issuer that every ID token's `iss` must equal (from `--issuer` or discovery).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the tolerance for ID-token `exp` and `iat` against the caller's clock
    /// (default 60 s). Clock skew for the access token's lifetime is a separate setting of
    /// the session.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The ID-token leeway.
    #[must_use]
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// The token endpoint.
    #[must_use]
    pub fn token_endpoint(&self) -> &Uri {
        &self.token_endpoint
    }
    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The client authentication.
    #[must_use]
    pub fn auth(&self) -> &ClientAuth {
        &self.auth
    }
    /// The body format.
    #[must_use]
    pub fn body_format(&self) -> BodyFormat {
        self.body_format
    }
    /// The expected issuer, if configured.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// What ID tokens are checked against: this client id, the configured issuer and the
    /// leeway.
    #[must_use]
    pub fn expectations(&self) -> Expectations {
        Expectations { client_id: self.client_id.clone(), issuer: self.issuer.clone(), leeway: self.leeway }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("token_endpoint", &self.token_endpoint.to_string())
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field("body_format", &self.body_format)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .finish()
    }
}

fn check_client_id(id: &str) -> Result<(), ConfigError> {
    if id.is_empty() {
        return Err(ConfigError::InvalidClientId { reason: "empty" });
    }
    if id.chars().any(char::is_control) {
        return Err(ConfigError::InvalidClientId { reason: "contains a control character" });
    }
    Ok(())
}

pub(crate) fn check_client_secret(secret: &ClientSecret) -> Result<(), ConfigError> {
    if secret.is_empty() {
        return Err(ConfigError::InvalidClientSecret { reason: "empty" });
    }
    if secret.expose_secret().chars().any(char::is_control) {
        return Err(ConfigError::InvalidClientSecret { reason: "contains a control character" });
    }
    Ok(())
}

/// Parses an endpoint URL (token endpoint, issuer, discovery URL) and enforces
/// R8 https-except-loopback: absolute `https`, or plain `http` to a loopback host only; no
/// credentials, no fragment; a port, when present, in 1..=65535 (`http::Uri` alone would take
/// `:99999` as no port at all, and so the scheme's default).
///
/// ```
/// use oidc_refresh_core::{parse_endpoint, ConfigError};
///
/// assert!(parse_endpoint("https://id.example/o/token").is_ok());
/// assert!(parse_endpoint("http://localhost:3000/token").is_ok());
/// assert!(parse_endpoint("http://[::1]/token").is_ok());
/// assert_eq!(parse_endpoint("http://10.0.0.1/token"), Err(ConfigError::InsecureUrl));
/// assert!(parse_endpoint("https://user:pw@id.example/token").is_err());
/// assert!(parse_endpoint("http://127.0.0.1:99999/token").is_err());
/// ```
///
/// # Errors
///
/// [`ConfigError::InvalidUrl`] or [`ConfigError::InsecureUrl`].
pub fn parse_endpoint(url: &str) -> Result<Uri, ConfigError> {
    if url.contains('#') {
        return Err(ConfigError::InvalidUrl { reason: "a fragment is not allowed" });
    }
    let uri: Uri = url.parse().map_err(|_| ConfigError::InvalidUrl { reason: "not a valid absolute URL" })?;
    let scheme = uri.scheme_str().ok_or(ConfigError::InvalidUrl { reason: "not an absolute URL" })?;
    let authority = uri.authority().ok_or(ConfigError::InvalidUrl { reason: "no host" })?;
    if authority.as_str().contains('@') {
        return Err(ConfigError::InvalidUrl { reason: "credentials in the URL are not allowed" });
    }
    if authority.host().is_empty() {
        return Err(ConfigError::InvalidUrl { reason: "no host" });
    }
    check_port(authority.as_str())?;
    if scheme.eq_ignore_ascii_case("https") {
        Ok(uri)
    } else if scheme.eq_ignore_ascii_case("http") {
        if is_loopback_host(authority.host()) { Ok(uri) } else { Err(ConfigError::InsecureUrl) }
    } else {
        Err(ConfigError::InvalidUrl { reason: "the scheme must be https (or http on loopback)" })
    }
}

/// The port of `authority` (`host[:port]`, the host possibly a bracketed IPv6 address), when
/// present, must be a decimal number in 1..=65535. `http::Uri` accepts `:99999` (and then
/// reports no port, so that a client would use the scheme's default) and `:0`: both are
/// refused here, as is an empty port (`host:`).
fn check_port(authority: &str) -> Result<(), ConfigError> {
    let after_host = authority.rfind(']').map_or(authority, |i| &authority[i + 1..]);
    let Some((_, port)) = after_host.rsplit_once(':') else { return Ok(()) };
    if port.is_empty() {
        return Err(ConfigError::InvalidUrl { reason: "an empty port" });
    }
    match port.bytes().all(|b| b.is_ascii_digit()).then(|| port.parse::<u16>()) {
        Some(Ok(1..)) => Ok(()),
        Some(Ok(0)) => Err(ConfigError::InvalidUrl { reason: "port 0 is not a port to connect to" }),
        _ => Err(ConfigError::InvalidUrl { reason: "the port must be a number from 1 to 65535" }),
    }
}

/// Whether `host` is loopback, decided without a DNS lookup: a literal address in
/// `127.0.0.0/8`, `::1` (bracketed or not), or the name `localhost` in any case.
///
/// ```
/// use oidc_refresh_core::is_loopback_host;
/// assert!(is_loopback_host("127.8.9.10"));
/// assert!(is_loopback_host("[::1]"));
/// assert!(is_loopback_host("LocalHost"));
/// assert!(!is_loopback_host("localhost.example"));
/// assert!(!is_loopback_host("127.1"));
/// ```
#[must_use]
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(v6) = unbracketed.parse::<core::net::Ipv6Addr>() {
        return v6 == core::net::Ipv6Addr::LOCALHOST;
    }
    host.parse::<core::net::Ipv4Addr>().is_ok_and(|v4| v4.octets()[0] == 127)
}

/// What an ID token is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectations {
    /// The client id, which `aud` must contain (and `azp` equal, with several audiences).
    pub client_id: String,
    /// The issuer `iss` must equal, when known (from `--issuer` or discovery).
    pub issuer: Option<String>,
    /// Tolerance for `exp` and `iat` against the caller's clock (default 60 s).
    pub leeway: Duration,
}

impl Expectations {
    /// Expectations for `client_id`, no issuer, the default 60 s leeway.
    #[must_use]
    pub fn new(client_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), issuer: None, leeway: Duration::from_secs(60) }
    }

    /// Sets the expected issuer.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the leeway.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        for ok in [
            "https://id.example/token",
            "HTTPS://id.example/token",
            "https://id.example:8443/o/oauth2/token?tenant=a",
            "http://127.0.0.1/token",
            "http://127.255.0.1:9/token",
            "http://LOCALHOST:80/token",
            "http://[::1]:8080/token",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for (bad, want) in [
            ("http://id.example/token", ConfigError::InsecureUrl),
            ("http://128.0.0.1/token", ConfigError::InsecureUrl),
            ("http://[::2]/token", ConfigError::InsecureUrl),
            ("http://localhost.evil.example/token", ConfigError::InsecureUrl),
            ("http://0x7f000001/token", ConfigError::InsecureUrl),
        ] {
            assert_eq!(parse_endpoint(bad), Err(want), "{bad}");
        }
        for bad in [
            "",
            "/token",
            "id.example/token",
            "ftp://id.example/x",
            "https://a:b@id.example/",
            "https://id.example/t#f",
            "https:///token",
        ] {
            assert!(matches!(parse_endpoint(bad), Err(ConfigError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn a_port_present_is_1_to_65535() {
        for ok in [
            "https://id.example:1/t",
            "https://id.example:443/t",
            "https://id.example:65535/t",
            "http://127.0.0.1:08080/t",
            "http://[::1]:65535/t",
            "https://[2001:db8::1]/t",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:99999/token",
            "https://127.0.0.1:99999/",
            "https://id.example:65536/t",
            "https://id.example:0/t",
            "https://id.example:00/t",
            "https://id.example:/t",
            "http://[::1]:99999/t",
            "http://[::1]:/t",
            "https://id.example:18446744073709551616/t",
            "http://10.0.0.1:99999/t",
        ] {
            let got = parse_endpoint(bad);
            assert!(matches!(got, Err(ConfigError::InvalidUrl { .. })), "{bad}: {got:?}");
        }
        let shown = parse_endpoint("https://id.example:70000/t").err().map(|e| e.to_string());
        assert_eq!(shown.as_deref(), Some("invalid URL: the port must be a number from 1 to 65535"));
        for bad in ["", "0", "99999"].map(|p| format!("acme.reach5.net:{p}")) {
            assert!(ClientConfig::reachfive(&bad, "id").is_err(), "{bad}");
        }
        assert!(ClientConfig::reachfive("acme.reach5.net:8443", "id").is_ok());
        assert!(ClientConfig::new("http://127.0.0.1:99999/token", "id").is_err());
    }

    #[test]
    fn client_id_and_reachfive_domain_rules() {
        assert!(ClientConfig::new("https://a.example/t", "").is_err());
        assert!(ClientConfig::new("https://a.example/t", "a\nb").is_err());
        assert!(ClientConfig::reachfive("acme.reach5.net/x", "id").is_err());
        assert!(ClientConfig::reachfive("https://acme.reach5.net", "id").is_err());
        assert!(ClientConfig::reachfive("", "id").is_err());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = ClientConfig::new("https://a.example/t", "app")
            .map(|c| c.with_auth(ClientAuth::ClientSecretPost(ClientSecret::new("hunter2-secret"))));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app"));
    }
}
