//! [`at_hash_matches`]: the access-token hash of an ID token (OIDC Core §3.1.3.8, §3.3.2.11).

use base64::Engine as _;
use ring::digest;

use crate::alg::{Algorithm, Hash};

/// Whether `at_hash` is the hash of `access_token` for an ID token signed with `alg`: the
/// base64url (unpadded) encoding of the left half of the hash of the access token's ASCII
/// octets, hashed with the hash of `alg` (SHA-256 for the `*256` algorithms, SHA-384 for
/// `*384`, SHA-512 for `*512` and for EdDSA with Ed25519).
///
/// ```
/// use oidc_refresh_core::{at_hash_matches, Algorithm};
///
/// // OIDC Core 1.0, Appendix A.3 (an RS256 ID token with an access token).
/// let access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
/// assert!(at_hash_matches(Algorithm::Rs256, access_token, "77QmUPtjPfzWtF2AnpK9RQ"));
/// assert!(!at_hash_matches(Algorithm::Rs512, access_token, "77QmUPtjPfzWtF2AnpK9RQ"));
/// ```
#[must_use]
pub fn at_hash_matches(alg: Algorithm, access_token: &str, at_hash: &str) -> bool {
    let algorithm = match alg.hash() {
        Hash::Sha256 => &digest::SHA256,
        Hash::Sha384 => &digest::SHA384,
        Hash::Sha512 => &digest::SHA512,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    let left = &hash.as_ref()[..hash.as_ref().len() / 2];
    // At most 32 bytes: 43 symbols.
    let mut encoded = [0u8; 44];
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_slice(left, &mut encoded).unwrap_or(0);
    n > 0 && encoded[..n] == *at_hash.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_the_hash() {
        let token = "an access token";
        for (alg, len) in [(Algorithm::Es256, 22), (Algorithm::Ps384, 32), (Algorithm::EdDsa, 43)] {
            let hash = digest::digest(
                match alg.hash() {
                    Hash::Sha256 => &digest::SHA256,
                    Hash::Sha384 => &digest::SHA384,
                    Hash::Sha512 => &digest::SHA512,
                },
                token.as_bytes(),
            );
            let want = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&hash.as_ref()[..hash.as_ref().len() / 2]);
            assert_eq!(want.len(), len);
            assert!(at_hash_matches(alg, token, &want));
            assert!(!at_hash_matches(alg, token, &format!("{want}=")));
            assert!(!at_hash_matches(alg, token, &want[..len - 1]));
            assert!(!at_hash_matches(alg, "another", &want));
        }
        assert!(!at_hash_matches(Algorithm::Hs256, "x", ""));
    }
}
