//! The `error_response` target: the token-response oracle ([`crate::token_response::check`])
//! on error statuses, with raw bodies or OAuth-error-shaped ones built by
//! [`structured_error`]; no success may come out, and an OAuth error always has a code.
//!
//! Input: `[m] …`, the status [`STATUSES`]`[(m & 0x7f) % 11]`; for `m < 0x80` the rest is the
//! body, for `m >= 0x80` the rest drives [`structured_error`].

use oidc_refresh_core::Error;
use oidc_refresh_core::http::Response;

use crate::common::{Reader, append_header, response};

/// The statuses the target chooses from with its first byte (low 7 bits).
pub const STATUSES: [u16; 11] = [400, 401, 403, 404, 405, 409, 422, 429, 500, 502, 503];

/// The whole body of the `error_response` fuzz target: a 4xx (or 5xx) status and a raw or an
/// OAuth-error-shaped body.
pub fn run(data: &[u8]) {
    let Some((&m, rest)) = data.split_first() else { return };
    let status = STATUSES[usize::from(m & 0x7f) % STATUSES.len()];
    let response =
        if m & 0x80 == 0 { response(status, &[], rest.to_vec()) } else { structured_error(status, rest) };
    let parsed = crate::token_response::check(&response);
    // The two invariants this target exists for (the token-response oracle asserts them too).
    assert!(parsed.is_err(), "a success from HTTP {status}");
    if let Err(Error::Server(e)) = &parsed {
        assert!(!e.code().is_empty(), "an OAuth error with an empty code");
    }
}

const ERROR_MEMBER_NAMES: &[&str] = &[
    "error",
    "error",
    "error_description",
    "error_uri",
    "error_user_msg",
    "error_message_key",
    "error_details",
    "error_id",
    "access_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "id_token",
    "scope",
    "field",
    "message",
    "code",
    "accessToken",
];
const ERROR_CODES: &[&str] = &[
    "invalid_grant",
    "invalid_client",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
    "temporarily_unavailable",
    "slow_down",
    "server_error",
    "access_denied",
    "invalid_dpop_proof",
    "",
    "Bearer",
    "3599",
    "https://id.example/errors/42",
    "Refresh token expired. Please sign in again.",
    "SECRET-RT-0123456789abcdefXYZ",
];
const NUMBERS: &[&str] = &["0", "-0", "1", "3600", "3600.0", "-1", "1e3", "18446744073709551615", "1e400"];
const RETRY_AFTERS: &[&str] =
    &["120", " 5 ", "0", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "99999999999999999999"];
const WWW_AUTHENTICATES: &[&str] =
    &[r#"Basic realm="id.example""#, r#"Bearer error="invalid_token""#, r#"DPoP algs="ES256""#];
const CONTENT_TYPES: &[&str] =
    &["application/json", "application/json;charset=UTF-8", "text/html", "text/plain"];

/// An OAuth-error-shaped response: a JSON object mostly made of RFC 6749 §5.2 and ReachFive
/// error members, optional `Retry-After`, `WWW-Authenticate` and `Content-Type`, and now
/// and then trailing garbage or a truncation.
///
/// `data`: a flags byte (bits 0-2: add each of those headers, 3: trailing garbage, 4: cut
/// the body short), then what [`Reader`] reads for each part in turn.
pub fn structured_error(status: u16, data: &[u8]) -> Response<Vec<u8>> {
    let mut r = Reader(data);
    let flags = r.byte();
    let mut headers = Vec::new();
    for (bit, name, choices) in [
        (1, "retry-after", RETRY_AFTERS),
        (2, "www-authenticate", WWW_AUTHENTICATES),
        (4, "content-type", CONTENT_TYPES),
    ] {
        if flags & bit != 0 {
            let value =
                if r.byte() & 1 == 0 { r.pick(choices).as_bytes().to_vec() } else { r.chunk(40).to_vec() };
            headers.push((name, value));
        }
    }
    let mut body = String::new();
    write_object(&mut r, &mut body, 0);
    if flags & 8 != 0 {
        body.push_str(&r.text(8));
    }
    if flags & 16 != 0 {
        let mut cut = r.below(256).min(body.len());
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    let mut response = response(status, &[], body.into_bytes());
    for (name, value) in headers {
        // A value `http` refuses is left out.
        append_header(&mut response, name, &value);
    }
    response
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
}

fn write_object(r: &mut Reader<'_>, out: &mut String, depth: usize) {
    out.push('{');
    for i in 0..r.below(8) {
        if i > 0 {
            out.push(',');
        }
        let name = if r.byte() < 224 { r.pick(ERROR_MEMBER_NAMES).to_owned() } else { r.text(12) };
        write_str(out, &name);
        out.push(':');
        write_value(r, out, depth + 1);
    }
    out.push('}');
}

fn write_value(r: &mut Reader<'_>, out: &mut String, depth: usize) {
    match r.below(10) {
        0 => out.push_str("null"),
        1 => out.push_str(if r.byte() & 1 == 0 { "true" } else { "false" }),
        2 => out.push_str(r.pick(NUMBERS)),
        3 | 4 => write_str(out, r.pick(ERROR_CODES)),
        5 => write_str(out, &r.text(48)),
        6 if depth < 4 => {
            out.push('[');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(',');
                }
                write_value(r, out, depth + 1);
            }
            out.push(']');
        }
        7 if depth < 4 => write_object(r, out, depth),
        8 => {
            // ReachFive's error_details: [{field, message, code}].
            out.push('[');
            for i in 0..r.below(3) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"field":"#);
                write_str(out, &r.text(12));
                out.push_str(r#","message":"#);
                write_str(out, &r.text(24));
                out.push_str(r#","code":"#);
                write_str(out, r.pick(&["missing", "invalid", ""]));
                out.push('}');
            }
            out.push(']');
        }
        _ => {
            // A token-like secret, long enough to be masked in server text.
            let mut s = String::from("SECRET-");
            s.extend(r.chunk(40).iter().map(|b| char::from(b'A' + b % 26)));
            write_str(out, &s);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::value::RawValue;

    use super::*;

    #[test]
    fn structured_errors_are_json_objects_when_not_broken_on_purpose() {
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(seed).wrapping_add(seed) & !0x18).collect();
            let body = structured_error(400, &data).into_body();
            assert!(
                serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(&body).is_ok(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}
