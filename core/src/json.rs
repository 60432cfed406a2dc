//! Strict JSON reading shared by the response parser, the ID-token decoder and discovery.
//!
//! Two readers, one verdict:
//!
//! - **The scanner** ([`read_object`]): a purpose-built, single-pass, strict RFC 8259 reader
//!   for the flat objects of this protocol (a token response, a JOSE header, a claims set).
//!   It finds quotes and backslashes with `memchr` (and eight bytes at a time for short
//!   strings), keeps every member as a [`Span`] into the input, unescapes a string only
//!   when it holds an escape (into a side buffer), and validates nested values in place:
//!   syntax, duplicate names, surrogate pairs, depth. It allocates nothing unless a name
//!   holds an escape or an object has more than [`INLINE_MEMBERS`] members.
//! - **serde_json** (the functions taking a [`RawValue`] or returning [`RawMember`]s): the
//!   reference. Whenever the scanner meets anything it does not accept — a syntax error,
//!   invalid UTF-8, nesting deeper than its own bound — serde_json re-reads the input and its
//!   answer is the answer, with its position-only message. A nested value the scanner is
//!   unsure about (a repeated or escaped name in a nested object, a lone surrogate in a
//!   nested string, a number that may overflow an `f64`) is marked [`CHECK`] and walked by
//!   [`check_text`], exactly as before the scanner existed. So the scanner decides only
//!   what it is sure of, and never disagrees with serde_json (`tests/core_differential.rs`
//!   and the fuzz targets check that).
//!
//! On top of either, the protocol's rules: the top level must be an object, a member name may
//! appear only once per object (at any depth, so that two parsers never disagree on which
//! value counts).

use std::borrow::Cow;
use std::fmt;

use memchr::{memchr, memchr2};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

// =======================================================================================
// The serde_json reader: reference, fallback and error classifier
// =======================================================================================

/// One member of a JSON object as serde_json reads it: its (unescaped) name and its value
/// as raw JSON text.
pub(crate) type RawMember<'a> = (Cow<'a, str>, &'a RawValue);

/// Why a body could not be read as one JSON object.
#[derive(Debug)]
pub(crate) enum ObjectError {
    /// Not JSON at all; the parser's position-only message.
    NotJson(String),
    /// JSON, but not an object.
    NotAnObject,
    /// A member name repeated in one object.
    Duplicate(String),
}

/// Reads `bytes` as exactly one JSON object (surrounding whitespace allowed) and returns its
/// members in order, rejecting duplicate names at the top level. Nested objects are checked
/// by [`check_value`] when a reader keeps them.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Vec<RawMember<'_>>, ObjectError> {
    let members = parse_members(bytes)?;
    if let Some(name) = find_duplicate(members.iter().map(|(k, _)| k.as_ref())) {
        return Err(ObjectError::Duplicate(name.to_owned()));
    }
    Ok(members)
}

/// Like [`parse_object`] but leaves the duplicate check to the caller, which may need to
/// look at the members first (rule 18).
pub(crate) fn parse_members(bytes: &[u8]) -> Result<Vec<RawMember<'_>>, ObjectError> {
    match serde_json::from_slice(bytes).map_err(|e| ObjectError::NotJson(position_only(&e)))? {
        Top::NotObject => Err(ObjectError::NotAnObject),
        Top::Object(members) => Ok(members),
    }
}

/// Checks a raw value kept verbatim: no object inside it may repeat a member name.
#[cfg(test)]
pub(crate) fn check_value(raw: &RawValue) -> Result<(), ObjectError> {
    check_text(raw.get())
}

/// [`check_value`] on the text of a value (already known to be valid JSON).
pub(crate) fn check_text(text: &str) -> Result<(), ObjectError> {
    // Scalars cannot hold an object or nest; anything with a bracket is walked, which also
    // bounds its depth (serde_json's recursion limit), arrays of arrays included.
    if !text.contains(['{', '[']) {
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match DupWalk(0).deserialize(&mut de) {
        Ok(None) => Ok(()),
        Ok(Some(name)) => Err(ObjectError::Duplicate(name)),
        Err(e) => Err(ObjectError::NotJson(position_only(&e))),
    }
}

/// serde_json's message for syntax errors names a position, never input text; data errors
/// could quote input, so they are replaced by a generic message.
fn position_only(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => e.to_string(),
        Category::Data => format!("invalid value at line {} column {}", e.line(), e.column()),
    }
}

/// The first name that occurs twice, if any.
pub(crate) fn find_duplicate<'n>(names: impl ExactSizeIterator<Item = &'n str> + Clone) -> Option<&'n str> {
    let n = names.len();
    if n <= 24 {
        let all: Vec<&str> = names.collect();
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].contains(a) {
                return Some(a);
            }
        }
        None
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        names.into_iter().find(|name| !seen.insert(*name))
    }
}

/// `null` counts as absent for every known member.
pub(crate) fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The value as a string, unescaped (borrowed when it holds no escapes); `None` if the
/// value is not a string.
pub(crate) fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<CowStr<'_>>(raw.get()).ok().map(|s| s.0)
}

/// The text of a value the scanner has validated, as a [`RawValue`] borrowing it.
///
/// serde_json offers no infallible borrowed constructor, so this re-reads the value; for a
/// validated value that cannot fail, and `null` stands in if it ever did.
pub(crate) fn raw_value(text: &str) -> &RawValue {
    serde_json::from_str::<&RawValue>(text).unwrap_or(RawValue::NULL)
}

/// A string that borrows from the input when it can.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> de::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The top level of a body: an object's members, or a note that it is something else.
enum Top<'a> {
    Object(Vec<RawMember<'a>>),
    NotObject,
}

impl<'de> de::Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((name, value));
                }
                Ok(Top::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::NotObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// How deep a value kept verbatim may nest (arrays and objects). Deeper values are refused:
/// every JSON reader has a limit (serde_json's `Value` reader stops at 128 for a whole
/// document), and output must stay readable by them.
pub(crate) const MAX_KEPT_DEPTH: u16 = 64;

/// Walks a value and reports the first member name repeated within one object; refuses
/// nesting deeper than [`MAX_KEPT_DEPTH`]. The field is the depth of the value walked.
struct DupWalk(u16);

impl DupWalk {
    fn enter<E: de::Error>(&self) -> Result<DupWalk, E> {
        if self.0 >= MAX_KEPT_DEPTH {
            return Err(E::custom("nesting too deep"));
        }
        Ok(DupWalk(self.0 + 1))
    }
}

impl<'de> DeserializeSeed<'de> for DupWalk {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupWalk {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let child = self.enter()?;
        let mut names: Vec<Cow<'de, str>> = Vec::new();
        let mut found = None;
        while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
            let inner = map.next_value_seed(DupWalk(child.0))?;
            if found.is_none() {
                if names.contains(&name) {
                    found = Some(name.clone().into_owned());
                } else {
                    found = inner;
                }
            }
            names.push(name);
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let child = self.enter()?;
        let mut found = None;
        while let Some(inner) = seq.next_element_seed(DupWalk(child.0))? {
            if found.is_none() {
                found = inner;
            }
        }
        Ok(found)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An owned raw JSON value kept verbatim, comparable by its text.
#[derive(Clone, Debug)]
pub(crate) struct Raw(Box<RawValue>);

impl Raw {
    pub(crate) fn new(value: &RawValue) -> Self {
        Self(value.to_owned())
    }
}

impl std::ops::Deref for Raw {
    type Target = RawValue;
    fn deref(&self) -> &RawValue {
        &self.0
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl serde::Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

// =======================================================================================
// The scanner
// =======================================================================================

/// Where a piece of text lives: `start..end` in the *virtual* text `body ++ side`, where
/// `body` is the input and `side` holds what was unescaped out of it. An owned result lays
/// the two out one after the other in a single buffer, so a span is then a plain range.
///
/// Offsets are 32-bit (the structs holding many spans move half as much): the readers refuse
/// a text longer than [`MAX_TEXT`], so that `body ++ side` always fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// The longest text the readers take (1 GiB): with what is unescaped out of it (never longer
/// than the text), every offset fits in a [`Span`]'s 32 bits.
pub(crate) const MAX_TEXT: usize = 1 << 30;
const _: () = assert!(2 * MAX_TEXT <= u32::MAX as usize);

impl Span {
    /// `start..end`; both at most `2 * MAX_TEXT` (the readers make sure of it).
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) const fn new(start: usize, end: usize) -> Self {
        Self { start: start as u32, end: end as u32 }
    }

    #[inline(always)]
    pub(crate) const fn start(self) -> usize {
        self.start as usize
    }

    #[inline(always)]
    pub(crate) const fn end(self) -> usize {
        self.end as usize
    }

    #[inline(always)]
    pub(crate) const fn range(self) -> std::ops::Range<usize> {
        self.start()..self.end()
    }

    #[inline(always)]
    pub(crate) const fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

/// An optional [`Span`] in the size of a span (`Option<Span>` takes half as much again):
/// structs holding many of them move less.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct OptSpan(Span);

impl OptSpan {
    pub(crate) const NONE: Self = Self(Span { start: u32::MAX, end: u32::MAX });

    pub(crate) fn some(span: Span) -> Self {
        Self(span)
    }

    #[inline]
    pub(crate) fn get(self) -> Option<Span> {
        (self != Self::NONE).then_some(self.0)
    }
}

impl Default for OptSpan {
    fn default() -> Self {
        Self::NONE
    }
}

impl From<Option<Span>> for OptSpan {
    fn from(span: Option<Span>) -> Self {
        span.map_or(Self::NONE, Self)
    }
}

/// The texts spans point into: the input and the side buffer of unescaped strings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Text<'a> {
    pub(crate) body: &'a str,
    pub(crate) side: &'a str,
}

impl<'a> Text<'a> {
    pub(crate) fn new(body: &'a str, side: &'a str) -> Self {
        Self { body, side }
    }

    /// One physical buffer holding `body ++ side`, with the body `body_len` bytes long.
    pub(crate) fn joined(buf: &'a str, body_len: usize) -> Self {
        match (buf.get(..body_len), buf.get(body_len..)) {
            (Some(body), Some(side)) => Self { body, side },
            _ => Self { body: buf, side: "" },
        }
    }

    /// The bytes of `span` (no character-boundary check: for comparing and classifying).
    #[inline]
    pub(crate) fn bytes(self, span: Span) -> &'a [u8] {
        let b = self.body.len();
        let (start, end) = (span.start(), span.end());
        if start >= b && end > start {
            self.side.as_bytes().get(start - b..end - b).unwrap_or_default()
        } else {
            self.body.as_bytes().get(start..end).unwrap_or_default()
        }
    }

    /// The text of `span`; empty for a span that does not fit (never the case for spans
    /// this module made for these texts).
    #[inline]
    pub(crate) fn get(self, span: Span) -> &'a str {
        let b = self.body.len();
        let (start, end) = (span.start(), span.end());
        if start >= b && end > start {
            self.side.get(start - b..end - b).unwrap_or_default()
        } else {
            self.body.get(start..end).unwrap_or_default()
        }
    }
}

/// What a member's value is, from its first byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Kind {
    #[default]
    Null,
    True,
    False,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn of(first: u8) -> Self {
        match first {
            b'"' => Kind::String,
            b'[' => Kind::Array,
            b'{' => Kind::Object,
            b't' => Kind::True,
            b'f' => Kind::False,
            b'n' => Kind::Null,
            _ => Kind::Number,
        }
    }
}

/// Flag: a string value holds at least one escape (it must be unescaped to be read).
pub(crate) const ESCAPED: u8 = 1;
/// Flag: a container value must be walked by serde_json ([`check_text`]) before it is kept:
/// the scanner saw something only serde_json can judge exactly.
pub(crate) const CHECK: u8 = 2;
/// Flag: an array whose elements are all strings serde_json would read (set by the
/// scanner; serde_json's members never carry it, and are then checked the slow way).
pub(crate) const STRINGS: u8 = 4;

/// One member of an object: name (unescaped), raw value, the value's kind and flags.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Member {
    pub(crate) name: Span,
    pub(crate) value: Span,
    pub(crate) kind: Kind,
    pub(crate) flags: u8,
    /// The reader's classification of the name (0 = unknown); set after scanning.
    pub(crate) id: u8,
}

impl Member {
    /// The content of a string value, between its quotes.
    pub(crate) fn string_content(&self) -> Span {
        let (start, end) = (self.value.start(), self.value.end());
        Span::new(start + 1, end.saturating_sub(1).max(start + 1))
    }
}

/// How many members are kept on the stack before the list moves to the heap.
pub(crate) const INLINE_MEMBERS: usize = 40;

/// A list that keeps its first `N` items inline and moves to the heap past that.
#[derive(Clone, Debug)]
pub(crate) struct InlineVec<T: Copy + Default, const N: usize> {
    len: usize,
    inline: [T; N],
    heap: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        Self { len: 0, inline: [T::default(); N], heap: Vec::new() }
    }
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if self.len < N {
            self.inline[self.len] = item;
        } else {
            if self.len == N {
                self.heap.reserve(2 * N);
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(item);
        }
        self.len += 1;
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        if self.len <= N { &self.inline[..self.len] } else { &self.heap }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.len <= N { &mut self.inline[..self.len] } else { &mut self.heap }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }
}

/// The list of members of one object, the first `N` on the stack.
pub(crate) type Members<const N: usize = INLINE_MEMBERS> = InlineVec<Member, N>;

/// Receives the members of one object, in order, as the reader finds them: a list keeps
/// them ([`Members`]); a typed reader (the ID token's claims) types each one as it comes, so
/// that the object is walked once.
///
/// When the scanner gives up part-way, [`reset`](Self::reset) is called and serde_json's
/// members follow from the start: the receiver must forget what it was given before.
pub(crate) trait MemberSink {
    /// Whether the receiver has the scanner classify names (see [`name_id`](Self::name_id)):
    /// the scanner has the name's bytes at hand, and sets [`Member::id`].
    const CLASSIFIES: bool = false;
    /// The id of a name, from its [`NameKey`] (and its bytes past sixteen), when
    /// [`CLASSIFIES`](Self::CLASSIFIES).
    fn name_id(_key: NameKey, _name: &[u8]) -> u8 {
        0
    }
    /// One member; `body` is the object's text, `side` where escaped names (and whatever the
    /// receiver unescapes) live.
    fn member(&mut self, body: &str, side: &mut String, m: Member);
    /// Forget every member received so far.
    fn reset(&mut self);
}

impl<const N: usize> MemberSink for Members<N> {
    #[inline(always)]
    fn member(&mut self, _: &str, _: &mut String, m: Member) {
        self.push(m);
    }

    fn reset(&mut self) {
        self.clear();
    }
}

/// The scanner does not accept this input; serde_json will say why (or, past the scanner's
/// own limits, read it).
#[derive(Debug)]
pub(crate) struct Bail;

/// Nesting deeper than this is left to serde_json (whose own limit is 127 for a kept value).
const MAX_DEPTH: usize = 64;

/// Reads `bytes` as one JSON object: its text and members, without the duplicate check
/// (the caller decides when, rule 18).
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
fn from_raw_members<S: MemberSink>(
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
            Kind::String if v.contains('\\') && v.contains(['{', '[']) => ESCAPED | CHECK,
            Kind::String if v.contains('\\') => ESCAPED,
            Kind::Array | Kind::Object => CHECK,
            _ => 0,
        };
        let id = name_id_of::<S>(Text::new(text, side), name);
        let m = Member { name, value: Span::new(start, start + v.len()), kind, flags, id };
        members.member(text, side, m);
    }
    Ok(())
}

/// The id a classifying sink gives the name at `name` (0 for a sink that does not classify).
fn name_id_of<S: MemberSink>(text: Text<'_>, name: Span) -> u8 {
    if S::CLASSIFIES { S::name_id(name_key(text, name), text.bytes(name)) } else { 0 }
}

/// Where `part` starts in `whole`, if it is a slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let base = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p - base + part.len() <= whole.len()).then(|| p - base)
}

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
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
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
            let start = text.len() + side.len();
            if !unescape_into(text.get(i + 1..close).ok_or(Bail)?, side) {
                return Err(Bail);
            }
            let name = Span::new(start, text.len() + side.len());
            (name, name_id_of::<S>(Text::new(text, side), name))
        };
        i = skip_ws(b, close + 1);
        if b.get(i) != Some(&b':') {
            return Err(Bail);
        }
        i = skip_ws(b, i + 1);
        let start = i;
        let (end, kind, flags) = scan_value(b, i)?;
        members.member(text, side, Member { name, value: Span::new(start, end), kind, flags, id });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(i + 1),
            _ => return Err(Bail),
        }
    }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
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
fn scan_value(b: &[u8], i: usize) -> Result<(usize, Kind, u8), Bail> {
    match b.get(i) {
        Some(b'"') => {
            let (close, esc) = scan_string(b, i + 1)?;
            let mut flags = if esc == Esc::None { 0 } else { ESCAPED };
            // The reference walks any kept value whose text holds a bracket, a string
            // included, and then refuses a lone surrogate in it: so must this reader.
            if esc == Esc::Unicode {
                let content = b.get(i + 1..close).ok_or(Bail)?;
                if content.iter().any(|&c| c == b'{' || c == b'[') && !unicode_escapes_valid(content) {
                    flags |= CHECK;
                }
            }
            Ok((close + 1, Kind::String, flags))
        }
        Some(b'{') => {
            let mut flags = 0;
            let end = skip_object(b, i, 1, &mut flags)?;
            Ok((end, Kind::Object, flags))
        }
        Some(b'[') => {
            let mut flags = 0;
            let end = skip_array(b, i, 1, &mut flags)?;
            Ok((end, Kind::Array, flags))
        }
        Some(b't') => Ok((literal(b, i, b"true")?, Kind::True, 0)),
        Some(b'f') => Ok((literal(b, i, b"false")?, Kind::False, 0)),
        Some(b'n') => Ok((literal(b, i, b"null")?, Kind::Null, 0)),
        Some(b'-' | b'0'..=b'9') => Ok((scan_number(b, i)?.0, Kind::Number, 0)),
        _ => Err(Bail),
    }
}

#[inline]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Bail> {
    if b.get(i..i + word.len()) == Some(word) { Ok(i + word.len()) } else { Err(Bail) }
}

/// A number starting at `i` (RFC 8259 grammar, as serde_json reads it): its end, and whether
/// serde_json might find it out of range as an `f64` (an exponent, or hundreds of digits).
fn scan_number(b: &[u8], i: usize) -> Result<(usize, bool), Bail> {
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

/// For eight bytes, a high-nibble bit in every byte that is not an ASCII digit (exact up to
/// and including the first such byte): a digit is 0x30..=0x39, so XOR 0x30 leaves 0..=9 and
/// adding 6 keeps it under 0x10; anything else sets a high-nibble bit in one or the other,
/// and a digit never carries into the next byte. Zero means eight digits.
#[inline(always)]
pub(crate) fn non_digits(w: u64) -> u64 {
    let t = w ^ (LO * 0x30);
    (t | t.wrapping_add(LO * 0x06)) & (LO * 0xF0)
}

/// The index after the run of ASCII digits starting at `j`: eight bytes per step (a
/// NumericDate has ten digits).
#[inline(always)]
fn skip_digits(b: &[u8], mut j: usize) -> usize {
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
enum Esc {
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
fn scan_string(b: &[u8], i: usize) -> Result<(usize, Esc), Bail> {
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
fn scan_string_on(b: &[u8], mut i: usize) -> Result<(usize, Esc), Bail> {
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
fn scan_string_slow(b: &[u8], mut i: usize) -> Result<(usize, Esc), Bail> {
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

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// For eight bytes, the high bit of every byte that is `"`, `\` or a control character
/// (exact up to and including the first such byte, which is all that is used).
#[inline(always)]
fn special_mask(w: u64) -> u64 {
    special_and_quote(w).0
}

/// [`special_mask`], and the high bit of every `"` (exact up to the first special byte).
#[inline(always)]
fn special_and_quote(w: u64) -> (u64, u64) {
    let q = w ^ (LO * u64::from(b'"'));
    let s = w ^ (LO * u64::from(b'\\'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let backslash = s.wrapping_sub(LO) & !s;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    ((quote | backslash | control) & HI, quote)
}

#[inline]
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index of the first `"`, `\` or control character at or after `i`.
///
/// Strings up to 64 bytes (names, most claims, group names) are scanned sixteen bytes per
/// step as two 64-bit words; past that `memchr2` (SIMD) finds the next quote or backslash
/// and the bytes before it are checked for control characters with a branch-free minimum.
#[inline]
fn find_special(b: &[u8], mut i: usize) -> Option<usize> {
    let stop = i + 64;
    while let Some(chunk) = b.get(i..i + 16) {
        let (lo, hi) = chunk.split_at(8);
        let m0 = special_mask(u64::from_le_bytes(lo.try_into().ok()?));
        let m1 = special_mask(u64::from_le_bytes(hi.try_into().ok()?));
        if m0 | m1 != 0 {
            // Each mask is exact up to its first hit; the first word's hit comes first.
            let k = if m0 != 0 { m0.trailing_zeros() / 8 } else { 8 + m1.trailing_zeros() / 8 };
            return Some(i + k as usize);
        }
        i += 16;
        if i >= stop {
            return find_special_long(b, i);
        }
    }
    let rest = b.get(i..)?;
    rest.iter().position(|&c| is_special(c)).map(|k| i + k)
}

/// [`find_special`] for a long string.
fn find_special_long(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    let k = memchr2(b'"', b'\\', rest)?;
    let before = &rest[..k];
    if has_control(before) {
        return before.iter().position(|&c| c < 0x20).map(|p| i + p);
    }
    Some(i + k)
}

/// Whether `b` holds a control character (a byte below 0x20): its least byte.
fn has_control(b: &[u8]) -> bool {
    fold_bytes(b, 0xFF, |c| c, u8::min) < 0x20
}

/// `join` over `map` of every byte of `b`, from `init`: branch-free, 64 bytes per step
/// (vectorised into four registers), the last step overlapping the one before it rather
/// than going byte by byte. So `join` must not mind seeing a byte twice (`min`, `|`).
#[inline(always)]
pub(crate) fn fold_bytes(b: &[u8], init: u8, map: impl Fn(u8) -> u8, join: impl Fn(u8, u8) -> u8) -> u8 {
    let fold_into = |acc: &mut [u8; 64], block: &[u8; 64]| {
        for (a, &c) in acc.iter_mut().zip(block) {
            *a = join(*a, map(c));
        }
    };
    let Some(last) = b.last_chunk::<64>() else {
        return b.iter().fold(init, |x, &c| join(x, map(c)));
    };
    let mut acc = [init; 64];
    for block in b.as_chunks::<64>().0 {
        fold_into(&mut acc, block);
    }
    fold_into(&mut acc, last);
    acc.iter().fold(init, |x, &a| join(x, a))
}

/// Four hex digits at `i`, as a number.
#[inline]
fn hex4(b: &[u8], i: usize) -> Option<u16> {
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

/// Skips the object at `open` (nested at `depth`), validating it; returns the index after
/// `}`. Repeated names are noted in `flags` as [`CHECK`], as is anything else only
/// serde_json can judge exactly.
fn skip_object(b: &[u8], open: usize, depth: usize, flags: &mut u8) -> Result<usize, Bail> {
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
        if *flags & CHECK == 0 {
            let name = b.get(i + 1..close).ok_or(Bail)?;
            if esc != Esc::None || n == TRACKED || names[..n].iter().any(|s| b.get(s.range()) == Some(name)) {
                *flags |= CHECK;
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
fn skip_array(b: &[u8], open: usize, depth: usize, flags: &mut u8) -> Result<usize, Bail> {
    if depth > MAX_DEPTH {
        return Err(Bail);
    }
    // A member's own array (depth 1) says whether it is a list of strings.
    let strings = if depth == 1 { STRINGS } else { 0 };
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b']') {
        *flags |= strings;
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
        *flags |= strings;
    }
    Ok(i + 1)
}

/// A string inside a container, its quote at `i`: the index after it, and whether serde_json
/// reads it as a string (it reads nested strings as strings, so a lone surrogate is an
/// error there: flagged [`CHECK`]).
#[inline(always)]
fn skip_string(b: &[u8], i: usize, flags: &mut u8) -> Result<(usize, bool), Bail> {
    let (close, esc) = scan_string(b, i + 1)?;
    let readable = esc != Esc::Unicode || unicode_escapes_valid(b.get(i + 1..close).ok_or(Bail)?);
    if !readable {
        *flags |= CHECK;
    }
    Ok((close + 1, readable))
}

/// A value inside a container at `depth`.
#[inline]
fn skip_nested(b: &[u8], i: usize, depth: usize, flags: &mut u8) -> Result<usize, Bail> {
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
                *flags |= CHECK;
            }
            Ok(end)
        }
        _ => Err(Bail),
    }
}

/// Whether every `\u` escape of a (syntactically valid) string's content is a character or
/// a surrogate pair, as serde_json requires of a string.
fn unicode_escapes_valid(content: &[u8]) -> bool {
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
    if m.flags & ESCAPED == 0 {
        return Some(inner);
    }
    unescaped_span(body, inner, side)
}

/// [`string_span`] for a string with escapes.
#[inline(never)]
fn unescaped_span(body: &str, inner: Span, side: &mut String) -> Option<Span> {
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
        Kind::String if m.flags & ESCAPED == 0 => true,
        Kind::Array if m.flags & STRINGS != 0 => true,
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
fn for_each_list_str(text: &str, mut f: impl FnMut(&str) -> bool) -> bool {
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

/// Up to eight bytes of `b` from `at`, little-endian, zero-padded: with the length, a name of
/// up to sixteen bytes is two integers, and classifying it a few integer comparisons.
#[inline(always)]
pub(crate) const fn word(b: &[u8], at: usize) -> u64 {
    let mut v = 0;
    let mut k = 0;
    while k < 8 && at + k < b.len() {
        v |= (b[at + k] as u64) << (8 * k);
        k += 1;
    }
    v
}

/// A name's length and first two words: see [`name_key`].
pub(crate) type NameKey = (usize, u64, u64);

/// The ids of a reader's known names, by a perfect hash built at compile time.
///
/// A name of up to sixteen bytes is its [`NameKey`]; `(lo ^ hi) * mul`, shifted, picks its
/// slot, and one comparison tells whether the name there is this one: one multiplication
/// and one load, where a `match` on the keys is a chain of comparisons and a call. Longer
/// names (few, and rare on the wire) are compared in full. The multiplier is chosen so that
/// the table's names land in distinct slots: [`NameTable::with`] refuses (at compile time)
/// a name whose slot is taken, and the test helper `find_multiplier` finds another.
pub(crate) struct NameTable<const SLOTS: usize> {
    slots: [NameSlot; SLOTS],
    mul: u64,
    long: [(&'static str, u8); LONG_NAMES],
}

/// One slot: the key of the name there (length 0 and id 0 when empty).
#[derive(Clone, Copy)]
struct NameSlot {
    lo: u64,
    hi: u64,
    len: u8,
    id: u8,
}

/// Names longer than sixteen bytes a table holds, at most.
const LONG_NAMES: usize = 8;

impl<const SLOTS: usize> NameTable<SLOTS> {
    /// An empty table hashing with `mul` (odd); `SLOTS` must be a power of two.
    pub(crate) const fn new(mul: u64) -> Self {
        assert!(SLOTS.is_power_of_two() && SLOTS > 1 && mul % 2 == 1);
        Self { slots: [NameSlot { lo: 0, hi: 0, len: 0, id: 0 }; SLOTS], mul, long: [("", 0); LONG_NAMES] }
    }

    /// The slot of a key's words.
    #[inline(always)]
    const fn slot(&self, lo: u64, hi: u64) -> usize {
        ((lo ^ hi).wrapping_mul(self.mul) >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// The table with `name` as `id` (1..=255).
    ///
    /// # Panics
    ///
    /// At compile time, when the name's slot is taken (pick another multiplier), the id is
    /// 0, or there are more than [`LONG_NAMES`] long names.
    pub(crate) const fn with(mut self, name: &'static str, id: u8) -> Self {
        assert!(id != 0, "id 0 means an unknown name");
        let b = name.as_bytes();
        if b.len() > 16 {
            let mut k = 0;
            while self.long[k].1 != 0 {
                k += 1;
                assert!(k < LONG_NAMES, "too many long names");
            }
            self.long[k] = (name, id);
            return self;
        }
        let (lo, hi) = (word(b, 0), word(b, 8));
        let slot = self.slot(lo, hi);
        assert!(self.slots[slot].id == 0, "two names share a slot: pick another multiplier");
        // b.len() <= 16 fits in a u8.
        #[allow(clippy::cast_possible_truncation)]
        let len = b.len() as u8;
        self.slots[slot] = NameSlot { lo, hi, len, id };
        self
    }

    /// The table with every name of `names` that it does not know yet as `id`.
    pub(crate) const fn with_new(mut self, names: &[&'static str], id: u8) -> Self {
        let mut i = 0;
        while i < names.len() {
            if self.id_of(names[i]) == 0 {
                self = self.with(names[i], id);
            }
            i += 1;
        }
        self
    }

    /// The id of a name given as text (for building tables and for tests).
    pub(crate) const fn id_of(&self, name: &str) -> u8 {
        let b = name.as_bytes();
        self.get((b.len(), word(b, 0), word(b, 8)), b)
    }

    /// The id of the name with this key (`name` itself is read only past sixteen bytes);
    /// 0 for a name the table does not hold.
    #[inline(always)]
    pub(crate) const fn get(&self, key: NameKey, name: &[u8]) -> u8 {
        let (len, lo, hi) = key;
        if len > 16 {
            return self.get_long(name);
        }
        let s = &self.slots[self.slot(lo, hi)];
        if s.lo == lo && s.hi == hi && s.len as usize == len { s.id } else { 0 }
    }

    const fn get_long(&self, name: &[u8]) -> u8 {
        let mut k = 0;
        while k < LONG_NAMES && self.long[k].1 != 0 {
            let known = self.long[k].0.as_bytes();
            if known.len() == name.len() {
                let mut i = 0;
                while i < known.len() && known[i] == name[i] {
                    i += 1;
                }
                if i == known.len() {
                    return self.long[k].1;
                }
            }
            k += 1;
        }
        0
    }
}

/// The key of a name for classification: its length and its first two words (exact for
/// names of up to sixteen bytes; longer names are compared in full by the caller).
///
/// A name in the body is followed by its closing quote and more: sixteen bytes are read
/// from where it starts and masked to its length, without a branch per byte.
#[inline(always)]
pub(crate) fn name_key(text: Text<'_>, span: Span) -> NameKey {
    if span.end() <= text.body.len() {
        return key_at(text.body.as_bytes(), span.start(), span.end());
    }
    let name = text.bytes(span);
    (name.len(), word(name, 0), word(name, 8))
}

/// [`name_key`] of the name `b[start..end]`.
#[inline(always)]
fn key_at(b: &[u8], start: usize, end: usize) -> NameKey {
    let len = end.wrapping_sub(start);
    if len <= 16
        && let Some(window) = b.get(start..start + 16)
    {
        let (lo, hi) = window.split_at(8);
        let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        // The low `n` bytes of a word, for n in 0..=8.
        const LOW_BYTES: [u64; 9] = {
            let mut masks = [0u64; 9];
            let mut n = 1;
            while n < 9 {
                masks[n] = u64::MAX >> (64 - 8 * n);
                n += 1;
            }
            masks
        };
        return (len, lo & LOW_BYTES[len.min(8)], hi & LOW_BYTES[len.max(8) - 8]);
    }
    let name = b.get(start..end).unwrap_or_default();
    (len, word(name, 0), word(name, 8))
}

/// Sets each member's `id` with `id_of` (its classification of the name: 0 for an unknown
/// name) and returns the first name repeated among them, with exactly the answer of
/// [`find_duplicate`].
///
/// The repeat check is [`Repeats`]'; when it finds a possible repeat, the exact reference
/// answer (which name to report) is computed the slow way.
pub(crate) fn classify<'t>(
    members: &mut [Member],
    text: Text<'t>,
    id_of: impl Fn(NameKey, &[u8]) -> u8,
) -> Option<&'t str> {
    for m in members.iter_mut() {
        m.id = id_of(name_key(text, m.name), text.bytes(m.name));
    }
    repeated(members, text)
}

/// [`classify`] for members whose ids are set already (by a sink that
/// [classifies](MemberSink::CLASSIFIES)).
pub(crate) fn repeated<'t>(members: &[Member], text: Text<'t>) -> Option<&'t str> {
    let mut repeats = Repeats::default();
    for m in members {
        repeats.note(m.id, m.name, text);
    }
    if !repeats.possible {
        return None;
    }
    find_duplicate(members.iter().map(|m| text.get(m.name)))
}

/// The name repeated in the object `body`, with exactly the answer of [`classify`], for a
/// reader whose [`Repeats`] found a possible repeat: the members are read again into a list
/// (rare: an error path).
///
/// # Errors
///
/// What [`read_object_str`] says of `body` (the reader already read it without error).
pub(crate) fn repeated_name(
    body: &str,
    id_of: impl Fn(NameKey, &[u8]) -> u8,
) -> Result<Option<String>, ObjectError> {
    let mut side = String::new();
    let mut members = Members::<40>::default();
    read_object_str(body, &mut side, &mut members)?;
    Ok(classify(members.as_mut_slice(), Text::new(body, &side), id_of).map(str::to_owned))
}

/// The repeated-name check of [`classify`], one member at a time, for readers that type
/// members as they come.
///
/// The ids of known names (1..64) are unique per name, so those are checked with a bit set;
/// only the other names (up to sixteen, an id of 0 or from 64 up) are compared with each
/// other. `possible` is
/// set when a name repeats, or when there are too many other names to tell cheaply: then
/// [`classify`] over the whole list gives the exact answer.
#[derive(Default)]
pub(crate) struct Repeats {
    /// The known ids seen, one bit each (every reader's ids are below 64).
    seen: u64,
    others: [Span; 16],
    n_others: usize,
    /// A name may repeat.
    pub(crate) possible: bool,
}

impl Repeats {
    /// Notes one member's name, classified as `id`.
    #[inline(always)]
    pub(crate) fn note(&mut self, id: u8, name: Span, text: Text<'_>) {
        if (1..64).contains(&id) {
            let bit = 1u64 << id;
            self.possible |= self.seen & bit != 0;
            self.seen |= bit;
        } else if self.n_others == self.others.len() {
            self.possible = true;
        } else {
            let bytes = text.bytes(name);
            self.possible |= self.others[..self.n_others].iter().any(|&o| text.bytes(o) == bytes);
            self.others[self.n_others] = name;
            self.n_others += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<String> {
        match parse_object(body.as_bytes()) {
            Ok(m) => m.into_iter().map(|(k, _)| k.into_owned()).collect(),
            Err(e) => vec![format!("{e:?}")],
        }
    }

    /// What the scanner makes of a body: names and raw values, or `None` when it bails.
    fn scanned(body: &str) -> Option<Vec<(String, String, Kind, u8)>> {
        let mut side = String::new();
        let mut members = Members::<40>::default();
        scan_object(body, &mut side, &mut members).ok()?;
        let text = Text::new(body, &side);
        Some(
            members
                .as_slice()
                .iter()
                .map(|m| (text.get(m.name).to_owned(), text.get(m.value).to_owned(), m.kind, m.flags))
                .collect(),
        )
    }

    #[test]
    fn digit_runs_end_where_the_first_non_digit_is() {
        for c in 0..=255u8 {
            for len in 0..20 {
                for tail in [c, b'0', b'9'] {
                    let mut b = vec![b'7'; len];
                    b.push(c);
                    b.extend_from_slice(&[tail; 9]);
                    let want = b.iter().position(|x| !x.is_ascii_digit()).unwrap_or(b.len());
                    assert_eq!(skip_digits(&b, 0), want, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn arrays_of_strings_are_noted_and_agree_with_the_exact_check() {
        let body = r#"{"a":["x","y\n"],"b":[],"c":["x",1],"d":[["x"]],"e":[ "x" , "\u00e9" ],"f":["\udc00"],"g":"s"}"#;
        let got = scanned(body).unwrap_or_default();
        let marked: Vec<(&str, bool)> =
            got.iter().map(|(n, _, _, f)| (n.as_str(), f & STRINGS != 0)).collect();
        assert_eq!(
            marked,
            [("a", true), ("b", true), ("c", false), ("d", false), ("e", true), ("f", false), ("g", false)]
        );
        for (_, value, kind, flags) in &got {
            let m = Member { kind: *kind, flags: *flags, ..Member::default() };
            assert_eq!(member_is_str_or_str_list(&m, value), is_str_or_str_list(value, *kind), "{value}");
        }
    }

    #[test]
    fn reads_members_in_order_and_unescapes_names() {
        assert_eq!(names(r#" {"b":1, "a\u0062":[2], "c" : {"x":null}} "#), ["b", "ab", "c"]);
        let got = scanned(r#" {"b":1, "a\u0062":[2], "c" : {"x":null}} "#).unwrap_or_default();
        let got: Vec<(&str, &str)> = got.iter().map(|(n, v, _, _)| (n.as_str(), v.as_str())).collect();
        assert_eq!(got, [("b", "1"), ("ab", "[2]"), ("c", r#"{"x":null}"#)]);
    }

    #[test]
    fn raw_values_have_no_surrounding_whitespace() {
        let m = parse_object(br#"{ "a" :  "x"  , "b":  null  }"#).unwrap_or_default();
        assert_eq!(m[0].1.get(), "\"x\"");
        assert!(is_null(m[1].1));
        let s = scanned(r#"{ "a" :  "x"  , "b":  null  }"#).unwrap_or_default();
        assert_eq!(s[0].1, "\"x\"");
        assert_eq!(s[1].2, Kind::Null);
    }

    #[test]
    fn rejects_duplicates_even_when_escaped_differently() {
        assert!(matches!(parse_object(br#"{"a":1,"\u0061":2}"#), Err(ObjectError::Duplicate(n)) if n == "a"));
        let mut side = String::new();
        let mut members = Members::<8>::default();
        let body = r#"{"a":1,"\u0061":2}"#;
        assert!(scan_object(body, &mut side, &mut members).is_ok());
        assert_eq!(classify(members.as_mut_slice(), Text::new(body, &side), |_, _| 0), Some("a"));
        assert_eq!(
            classify(members.as_mut_slice(), Text::new(body, &side), |_, n| u8::from(n == b"a")),
            Some("a")
        );
    }

    #[test]
    fn finds_nested_duplicates() {
        let raw: Box<RawValue> =
            serde_json::from_str(r#"[{"x":{"y":1,"y":2}}]"#).unwrap_or_else(|_| RawValue::NULL.to_owned());
        assert!(matches!(check_value(&raw), Err(ObjectError::Duplicate(n)) if n == "y"));
        let ok: Box<RawValue> =
            serde_json::from_str(r#"{"x":{"y":1},"y":2}"#).unwrap_or_else(|_| RawValue::NULL.to_owned());
        assert!(check_value(&ok).is_ok());
        // The scanner marks the first for serde_json's walk and passes the second.
        let s = scanned(r#"{"a":[{"x":{"y":1,"y":2}}],"b":{"x":{"y":1},"y":2}}"#).unwrap_or_default();
        assert_eq!(s[0].3 & CHECK, CHECK);
        assert_eq!(s[1].3 & CHECK, 0);
    }

    #[test]
    fn classifies_non_objects_and_non_json() {
        assert!(matches!(parse_object(b"[1,2]"), Err(ObjectError::NotAnObject)));
        assert!(matches!(parse_object(b"\"x\""), Err(ObjectError::NotAnObject)));
        assert!(matches!(parse_object(b"null"), Err(ObjectError::NotAnObject)));
        assert!(matches!(parse_object(b""), Err(ObjectError::NotJson(_))));
        assert!(matches!(parse_object(b"{} x"), Err(ObjectError::NotJson(_))));
        assert!(matches!(parse_object(b"<html>"), Err(ObjectError::NotJson(_))));
        assert!(matches!(parse_object(b"{\"a\":\"\xff\"}"), Err(ObjectError::NotJson(_))));
    }

    #[test]
    fn many_members_use_the_hash_path() {
        let body: String =
            format!("{{{}}}", (0..40).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
        assert_eq!(names(&body).len(), 40);
        let dup = body.replace("\"k39\"", "\"k3\"");
        assert!(matches!(parse_object(dup.as_bytes()), Err(ObjectError::Duplicate(n)) if n == "k3"));
        let many: String =
            format!("{{{}}}", (0..100).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
        assert_eq!(scanned(&many).map(|m| m.len()), Some(100));
    }

    #[test]
    fn the_scanner_refuses_what_serde_json_refuses() {
        for bad in [
            "",
            "{",
            "{}x",
            "{,}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":.5}"#,
            r#"{"a":+1}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\u12g4"}"#,
            "{\"a\":\"\t\"}",
            "{\"a\":\"\u{1}\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"\ud800":1}"#,
            r#"{'a':1}"#,
            "[]",
            "1",
        ] {
            assert!(scanned(bad).is_none(), "{bad:?}");
            assert!(parse_members(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn strings_long_and_short_with_escapes_anywhere() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 40, 100, 5000] {
            let plain = "x".repeat(len);
            let body = format!(r#"{{"k":"{plain}","e":"{plain}\n{plain}","q":"{plain}\"","c":1}}"#);
            let s = scanned(&body).unwrap_or_default();
            assert_eq!(s.len(), 4, "{len}");
            assert_eq!(s[0].3, 0);
            assert_eq!(s[1].3, ESCAPED);
            let bad = format!("{{\"k\":\"{plain}\u{1f}\"}}");
            assert!(scanned(&bad).is_none(), "{len}");
        }
    }

    #[test]
    fn unescaping_follows_serde_json() {
        for (escaped, want) in [
            (r#"a\"b\\c\/d\b\f\n\r\t"#, Some("a\"b\\c/d\u{8}\u{c}\n\r\t")),
            (r"\u00e9\u0000", Some("é\u{0}")),
            (r"\ud83d\ude00!", Some("😀!")),
            (r"\ud83d", None),
            (r"\ude00", None),
            (r"\ud83d\u0041", None),
            (r"\ud83dx", None),
        ] {
            let mut out = String::new();
            let ok = unescape_into(escaped, &mut out);
            assert_eq!(ok.then_some(out.as_str()), want, "{escaped}");
            let serde: Option<String> = serde_json::from_str(&format!("\"{escaped}\"")).ok();
            assert_eq!(serde.as_deref(), want, "{escaped}");
        }
    }

    #[test]
    fn risky_nested_numbers_and_surrogates_are_left_to_serde_json() {
        let s = scanned(
            r#"{"a":[1e400],"b":[1.5],"c":["\ud800"],"d":["\ud83d\ude00"],"e":1e400,"f":"{\ud800","g":"\ud800"}"#,
        )
        .unwrap_or_default();
        let flags: Vec<u8> = s.iter().map(|m| m.3 & CHECK).collect();
        // A string is walked only when, like "f", it holds a bracket (as the reference does).
        assert_eq!(flags, [CHECK, 0, CHECK, 0, 0, CHECK, 0]);
    }

    #[test]
    fn deep_nesting_is_left_to_serde_json() {
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(scanned(&deep).is_none());
        let ok = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(scanned(&ok).is_some());
        let mut side = String::new();
        let mut members = Members::<40>::default();
        // serde_json reads the deeper one, and its members come back as spans.
        assert!(read_object(deep.as_bytes(), &mut side, &mut members).is_ok());
        assert_eq!(members.as_slice().len(), 1);
        assert_eq!(members.as_slice()[0].flags, CHECK);
    }

    #[test]
    fn the_masks_find_the_first_special_byte_and_whether_it_is_a_quote() {
        // Every byte value at every position, after plain bytes and before bytes that would
        // confuse the masks' borrows (specials, 0x01, 0x21, 0x23, 0x5D).
        for p in 0..8 {
            for c in 0..=255u8 {
                for after in [b'"', b'\\', 0x00, 0x01, 0x21, 0x23, 0x5D, b'a'] {
                    let mut w = [b'a'; 8];
                    w[p] = c;
                    for x in w.iter_mut().skip(p + 1) {
                        *x = after;
                    }
                    let (m, q) = special_and_quote(u64::from_le_bytes(w));
                    let first = w.iter().position(|&x| is_special(x));
                    let got = (m != 0).then(|| m.trailing_zeros() as usize / 8);
                    assert_eq!(got, first, "{w:?}");
                    if let Some(k) = first {
                        assert_eq!(m & m.wrapping_neg() & q != 0, w[k] == b'"', "{w:?}");
                    }
                }
            }
        }
    }

    /// A multiplier that puts every name of `names` (up to sixteen bytes each) in its own
    /// slot of a `SLOTS`-slot [`NameTable`]: for when a new name makes a table's fail.
    fn find_multiplier<const SLOTS: usize>(names: &[&str]) -> Option<u64> {
        let mut mul: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..1_000_000 {
            let table = NameTable::<SLOTS>::new(mul);
            let mut slots: Vec<usize> =
                names.iter().map(|n| table.slot(word(n.as_bytes(), 0), word(n.as_bytes(), 8))).collect();
            slots.sort_unstable();
            slots.dedup();
            if slots.len() == names.len() {
                return Some(mul);
            }
            mul = mul.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) | 1;
        }
        None
    }

    #[test]
    fn name_tables_find_every_name_and_only_those() {
        let owned: Vec<String> = (0..60).map(|i| format!("claim_{i}")).collect();
        let names: Vec<&'static str> = owned.into_iter().map(|n| &*Box::leak(n.into_boxed_str())).collect();
        let mul = find_multiplier::<128>(&names).expect("a multiplier for 60 names in 128 slots");
        let mut table = NameTable::<128>::new(mul);
        for (i, name) in names.iter().enumerate() {
            table = table.with(name, u8::try_from(i + 1).unwrap_or(u8::MAX));
        }
        table =
            table.with("a_name_longer_than_sixteen_bytes", 200).with("another_name_longer_than_sixteen", 201);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(usize::from(table.id_of(name)), i + 1, "{name}");
        }
        assert_eq!(table.id_of("a_name_longer_than_sixteen_bytes"), 200);
        assert_eq!(table.id_of("another_name_longer_than_sixteen"), 201);
        for other in [
            "",
            "claim_",
            "claim_60",
            "Claim_1",
            "a_name_longer_than_sixteen_byte",
            "a_name_longer_than_sixteen_bytes_",
        ] {
            assert_eq!(table.id_of(other), 0, "{other:?}");
        }
        // A name that differs from a known one only by trailing NULs has the same words.
        assert_eq!(table.id_of("claim_1\u{0}"), 0);
    }

    #[test]
    fn control_characters_are_found_at_every_place_and_length() {
        for len in [0, 1, 31, 63, 64, 65, 127, 128, 129, 200] {
            let plain = vec![b'a'; len];
            assert!(!has_control(&plain), "{len}");
            for at in 0..len {
                for c in [0x00, 0x1F] {
                    let mut b = plain.clone();
                    b[at] = c;
                    assert!(has_control(&b), "{len} {at} {c}");
                }
                let mut b = plain.clone();
                b[at] = 0x20;
                assert!(!has_control(&b), "{len} {at}");
            }
        }
    }

    #[test]
    fn name_keys_agree_whatever_the_surroundings() {
        for name in ["", "a", "iss", "abcdefgh", "abcdefghi", "given_name_xyz16", "preferred_username"] {
            let spaced = format!("\"{name}\"{}", " ".repeat(20));
            let tight = format!("\"{name}\"");
            let span = Span::new(1, 1 + name.len());
            let want = (name.len(), word(name.as_bytes(), 0), word(name.as_bytes(), 8));
            assert_eq!(name_key(Text::new(&spaced, ""), span), want, "{name}");
            assert_eq!(name_key(Text::new(&tight, ""), span), want, "{name}");
        }
    }

    #[test]
    fn string_lists() {
        assert!(is_str_or_str_list(r#"["a", "b\u00e9"]"#, Kind::Array));
        assert_eq!(str_list(r#"["a", "b\u00e9"]"#), ["a", "bé"]);
        assert_eq!(str_list(r#""x\ty""#), ["x\ty"]);
        assert!(is_str_or_str_list("[]", Kind::Array));
        assert!(!is_str_or_str_list(r#"["a",1]"#, Kind::Array));
        assert!(!is_str_or_str_list(r#"[["a"]]"#, Kind::Array));
        assert!(!is_str_or_str_list(r#"["\udc00"]"#, Kind::Array));
        assert!(!is_str_or_str_list("1", Kind::Number));
    }
}
