//! [`UnixTime`], the one time type of the core.
//!
//! The core never reads a clock. Whoever drives it (a transport, a test with a virtual
//! clock) reads the time once per step and passes it in.

use std::time::Duration;

/// A point in time as the duration since the Unix epoch (1970-01-01T00:00:00Z).
///
/// ```
/// use oidc_refresh_core::UnixTime;
/// use std::time::Duration;
///
/// let sent_at = UnixTime::from_secs(1_700_000_000);
/// let expires_at = sent_at + Duration::from_secs(3600);
/// assert_eq!(expires_at.as_secs(), 1_700_003_600);
/// assert!(expires_at > sent_at);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(Duration);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: UnixTime = UnixTime(Duration::ZERO);

    /// A time given in whole seconds since the epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// A time given as a duration since the epoch, e.g.
    /// `SystemTime::now().duration_since(UNIX_EPOCH)` in a transport.
    #[must_use]
    pub const fn from_duration_since_epoch(since_epoch: Duration) -> Self {
        Self(since_epoch)
    }

    /// Whole seconds since the epoch (rounded down).
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// Seconds since the epoch with their fraction, for comparing with JWT NumericDates.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }

    /// The duration since the epoch.
    #[must_use]
    pub const fn duration_since_epoch(self) -> Duration {
        self.0
    }

    /// `self + d`, saturating at the largest representable time instead of overflowing.
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d))
    }

    /// `self - d`, saturating at the epoch.
    #[must_use]
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d))
    }

    /// How long from `earlier` to `self`, or zero when `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: UnixTime) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::ops::Add<Duration> for UnixTime {
    type Output = UnixTime;

    /// Saturating addition: a lifetime never wraps around to the past.
    fn add(self, rhs: Duration) -> UnixTime {
        self.saturating_add(rhs)
    }
}

impl std::ops::Sub<Duration> for UnixTime {
    type Output = UnixTime;

    /// Saturating subtraction, stopping at the epoch.
    fn sub(self, rhs: Duration) -> UnixTime {
        self.saturating_sub(rhs)
    }
}
