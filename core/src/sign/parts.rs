//! [`KeyParts`]: a private key's parts as read from a JWK or a PKCS#8 document, before
//! `ring` checks them; every private part is zeroed when it is dropped.

use zeroize::Zeroizing;

use super::SignError;

/// The smallest RSA modulus this crate signs with (RFC 7518 §3.3: 2048 bits or larger).
pub(super) const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus `ring` signs with.
pub(super) const RSA_MAX_BITS: usize = 4096;

/// A private key's parts.
pub(super) enum KeyParts {
    /// RSA from a JWK: the CRT parts, big-endian, leading zeros stripped.
    Rsa(Box<RsaParts>),
    /// RSA as a PKCS#8 document (`ring` reads it whole); its public parts checked.
    RsaPkcs8(Zeroizing<Vec<u8>>),
    /// EC P-256: the private scalar and the uncompressed public point `0x04 || x || y`.
    P256 { d: Zeroizing<[u8; 32]>, point: [u8; 65] },
    /// Ed25519: the 32-byte seed, and the public key when the text holds it.
    Ed25519 { seed: Zeroizing<[u8; 32]>, public: Option<[u8; 32]> },
}

/// An RSA private key's parts (RFC 7518 §6.3).
pub(super) struct RsaParts {
    pub(super) n: Vec<u8>,
    pub(super) e: Vec<u8>,
    pub(super) d: Zeroizing<Vec<u8>>,
    pub(super) p: Zeroizing<Vec<u8>>,
    pub(super) q: Zeroizing<Vec<u8>>,
    pub(super) dp: Zeroizing<Vec<u8>>,
    pub(super) dq: Zeroizing<Vec<u8>>,
    pub(super) qi: Zeroizing<Vec<u8>>,
}

/// The length in bits of a big-endian number without leading zeros.
pub(super) fn bit_len(n: &[u8]) -> usize {
    n.first().map_or(0, |&b| (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize))
}

/// Checks an RSA public key (big-endian, leading zeros stripped) against what this crate
/// signs with: a modulus of 2048 to 4096 bits and an exponent of at least 65537 (`ring`
/// refuses smaller ones for private keys).
pub(super) fn check_rsa_public(n: &[u8], e: &[u8]) -> Result<(), SignError> {
    let bits = bit_len(n);
    if bits < RSA_MIN_BITS {
        return Err(SignError::WeakKey { bits });
    }
    if bits > RSA_MAX_BITS {
        return Err(SignError::UnsupportedKey { reason: "an RSA modulus over 4096 bits" });
    }
    if bit_len(e) < 17 || e.last().is_none_or(|b| b & 1 == 0) {
        return Err(SignError::UnsupportedKey { reason: "an RSA public exponent under 65537, or even" });
    }
    Ok(())
}

/// `bytes` without its leading zero bytes.
pub(super) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_public_rules() {
        let mut n = vec![0xC5; 256];
        assert_eq!(bit_len(&n), 2048);
        assert_eq!(check_rsa_public(&n, &[1, 0, 1]), Ok(()));
        n[0] = 0x7F;
        assert_eq!(check_rsa_public(&n, &[1, 0, 1]), Err(SignError::WeakKey { bits: 2047 }));
        assert_eq!(check_rsa_public(&n[..128], &[1, 0, 1]), Err(SignError::WeakKey { bits: 1023 }));
        assert!(matches!(check_rsa_public(&[0xFF; 513], &[1, 0, 1]), Err(SignError::UnsupportedKey { .. })));
        assert_eq!(check_rsa_public(&[0xFF; 512], &[1, 0, 1]), Ok(()));
        for e in [&[3][..], &[0, 1], &[1, 0, 0], &[]] {
            assert!(
                matches!(check_rsa_public(&[0xFF; 256], e), Err(SignError::UnsupportedKey { .. })),
                "{e:?}"
            );
        }
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(strip_zeros(&[0, 0, 1, 0]), &[1, 0]);
    }
}
