//! A PKCS#8 private key (RFC 5958) in PEM (RFC 7468 `PRIVATE KEY`) read into [`KeyParts`]:
//! RSA (`rsaEncryption`, RFC 8017 A.1.2), EC P-256 (RFC 5915) and Ed25519 (RFC 8410). The
//! PEM is read by rustls's reader (`rustls-pki-types`, constant-time base64 for private
//! keys); the DER is read here only as far as choosing the key type and taking out the
//! parts, `ring` checks the rest. The decoded DER is zeroed when it is dropped.

use rustls_pki_types::pem::{PemObject, SectionKind};
use zeroize::Zeroizing;

use super::SignError;
use super::der::{self, Reader};
use super::parts::{KeyParts, check_rsa_public};

/// `rsaEncryption`, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
/// `id-RSASSA-PSS`, 1.2.840.113549.1.1.10: an RSA key restricted to PSS.
const RSASSA_PSS: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A];
/// `id-ecPublicKey`, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// `prime256v1` (P-256), 1.2.840.10045.3.1.7.
const P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// `id-Ed25519`, 1.3.101.112.
const ED25519: &[u8] = &[0x2B, 0x65, 0x70];
/// `id-X25519`, `id-X448`, `id-Ed448`: 1.3.101.110, .111, .113.
const OTHER_OKP: [&[u8]; 3] = [&[0x2B, 0x65, 0x6E], &[0x2B, 0x65, 0x6F], &[0x2B, 0x65, 0x71]];

const MALFORMED: SignError = SignError::InvalidKey { reason: "the PKCS#8 key is not well-formed DER" };

/// Reads the one PKCS#8 private key of a PEM text.
pub(super) fn parse_pem(text: &str) -> Result<KeyParts, SignError> {
    let mut found = None;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes()) {
        let (kind, der) =
            section.map_err(|_| SignError::InvalidKey { reason: "the PEM text is malformed" })?;
        let der = Zeroizing::new(der);
        match kind {
            SectionKind::PrivateKey if found.is_some() => {
                return Err(SignError::InvalidKey { reason: "the PEM text holds more than one private key" });
            }
            SectionKind::PrivateKey => found = Some(der),
            SectionKind::RsaPrivateKey => {
                return Err(SignError::UnsupportedKey {
                    reason: "a PKCS#1 key (RSA PRIVATE KEY): convert it to PKCS#8 with \
                             `openssl pkcs8 -topk8 -nocrypt`",
                });
            }
            SectionKind::EcPrivateKey => {
                return Err(SignError::UnsupportedKey {
                    reason: "a SEC1 key (EC PRIVATE KEY): convert it to PKCS#8 with \
                             `openssl pkcs8 -topk8 -nocrypt`",
                });
            }
            // Certificates, public keys, ...: not what is asked for, skipped.
            _ => {}
        }
    }
    match found {
        Some(der) => parse_der(der),
        None if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") => Err(SignError::UnsupportedKey {
            reason: "an encrypted PKCS#8 key: decrypt it with `openssl pkcs8 -nocrypt`",
        }),
        None => {
            Err(SignError::InvalidKey { reason: "no PKCS#8 private key (BEGIN PRIVATE KEY) in the text" })
        }
    }
}

/// What a PKCS#8 document holds, its private parts copied out (zeroed on drop).
enum Found {
    Rsa,
    P256 { d: Zeroizing<[u8; 32]>, point: [u8; 65] },
    Ed25519 { seed: Zeroizing<[u8; 32]>, public: Option<[u8; 32]> },
}

/// Reads a PKCS#8 document.
pub(super) fn parse_der(der: Zeroizing<Vec<u8>>) -> Result<KeyParts, SignError> {
    Ok(match read(&der)? {
        // `ring` reads RSA keys from PKCS#8 itself.
        Found::Rsa => KeyParts::RsaPkcs8(der),
        Found::P256 { d, point } => KeyParts::P256 { d, point },
        Found::Ed25519 { seed, public } => KeyParts::Ed25519 { seed, public },
    })
}

/// `OneAsymmetricKey` (RFC 5958 §2): version, algorithm, private key, then optional
/// attributes and (version 2) public key.
fn read(der: &[u8]) -> Result<Found, SignError> {
    let mut r = Reader::new(Reader::single(der, der::SEQUENCE).ok_or(MALFORMED)?);
    let version = der::unsigned(r.expect(der::INTEGER).ok_or(MALFORMED)?).ok_or(MALFORMED)?;
    if !matches!(version, [] | [1]) {
        return Err(SignError::InvalidKey { reason: "a PKCS#8 version other than 1 and 2" });
    }
    let mut alg = Reader::new(r.expect(der::SEQUENCE).ok_or(MALFORMED)?);
    let private = r.expect(der::OCTET_STRING).ok_or(MALFORMED)?;
    let _attributes = r.take_if(der::CONTEXT_0);
    // `[1] IMPLICIT BIT STRING` (RFC 5958), or the explicit form some encoders write.
    let public = match r.take_if(der::CONTEXT_1_PRIMITIVE) {
        Some(bits) => Some(bits),
        None => match r.take_if(der::CONTEXT_1) {
            Some(explicit) => Some(Reader::single(explicit, der::BIT_STRING).ok_or(MALFORMED)?),
            None => None,
        },
    };
    if !r.is_empty() {
        return Err(MALFORMED);
    }
    let oid = alg.expect(der::OID).ok_or(MALFORMED)?;
    match oid {
        RSA_ENCRYPTION => {
            // Parameters: NULL (RFC 8017 A.1), or absent.
            let _null = alg.take_if(der::NULL);
            if !alg.is_empty() {
                return Err(MALFORMED);
            }
            rsa(private).map(|()| Found::Rsa)
        }
        EC_PUBLIC_KEY => {
            let curve = alg.expect(der::OID).ok_or(MALFORMED)?;
            if !alg.is_empty() {
                return Err(MALFORMED);
            }
            if curve != P256 {
                return Err(SignError::UnsupportedKey { reason: "an EC key on a curve other than P-256" });
            }
            ec(private)
        }
        ED25519 => {
            if !alg.is_empty() {
                return Err(MALFORMED);
            }
            // CurvePrivateKey ::= OCTET STRING (RFC 8410 §7).
            let seed = Reader::single(private, der::OCTET_STRING).ok_or(MALFORMED)?;
            let seed: [u8; 32] = seed.try_into().map_err(|_| MALFORMED)?;
            let public = match public {
                Some(bits) => Some(der::whole_bytes(bits).and_then(|k| k.try_into().ok()).ok_or(MALFORMED)?),
                None => None,
            };
            Ok(Found::Ed25519 { seed: Zeroizing::new(seed), public })
        }
        RSASSA_PSS => Err(SignError::UnsupportedKey {
            reason: "an RSASSA-PSS key (id-RSASSA-PSS): make an rsaEncryption key \
                     (`openssl genpkey -algorithm RSA`), it signs PS256 too",
        }),
        oid if OTHER_OKP.contains(&oid) => {
            Err(SignError::UnsupportedKey { reason: "an OKP key other than Ed25519" })
        }
        _ => Err(SignError::UnsupportedKey { reason: "a key type other than RSA, EC P-256 and Ed25519" }),
    }
}

/// `RSAPrivateKey` (RFC 8017 A.1.2): its public parts checked here, the rest by `ring`.
fn rsa(private: &[u8]) -> Result<(), SignError> {
    let mut k = Reader::new(Reader::single(private, der::SEQUENCE).ok_or(MALFORMED)?);
    let _version = k.expect(der::INTEGER).ok_or(MALFORMED)?;
    let n = der::unsigned(k.expect(der::INTEGER).ok_or(MALFORMED)?).ok_or(MALFORMED)?;
    let e = der::unsigned(k.expect(der::INTEGER).ok_or(MALFORMED)?).ok_or(MALFORMED)?;
    check_rsa_public(n, e)
}

/// `ECPrivateKey` (RFC 5915 §3): version 1, the 32-byte scalar, the curve (if repeated here)
/// and the public point, which `ring` needs.
fn ec(private: &[u8]) -> Result<Found, SignError> {
    let mut k = Reader::new(Reader::single(private, der::SEQUENCE).ok_or(MALFORMED)?);
    if k.expect(der::INTEGER) != Some(&[1]) {
        return Err(MALFORMED);
    }
    let d: [u8; 32] = k.expect(der::OCTET_STRING).ok_or(MALFORMED)?.try_into().map_err(|_| MALFORMED)?;
    let d = Zeroizing::new(d);
    if let Some(params) = k.take_if(der::CONTEXT_0)
        && Reader::single(params, der::OID) != Some(P256)
    {
        return Err(SignError::InvalidKey { reason: "the EC key names two different curves" });
    }
    let public = k.take_if(der::CONTEXT_1);
    if !k.is_empty() {
        return Err(MALFORMED);
    }
    let Some(public) = public else {
        return Err(SignError::InvalidKey { reason: "the EC private key does not hold its public key" });
    };
    let bits = Reader::single(public, der::BIT_STRING).and_then(der::whole_bytes).ok_or(MALFORMED)?;
    let point: [u8; 65] = bits.try_into().map_err(|_| MALFORMED)?;
    if point[0] != 0x04 {
        return Err(SignError::InvalidKey { reason: "the EC public key is not an uncompressed point" });
    }
    Ok(Found::P256 { d, point })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PKCS#8 document around `alg` (the AlgorithmIdentifier's contents) and `private`.
    fn doc(version: u8, alg: &[u8], private: &[u8], rest: &[u8]) -> Zeroizing<Vec<u8>> {
        let tlv = |tag: u8, contents: &[u8]| {
            let mut v = vec![tag];
            if contents.len() < 0x80 {
                v.push(contents.len() as u8);
            } else {
                v.extend([0x82, (contents.len() >> 8) as u8, contents.len() as u8]);
            }
            v.extend_from_slice(contents);
            v
        };
        let mut body = tlv(der::INTEGER, &[version]);
        body.extend(tlv(der::SEQUENCE, alg));
        body.extend(tlv(der::OCTET_STRING, private));
        body.extend_from_slice(rest);
        Zeroizing::new(tlv(der::SEQUENCE, &body))
    }

    fn oid(bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![der::OID, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    fn reason(result: Result<KeyParts, SignError>) -> Option<SignError> {
        result.err()
    }

    #[test]
    fn ed25519_v1_and_v2() {
        let mut private = vec![der::OCTET_STRING, 32];
        private.extend([9; 32]);
        let v1 = parse_der(doc(0, &oid(ED25519), &private, &[]));
        assert!(matches!(v1, Ok(KeyParts::Ed25519 { public: None, .. })));
        let mut public = vec![der::CONTEXT_1_PRIMITIVE, 33, 0];
        public.extend([7; 32]);
        let v2 = parse_der(doc(1, &oid(ED25519), &private, &public));
        assert!(matches!(v2, Ok(KeyParts::Ed25519 { public: Some([7, ..]), .. })));
        // Version 3, a short seed, trailing bytes, parameters.
        assert!(reason(parse_der(doc(2, &oid(ED25519), &private, &[]))).is_some());
        assert_eq!(reason(parse_der(doc(0, &oid(ED25519), &private[..20], &[]))), Some(MALFORMED));
        assert_eq!(reason(parse_der(doc(0, &oid(ED25519), &private, &[0x05, 0x00]))), Some(MALFORMED));
        let mut with_params = oid(ED25519);
        with_params.extend([0x05, 0x00]);
        assert_eq!(reason(parse_der(doc(0, &with_params, &private, &[]))), Some(MALFORMED));
    }

    #[test]
    fn key_types_refused_by_name() {
        let unsupported = |alg: Vec<u8>| {
            matches!(parse_der(doc(0, &alg, &[0x05, 0x00], &[])), Err(SignError::UnsupportedKey { .. }))
        };
        assert!(unsupported(oid(RSASSA_PSS)));
        assert!(unsupported(oid(&[0x2B, 0x65, 0x71])));
        assert!(unsupported(oid(&[0x2A, 0x03])));
        let mut p384 = oid(EC_PUBLIC_KEY);
        p384.extend(oid(&[0x2B, 0x81, 0x04, 0x00, 0x22]));
        assert!(unsupported(p384));
    }

    #[test]
    fn pem_sections() {
        let refused = |text: &str| parse_pem(text).err();
        assert!(matches!(refused("no PEM here"), Some(SignError::InvalidKey { .. })));
        assert!(matches!(
            refused("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
            Some(SignError::UnsupportedKey { .. })
        ));
        assert!(matches!(
            refused("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
            Some(SignError::UnsupportedKey { .. })
        ));
        assert!(matches!(
            refused("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            Some(SignError::UnsupportedKey { .. })
        ));
        assert_eq!(
            refused("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Some(MALFORMED)
        );
        assert!(matches!(
            refused("-----BEGIN PRIVATE KEY-----\nAA!A\n-----END PRIVATE KEY-----\n"),
            Some(SignError::InvalidKey { .. })
        ));
    }
}
