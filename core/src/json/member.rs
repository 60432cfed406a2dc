//! [`Member`]: one member of an object as a reader finds it, its [`Kind`] and flags, and
//! [`MemberSink`], what receives the members of one object as they are found.

#[allow(clippy::wildcard_imports)]
use super::*;

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
    pub(super) fn of(first: u8) -> Self {
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

/// What a reader noted about a member's value, beside its kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags(u8);

impl Flags {
    /// Nothing noted.
    pub(crate) const NONE: Flags = Flags(0);
    /// A string value holds at least one escape (it must be unescaped to be read).
    pub(crate) const ESCAPED: Flags = Flags(1);
    /// A container value must be walked by serde_json ([`check_text`]) before it is kept:
    /// the scanner saw something only serde_json can judge exactly.
    pub(crate) const CHECK: Flags = Flags(2);
    /// An array whose elements are all strings serde_json would read (set by the scanner;
    /// serde_json's members never carry it, and are then checked the slow way).
    pub(crate) const STRINGS: Flags = Flags(4);

    /// Whether every flag of `other` is set.
    #[inline(always)]
    pub(crate) const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    #[inline(always)]
    pub(crate) fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// One member of an object: name (unescaped), raw value, the value's kind and flags.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Member {
    pub(crate) name: Span,
    pub(crate) value: Span,
    pub(crate) kind: Kind,
    pub(crate) flags: Flags,
    /// The reader's classification of the name (0 = unknown); set after scanning.
    pub(crate) id: u8,
}

impl Member {
    /// Whether the value must be walked by serde_json before it is kept or typed (the
    /// reference judges a nested repeat, a lone surrogate, a number's range).
    #[inline(always)]
    pub(crate) fn needs_check(&self) -> bool {
        self.flags.contains(Flags::CHECK)
    }

    /// The content of a string value, between its quotes.
    pub(crate) fn string_content(&self) -> Span {
        let (start, end) = (self.value.start(), self.value.end());
        Span::new(start + 1, end.saturating_sub(1).max(start + 1))
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
    /// One member of the document `doc` (whose side buffer holds escaped names, and
    /// whatever the receiver unescapes).
    fn member(&mut self, doc: &mut Doc<'_>, m: Member);
    /// Forget every member received so far.
    fn reset(&mut self);
}

impl<const N: usize> MemberSink for Members<N> {
    #[inline(always)]
    fn member(&mut self, _: &mut Doc<'_>, m: Member) {
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
