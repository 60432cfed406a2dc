//! RFC 6749 reference predicates (the syntax of refresh tokens, scopes and client ids), and
//! the decoding of what a refresh request carries (`application/x-www-form-urlencoded`,
//! HTTP Basic credentials), all written independently of the core.

use crate::common::is_printable_ascii;
use crate::reference::jose::base64url_decode;

/// RFC 6749 A.17 / R6 refresh-token-syntax-checked-locally: a refresh token is one or more `%x20-7E`.
#[must_use]
pub fn refresh_token_ok(t: &str) -> bool {
    is_printable_ascii(t)
}

/// RFC 6749 §3.3 / R5: scope-tokens of `%x21 / %x23-5B / %x5D-7E`, single spaces.
#[must_use]
pub fn scope_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ').all(|token| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        })
}

/// A client id (and a client secret, which follows the same rule): non-empty, no control
/// character.
#[must_use]
pub fn client_id_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_control)
}

/// `application/x-www-form-urlencoded` pairs, decoded independently of the core.
#[must_use]
pub fn form_decode(text: &str) -> Vec<(String, String)> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (form_decode_component(k), form_decode_component(v)),
            None => (form_decode_component(pair), String::new()),
        })
        .collect()
}

/// One form-encoded name or value: `+` is a space, `%XX` a byte; a `%` not followed by two
/// hex digits stands for itself; the bytes are read as (lossy) UTF-8.
#[must_use]
pub fn form_decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lenient standard base64 (the HTTP Basic credentials): `=` padding optional, trailing bits
/// ignored.
#[must_use]
pub fn base64_standard_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    base64url_decode(&s.replace('+', "-").replace('/', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_and_predicates() {
        assert_eq!(
            form_decode("a=b+c&d=%26%3D&e"),
            [("a", "b c"), ("d", "&="), ("e", "")].map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(form_decode(""), []);
        assert_eq!(form_decode_component("%4"), "%4");
        assert_eq!(form_decode_component("%zz%41"), "%zzA");
        assert_eq!(base64_standard_decode("bXk6YXBw").as_deref(), Some(&b"my:app"[..]));
        assert!(scope_ok("openid !#[]~") && !scope_ok("a  b") && !scope_ok("a\"b") && !scope_ok(""));
        assert!(refresh_token_ok("a b~") && !refresh_token_ok("a\tb") && !refresh_token_ok(""));
        assert!(client_id_ok("my app") && !client_id_ok("") && !client_id_ok("a\u{7f}"));
    }
}
