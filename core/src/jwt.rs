//! Compact JWS decoding: `header.payload.signature` → header and payload bytes.
//!
//! **Nothing here verifies a signature.** An ID token that came straight from the token
//! endpoint over TLS may be used without one (OIDC Core §3.1.3.7 point 6); an ID token from
//! anywhere else must be verified before it is trusted.

use std::fmt;

use base64::Engine as _;
use memchr::memchr;

use crate::json::{self, ObjectError, OptSpan};

/// The base64url engine for the three segments: the base64 crate's SIMD engine (AVX2 or
/// NEON, detected once at run time, scalar otherwise; the `unsafe` is the base64 crate's,
/// this crate forbids its own), configured strictly: no padding, no trailing bits.
#[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon")))]
fn engine() -> &'static base64::engine::Simd {
    use base64::engine::{Simd, general_purpose::NO_PAD};
    static ENGINE: std::sync::LazyLock<Simd> = std::sync::LazyLock::new(|| Simd::url_safe(NO_PAD));
    &ENGINE
}

/// The base64url engine (scalar on this target), strict as above.
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
fn engine() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Which segment of a compact JWS an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// The JOSE header, the first segment.
    Header,
    /// The claims, the second segment.
    Payload,
    /// The signature, the third segment.
    Signature,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why an ID token cannot be decoded. Never shows the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not exactly three dot-separated segments (an encrypted JWE has five: unsupported).
    #[error("expected 3 dot-separated segments, found {found}")]
    SegmentCount {
        /// How many segments there are.
        found: usize,
    },
    /// A segment is not strict unpadded base64url (or the header or payload is empty).
    #[error("the {segment} segment is not unpadded base64url")]
    Base64 {
        /// Which one.
        segment: Segment,
    },
    /// The decoded header or payload is not UTF-8.
    #[error("the {segment} segment is not UTF-8")]
    NotUtf8 {
        /// Which one.
        segment: Segment,
    },
    /// The decoded header or payload is not JSON.
    #[error("the {segment} segment is not JSON ({detail})")]
    NotJson {
        /// Which one.
        segment: Segment,
        /// The JSON parser's position-only message.
        detail: String,
    },
    /// The decoded header or payload is JSON but not an object.
    #[error("the {segment} segment is not a JSON object")]
    NotAnObject {
        /// Which one.
        segment: Segment,
    },
    /// A name appears twice in one object of the header or payload.
    #[error("the {segment} repeats the member name {name:?}")]
    Duplicate {
        /// Which one.
        segment: Segment,
        /// The repeated name, bounded and sanitised.
        name: String,
    },
    /// A claim the SDK knows has the wrong type or an invalid value.
    #[error("the claim `{claim}` is invalid: {reason}")]
    InvalidClaim {
        /// The claim's wire name.
        claim: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl JwtError {
    pub(crate) fn from_object(segment: Segment, e: ObjectError) -> Self {
        match e {
            ObjectError::NotJson(detail) => JwtError::NotJson { segment, detail },
            ObjectError::NotAnObject => JwtError::NotAnObject { segment },
            ObjectError::Duplicate(name) => {
                JwtError::Duplicate { segment, name: crate::redact::sanitize(&name, 64) }
            }
        }
    }
}

/// The members of a JOSE header that matter to a client. Decoded, never trusted on its own.
#[derive(Clone, Default)]
pub struct JwtHeader {
    /// The decoded header, then anything unescaped out of it; the spans below point into it.
    text: SmallText,
    alg: OptSpan,
    typ: OptSpan,
    kid: OptSpan,
    has_crit: bool,
}

impl JwtHeader {
    fn get(&self, span: OptSpan) -> Option<&str> {
        span.get().map(|s| self.text.as_str().get(s.range()).unwrap_or_default())
    }
    /// `alg`, e.g. `RS256`; `none` is refused by validation.
    #[must_use]
    pub fn alg(&self) -> Option<&str> {
        self.get(self.alg)
    }
    /// `typ`, if any.
    #[must_use]
    pub fn typ(&self) -> Option<&str> {
        self.get(self.typ)
    }
    /// `kid`, the key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.get(self.kid)
    }
    /// Whether a `crit` member is present (refused by validation: this crate understands no
    /// extension).
    #[must_use]
    pub fn has_crit(&self) -> bool {
        self.has_crit
    }
}

impl fmt::Debug for JwtHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtHeader")
            .field("alg", &self.alg())
            .field("typ", &self.typ())
            .field("kid", &self.kid())
            .field("has_crit", &self.has_crit)
            .finish()
    }
}

impl PartialEq for JwtHeader {
    fn eq(&self, other: &Self) -> bool {
        (self.alg(), self.typ(), self.kid(), self.has_crit)
            == (other.alg(), other.typ(), other.kid(), other.has_crit)
    }
}

impl Eq for JwtHeader {}

/// A decoded header: inline up to [`SMALL`] bytes (typical headers are well under), on the
/// heap past that. Always UTF-8 once parsed (checked before it is kept).
#[derive(Clone)]
enum SmallText {
    Inline(u8, [u8; SMALL]),
    Heap(Vec<u8>),
}

/// Headers that decode to at most this many bytes stay inline.
const SMALL: usize = 96;

impl Default for SmallText {
    fn default() -> Self {
        SmallText::Inline(0, [0; SMALL])
    }
}

impl SmallText {
    /// Decodes a base64url header segment: onto the stack when it is short.
    fn decode(segment: &str) -> Result<Self, base64::DecodeSliceError> {
        // A segment of n symbols decodes to at most 3n/4 bytes.
        if segment.len() <= SMALL / 3 * 4 {
            let mut bytes = [0; SMALL];
            // Under 64 symbols the SIMD engine would run its scalar loop anyway: the scalar
            // engine of the same (strict) configuration, without the dispatch.
            let n = if segment.len() < 64 {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(segment, &mut bytes)?
            } else {
                engine().decode_slice(segment, &mut bytes)?
            };
            // n <= SMALL (96) fits in a u8.
            #[allow(clippy::cast_possible_truncation)]
            Ok(SmallText::Inline(n as u8, bytes))
        } else {
            engine().decode(segment).map(SmallText::Heap).map_err(base64::DecodeSliceError::DecodeError)
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            SmallText::Inline(len, bytes) => &bytes[..usize::from(*len)],
            SmallText::Heap(v) => v,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// Appends `more` (text unescaped out of the header).
    fn push_str(&mut self, more: &str) {
        match self {
            SmallText::Inline(len, bytes) if usize::from(*len) + more.len() <= SMALL => {
                let at = usize::from(*len);
                bytes[at..at + more.len()].copy_from_slice(more.as_bytes());
                // At most SMALL (96): fits in a u8.
                #[allow(clippy::cast_possible_truncation)]
                {
                    *len = (at + more.len()) as u8;
                }
            }
            SmallText::Inline(..) => {
                let mut v = self.as_bytes().to_vec();
                v.extend_from_slice(more.as_bytes());
                *self = SmallText::Heap(v);
            }
            SmallText::Heap(v) => v.extend_from_slice(more.as_bytes()),
        }
    }
}

/// Splits a compact JWS and decodes its header and payload; the signature segment is
/// checked to be base64url (it may be empty) but not verified.
pub(crate) fn decode_parts(jwt: &str) -> Result<(JwtHeader, Vec<u8>), JwtError> {
    let b = jwt.as_bytes();
    let count = || JwtError::SegmentCount { found: memchr::memchr_iter(b'.', b).count() + 1 };
    let dots = memchr(b'.', b).and_then(|d1| memchr(b'.', &b[d1 + 1..]).map(|k| (d1, d1 + 1 + k)));
    let Some((d1, d2)) = dots else { return Err(count()) };
    let (h, p, s) = (&jwt[..d1], &jwt[d1 + 1..d2], &jwt[d2 + 1..]);
    // A fourth segment is looked for only on failure: a dot is not base64url, so a
    // signature segment holding one fails its check, and then the count is the error.
    decode_segments(h, p, s).map_err(|e| if memchr(b'.', s.as_bytes()).is_some() { count() } else { e })
}

/// [`decode_parts`] once the token is split.
fn decode_segments(h: &str, p: &str, s: &str) -> Result<(JwtHeader, Vec<u8>), JwtError> {
    if h.is_empty() {
        return Err(JwtError::Base64 { segment: Segment::Header });
    }
    // Decoded where the header will live (inline when short); read after the other checks.
    let header_text = SmallText::decode(h).map_err(|_| JwtError::Base64 { segment: Segment::Header })?;
    if p.is_empty() {
        return Err(JwtError::Base64 { segment: Segment::Payload });
    }
    let payload = engine().decode(p).map_err(|_| JwtError::Base64 { segment: Segment::Payload })?;
    check_signature(s)?;
    let header = parse_header(header_text)?;
    Ok((header, payload))
}

/// Decodes the header segment alone, as [`decode_parts`] does (same checks, same errors):
/// for a signature check, which needs nothing from the payload. Allocates nothing for a
/// header that decodes to at most [`SMALL`] bytes.
#[cfg(feature = "verify")]
pub(crate) fn decode_header(segment: &str) -> Result<JwtHeader, JwtError> {
    if segment.is_empty() {
        return Err(JwtError::Base64 { segment: Segment::Header });
    }
    let text = SmallText::decode(segment).map_err(|_| JwtError::Base64 { segment: Segment::Header })?;
    parse_header(text)
}

/// Decodes a segment (strict unpadded base64url, the engine above) into `out`; the number of
/// bytes written, or `None` when the segment is not base64url or does not fit.
#[cfg(feature = "verify")]
pub(crate) fn decode_segment_into(segment: &str, out: &mut [u8]) -> Option<usize> {
    if segment.len() / 4 * 3 + (segment.len() % 4).saturating_sub(1) > out.len() {
        return None;
    }
    let decoded = if segment.len() < 64 {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(segment, out)
    } else {
        engine().decode_slice(segment, out)
    };
    decoded.ok()
}

/// Checks that the signature segment is strict unpadded base64url, exactly as decoding it
/// with the engine above would (the bytes are not needed): every symbol in the URL-safe
/// alphabet, a length that is not 1 more than a multiple of 4, and no bits left over in the
/// last symbol. Branch-free over the symbols ([`json::fold_bytes`]), so that it vectorises.
fn check_signature(s: &str) -> Result<(), JwtError> {
    let b = s.as_bytes();
    let outside = |c: u8| {
        // `c | 0x20` maps exactly `A-Z` and `a-z` onto `a-z`.
        let letter = (c | 0x20).wrapping_sub(b'a') < 26;
        let digit = c.wrapping_sub(b'0') < 10;
        u8::from(!(letter | digit | (c == b'-') | (c == b'_')))
    };
    let alphabet = json::fold_bytes(b, 0, outside, |x, y| x | y) == 0;
    let last = b.last().map_or(0, |&c| sextet(c));
    let leftover_zero = match b.len() % 4 {
        1 => false,
        2 => last & 0x0F == 0,
        3 => last & 0x03 == 0,
        _ => true,
    };
    if alphabet && leftover_zero { Ok(()) } else { Err(JwtError::Base64 { segment: Segment::Signature }) }
}

/// The value of a base64url symbol (0 for anything else).
fn sextet(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => 0,
    }
}

/// Reads the decoded header, a member at a time (see [`HeaderMembers`]); the errors come in
/// the reference reader's order: not UTF-8, not JSON, a repeated name, then the first member
/// in order that fails its check.
fn parse_header(mut text: SmallText) -> Result<JwtHeader, JwtError> {
    let segment = Segment::Header;
    let mut side = String::new();
    let members = {
        let body = std::str::from_utf8(text.as_bytes()).map_err(|_| JwtError::NotUtf8 { segment })?;
        let mut members = HeaderMembers::default();
        json::read_object_str(body, &mut side, &mut members)
            .map_err(|e| JwtError::from_object(segment, e))?;
        if members.repeats.possible
            && let Some(name) = json::repeated_name(body, |_, n| HeaderField::of(n) as u8)
                .map_err(|e| JwtError::from_object(segment, e))?
        {
            return Err(JwtError::from_object(segment, ObjectError::Duplicate(name)));
        }
        members
    };
    if let Some(e) = members.error {
        return Err(e);
    }
    if !side.is_empty() {
        // Spans past the decoded header point into `side`, which now follows it.
        text.push_str(&side);
    }
    let [alg, typ, kid] = members.found;
    Ok(JwtHeader { text, alg, typ, kid, has_crit: members.has_crit })
}

/// The header members the decoder reads; the ids of the first three index
/// `HeaderMembers::found`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum HeaderField {
    Other = 0,
    Alg = 1,
    Typ = 2,
    Kid = 3,
    Crit = 4,
}

impl HeaderField {
    /// The field a header member's name is.
    fn of(name: &[u8]) -> Self {
        match name {
            b"alg" => Self::Alg,
            b"typ" => Self::Typ,
            b"kid" => Self::Kid,
            b"crit" => Self::Crit,
            _ => Self::Other,
        }
    }
}

/// The header's members as the scanner finds them: `alg`, `typ`, `kid` (when strings) and
/// whether `crit` is there; every member is held to the same strictness.
#[derive(Default)]
struct HeaderMembers {
    found: [OptSpan; 3],
    has_crit: bool,
    repeats: json::Repeats,
    /// The first member that failed the nested check.
    error: Option<JwtError>,
}

impl json::MemberSink for HeaderMembers {
    fn member(&mut self, doc: &mut json::Doc<'_>, m: json::Member) {
        let text = doc.text();
        let field = HeaderField::of(text.bytes(m.name));
        self.repeats.note(field as u8, m.name, text);
        if self.error.is_some() {
            return;
        }
        if m.needs_check()
            && let Err(e) = json::check_text(text.get(m.value))
        {
            self.error = Some(JwtError::from_object(Segment::Header, e));
            return;
        }
        match field {
            HeaderField::Alg | HeaderField::Typ | HeaderField::Kid => {
                self.found[field as usize - 1] = doc.string(&m).into();
            }
            HeaderField::Crit => self.has_crit = m.kind != json::Kind::Null,
            HeaderField::Other => {}
        }
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn decodes_header_and_payload() {
        let jwt = format!("{}.{}.{}", b(r#"{"alg":"RS256","kid":"k1"}"#), b(r#"{"sub":"x"}"#), b("sig"));
        let (header, payload) = decode_parts(&jwt).unwrap_or_default();
        assert_eq!(header.alg(), Some("RS256"));
        assert_eq!(header.kid(), Some("k1"));
        assert!(!header.has_crit());
        assert_eq!(payload, br#"{"sub":"x"}"#);
    }

    #[test]
    fn rejects_malformed_tokens() {
        let h = b(r#"{"alg":"RS256"}"#);
        let p = b(r#"{"sub":"x"}"#);
        let cases: Vec<(String, JwtError)> = vec![
            (format!("{h}.{p}"), JwtError::SegmentCount { found: 2 }),
            (format!("{h}.{p}.a.b.c"), JwtError::SegmentCount { found: 5 }),
            // The count comes first, whatever else is wrong (and wherever the extra dot is).
            (format!("!.{p}.c2ln.c2ln"), JwtError::SegmentCount { found: 4 }),
            (format!("{h}.!.c2ln."), JwtError::SegmentCount { found: 4 }),
            (format!("{}.{p}..", b("[]")), JwtError::SegmentCount { found: 4 }),
            (format!("{h}.{p}.c2ln."), JwtError::SegmentCount { found: 4 }),
            (format!(".{p}.c2ln"), JwtError::Base64 { segment: Segment::Header }),
            (format!("{h}..c2ln"), JwtError::Base64 { segment: Segment::Payload }),
            (format!("{h}.{p}="), JwtError::SegmentCount { found: 2 }),
            (format!("{h}.{p}=.c2ln"), JwtError::Base64 { segment: Segment::Payload }),
            (format!("{h}.{p}.a"), JwtError::Base64 { segment: Segment::Signature }),
            (format!("{}.{p}.", b("[]")), JwtError::NotAnObject { segment: Segment::Header }),
            (
                format!("{}.{p}.", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
                JwtError::NotUtf8 { segment: Segment::Header },
            ),
        ];
        for (jwt, want) in cases {
            assert_eq!(decode_parts(&jwt).err(), Some(want), "{jwt}");
        }
    }

    #[test]
    fn padding_and_standard_alphabet_are_refused() {
        // "{}" encodes to "e30" unpadded and "e30=" padded.
        assert!(decode_parts("e30.e30.").is_ok());
        assert_eq!(decode_parts("e30=.e30.").err(), Some(JwtError::Base64 { segment: Segment::Header }));
        // A payload whose standard encoding has '/' where base64url has '_'.
        let p = URL_SAFE_NO_PAD.encode(r#"{"a":"???"}"#);
        assert!(p.contains('_'));
        assert!(decode_parts(&format!("e30.{}.", p.replace('_', "/"))).is_err());
    }

    #[test]
    fn headers_short_long_and_escaped_read_alike() {
        let long = "x".repeat(300);
        let filler = "y".repeat(60);
        let cases = [
            // Inline, no escapes.
            (r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#.to_owned(), Some("RS256"), Some("JWT"), Some("k1")),
            // Inline, escapes unescaped after the decoded header.
            (r#"{"alg":"RS\u0032\u00356","kid":"a\/b"}"#.to_owned(), Some("RS256"), None, Some("a/b")),
            // Escapes that no longer fit inline move the header to the heap.
            (
                format!(r#"{{"x":"{filler}","kid":"\u0041{filler}"}}"#),
                None,
                None,
                Some(&*format!("A{filler}")),
            ),
            // Decodes past the inline size: on the heap from the start.
            (format!(r#"{{"x5c":["{long}"],"alg":"ES256"}}"#), Some("ES256"), None, None),
            // Not a string: absent.
            (r#"{"alg":1,"typ":null}"#.to_owned(), None, None, None),
        ];
        for (json, alg, typ, kid) in cases {
            let jwt = format!("{}.e30.", b(&json));
            let (header, _) = decode_parts(&jwt).unwrap_or_default();
            assert_eq!((header.alg(), header.typ(), header.kid()), (alg, typ, kid), "{json}");
        }
        // Every size around the inline limit decodes (the segment and the buffer sizes meet),
        // and around 64 symbols (where the scalar engine hands over to the SIMD one).
        for n in 30..140 {
            let json = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(n - 24));
            assert_eq!(json.len(), n);
            let (header, _) = decode_parts(&format!("{}.e30.", b(&json))).unwrap_or_default();
            assert_eq!(header.alg(), Some("ES256"), "{n} bytes");
            assert_eq!(header.kid().map(str::len), Some(n - 24), "{n} bytes");
        }
        let repeated = format!("{}.e30.", b(r#"{"alg":"RS256","kid":"a","alg":"none"}"#));
        assert_eq!(
            decode_parts(&repeated).err(),
            Some(JwtError::Duplicate { segment: Segment::Header, name: "alg".into() })
        );
    }

    #[test]
    fn crit_header_is_noted() {
        let jwt = format!("{}.e30.", b(r#"{"alg":"RS256","crit":["exp"]}"#));
        assert!(decode_parts(&jwt).map(|(h, _)| h.has_crit()).unwrap_or(false));
    }

    #[test]
    fn signature_check_agrees_with_decoding() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.";
        let mut x: u32 = 12345;
        for len in (0..40).chain([63, 64, 65, 127, 128, 129, 342]) {
            for _ in 0..200 {
                let s: String = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        // Mostly valid symbols, now and then an invalid one.
                        let k = (x >> 16) as usize % if x.is_multiple_of(13) { alphabet.len() } else { 64 };
                        char::from(alphabet[k])
                    })
                    .collect();
                assert_eq!(check_signature(&s).is_ok(), URL_SAFE_NO_PAD.decode(&s).is_ok(), "{s:?}");
            }
        }
    }

    #[test]
    fn every_byte_at_every_place_of_a_long_signature() {
        let valid = URL_SAFE_NO_PAD.encode([0x5Au8; 97]); // 130 symbols: two blocks and a tail
        assert!(check_signature(&valid).is_ok());
        for at in 0..valid.len() {
            for c in 0..=u8::MAX {
                let mut b = valid.clone().into_bytes();
                b[at] = c;
                let Ok(s) = String::from_utf8(b) else { continue };
                assert_eq!(check_signature(&s).is_ok(), URL_SAFE_NO_PAD.decode(&s).is_ok(), "{at} {c}");
            }
        }
    }
}
