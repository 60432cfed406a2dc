//! [`Digest`]: what a pipeline read, summed, so that every pipeline can be checked to read
//! the same values (and the optimiser cannot skip a read).

/// A running sum over the values a pipeline read: every string's length and first and last
/// bytes, every number, every `true`, and how many of each. Two pipelines that read the same
/// fields of the same vector give the same digest, whatever the order of their reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Digest {
    strings: u64,
    string_bytes: u64,
    numbers: u64,
    number_sum: u64,
    trues: u64,
}

impl Digest {
    /// Reads one string.
    pub fn str(&mut self, s: &str) {
        let b = s.as_bytes();
        self.strings += 1;
        self.string_bytes = self.string_bytes.wrapping_add(b.len() as u64).wrapping_add(
            u64::from(b.first().copied().unwrap_or(0)) << 8 | u64::from(b.last().copied().unwrap_or(0)),
        );
    }

    /// Reads an optional string.
    pub fn opt_str(&mut self, s: Option<&str>) {
        if let Some(s) = s {
            self.str(s);
        }
    }

    /// Reads every string of a list.
    pub fn strs<'a>(&mut self, list: impl IntoIterator<Item = &'a str>) {
        for s in list {
            self.str(s);
        }
    }

    /// Reads one number.
    pub fn num(&mut self, n: u64) {
        self.numbers += 1;
        self.number_sum = self.number_sum.wrapping_add(n);
    }

    /// Reads an optional number.
    pub fn opt_num(&mut self, n: Option<u64>) {
        if let Some(n) = n {
            self.num(n);
        }
    }

    /// Reads an optional boolean.
    pub fn opt_flag(&mut self, b: Option<bool>) {
        if let Some(b) = b {
            self.trues += u64::from(b);
            self.numbers += 1;
        }
    }

    /// How many strings were read.
    #[must_use]
    pub fn strings(&self) -> u64 {
        self.strings
    }
}
