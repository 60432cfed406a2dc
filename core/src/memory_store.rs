//! [`MemoryStore`]: a [`TokenStore`] in memory, for tests and for applications that persist
//! the token set elsewhere (or not at all) and share it between threads of one process.

use std::convert::Infallible;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::{StoreGuard, TokenSet, TokenStore};

/// A [`TokenStore`] in memory: one process, any number of threads.
///
/// Its lock is a [`Mutex`] held by the [`MemoryStoreGuard`]; reading without the lock
/// ([`TokenStore::load`]) never waits for it. It cannot fail. `Debug` shows no token.
///
/// ```
/// use oidc_refresh_core::{MemoryStore, RefreshToken, StoreGuard, TokenSet, TokenStore};
///
/// let store = MemoryStore::new();
/// assert_eq!(store.load(), Ok(None));
/// {
///     let mut guard = store.lock()?;
///     guard.save(&TokenSet::from_refresh_token(RefreshToken::new("rt-1")))?;
/// } // unlocked
/// assert_eq!(store.tokens().map(|t| t.refresh_token), Some(RefreshToken::new("rt-1")));
/// # Ok::<(), std::convert::Infallible>(())
/// ```
#[derive(Default)]
pub struct MemoryStore {
    /// The stored set; locked only for the moment of a read or a write.
    tokens: Mutex<Option<TokenSet>>,
    /// The store's exclusive lock, held by a guard for a whole refresh.
    lock: Mutex<()>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens` (e.g. from a sign-in).
    #[must_use]
    pub fn with_tokens(tokens: TokenSet) -> Self {
        Self { tokens: Mutex::new(Some(tokens)), lock: Mutex::new(()) }
    }

    /// A copy of the stored token set.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let holds_tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.debug_struct("MemoryStore").field("holds_tokens", &holds_tokens).finish()
    }
}

impl TokenStore for MemoryStore {
    type Error = Infallible;
    type Guard<'a> = MemoryStoreGuard<'a>;

    fn load(&self) -> Result<Option<TokenSet>, Infallible> {
        Ok(self.tokens())
    }

    fn lock(&self) -> Result<MemoryStoreGuard<'_>, Infallible> {
        // A holder that panicked cannot have left a torn set: writes replace it whole.
        let held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(MemoryStoreGuard { store: self, _held: held })
    }
}

/// The exclusive hold on a [`MemoryStore`]; dropping it unlocks.
pub struct MemoryStoreGuard<'a> {
    store: &'a MemoryStore,
    _held: MutexGuard<'a, ()>,
}

impl fmt::Debug for MemoryStoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStoreGuard").field("store", self.store).finish()
    }
}

impl StoreGuard for MemoryStoreGuard<'_> {
    type Error = Infallible;

    fn load(&mut self) -> Result<Option<TokenSet>, Infallible> {
        Ok(self.store.tokens())
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), Infallible> {
        *self.store.tokens.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
        Ok(())
    }
}
