//! [`JwkSet`]: a JWK Set (RFC 7517 §5) read into typed public keys, each turned into what
//! `ring` verifies with once, when the set is parsed.
//!
//! The set is read in one pass by serde_json with the visitors below (no tree is built):
//! member names may not repeat in any object (the members the reader does not use are
//! walked by [`json::check_text`], as everywhere in this crate), the top level must be an
//! object with a `keys` array. A member of `keys` that this crate cannot use is skipped, as
//! RFC 7517 §5 asks: an unknown `kty` or `crv`, `oct` (HMAC is only ever checked with the
//! client secret), a key missing a member it needs or with one out of range, and anything
//! that is not an object.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::alg::{AlgSet, Algorithm};
use crate::error::KeySetError;
use crate::json::{self, CowStr};
use crate::redact::sanitize;

/// A parsed JWK Set: the public keys this crate can verify with (RSA; EC P-256 and P-384;
/// OKP Ed25519), in the set's order.
///
/// Members of an unknown `kty` or `crv`, `oct` keys and malformed keys are skipped, not
/// fatal (RFC 7517 §5). Each key is decoded into the form `ring` verifies with when the set
/// is parsed, so verifying re-parses nothing. Cloning is cheap (the keys are shared).
/// `Debug` shows each key's `kid` and `kty` only.
///
/// ```
/// use oidc_refresh_core::JwkSet;
///
/// let set = JwkSet::parse(br#"{"keys":[
///     {"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
///     {"kty":"oct","kid":"hmac","k":"c2VjcmV0"}
/// ]}"#)?;
/// assert_eq!(set.len(), 1);
/// assert_eq!(set.kids().collect::<Vec<_>>(), [Some("k1")]);
/// assert!(JwkSet::parse(br#"{"keys":{}}"#).is_err());
/// # Ok::<(), oidc_refresh_core::KeySetError>(())
/// ```
#[derive(Clone)]
pub struct JwkSet {
    keys: Arc<[Jwk]>,
}

/// One usable key of a set.
pub(super) struct Jwk {
    kid: Option<Box<str>>,
    /// The algorithms this key may verify: those of its type and curve, narrowed by its
    /// `alg`, emptied by a `use` other than `sig` or `key_ops` without `verify`.
    algs: AlgSet,
    key: Key,
}

/// A public key, ready for `ring`.
pub(super) enum Key {
    /// RSA: the modulus and exponent without leading zero bytes.
    Rsa(RsaKey),
    /// EC P-256: the uncompressed point `0x04 || x || y`.
    P256(Box<[u8]>),
    /// EC P-384: the uncompressed point `0x04 || x || y`.
    P384(Box<[u8]>),
    /// Ed25519: the 32-byte public key.
    Ed25519([u8; 32]),
}

/// An RSA public key as big-endian bytes without leading zeros.
pub(super) struct RsaKey {
    pub(super) n: Vec<u8>,
    pub(super) e: Vec<u8>,
    /// `false` for a modulus under 2048 or over 8192 bits, an even modulus, or an exponent
    /// `ring` refuses (even, under 3, over 33 bits): never used, refused as a weak key.
    pub(super) usable: bool,
}

impl Jwk {
    pub(super) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// Whether this key is a candidate for `alg` (its type, curve, `use`, `alg`, `key_ops`).
    pub(super) fn fits(&self, alg: Algorithm) -> bool {
        self.algs.contains(alg)
    }
    pub(super) fn key(&self) -> &Key {
        &self.key
    }
}

impl Key {
    fn kty(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "RSA",
            Key::P256(_) | Key::P384(_) => "EC",
            Key::Ed25519(_) => "OKP",
        }
    }
}

impl JwkSet {
    /// Reads a JWK Set.
    ///
    /// # Errors
    ///
    /// [`KeySetError`] when `bytes` is not UTF-8 JSON, not an object with a `keys` array,
    /// or repeats a member name in any object. Keys this crate cannot use are skipped, not
    /// errors.
    pub fn parse(bytes: &[u8]) -> Result<JwkSet, KeySetError> {
        let text = std::str::from_utf8(bytes).map_err(|_| KeySetError::new("the body is not UTF-8"))?;
        let mut ctx = Ctx { error: None, expecting: "the body is JSON but not an object" };
        let mut de = serde_json::Deserializer::from_str(text);
        let read = SetSeed(&mut ctx).deserialize(&mut de).and_then(|keys| de.end().map(|()| keys));
        match read {
            Ok(keys) => Ok(JwkSet { keys: keys.into() }),
            Err(e) => Err(ctx.error.take().unwrap_or_else(|| ctx.classify(&e))),
        }
    }

    /// How many usable keys the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid` of each usable key, in the set's order (`None` for a key without one).
    pub fn kids(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(Jwk::kid)
    }

    /// The usable keys.
    pub(super) fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// An empty set (no key fits anything).
    pub(super) fn empty() -> JwkSet {
        JwkSet { keys: Arc::from(Vec::new()) }
    }
}

impl fmt::Debug for JwkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entry<'a>(&'a Jwk);
        impl fmt::Debug for Entry<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let kid = self.0.kid().map(|k| sanitize(k, 64));
                f.debug_struct("Jwk").field("kid", &kid).field("kty", &self.0.key.kty()).finish()
            }
        }
        f.debug_struct("JwkSet").field("keys", &self.keys.iter().map(Entry).collect::<Vec<_>>()).finish()
    }
}

/// Where an error comes from while reading: set by the visitors before they fail, so that a
/// serde_json data error (whose message may quote the input) is never shown.
struct Ctx {
    error: Option<KeySetError>,
    /// What a serde_json data error at this point means.
    expecting: &'static str,
}

impl Ctx {
    fn classify(&self, e: &serde_json::Error) -> KeySetError {
        use serde_json::error::Category;
        match e.classify() {
            // Syntax messages name a position only, never input text.
            Category::Syntax | Category::Eof | Category::Io => {
                KeySetError::new(format!("the body is not JSON ({e})"))
            }
            Category::Data => KeySetError::new(self.expecting),
        }
    }

    /// Fails the read with `error` (kept here; serde_json's error is dropped).
    fn fail<E: de::Error>(&mut self, error: KeySetError) -> E {
        self.error = Some(error);
        E::custom("unusable JWK Set")
    }

    fn duplicate<E: de::Error>(&mut self, name: &str) -> E {
        let name = sanitize(name, 64);
        self.fail(KeySetError::new(format!("the member name {name:?} appears more than once in one object")))
    }

    /// Checks a value the reader does not use: no object in it repeats a member name.
    fn check<E: de::Error>(&mut self, raw: &RawValue) -> Result<(), E> {
        match json::check_text(raw.get()) {
            Ok(()) => Ok(()),
            Err(json::ObjectError::Duplicate(name)) => Err(self.duplicate(&name)),
            Err(_) => Err(self.fail(KeySetError::new("the body is not JSON"))),
        }
    }
}

/// The member names of one object, to refuse a repeated one: the names a reader knows by
/// their id (bits), the others by value.
#[derive(Default)]
struct Names<'de> {
    known: u32,
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Names<'de> {
    /// Notes a name the reader knows as `id` (under 32); `false` when it was already there.
    fn insert_known(&mut self, id: u8) -> bool {
        let bit = 1 << id;
        let fresh = self.known & bit == 0;
        self.known |= bit;
        fresh
    }

    /// Notes any other `name`; `false` when it was already there.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(name);
        }
        if self.few.contains(&name) {
            return false;
        }
        self.few.push(name);
        if self.few.len() > 24 {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// The top level: an object with a `keys` array.
struct SetSeed<'c>(&'c mut Ctx);

impl<'de> DeserializeSeed<'de> for SetSeed<'_> {
    type Value = Vec<Jwk>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SetSeed<'_> {
    type Value = Vec<Jwk>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWK Set")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.0;
        let mut names = Names::default();
        let mut keys = None;
        while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
            let is_keys = name == "keys";
            let fresh = if is_keys { names.insert_known(0) } else { names.insert(name.clone()) };
            if !fresh {
                return Err(ctx.duplicate(&name));
            }
            if is_keys {
                ctx.expecting = "the member `keys` is not an array";
                keys = map.next_value_seed(KeysSeed(&mut *ctx))?;
                ctx.expecting = "the body is not a JWK Set";
            } else {
                let raw: &RawValue = map.next_value()?;
                ctx.check(raw)?;
            }
        }
        keys.ok_or_else(|| ctx.fail(KeySetError::new("the member `keys` is missing")))
    }
}

/// The value of `keys`: an array (`null` counts as absent).
struct KeysSeed<'c>(&'c mut Ctx);

impl<'de> DeserializeSeed<'de> for KeysSeed<'_> {
    type Value = Option<Vec<Jwk>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for KeysSeed<'_> {
    type Value = Option<Vec<Jwk>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of JWKs")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let ctx = self.0;
        ctx.expecting = "the body is not a JWK Set";
        let mut keys = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(16));
        while let Some(key) = seq.next_element_seed(ElementSeed(&mut *ctx))? {
            keys.extend(key);
        }
        Ok(Some(keys))
    }
}

/// One member of `keys`: a JWK if it is an object this crate can use, skipped otherwise.
struct ElementSeed<'c>(&'c mut Ctx);

impl<'de> DeserializeSeed<'de> for ElementSeed<'_> {
    type Value = Option<Jwk>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_> {
    type Value = Option<Jwk>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWK")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Not a JWK, but still held to the rule on repeated names.
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            self.0.check(raw)?;
        }
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.0;
        let mut names = Names::default();
        let mut m = JwkMembers::default();
        while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
            let field = Field::of(&name);
            let fresh = match field {
                Field::Other => names.insert(name.clone()),
                known => names.insert_known(known as u8),
            };
            if !fresh {
                return Err(ctx.duplicate(&name));
            }
            if field == Field::Other {
                let raw: &RawValue = map.next_value()?;
                ctx.check(raw)?;
            } else {
                let value = map.next_value_seed(MemberSeed(&mut *ctx))?;
                *m.slot(field) = value;
            }
        }
        Ok(m.into_jwk())
    }
}

/// The members of a JWK this crate reads.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    Kty,
    Crv,
    Kid,
    Use,
    Alg,
    KeyOps,
    N,
    E,
    X,
    Y,
    Other,
}

impl Field {
    fn of(name: &str) -> Field {
        match name {
            "kty" => Field::Kty,
            "crv" => Field::Crv,
            "kid" => Field::Kid,
            "use" => Field::Use,
            "alg" => Field::Alg,
            "key_ops" => Field::KeyOps,
            "n" => Field::N,
            "e" => Field::E,
            "x" => Field::X,
            "y" => Field::Y,
            _ => Field::Other,
        }
    }
}

/// A member of a JWK as read: absent (or `null`), a string, an array of strings (for
/// `key_ops`: whether it holds `verify`), or anything else.
#[derive(Default)]
enum Member<'de> {
    #[default]
    Absent,
    Str(Cow<'de, str>),
    List {
        verify: bool,
    },
    Invalid,
}

impl Member<'_> {
    /// `Ok(None)` when absent, `Err(())` when not a string.
    fn get(&self) -> Result<Option<&str>, ()> {
        match self {
            Member::Absent => Ok(None),
            Member::Str(s) => Ok(Some(s)),
            Member::List { .. } | Member::Invalid => Err(()),
        }
    }
}

/// Reads one member the JWK reader knows, in the same pass: a string borrowed from the input
/// when it holds no escape; any other value walked for repeated names.
struct MemberSeed<'c>(&'c mut Ctx);

impl<'de> DeserializeSeed<'de> for MemberSeed<'_> {
    type Value = Member<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed<'_> {
    type Value = Member<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWK member")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Member::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Member::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Member::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Member::Absent)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut strings, mut verify) = (true, false);
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            match json::as_str(raw) {
                Some(op) => verify |= op == "verify",
                None => {
                    strings = false;
                    self.0.check(raw)?;
                }
            }
        }
        Ok(if strings { Member::List { verify } } else { Member::Invalid })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut names = Names::default();
        while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
            if !names.insert(name.clone()) {
                return Err(self.0.duplicate(&name));
            }
            let raw: &RawValue = map.next_value()?;
            self.0.check(raw)?;
        }
        Ok(Member::Invalid)
    }
}

/// The members of one JWK that matter.
#[derive(Default)]
struct JwkMembers<'de> {
    kty: Member<'de>,
    crv: Member<'de>,
    kid: Member<'de>,
    use_: Member<'de>,
    alg: Member<'de>,
    n: Member<'de>,
    e: Member<'de>,
    x: Member<'de>,
    y: Member<'de>,
    key_ops: Member<'de>,
}

impl<'de> JwkMembers<'de> {
    fn slot(&mut self, field: Field) -> &mut Member<'de> {
        match field {
            Field::Kty => &mut self.kty,
            Field::Crv => &mut self.crv,
            Field::Kid => &mut self.kid,
            Field::Use => &mut self.use_,
            Field::Alg => &mut self.alg,
            Field::KeyOps => &mut self.key_ops,
            Field::N => &mut self.n,
            Field::E => &mut self.e,
            Field::X => &mut self.x,
            Field::Y | Field::Other => &mut self.y,
        }
    }

    /// The key, or `None` when it is of a type this crate does not use or malformed.
    fn into_jwk(self) -> Option<Jwk> {
        let (key, algs) = match (self.kty.get().ok()??, self.crv.get().ok()?) {
            ("RSA", _) => (Key::Rsa(rsa(self.n.get().ok()??, self.e.get().ok()??)?), AlgSet::RSA),
            ("EC", Some("P-256")) => {
                (Key::P256(point(&self.x, &self.y, 32)?), AlgSet::only(Algorithm::Es256))
            }
            ("EC", Some("P-384")) => {
                (Key::P384(point(&self.x, &self.y, 48)?), AlgSet::only(Algorithm::Es384))
            }
            ("OKP", Some("Ed25519")) => {
                let mut x = [0; 32];
                if decode(self.x.get().ok()??, &mut x)? != 32 {
                    return None;
                }
                (Key::Ed25519(x), AlgSet::only(Algorithm::EdDsa))
            }
            _ => return None,
        };
        let mut algs = algs;
        if let Some(alg) = self.alg.get().ok()? {
            algs = algs.restrict_to(Algorithm::from_name(alg));
        }
        if self.use_.get().ok()?.is_some_and(|u| u != "sig") {
            algs = AlgSet::EMPTY;
        }
        match self.key_ops {
            Member::Absent | Member::List { verify: true } => {}
            Member::List { verify: false } => algs = AlgSet::EMPTY,
            Member::Str(_) | Member::Invalid => return None,
        }
        let kid = self.kid.get().ok()?.map(Box::from);
        Some(Jwk { kid, algs, key })
    }
}

/// Decodes a base64url member into `out` (strict, unpadded; trailing `=` tolerated): the
/// number of bytes, or `None` when it is not base64url or does not fit.
fn decode(text: &str, out: &mut [u8]) -> Option<usize> {
    let text = text.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(text, out).ok()
}

/// Decodes a base64url member into a new buffer.
fn decode_vec(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    // The exact decoded length, so that the buffer is allocated once and never shrunk.
    let mut out = vec![0; text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1)];
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(text, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

/// An RSA key from `n` and `e`, their leading zero bytes stripped (RFC 7518 §6.3.1 forbids
/// them, some servers send them, `ring` refuses them).
fn rsa(n: &str, e: &str) -> Option<RsaKey> {
    // The largest modulus `ring` verifies with is 8192 bits; a larger one is kept (refused as
    // unusable) but not decoded past a bound.
    if n.len() > 4 * 1024 {
        return Some(RsaKey { n: Vec::new(), e: Vec::new(), usable: false });
    }
    let strip = |mut v: Vec<u8>| -> Vec<u8> {
        let zeros = v.iter().take_while(|&&b| b == 0).count();
        v.drain(..zeros);
        v
    };
    let (n, e) = (strip(decode_vec(n)?), strip(decode_vec(e)?));
    let bits = n.first().map_or(0, |&b| (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize));
    let odd = |v: &[u8]| v.last().is_some_and(|b| b & 1 == 1);
    let exponent = (e.len() <= 5).then(|| e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)));
    let e_ok = exponent.is_some_and(|v| (3..1 << 33).contains(&v) && v & 1 == 1);
    let usable = (2048..=8192).contains(&bits) && odd(&n) && e_ok;
    Some(RsaKey { n, e, usable })
}

/// The uncompressed point `0x04 || x || y` of coordinates `len` bytes long each.
fn point(x: &Member<'_>, y: &Member<'_>, len: usize) -> Option<Box<[u8]>> {
    let mut buf = [0u8; 1 + 2 * 48];
    buf[0] = 0x04;
    let (x, y) = (x.get().ok()??, y.get().ok()??);
    if decode(x, &mut buf[1..=len])? != len || decode(y, &mut buf[1 + len..=2 * len])? != len {
        return None;
    }
    Some(buf[..=2 * len].into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_jwk(n: &[u8], e: &[u8]) -> String {
        format!(r#"{{"keys":[{{"kty":"RSA","n":"{}","e":"{}"}}]}}"#, b64(n), b64(e))
    }

    fn rsa_key(json: &str) -> Option<(usize, usize, bool)> {
        let set = JwkSet::parse(json.as_bytes()).ok()?;
        match set.keys().first()?.key() {
            Key::Rsa(k) => Some((k.n.len(), k.e.len(), k.usable)),
            _ => None,
        }
    }

    #[test]
    fn rsa_sizes_and_exponents() {
        let mut n = vec![0xC5; 256];
        n[255] |= 1;
        assert_eq!(rsa_key(&rsa_jwk(&n, &[1, 0, 1])), Some((256, 3, true)));
        // Leading zeros stripped before the bits are counted.
        let mut padded = vec![0, 0];
        padded.extend_from_slice(&n);
        assert_eq!(rsa_key(&rsa_jwk(&padded, &[0, 1, 0, 1])), Some((256, 3, true)));
        // 2047 bits: too weak.
        let mut short = n.clone();
        short[0] = 0x7F;
        assert_eq!(rsa_key(&rsa_jwk(&short, &[1, 0, 1])), Some((256, 3, false)));
        // 1024 bits.
        assert_eq!(rsa_key(&rsa_jwk(&n[..128], &[1, 0, 1])), Some((128, 3, false)));
        // An even modulus, exponents ring refuses.
        let mut even = n.clone();
        even[255] &= 0xFE;
        assert_eq!(rsa_key(&rsa_jwk(&even, &[1, 0, 1])).map(|k| k.2), Some(false));
        for e in [&[1][..], &[2], &[0], &[], &[1, 0, 0], &[2, 0, 0, 0, 1], &[1, 0, 0, 0, 0, 1]] {
            assert_eq!(rsa_key(&rsa_jwk(&n, e)).map(|k| k.2), Some(false), "{e:?}");
        }
        assert_eq!(rsa_key(&rsa_jwk(&n, &[3])).map(|k| k.2), Some(true));
        assert_eq!(rsa_key(&rsa_jwk(&n, &[1, 0xFF, 0xFF, 0xFF, 0xFF])).map(|k| k.2), Some(true));
    }

    #[test]
    fn members_narrow_the_algorithms() {
        let x = b64(&[7; 32]);
        let set = |extra: &str| {
            JwkSet::parse(
                format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}"{extra}}}]}}"#).as_bytes(),
            )
            .map(|s| s.keys().first().map(|k| k.fits(Algorithm::EdDsa)))
        };
        assert_eq!(set(""), Ok(Some(true)));
        assert_eq!(set(r#","use":"sig","alg":"EdDSA","key_ops":["verify","sign"]"#), Ok(Some(true)));
        assert_eq!(set(r#","use":"enc""#), Ok(Some(false)));
        assert_eq!(set(r#","alg":"ES256""#), Ok(Some(false)));
        assert_eq!(set(r#","alg":"none""#), Ok(Some(false)));
        assert_eq!(set(r#","key_ops":["sign"]"#), Ok(Some(false)));
        assert_eq!(set(r#","key_ops":[]"#), Ok(Some(false)));
        assert_eq!(set(r#","use":null,"alg":null,"key_ops":null"#), Ok(Some(true)));
        // Malformed members: the key is skipped.
        assert_eq!(set(r#","use":1"#), Ok(None));
        assert_eq!(set(r#","kid":["a"]"#), Ok(None));
        assert_eq!(set(r#","key_ops":"verify""#), Ok(None));
        assert_eq!(set(r#","key_ops":["verify",1]"#), Ok(None));
        // Repeated names anywhere refuse the set.
        assert!(set(r#","use":"sig","use":"sig""#).is_err());
        assert!(set(r#","kid":{"a":1,"a":2}"#).is_err());
        assert!(set(r#","x5c":[{"a":1,"a":2}]"#).is_err());
    }

    #[test]
    fn shapes() {
        let x = b64(&[7; 32]);
        let ok = |json: &str| JwkSet::parse(json.as_bytes()).map(|s| s.len());
        assert_eq!(ok(r#"{"keys":[]}"#), Ok(0));
        assert_eq!(
            ok(&format!(r#"{{"keys":[1,"a",null,true,[],{{}},{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}]}}"#)),
            Ok(1)
        );
        assert_eq!(ok(&format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}="}}]}}"#)), Ok(1));
        assert_eq!(ok(&format!(r#"{{"keys":[{{"kty":"OKP","crv":"X25519","x":"{x}"}}]}}"#)), Ok(0));
        assert_eq!(
            ok(&format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}"}}]}}"#, b64(&[7; 31]))),
            Ok(0)
        );
        let reason = |json: &str| JwkSet::parse(json.as_bytes()).err().map(|e| e.reason().to_owned());
        assert_eq!(reason(r#"[]"#).as_deref(), Some("the body is JSON but not an object"));
        assert_eq!(reason(r#""keys""#).as_deref(), Some("the body is JSON but not an object"));
        assert_eq!(reason(r#"{}"#).as_deref(), Some("the member `keys` is missing"));
        assert_eq!(reason(r#"{"keys":null}"#).as_deref(), Some("the member `keys` is missing"));
        assert_eq!(reason(r#"{"keys":{}}"#).as_deref(), Some("the member `keys` is not an array"));
        assert_eq!(reason(r#"{"keys":"secret-ish"}"#).as_deref(), Some("the member `keys` is not an array"));
        assert!(reason(r#"{"keys":[]} x"#).is_some_and(|r| r.starts_with("the body is not JSON")));
        assert!(reason(r#"{"keys":[],"keys":[]}"#).is_some_and(|r| r.contains("\"keys\"")));
        assert!(reason(r#"{"a":{"b":1,"b":2},"keys":[]}"#).is_some_and(|r| r.contains("\"b\"")));
        assert!(JwkSet::parse(b"\xff").is_err());
    }

    #[test]
    fn many_member_names_are_still_checked() {
        let members: String = (0..40).map(|i| format!(r#""m{i}":1,"#)).collect();
        assert!(JwkSet::parse(format!(r#"{{{members}"keys":[]}}"#).as_bytes()).is_ok());
        assert!(JwkSet::parse(format!(r#"{{{members}"m3":2,"keys":[]}}"#).as_bytes()).is_err());
    }
}
