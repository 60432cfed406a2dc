//! [`NameTable`]: member names classified by a perfect hash built at compile time.

#[allow(clippy::wildcard_imports)]
use super::*;

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
pub(super) struct NameSlot {
    lo: u64,
    hi: u64,
    len: u8,
    id: u8,
}

/// Names longer than sixteen bytes a table holds, at most.
pub(super) const LONG_NAMES: usize = 8;

impl<const SLOTS: usize> NameTable<SLOTS> {
    /// An empty table hashing with `mul` (odd); `SLOTS` must be a power of two.
    pub(crate) const fn new(mul: u64) -> Self {
        assert!(SLOTS.is_power_of_two() && SLOTS > 1 && mul % 2 == 1);
        Self { slots: [NameSlot { lo: 0, hi: 0, len: 0, id: 0 }; SLOTS], mul, long: [("", 0); LONG_NAMES] }
    }

    /// The slot of a key's words.
    #[inline(always)]
    pub(super) const fn slot(&self, lo: u64, hi: u64) -> usize {
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
pub(super) fn key_at(b: &[u8], start: usize, end: usize) -> NameKey {
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

/// Declares, from one list, a `#[repr(u8)]` enum of the names a reader knows and the
/// [`NameTable`] that classifies a name as one of them, so that ids and names cannot drift
/// apart.
///
/// The enum has `Unknown` (id 0, any other name), the listed variants (ids 1, 2, … in the
/// order given) and `OutputCollision` (id 255: an unknown name spelt like one of the output
/// names `$outputs`, which would collide in the output). `from_id` maps an id found by the
/// table back to its variant; `$Enum::NAMES` lists `(name, variant)` in order.
macro_rules! known_names {
    (
        $(#[$meta:meta])*
        enum $Enum:ident;
        $(#[$tmeta:meta])*
        static $TABLE:ident: NameTable<$slots:literal> = ($mul:literal, outputs: $outputs:expr) {
            $($Variant:ident = $name:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        enum $Enum {
            /// A name the reader does not know.
            Unknown = 0,
            $(#[doc = concat!("`", $name, "`")] $Variant,)+
            /// An unknown name spelt like an output name: dropped, or it would collide.
            OutputCollision = 255,
        }

        #[allow(dead_code)]
        impl $Enum {
            /// Every known name with its variant, in id order.
            const NAMES: &[(&'static str, $Enum)] = &[$(($name, $Enum::$Variant)),+];

            /// The variant of an id found by the table.
            #[inline(always)]
            const fn from_id(id: u8) -> Self {
                #[allow(non_upper_case_globals)]
                mod ids {
                    $(pub(super) const $Variant: u8 = super::$Enum::$Variant as u8;)+
                }
                match id {
                    $(ids::$Variant => $Enum::$Variant,)+
                    255 => $Enum::OutputCollision,
                    _ => $Enum::Unknown,
                }
            }
        }

        $(#[$tmeta])*
        static $TABLE: $crate::json::NameTable<$slots> = {
            let mut t = $crate::json::NameTable::new($mul);
            let names = $Enum::NAMES;
            let mut i = 0;
            while i < names.len() {
                t = t.with(names[i].0, names[i].1 as u8);
                i += 1;
            }
            t.with_new($outputs, $Enum::OutputCollision as u8)
        };
    };
}

pub(crate) use known_names;
