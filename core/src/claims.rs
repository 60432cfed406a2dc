//! [`IdTokenPayload`]: the typed claims of an ID token, and [`decode_id_token`].
//!
//! Decoding types the claims the ReachFive SDK knows and keeps every other claim verbatim;
//! it checks nothing about their meaning (issuer, audience, expiry): that is
//! [`validate`](crate::validate). Three real-world leniencies are accepted: `aud` and `amr`
//! may be a single string, boolean claims may be the strings `"true"`/`"false"`, and
//! `updated_at` may be a number (OIDC) or a string (ReachFive).

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ProtocolError, ProtocolErrorKind};
use crate::json::{self, Member};
use crate::jwt::{self, JwtError, JwtHeader, Segment};

/// A JWT NumericDate (RFC 7519 §2): non-negative seconds since the epoch, possibly with a
/// fraction. Serialises back the way it came (`1700000000` stays an integer).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct NumericDate(Repr);

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Repr {
    Int(u64),
    Float(f64),
}

impl NumericDate {
    /// A whole number of seconds since the epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(Repr::Int(secs))
    }

    /// Seconds since the epoch, with any fraction.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        match self.0 {
            Repr::Int(s) => s as f64,
            Repr::Float(s) => s,
        }
    }

    /// Whole seconds since the epoch, rounded down (saturating for huge values).
    #[must_use]
    pub fn as_secs(self) -> u64 {
        match self.0 {
            Repr::Int(s) => s,
            // `as` saturates for floats out of range; the value is finite and non-negative.
            Repr::Float(s) => s.floor() as u64,
        }
    }

    /// Parses a JSON number's text: non-negative, finite; fractions allowed.
    pub(crate) fn from_json_number(text: &str) -> Option<Self> {
        if text.starts_with('-') {
            return None;
        }
        if text.bytes().all(|b| b.is_ascii_digit())
            && let Ok(v) = text.parse::<u64>()
        {
            return Some(Self(Repr::Int(v)));
        }
        let v: f64 = text.parse().ok()?;
        (v.is_finite() && v >= 0.0).then_some(Self(Repr::Float(v)))
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Int(v) => s.serialize_u64(v),
            Repr::Float(v) => s.serialize_f64(v),
        }
    }
}

/// `updated_at`, kept as it came: a NumericDate in OIDC, a date-time string in ReachFive.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UpdatedAt {
    /// A JSON number.
    Number(serde_json::Number),
    /// A string, e.g. `"2025-01-21T10:45:22"`.
    String(String),
}

/// Declares the string claims: index constants, the wire/output name table, and accessors.
macro_rules! string_claims {
    ($($idx:literal $const_name:ident $method:ident $wire:literal $camel:literal;)*) => {
        $(const $const_name: usize = $idx;)*
        const STRING_CLAIMS: &[(&str, &str)] = &[$(($wire, $camel)),*];
        impl IdTokenPayload {
            $(
                #[doc = concat!("The `", $wire, "` claim.")]
                #[must_use]
                pub fn $method(&self) -> Option<&str> {
                    self.strings[$const_name].as_deref()
                }
            )*
        }
    };
}

string_claims! {
    0 ISS iss "iss" "iss";
    1 SUB sub "sub" "sub";
    2 NONCE nonce "nonce" "nonce";
    3 ACR acr "acr" "acr";
    4 AZP azp "azp" "azp";
    5 AT_HASH at_hash "at_hash" "atHash";
    6 NAME name "name" "name";
    7 GIVEN_NAME given_name "given_name" "givenName";
    8 FAMILY_NAME family_name "family_name" "familyName";
    9 MIDDLE_NAME middle_name "middle_name" "middleName";
    10 NICKNAME nickname "nickname" "nickname";
    11 PREFERRED_USERNAME preferred_username "preferred_username" "preferredUsername";
    12 PROFILE profile "profile" "profile";
    13 PICTURE picture "picture" "picture";
    14 WEBSITE website "website" "website";
    15 EMAIL email "email" "email";
    16 GENDER gender "gender" "gender";
    17 BIRTHDATE birthdate "birthdate" "birthdate";
    18 ZONEINFO zoneinfo "zoneinfo" "zoneinfo";
    19 LOCALE locale "locale" "locale";
    20 PHONE_NUMBER phone_number "phone_number" "phoneNumber";
    21 AUTH_TYPE auth_type "auth_type" "authType";
    22 CUSTOM_IDENTIFIER custom_identifier "custom_identifier" "customIdentifier";
    23 EXTERNAL_ID external_id "external_id" "externalId";
}
const N_STRINGS: usize = 24;

/// The output names of every claim the SDK knows; an unknown claim with one of these names
/// would collide in the JSON output and is dropped.
const OUTPUT_NAMES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "authTime",
    "nonce",
    "acr",
    "amr",
    "azp",
    "atHash",
    "name",
    "givenName",
    "familyName",
    "middleName",
    "nickname",
    "preferredUsername",
    "profile",
    "picture",
    "website",
    "email",
    "emailVerified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phoneNumber",
    "phoneNumberVerified",
    "address",
    "updatedAt",
    "authType",
    "newUser",
    "customFields",
    "customIdentifier",
    "externalId",
];

/// The payload of an ID token: every claim the ReachFive SDK knows, typed, and every other
/// claim verbatim.
///
/// Serialises into the SDK's `idTokenPayload` JSON: camelCase names for known claims, `aud`
/// always an array, absent claims omitted, unknown claims under their wire names.
/// Deserialises from the wire form (snake_case claim names) with the same strictness as
/// [`decode_id_token`]; that path needs `serde_json`, since unknown claims are kept as raw
/// JSON.
#[derive(Clone, Default, PartialEq)]
pub struct IdTokenPayload {
    strings: [Option<String>; N_STRINGS],
    aud: Option<Vec<String>>,
    amr: Option<Vec<String>>,
    exp: Option<NumericDate>,
    iat: Option<NumericDate>,
    auth_time: Option<NumericDate>,
    email_verified: Option<bool>,
    phone_number_verified: Option<bool>,
    new_user: Option<bool>,
    address: Option<Address>,
    updated_at: Option<UpdatedAt>,
    custom_fields: Option<json::Raw>,
    extra: Vec<(String, json::Raw)>,
}

impl IdTokenPayload {
    /// `aud`: the audiences, always as a list (a single string on the wire is one element).
    #[must_use]
    pub fn aud(&self) -> Option<&[String]> {
        self.aud.as_deref()
    }
    /// `amr`: authentication methods, always as a list.
    #[must_use]
    pub fn amr(&self) -> Option<&[String]> {
        self.amr.as_deref()
    }
    /// `exp`: expiry time.
    #[must_use]
    pub fn exp(&self) -> Option<NumericDate> {
        self.exp
    }
    /// `iat`: issue time.
    #[must_use]
    pub fn iat(&self) -> Option<NumericDate> {
        self.iat
    }
    /// `auth_time`: when the end user authenticated.
    #[must_use]
    pub fn auth_time(&self) -> Option<NumericDate> {
        self.auth_time
    }
    /// `email_verified`.
    #[must_use]
    pub fn email_verified(&self) -> Option<bool> {
        self.email_verified
    }
    /// `phone_number_verified`.
    #[must_use]
    pub fn phone_number_verified(&self) -> Option<bool> {
        self.phone_number_verified
    }
    /// ReachFive's `new_user`.
    #[must_use]
    pub fn new_user(&self) -> Option<bool> {
        self.new_user
    }
    /// `address` (OIDC Core §5.1.1).
    #[must_use]
    pub fn address(&self) -> Option<&Address> {
        self.address.as_ref()
    }
    /// `updated_at`, as it came.
    #[must_use]
    pub fn updated_at(&self) -> Option<&UpdatedAt> {
        self.updated_at.as_ref()
    }
    /// ReachFive's `custom_fields`: a JSON object, inner keys as they came.
    #[must_use]
    pub fn custom_fields(&self) -> Option<&RawValue> {
        self.custom_fields.as_deref()
    }
    /// Every claim the SDK does not know, under its wire name, with its JSON value as it came.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &RawValue)> {
        self.extra.iter().map(|(k, v)| (k.as_str(), &**v))
    }
    /// One unknown claim by wire name.
    #[must_use]
    pub fn extra_claim(&self, name: &str) -> Option<&RawValue> {
        self.extra.iter().find(|(k, _)| k == name).map(|(_, v)| &**v)
    }

    /// Types the claims of a decoded payload.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, JwtError> {
        if std::str::from_utf8(bytes).is_err() {
            return Err(JwtError::NotUtf8 { segment: Segment::Payload });
        }
        let members = json::parse_object(bytes).map_err(|e| JwtError::from_object(Segment::Payload, e))?;
        Self::from_members(members)
    }

    fn from_members(members: Vec<Member<'_>>) -> Result<Self, JwtError> {
        let mut p = IdTokenPayload::default();
        for (name, value) in members {
            json::check_value(value).map_err(|e| JwtError::from_object(Segment::Payload, e))?;
            if json::is_null(value) && is_known(&name) {
                continue;
            }
            if let Some(i) = STRING_CLAIMS.iter().position(|(wire, _)| *wire == name) {
                p.strings[i] = Some(string(value, STRING_CLAIMS[i].0)?);
                continue;
            }
            match name.as_ref() {
                "aud" => p.aud = Some(list(value, "aud")?),
                "amr" => p.amr = Some(list(value, "amr")?),
                "exp" => p.exp = Some(date(value, "exp")?),
                "iat" => p.iat = Some(date(value, "iat")?),
                "auth_time" => p.auth_time = Some(date(value, "auth_time")?),
                "nbf" => {
                    // Kept verbatim, but typed like the other NumericDates.
                    date(value, "nbf")?;
                    p.extra.push((name.into_owned(), json::Raw::new(value)));
                }
                "email_verified" => p.email_verified = Some(boolean(value, "email_verified")?),
                "phone_number_verified" => {
                    p.phone_number_verified = Some(boolean(value, "phone_number_verified")?);
                }
                "new_user" => p.new_user = Some(boolean(value, "new_user")?),
                "address" => p.address = Some(Address::from_raw(value)?),
                "updated_at" => p.updated_at = Some(updated_at(value)?),
                "custom_fields" => {
                    if !value.get().starts_with('{') {
                        return Err(invalid("custom_fields", "expected an object"));
                    }
                    p.custom_fields = Some(json::Raw::new(value));
                }
                other if OUTPUT_NAMES.contains(&other) => {}
                _ => p.extra.push((name.into_owned(), json::Raw::new(value))),
            }
        }
        Ok(p)
    }
}

fn is_known(name: &str) -> bool {
    STRING_CLAIMS.iter().any(|(w, _)| *w == name)
        || matches!(
            name,
            "aud"
                | "amr"
                | "exp"
                | "iat"
                | "auth_time"
                | "nbf"
                | "email_verified"
                | "phone_number_verified"
                | "new_user"
                | "address"
                | "updated_at"
                | "custom_fields"
        )
}

fn invalid(claim: &'static str, reason: &'static str) -> JwtError {
    JwtError::InvalidClaim { claim, reason }
}

fn string(value: &RawValue, claim: &'static str) -> Result<String, JwtError> {
    json::as_str(value).map(|s| s.into_owned()).ok_or(invalid(claim, "expected a string"))
}

fn list(value: &RawValue, claim: &'static str) -> Result<Vec<String>, JwtError> {
    json::as_str_or_str_list(value).ok_or(invalid(claim, "expected a string or an array of strings"))
}

fn date(value: &RawValue, claim: &'static str) -> Result<NumericDate, JwtError> {
    json::as_number_text(value)
        .and_then(NumericDate::from_json_number)
        .ok_or(invalid(claim, "expected a non-negative number of seconds"))
}

fn boolean(value: &RawValue, claim: &'static str) -> Result<bool, JwtError> {
    json::as_bool(value)
        .or_else(|| match json::as_str(value).as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        })
        .ok_or(invalid(claim, "expected a boolean or \"true\"/\"false\""))
}

fn updated_at(value: &RawValue) -> Result<UpdatedAt, JwtError> {
    if let Some(s) = json::as_str(value) {
        return Ok(UpdatedAt::String(s.into_owned()));
    }
    json::as_number_text(value)
        .and_then(|t| serde_json::from_str::<serde_json::Number>(t).ok())
        .map(UpdatedAt::Number)
        .ok_or(invalid("updated_at", "expected a number or a string"))
}

impl Serialize for IdTokenPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let str_entry = |m: &mut S::SerializeMap, i: usize| -> Result<(), S::Error> {
            match &self.strings[i] {
                Some(v) => m.serialize_entry(STRING_CLAIMS[i].1, v),
                None => Ok(()),
            }
        };
        macro_rules! opt {
            ($key:literal, $field:expr) => {
                if let Some(v) = &$field {
                    m.serialize_entry($key, v)?;
                }
            };
        }
        str_entry(&mut m, ISS)?;
        str_entry(&mut m, SUB)?;
        opt!("aud", self.aud);
        opt!("exp", self.exp);
        opt!("iat", self.iat);
        opt!("authTime", self.auth_time);
        str_entry(&mut m, NONCE)?;
        str_entry(&mut m, ACR)?;
        opt!("amr", self.amr);
        str_entry(&mut m, AZP)?;
        str_entry(&mut m, AT_HASH)?;
        for i in NAME..=PHONE_NUMBER {
            str_entry(&mut m, i)?;
            match i {
                EMAIL => opt!("emailVerified", self.email_verified),
                PHONE_NUMBER => opt!("phoneNumberVerified", self.phone_number_verified),
                _ => {}
            }
        }
        opt!("address", self.address);
        opt!("updatedAt", self.updated_at);
        str_entry(&mut m, AUTH_TYPE)?;
        opt!("newUser", self.new_user);
        opt!("customFields", self.custom_fields);
        str_entry(&mut m, CUSTOM_IDENTIFIER)?;
        str_entry(&mut m, EXTERNAL_ID)?;
        for (k, v) in &self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for IdTokenPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Self::from_json(raw.get().as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Claims are personal data, not credentials, but `Debug` still lists only the names of
/// the claims that are present, so that logging a payload never copies a user's profile.
impl fmt::Debug for IdTokenPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .keys()
                .map(|k| OUTPUT_NAMES.iter().find(|n| *n == k).copied().unwrap_or("<other>"))
                .collect(),
            _ => Vec::new(),
        };
        f.debug_struct("IdTokenPayload").field("claims", &present).field("extra", &self.extra.len()).finish()
    }
}

const ADDRESS_FIELDS: &[(&str, &str)] = &[
    ("formatted", "formatted"),
    ("street_address", "streetAddress"),
    ("locality", "locality"),
    ("region", "region"),
    ("postal_code", "postalCode"),
    ("country", "country"),
];

/// The `address` claim (OIDC Core §5.1.1). Unknown members are kept verbatim.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Address {
    fields: [Option<String>; 6],
    extra: Vec<(String, json::Raw)>,
}

impl Address {
    /// `formatted`.
    #[must_use]
    pub fn formatted(&self) -> Option<&str> {
        self.fields[0].as_deref()
    }
    /// `street_address`.
    #[must_use]
    pub fn street_address(&self) -> Option<&str> {
        self.fields[1].as_deref()
    }
    /// `locality`.
    #[must_use]
    pub fn locality(&self) -> Option<&str> {
        self.fields[2].as_deref()
    }
    /// `region`.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.fields[3].as_deref()
    }
    /// `postal_code`.
    #[must_use]
    pub fn postal_code(&self) -> Option<&str> {
        self.fields[4].as_deref()
    }
    /// `country`.
    #[must_use]
    pub fn country(&self) -> Option<&str> {
        self.fields[5].as_deref()
    }

    fn from_raw(value: &RawValue) -> Result<Self, JwtError> {
        let members = json::parse_object(value.get().as_bytes())
            .map_err(|_| invalid("address", "expected an object"))?;
        let mut a = Address::default();
        for (name, v) in members {
            if let Some(i) = ADDRESS_FIELDS.iter().position(|(w, _)| *w == name) {
                if !json::is_null(v) {
                    a.fields[i] = Some(string(v, "address")?);
                }
            } else if !ADDRESS_FIELDS.iter().any(|(_, camel)| *camel == name) {
                a.extra.push((name.into_owned(), json::Raw::new(v)));
            }
        }
        Ok(a)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (i, (_, camel)) in ADDRESS_FIELDS.iter().enumerate() {
            if let Some(v) = &self.fields[i] {
                m.serialize_entry(camel, v)?;
            }
        }
        for (k, v) in &self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Decodes an ID token's payload **without checking its signature or any claim**.
///
/// Use it to read claims of an ID token that came straight from the token endpoint over
/// TLS (OIDC Core §3.1.3.7 point 6), or for display and debugging. Never use it to make
/// a security decision about a token from anywhere else. For the checks of §3.1.3.7 and
/// §12.2 see [`validate`](crate::validate).
///
/// ```
/// use oidc_refresh_core::decode_id_token;
///
/// // {"alg":"RS256"} . {"iss":"https://id.example","sub":"u1","aud":"app","email_verified":"true"} . sig
/// let jwt = "eyJhbGciOiJSUzI1NiJ9.\
///            eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1MSIsImF1ZCI6ImFwcCIsImVtYWlsX3ZlcmlmaWVkIjoidHJ1ZSJ9.\
///            c2ln";
/// let claims = decode_id_token(jwt)?;
/// assert_eq!(claims.sub(), Some("u1"));
/// assert_eq!(claims.aud(), Some(&["app".to_string()][..]));
/// assert_eq!(claims.email_verified(), Some(true));
/// assert_eq!(
///     serde_json::to_string(&claims)?,
///     r#"{"iss":"https://id.example","sub":"u1","aud":["app"],"emailVerified":true}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Protocol`] with [`ProtocolErrorKind::IdToken`] when the token is not three
/// base64url segments, the header or payload is not a JSON object, a name repeats, or a
/// known claim has the wrong type.
pub fn decode_id_token(jwt: &str) -> Result<IdTokenPayload, Error> {
    decode_id_token_with_header(jwt).map(|(_, payload)| payload)
}

/// Like [`decode_id_token`], also returning the decoded JOSE header.
///
/// # Errors
///
/// As [`decode_id_token`].
pub fn decode_id_token_with_header(jwt: &str) -> Result<(JwtHeader, IdTokenPayload), Error> {
    decode_parts(jwt).map_err(|e| ProtocolError::new(ProtocolErrorKind::IdToken(e)).into())
}

pub(crate) fn decode_parts(jwt: &str) -> Result<(JwtHeader, IdTokenPayload), JwtError> {
    let (header, payload) = jwt::decode_parts(jwt)?;
    Ok((header, IdTokenPayload::from_json(&payload)?))
}
