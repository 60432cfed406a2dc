//! The scanner: a single-pass, strict RFC 8259 reader for the flat objects of this protocol,
//! which keeps every member as a span into its input and validates nested values in place.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Scans `text` as exactly one object, surrounding whitespace allowed.
pub(crate) fn scan_object<S: MemberSink>(text: &str, side: &mut String, members: &mut S) -> Result<(), Bail> {
    let b = text.as_bytes();
    let i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(Bail);
    }
    let end = scan_members(text, i, side, members)?;
    if skip_ws(b, end) == b.len() { Ok(()) } else { Err(Bail) }
}

/// Scans the members of the object whose `{` is at `open`; returns the index after `}`.
pub(crate) fn scan_members<S: MemberSink>(
    text: &str,
    open: usize,
    side: &mut String,
    members: &mut S,
) -> Result<usize, Bail> {
    let b = text.as_bytes();
    // The readers refuse longer texts before they get here; said again where the loop is, it
    // tells the compiler that an index into the text plus 17 cannot overflow, so that the
    // check of each string's first sixteen bytes is one comparison (callgrind: 175 to 300
    // instructions fewer per token response, depending on what else is inlined).
    if b.len() > MAX_TEXT {
        return Err(Bail);
    }
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    // One document for every member: a sink is handed its address, and reads the texts
    // through it only when it needs them (see `DocText`).
    let mut doc = Doc::new(text, side);
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(Bail);
        }
        let (close, esc) = scan_string(b, i + 1)?;
        let (name, id) = if esc == Esc::None {
            let id = if S::CLASSIFIES {
                S::name_id(key_at(b, i + 1, close), b.get(i + 1..close).unwrap_or_default())
            } else {
                0
            };
            (Span::new(i + 1, close), id)
        } else {
            let start = text.len() + doc.side().len();
            if !unescape_into(text.get(i + 1..close).ok_or(Bail)?, doc.side()) {
                return Err(Bail);
            }
            let name = Span::new(start, text.len() + doc.side().len());
            (name, name_id_of::<S>(doc.text().into(), name))
        };
        i = skip_ws(b, close + 1);
        if b.get(i) != Some(&b':') {
            return Err(Bail);
        }
        i = skip_ws(b, i + 1);
        let start = i;
        let (end, kind, flags) = scan_value(b, i)?;
        members.member(&mut doc, Member { name, value: Span::new(start, end), kind, flags, id });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(i + 1),
            _ => return Err(Bail),
        }
    }
}

#[inline(always)]
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    // Compact JSON has no whitespace: one comparison (every whitespace byte is <= ' ', every
    // structural byte above it) settles the common case.
    if b.get(i).is_some_and(|&c| c > b' ') {
        return i;
    }
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// A top-level member's value starting at `i`: its end, kind and flags.
#[inline(always)]
pub(super) fn scan_value(b: &[u8], i: usize) -> Result<(usize, Kind, Flags), Bail> {
    match b.get(i) {
        Some(b'"') => {
            let (close, esc) = scan_string(b, i + 1)?;
            let mut flags = if esc == Esc::None { Flags::NONE } else { Flags::ESCAPED };
            // The reference walks any kept value whose text holds a bracket, a string
            // included, and then refuses a lone surrogate in it: so must this reader.
            if esc == Esc::Unicode {
                let content = b.get(i + 1..close).ok_or(Bail)?;
                if content.iter().any(|&c| c == b'{' || c == b'[') && !unicode_escapes_valid(content) {
                    flags.insert(Flags::CHECK);
                }
            }
            Ok((close + 1, Kind::String, flags))
        }
        Some(b'{') => {
            let mut flags = Flags::NONE;
            let end = skip_object(b, i, 1, &mut flags)?;
            Ok((end, Kind::Object, flags))
        }
        Some(b'[') => {
            let mut flags = Flags::NONE;
            let end = skip_array(b, i, 1, &mut flags)?;
            Ok((end, Kind::Array, flags))
        }
        Some(b't') => Ok((literal(b, i, b"true")?, Kind::True, Flags::NONE)),
        Some(b'f') => Ok((literal(b, i, b"false")?, Kind::False, Flags::NONE)),
        Some(b'n') => Ok((literal(b, i, b"null")?, Kind::Null, Flags::NONE)),
        Some(b'-' | b'0'..=b'9') => Ok((scan_number(b, i)?.0, Kind::Number, Flags::NONE)),
        _ => Err(Bail),
    }
}

#[inline]
pub(super) fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Bail> {
    if b.get(i..i + word.len()) == Some(word) { Ok(i + word.len()) } else { Err(Bail) }
}

/// A number starting at `i` (RFC 8259 grammar, as serde_json reads it): its end, and whether
/// serde_json might find it out of range as an `f64` (an exponent, or hundreds of digits).
pub(super) fn scan_number(b: &[u8], i: usize) -> Result<(usize, bool), Bail> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let digits_from = j;
    match b.get(j) {
        Some(b'0') => {
            j += 1;
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                return Err(Bail);
            }
        }
        Some(b'1'..=b'9') => j = skip_digits(b, j + 1),
        _ => return Err(Bail),
    }
    let mut risky = false;
    if b.get(j) == Some(&b'.') {
        j += 1;
        let from = j;
        j = skip_digits(b, j);
        if j == from {
            return Err(Bail);
        }
    }
    if let Some(b'e' | b'E') = b.get(j) {
        risky = true;
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let from = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == from {
            return Err(Bail);
        }
    }
    Ok((j, risky || j - digits_from > 300))
}

/// The index after the run of ASCII digits starting at `j`: eight bytes per step (a
/// NumericDate has ten digits).
#[inline(always)]
pub(super) fn skip_digits(b: &[u8], mut j: usize) -> usize {
    while let Some(chunk) = b.get(j..j + 8) {
        let other = non_digits(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        if other != 0 {
            return j + (other.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    j
}

/// What escapes a string holds. An enum rather than flag bits so that a scan's result,
/// `Result<(usize, Esc), Bail>`, has a niche and fits in two registers: a 24-byte result
/// goes through memory, and reading it back stalls the scan of every member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Esc {
    /// No escape: the content is the string.
    None,
    /// Escapes, none of them `\u`.
    Plain,
    /// At least one `\u` escape (which may be a lone surrogate).
    Unicode,
}

/// A string whose content starts at `i` (just after the opening quote): the index of its
/// closing quote and its escape flags. Refuses control characters, invalid escapes and a
/// missing closing quote. (UTF-8 was checked for the whole input beforehand.)
///
/// The common case — no escape, closing quote within sixteen bytes — is inline; the rest is
/// [`scan_string_on`].
#[inline(always)]
pub(super) fn scan_string(b: &[u8], i: usize) -> Result<(usize, Esc), Bail> {
    if let Some(chunk) = b.get(i..i + 16) {
        let (lo, hi) = chunk.split_at(8);
        let (m0, q0) = special_and_quote(u64::from_le_bytes(lo.try_into().map_err(|_| Bail)?));
        let (m1, q1) = special_and_quote(u64::from_le_bytes(hi.try_into().map_err(|_| Bail)?));
        // Whether the first special byte is the closing quote is read off the masks, not
        // loaded again: the common case has no dependent load.
        let k = if m0 != 0 {
            (m0 & m0.wrapping_neg() & q0 != 0).then_some(m0.trailing_zeros() / 8)
        } else if m1 != 0 {
            (m1 & m1.wrapping_neg() & q1 != 0).then_some(8 + m1.trailing_zeros() / 8)
        } else {
            // Sixteen plain bytes: go on after them.
            return scan_string_on(b, i + 16);
        };
        if let Some(k) = k {
            return Ok((i + k as usize, Esc::None));
        }
    }
    scan_string_on(b, i)
}

/// [`scan_string`] past its inline case: strings of up to 32 more bytes (most claims, group
/// names), sixteen bytes per step; a longer string (a token) goes on with `memchr2` (SIMD),
/// and escapes in [`scan_string_slow`].
#[inline(never)]
pub(super) fn scan_string_on(b: &[u8], mut i: usize) -> Result<(usize, Esc), Bail> {
    for _ in 0..2 {
        let Some(chunk) = b.get(i..i + 16) else { break };
        let (lo, hi) = chunk.split_at(8);
        let (m0, q0) = special_and_quote(u64::from_le_bytes(lo.try_into().map_err(|_| Bail)?));
        let (m1, q1) = special_and_quote(u64::from_le_bytes(hi.try_into().map_err(|_| Bail)?));
        if m0 | m1 != 0 {
            let (k, first_is_quote) = if m0 != 0 {
                (m0.trailing_zeros() / 8, m0 & m0.wrapping_neg() & q0 != 0)
            } else {
                (8 + m1.trailing_zeros() / 8, m1 & m1.wrapping_neg() & q1 != 0)
            };
            let j = i + k as usize;
            return if first_is_quote { Ok((j, Esc::None)) } else { scan_string_slow(b, j) };
        }
        i += 16;
    }
    // A long string (a token): SIMD from here.
    match find_special_long(b, i) {
        Some(j) if b.get(j) == Some(&b'"') => Ok((j, Esc::None)),
        Some(j) => scan_string_slow(b, j),
        None => scan_string_slow(b, i),
    }
}

/// [`scan_string`] for long strings, escapes and the end of the input.
#[inline(never)]
pub(super) fn scan_string_slow(b: &[u8], mut i: usize) -> Result<(usize, Esc), Bail> {
    let mut esc = Esc::None;
    loop {
        let j = find_special(b, i).ok_or(Bail)?;
        match b.get(j) {
            Some(b'"') => return Ok((j, esc)),
            Some(b'\\') => {
                if esc == Esc::None {
                    esc = Esc::Plain;
                }
                match b.get(j + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i = j + 2,
                    Some(b'u') => {
                        hex4(b, j + 2).ok_or(Bail)?;
                        esc = Esc::Unicode;
                        i = j + 6;
                    }
                    _ => return Err(Bail),
                }
            }
            _ => return Err(Bail),
        }
    }
}

/// Skips the object at `open` (nested at `depth`), validating it; returns the index after
/// `}`. Repeated names are noted in `flags` as [`Flags::CHECK`], as is anything else only
/// serde_json can judge exactly.
pub(super) fn skip_object(b: &[u8], open: usize, depth: usize, flags: &mut Flags) -> Result<usize, Bail> {
    if depth > MAX_DEPTH {
        return Err(Bail);
    }
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    const TRACKED: usize = 12;
    let mut names = [Span::default(); TRACKED];
    let mut n = 0;
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(Bail);
        }
        let (close, esc) = scan_string(b, i + 1)?;
        if !flags.contains(Flags::CHECK) {
            let name = b.get(i + 1..close).ok_or(Bail)?;
            if esc != Esc::None || n == TRACKED || names[..n].iter().any(|s| b.get(s.range()) == Some(name)) {
                flags.insert(Flags::CHECK);
            } else {
                names[n] = Span::new(i + 1, close);
                n += 1;
            }
        }
        i = skip_ws(b, close + 1);
        if b.get(i) != Some(&b':') {
            return Err(Bail);
        }
        i = skip_nested(b, skip_ws(b, i + 1), depth, flags)?;
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(i + 1),
            _ => return Err(Bail),
        }
    }
}

/// Skips the array at `open`; see [`skip_object`].
pub(super) fn skip_array(b: &[u8], open: usize, depth: usize, flags: &mut Flags) -> Result<usize, Bail> {
    if depth > MAX_DEPTH {
        return Err(Bail);
    }
    // A member's own array (depth 1) says whether it is a list of strings.
    let strings = if depth == 1 { Flags::STRINGS } else { Flags::NONE };
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b']') {
        flags.insert(strings);
        return Ok(i + 1);
    }
    let mut all_strings = true;
    loop {
        // Strings (lists of groups, roles, audiences) are the common element: inline.
        i = if b.get(i) == Some(&b'"') {
            let (end, readable) = skip_string(b, i, flags)?;
            all_strings &= readable;
            end
        } else {
            all_strings = false;
            skip_nested(b, i, depth, flags)?
        };
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => break,
            _ => {
                i = skip_ws(b, i);
                match b.get(i) {
                    Some(b',') => i = skip_ws(b, i + 1),
                    Some(b']') => break,
                    _ => return Err(Bail),
                }
            }
        }
    }
    if all_strings {
        flags.insert(strings);
    }
    Ok(i + 1)
}

/// A string inside a container, its quote at `i`: the index after it, and whether serde_json
/// reads it as a string (it reads nested strings as strings, so a lone surrogate is an
/// error there: flagged [`Flags::CHECK`]).
#[inline(always)]
pub(super) fn skip_string(b: &[u8], i: usize, flags: &mut Flags) -> Result<(usize, bool), Bail> {
    let (close, esc) = scan_string(b, i + 1)?;
    let readable = esc != Esc::Unicode || unicode_escapes_valid(b.get(i + 1..close).ok_or(Bail)?);
    if !readable {
        flags.insert(Flags::CHECK);
    }
    Ok((close + 1, readable))
}

/// A value inside a container at `depth`.
#[inline]
pub(super) fn skip_nested(b: &[u8], i: usize, depth: usize, flags: &mut Flags) -> Result<usize, Bail> {
    match b.get(i) {
        Some(b'"') => skip_string(b, i, flags).map(|(end, _)| end),
        Some(b'{') => skip_object(b, i, depth + 1, flags),
        Some(b'[') => skip_array(b, i, depth + 1, flags),
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        Some(b'-' | b'0'..=b'9') => {
            let (end, risky) = scan_number(b, i)?;
            if risky {
                flags.insert(Flags::CHECK);
            }
            Ok(end)
        }
        _ => Err(Bail),
    }
}
