//! The drive loop against a store whose lock can lapse, as a lease on a network store does
//! when its holder is paused: the loop must re-read the store instead of sending a refresh
//! token the lease's next holder may have spent, and must adopt a newer set instead of
//! writing its own over it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{AccessToken, ClientConfig, Error, RefreshToken, Session, TokenSet};
use oidc_refresh_driver::blocking::{Drive, Exchange};
use oidc_refresh_driver::store::{Saved, StoreGuard, TokenStore};
use oidc_refresh_driver::{LockLapsed, SystemClock, Via};

/// A store in memory whose guard can be told to find its lock lapsed (`lapses` times, just
/// before a send) and whose next write finds a newer set stored by "another process".
#[derive(Default)]
struct LapsingStore {
    tokens: Mutex<Option<TokenSet>>,
    locks: AtomicU32,
    lapses: AtomicU32,
    /// Stored by another writer at the moment of the next write, which is then refused.
    newer: Mutex<Option<TokenSet>>,
}

struct Guard<'a>(&'a LapsingStore);

impl TokenStore for LapsingStore {
    type Error = std::io::Error;
    type Guard<'a> = Guard<'a>;

    fn load(&self) -> Result<Option<TokenSet>, Self::Error> {
        Ok(self.tokens.lock().expect("not poisoned").clone())
    }

    fn lock(&self) -> Result<Guard<'_>, Self::Error> {
        self.locks.fetch_add(1, Ordering::SeqCst);
        Ok(Guard(self))
    }
}

impl StoreGuard for Guard<'_> {
    type Error = std::io::Error;

    fn load(&mut self) -> Result<Option<TokenSet>, Self::Error> {
        self.0.load()
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), Self::Error> {
        *self.0.tokens.lock().expect("not poisoned") = Some(tokens.clone());
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        *self.0.tokens.lock().expect("not poisoned") = None;
        Ok(())
    }

    fn confirm(&mut self) -> Result<bool, Self::Error> {
        let lapsed = self.0.lapses.load(Ordering::SeqCst) > 0;
        if lapsed {
            self.0.lapses.fetch_sub(1, Ordering::SeqCst);
        }
        Ok(!lapsed)
    }

    fn save_if_unchanged(&mut self, tokens: &TokenSet) -> Result<Saved, Self::Error> {
        if let Some(newer) = self.0.newer.lock().expect("not poisoned").take() {
            *self.0.tokens.lock().expect("not poisoned") = Some(newer);
            return Ok(Saved::Superseded);
        }
        self.save(tokens).map(|()| Saved::Written)
    }
}

/// A server that rotates `rt-N` into `rt-(N+1)`, counting requests.
#[derive(Default)]
struct Rotating {
    requests: AtomicU32,
}

impl Exchange for Rotating {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let body = String::from_utf8(request.into_body()).expect("a form body");
        assert!(body.contains("refresh_token=rt-1"), "the stored refresh token is sent: {body}");
        let json = format!(
            r#"{{"access_token":"at-ours-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-ours-{n}"}}"#
        );
        Ok(Response::new(json.into_bytes()))
    }
}

fn expired(rt: &str) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(rt));
    set.access_token = Some(AccessToken::new("at-old"));
    set.expires_at = Some(1);
    set
}

fn fresh(rt: &str, at: &str) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(rt));
    set.access_token = Some(AccessToken::new(at));
    set.token_type = Some("Bearer".to_owned());
    set.expires_at = Some(u64::MAX / 4);
    set
}

fn session() -> Session {
    Session::new(ClientConfig::new("https://id.example/token", "app").expect("a valid endpoint"))
}

#[test]
fn a_lock_that_lapsed_before_the_send_is_taken_again_and_the_store_read_again() {
    let store = LapsingStore::default();
    *store.tokens.lock().unwrap() = Some(expired("rt-1"));
    store.lapses.store(1, Ordering::SeqCst);
    let server = Rotating::default();
    let ready = Drive::new(&server, &store, &SystemClock).run(&mut session()).unwrap();
    assert_eq!(ready.access_token.expose_secret(), "at-ours-1");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "one request, after the second lock");
    assert_eq!(store.locks.load(Ordering::SeqCst), 2, "the lock was taken again");
    assert_eq!(store.load().unwrap().map(|s| s.refresh_token), Some(RefreshToken::new("rt-ours-1")));
}

#[test]
fn a_lock_that_keeps_lapsing_is_a_store_failure_and_nothing_is_sent() {
    let store = LapsingStore::default();
    *store.tokens.lock().unwrap() = Some(expired("rt-1"));
    store.lapses.store(100, Ordering::SeqCst);
    let server = Rotating::default();
    let e = Drive::new(&server, &store, &SystemClock).run(&mut session()).unwrap_err();
    let Error::Store(inner) = &e else { panic!("a store failure: {e}") };
    assert!(!inner.is_write(), "{e}");
    let lapsed = std::error::Error::source(inner.as_ref()).and_then(|s| s.downcast_ref::<LockLapsed>());
    assert_eq!(lapsed.map(|l| l.0), Some(4), "{e}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0, "nothing is sent without the lock");
    assert_eq!(store.locks.load(Ordering::SeqCst), 4);
}

#[test]
fn a_write_superseded_by_a_newer_set_adopts_it_and_never_overwrites_it() {
    let store = LapsingStore::default();
    *store.tokens.lock().unwrap() = Some(expired("rt-1"));
    *store.newer.lock().unwrap() = Some(fresh("rt-theirs", "at-theirs"));
    let server = Rotating::default();
    let ready = Drive::new(&server, &store, &SystemClock).run(&mut session()).unwrap();
    assert_eq!(ready.access_token.expose_secret(), "at-theirs", "the newer set's token is handed out");
    assert_eq!(ready.via, Via::Refreshed);
    let e = ready.refresh_error.expect("the refused write is reported");
    let Error::Store(inner) = &e else { panic!("a store error: {e}") };
    assert!(inner.is_superseded(), "{e}");
    assert_eq!(e.rotated_refresh_token(), Some(&RefreshToken::new("rt-ours-1")), "ours, only in the error");
    let stored = store.load().unwrap().expect("a set");
    assert_eq!(stored.refresh_token, RefreshToken::new("rt-theirs"), "the newer set is kept");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}
