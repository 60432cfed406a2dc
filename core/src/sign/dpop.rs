//! [`build_dpop_proof`]: the DPoP proof JWT of one HTTP request (RFC 9449 §4.2).

use http::{Method, Uri};
use ring::digest::{SHA256, digest};
use ring::rand::SecureRandom;
use serde::Serialize;

use super::SignError;
use super::jws::{b64, compact};
use super::key::SigningKey;
use super::nonce::{Origin, is_nonce};
use crate::secret::AccessToken;
use crate::time::UnixTime;

/// The claims of a proof, in this order.
#[derive(Serialize)]
struct Claims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<&'a str>,
}

/// Builds the DPoP proof (RFC 9449 §4.2) for one request: the value of its `DPoP` header.
///
/// - header: `typ` `dpop+jwt`, `alg` (the key's), `jwk`: the public key, its required
///   members only (no `kid`, no private member);
/// - claims: `jti` = base64url of `jti`, `htm` = `htm`, `htu` = `htu` without its query and
///   fragment (§4.3: scheme and host in lower case, the default port left out, an empty path
///   written `/`), `iat` = `now` (whole seconds), `nonce` when given (the server's newest,
///   [`DpopNonces::get`](crate::DpopNonces::get)), `ath` = base64url of the SHA-256 of the
///   access token when given (a request to a resource server, §4.2 and §7).
///
/// `jti`: 16 fresh random bytes from the caller, one set per proof. `rng`: the caller's
/// random number generator, for ECDSA and PSS (see [`SigningKey::sign`]). A token request
/// sends one proof, and a new one (new `jti`, the nonce of the refusal) for its single
/// retry after [`use_dpop_nonce`](crate::is_use_dpop_nonce).
///
/// ```
/// use oidc_refresh_core::{build_dpop_proof, http, SigningKey, UnixTime};
/// use ring::rand::SystemRandom;
///
/// let key = SigningKey::from_jwk(
///     r#"{"kty":"OKP","crv":"Ed25519",
///         "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
///         "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
///     None,
/// )?;
/// let proof = build_dpop_proof(
///     &key,
///     &http::Method::POST,
///     &http::Uri::from_static("https://id.example/token?ignored=1"),
///     UnixTime::from_secs(1_700_000_000),
///     &[7; 16],
///     Some("server-nonce"),
///     None,
///     &SystemRandom::new(),
/// )?;
/// assert_eq!(proof.split('.').count(), 3);
/// # Ok::<(), oidc_refresh_core::SignError>(())
/// ```
///
/// # Errors
///
/// [`SignError::InvalidInput`] when `htu` is not an absolute `http` or `https` URI with a
/// host, `nonce` is not 1 to 1024 `NQCHAR` bytes, or the access token is empty;
/// [`SignError::SigningFailed`] (and, for an EC key's first signature,
/// [`SignError::InvalidKey`]) from [`SigningKey::sign`].
// The arguments are the proof's inputs, as RFC 9449 §4.2 lists them.
#[allow(clippy::too_many_arguments)]
pub fn build_dpop_proof(
    key: &SigningKey,
    htm: &Method,
    htu: &Uri,
    now: UnixTime,
    jti: &[u8; 16],
    nonce: Option<&str>,
    access_token: Option<&AccessToken>,
    rng: &dyn SecureRandom,
) -> Result<String, SignError> {
    let htu = target_uri(htu)?;
    if nonce.is_some_and(|n| !is_nonce(n)) {
        return Err(SignError::InvalidInput { reason: "the DPoP nonce is not 1 to 1024 NQCHAR bytes" });
    }
    let ath = match access_token {
        Some(token) if token.is_empty() => {
            return Err(SignError::InvalidInput { reason: "the access token is empty" });
        }
        Some(token) => Some(b64(digest(&SHA256, token.expose_secret().as_bytes()))),
        None => None,
    };
    let jti = b64(jti);
    let claims =
        Claims { jti: &jti, htm: htm.as_str(), htu: &htu, iat: now.as_secs(), nonce, ath: ath.as_deref() };
    compact(key.dpop_header(), &claims, |input| key.sign(input, rng))
}

/// The `htu` of a request to `uri` (RFC 9449 §4.2, §4.3): scheme, host and path, without
/// query, fragment and user information; scheme and host in lower case, the scheme's default
/// port left out, an empty path written `/`.
fn target_uri(uri: &Uri) -> Result<String, SignError> {
    let origin = Origin::of(uri).ok_or(SignError::InvalidInput {
        reason: "the DPoP htu is not an absolute http(s) URI with a host",
    })?;
    let path = match uri.path() {
        "" => "/",
        path => path,
    };
    Ok(if origin.default_port() {
        format!("{}://{}{path}", origin.scheme(), origin.host)
    } else {
        format!("{}://{}:{}{path}", origin.scheme(), origin.host, origin.port)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_without_query_and_fragment() {
        let htu = |uri: &str| uri.parse::<Uri>().ok().and_then(|u| target_uri(&u).ok());
        let cases = [
            ("https://id.example/token?a=1&b=2", "https://id.example/token"),
            ("https://id.example/token#frag", "https://id.example/token"),
            ("https://id.example/token?a#frag", "https://id.example/token"),
            ("HTTPS://ID.Example:443/Path/X", "https://id.example/Path/X"),
            ("http://127.0.0.1:80", "http://127.0.0.1/"),
            ("http://localhost:8080?x", "http://localhost:8080/"),
            ("https://user:pw@id.example:8443/t", "https://id.example:8443/t"),
            ("https://[::1]:9443/t", "https://[::1]:9443/t"),
        ];
        for (uri, want) in cases {
            assert_eq!(htu(uri).as_deref(), Some(want), "{uri}");
        }
        for uri in ["/token", "ftp://id.example/x", "id.example:443"] {
            assert_eq!(htu(uri), None, "{uri}");
        }
    }
}
