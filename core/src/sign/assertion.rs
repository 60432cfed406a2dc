//! [`build_client_assertion`]: the JWT a client authenticates with at the token endpoint
//! (RFC 7523 §2.2 and §3, OIDC Core §9): `private_key_jwt` with a [`SigningKey`],
//! `client_secret_jwt` with HS256 and the client secret.

use std::time::Duration;

use ring::hmac;
use ring::rand::SecureRandom;
use serde::Serialize;

use super::SignError;
use super::jws::{b64, compact};
use super::key::SigningKey;
use crate::secret::ClientSecret;
use crate::time::UnixTime;

/// The `client_assertion_type` sent with a client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid: its `exp` is its `iat` plus this. One minute, well
/// inside the contract's five: an assertion is made for one request, right before it is
/// sent.
pub const CLIENT_ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// What signs a client assertion.
#[derive(Clone, Copy, Debug)]
pub enum AssertionKey<'a> {
    /// `private_key_jwt`: the client's private key (RS256, PS256, ES256 or EdDSA); the
    /// provider checks it against the client's registered key set.
    PrivateKey(&'a SigningKey),
    /// `client_secret_jwt`: HS256, keyed with the client secret's octets (OIDC Core §9).
    ClientSecret(&'a ClientSecret),
}

/// The claims of a client assertion, in this order.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: u64,
    exp: u64,
}

/// Builds a client assertion (RFC 7523 §3, OIDC Core §9): the value of `client_assertion`,
/// sent with `client_assertion_type` = [`CLIENT_ASSERTION_TYPE`] and `client_id` in the
/// token request's body.
///
/// - header: `alg` (the key's, or HS256 with a client secret), `typ` `JWT`, the key's `kid`
///   if it has one;
/// - claims: `iss` = `sub` = `client_id`, `aud` = `audience` (the token endpoint, or the
///   issuer), `jti` = base64url of `jti`, `iat` = `now` (whole seconds), `exp` = `iat` +
///   [`CLIENT_ASSERTION_LIFETIME`].
///
/// `jti`: 16 fresh random bytes from the caller, one set per assertion (a provider refuses
/// a `jti` it has seen). `rng`: the caller's random number generator, for ECDSA and PSS
/// (see [`SigningKey::sign`]).
///
/// ```
/// use oidc_refresh_core::{build_client_assertion, AssertionKey, ClientSecret, UnixTime};
/// use ring::rand::SystemRandom;
///
/// let secret = ClientSecret::new("a-client-secret-of-32-bytes-or-more");
/// let assertion = build_client_assertion(
///     AssertionKey::ClientSecret(&secret),
///     "my-app",
///     "https://id.example/token",
///     UnixTime::from_secs(1_700_000_000),
///     &[7; 16],
///     &SystemRandom::new(),
/// )?;
/// let mut segments = assertion.split('.');
/// // {"alg":"HS256","typ":"JWT"}
/// assert_eq!(segments.next(), Some("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"));
/// # Ok::<(), oidc_refresh_core::SignError>(())
/// ```
///
/// # Errors
///
/// [`SignError::InvalidInput`] when `client_id` or `audience` is empty;
/// [`SignError::NoSecret`] for an empty client secret; [`SignError::SigningFailed`] (and,
/// for an EC key's first signature, [`SignError::InvalidKey`]) from
/// [`SigningKey::sign`].
pub fn build_client_assertion(
    auth: AssertionKey<'_>,
    client_id: &str,
    audience: &str,
    now: UnixTime,
    jti: &[u8; 16],
    rng: &dyn SecureRandom,
) -> Result<String, SignError> {
    if client_id.is_empty() {
        return Err(SignError::InvalidInput { reason: "the client id is empty" });
    }
    if audience.is_empty() {
        return Err(SignError::InvalidInput { reason: "the assertion's audience is empty" });
    }
    let jti = b64(jti);
    let iat = now.as_secs();
    let claims = Claims {
        iss: client_id,
        sub: client_id,
        aud: audience,
        jti: &jti,
        iat,
        exp: iat.saturating_add(CLIENT_ASSERTION_LIFETIME.as_secs()),
    };
    match auth {
        AssertionKey::PrivateKey(key) => {
            compact(key.assertion_header(), &claims, |input| key.sign(input, rng))
        }
        AssertionKey::ClientSecret(secret) => {
            if secret.is_empty() {
                return Err(SignError::NoSecret);
            }
            let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
            compact(&header, &claims, |input| {
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes());
                Ok(hmac::sign(&key, input).as_ref().to_vec())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn inputs_are_checked_first() {
        let secret = ClientSecret::new("s");
        let build = |auth, client_id, audience| {
            build_client_assertion(auth, client_id, audience, UnixTime::EPOCH, &[0; 16], &SystemRandom::new())
        };
        let auth = AssertionKey::ClientSecret(&secret);
        assert!(matches!(build(auth, "", "aud"), Err(SignError::InvalidInput { .. })));
        assert!(matches!(build(auth, "app", ""), Err(SignError::InvalidInput { .. })));
        let empty = ClientSecret::new("");
        assert_eq!(build(AssertionKey::ClientSecret(&empty), "app", "aud"), Err(SignError::NoSecret));
        assert!(build(auth, "app", "aud").is_ok());
        // The Debug of the key never shows the secret.
        assert_eq!(format!("{auth:?}"), "ClientSecret(ClientSecret(<redacted>))");
    }
}
