//! [`RedisStore`]: where a grant's token set lives on Redis, how long its lease lasts, how
//! long a holder waits for it, and the connection a process reuses.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use oidc_refresh_core::TokenSet;
use oidc_refresh_driver::Options;
use oidc_refresh_driver::store::{
    UnknownMembers, from_store_json, from_store_json_keeping, to_store_json_keeping,
};

use crate::error::{RedisStoreError, RedisStoreErrorKind};

/// One grant's token set on Redis (or Valkey), shared by every process of a fleet: the
/// value at `KEY` is a string holding exactly the JSON of a file store (an object; members
/// that are not a token set's are kept through a refresh), and the store uses one other key,
/// `KEY:lease`, and no other.
///
/// A refresh takes the **lease** (`SET KEY:lease ID NX PX`, released only by its holder),
/// re-reads the set, and checks the lease is still its own right before the refresh token
/// is sent (renewing it for a whole lease); it then writes the new set with a
/// **compare-and-set** (only if `KEY` still holds what it read). Correctness does not rest
/// on the lease alone: a holder paused past its lease (a stopped process, a partition) finds
/// the lease lapsed before it sends, and reads the store again; one paused between its
/// send and its write finds its write refused and adopts the newer set, keeping its own
/// rotated refresh token only in the error it reports. A holder that dies keeps the lease
/// for at most its length (by default the exchange deadline + 5 s).
///
/// A sign-out (a manager's `revoke`, [`StoreGuard::clear`](oidc_refresh_driver::store::StoreGuard::clear))
/// deletes `KEY` the same way: only while the lease is still this holder's, and with a
/// **compare-and-delete** (only if `KEY` still holds what it read); otherwise it refuses
/// ([`RedisStoreErrorKind::LeaseLost`]) and never deletes a newer set.
///
/// Waiters poll the lease with a growing pause (1 ms to 25 ms, never past the holder's
/// time left), and then take the stored set, as file-store waiters do. The fresh path of a
/// `TokenManager` never touches Redis.
///
/// What a holder that died *after* sending and *before* writing costs: the refresh token
/// it sent may be spent at the provider with its answer lost. The next holder sends that
/// token once; a provider without a reuse window refuses it (`invalid_grant`) and may
/// revoke the grant, which is reported as "sign in again", never retried in a loop. A
/// process frozen there costs the same.
///
/// On Redis Cluster, give the key a hash tag (`{tenant-42}:tokens`) so that `KEY:lease`
/// lives in the same slot; every script touches a single key in any case.
///
/// ```no_run
/// use oidc_refresh_redis::RedisStore;
///
/// let store = RedisStore::open("redis://:password@10.0.0.5:6379/0", "oidc-refresh:my-app")?;
/// # Ok::<(), oidc_refresh_redis::RedisStoreError>(())
/// ```
pub struct RedisStore {
    client: redis::Client,
    pub(crate) key: String,
    pub(crate) lease_key: String,
    pub(crate) lease: Duration,
    pub(crate) lock_wait: Duration,
    pub(crate) timeout: Duration,
    /// The blocking connection this process reuses (made again after a failure).
    conn: Mutex<Option<redis::Connection>>,
    /// The async connection this process shares between its tasks.
    #[cfg(feature = "tokio")]
    pub(crate) shared: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl RedisStore {
    /// The lease of a holder: the transports' default exchange deadline + 5 s.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(Options::DEFAULT_TIMEOUT.as_secs() + 5);
    /// How long one Redis command (and connecting) may take: 5 s.
    pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

    /// The store at `key` of the Redis at `url`: `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]`,
    /// or `rediss://…` for TLS (checked against the system's roots and `SSL_CERT_FILE`). No
    /// connection is made before the first use.
    ///
    /// # Errors
    ///
    /// [`RedisStoreErrorKind::InvalidUrl`] for a URL that is not a usable Redis URL.
    pub fn open(url: &str, key: impl Into<String>) -> Result<Self, RedisStoreError> {
        let client = redis::Client::open(url).map_err(RedisStoreError::invalid_url)?;
        Ok(Self::with_client(client, key.into()))
    }

    /// [`open`](Self::open) for `rediss://`, trusting `ca_pem` (PEM) instead of the system's
    /// roots: a Redis with a certificate of a private CA.
    ///
    /// # Errors
    ///
    /// [`RedisStoreErrorKind::InvalidUrl`] for a URL that is not a usable Redis URL.
    pub fn open_with_root_certificate(
        url: &str,
        key: impl Into<String>,
        ca_pem: &[u8],
    ) -> Result<Self, RedisStoreError> {
        let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(ca_pem.to_vec()) };
        let client =
            redis::Client::build_with_tls(url, certificates).map_err(RedisStoreError::invalid_url)?;
        Ok(Self::with_client(client, key.into()))
    }

    fn with_client(client: redis::Client, key: String) -> Self {
        let lease_key = format!("{key}:lease");
        Self {
            client,
            key,
            lease_key,
            lease: Self::DEFAULT_LEASE,
            lock_wait: Self::DEFAULT_LEASE * 2,
            timeout: Self::DEFAULT_COMMAND_TIMEOUT,
            conn: Mutex::new(None),
            #[cfg(feature = "tokio")]
            shared: tokio::sync::Mutex::new(None),
        }
    }

    /// Sets the lease: how long a holder keeps the right to refresh without renewing it, and
    /// so how long a holder that died keeps it. Give it the exchange deadline + 5 s: a
    /// holder renews it right before it sends, so the exchange and the write fit in it.
    /// Also sets the lock wait to twice the lease.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self.lock_wait = self.lease * 2;
        self
    }

    /// Sets how long a process waits for the lease before it gives up
    /// ([`RedisStoreErrorKind::LeaseTimeout`]); twice the lease by default.
    #[must_use]
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Sets how long connecting and each command may take (5 s by default); past it, the
    /// store is [`RedisStoreErrorKind::Unavailable`].
    #[must_use]
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The key of the token set.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lease's length in milliseconds, as Redis takes it.
    pub(crate) fn lease_ms(&self) -> u64 {
        u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs `command` on this process's blocking connection, made on first use and made
    /// again after a connection failure; a command that failed with the connection is run
    /// once more on a new one (every command of this store is idempotent).
    pub(crate) fn blocking<T>(
        &self,
        mut command: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, RedisStoreError> {
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut fresh = false;
        loop {
            let conn = match slot.as_mut() {
                Some(conn) => conn,
                None => {
                    fresh = true;
                    slot.insert(self.connect()?)
                }
            };
            match command(conn).map_err(|e| self.error(e)) {
                Ok(value) => return Ok(value),
                Err(e) if e.is_connection() => {
                    *slot = None;
                    if fresh {
                        return Err(e);
                    }
                    tracing::debug!(target: "oidc_refresh", "redis connection lost: connecting again");
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn connect(&self) -> Result<redis::Connection, RedisStoreError> {
        let conn = self.client.get_connection_with_timeout(self.timeout).map_err(|e| self.error(e))?;
        conn.set_read_timeout(Some(self.timeout)).map_err(|e| self.error(e))?;
        conn.set_write_timeout(Some(self.timeout)).map_err(|e| self.error(e))?;
        Ok(conn)
    }

    /// Makes an async connection (the caller keeps it in `shared`).
    #[cfg(feature = "tokio")]
    pub(crate) async fn connect_async(&self) -> Result<redis::aio::MultiplexedConnection, RedisStoreError> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|e| self.error(e))
    }

    pub(crate) fn error(&self, e: redis::RedisError) -> RedisStoreError {
        RedisStoreError::redis(&self.key, e)
    }

    /// The token set in a value read at the key.
    pub(crate) fn decode(&self, raw: Option<&[u8]>) -> Result<Option<TokenSet>, RedisStoreError> {
        raw.map(|bytes| from_store_json(bytes).map_err(|e| RedisStoreError::malformed(&self.key, e)))
            .transpose()
    }

    /// The JSON to write for `tokens`, keeping the members of what the key held when the guard
    /// last read it (`read`) that are not a token set's: another tool's, or a newer
    /// version's. Nothing read (an `init`), or nothing there, keeps nothing.
    pub(crate) fn encode(tokens: &TokenSet, read: Option<&Option<Vec<u8>>>) -> Vec<u8> {
        let unknown = match read {
            Some(Some(bytes)) => {
                from_store_json_keeping(bytes).map(|(_, unknown)| unknown).unwrap_or_default()
            }
            _ => UnknownMembers::default(),
        };
        to_store_json_keeping(tokens, &unknown)
    }

    /// A removal refused: the lease lapsed, or the set changed under it.
    pub(crate) fn lease_lost(&self, what: &'static str) -> RedisStoreError {
        RedisStoreError::said(RedisStoreErrorKind::LeaseLost, &self.key, what)
    }

    pub(crate) fn lease_timeout(&self) -> RedisStoreError {
        RedisStoreError::said(
            RedisStoreErrorKind::LeaseTimeout,
            &self.key,
            "other holders kept it past this store's lock wait",
        )
    }
}

/// Shows where the store is and its key, never the URL's user or password.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.client.get_connection_info();
        f.debug_struct("RedisStore")
            .field("addr", &info.addr().to_string())
            .field("db", &info.redis_settings().db())
            .field("key", &self.key)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}
