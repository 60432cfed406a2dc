//! Byte tricks eight bytes a step in plain integer code (SWAR), and a branch-free fold that
//! the compiler vectorises.

#[allow(clippy::wildcard_imports)]
use super::*;

/// For eight bytes, a high-nibble bit in every byte that is not an ASCII digit (exact up to
/// and including the first such byte): a digit is 0x30..=0x39, so XOR 0x30 leaves 0..=9 and
/// adding 6 keeps it under 0x10; anything else sets a high-nibble bit in one or the other,
/// and a digit never carries into the next byte. Zero means eight digits.
#[inline(always)]
pub(crate) fn non_digits(w: u64) -> u64 {
    let t = w ^ (LO * 0x30);
    (t | t.wrapping_add(LO * 0x06)) & (LO * 0xF0)
}

pub(super) const LO: u64 = 0x0101_0101_0101_0101;
pub(super) const HI: u64 = 0x8080_8080_8080_8080;

/// For eight bytes, the high bit of every byte that is `"`, `\` or a control character
/// (exact up to and including the first such byte, which is all that is used).
#[inline(always)]
pub(super) fn special_mask(w: u64) -> u64 {
    special_and_quote(w).0
}

/// [`special_mask`], and the high bit of every `"` (exact up to the first special byte).
#[inline(always)]
pub(super) fn special_and_quote(w: u64) -> (u64, u64) {
    let q = w ^ (LO * u64::from(b'"'));
    let s = w ^ (LO * u64::from(b'\\'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let backslash = s.wrapping_sub(LO) & !s;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    ((quote | backslash | control) & HI, quote)
}

#[inline]
pub(super) fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index of the first `"`, `\` or control character at or after `i`.
///
/// Strings up to 64 bytes (names, most claims, group names) are scanned sixteen bytes per
/// step as two 64-bit words; past that `memchr2` (SIMD) finds the next quote or backslash
/// and the bytes before it are checked for control characters with a branch-free minimum.
#[inline]
pub(super) fn find_special(b: &[u8], mut i: usize) -> Option<usize> {
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
pub(super) fn find_special_long(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    let k = memchr2(b'"', b'\\', rest)?;
    let before = &rest[..k];
    if has_control(before) {
        return before.iter().position(|&c| c < 0x20).map(|p| i + p);
    }
    Some(i + k)
}

/// Whether `b` holds a control character (a byte below 0x20): its least byte.
pub(super) fn has_control(b: &[u8]) -> bool {
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
