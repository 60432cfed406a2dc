//! [`Fresh`]: a token manager's lock-free fresh path, and the access tokens an API refused.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use oidc_refresh_core::{AccessToken, Error, Session, UnixTime};

use crate::log;
use crate::outcome::Ready;

/// At most this many distinct refused tokens wait for the next refresh.
const MAX_INVALID: usize = 16;

/// The access token a manager hands out without a lock while it is fresh, and the tokens
/// callers reported refused (HTTP 401 `invalid_token`) since the last refresh.
///
/// The snapshot is swapped atomically ([`ArcSwapOption`]): readers never wait for a writer.
#[derive(Default)]
pub(crate) struct Fresh {
    current: ArcSwapOption<Entry>,
    /// Refused tokens, applied by the next refresh; bounded, oldest dropped first.
    invalid: Mutex<Vec<AccessToken>>,
}

struct Entry {
    access_token: AccessToken,
    fresh_until: UnixTime,
}

impl Fresh {
    /// The access token while `now` is before its `fresh_until`.
    pub(crate) fn get(&self, now: UnixTime) -> Option<AccessToken> {
        let current = self.current.load();
        let entry = current.as_ref()?;
        (now < entry.fresh_until).then(|| entry.access_token.clone())
    }

    /// Until when the current token may be handed out, if there is one.
    pub(crate) fn fresh_until(&self) -> Option<UnixTime> {
        self.current.load().as_ref().map(|e| e.fresh_until)
    }

    /// Makes `access_token` the fresh path's token until `fresh_until`, unless it was
    /// reported refused meanwhile.
    pub(crate) fn publish(&self, access_token: &AccessToken, fresh_until: UnixTime) {
        let invalid = self.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        if invalid.contains(access_token) {
            self.current.store(None);
        } else {
            let entry = Entry { access_token: access_token.clone(), fresh_until };
            self.current.store(Some(Arc::new(entry)));
        }
    }

    /// Nothing is fresh any more (a refresh failed with no valid token left).
    pub(crate) fn clear(&self) {
        self.current.store(None);
    }

    /// An API refused `access_token`: it leaves the fresh path now, and the next refresh
    /// is told ([`take_invalid`](Self::take_invalid)).
    pub(crate) fn invalidate(&self, access_token: &AccessToken) {
        let mut invalid = self.invalid.lock().unwrap_or_else(PoisonError::into_inner);
        if !invalid.contains(access_token) {
            if invalid.len() == MAX_INVALID {
                invalid.remove(0);
            }
            invalid.push(access_token.clone());
        }
        let current = self.current.load();
        if current.as_ref().is_some_and(|e| &e.access_token == access_token) {
            self.current.store(None);
        }
    }

    /// The tokens reported refused since the last call.
    pub(crate) fn take_invalid(&self) -> Vec<AccessToken> {
        std::mem::take(&mut *self.invalid.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What a token manager tells its session before a run: a forced refresh, and the access
/// tokens reported refused since the last run.
pub(crate) fn before_run(session: &mut Session, fresh: &Fresh, force: bool) {
    if force {
        session.force_refresh();
    }
    for token in fresh.take_invalid() {
        session.handle_invalid_access_token(&token);
    }
}

/// What a token manager does with a run's outcome: publish the token on the fresh path (or
/// take it off after a failure), log, and hand the token or the error out.
pub(crate) fn after_run(outcome: Result<Ready, Error>, fresh: &Fresh) -> Result<AccessToken, Error> {
    match outcome {
        Ok(ready) => {
            if let Some(e) = &ready.refresh_error {
                log::early_refresh_failure(e);
            }
            fresh.publish(&ready.access_token, ready.fresh_until);
            Ok(ready.access_token)
        }
        Err(e) => {
            log::manager_failure(&e);
            fresh.clear();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> UnixTime {
        UnixTime::from_secs(s)
    }

    #[test]
    fn a_token_is_fresh_until_its_time_and_a_refused_one_never_comes_back() {
        let fresh = Fresh::default();
        let (a, b) = (AccessToken::new("a"), AccessToken::new("b"));
        assert_eq!(fresh.get(t(0)), None);
        fresh.publish(&a, t(10));
        assert_eq!(fresh.get(t(9)), Some(a.clone()));
        assert_eq!(fresh.get(t(10)), None, "fresh until, not through");
        fresh.invalidate(&b);
        assert_eq!(fresh.get(t(9)), Some(a.clone()), "another token's report changes nothing");
        fresh.invalidate(&a);
        assert_eq!(fresh.get(t(9)), None);
        fresh.publish(&a, t(10));
        assert_eq!(fresh.get(t(9)), None, "a token reported refused is not published again");
        assert_eq!(fresh.take_invalid(), vec![b, a]);
        assert!(fresh.take_invalid().is_empty());
    }

    #[test]
    fn the_refused_list_is_bounded() {
        let fresh = Fresh::default();
        for i in 0..100 {
            fresh.invalidate(&AccessToken::new(format!("t{i}")));
        }
        let invalid = fresh.take_invalid();
        assert_eq!(invalid.len(), MAX_INVALID);
        assert_eq!(invalid[0], AccessToken::new("t84"), "the oldest were dropped");
    }
}
