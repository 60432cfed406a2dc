//! [`verify_signature`]: a compact JWS checked against a [`JwkSet`] (or, for HS*, the client
//! secret): the header's checks, the choice of key, and `ring`.

use memchr::memchr;
use ring::{hmac, signature};

use super::jwk::{Jwk, JwkSet, Key};
use crate::alg::{Algorithm, Family};
use crate::error::SignatureError;
use crate::jwt::{self, JwtHeader};
use crate::secret::ClientSecret;

/// The longest signature this crate verifies: RSA with an 8192-bit modulus.
const MAX_SIGNATURE: usize = 1024;

/// Verifies the signature of the compact JWS `jwt` and returns its algorithm.
///
/// - `keys`: the provider's key set, for every algorithm but HS*. A key is a candidate only
///   when its `kty` and `crv` fit the header's `alg`, its `use` (if any) is `sig`, its `alg`
///   (if any) equals the header's, and its `key_ops` (if any) holds `verify`. With a `kid` in
///   the header, only candidates with that `kid` count (each is tried); without one, there
///   must be exactly one candidate.
/// - `secret`: the client secret, the only key for HS256, HS384 and HS512 (its UTF-8 octets,
///   OIDC Core §10.1). A key from `keys` is never used for HMAC (`oct` keys are skipped when
///   a set is parsed).
/// - `allowed`: the algorithms accepted; `None` accepts all of [`Algorithm::ALL`].
///
/// Header members `jku`, `x5u`, `jwk` and `x5c` are never used; a `crit` member is refused.
/// ECDSA signatures are accepted in the JOSE `R || S` form only. Nothing about the claims is
/// checked here ([`validate_id_token`](crate::validate_id_token) does that).
///
/// ```
/// use oidc_refresh_core::{verify_signature, Algorithm, ClientSecret, JwkSet, SignatureError};
///
/// // RFC 8037 Appendix A.4: an Ed25519 signature, and the public key of A.2.
/// let keys = JwkSet::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
/// let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/// assert_eq!(verify_signature(jws, &keys, None, None), Ok(Algorithm::EdDsa));
///
/// // The same with one byte of the payload changed, or EdDSA not accepted.
/// let tampered = jws.replacen("RXhh", "RXhi", 1);
/// assert_eq!(verify_signature(&tampered, &keys, None, None), Err(SignatureError::BadSignature));
/// assert_eq!(
///     verify_signature(jws, &keys, None, Some(&[Algorithm::Rs256])),
///     Err(SignatureError::AlgNotAllowed)
/// );
///
/// // HS256 needs the client secret; a key set never stands in for it.
/// let hs256 = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln";
/// assert_eq!(verify_signature(hs256, &keys, None, None), Err(SignatureError::NoSecret));
/// let secret = ClientSecret::new("s3cret");
/// assert_eq!(verify_signature(hs256, &keys, Some(&secret), None), Err(SignatureError::BadSignature));
/// # Ok::<(), oidc_refresh_core::KeySetError>(())
/// ```
///
/// # Errors
///
/// A [`SignatureError`] saying why the signature was refused; only
/// [`UnknownKid`](SignatureError::UnknownKid) and
/// [`NoCandidate`](SignatureError::NoCandidate) may go away with a fresh key set
/// ([`SignatureError::may_need_new_keys`]).
pub fn verify_signature(
    jwt: &str,
    keys: &JwkSet,
    secret: Option<&ClientSecret>,
    allowed: Option<&[Algorithm]>,
) -> Result<Algorithm, SignatureError> {
    Token::parse(jwt, allowed)?.verify(keys, secret)
}

/// A compact JWS whose header passed its checks, its signature decoded: what is left is
/// choosing a key and running `ring`.
pub(super) struct Token<'t> {
    alg: Algorithm,
    header: JwtHeader,
    /// The token up to its second dot.
    signing_input: &'t [u8],
    signature: [u8; MAX_SIGNATURE],
    signature_len: usize,
}

impl<'t> Token<'t> {
    /// Splits `jwt` into exactly three segments, reads the header (`alg`, `crit`) and decodes
    /// the signature.
    pub(super) fn parse(jwt: &'t str, allowed: Option<&[Algorithm]>) -> Result<Self, SignatureError> {
        let b = jwt.as_bytes();
        let d1 = memchr(b'.', b).ok_or(SignatureError::Malformed)?;
        let d2 = d1 + 1 + memchr(b'.', &b[d1 + 1..]).ok_or(SignatureError::Malformed)?;
        let signature_segment = &jwt[d2 + 1..];
        if memchr(b'.', signature_segment.as_bytes()).is_some() {
            return Err(SignatureError::Malformed);
        }
        let header = jwt::decode_header(&jwt[..d1]).map_err(|_| SignatureError::Malformed)?;
        let alg = match header.alg() {
            Some(name) if name.eq_ignore_ascii_case("none") => return Err(SignatureError::AlgNone),
            Some(name) => Algorithm::from_name(name).ok_or(SignatureError::UnsupportedAlg)?,
            None => return Err(SignatureError::UnsupportedAlg),
        };
        if allowed.is_some_and(|allowed| !allowed.contains(&alg)) {
            return Err(SignatureError::AlgNotAllowed);
        }
        if header.has_crit() {
            return Err(SignatureError::CritHeader);
        }
        let mut signature = [0; MAX_SIGNATURE];
        let signature_len = jwt::decode_segment_into(signature_segment, &mut signature).ok_or(
            // A segment too long for any key's signature is refused as one.
            if signature_segment.len() > MAX_SIGNATURE / 3 * 4 + 2 {
                SignatureError::BadSignature
            } else {
                SignatureError::Malformed
            },
        )?;
        Ok(Token { alg, header, signing_input: &b[..d2], signature, signature_len })
    }

    /// The header's algorithm.
    pub(super) fn alg(&self) -> Algorithm {
        self.alg
    }

    fn signature(&self) -> &[u8] {
        &self.signature[..self.signature_len]
    }

    /// Verifies with the client secret (HS*) or with the candidates of `keys`.
    pub(super) fn verify(
        &self,
        keys: &JwkSet,
        secret: Option<&ClientSecret>,
    ) -> Result<Algorithm, SignatureError> {
        if self.alg.family() == Family::Hmac { self.verify_hmac(secret) } else { self.verify_with_keys(keys) }
    }

    /// HS256/384/512 with the client secret's octets; an empty secret is no secret.
    pub(super) fn verify_hmac(&self, secret: Option<&ClientSecret>) -> Result<Algorithm, SignatureError> {
        let algorithm = match self.alg {
            Algorithm::Hs256 => hmac::HMAC_SHA256,
            Algorithm::Hs384 => hmac::HMAC_SHA384,
            Algorithm::Hs512 => hmac::HMAC_SHA512,
            _ => return Err(SignatureError::UnsupportedAlg),
        };
        let secret = secret.filter(|s| !s.is_empty()).ok_or(SignatureError::NoSecret)?;
        let key = hmac::Key::new(algorithm, secret.expose_secret().as_bytes());
        // Constant time in the tag.
        hmac::verify(&key, self.signing_input, self.signature())
            .map(|()| self.alg)
            .map_err(|_| SignatureError::BadSignature)
    }

    /// The candidates of `keys` for this token's `alg` and `kid`, tried in turn.
    fn verify_with_keys(&self, keys: &JwkSet) -> Result<Algorithm, SignatureError> {
        let alg = self.alg;
        let mut candidates = keys.keys().iter().filter(|k| k.fits(alg));
        let Some(kid) = self.header.kid() else {
            let key = candidates.next().ok_or(SignatureError::NoCandidate)?;
            if candidates.next().is_some() {
                return Err(SignatureError::Ambiguous);
            }
            return self.verify_with(key).map(|()| alg);
        };
        let mut refusal = SignatureError::UnknownKid;
        for key in candidates.filter(|k| k.kid() == Some(kid)) {
            match self.verify_with(key) {
                Ok(()) => return Ok(alg),
                // A key that was tried and failed says more than a weak one.
                Err(SignatureError::WeakKey) if refusal != SignatureError::BadSignature => {
                    refusal = SignatureError::WeakKey;
                }
                Err(SignatureError::WeakKey) => {}
                Err(e) => refusal = e,
            }
        }
        Err(refusal)
    }

    /// One key, which fits this token's `alg`.
    fn verify_with(&self, key: &Jwk) -> Result<(), SignatureError> {
        let (message, sig) = (self.signing_input, self.signature());
        let verified = match (key.key(), self.alg) {
            (Key::Rsa(rsa), alg) if alg.family() == Family::Rsa => {
                if !rsa.usable {
                    return Err(SignatureError::WeakKey);
                }
                let params = match alg {
                    Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                };
                signature::RsaPublicKeyComponents { n: &*rsa.n, e: &*rsa.e }.verify(params, message, sig)
            }
            (Key::P256(point), Algorithm::Es256) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
            }
            (Key::P384(point), Algorithm::Es384) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, sig)
            }
            (Key::Ed25519(x), Algorithm::EdDsa) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, x).verify(message, sig)
            }
            // `fits` rules these out.
            _ => return Err(SignatureError::BadSignature),
        };
        verified.map_err(|_| SignatureError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.4.
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn set(json: &str) -> JwkSet {
        JwkSet::parse(json.as_bytes()).expect("a JWK Set")
    }

    #[test]
    fn rfc8037_vector() {
        let keys = set(&format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}]}}"#));
        assert_eq!(verify_signature(RFC8037_JWS, &keys, None, None), Ok(Algorithm::EdDsa));
        // Two fitting keys without a kid in the header: ambiguous.
        let two = set(&format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}},{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}]}}"#
        ));
        assert_eq!(verify_signature(RFC8037_JWS, &two, None, None), Err(SignatureError::Ambiguous));
        assert_eq!(
            verify_signature(RFC8037_JWS, &JwkSet::empty(), None, None),
            Err(SignatureError::NoCandidate)
        );
    }

    #[test]
    fn structure_before_keys() {
        let keys = JwkSet::empty();
        let cases = [
            ("", SignatureError::Malformed),
            ("a.b", SignatureError::Malformed),
            ("e30.e30.e30.e30", SignatureError::Malformed),
            ("e30=.e30.", SignatureError::Malformed),
            ("eyJhbGciOiJFZERTQSJ9.e30.a", SignatureError::Malformed),
            ("W10.e30.", SignatureError::Malformed),
            ("e30.e30.", SignatureError::UnsupportedAlg),
            ("eyJhbGciOiJub25lIn0.e30.", SignatureError::AlgNone),
            ("eyJhbGciOiJOT05FIn0.e30.", SignatureError::AlgNone),
            ("eyJhbGciOiJFUzUxMiJ9.e30.", SignatureError::UnsupportedAlg),
        ];
        for (jwt, want) in cases {
            assert_eq!(verify_signature(jwt, &keys, None, None), Err(want), "{jwt}");
        }
        let long = format!("eyJhbGciOiJFZERTQSJ9.e30.{}", "A".repeat(2000));
        assert_eq!(verify_signature(&long, &keys, None, None), Err(SignatureError::BadSignature));
        let max = format!("eyJhbGciOiJFZERTQSJ9.e30.{}", "A".repeat(1364));
        assert_eq!(verify_signature(&max, &keys, None, None), Err(SignatureError::NoCandidate));
    }
}
