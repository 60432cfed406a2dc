//! [`MemoryStore`]: a store in memory, for tests and for applications that persist the token
//! set elsewhere (or not at all) and share it between the threads and tasks of one process.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use oidc_refresh_core::{RefreshToken, TokenSet};

use super::{AsyncStoreGuard, AsyncTokenStore, StoreGuard, TokenStore};

/// A store in memory: one process, any number of threads and tasks. It implements both
/// [`TokenStore`] and [`AsyncTokenStore`], with one lock for both: a blocking manager and an
/// async one may share it.
///
/// Its lock ([`async_lock::Mutex`]) is taken by blocking code without a runtime and awaited
/// by tasks without blocking a thread; reading without the lock never waits for it. It
/// cannot fail. `Debug` shows no token.
///
/// ```
/// use oidc_refresh_core::{RefreshToken, TokenSet};
/// use oidc_refresh_driver::store::{MemoryStore, StoreGuard, TokenStore};
///
/// let store = MemoryStore::new();
/// assert_eq!(TokenStore::load(&store), Ok(None));
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
    lock: async_lock::Mutex<()>,
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
        Self { tokens: Mutex::new(Some(tokens)), lock: async_lock::Mutex::new(()) }
    }

    /// A store holding only `refresh_token` ([`TokenSet::from_refresh_token`]): how a refresh
    /// token from a sign-in, a secret manager or the environment becomes a store in one
    /// call. The first `access_token` of a manager on it refreshes (there is no access token
    /// yet), and the rotated refresh token then replaces this one in the store.
    ///
    /// ```
    /// use oidc_refresh_core::RefreshToken;
    /// use oidc_refresh_driver::store::MemoryStore;
    ///
    /// let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
    /// let tokens = store.tokens().expect("seeded");
    /// assert_eq!(tokens.refresh_token, RefreshToken::new("rt-1"));
    /// assert_eq!(tokens.access_token, None);
    /// ```
    #[must_use]
    pub fn from_refresh_token(refresh_token: RefreshToken) -> Self {
        Self::with_tokens(TokenSet::from_refresh_token(refresh_token))
    }

    /// A copy of the stored token set.
    #[must_use]
    pub fn tokens(&self) -> Option<TokenSet> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn replace(&self, tokens: &TokenSet) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
    }

    fn remove(&self) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = None;
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
        Ok(MemoryStoreGuard { store: self, _held: self.lock.lock_blocking() })
    }
}

impl AsyncTokenStore for MemoryStore {
    type Error = Infallible;
    type Guard<'a> = MemoryStoreGuard<'a>;

    fn load(&self) -> impl Future<Output = Result<Option<TokenSet>, Infallible>> + Send {
        std::future::ready(Ok(self.tokens()))
    }

    async fn lock(&self) -> Result<MemoryStoreGuard<'_>, Infallible> {
        Ok(MemoryStoreGuard { store: self, _held: self.lock.lock().await })
    }
}

/// The exclusive hold on a [`MemoryStore`], blocking or async alike; dropping it unlocks.
pub struct MemoryStoreGuard<'a> {
    store: &'a MemoryStore,
    _held: async_lock::MutexGuard<'a, ()>,
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
        self.store.replace(tokens);
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Infallible> {
        self.store.remove();
        Ok(())
    }
}

impl AsyncStoreGuard for MemoryStoreGuard<'_> {
    type Error = Infallible;

    fn load(&mut self) -> impl Future<Output = Result<Option<TokenSet>, Infallible>> + Send {
        std::future::ready(Ok(self.store.tokens()))
    }

    fn save(&mut self, tokens: &TokenSet) -> impl Future<Output = Result<(), Infallible>> + Send {
        self.store.replace(tokens);
        std::future::ready(Ok(()))
    }

    fn clear(&mut self) -> impl Future<Output = Result<(), Infallible>> + Send {
        self.store.remove();
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_a_refresh_token_holds_only_it_and_hides_it() {
        let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-secret-1"));
        assert_eq!(store.tokens(), Some(TokenSet::from_refresh_token(RefreshToken::new("rt-secret-1"))));
        assert_eq!(
            TokenStore::load(&store),
            Ok(Some(TokenSet::from_refresh_token(RefreshToken::new("rt-secret-1"))))
        );
        let shown = format!("{store:?}");
        assert!(!shown.contains("rt-secret-1"), "{shown}");
    }

    #[test]
    fn clear_empties_the_store_under_its_lock_and_twice_is_harmless() {
        let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
        {
            let mut guard = TokenStore::lock(&store).expect("infallible");
            StoreGuard::clear(&mut guard).expect("infallible");
            assert_eq!(StoreGuard::load(&mut guard), Ok(None), "cleared under the lock");
        }
        assert_eq!(store.tokens(), None);
        TokenStore::clear(&store).expect("infallible");
        assert_eq!(TokenStore::load(&store), Ok(None));
        // A set written afterwards (a new sign-in) is stored as usual.
        TokenStore::init(&store, &TokenSet::from_refresh_token(RefreshToken::new("rt-2")))
            .expect("infallible");
        assert_eq!(store.tokens().map(|t| t.refresh_token), Some(RefreshToken::new("rt-2")));
    }

    #[test]
    fn the_async_clear_empties_the_store() {
        let store = MemoryStore::from_refresh_token(RefreshToken::new("rt-1"));
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime.block_on(async {
            AsyncTokenStore::clear(&store).await.expect("infallible");
            assert_eq!(AsyncTokenStore::load(&store).await, Ok(None));
        });
    }
}
