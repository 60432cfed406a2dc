//! What the oracles share: reading structure out of fuzz bytes, building responses, and a
//! few small predicates and byte searches.

use std::any::Any;

use oidc_refresh_core::http::{HeaderName, HeaderValue, Response, StatusCode};

/// Separates the fields of the `scope_and_refresh_token` and `discovery` inputs (never
/// valid UTF-8, so it constrains no string).
pub const SEP: u8 = 0xFF;

/// Reads structure out of fuzz bytes: every read succeeds (zeros once the bytes run out).
#[derive(Clone, Debug)]
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    /// The next byte, or 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// A number in `0..n` (`n` at most 256), from one byte.
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    /// Up to `max` raw bytes (`max` at most 255), the length read first.
    pub fn chunk(&mut self, max: usize) -> &'a [u8] {
        let len = self.below(max + 1).min(self.0.len());
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        head
    }

    /// [`chunk`](Self::chunk) as (lossy) UTF-8.
    pub fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(self.chunk(max)).into_owned()
    }

    /// One of `items`, chosen by one byte.
    pub fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }

    /// Whether every byte was read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A response with this status (200 if it is not one), headers and body. A header whose
/// name or value `http` refuses is left out.
pub fn response(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in headers {
        append_header(&mut r, name, value.as_bytes());
    }
    r
}

/// Appends a header to `r`, unless `http` refuses its name or its value.
pub fn append_header(r: &mut Response<Vec<u8>>, name: &str, value: &[u8]) {
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
        r.headers_mut().append(name, value);
    }
}

/// One or more `%x20-7E` (the syntax of a refresh token, RFC 6749 A.17).
#[must_use]
pub fn is_printable_ascii(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// The same letters and digits, each moved one step in its class: same length, same
/// syntax classes, so a parse must not change except where the value is shown.
#[must_use]
pub fn rotated(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c if c.is_ascii_alphanumeric() => char::from(c as u8 + 1),
            c => c,
        })
        .collect()
}

/// Where `needle` first occurs in `haystack` (never for an empty needle).
#[must_use]
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How often `needle` occurs in `haystack`, overlaps counted (0 for an empty needle).
#[must_use]
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The message of a caught panic (empty when it is neither a `String` nor a `&str`).
#[must_use]
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_zeros_past_the_end() {
        let mut r = Reader(&[3, b'a', b'b', b'c', b'd', 7]);
        assert_eq!(r.chunk(255), b"abc");
        assert_eq!(r.below(4), usize::from(b'd') % 4);
        assert_eq!(r.pick(&["x", "y", "z"]), "y");
        assert!(r.is_empty());
        assert_eq!((r.byte(), r.chunk(10), r.text(10)), (0, &b""[..], String::new()));
    }

    #[test]
    fn helpers() {
        assert_eq!(rotated("az-AZ_09"), "ba-BA_10");
        assert_eq!((find(b"abcabc", b"bc"), find(b"abc", b"")), (Some(1), None));
        assert_eq!((occurrences(b"aaa", b"aa"), occurrences(b"abc", b"")), (2, 0));
        assert!(is_printable_ascii("a b~") && !is_printable_ascii("a\tb") && !is_printable_ascii(""));
        let r = response(429, &[("retry-after", "7"), ("bad name", "x"), ("x", "a\nb")], b"{}".to_vec());
        assert_eq!((r.status().as_u16(), r.headers().len()), (429, 1));
        assert_eq!(response(1000, &[], Vec::new()).status(), StatusCode::OK);
    }
}
