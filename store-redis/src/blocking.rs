//! The blocking store: [`TokenStore`] for [`RedisStore`], and its guard, [`RedisGuard`].

use std::time::Instant;

use oidc_refresh_core::TokenSet;
use oidc_refresh_driver::store::{Saved, StoreGuard, TokenStore};

use crate::error::RedisStoreError;
use crate::scripts::{ACQUIRE, COMPARE_AND_DELETE, COMPARE_AND_SET, CONFIRM, RELEASE, holder_id};
use crate::store::RedisStore;
use crate::wait::Pause;

impl TokenStore for RedisStore {
    type Error = RedisStoreError;
    type Guard<'a> = RedisGuard<'a>;

    fn load(&self) -> Result<Option<TokenSet>, RedisStoreError> {
        let raw: Option<Vec<u8>> = self.blocking(|c| redis::cmd("GET").arg(&self.key).query(c))?;
        self.decode(raw.as_deref())
    }

    /// Takes the lease, waiting (with a growing pause) while another holder has it.
    fn lock(&self) -> Result<RedisGuard<'_>, RedisStoreError> {
        let id = holder_id();
        let started = Instant::now();
        let mut pause = Pause::default();
        loop {
            let left: i64 =
                self.blocking(|c| ACQUIRE.key(&self.lease_key).arg(&id).arg(self.lease_ms()).invoke(c))?;
            if left == -1 {
                return Ok(RedisGuard { store: self, id, read: None });
            }
            if started.elapsed() >= self.lock_wait {
                return Err(self.lease_timeout());
            }
            std::thread::sleep(pause.next(left));
        }
    }
}

/// The lease on a [`RedisStore`], released when dropped (only if still this holder's).
#[derive(Debug)]
pub struct RedisGuard<'a> {
    store: &'a RedisStore,
    id: String,
    /// What the key held when this guard last read or wrote it (the compare-and-set's
    /// expected value): `Some(None)` for nothing.
    read: Option<Option<Vec<u8>>>,
}

impl StoreGuard for RedisGuard<'_> {
    type Error = RedisStoreError;

    fn load(&mut self) -> Result<Option<TokenSet>, RedisStoreError> {
        let store = self.store;
        let raw: Option<Vec<u8>> = store.blocking(|c| redis::cmd("GET").arg(&store.key).query(c))?;
        let tokens = store.decode(raw.as_deref())?;
        self.read = Some(raw);
        Ok(tokens)
    }

    /// Writes `tokens` whatever the key holds (an explicit replacement: `init`, `seed`),
    /// followed by the other members of what this guard last read (none if it read nothing).
    fn save(&mut self, tokens: &TokenSet) -> Result<(), RedisStoreError> {
        let store = self.store;
        let json = RedisStore::encode(tokens, self.read.as_ref());
        store.blocking(|c| redis::cmd("SET").arg(&store.key).arg(&json).query::<()>(c))?;
        self.read = Some(Some(json));
        Ok(())
    }

    /// Removes the set at `KEY` while this holder's lease is still its own (checked, and
    /// renewed, first) and only if `KEY` still holds what this guard read: a compare-and-
    /// delete, never over a set another holder stored after this lease lapsed. `KEY:lease`
    /// is left to the guard's drop, as always.
    ///
    /// # Errors
    ///
    /// [`RedisStoreErrorKind::LeaseLost`](crate::RedisStoreErrorKind::LeaseLost) when the
    /// lease lapsed or `KEY` changed (nothing is removed); the errors of any command.
    fn clear(&mut self) -> Result<(), RedisStoreError> {
        let store = self.store;
        if !self.confirm()? {
            return Err(store.lease_lost("nothing was removed; lock the store again"));
        }
        let read = match self.read.clone() {
            Some(read) => read,
            // Nothing read under this lease: what there is now is what to remove.
            None => store.blocking(|c| redis::cmd("GET").arg(&store.key).query(c))?,
        };
        let (had, expected) = match &read {
            Some(bytes) => ("1", bytes.as_slice()),
            None => ("0", &[][..]),
        };
        let removed: i64 =
            store.blocking(|c| COMPARE_AND_DELETE.key(&store.key).arg(had).arg(expected).invoke(c))?;
        if removed == 1 {
            self.read = Some(None);
            Ok(())
        } else {
            Err(store.lease_lost("another holder stored a newer set meanwhile, which was kept"))
        }
    }

    fn confirm(&mut self) -> Result<bool, RedisStoreError> {
        let store = self.store;
        let held: i64 = store
            .blocking(|c| CONFIRM.key(&store.lease_key).arg(&self.id).arg(store.lease_ms()).invoke(c))?;
        Ok(held == 1)
    }

    fn save_if_unchanged(&mut self, tokens: &TokenSet) -> Result<Saved, RedisStoreError> {
        let Some(read) = self.read.clone() else {
            // Nothing read under this lease: there is nothing to compare with.
            self.load()?;
            return self.save_if_unchanged(tokens);
        };
        let store = self.store;
        let json = RedisStore::encode(tokens, Some(&read));
        let (had, expected) = match &read {
            Some(bytes) => ("1", bytes.as_slice()),
            None => ("0", &[][..]),
        };
        let written: i64 = store
            .blocking(|c| COMPARE_AND_SET.key(&store.key).arg(had).arg(expected).arg(&json).invoke(c))?;
        if written == 1 {
            self.read = Some(Some(json));
            Ok(Saved::Written)
        } else {
            Ok(Saved::Superseded)
        }
    }
}

impl Drop for RedisGuard<'_> {
    fn drop(&mut self) {
        let store = self.store;
        let released = store.blocking(|c| RELEASE.key(&store.lease_key).arg(&self.id).invoke::<i64>(c));
        if let Err(e) = released {
            // It lapses by itself, at the latest one lease from its last renewal.
            tracing::debug!(target: "oidc_refresh", error = %e, "the redis lease could not be released");
        }
    }
}
