//! The few DER shapes of a PKCS#8 private key (RFC 5958, with RFC 8017 A.1.2, RFC 5915 and
//! RFC 8410 inside): a reader of tag-length-value items, strict (definite lengths in their
//! shortest form, nothing left over), and no general ASN.1.

pub(super) const INTEGER: u8 = 0x02;
pub(super) const BIT_STRING: u8 = 0x03;
pub(super) const OCTET_STRING: u8 = 0x04;
pub(super) const NULL: u8 = 0x05;
pub(super) const OID: u8 = 0x06;
pub(super) const SEQUENCE: u8 = 0x30;
/// `[0]`, constructed: PKCS#8 attributes, ECPrivateKey parameters.
pub(super) const CONTEXT_0: u8 = 0xA0;
/// `[1]`, constructed: the ECPrivateKey public key (explicit), PKCS#8 v2's public key as
/// some encoders write it.
pub(super) const CONTEXT_1: u8 = 0xA1;
/// `[1]`, primitive: PKCS#8 v2's `publicKey [1] IMPLICIT BIT STRING` (RFC 5958).
pub(super) const CONTEXT_1_PRIMITIVE: u8 = 0x81;

/// The items of one DER value, in order. Every method returns `None` on malformed input.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Whether every item was read.
    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next item's tag and contents.
    pub(super) fn any(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        // Multi-byte tags (low bits all set) appear nowhere in these structures.
        if tag & 0x1F == 0x1F {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0..=0x7F => (usize::from(first), rest),
            0x81..=0x83 => {
                let n = usize::from(first & 0x7F);
                let (bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
                let len = bytes.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
                // The shortest form only: no leading zero byte, no long form under 128.
                if bytes[0] == 0 || len < 0x80 {
                    return None;
                }
                (len, rest)
            }
            // Indefinite lengths (0x80) are BER, not DER; longer lengths fit no key here.
            _ => return None,
        };
        let contents = rest.get(..len)?;
        self.rest = rest.get(len..)?;
        Some((tag, contents))
    }

    /// The next item, which must have `tag`: its contents.
    pub(super) fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.any()? {
            (t, contents) if t == tag => Some(contents),
            _ => None,
        }
    }

    /// The next item's contents if it has `tag`; nothing is read otherwise.
    pub(super) fn take_if(&mut self, tag: u8) -> Option<&'a [u8]> {
        if self.rest.first() == Some(&tag) { self.expect(tag) } else { None }
    }

    /// The whole input, which must be one item with `tag`: its contents.
    pub(super) fn single(bytes: &'a [u8], tag: u8) -> Option<&'a [u8]> {
        let mut r = Reader::new(bytes);
        let contents = r.expect(tag)?;
        r.is_empty().then_some(contents)
    }
}

/// A DER INTEGER's contents as an unsigned big-endian number without leading zeros; `None`
/// for a negative one or one not in its shortest form.
pub(super) fn unsigned(contents: &[u8]) -> Option<&[u8]> {
    match contents {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None,
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] => Some(rest),
        all => Some(all),
    }
}

/// A BIT STRING's contents without its unused-bits byte, which must be zero (a key is a
/// whole number of bytes).
pub(super) fn whole_bytes(contents: &[u8]) -> Option<&[u8]> {
    match contents {
        [0, rest @ ..] => Some(rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_their_shortest_form_only() {
        assert_eq!(Reader::new(&[0x04, 0x02, 1, 2]).any(), Some((0x04, &[1u8, 2][..])));
        let long: Vec<u8> = [0x04, 0x81, 0x80].into_iter().chain([7; 0x80]).collect();
        assert_eq!(Reader::new(&long).any().map(|(_, c)| c.len()), Some(0x80));
        let longer: Vec<u8> = [0x04, 0x82, 0x01, 0x00].into_iter().chain([7; 0x100]).collect();
        assert_eq!(Reader::new(&longer).any().map(|(_, c)| c.len()), Some(0x100));
        for bad in [
            &[0x04, 0x81, 0x05, 1, 2, 3, 4, 5][..], // long form for a short length
            &[0x04, 0x82, 0x00, 0x80],              // a leading zero in the length
            &[0x04, 0x80, 1, 0, 0],                 // indefinite
            &[0x04, 0x03, 1, 2],                    // past the end
            &[0x1F, 0x01, 0x00],                    // a multi-byte tag
            &[0x04],
            &[],
        ] {
            assert_eq!(Reader::new(bad).any(), None, "{bad:?}");
        }
        assert_eq!(Reader::single(&[0x05, 0x00, 0x05, 0x00], NULL), None, "left over");
        assert_eq!(Reader::single(&[0x05, 0x00], NULL), Some(&[][..]));
        let mut r = Reader::new(&[0x02, 0x01, 0x01, 0x05, 0x00]);
        assert_eq!(r.take_if(NULL), None);
        assert_eq!(r.take_if(INTEGER), Some(&[1u8][..]));
        assert_eq!(r.take_if(NULL), Some(&[][..]));
        assert!(r.is_empty());
    }

    #[test]
    fn integers_and_bit_strings() {
        assert_eq!(unsigned(&[0x00, 0x80]), Some(&[0x80u8][..]));
        assert_eq!(unsigned(&[0x7F]), Some(&[0x7Fu8][..]));
        assert_eq!(unsigned(&[0x00]), Some(&[][..]));
        assert_eq!(unsigned(&[0x80]), None, "negative");
        assert_eq!(unsigned(&[0x00, 0x01]), None, "not shortest");
        assert_eq!(unsigned(&[]), None);
        assert_eq!(whole_bytes(&[0, 4, 5]), Some(&[4u8, 5][..]));
        assert_eq!(whole_bytes(&[1, 4]), None);
        assert_eq!(whole_bytes(&[]), None);
    }
}
