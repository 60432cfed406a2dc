//! OpenID Connect Discovery 1.0: the request for `{issuer}/.well-known/openid-configuration`
//! and the checks on its answer.

use http::header::ACCEPT;
use http::{HeaderValue, Method, Request, Response, Uri};

#[cfg(feature = "verify")]
use crate::alg::Algorithm;
use crate::config::{ClientConfig, parse_endpoint};
use crate::error::{ConfigError, Error, ProtocolError, ProtocolErrorKind};
use crate::json;
use crate::redact::sanitize;
#[cfg(feature = "verify")]
use crate::verify::{KeySetCache, check_jwks_uri};

/// What this crate uses from a discovery document. Other metadata, such as
/// `grant_types_supported`, is informative and never a reason to refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderMetadata {
    issuer: String,
    token_endpoint: Uri,
    jwks_uri: Option<String>,
    revocation_endpoint: Option<String>,
    id_token_algs: Vec<String>,
}

impl ProviderMetadata {
    /// The issuer, equal to the one asked for.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The token endpoint (https, or http on loopback).
    #[must_use]
    pub fn token_endpoint(&self) -> &Uri {
        &self.token_endpoint
    }
    /// `jwks_uri`, as given.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// `revocation_endpoint` (RFC 8414 §2), as given: check it with
    /// [`build_revocation_request`](crate::build_revocation_request), which refuses one that
    /// is not https (plain http only to a loopback host).
    #[must_use]
    pub fn revocation_endpoint(&self) -> Option<&str> {
        self.revocation_endpoint.as_deref()
    }

    /// `id_token_signing_alg_values_supported`, as given (empty when absent).
    #[must_use]
    pub fn id_token_signing_alg_values_supported(&self) -> &[String] {
        &self.id_token_algs
    }

    /// A cache for the key set at `jwks_uri`, accepting only the signing algorithms the
    /// provider lists in `id_token_signing_alg_values_supported` (all of
    /// [`Algorithm::ALL`] when it lists none this crate knows): what a session needs to
    /// verify ID tokens ([`Session::with_key_set_cache`](crate::Session::with_key_set_cache)).
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] with [`ProtocolErrorKind::Discovery`] when the document has no
    /// `jwks_uri`, or one that is not https (plain http only to a loopback host).
    #[cfg(feature = "verify")]
    pub fn key_set_cache(&self) -> Result<KeySetCache, Error> {
        let Some(uri) = &self.jwks_uri else {
            let reason = "no `jwks_uri` to verify ID tokens with".to_owned();
            return Err(ProtocolError::new(ProtocolErrorKind::Discovery { reason }).into());
        };
        let cache = KeySetCache::new(check_jwks_uri(uri)?);
        let algorithms: Vec<Algorithm> =
            self.id_token_algs.iter().filter_map(|name| Algorithm::from_name(name)).collect();
        Ok(if algorithms.is_empty() { cache } else { cache.with_algorithms(algorithms) })
    }

    /// A public client of this provider whose ID tokens must name this issuer.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClientId`] for an empty client id or one with control
    /// characters.
    pub fn client(&self, client_id: impl Into<String>) -> Result<ClientConfig, ConfigError> {
        Ok(ClientConfig::new(&self.token_endpoint.to_string(), client_id)?.with_issuer(self.issuer.clone()))
    }
}

/// The discovery URL of `issuer`: the issuer without a trailing `/`, then
/// `/.well-known/openid-configuration`.
///
/// ```
/// use oidc_refresh_core::discovery_url;
/// assert_eq!(discovery_url("https://id.example/o/")?, "https://id.example/o/.well-known/openid-configuration");
/// # Ok::<(), oidc_refresh_core::ConfigError>(())
/// ```
///
/// # Errors
///
/// The errors of [`parse_endpoint`] for the issuer URL.
pub fn discovery_url(issuer: &str) -> Result<Uri, ConfigError> {
    if issuer.contains('?') {
        return Err(ConfigError::InvalidUrl { reason: "an issuer has no query" });
    }
    parse_endpoint(issuer)?;
    parse_endpoint(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')))
}

/// The `GET` request for the discovery document of `issuer`.
///
/// # Errors
///
/// As [`discovery_url`].
pub fn build_discovery_request(issuer: &str) -> Result<Request<Vec<u8>>, ConfigError> {
    Request::builder()
        .method(Method::GET)
        .uri(discovery_url(issuer)?)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(Vec::new())
        .map_err(|_| ConfigError::InvalidUrl { reason: "the issuer cannot be used in a request" })
}

/// Checks a discovery response: a 2xx JSON object whose `issuer` equals `issuer` exactly
/// and whose `token_endpoint` is https (or http on loopback).
///
/// ```
/// use oidc_refresh_core::{http, parse_discovery_response};
///
/// let body = r#"{"issuer":"https://id.example","token_endpoint":"https://id.example/token"}"#;
/// let meta = parse_discovery_response(&http::Response::new(body), "https://id.example")?;
/// assert_eq!(meta.token_endpoint(), "https://id.example/token");
/// assert!(parse_discovery_response(&http::Response::new(body), "https://other.example").is_err());
/// # Ok::<(), oidc_refresh_core::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Protocol`] with [`ProtocolErrorKind::Discovery`] (or a JSON kind) when the
/// document is unusable.
pub fn parse_discovery_response<B: AsRef<[u8]>>(
    response: &Response<B>,
    issuer: &str,
) -> Result<ProviderMetadata, Error> {
    let status = response.status();
    let fail = |kind: ProtocolErrorKind| -> Error {
        let mut e = ProtocolError::new(kind);
        e.status = Some(status);
        e.into()
    };
    let discovery = |reason: String| fail(ProtocolErrorKind::Discovery { reason });
    if !status.is_success() {
        return Err(discovery(format!("HTTP {} instead of 2xx", status.as_u16())));
    }
    let members = json::parse_object(response.body().as_ref()).map_err(|e| {
        fail(match e {
            json::ObjectError::NotJson(detail) => ProtocolErrorKind::NotJson { detail },
            json::ObjectError::NotAnObject => ProtocolErrorKind::NotAnObject,
            json::ObjectError::Duplicate(name) => {
                ProtocolErrorKind::DuplicateMember { name: sanitize(&name, 64) }
            }
        })
    })?;
    let text = |name: &str| members.iter().find(|(k, _)| k == name).and_then(|(_, v)| json::as_str(v));
    let found = text("issuer").ok_or_else(|| discovery("no `issuer` string".into()))?;
    if found != issuer {
        return Err(discovery(format!("its issuer {:?} is not the one asked for", sanitize(&found, 120))));
    }
    let endpoint = text("token_endpoint").ok_or_else(|| discovery("no `token_endpoint` string".into()))?;
    let token_endpoint =
        parse_endpoint(&endpoint).map_err(|e| discovery(format!("its token_endpoint is unusable: {e}")))?;
    let id_token_algs = members
        .iter()
        .find(|(k, _)| k == "id_token_signing_alg_values_supported")
        .and_then(|(_, v)| serde_json::from_str::<Vec<String>>(v.get()).ok())
        .unwrap_or_default();
    Ok(ProviderMetadata {
        issuer: found.into_owned(),
        token_endpoint,
        jwks_uri: text("jwks_uri").map(|s| s.into_owned()),
        revocation_endpoint: text("revocation_endpoint").map(|s| s.into_owned()),
        id_token_algs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str, issuer: &str) -> Result<ProviderMetadata, String> {
        let r = Response::builder().status(status).body(body).map_err(|e| e.to_string())?;
        parse_discovery_response(&r, issuer).map_err(|e| e.to_string())
    }

    #[test]
    fn a_token_endpoint_with_an_out_of_range_port_is_unusable() {
        for port in ["99999", "0", "65536"] {
            let body = format!(
                r#"{{"issuer":"https://id.example","token_endpoint":"https://id.example:{port}/t"}}"#
            );
            let got = parse(200, &body, "https://id.example");
            assert!(got.as_ref().is_err_and(|e| e.contains("token_endpoint is unusable")), "{port}: {got:?}");
        }
    }

    #[test]
    fn issuer_must_match_exactly() {
        let body = r#"{"issuer":"https://id.example/","token_endpoint":"https://id.example/token","grant_types_supported":["authorization_code"]}"#;
        assert!(parse(200, body, "https://id.example/").is_ok());
        assert!(parse(200, body, "https://id.example").is_err());
    }

    #[test]
    fn insecure_or_missing_endpoint_is_a_protocol_error() {
        let e = parse(
            200,
            r#"{"issuer":"https://id.example","token_endpoint":"http://id.example/token"}"#,
            "https://id.example",
        );
        assert!(e.is_err_and(|m| m.contains("token_endpoint")));
        assert!(parse(200, r#"{"issuer":"https://id.example"}"#, "https://id.example").is_err());
        assert!(parse(404, "not found", "https://id.example").is_err());
        assert!(
            parse(
                200,
                r#"{"issuer":"https://id.example","issuer":"https://id.example"}"#,
                "https://id.example"
            )
            .is_err()
        );
        // Plain http on loopback is fine.
        assert!(
            parse(
                200,
                r#"{"issuer":"http://127.0.0.1:9","token_endpoint":"http://127.0.0.1:9/token"}"#,
                "http://127.0.0.1:9"
            )
            .is_ok()
        );
    }

    #[cfg(feature = "verify")]
    #[test]
    fn the_key_set_cache_follows_jwks_uri_and_the_signing_algorithms() {
        use crate::alg::Algorithm;
        let doc = |jwks_uri: &str, algs: &str| {
            format!(
                r#"{{"issuer":"https://id.example","token_endpoint":"https://id.example/token"{jwks_uri}{algs}}}"#
            )
        };
        let metadata = |body: String| {
            let r = Response::builder().status(200).body(body).expect("a valid response");
            parse_discovery_response(&r, "https://id.example").expect("a usable document")
        };
        let algs = r#","id_token_signing_alg_values_supported":["ES256","none","XX999","RS256"]"#;
        let m = metadata(doc(r#","jwks_uri":"https://id.example/jwks""#, algs));
        assert_eq!(m.id_token_signing_alg_values_supported(), ["ES256", "none", "XX999", "RS256"]);
        let cache = m.key_set_cache().expect("an https jwks_uri");
        assert_eq!(cache.jwks_uri(), "https://id.example/jwks");
        // Only the algorithms this crate knows, and never `none`.
        assert_eq!(cache.algorithms(), Some(&[Algorithm::Es256, Algorithm::Rs256][..]));
        // Without the list: every algorithm.
        let m = metadata(doc(r#","jwks_uri":"https://id.example/jwks""#, ""));
        assert_eq!(m.key_set_cache().expect("usable").algorithms(), None);
        // Plain http to a host that is not loopback, or no jwks_uri at all: a protocol error
        // (the document cannot be used to verify), only when verification asks for it.
        for jwks_uri in [r#","jwks_uri":"http://id.example/jwks""#, ""] {
            let m = metadata(doc(jwks_uri, algs));
            let e = m.key_set_cache().expect_err("no usable key set");
            assert!(matches!(e, Error::Protocol(_)), "{e:?}");
        }
        // Plain http on loopback is fine.
        let m = metadata(doc(r#","jwks_uri":"http://127.0.0.1:9/jwks""#, ""));
        assert!(m.key_set_cache().is_ok());
    }

    #[test]
    fn request_shape() {
        let r = build_discovery_request("http://127.0.0.1:3000/").unwrap_or_default();
        assert_eq!(r.method(), Method::GET);
        assert_eq!(r.uri(), "http://127.0.0.1:3000/.well-known/openid-configuration");
        assert_eq!(r.headers()[ACCEPT], "application/json");
        assert!(build_discovery_request("http://id.example").is_err());
    }
}
