//! Compact JWS decoding: `header.payload.signature` → header and payload bytes.
//!
//! **Nothing here verifies a signature.** An ID token that came straight from the token
//! endpoint over TLS may be used without one (OIDC Core §3.1.3.7 point 6); an ID token from
//! anywhere else must be verified before it is trusted.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::json::{self, ObjectError};

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
                JwtError::Duplicate { segment, name: crate::error::sanitize(&name, 64) }
            }
        }
    }
}

/// The members of a JOSE header that matter to a client. Decoded, never trusted on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwtHeader {
    pub(crate) alg: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) kid: Option<String>,
    pub(crate) has_crit: bool,
}

impl JwtHeader {
    /// `alg`, e.g. `RS256`; `none` is refused by validation.
    #[must_use]
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }
    /// `typ`, if any.
    #[must_use]
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }
    /// `kid`, the key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// Whether a `crit` member is present (refused by validation: this crate understands no
    /// extension).
    #[must_use]
    pub fn has_crit(&self) -> bool {
        self.has_crit
    }
}

/// Splits a compact JWS and decodes its header and payload; the signature segment is
/// checked to be base64url (it may be empty) but not verified.
pub(crate) fn decode_parts(jwt: &str) -> Result<(JwtHeader, Vec<u8>), JwtError> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::SegmentCount { found: jwt.split('.').count() });
    };
    let header_bytes = b64(h, Segment::Header)?;
    let payload = b64(p, Segment::Payload)?;
    if !s.is_empty() {
        // Decoding is the cheapest complete syntax check; the bytes are not kept.
        URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Base64 { segment: Segment::Signature })?;
    }
    let header = parse_header(&header_bytes)?;
    Ok((header, payload))
}

fn b64(segment_text: &str, segment: Segment) -> Result<Vec<u8>, JwtError> {
    if segment_text.is_empty() {
        return Err(JwtError::Base64 { segment });
    }
    URL_SAFE_NO_PAD.decode(segment_text).map_err(|_| JwtError::Base64 { segment })
}

fn parse_header(bytes: &[u8]) -> Result<JwtHeader, JwtError> {
    std::str::from_utf8(bytes).map_err(|_| JwtError::NotUtf8 { segment: Segment::Header })?;
    let members = json::parse_object(bytes).map_err(|e| JwtError::from_object(Segment::Header, e))?;
    let mut header = JwtHeader::default();
    for (name, value) in &members {
        json::check_value(value).map_err(|e| JwtError::from_object(Segment::Header, e))?;
        let text = || json::as_str(value).map(|s| s.into_owned());
        match name.as_ref() {
            "alg" => header.alg = text(),
            "typ" => header.typ = text(),
            "kid" => header.kid = text(),
            "crit" => header.has_crit = !json::is_null(value),
            _ => {}
        }
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn crit_header_is_noted() {
        let jwt = format!("{}.e30.", b(r#"{"alg":"RS256","crit":["exp"]}"#));
        assert!(decode_parts(&jwt).map(|(h, _)| h.has_crit()).unwrap_or(false));
    }
}
