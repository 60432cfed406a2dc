//! [`Algorithm`]: the JWS `alg` values this crate verifies and signs with (RFC 7518 §3,
//! RFC 8037 §3.1), shared by `verify` and `sign`; the sets and hashes are verify's.

// With `sign` alone, verify's parts of this file (the algorithm sets, the hashes) go unused.
#![cfg_attr(not(feature = "verify"), allow(dead_code))]

use std::fmt;

/// A JWS signature algorithm this crate verifies. `none` is not one of them, nor is any
/// other `alg`.
///
/// ```
/// use oidc_refresh_core::Algorithm;
///
/// assert_eq!(Algorithm::from_name("ES256"), Some(Algorithm::Es256));
/// assert_eq!(Algorithm::from_name("none"), None);
/// assert_eq!(Algorithm::EdDsa.name(), "EdDSA");
/// assert!(Algorithm::ALL.iter().all(|a| Algorithm::from_name(a.name()) == Some(*a)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (MGF1 with SHA-256, a 32-byte salt).
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256, the signature in the JOSE `R || S` form.
    Es256,
    /// ECDSA on P-384 with SHA-384, the signature in the JOSE `R || S` form.
    Es384,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDsa,
    /// HMAC with SHA-256, keyed with the client secret's octets (OIDC Core §10.1).
    Hs256,
    /// HMAC with SHA-384, keyed with the client secret's octets.
    Hs384,
    /// HMAC with SHA-512, keyed with the client secret's octets.
    Hs512,
}

/// What kind of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    /// An RSA public key from the key set.
    Rsa,
    /// An EC public key from the key set (the curve follows from the algorithm).
    Ec,
    /// An Ed25519 public key from the key set.
    Okp,
    /// The client secret; never a key from the key set.
    Hmac,
}

/// The hash an algorithm signs with, for `at_hash` (OIDC Core §3.1.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in the order of the variants.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
    ];

    /// The algorithm named `name` (`RS256`, ..., `EdDSA`, `HS512`: exact, case-sensitive, as
    /// JWS requires); `None` for `none` and every other name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::Rs256,
            "RS384" => Algorithm::Rs384,
            "RS512" => Algorithm::Rs512,
            "PS256" => Algorithm::Ps256,
            "PS384" => Algorithm::Ps384,
            "PS512" => Algorithm::Ps512,
            "ES256" => Algorithm::Es256,
            "ES384" => Algorithm::Es384,
            "EdDSA" => Algorithm::EdDsa,
            "HS256" => Algorithm::Hs256,
            "HS384" => Algorithm::Hs384,
            "HS512" => Algorithm::Hs512,
            _ => return None,
        })
    }

    /// The algorithm's `alg` name, e.g. `RS256` or `EdDSA`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
        }
    }

    /// `true` for HS256, HS384 and HS512: checked with the client secret, never with a key
    /// from a key set.
    #[must_use]
    pub fn is_hmac(self) -> bool {
        self.family() == Family::Hmac
    }

    pub(super) fn family(self) -> Family {
        match self {
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => Family::Rsa,
            Algorithm::Es256 | Algorithm::Es384 => Family::Ec,
            Algorithm::EdDsa => Family::Okp,
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => Family::Hmac,
        }
    }

    pub(super) fn hash(self) -> Hash {
        match self {
            Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 | Algorithm::Hs256 => Hash::Sha256,
            Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 | Algorithm::Hs384 => Hash::Sha384,
            // Ed25519 hashes with SHA-512 (OIDC Core §3.1.3.6 names the hash of the JOSE
            // header's alg; for EdDSA with Ed25519 that is SHA-512, as implementations agree).
            Algorithm::Rs512 | Algorithm::Ps512 | Algorithm::EdDsa | Algorithm::Hs512 => Hash::Sha512,
        }
    }

    /// This algorithm as one bit of an [`AlgSet`].
    pub(super) const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of algorithms as bits ([`Algorithm::bit`]): which algorithms a key may verify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct AlgSet(u16);

impl AlgSet {
    pub(super) const EMPTY: AlgSet = AlgSet(0);
    pub(super) const RSA: AlgSet = AlgSet(
        Algorithm::Rs256.bit()
            | Algorithm::Rs384.bit()
            | Algorithm::Rs512.bit()
            | Algorithm::Ps256.bit()
            | Algorithm::Ps384.bit()
            | Algorithm::Ps512.bit(),
    );

    pub(super) const fn only(alg: Algorithm) -> AlgSet {
        AlgSet(alg.bit())
    }

    pub(super) fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// The algorithms of `self` that are also `alg` (the one a JWK's `alg` member names).
    pub(super) fn restrict_to(self, alg: Option<Algorithm>) -> AlgSet {
        match alg {
            Some(alg) if self.contains(alg) => AlgSet::only(alg),
            _ => AlgSet::EMPTY,
        }
    }

    #[cfg(test)]
    pub(super) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_distinct() {
        let mut seen = 0u16;
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
            assert_eq!(alg.to_string(), alg.name());
            assert_eq!(seen & alg.bit(), 0);
            seen |= alg.bit();
        }
        for name in ["none", "None", "NONE", "rs256", "ES512", "ES256K", "Ed25519", "", "HS256 "] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn sets() {
        assert!(AlgSet::RSA.contains(Algorithm::Ps384));
        assert!(!AlgSet::RSA.contains(Algorithm::Es256));
        assert_eq!(AlgSet::RSA.restrict_to(Some(Algorithm::Rs256)), AlgSet::only(Algorithm::Rs256));
        assert!(AlgSet::RSA.restrict_to(Some(Algorithm::Es256)).is_empty());
        assert!(AlgSet::RSA.restrict_to(None).is_empty());
        assert!(Algorithm::Hs384.is_hmac() && !Algorithm::EdDsa.is_hmac());
    }
}
