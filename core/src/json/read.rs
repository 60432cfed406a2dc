//! [`read_object`]: one object read, by the scanner or, for what it does not accept, by
//! serde_json; the entry point of every reader of this crate.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Nesting deeper than this is left to serde_json (whose own limit is 127 for a kept value).
pub(super) const MAX_DEPTH: usize = 64;

/// Reads `bytes` as one JSON object: its text and members, without the duplicate check
/// (the caller decides when: R18 rotated-token-survives-broken-response).
///
/// The scanner reads it; whatever the scanner does not accept is read by serde_json, whose
/// verdict is then the answer: an error with serde_json's message, or (past the scanner's
/// limits) the members it found, as spans like the scanner's. Members with escaped names
/// have them unescaped into `side`, at virtual offsets after the body.
pub(crate) fn read_object<'b, S: MemberSink>(
    bytes: &'b [u8],
    side: &mut String,
    members: &mut S,
) -> Result<&'b str, ObjectError> {
    if bytes.len() > MAX_TEXT {
        return Err(ObjectError::NotJson("longer than the 1 GiB this reader takes".into()));
    }
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => read_object_str(text, side, members).map(|()| text),
        // Not UTF-8: serde_json says where (and cannot read it as an object either).
        Err(_) => match parse_members(bytes) {
            Err(e) => Err(e),
            Ok(_) => Err(ObjectError::NotJson("invalid UTF-8".into())),
        },
    }
}

/// [`read_object`] for text already known to be UTF-8.
pub(crate) fn read_object_str<S: MemberSink>(
    text: &str,
    side: &mut String,
    members: &mut S,
) -> Result<(), ObjectError> {
    if text.len() > MAX_TEXT {
        return Err(ObjectError::NotJson("longer than the 1 GiB this reader takes".into()));
    }
    if scan_object(text, side, members).is_ok() {
        return Ok(());
    }
    side.clear();
    members.reset();
    let raw = parse_members(text.as_bytes())?;
    from_raw_members(text, &raw, side, members)
        .map_err(|Bail| ObjectError::NotJson("the JSON reader lost track of a value".into()))
}

/// Turns serde_json's members (borrowing from `text`) into spans.
pub(super) fn from_raw_members<S: MemberSink>(
    text: &str,
    raw: &[RawMember<'_>],
    side: &mut String,
    members: &mut S,
) -> Result<(), Bail> {
    let base = text.len();
    for (name, value) in raw {
        let name = match offset_in(text, name) {
            Some(start) if matches!(name, Cow::Borrowed(_)) => Span::new(start, start + name.len()),
            _ => {
                let start = base + side.len();
                side.push_str(name);
                Span::new(start, base + side.len())
            }
        };
        let v = value.get();
        let start = offset_in(text, v).ok_or(Bail)?;
        let kind = Kind::of(v.as_bytes().first().copied().unwrap_or(b'n'));
        let flags = match kind {
            // A string with a bracket is walked by `check_text` too, as the reference does.
            Kind::String if v.contains('\\') && v.contains(['{', '[']) => Flags::ESCAPED | Flags::CHECK,
            Kind::String if v.contains('\\') => Flags::ESCAPED,
            Kind::Array | Kind::Object => Flags::CHECK,
            _ => Flags::NONE,
        };
        let id = name_id_of::<S>(Text::new(text, side), name);
        let m = Member { name, value: Span::new(start, start + v.len()), kind, flags, id };
        members.member(&mut Doc::new(text, side), m);
    }
    Ok(())
}

/// The id a classifying sink gives the name at `name` (0 for a sink that does not classify).
pub(super) fn name_id_of<S: MemberSink>(text: Text<'_>, name: Span) -> u8 {
    if S::CLASSIFIES { S::name_id(name_key(text, name), text.bytes(name)) } else { 0 }
}

/// Where `part` starts in `whole`, if it is a slice of it.
pub(super) fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let base = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p - base + part.len() <= whole.len()).then(|| p - base)
}
