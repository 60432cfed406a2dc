//! [`RedisStoreError`]: what went wrong with a Redis store, typed by who can fix it.

use std::fmt;

use oidc_refresh_driver::store::MalformedStore;

/// What went wrong with a [`RedisStore`](crate::RedisStore), by who can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedisStoreErrorKind {
    /// Redis cannot be reached, or did not answer in time (down, restarting, partitioned):
    /// nothing was changed that a later attempt would not fix. The command line's exit 5.
    Unavailable,
    /// Redis refused: authentication, permissions, or a value of another type than a
    /// string at the store's key. The command line's exit 2.
    Refused,
    /// The value at the store's key is not a token set; it is left untouched. Exit 2.
    Malformed,
    /// The lease stayed with other holders for longer than this store waits for it (see
    /// [`RedisStore::with_lock_wait`](crate::RedisStore::with_lock_wait)). Exit 5.
    LeaseTimeout,
    /// The URL is not a Redis URL this store can use. Exit 2.
    InvalidUrl,
    /// A removal ([`StoreGuard::clear`](oidc_refresh_driver::store::StoreGuard::clear))
    /// was refused because this holder's lease had lapsed, or another holder had stored
    /// another set meanwhile: nothing was removed (a newer set is never lost). Lock again and
    /// retry. Exit 5, as for a lease held too long.
    LeaseLost,
}

/// A Redis store's failure: its [kind](RedisStoreErrorKind), the store's key, and the cause.
/// It never shows the store's URL (which may hold a password) nor what the key holds.
#[derive(Debug)]
pub struct RedisStoreError {
    kind: RedisStoreErrorKind,
    key: String,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Redis(redis::RedisError),
    Malformed(MalformedStore),
    Said(&'static str),
}

impl RedisStoreError {
    pub(crate) fn redis(key: &str, e: redis::RedisError) -> Self {
        Self { kind: kind_of(&e), key: key.to_owned(), cause: Cause::Redis(e) }
    }

    pub(crate) fn malformed(key: &str, e: MalformedStore) -> Self {
        Self { kind: RedisStoreErrorKind::Malformed, key: key.to_owned(), cause: Cause::Malformed(e) }
    }

    pub(crate) fn said(kind: RedisStoreErrorKind, key: &str, what: &'static str) -> Self {
        Self { kind, key: key.to_owned(), cause: Cause::Said(what) }
    }

    pub(crate) fn invalid_url(e: redis::RedisError) -> Self {
        Self { kind: RedisStoreErrorKind::InvalidUrl, key: String::new(), cause: Cause::Redis(e) }
    }

    /// What went wrong, by who can fix it.
    #[must_use]
    pub fn kind(&self) -> RedisStoreErrorKind {
        self.kind
    }

    /// The store's key (empty for a URL that could not be used).
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether a connection failed or a command timed out: the error of a connection to
    /// drop and make again.
    pub(crate) fn is_connection(&self) -> bool {
        matches!(&self.cause, Cause::Redis(e) if connection_lost(e))
    }
}

impl fmt::Display for RedisStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            RedisStoreErrorKind::Unavailable => "Redis is unavailable",
            RedisStoreErrorKind::Refused => "Redis refused",
            RedisStoreErrorKind::Malformed => "the value is not a token set (left untouched)",
            RedisStoreErrorKind::LeaseTimeout => "the store's lease stayed with other holders too long",
            RedisStoreErrorKind::InvalidUrl => "not a usable Redis URL",
            RedisStoreErrorKind::LeaseLost => "this holder's lease lapsed",
        };
        if self.key.is_empty() {
            write!(f, "redis store: {what}")?;
        } else {
            write!(f, "redis store {}: {what}", self.key)?;
        }
        match &self.cause {
            Cause::Redis(e) => write!(f, ": {e}"),
            Cause::Malformed(e) => write!(f, ": {e}"),
            Cause::Said(s) => write!(f, ": {s}"),
        }
    }
}

impl std::error::Error for RedisStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Redis(e) => Some(e),
            Cause::Malformed(e) => Some(e),
            Cause::Said(_) => None,
        }
    }
}

/// A connection that failed, was dropped or timed out.
fn connection_lost(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

fn kind_of(e: &redis::RedisError) -> RedisStoreErrorKind {
    use redis::{ErrorKind, ServerErrorKind};
    if connection_lost(e) {
        return RedisStoreErrorKind::Unavailable;
    }
    match e.kind() {
        ErrorKind::AuthenticationFailed => RedisStoreErrorKind::Refused,
        ErrorKind::InvalidClientConfig => RedisStoreErrorKind::InvalidUrl,
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown,
        ) => RedisStoreErrorKind::Unavailable,
        ErrorKind::Io | ErrorKind::Parse => RedisStoreErrorKind::Unavailable,
        // WRONGTYPE, NOAUTH, WRONGPASS, NOPERM, READONLY and every other refusal.
        _ => RedisStoreErrorKind::Refused,
    }
}
