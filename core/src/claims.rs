//! [`IdTokenPayload`]: the typed claims of an ID token, and [`decode_id_token`].
//!
//! Decoding types the claims the ReachFive SDK knows and keeps every other claim verbatim;
//! it checks nothing about their meaning (issuer, audience, expiry): that is
//! [`validate_id_token`](crate::validate_id_token). Three real-world leniencies are accepted: `aud` and `amr`
//! may be a single string, boolean claims may be the strings `"true"`/`"false"`, and
//! `updated_at` may be a number (OIDC) or a string (ReachFive).

use std::fmt;
use std::sync::OnceLock;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ProtocolError, ProtocolErrorKind};
use crate::json::{self, InlineVec, Kind, Member, ObjectError, OptSpan, Span};
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
        if let Some(v) = small_integer(text) {
            return Some(Self(Repr::Int(v)));
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

/// A string of 1 to 19 ASCII digits as a number (it cannot overflow a `u64`). The first
/// eight digits (a NumericDate has ten) are read as one word.
fn small_integer(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let (n, rest) = match b.split_first_chunk::<8>() {
        Some((head, tail)) => (eight_digits(u64::from_le_bytes(*head))?, tail),
        None => (0, b),
    };
    rest.iter().try_fold(n, |n, &d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
}

/// Eight ASCII digits (the first in the lowest byte) as a number; `None` if one is not a
/// digit. SWAR: pairs, then fours, then the eight, with three multiplications.
fn eight_digits(w: u64) -> Option<u64> {
    if json::non_digits(w) != 0 {
        return None;
    }
    let t = w - 0x3030_3030_3030_3030;
    let v = t.wrapping_mul(10).wrapping_add(t >> 8);
    let v = (v & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32)));
    Some(v >> 32)
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

/// Declares the claims the SDK knows from one list: the string claims first (each with its
/// index constant into [`STRING_CLAIMS`], its accessor, its wire and output names), then the
/// other claims; one [`Claim`] enum and its name table [`CLAIM_NAMES`] come from it.
macro_rules! known_claims {
    (
        strings { $($svariant:ident $const_name:ident $method:ident $wire:literal $camel:literal;)* }
        others { $($ovariant:ident = $owire:literal,)* }
    ) => {
        json::known_names! {
            /// The claims the SDK knows, as the scanner classifies them: the string claims
            /// (ids 1..=[`N_STRINGS`]), then the others.
            enum Claim;
            /// Claim names to [`Claim`] ids, then every output name that is not a wire name
            /// (an unknown claim so named would collide in the output).
            static CLAIM_NAMES: NameTable<128> = (0x854a_e2bc_8836_d515, outputs: OUTPUT_NAMES) {
                $($svariant = $wire,)*
                $($ovariant = $owire,)*
            }
        }
        $(const $const_name: usize = Claim::$svariant as usize - 1;)*
        /// The string claims' wire and output names, by index.
        const STRING_CLAIMS: &[(&str, &str)] = &[$(($wire, $camel)),*];
        impl IdTokenPayload {
            $(
                #[doc = concat!("The `", $wire, "` claim.")]
                #[must_use]
                pub fn $method(&self) -> Option<&str> {
                    self.string($const_name)
                }
            )*
        }
    };
}

known_claims! {
    strings {
        Iss ISS iss "iss" "iss";
        Sub SUB sub "sub" "sub";
        Nonce NONCE nonce "nonce" "nonce";
        Acr ACR acr "acr" "acr";
        Azp AZP azp "azp" "azp";
        AtHash AT_HASH at_hash "at_hash" "atHash";
        Name NAME name "name" "name";
        GivenName GIVEN_NAME given_name "given_name" "givenName";
        FamilyName FAMILY_NAME family_name "family_name" "familyName";
        MiddleName MIDDLE_NAME middle_name "middle_name" "middleName";
        Nickname NICKNAME nickname "nickname" "nickname";
        PreferredUsername PREFERRED_USERNAME preferred_username "preferred_username" "preferredUsername";
        Profile PROFILE profile "profile" "profile";
        Picture PICTURE picture "picture" "picture";
        Website WEBSITE website "website" "website";
        Email EMAIL email "email" "email";
        Gender GENDER gender "gender" "gender";
        Birthdate BIRTHDATE birthdate "birthdate" "birthdate";
        Zoneinfo ZONEINFO zoneinfo "zoneinfo" "zoneinfo";
        Locale LOCALE locale "locale" "locale";
        PhoneNumber PHONE_NUMBER phone_number "phone_number" "phoneNumber";
        AuthType AUTH_TYPE auth_type "auth_type" "authType";
        CustomIdentifier CUSTOM_IDENTIFIER custom_identifier "custom_identifier" "customIdentifier";
        ExternalId EXTERNAL_ID external_id "external_id" "externalId";
    }
    others {
        Aud = "aud",
        Amr = "amr",
        Exp = "exp",
        Iat = "iat",
        AuthTime = "auth_time",
        Nbf = "nbf",
        EmailVerified = "email_verified",
        PhoneNumberVerified = "phone_number_verified",
        NewUser = "new_user",
        Address = "address",
        UpdatedAt = "updated_at",
        CustomFields = "custom_fields",
    }
}
/// How many string claims there are (ids 1..=N_STRINGS).
const N_STRINGS: usize = STRING_CLAIMS.len();

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

/// The id of a claim name (see [`CLAIM_NAMES`]).
#[inline(always)]
fn claim_id(key: json::NameKey, name: &[u8]) -> u8 {
    CLAIM_NAMES.get(key, name)
}

impl Claim {
    /// Whether this is a claim the SDK knows (whose `null` means absent).
    fn is_known(self) -> bool {
        !matches!(self, Claim::Unknown | Claim::OutputCollision)
    }

    /// The index into [`STRING_CLAIMS`] of a string claim.
    #[inline(always)]
    fn string_index(id: u8) -> Option<usize> {
        // Id 0 wraps to 255, past the string claims.
        let i = usize::from(id.wrapping_sub(1));
        (i < N_STRINGS).then_some(i)
    }
}

/// The payload of an ID token: every claim the ReachFive SDK knows, typed, and every other
/// claim verbatim.
///
/// Serialises into the SDK's `idTokenPayload` JSON: camelCase names for known claims, `aud`
/// always an array, absent claims omitted, unknown claims under their wire names.
/// Deserialises from the wire form (snake_case claim names) with the same strictness as
/// [`decode_id_token`]; that path needs `serde_json`, since unknown claims are kept as raw
/// JSON.
///
/// It holds the decoded claims set as one buffer and every claim as a place in it: decoding
/// allocates that buffer and nothing per claim. The lists (`aud`, `amr`), `address` and
/// `updated_at` are typed when decoded and built the first time they are asked for.
#[derive(Clone, Default)]
pub struct IdTokenPayload {
    /// The decoded claims set (UTF-8 JSON, checked when decoded), then the strings unescaped
    /// out of it. Kept as bytes so that the check is made once, by the SIMD validator, and
    /// not again by `String::from_utf8`; a place in it is read back as text by [`Self::text`].
    buf: Vec<u8>,
    strings: [OptSpan; N_STRINGS],
    /// Raw values (a string or an array of strings).
    aud: Option<Span>,
    amr: Option<Span>,
    exp: Option<NumericDate>,
    iat: Option<NumericDate>,
    auth_time: Option<NumericDate>,
    email_verified: Option<bool>,
    phone_number_verified: Option<bool>,
    new_user: Option<bool>,
    /// The raw object.
    address: Option<Span>,
    /// The unescaped string, or the number's text.
    updated_at: Option<(Span, bool)>,
    /// The raw object.
    custom_fields: Option<Span>,
    /// Name and raw value of every other claim, in order.
    extra: InlineVec<(Span, Span), 4>,
    built: Built,
}

/// What is built from the buffer on first use.
#[derive(Clone, Default)]
struct Built {
    aud: OnceLock<Vec<String>>,
    amr: OnceLock<Vec<String>>,
    address: OnceLock<Box<Address>>,
    updated_at: OnceLock<Option<UpdatedAt>>,
}

impl IdTokenPayload {
    fn text(&self, span: Span) -> &str {
        // Every span starts and ends on a character boundary of text checked as UTF-8 at
        // decoding: this re-check of a short piece is cheap and never fails.
        self.buf.get(span.range()).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }
    fn string(&self, index: usize) -> Option<&str> {
        self.strings[index].get().map(|s| self.text(s))
    }
    /// `aud`: the audiences, always as a list (a single string on the wire is one element).
    #[must_use]
    pub fn aud(&self) -> Option<&[String]> {
        self.aud.map(|s| self.built.aud.get_or_init(|| json::str_list(self.text(s))).as_slice())
    }
    /// `amr`: authentication methods, always as a list.
    #[must_use]
    pub fn amr(&self) -> Option<&[String]> {
        self.amr.map(|s| self.built.amr.get_or_init(|| json::str_list(self.text(s))).as_slice())
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
        self.address.map(|s| {
            &**self.built.address.get_or_init(|| {
                Box::new(Address::from_raw(json::raw_value(self.text(s))).unwrap_or_default())
            })
        })
    }
    /// `updated_at`, as it came.
    #[must_use]
    pub fn updated_at(&self) -> Option<&UpdatedAt> {
        let (span, is_string) = self.updated_at?;
        self.built
            .updated_at
            .get_or_init(|| {
                let text = self.text(span);
                if is_string {
                    Some(UpdatedAt::String(text.to_owned()))
                } else {
                    serde_json::from_str(text).ok().map(UpdatedAt::Number)
                }
            })
            .as_ref()
    }
    /// ReachFive's `custom_fields`: a JSON object, inner keys as they came.
    #[must_use]
    pub fn custom_fields(&self) -> Option<&RawValue> {
        self.custom_fields.map(|s| json::raw_value(self.text(s)))
    }
    /// Every claim the SDK does not know, under its wire name, with its JSON value as it came.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &RawValue)> {
        self.extra.as_slice().iter().map(|(k, v)| (self.text(*k), json::raw_value(self.text(*v))))
    }
    /// One unknown claim by wire name.
    #[must_use]
    pub fn extra_claim(&self, name: &str) -> Option<&RawValue> {
        self.extra
            .as_slice()
            .iter()
            .find(|(k, _)| self.text(*k) == name)
            .map(|(_, v)| json::raw_value(self.text(*v)))
    }

    /// Types the claims of a decoded payload.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, JwtError> {
        Self::from_vec(bytes.to_vec())
    }

    /// Types the claims of a decoded payload, keeping `bytes` as the payload's buffer.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Result<Self, JwtError> {
        let mut p = IdTokenPayload::default();
        p.fill(bytes)?;
        Ok(p)
    }

    /// [`from_vec`](Self::from_vec) into an empty payload, in place (it is large: moving it
    /// costs more than filling it where it will stay).
    ///
    /// One walk of the claims set: each claim is classified, checked for repeats and typed
    /// as the scanner finds it. The errors come in the reference reader's order all the
    /// same: not JSON, then a repeated name, then the first claim (in order) that fails.
    fn fill(&mut self, bytes: Vec<u8>) -> Result<(), JwtError> {
        let segment = Segment::Payload;
        let mut side = String::new();
        {
            let body = simdutf8::basic::from_utf8(&bytes).map_err(|_| JwtError::NotUtf8 { segment })?;
            let mut claims = Claims { payload: &mut *self, repeats: json::Repeats::default(), error: None };
            json::read_object_str(body, &mut side, &mut claims)
                .map_err(|e| JwtError::from_object(segment, e))?;
            let Claims { repeats, error, .. } = claims;
            if repeats.possible
                && let Some(name) =
                    json::repeated_name(body, claim_id).map_err(|e| JwtError::from_object(segment, e))?
            {
                return Err(JwtError::from_object(segment, ObjectError::Duplicate(name)));
            }
            if let Some(e) = error {
                return Err(e);
            }
        }
        let mut buf = bytes;
        if !side.is_empty() {
            buf.extend_from_slice(side.as_bytes());
        }
        self.buf = buf;
        Ok(())
    }

    /// Types one claim, exactly as the claims set's reference reader did: first the nested
    /// check of its value, then `null` for a known claim is absent, then its type.
    #[inline(always)]
    fn type_claim(&mut self, doc: &mut json::Doc<'_>, m: &Member) -> Result<(), JwtError> {
        if m.needs_check() {
            json::check_text(doc.get(m.value)).map_err(|e| JwtError::from_object(Segment::Payload, e))?;
        }
        // The string claims first (most claims): their ids are a range, told without the enum.
        if let Some(i) = Claim::string_index(m.id) {
            if m.kind != Kind::Null {
                let span = doc.string(m).ok_or_else(|| invalid(STRING_CLAIMS[i].0, "expected a string"))?;
                self.strings[i] = OptSpan::some(span);
            }
            return Ok(());
        }
        let claim = Claim::from_id(m.id);
        if m.kind == Kind::Null && claim.is_known() {
            return Ok(());
        }
        match claim {
            Claim::Aud => self.aud = Some(list(doc.get(m.value), m, "aud")?),
            Claim::Amr => self.amr = Some(list(doc.get(m.value), m, "amr")?),
            Claim::Exp => self.exp = Some(date(doc.get(m.value), m, "exp")?),
            Claim::Iat => self.iat = Some(date(doc.get(m.value), m, "iat")?),
            Claim::AuthTime => self.auth_time = Some(date(doc.get(m.value), m, "auth_time")?),
            Claim::Nbf => {
                // Kept verbatim, but typed like the other NumericDates.
                date(doc.get(m.value), m, "nbf")?;
                self.extra.push((m.name, m.value));
            }
            Claim::EmailVerified => self.email_verified = Some(boolean(doc, m, "email_verified")?),
            Claim::PhoneNumberVerified => {
                self.phone_number_verified = Some(boolean(doc, m, "phone_number_verified")?);
            }
            Claim::NewUser => self.new_user = Some(boolean(doc, m, "new_user")?),
            Claim::Address => {
                check_address(doc, m)?;
                self.address = Some(m.value);
            }
            Claim::UpdatedAt => {
                if let Some(s) = doc.string(m) {
                    self.updated_at = Some((s, true));
                } else if m.kind == Kind::Number && {
                    let text = doc.get(m.value);
                    small_integer(text).is_some() || serde_json::from_str::<serde_json::Number>(text).is_ok()
                } {
                    self.updated_at = Some((m.value, false));
                } else {
                    return Err(invalid("updated_at", "expected a number or a string"));
                }
            }
            Claim::CustomFields => {
                if m.kind != Kind::Object {
                    return Err(invalid("custom_fields", "expected an object"));
                }
                self.custom_fields = Some(m.value);
            }
            Claim::OutputCollision => {}
            // An unknown claim (the string claims were typed above).
            _ => self.extra.push((m.name, m.value)),
        }
        Ok(())
    }
}

/// Types the claims of one payload as the scanner finds them (see [`IdTokenPayload::fill`]).
struct Claims<'p> {
    payload: &'p mut IdTokenPayload,
    repeats: json::Repeats,
    /// The first claim that failed its check or its type.
    error: Option<JwtError>,
}

impl json::MemberSink for Claims<'_> {
    const CLASSIFIES: bool = true;

    #[inline(always)]
    fn name_id(key: json::NameKey, name: &[u8]) -> u8 {
        claim_id(key, name)
    }

    #[inline(always)]
    fn member(&mut self, doc: &mut json::Doc<'_>, m: Member) {
        let text = doc.text();
        self.repeats.note(m.id, m.name, text);
        if self.error.is_none()
            && let Err(e) = self.payload.type_claim(doc, &m)
        {
            self.error = Some(e);
        }
    }

    fn reset(&mut self) {
        *self.payload = IdTokenPayload::default();
        self.repeats = json::Repeats::default();
        self.error = None;
    }
}

fn invalid(claim: &'static str, reason: &'static str) -> JwtError {
    JwtError::InvalidClaim { claim, reason }
}

fn list(text: &str, m: &Member, claim: &'static str) -> Result<Span, JwtError> {
    if json::member_is_str_or_str_list(m, text) {
        Ok(m.value)
    } else {
        Err(invalid(claim, "expected a string or an array of strings"))
    }
}

fn date(text: &str, m: &Member, claim: &'static str) -> Result<NumericDate, JwtError> {
    (m.kind == Kind::Number)
        .then(|| NumericDate::from_json_number(text))
        .flatten()
        .ok_or_else(|| invalid(claim, "expected a non-negative number of seconds"))
}

fn boolean(doc: &mut json::Doc<'_>, m: &Member, claim: &'static str) -> Result<bool, JwtError> {
    match m.kind {
        Kind::True => Ok(true),
        Kind::False => Ok(false),
        _ => match doc.string(m).map(|s| doc.get(s)) {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => Err(invalid(claim, "expected a boolean or \"true\"/\"false\"")),
        },
    }
}

/// `address` must be an object whose known fields are strings (or `null`).
fn check_address(doc: &mut json::Doc<'_>, m: &Member) -> Result<(), JwtError> {
    if m.kind != Kind::Object {
        return Err(invalid("address", "expected an object"));
    }
    let mut members = json::Members::<8>::default();
    let body = doc.body();
    if json::scan_members(body, m.value.start(), doc.side(), &mut members).is_err() {
        // Past the scanner's limits: the reference reader decides.
        return Address::from_raw(json::raw_value(doc.get(m.value))).map(|_| ());
    }
    for f in members.as_slice() {
        let name = doc.get(f.name);
        if ADDRESS_FIELDS.iter().any(|(wire, _)| *wire == name)
            && f.kind != Kind::Null
            && doc.string(f).is_none()
        {
            return Err(invalid("address", "expected a string"));
        }
    }
    Ok(())
}

impl PartialEq for IdTokenPayload {
    fn eq(&self, other: &Self) -> bool {
        (0..N_STRINGS).all(|i| self.string(i) == other.string(i))
            && self.aud() == other.aud()
            && self.amr() == other.amr()
            && self.exp == other.exp
            && self.iat == other.iat
            && self.auth_time == other.auth_time
            && self.email_verified == other.email_verified
            && self.phone_number_verified == other.phone_number_verified
            && self.new_user == other.new_user
            && self.address() == other.address()
            && self.updated_at() == other.updated_at()
            && self.custom_fields().map(RawValue::get) == other.custom_fields().map(RawValue::get)
            && self.extra().map(|(k, v)| (k, v.get())).eq(other.extra().map(|(k, v)| (k, v.get())))
    }
}

impl Serialize for IdTokenPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let str_entry = |m: &mut S::SerializeMap, i: usize| -> Result<(), S::Error> {
            match self.string(i) {
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
        opt!("aud", self.aud());
        opt!("exp", self.exp);
        opt!("iat", self.iat);
        opt!("authTime", self.auth_time);
        str_entry(&mut m, NONCE)?;
        str_entry(&mut m, ACR)?;
        opt!("amr", self.amr());
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
        opt!("address", self.address());
        opt!("updatedAt", self.updated_at());
        str_entry(&mut m, AUTH_TYPE)?;
        opt!("newUser", self.new_user);
        opt!("customFields", self.custom_fields());
        str_entry(&mut m, CUSTOM_IDENTIFIER)?;
        str_entry(&mut m, EXTERNAL_ID)?;
        for (k, v) in self.extra() {
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
        f.debug_struct("IdTokenPayload")
            .field("claims", &present)
            .field("extra", &self.extra.as_slice().len())
            .finish()
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

    /// Reads an `address` object (the reference reader, used when the claim is first asked
    /// for; the decoder checked it already).
    fn from_raw(value: &RawValue) -> Result<Self, JwtError> {
        let members = json::parse_object(value.get().as_bytes())
            .map_err(|_| invalid("address", "expected an object"))?;
        let mut a = Address::default();
        for (name, v) in members {
            if let Some(i) = ADDRESS_FIELDS.iter().position(|(w, _)| *w == name) {
                if !json::is_null(v) {
                    a.fields[i] = Some(
                        json::as_str(v)
                            .map(|s| s.into_owned())
                            .ok_or_else(|| invalid("address", "expected a string"))?,
                    );
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
/// §12.2 see [`validate_id_token`](crate::validate_id_token).
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
    Ok((header, IdTokenPayload::from_vec(payload)?))
}

/// [`decode_parts`] into the slots of a result, in place.
pub(crate) fn decode_parts_into(
    jwt: &str,
    header: &mut Option<JwtHeader>,
    payload: &mut Option<IdTokenPayload>,
) -> Result<(), JwtError> {
    let (h, bytes) = jwt::decode_parts(jwt)?;
    payload.insert(IdTokenPayload::default()).fill(bytes)?;
    *header = Some(h);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> (usize, u64, u64) {
        (name.len(), json::word(name.as_bytes(), 0), json::word(name.as_bytes(), 8))
    }

    #[test]
    fn claim_ids_follow_the_tables() {
        let id = |name: &str| claim_id(key(name), name.as_bytes());
        for (i, (wire, _)) in STRING_CLAIMS.iter().enumerate() {
            assert_eq!(Claim::string_index(id(wire)), Some(i), "{wire}");
        }
        for &(name, claim) in Claim::NAMES {
            assert_eq!(Claim::from_id(id(name)), claim, "{name}");
        }
        for name in OUTPUT_NAMES {
            assert_ne!(Claim::from_id(id(name)), Claim::Unknown, "{name}");
        }
        assert_eq!(Claim::from_id(id("givenName")), Claim::OutputCollision);
        assert_eq!(Claim::from_id(id("nbf")), Claim::Nbf);
        assert_eq!(Claim::from_id(id("groups")), Claim::Unknown);
        assert_eq!(Claim::from_id(id("is")), Claim::Unknown);
        assert_eq!(Claim::string_index(id("aud")), None);
    }

    #[test]
    fn small_integers() {
        assert_eq!(small_integer("0"), Some(0));
        assert_eq!(small_integer("1700000000"), Some(1_700_000_000));
        assert_eq!(small_integer("9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(small_integer("18446744073709551615"), None, "20 digits: the slow path");
        assert_eq!(small_integer(""), None);
        assert_eq!(small_integer("1.5"), None);
        assert_eq!(small_integer("12345678"), Some(12_345_678));
        assert_eq!(small_integer("1234567x9"), None);
        // Every digit value at every place, and every other byte at every place.
        for len in 1..=19 {
            for place in 0..len {
                for c in 0..=255u8 {
                    let mut digits = vec![b'0' + (len % 10) as u8; len];
                    digits[place] = c;
                    let text = String::from_utf8_lossy(&digits).into_owned();
                    let want =
                        digits.iter().all(u8::is_ascii_digit).then(|| text.parse::<u64>().ok()).flatten();
                    assert_eq!(small_integer(&text), want, "{text:?}");
                }
            }
        }
        assert_eq!(
            NumericDate::from_json_number("18446744073709551615"),
            Some(NumericDate::from_secs(u64::MAX))
        );
    }
}
