//! Where a grant's [`TokenSet`] lives between refreshes: the store contract, in a blocking
//! ([`TokenStore`]) and an async ([`AsyncTokenStore`]) flavour, and the stores of this crate:
//! [`MemoryStore`] and [`FileStore`], each implementing both.
//!
//! # The protocol
//!
//! Every thread, task and process that refreshes one grant shares one store, and the store is
//! the arbiter of "a refresh token is sent at most once": **lock** (exclusive), **re-read**
//! under the lock, and if the stored refresh token is not the one you hold, **adopt** the
//! stored set instead of sending yours; otherwise refresh, **save** the new set, and only then
//! hand out its access token; then unlock (drop the guard). The drive loops of this crate
//! follow it; a store only has to provide the lock, the reads, an atomic write and a
//! removal ([`StoreGuard::clear`], for a sign-out: the managers' `revoke`).

use std::future::Future;

use oidc_refresh_core::{RefreshToken, TokenSet};

mod atomic;
mod file;
mod json;
mod memory;

pub use atomic::write_atomic;
pub use file::{FileStore, FileStoreError, FileStoreErrorKind, FileStoreGuard};
pub use json::{
    MalformedStore, UnknownMembers, from_store_json, from_store_json_keeping, to_store_json,
    to_store_json_keeping,
};
pub use memory::{MemoryStore, MemoryStoreGuard};

/// Blocking storage for one grant's [`TokenSet`], shared by every thread and process that
/// refreshes it: see the [module docs](self) for the protocol.
pub trait TokenStore: Send + Sync {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Holds the store's exclusive lock until dropped.
    type Guard<'a>: StoreGuard<Error = Self::Error>
    where
        Self: 'a;

    /// Reads the current token set without locking (a manager's first look, the command
    /// line's fresh path). A store never written reads as `None`.
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be read, or what it holds is not a token set.
    fn load(&self) -> Result<Option<TokenSet>, Self::Error>;

    /// Takes the store's exclusive lock, waiting for other holders.
    ///
    /// # Errors
    ///
    /// The store's error: the lock cannot be taken.
    fn lock(&self) -> Result<Self::Guard<'_>, Self::Error>;

    /// Writes `tokens` under the lock, replacing whatever the store held: how a sign-in's
    /// token set (or a refresh token alone, [`TokenSet::from_refresh_token`]) gets into a
    /// store in one call.
    ///
    /// ```
    /// use oidc_refresh_core::{RefreshToken, TokenSet};
    /// use oidc_refresh_driver::store::{MemoryStore, TokenStore};
    ///
    /// let store = MemoryStore::default();
    /// store.init(&TokenSet::from_refresh_token(RefreshToken::new("rt-1")))?;
    /// assert_eq!(store.load()?.map(|s| s.refresh_token), Some(RefreshToken::new("rt-1")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be locked or written.
    fn init(&self, tokens: &TokenSet) -> Result<(), Self::Error> {
        self.lock()?.save(tokens)
    }

    /// Seeds an empty store with `refresh_token` ([`TokenSet::from_refresh_token`]): how a
    /// refresh token from a sign-in, a secret manager or the environment gets into the store
    /// in one call, at every start of a program, safely.
    ///
    /// Under the store's lock, it re-reads the store: if the store holds no token set, it
    /// writes one holding only `refresh_token` and returns `true`. If the store already
    /// holds a token set, it is left as it is and this returns `false`: with rotation, what
    /// the store holds is newer than the refresh token a program was started with, which
    /// may be spent already (sending it again would make the server revoke the whole
    /// grant). To replace a stored set on purpose (after a new sign-in), use
    /// [`init`](Self::init).
    ///
    /// ```
    /// use oidc_refresh_core::RefreshToken;
    /// use oidc_refresh_driver::store::{FileStore, TokenStore};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("tokens.json");
    /// let store = FileStore::new(&path);
    /// assert!(store.seed(RefreshToken::new("rt-1"))?); // written
    /// assert!(!store.seed(RefreshToken::new("rt-0"))?); // kept: the store holds a set
    /// let stored = store.load()?.expect("seeded");
    /// assert_eq!(stored.refresh_token, RefreshToken::new("rt-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be locked or written, or it holds something that is not
    /// a token set (which is then left untouched: fix or remove it).
    fn seed(&self, refresh_token: RefreshToken) -> Result<bool, Self::Error> {
        let mut guard = self.lock()?;
        if guard.load()?.is_some() {
            return Ok(false);
        }
        guard.save(&TokenSet::from_refresh_token(refresh_token))?;
        Ok(true)
    }

    /// Removes the token set under the store's lock ([`StoreGuard::clear`]): afterwards
    /// [`load`](Self::load) is `Ok(None)`, and a refresh waiting for the lock meanwhile
    /// finds the store empty (the user is signed out: see [`StoreEmptied`](crate::StoreEmptied)).
    /// Clearing an empty store does nothing. To revoke the refresh token at the provider
    /// too, use a token manager's `revoke`, which clears the store once the provider said
    /// yes.
    ///
    /// ```
    /// use oidc_refresh_core::RefreshToken;
    /// use oidc_refresh_driver::store::{MemoryStore, TokenStore};
    ///
    /// let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
    /// store.clear()?;
    /// assert_eq!(store.load()?, None);
    /// store.clear()?; // nothing to remove: nothing happens
    /// # Ok::<(), std::convert::Infallible>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be locked, or the set cannot be removed (it is then
    /// still stored).
    fn clear(&self) -> Result<(), Self::Error> {
        self.lock()?.clear()
    }
}

/// The exclusive hold on a [`TokenStore`]: read and write under the lock.
pub trait StoreGuard {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the current token set under the lock.
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be read, or what it holds is not a token set.
    fn load(&mut self) -> Result<Option<TokenSet>, Self::Error>;

    /// Replaces the token set, atomically: a reader sees the old set or the new, never a
    /// mix or nothing.
    ///
    /// # Errors
    ///
    /// The store's error; the previous set is then still stored.
    fn save(&mut self, tokens: &TokenSet) -> Result<(), Self::Error>;

    /// Removes the token set, atomically: a reader sees the old set or none, never a part;
    /// afterwards [`load`](Self::load) is `Ok(None)`. Removing from an empty store does
    /// nothing. A store whose lock can lapse removes only while this guard still holds it
    /// and the store still holds what this guard read: never a newer set another holder
    /// stored meanwhile (it refuses instead).
    ///
    /// # Errors
    ///
    /// The store's error; the set is then still stored.
    fn clear(&mut self) -> Result<(), Self::Error>;

    /// Whether this guard still holds the store exclusively, asked right before a refresh
    /// token is sent. A store whose lock can lapse (a lease on a network store, held by a
    /// process that was paused past it) says `false` when it did, and renews it when it
    /// did not, so that the exchange and the write that follow have a whole lease. A lock
    /// that cannot be lost (a file lock, a mutex) always holds: the default.
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be asked.
    fn confirm(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }

    /// [`save`](Self::save) the set of a refresh, unless the store no longer holds what this
    /// guard read: then nothing is written and the answer is [`Saved::Superseded`] (another
    /// writer stored a newer set while this guard's lock had lapsed; the caller adopts it).
    /// A store whose lock cannot lapse writes: the default.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    fn save_if_unchanged(&mut self, tokens: &TokenSet) -> Result<Saved, Self::Error> {
        self.save(tokens).map(|()| Saved::Written)
    }
}

/// What [`StoreGuard::save_if_unchanged`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The set is stored.
    Written,
    /// Nothing was written: the store holds a set another writer stored since this guard
    /// read it.
    Superseded,
}

/// A shared store is a store: threads or managers of one process may share one store
/// through an `Arc`, as processes share one file.
impl<T: TokenStore> TokenStore for std::sync::Arc<T> {
    type Error = T::Error;
    type Guard<'a>
        = T::Guard<'a>
    where
        Self: 'a;

    fn load(&self) -> Result<Option<TokenSet>, T::Error> {
        T::load(self)
    }

    fn lock(&self) -> Result<T::Guard<'_>, T::Error> {
        T::lock(self)
    }
}

/// Async storage for one grant's [`TokenSet`]: [`TokenStore`] for tasks, whose calls are
/// awaited rather than run on a blocking thread (a network store answers over a socket).
///
/// Every future is `Send`, so that a refresh can run in a spawned task.
pub trait AsyncTokenStore: Send + Sync {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Holds the store's exclusive lock until dropped.
    type Guard<'a>: AsyncStoreGuard<Error = Self::Error> + Send
    where
        Self: 'a;

    /// Reads the current token set without locking. A store never written reads as `None`.
    ///
    /// # Errors
    ///
    /// As [`TokenStore::load`].
    fn load(&self) -> impl Future<Output = Result<Option<TokenSet>, Self::Error>> + Send;

    /// Takes the store's exclusive lock, waiting for other holders.
    ///
    /// # Errors
    ///
    /// As [`TokenStore::lock`].
    fn lock(&self) -> impl Future<Output = Result<Self::Guard<'_>, Self::Error>> + Send;

    /// Writes `tokens` under the lock, replacing whatever the store held (see
    /// [`TokenStore::init`]).
    ///
    /// # Errors
    ///
    /// The store's error: it cannot be locked or written.
    fn init(&self, tokens: &TokenSet) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move { self.lock().await?.save(tokens).await }
    }

    /// Seeds an empty store with `refresh_token`, and keeps a store that holds a token set
    /// (see [`TokenStore::seed`]): `true` when it wrote.
    ///
    /// # Errors
    ///
    /// As [`TokenStore::seed`].
    fn seed(&self, refresh_token: RefreshToken) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async move {
            let mut guard = self.lock().await?;
            if guard.load().await?.is_some() {
                return Ok(false);
            }
            guard.save(&TokenSet::from_refresh_token(refresh_token)).await?;
            Ok(true)
        }
    }

    /// Removes the token set under the store's lock (see [`TokenStore::clear`]).
    ///
    /// # Errors
    ///
    /// As [`TokenStore::clear`].
    fn clear(&self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move { self.lock().await?.clear().await }
    }
}

/// The exclusive hold on an [`AsyncTokenStore`] (sent along with the task that holds it).
pub trait AsyncStoreGuard: Send {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the current token set under the lock.
    ///
    /// # Errors
    ///
    /// As [`StoreGuard::load`].
    fn load(&mut self) -> impl Future<Output = Result<Option<TokenSet>, Self::Error>> + Send;

    /// Replaces the token set, atomically.
    ///
    /// # Errors
    ///
    /// As [`StoreGuard::save`].
    fn save(&mut self, tokens: &TokenSet) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Removes the token set, atomically (see [`StoreGuard::clear`]).
    ///
    /// # Errors
    ///
    /// As [`StoreGuard::clear`].
    fn clear(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Whether this guard still holds the store exclusively (see [`StoreGuard::confirm`]).
    ///
    /// # Errors
    ///
    /// As [`StoreGuard::confirm`].
    fn confirm(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async { Ok(true) }
    }

    /// Saves the set of a refresh unless the store changed under a lapsed lock (see
    /// [`StoreGuard::save_if_unchanged`]).
    ///
    /// # Errors
    ///
    /// As [`StoreGuard::save`].
    fn save_if_unchanged(
        &mut self,
        tokens: &TokenSet,
    ) -> impl Future<Output = Result<Saved, Self::Error>> + Send
    where
        Self: Send,
    {
        async move { self.save(tokens).await.map(|()| Saved::Written) }
    }
}

/// A shared store is a store.
impl<T: AsyncTokenStore> AsyncTokenStore for std::sync::Arc<T> {
    type Error = T::Error;
    type Guard<'a>
        = T::Guard<'a>
    where
        Self: 'a;

    fn load(&self) -> impl Future<Output = Result<Option<TokenSet>, T::Error>> + Send {
        T::load(self)
    }

    fn lock(&self) -> impl Future<Output = Result<T::Guard<'_>, T::Error>> + Send {
        T::lock(self)
    }
}
