//! [`SigningKey`]: a private key read once into what `ring` signs with, its algorithm, its
//! public JWK and its thumbprint.

use std::fmt;
use std::sync::OnceLock;

use ring::digest::{SHA256, digest};
use ring::rand::SecureRandom;
use ring::rsa::{KeyPairComponents, PublicKeyComponents};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::jws::b64;
use super::parts::KeyParts;
use super::{Algorithm, SignError, jwk, pkcs8};
use crate::redact::sanitize;

/// A private key that signs client assertions and DPoP proofs, with its algorithm: RS256 or
/// PS256 (RSA, 2048 to 4096 bits), ES256 (EC P-256) or EdDSA (Ed25519).
///
/// Read from a private JWK ([`from_jwk`](Self::from_jwk)) or a PKCS#8 PEM
/// ([`from_pkcs8_pem`](Self::from_pkcs8_pem)). The text is only read: the copies made
/// from it (decoded JSON strings, the DER, the key's parts) are zeroed when they are
/// dropped, and the key itself lives in `ring`'s key pairs. The caller owns the text and
/// zeroes it.
///
/// `Debug` shows the algorithm and the `kid` only; there is no `Display`. Share one key
/// between threads behind an `Arc` (it is `Send` and `Sync`).
///
/// ```
/// use oidc_refresh_core::{Algorithm, SigningKey};
///
/// // RFC 8037 Appendix A.1: an Ed25519 private JWK.
/// let key = SigningKey::from_jwk(
///     r#"{"kty":"OKP","crv":"Ed25519","kid":"k1",
///         "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
///         "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
///     None,
/// )?;
/// assert_eq!(key.algorithm(), Algorithm::EdDsa);
/// assert_eq!(key.kid(), Some("k1"));
/// // RFC 8037 Appendix A.3: its thumbprint.
/// assert_eq!(key.jwk_thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
/// // The public JWK holds no private member.
/// assert!(key.public_jwk().get("d").is_none());
/// assert_eq!(format!("{key:?}"), r#"SigningKey { algorithm: EdDSA, kid: Some("k1") }"#);
/// # Ok::<(), oidc_refresh_core::SignError>(())
/// ```
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    pair: Pair,
    public: Public,
    /// The DPoP proof header in base64url: the same for every proof made with this key.
    dpop_header: String,
    /// The client assertion header in base64url (`alg`, `typ`, `kid`).
    assertion_header: String,
}

/// What `ring` signs with.
enum Pair {
    Rsa(RsaKeyPair),
    P256(Box<P256>),
    Ed25519(Ed25519KeyPair),
}

/// An EC P-256 key. `ring` makes an ECDSA key pair only with a random number generator,
/// which the core has only when asked to sign: the pair is made then, once, and kept.
struct P256 {
    d: Zeroizing<[u8; 32]>,
    point: [u8; 65],
    pair: OnceLock<EcdsaKeyPair>,
}

/// The public members of the key's JWK, base64url.
enum Public {
    Rsa { n: String, e: String },
    P256 { x: String, y: String },
    Ed25519 { x: String },
}

/// The kind of a key, for choosing and checking its algorithm.
#[derive(Clone, Copy)]
enum Kind {
    Rsa,
    P256,
    Ed25519,
}

impl Kind {
    fn of(parts: &KeyParts) -> Kind {
        match parts {
            KeyParts::Rsa(_) | KeyParts::RsaPkcs8(_) => Kind::Rsa,
            KeyParts::P256 { .. } => Kind::P256,
            KeyParts::Ed25519 { .. } => Kind::Ed25519,
        }
    }

    /// The algorithm used when none is asked for and the JWK names none.
    fn default_alg(self) -> Algorithm {
        match self {
            Kind::Rsa => Algorithm::Rs256,
            Kind::P256 => Algorithm::Es256,
            Kind::Ed25519 => Algorithm::EdDsa,
        }
    }

    fn fits(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (Kind::Rsa, Algorithm::Rs256 | Algorithm::Ps256)
                | (Kind::P256, Algorithm::Es256)
                | (Kind::Ed25519, Algorithm::EdDsa)
        )
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Rsa => "RSA",
            Kind::P256 => "EC P-256",
            Kind::Ed25519 => "OKP Ed25519",
        }
    }
}

impl SigningKey {
    /// Reads a private JWK (RFC 7517): RSA with `n`, `e`, `d`, `p`, `q`, `dp`, `dq` and
    /// `qi`; EC P-256 with `x`, `y` and `d`; OKP Ed25519 with `x` and `d`. Its `kid`, if any,
    /// is kept for the client assertion header.
    ///
    /// `alg`: the algorithm to sign with; `None` takes the JWK's `alg` member, or else the
    /// key's natural one (RS256 for RSA, ES256 for P-256, EdDSA for Ed25519).
    ///
    /// A JWK whose `use` is not `sig`, whose `key_ops` lacks `sign`, or whose `alg` names
    /// another algorithm than `alg` is refused. An EC key's private and public parts are
    /// checked against each other when it first signs (`ring` makes an ECDSA key only with a
    /// random number generator), or at once with [`prepare`](Self::prepare).
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidKey`] when the text is not a private JWK or its parts do not fit
    /// together; [`SignError::UnsupportedKey`] for another key type or curve, a multi-prime
    /// or over-4096-bit RSA key; [`SignError::WeakKey`] for an RSA modulus under 2048 bits;
    /// [`SignError::UsageForbidden`] when the JWK's members forbid signing with `alg`;
    /// [`SignError::AlgorithmMismatch`] when `alg` does not fit the key.
    pub fn from_jwk(jwk: &str, alg: Option<Algorithm>) -> Result<SigningKey, SignError> {
        let read = jwk::parse(jwk)?;
        if let (Some(asked), Some(named)) = (alg, read.alg)
            && asked != named
        {
            return Err(SignError::UsageForbidden { reason: "its `alg` names another algorithm" });
        }
        SigningKey::new(read.parts, read.kid, alg.or(read.alg))
    }

    /// Reads the PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`, RFC 5958 and RFC 7468)
    /// of a PEM text: RSA (`rsaEncryption`), EC P-256 or Ed25519. Other PEM sections
    /// (certificates, public keys) are skipped; the text must hold exactly one private key.
    ///
    /// `alg`: the algorithm to sign with; `None` takes the key's natural one (RS256 for RSA,
    /// ES256 for P-256, EdDSA for Ed25519). The key has no `kid` until
    /// [`with_kid`](Self::with_kid) gives it one.
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidKey`] when the text holds no PKCS#8 private key, several, or a
    /// malformed one; [`SignError::UnsupportedKey`] for PKCS#1 and SEC1 keys (convert them
    /// with `openssl pkcs8 -topk8 -nocrypt`), encrypted keys, and other key types or curves;
    /// [`SignError::WeakKey`] for an RSA modulus under 2048 bits;
    /// [`SignError::AlgorithmMismatch`] when `alg` does not fit the key.
    pub fn from_pkcs8_pem(pem: &str, alg: Option<Algorithm>) -> Result<SigningKey, SignError> {
        SigningKey::new(pkcs8::parse_pem(pem)?, None, alg)
    }

    /// Reads a key file's text: a private JWK when it starts with `{` (after white space), a
    /// PKCS#8 PEM otherwise (`--client-key-file`, `--dpop-key`).
    ///
    /// # Errors
    ///
    /// Those of [`from_jwk`](Self::from_jwk) and [`from_pkcs8_pem`](Self::from_pkcs8_pem).
    pub fn from_jwk_or_pem(text: &str, alg: Option<Algorithm>) -> Result<SigningKey, SignError> {
        if text.trim_start().starts_with('{') {
            SigningKey::from_jwk(text, alg)
        } else {
            SigningKey::from_pkcs8_pem(text, alg)
        }
    }

    fn new(parts: KeyParts, kid: Option<String>, alg: Option<Algorithm>) -> Result<SigningKey, SignError> {
        let kind = Kind::of(&parts);
        let alg = alg.unwrap_or_else(|| kind.default_alg());
        if !kind.fits(alg) {
            return Err(SignError::AlgorithmMismatch { alg: alg.name(), key: kind.name() });
        }
        let (pair, public) = key_pair(parts)?;
        let dpop_header = b64(format!(
            r#"{{"typ":"dpop+jwt","alg":"{}","jwk":{}}}"#,
            alg.name(),
            public.required_members()
        ));
        let mut key = SigningKey { alg, kid, pair, public, dpop_header, assertion_header: String::new() };
        key.assertion_header = key.make_assertion_header();
        Ok(key)
    }

    /// This key with `kid` as its key id: the `kid` of its client assertions' header and of
    /// its public JWK, so that the provider picks the right key of the client's key set. A
    /// DPoP proof carries the public key itself, never a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> SigningKey {
        self.kid = Some(kid.into());
        self.assertion_header = self.make_assertion_header();
        self
    }

    fn make_assertion_header(&self) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), self.alg.name().into());
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), kid.as_str().into());
        }
        b64(Value::Object(header).to_string())
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id: the JWK's `kid`, or the one given to [`with_kid`](Self::with_kid).
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public JWK: `kty`, then `crv`, `x`, `y` (EC, OKP) or `n`, `e` (RSA), `kid` if
    /// any, `alg`, and `use` `sig`. Never a private member: what a client registers in its
    /// key set (`jwks`, `jwks_uri`).
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        let mut jwk = Map::new();
        match &self.public {
            Public::Rsa { n, e } => {
                jwk.insert("kty".into(), "RSA".into());
                jwk.insert("n".into(), n.as_str().into());
                jwk.insert("e".into(), e.as_str().into());
            }
            Public::P256 { x, y } => {
                jwk.insert("kty".into(), "EC".into());
                jwk.insert("crv".into(), "P-256".into());
                jwk.insert("x".into(), x.as_str().into());
                jwk.insert("y".into(), y.as_str().into());
            }
            Public::Ed25519 { x } => {
                jwk.insert("kty".into(), "OKP".into());
                jwk.insert("crv".into(), "Ed25519".into());
                jwk.insert("x".into(), x.as_str().into());
            }
        }
        if let Some(kid) = &self.kid {
            jwk.insert("kid".into(), kid.as_str().into());
        }
        jwk.insert("alg".into(), self.alg.name().into());
        jwk.insert("use".into(), "sig".into());
        Value::Object(jwk)
    }

    /// The JWK thumbprint (RFC 7638 §3, RFC 8037 §2): base64url of the SHA-256 of the
    /// public key's required members in lexicographic order, without white space. DPoP's
    /// `jkt` (RFC 9449 §6), which a server binds its tokens to.
    #[must_use]
    pub fn jwk_thumbprint(&self) -> String {
        b64(digest(&SHA256, self.public.required_members().as_bytes()))
    }

    /// Signs `signing_input` (a JWS's `header.payload`): RSASSA-PKCS1-v1_5 or RSASSA-PSS
    /// with SHA-256 (RS256, PS256), ECDSA P-256 with SHA-256 in the JOSE `R || S` form
    /// (ES256, RFC 7518 §3.4), or Ed25519 (EdDSA, deterministic).
    ///
    /// `rng`: the caller's random number generator, for ECDSA nonces and PSS salts. The core
    /// makes none; `ring`'s `SecureRandom` is sealed, so a driver passes
    /// `ring::rand::SystemRandom`, made once and kept.
    ///
    /// ```
    /// use oidc_refresh_core::SigningKey;
    /// use ring::rand::SystemRandom;
    ///
    /// let key = SigningKey::from_jwk(
    ///     r#"{"kty":"OKP","crv":"Ed25519",
    ///         "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    ///         "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    ///     None,
    /// )?;
    /// // RFC 8037 Appendix A.4: Ed25519 is deterministic.
    /// let signature = key.sign(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc", &SystemRandom::new())?;
    /// assert_eq!(signature.len(), 64);
    /// assert_eq!(&signature[..4], &[0x86, 0x0c, 0x98, 0xd2]);
    /// # Ok::<(), oidc_refresh_core::SignError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SignError::SigningFailed`] when `rng` fails; [`SignError::InvalidKey`] when an EC
    /// key, made into a key pair at its first signature, turns out to be inconsistent (its
    /// private and public parts do not match).
    pub fn sign(&self, signing_input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::Ps256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(padding, rng, signing_input, &mut sig).map_err(|_| SignError::SigningFailed)?;
                Ok(sig)
            }
            Pair::P256(key) => {
                let sig = key.pair(rng)?.sign(rng, signing_input).map_err(|_| SignError::SigningFailed)?;
                Ok(sig.as_ref().to_vec())
            }
            Pair::Ed25519(pair) => Ok(pair.sign(signing_input).as_ref().to_vec()),
        }
    }

    /// Makes what signing needs now rather than at the first signature: for an EC key, the
    /// ECDSA key pair, which checks that its private and public parts match (`ring` makes
    /// one only with a random number generator). Nothing to do for RSA and Ed25519 keys,
    /// checked when they were read. A driver calls it right after reading a key, to refuse a
    /// bad one before anything is sent.
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidKey`] when the EC key's parts do not match;
    /// [`SignError::SigningFailed`] when `rng` fails.
    pub fn prepare(&self, rng: &dyn SecureRandom) -> Result<(), SignError> {
        match &self.pair {
            Pair::P256(key) => key.pair(rng).map(|_| ()),
            Pair::Rsa(_) | Pair::Ed25519(_) => Ok(()),
        }
    }

    /// The DPoP proof header, base64url.
    pub(super) fn dpop_header(&self) -> &str {
        &self.dpop_header
    }

    /// The client assertion header, base64url.
    pub(super) fn assertion_header(&self) -> &str {
        &self.assertion_header
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &format_args!("{}", self.alg))
            .field("kid", &self.kid.as_deref().map(|k| sanitize(k, 64)))
            .finish()
    }
}

impl P256 {
    /// The ECDSA key pair, made with `rng` the first time.
    fn pair(&self, rng: &dyn SecureRandom) -> Result<&EcdsaKeyPair, SignError> {
        if let Some(pair) = self.pair.get() {
            return Ok(pair);
        }
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &*self.d,
            &self.point,
            rng,
        )
        .map_err(|e| {
            // `ring` checks the key before it draws from `rng`: its only other refusal.
            if e.to_string() == "RNG failed" {
                SignError::SigningFailed
            } else {
                SignError::InvalidKey {
                    reason: "the EC private key is out of range or does not match its public key",
                }
            }
        })?;
        // Another thread may have made it meanwhile: either pair is the same key.
        let _ = self.pair.set(pair);
        self.pair.get().ok_or(SignError::SigningFailed)
    }
}

impl Public {
    /// The required members in lexicographic order, no white space (RFC 7638 §3.2, RFC 8037
    /// §2): the thumbprint's input and the DPoP header's `jwk`. Base64url values need no
    /// escaping.
    fn required_members(&self) -> String {
        match self {
            Public::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            Public::P256 { x, y } => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            Public::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        }
    }
}

/// The parts made into what `ring` signs with, and the public members.
fn key_pair(parts: KeyParts) -> Result<(Pair, Public), SignError> {
    let rsa_refused = |e: ring::error::KeyRejected| match e.to_string().as_str() {
        "PrivateModulusLenNotMultipleOf512Bits" => {
            SignError::UnsupportedKey { reason: "an RSA modulus whose length is not a multiple of 512 bits" }
        }
        _ => SignError::InvalidKey { reason: "the RSA key's parts are malformed or do not fit together" },
    };
    Ok(match parts {
        KeyParts::Rsa(p) => {
            let components = KeyPairComponents {
                public_key: PublicKeyComponents { n: &p.n[..], e: &p.e[..] },
                d: &p.d[..],
                p: &p.p[..],
                q: &p.q[..],
                dP: &p.dp[..],
                dQ: &p.dq[..],
                qInv: &p.qi[..],
            };
            rsa_pair(RsaKeyPair::from_components(&components).map_err(rsa_refused)?)
        }
        KeyParts::RsaPkcs8(der) => rsa_pair(RsaKeyPair::from_pkcs8(&der).map_err(rsa_refused)?),
        KeyParts::P256 { d, point } => {
            let public = Public::P256 { x: b64(&point[1..33]), y: b64(&point[33..]) };
            (Pair::P256(Box::new(P256 { d, point, pair: OnceLock::new() })), public)
        }
        KeyParts::Ed25519 { seed, public } => {
            let pair = match public {
                Some(public) => Ed25519KeyPair::from_seed_and_public_key(&*seed, &public),
                None => Ed25519KeyPair::from_seed_unchecked(&*seed),
            }
            .map_err(|_| SignError::InvalidKey {
                reason: "the Ed25519 private key does not match its public key",
            })?;
            let public = Public::Ed25519 { x: b64(pair.public_key()) };
            (Pair::Ed25519(pair), public)
        }
    })
}

fn rsa_pair(pair: RsaKeyPair) -> (Pair, Public) {
    let components: PublicKeyComponents<Vec<u8>> = pair.public().into();
    let public = Public::Rsa { n: b64(&components.n), e: b64(&components.e) };
    (Pair::Rsa(pair), public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_of_its_rsa_example() {
        // RFC 7638 §3.1: the key and its thumbprint.
        let public = Public::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into(),
            e: "AQAB".into(),
        };
        assert_eq!(
            b64(digest(&SHA256, public.required_members().as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn algorithms_fit_their_keys() {
        for (kind, algs) in [
            (Kind::Rsa, &[Algorithm::Rs256, Algorithm::Ps256][..]),
            (Kind::P256, &[Algorithm::Es256]),
            (Kind::Ed25519, &[Algorithm::EdDsa]),
        ] {
            assert!(algs.contains(&kind.default_alg()));
            for alg in Algorithm::ALL {
                assert_eq!(kind.fits(alg), algs.contains(&alg), "{} {alg}", kind.name());
            }
        }
    }

    #[test]
    fn send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<SigningKey>();
    }
}
