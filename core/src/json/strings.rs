//! Strings: escapes checked and unescaped, string members read, lists of strings walked.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Four hex digits at `i`, as a number.
#[inline]
pub(super) fn hex4(b: &[u8], i: usize) -> Option<u16> {
    let digits = b.get(i..i + 4)?;
    let mut n: u16 = 0;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        n = (n << 4) | u16::from(v);
    }
    Some(n)
}

/// Whether every `\u` escape of a (syntactically valid) string's content is a character or
/// a surrogate pair, as serde_json requires of a string.
pub(super) fn unicode_escapes_valid(content: &[u8]) -> bool {
    let mut i = 0;
    while let Some(k) = content.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let j = i + k;
        if content.get(j + 1) != Some(&b'u') {
            i = j + 2;
            continue;
        }
        let Some(n) = hex4(content, j + 2) else { return false };
        i = j + 6;
        match n {
            0xDC00..=0xDFFF => return false,
            0xD800..=0xDBFF => {
                if content.get(i..i + 2) != Some(b"\\u") {
                    return false;
                }
                match hex4(content, i + 2) {
                    Some(0xDC00..=0xDFFF) => i += 6,
                    _ => return false,
                }
            }
            _ => {}
        }
    }
    true
}

/// Appends the unescaped form of a string's content (syntactically valid, UTF-8) to `out`;
/// `false` (with `out` possibly extended) where serde_json would refuse it as a string: a
/// lone surrogate.
pub(crate) fn unescape_into(content: &str, out: &mut String) -> bool {
    let b = content.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while let Some(k) = b.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let j = i + k;
        let Some(plain) = content.get(last..j) else { return false };
        out.push_str(plain);
        let c = match b.get(j + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let Some(n) = hex4(b, j + 2) else { return false };
                i = j + 6;
                let code = match n {
                    0xDC00..=0xDFFF => return false,
                    0xD800..=0xDBFF => {
                        if b.get(i..i + 2) != Some(b"\\u") {
                            return false;
                        }
                        match hex4(b, i + 2) {
                            Some(low @ 0xDC00..=0xDFFF) => {
                                i += 6;
                                0x1_0000 + ((u32::from(n) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                            }
                            _ => return false,
                        }
                    }
                    other => u32::from(other),
                };
                let Some(c) = char::from_u32(code) else { return false };
                out.push(c);
                last = i;
                continue;
            }
            _ => return false,
        };
        out.push(c);
        i = j + 2;
        last = i;
    }
    match content.get(last..) {
        Some(rest) => {
            out.push_str(rest);
            true
        }
        None => false,
    }
}

/// The value of a string member, unescaped: a span of the body when it holds no escape, else
/// of `side` (where it is written); `None` if the value is not a string serde_json would
/// read (not a string, or a lone surrogate).
#[inline(always)]
pub(crate) fn string_span(body: &str, m: &Member, side: &mut String) -> Option<Span> {
    if m.kind != Kind::String {
        return None;
    }
    let inner = m.string_content();
    if !m.flags.contains(Flags::ESCAPED) {
        return Some(inner);
    }
    unescaped_span(body, inner, side)
}

/// [`string_span`] for a string with escapes.
#[inline(never)]
pub(super) fn unescaped_span(body: &str, inner: Span, side: &mut String) -> Option<Span> {
    let before = side.len();
    if unescape_into(body.get(inner.range())?, side) {
        Some(Span::new(body.len() + before, body.len() + side.len()))
    } else {
        side.truncate(before);
        None
    }
}

/// [`is_str_or_str_list`] for a member, from what the scanner noted where it can: a string
/// without escapes, an array it saw to hold only strings.
pub(crate) fn member_is_str_or_str_list(m: &Member, text: &str) -> bool {
    match m.kind {
        Kind::String if !m.flags.contains(Flags::ESCAPED) => true,
        Kind::Array if m.flags.contains(Flags::STRINGS) => true,
        kind => is_str_or_str_list(text, kind),
    }
}

/// Whether a validated value is a string or an array of strings that serde_json would read
/// (as `String` / `Vec<String>`).
pub(crate) fn is_str_or_str_list(text: &str, kind: Kind) -> bool {
    match kind {
        Kind::String => unicode_escapes_valid(text.as_bytes()),
        Kind::Array => for_each_list_str(text, |_| true),
        _ => false,
    }
}

/// A validated string or array of strings, as a list of unescaped strings (empty if it is
/// not one, which [`is_str_or_str_list`] rules out beforehand).
pub(crate) fn str_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if text.starts_with('"') {
        let mut s = String::new();
        if unescape_into(text.get(1..text.len().saturating_sub(1)).unwrap_or_default(), &mut s) {
            out.push(s);
        }
        return out;
    }
    for_each_list_str(text, |content| {
        let mut s = String::with_capacity(content.len());
        let ok = unescape_into(content, &mut s);
        out.push(s);
        ok
    });
    out
}

/// Calls `f` with the content of each element of a validated array, as long as every element
/// is a string with valid escapes and `f` returns `true`; whether that held to the end.
pub(super) fn for_each_list_str(text: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let b = text.as_bytes();
    if b.first() != Some(&b'[') {
        return false;
    }
    let mut i = skip_ws(b, 1);
    if b.get(i) == Some(&b']') {
        return true;
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return false;
        }
        let Ok((close, esc)) = scan_string(b, i + 1) else { return false };
        let Some(content) = text.get(i + 1..close) else { return false };
        if esc == Esc::Unicode && !unicode_escapes_valid(content.as_bytes()) {
            return false;
        }
        if !f(content) {
            return false;
        }
        i = skip_ws(b, close + 1);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return true,
            _ => return false,
        }
    }
}
