//! [`Pause`]: how a waiter for the lease paces itself: a growing pause, never past the
//! holder's time left.

use std::time::Duration;

/// The first pause of a waiter: a lease is usually held for a few round trips.
const FIRST: Duration = Duration::from_millis(1);
/// The longest pause of a waiter: a lease given back is seen within this.
const LONGEST: Duration = Duration::from_millis(25);

/// A waiter's next pauses: 1 ms, doubling up to 25 ms.
#[derive(Debug)]
pub(crate) struct Pause(Duration);

impl Default for Pause {
    fn default() -> Self {
        Self(FIRST)
    }
}

impl Pause {
    /// The pause before the next try, given the holder's time left in ms (negative: the
    /// lease just went, so try again at once).
    pub(crate) fn next(&mut self, holder_left_ms: i64) -> Duration {
        let left = u64::try_from(holder_left_ms).map_or(Duration::from_millis(1), Duration::from_millis);
        let pause = self.0.min(left).max(Duration::from_millis(1));
        self.0 = (self.0 * 2).min(LONGEST);
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_longest_and_never_pass_the_holders_time() {
        let mut p = Pause::default();
        let pauses: Vec<u128> = (0..7).map(|_| p.next(10_000).as_millis()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 25, 25]);
        assert_eq!(p.next(3).as_millis(), 3);
        assert_eq!(p.next(-2).as_millis(), 1);
        assert_eq!(p.next(0).as_millis(), 1);
    }
}
