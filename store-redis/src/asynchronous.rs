//! The async store: [`AsyncTokenStore`] for [`RedisStore`] on tokio, and its guard,
//! [`AsyncRedisGuard`]. Every task of a process shares one multiplexed connection.

use std::time::Instant;

use oidc_refresh_core::TokenSet;
use oidc_refresh_driver::store::{AsyncStoreGuard, AsyncTokenStore, Saved};
use redis::aio::MultiplexedConnection;
use redis::{FromRedisValue, ScriptInvocation};

use crate::error::RedisStoreError;
use crate::scripts::{ACQUIRE, COMPARE_AND_DELETE, COMPARE_AND_SET, CONFIRM, RELEASE, holder_id};
use crate::store::RedisStore;
use crate::wait::Pause;

impl RedisStore {
    /// The connection the process's tasks share, made on first use.
    async fn shared_connection(&self) -> Result<(MultiplexedConnection, bool), RedisStoreError> {
        let mut slot = self.shared.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok((conn.clone(), false));
        }
        let conn = self.connect_async().await?;
        *slot = Some(conn.clone());
        Ok((conn, true))
    }

    /// Runs `cmd` on the shared connection; after a connection failure on a connection made
    /// earlier, once more on a new one (every command of this store is idempotent).
    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisStoreError> {
        loop {
            let (mut conn, fresh) = self.shared_connection().await?;
            match cmd.query_async(&mut conn).await.map_err(|e| self.error(e)) {
                Err(e) if e.is_connection() => {
                    *self.shared.lock().await = None;
                    if fresh {
                        return Err(e);
                    }
                }
                result => return result,
            }
        }
    }

    /// [`query`](Self::query) for a script.
    async fn invoke<T: FromRedisValue>(&self, script: &ScriptInvocation<'_>) -> Result<T, RedisStoreError> {
        loop {
            let (mut conn, fresh) = self.shared_connection().await?;
            match script.invoke_async(&mut conn).await.map_err(|e| self.error(e)) {
                Err(e) if e.is_connection() => {
                    *self.shared.lock().await = None;
                    if fresh {
                        return Err(e);
                    }
                }
                result => return result,
            }
        }
    }

    async fn read_async(&self) -> Result<Option<Vec<u8>>, RedisStoreError> {
        self.query(redis::cmd("GET").arg(&self.key)).await
    }
}

impl AsyncTokenStore for RedisStore {
    type Error = RedisStoreError;
    type Guard<'a> = AsyncRedisGuard<'a>;

    async fn load(&self) -> Result<Option<TokenSet>, RedisStoreError> {
        let raw = self.read_async().await?;
        self.decode(raw.as_deref())
    }

    /// Takes the lease, waiting (with a growing pause, on tokio's timer) while another
    /// holder has it.
    async fn lock(&self) -> Result<AsyncRedisGuard<'_>, RedisStoreError> {
        let id = holder_id();
        let started = Instant::now();
        let mut pause = Pause::default();
        loop {
            let left: i64 = self.invoke(ACQUIRE.key(&self.lease_key).arg(&id).arg(self.lease_ms())).await?;
            if left == -1 {
                return Ok(AsyncRedisGuard { store: self, id, read: None });
            }
            if started.elapsed() >= self.lock_wait {
                return Err(self.lease_timeout());
            }
            tokio::time::sleep(pause.next(left)).await;
        }
    }
}

/// The lease on a [`RedisStore`] for tasks. Dropped, it gives the lease back from a task
/// of the current tokio runtime (only if still this holder's); if that cannot be done, the
/// lease lapses by itself at the latest one lease after its last renewal.
#[derive(Debug)]
pub struct AsyncRedisGuard<'a> {
    store: &'a RedisStore,
    id: String,
    /// What the key held when this guard last read or wrote it.
    read: Option<Option<Vec<u8>>>,
}

impl AsyncStoreGuard for AsyncRedisGuard<'_> {
    type Error = RedisStoreError;

    async fn load(&mut self) -> Result<Option<TokenSet>, RedisStoreError> {
        let raw = self.store.read_async().await?;
        let tokens = self.store.decode(raw.as_deref())?;
        self.read = Some(raw);
        Ok(tokens)
    }

    /// Writes `tokens` whatever the key holds, followed by the other members of what this
    /// guard last read (see the blocking [`RedisGuard`](crate::RedisGuard)'s `save`).
    async fn save(&mut self, tokens: &TokenSet) -> Result<(), RedisStoreError> {
        let json = RedisStore::encode(tokens, self.read.as_ref());
        self.store.query::<()>(redis::cmd("SET").arg(&self.store.key).arg(&json)).await?;
        self.read = Some(Some(json));
        Ok(())
    }

    /// Removes the set while the lease is this holder's and `KEY` holds what it read (see
    /// the blocking [`RedisGuard`](crate::RedisGuard)'s `clear`).
    async fn clear(&mut self) -> Result<(), RedisStoreError> {
        let store = self.store;
        if !self.confirm().await? {
            return Err(store.lease_lost("nothing was removed; lock the store again"));
        }
        let read = match self.read.clone() {
            Some(read) => read,
            None => store.read_async().await?,
        };
        let had = u8::from(read.is_some());
        let expected: Vec<u8> = read.unwrap_or_default();
        let removed: i64 = store.invoke(COMPARE_AND_DELETE.key(&store.key).arg(had).arg(&expected)).await?;
        if removed == 1 {
            self.read = Some(None);
            Ok(())
        } else {
            Err(store.lease_lost("another holder stored a newer set meanwhile, which was kept"))
        }
    }

    async fn confirm(&mut self) -> Result<bool, RedisStoreError> {
        let store = self.store;
        let held: i64 =
            store.invoke(CONFIRM.key(&store.lease_key).arg(&self.id).arg(store.lease_ms())).await?;
        Ok(held == 1)
    }

    fn save_if_unchanged(
        &mut self,
        tokens: &TokenSet,
    ) -> impl Future<Output = Result<Saved, RedisStoreError>> + Send {
        let tokens = tokens.clone();
        let store: &RedisStore = self.store;
        let cached = self.read.clone();
        let read_slot = &mut self.read;
        async move {
            let read = match cached {
                Some(read) => read,
                // Nothing read under this lease: what there is now is what to compare with.
                None => store.read_async().await?,
            };
            let json = RedisStore::encode(&tokens, Some(&read));
            let had = u8::from(read.is_some());
            let expected: Vec<u8> = read.unwrap_or_default();
            let written: i64 =
                store.invoke(COMPARE_AND_SET.key(&store.key).arg(had).arg(&expected).arg(&json)).await?;
            if written == 1 {
                *read_slot = Some(Some(json));
                Ok(Saved::Written)
            } else {
                Ok(Saved::Superseded)
            }
        }
    }
}

impl Drop for AsyncRedisGuard<'_> {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let Ok(slot) = self.store.shared.try_lock() else { return };
        let Some(mut conn) = slot.clone() else { return };
        drop(slot);
        let (lease_key, id) = (self.store.lease_key.clone(), std::mem::take(&mut self.id));
        runtime.spawn(async move {
            let released = RELEASE.key(&lease_key).arg(&id).invoke_async::<i64>(&mut conn).await;
            if let Err(e) = released {
                tracing::debug!(target: "oidc_refresh", error = %e, "the redis lease could not be released");
            }
        });
    }
}
