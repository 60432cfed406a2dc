//! The baselines a user could assemble from well-kept crates: a JSON crate into borrowed
//! structs for the token response, base64 for the ID token's payload, the JSON crate again
//! for its claims. Each pipeline reads every field it materialised into a [`Digest`].
//!
//! | pipeline | JSON | base64 | strict |
//! | --- | --- | --- | --- |
//! | [`lean_plain`] | serde_json | `URL_SAFE_NO_PAD` (scalar) | no |
//! | [`lean_simd`] | serde_json | the base64 crate's SIMD engine | no |
//! | [`lean_best`] | sonic-rs (SIMD) | SIMD engine | no |
//! | [`lean_simd_json`] | simd-json (SIMD; it parses a mutable copy of the body) | SIMD engine | no |
//! | [`lean_strict`] | sonic-rs, with visitors that reject a repeated name at any depth | SIMD engine | yes |
//!
//! None of them checks what the contract asks beyond that (the header, the signature
//! segment's syntax, `expires_in` as a string, `null` members, the types of unknown claims
//! nobody declared): they do less than the core, never more.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::Simd;
use base64::engine::general_purpose::{NO_PAD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::digest::Digest;

/// The token response, borrowed from the body.
#[derive(Deserialize)]
pub struct LeanResponse<'a> {
    /// `access_token`.
    pub access_token: &'a str,
    /// `token_type`.
    pub token_type: &'a str,
    /// `expires_in`.
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    pub refresh_token: Option<&'a str>,
    /// `id_token`.
    pub id_token: Option<&'a str>,
    /// `scope`.
    pub scope: Option<&'a str>,
}

/// The claims of both vectors, borrowed from the decoded payload.
#[derive(Deserialize, Default)]
#[allow(missing_docs)]
pub struct LeanClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: Option<u64>,
    pub nonce: Option<&'a str>,
    pub at_hash: Option<&'a str>,
    pub azp: Option<&'a str>,
    pub sid: Option<&'a str>,
    pub acr: Option<&'a str>,
    #[serde(borrow)]
    pub amr: Option<Vec<&'a str>>,
    pub name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub preferred_username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: Option<bool>,
    pub locale: Option<&'a str>,
    pub picture: Option<&'a str>,
    pub updated_at: Option<u64>,
    #[serde(borrow)]
    pub groups: Option<Vec<&'a str>>,
}

/// Reads every field of a response and its claims.
fn digest(response: &LeanResponse<'_>, claims: &LeanClaims<'_>) -> Digest {
    let mut d = Digest::default();
    d.str(response.access_token);
    d.str(response.token_type);
    d.opt_num(response.expires_in);
    d.opt_str(response.refresh_token);
    d.opt_str(response.id_token);
    d.opt_str(response.scope);
    let c = claims;
    for s in [c.iss, c.sub, c.aud] {
        d.str(s);
    }
    d.num(c.exp);
    d.num(c.iat);
    d.opt_num(c.auth_time);
    for s in [c.nonce, c.at_hash, c.azp, c.sid, c.acr] {
        d.opt_str(s);
    }
    d.strs(c.amr.iter().flatten().copied());
    for s in [c.name, c.given_name, c.family_name, c.preferred_username, c.email] {
        d.opt_str(s);
    }
    d.opt_flag(c.email_verified);
    d.opt_str(c.locale);
    d.opt_str(c.picture);
    d.opt_num(c.updated_at);
    d.strs(c.groups.iter().flatten().copied());
    d
}

/// The base64 crate's SIMD engine (AVX2 or NEON, detected at run time), URL-safe, no padding.
fn simd() -> &'static Simd {
    static ENGINE: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));
    &ENGINE
}

/// The payload segment of a compact JWS.
fn payload(jwt: &str) -> Option<&str> {
    let mut parts = jwt.split('.');
    parts.next()?;
    parts.next()
}

/// serde_json, the plain `URL_SAFE_NO_PAD` engine, serde_json: the lean baseline of the
/// figures published before (kept for continuity).
#[must_use]
pub fn lean_plain(body: &[u8]) -> Option<Digest> {
    let response: LeanResponse<'_> = serde_json::from_slice(body).ok()?;
    let decoded = URL_SAFE_NO_PAD.decode(payload(response.id_token?)?).ok()?;
    let claims: LeanClaims<'_> = serde_json::from_slice(&decoded).ok()?;
    Some(digest(&response, &claims))
}

/// [`lean_plain`] with the base64 crate's SIMD engine: a one-line change for any user.
#[must_use]
pub fn lean_simd(body: &[u8]) -> Option<Digest> {
    let response: LeanResponse<'_> = serde_json::from_slice(body).ok()?;
    let decoded = simd().decode(payload(response.id_token?)?).ok()?;
    let claims: LeanClaims<'_> = serde_json::from_slice(&decoded).ok()?;
    Some(digest(&response, &claims))
}

/// sonic-rs for both documents and the SIMD base64 engine: the fastest combination of
/// well-kept crates found for this job.
#[must_use]
pub fn lean_best(body: &[u8]) -> Option<Digest> {
    let response: LeanResponse<'_> = sonic_rs::from_slice(body).ok()?;
    let decoded = simd().decode(payload(response.id_token?)?).ok()?;
    let claims: LeanClaims<'_> = sonic_rs::from_slice(&decoded).ok()?;
    Some(digest(&response, &claims))
}

/// simd-json for both documents (it parses in place, so the body is copied first) and the
/// SIMD base64 engine.
#[must_use]
pub fn lean_simd_json(body: &[u8]) -> Option<Digest> {
    let mut body = body.to_vec();
    let response: LeanResponse<'_> = simd_json::serde::from_slice(&mut body).ok()?;
    let mut decoded = simd().decode(payload(response.id_token?)?).ok()?;
    let claims: LeanClaims<'_> = simd_json::serde::from_slice(&mut decoded).ok()?;
    Some(digest(&response, &claims))
}

/// [`lean_best`] with the strictness the contract asks that the crates do not give by
/// default: a repeated name is refused at any depth (known fields by the visitors below,
/// unknown members' values walked by a strict walker).
#[must_use]
pub fn lean_strict(body: &[u8]) -> Option<Digest> {
    let response: StrictResponse<'_> = sonic_rs::from_slice(body).ok()?;
    let decoded = simd().decode(payload(response.0.id_token?)?).ok()?;
    let claims: StrictClaims<'_> = sonic_rs::from_slice(&decoded).ok()?;
    Some(digest(&response.0, &claims.0))
}

// ---------------------------------------------------------------------------------------
// lean-strict: visitors that refuse repeated names
// ---------------------------------------------------------------------------------------

/// A member name, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Unknown member names seen in one object: the first eight inline, then on the heap.
#[derive(Default)]
struct Seen<'a> {
    inline: [Option<Cow<'a, str>>; 8],
    spilled: Vec<Cow<'a, str>>,
}

impl<'a> Seen<'a> {
    /// Notes `name`; `false` when it was seen before.
    fn insert(&mut self, name: Cow<'a, str>) -> bool {
        if self.inline.iter().flatten().chain(&self.spilled).any(|n| *n == name) {
            return false;
        }
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(name),
            None => self.spilled.push(name),
        }
        true
    }
}

/// Any JSON value, walked to refuse a repeated name in any object inside it.
struct Strict;

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut seen = Seen::default();
        while let Some(Key(name)) = map.next_key()? {
            if !seen.insert(name) {
                return Err(de::Error::custom("a repeated member name"));
            }
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }
}

/// Stores a known member's value, refusing a second one.
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The token response with repeated names refused.
struct StrictResponse<'a>(LeanResponse<'a>);

impl<'de> Deserialize<'de> for StrictResponse<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictResponse<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a token response")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictResponse<'de>, A::Error> {
                let (mut at, mut tt, mut ei, mut rt, mut it, mut sc) = (None, None, None, None, None, None);
                let mut seen = Seen::default();
                while let Some(Key(name)) = map.next_key()? {
                    match &*name {
                        "access_token" => once(&mut at, &mut map, "access_token")?,
                        "token_type" => once(&mut tt, &mut map, "token_type")?,
                        "expires_in" => once(&mut ei, &mut map, "expires_in")?,
                        "refresh_token" => once(&mut rt, &mut map, "refresh_token")?,
                        "id_token" => once(&mut it, &mut map, "id_token")?,
                        "scope" => once(&mut sc, &mut map, "scope")?,
                        _ => {
                            if !seen.insert(name) {
                                return Err(de::Error::custom("a repeated member name"));
                            }
                            map.next_value::<Strict>()?;
                        }
                    }
                }
                Ok(StrictResponse(LeanResponse {
                    access_token: at.ok_or_else(|| de::Error::missing_field("access_token"))?,
                    token_type: tt.ok_or_else(|| de::Error::missing_field("token_type"))?,
                    expires_in: ei,
                    refresh_token: rt,
                    id_token: it,
                    scope: sc,
                }))
            }
        }
        d.deserialize_map(V)
    }
}

/// The claims with repeated names refused.
struct StrictClaims<'a>(LeanClaims<'a>);

impl<'de> Deserialize<'de> for StrictClaims<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictClaims<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claims set")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictClaims<'de>, A::Error> {
                let (mut iss, mut sub, mut aud, mut exp, mut iat) = (None, None, None, None, None);
                let mut c = LeanClaims::default();
                let mut seen = Seen::default();
                while let Some(Key(name)) = map.next_key()? {
                    match &*name {
                        "iss" => once(&mut iss, &mut map, "iss")?,
                        "sub" => once(&mut sub, &mut map, "sub")?,
                        "aud" => once(&mut aud, &mut map, "aud")?,
                        "exp" => once(&mut exp, &mut map, "exp")?,
                        "iat" => once(&mut iat, &mut map, "iat")?,
                        "auth_time" => once(&mut c.auth_time, &mut map, "auth_time")?,
                        "nonce" => once(&mut c.nonce, &mut map, "nonce")?,
                        "at_hash" => once(&mut c.at_hash, &mut map, "at_hash")?,
                        "azp" => once(&mut c.azp, &mut map, "azp")?,
                        "sid" => once(&mut c.sid, &mut map, "sid")?,
                        "acr" => once(&mut c.acr, &mut map, "acr")?,
                        "amr" => once(&mut c.amr, &mut map, "amr")?,
                        "name" => once(&mut c.name, &mut map, "name")?,
                        "given_name" => once(&mut c.given_name, &mut map, "given_name")?,
                        "family_name" => once(&mut c.family_name, &mut map, "family_name")?,
                        "preferred_username" => {
                            once(&mut c.preferred_username, &mut map, "preferred_username")?
                        }
                        "email" => once(&mut c.email, &mut map, "email")?,
                        "email_verified" => once(&mut c.email_verified, &mut map, "email_verified")?,
                        "locale" => once(&mut c.locale, &mut map, "locale")?,
                        "picture" => once(&mut c.picture, &mut map, "picture")?,
                        "updated_at" => once(&mut c.updated_at, &mut map, "updated_at")?,
                        "groups" => once(&mut c.groups, &mut map, "groups")?,
                        _ => {
                            if !seen.insert(name) {
                                return Err(de::Error::custom("a repeated member name"));
                            }
                            map.next_value::<Strict>()?;
                        }
                    }
                }
                c.iss = iss.ok_or_else(|| de::Error::missing_field("iss"))?;
                c.sub = sub.ok_or_else(|| de::Error::missing_field("sub"))?;
                c.aud = aud.ok_or_else(|| de::Error::missing_field("aud"))?;
                c.exp = exp.ok_or_else(|| de::Error::missing_field("exp"))?;
                c.iat = iat.ok_or_else(|| de::Error::missing_field("iat"))?;
                Ok(StrictClaims(c))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_strict_refuses_repeated_names_that_lean_best_lets_through() {
        let deep = br#"{"access_token":"a","token_type":"Bearer","x":{"k":1,"k":2}}"#;
        assert!(sonic_rs::from_slice::<LeanResponse<'_>>(deep).is_ok());
        assert!(sonic_rs::from_slice::<StrictResponse<'_>>(deep).is_err());
        let unknown_twice = br#"{"access_token":"a","token_type":"Bearer","x":1,"x":2}"#;
        assert!(sonic_rs::from_slice::<LeanResponse<'_>>(unknown_twice).is_ok());
        assert!(sonic_rs::from_slice::<StrictResponse<'_>>(unknown_twice).is_err());
        let known_twice = br#"{"access_token":"a","token_type":"Bearer","scope":"a","scope":"b"}"#;
        assert!(sonic_rs::from_slice::<StrictResponse<'_>>(known_twice).is_err());
        let fine = br#"{"access_token":"a","token_type":"Bearer","x":{"k":1,"l":[{"k":2}]}}"#;
        assert!(sonic_rs::from_slice::<StrictResponse<'_>>(fine).is_ok());
    }
}
