//! [`Span`]s: where a piece of text lives in a response (the body, then what was unescaped
//! out of it); [`Text`], the two texts a span points into; [`Doc`], a document being read.

use super::member::Member;
use super::strings::string_span;

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
    ///
    /// # Panics
    ///
    /// When `body_len` is not where the body ends in `buf` (a bug of the caller).
    pub(crate) fn joined(buf: &'a str, body_len: usize) -> Self {
        match (buf.get(..body_len), buf.get(body_len..)) {
            (Some(body), Some(side)) => Self { body, side },
            _ => misplaced(body_len, buf.len()),
        }
    }

    /// The bytes of `span` (no character-boundary check: for comparing and classifying).
    ///
    /// # Panics
    ///
    /// When `span` was not made for these texts (a bug: every span of a reader fits).
    #[inline]
    #[track_caller]
    pub(crate) fn bytes(self, span: Span) -> &'a [u8] {
        let b = self.body.len();
        let (start, end) = (span.start(), span.end());
        let found = if start >= b && end > start {
            self.side.as_bytes().get(start - b..end - b)
        } else {
            self.body.as_bytes().get(start..end)
        };
        found.unwrap_or_else(|| misplaced(start, end))
    }

    /// The text of `span`.
    ///
    /// # Panics
    ///
    /// When `span` was not made for these texts (a bug: every span of a reader fits, on
    /// character boundaries).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn get(self, span: Span) -> &'a str {
        let b = self.body.len();
        let (start, end) = (span.start(), span.end());
        let found = if start >= b && end > start {
            self.side.get(start - b..end - b)
        } else {
            self.body.get(start..end)
        };
        found.unwrap_or_else(|| misplaced(start, end))
    }
}

/// A document being read: the body and the side buffer its escaped strings are unescaped
/// into. Every span a reader makes points into one or the other; [`Doc::get`] reads it,
/// [`Doc::string`] makes the span of a string member's unescaped content.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    body: &'a str,
    side: &'a mut String,
}

impl<'a> Doc<'a> {
    /// The document `body`, unescaping into `side`.
    #[inline(always)]
    pub(crate) fn new(body: &'a str, side: &'a mut String) -> Self {
        Self { body, side }
    }

    /// The body.
    #[inline(always)]
    pub(crate) fn body(&self) -> &'a str {
        self.body
    }

    /// The texts as they are now, to read spans from.
    #[inline(always)]
    pub(crate) fn text(&self) -> DocText<'_, 'a> {
        DocText { doc: self }
    }

    /// The text of `span` (see [`Text::get`]).
    ///
    /// # Panics
    ///
    /// When `span` was not made for this document (a bug).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn get(&self, span: Span) -> &str {
        self.text().get(span)
    }

    /// The span of a string member's content, unescaped into the side buffer when it holds
    /// an escape; `None` when the member is not a string (or holds a lone surrogate).
    #[inline(always)]
    pub(crate) fn string(&mut self, m: &Member) -> Option<Span> {
        string_span(self.body, m, self.side)
    }

    /// The side buffer, for a nested reader that unescapes into it too.
    #[inline(always)]
    pub(crate) fn side(&mut self) -> &mut String {
        self.side
    }
}

/// The texts of a [`Doc`] as they are now ([`Doc::text`]): a [`Text`] read from the document
/// only when a span is, so that a sink that takes the texts for every member but reads them
/// for few (the repeat check reads only unknown names) loads nothing for the others.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DocText<'d, 'a> {
    doc: &'d Doc<'a>,
}

impl<'d> DocText<'d, '_> {
    /// The bytes of `span` (see [`Text::bytes`]).
    ///
    /// # Panics
    ///
    /// When `span` was not made for this document (a bug).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn bytes(self, span: Span) -> &'d [u8] {
        Text::from(self).bytes(span)
    }

    /// The text of `span` (see [`Text::get`]).
    ///
    /// # Panics
    ///
    /// When `span` was not made for this document (a bug).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn get(self, span: Span) -> &'d str {
        Text::from(self).get(span)
    }
}

impl<'d> From<DocText<'d, '_>> for Text<'d> {
    #[inline(always)]
    fn from(t: DocText<'d, '_>) -> Self {
        Text::new(t.doc.body, t.doc.side)
    }
}

/// A span that does not fit the text it is read from: a bug of this crate, never the input's
/// doing (every span is made by a reader for the text it read).
#[cold]
#[track_caller]
fn misplaced(start: usize, end: usize) -> ! {
    panic!("a span {start}..{end} that does not fit its text: a bug of oidc-refresh-core")
}
