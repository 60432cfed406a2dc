//! Compact JWS assembly (RFC 7515 §7.1): `header.claims.signature`, each part base64url
//! without padding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::SignError;

/// `bytes` in base64url without padding.
pub(super) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The compact JWS of `claims` under the header whose base64url form is `header_b64`, signed
/// by `sign` over the signing input (`header.claims`, ASCII).
pub(super) fn compact(
    header_b64: &str,
    claims: &impl Serialize,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SignError>,
) -> Result<String, SignError> {
    // Plain structs of strings and integers: serialising them cannot fail.
    let claims = serde_json::to_vec(claims)
        .map_err(|_| SignError::InvalidInput { reason: "the claims cannot be serialised" })?;
    // Room for the signature too (512 bytes, an RSA-4096 signature, in base64url).
    let mut out = String::with_capacity(header_b64.len() + claims.len().div_ceil(3) * 4 + 2 + 683);
    out.push_str(header_b64);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut out);
    let signature = sign(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_segments_signed_over_the_first_two() {
        #[derive(Serialize)]
        struct Claims {
            a: u8,
        }
        let mut seen = Vec::new();
        let jws = compact(&b64(br#"{"alg":"X"}"#), &Claims { a: 1 }, |input| {
            seen = input.to_vec();
            Ok(vec![0xFB, 0xFF])
        });
        assert_eq!(jws.as_deref(), Ok("eyJhbGciOiJYIn0.eyJhIjoxfQ.-_8"));
        assert_eq!(seen, b"eyJhbGciOiJYIn0.eyJhIjoxfQ");
        let failed = compact("e30", &Claims { a: 1 }, |_| Err(SignError::SigningFailed));
        assert_eq!(failed, Err(SignError::SigningFailed));
    }
}
