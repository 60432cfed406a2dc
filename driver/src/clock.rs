//! [`Clock`]: where a driver reads the time the core takes as an argument.

use std::time::{SystemTime, UNIX_EPOCH};

use oidc_refresh_core::UnixTime;

/// A source of the current time, read once per step of a session and on every fresh-path
/// call of a token manager.
///
/// [`SystemClock`] is the system's; a test passes a clock it moves itself, so that whether
/// a token is fresh never depends on how long a refresh took.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use oidc_refresh_core::UnixTime;
/// use oidc_refresh_driver::Clock;
///
/// /// A clock that moves only when told to.
/// struct Manual(AtomicU64);
///
/// impl Clock for Manual {
///     fn now(&self) -> UnixTime {
///         UnixTime::from_secs(self.0.load(Ordering::Relaxed))
///     }
/// }
///
/// let clock = Manual(AtomicU64::new(1_700_000_000));
/// clock.0.fetch_add(60, Ordering::Relaxed);
/// assert_eq!(clock.now(), UnixTime::from_secs(1_700_000_060));
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system's wall clock ([`SystemTime`]); a clock set before 1970 reads as the epoch.
///
/// ```
/// use oidc_refresh_driver::{Clock, SystemClock};
///
/// assert!(SystemClock.now().as_secs() > 1_600_000_000);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_duration_since_epoch(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
    }
}

/// A closure returning the time is a clock (a test's virtual clock, say).
///
/// ```
/// use oidc_refresh_core::UnixTime;
/// use oidc_refresh_driver::Clock;
///
/// let fixed = || UnixTime::from_secs(1_700_000_000);
/// assert_eq!(fixed.now().as_secs(), 1_700_000_000);
/// ```
impl<F: Fn() -> UnixTime + Send + Sync> Clock for F {
    fn now(&self) -> UnixTime {
        self()
    }
}
