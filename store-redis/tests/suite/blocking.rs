//! The blocking store: the value is a file store's JSON, the lease excludes, is given back,
//! lapses, and is confirmed; the compare-and-set refuses to write over a newer set.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use oidc_refresh_core::RefreshToken;
use oidc_refresh_driver::store::{Saved, StoreGuard, TokenStore, to_store_json};
use oidc_refresh_redis::{RedisStore, RedisStoreErrorKind};
use oidc_refresh_testing::redis::{RedisServer, Resp};

use crate::common::{KEY, set, store};

#[test]
fn the_value_is_a_file_stores_json_and_no_other_key_is_left() {
    let server = RedisServer::start();
    let store = store(&server);
    assert_eq!(store.load().unwrap(), None, "an empty store");
    assert!(store.seed(RefreshToken::new("rt-1")).unwrap());
    assert!(!store.seed(RefreshToken::new("rt-0")).unwrap(), "a store holding a set keeps it");
    let expected = to_store_json(&set("rt-1", None, None));
    assert_eq!(server.get(KEY), Some(expected));
    assert_eq!(server.keys("*"), [KEY], "the lease is given back, no other key");
    let full = set("rt-2", Some("at-2"), Some(1_900_000_000));
    store.init(&full).unwrap();
    assert_eq!(store.load().unwrap(), Some(full.clone()));
    assert_eq!(server.get(KEY), Some(to_store_json(&full)));
}

#[test]
fn the_lease_excludes_a_second_holder_until_it_is_given_back() {
    let server = RedisServer::start();
    let first = store(&server);
    let guard = first.lock().unwrap();
    let lease = server.get(&format!("{KEY}:lease")).expect("the lease key while held");
    assert_eq!(lease.len(), 32, "a holder id");
    let Resp::Integer(ttl) = server.command(&["PTTL", &format!("{KEY}:lease")]) else { panic!("PTTL") };
    assert!(ttl > 0 && ttl <= 35_000, "the lease expires within the default lease: {ttl}");

    let (tx, rx) = mpsc::channel();
    let url = server.url();
    let waiter = thread::spawn(move || {
        let second = RedisStore::open(&url, KEY).unwrap();
        let guard = second.lock().unwrap();
        tx.send(()).unwrap();
        drop(guard);
    });
    // The waiter cannot have the lease while the first holder has it.
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "the lease excludes");
    drop(guard);
    rx.recv_timeout(Duration::from_secs(10)).expect("the waiter takes the lease once given back");
    waiter.join().unwrap();
    assert!(server.keys("*").is_empty(), "{:?}", server.keys("*"));
}

#[test]
fn a_holder_that_died_keeps_the_lease_only_until_it_lapses() {
    let server = RedisServer::start();
    let short = store(&server).with_lease(Duration::from_millis(1500));
    // A holder that dies never gives its lease back.
    std::mem::forget(short.lock().unwrap());
    let impatient = store(&server).with_lock_wait(Duration::ZERO);
    let e = impatient.lock().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::LeaseTimeout, "{e}");
    // Redis itself ends it: once the key is gone, the next holder takes it.
    let lease_key = format!("{KEY}:lease");
    while server.get(&lease_key).is_some() {
        thread::sleep(Duration::from_millis(50));
    }
    drop(impatient.lock().expect("the lapsed lease is free"));
}

#[test]
fn confirm_renews_the_lease_and_says_when_it_went_to_another_holder() {
    let server = RedisServer::start();
    let store = store(&server).with_lease(Duration::from_secs(20));
    let mut guard = store.lock().unwrap();
    let lease_key = format!("{KEY}:lease");
    server.command(&["PEXPIRE", &lease_key, "1000"]);
    assert!(guard.confirm().unwrap(), "still ours");
    let Resp::Integer(ttl) = server.command(&["PTTL", &lease_key]) else { panic!("PTTL") };
    assert!(ttl > 10_000, "renewed to a whole lease: {ttl}");
    // It lapsed and another holder took it.
    server.set(&lease_key, "another-holder");
    assert!(!guard.confirm().unwrap(), "lapsed");
    drop(guard);
    assert_eq!(server.get(&lease_key), Some(b"another-holder".to_vec()), "another's lease is not released");
}

#[test]
fn the_compare_and_set_never_writes_over_a_newer_set() {
    let server = RedisServer::start();
    let store = store(&server);
    store.init(&set("rt-1", None, None)).unwrap();
    let mut guard = store.lock().unwrap();
    assert_eq!(guard.load().unwrap(), Some(set("rt-1", None, None)));
    // Another writer, whose lease came after ours lapsed, stored a newer set.
    let newer = to_store_json(&set("rt-theirs", Some("at-theirs"), Some(1_900_000_000)));
    server.set(KEY, &newer);
    assert_eq!(
        guard.save_if_unchanged(&set("rt-ours", Some("at-ours"), Some(1_900_000_000))).unwrap(),
        Saved::Superseded
    );
    assert_eq!(server.get(KEY), Some(newer), "the newer set is untouched");
    // Read again, the guard writes over what it read.
    guard.load().unwrap();
    let ours = set("rt-ours", Some("at-ours"), Some(1_900_000_100));
    assert_eq!(guard.save_if_unchanged(&ours).unwrap(), Saved::Written);
    assert_eq!(store.load().unwrap(), Some(ours));
    // An empty store compared as empty.
    drop(guard);
    server.del(KEY);
    let mut guard = store.lock().unwrap();
    assert_eq!(guard.load().unwrap(), None);
    assert_eq!(guard.save_if_unchanged(&set("rt-9", None, None)).unwrap(), Saved::Written);
    drop(guard);
    let mut guard = store.lock().unwrap();
    guard.load().unwrap();
    server.del(KEY);
    assert_eq!(
        guard.save_if_unchanged(&set("rt-10", None, None)).unwrap(),
        Saved::Superseded,
        "emptied meanwhile"
    );
    assert_eq!(server.get(KEY), None);
}

#[test]
fn two_grants_under_two_keys_stay_apart() {
    let server = RedisServer::start();
    let a = RedisStore::open(&server.url(), "grant-a").unwrap();
    let b = RedisStore::open(&server.url(), "grant-b").unwrap();
    let guard_a = a.lock().unwrap();
    // Another grant's lease does not exclude this one.
    let b = b.with_lock_wait(Duration::ZERO);
    let mut guard_b = b.lock().unwrap();
    guard_b.save(&set("rt-b", None, None)).unwrap();
    drop(guard_b);
    drop(guard_a);
    a.init(&set("rt-a", None, None)).unwrap();
    assert_eq!(a.load().unwrap(), Some(set("rt-a", None, None)));
    assert_eq!(server.keys("*"), ["grant-a", "grant-b"]);
}

#[test]
fn rediss_with_a_private_ca_and_a_password() {
    let pki = oidc_refresh_testing::redis::pem_pki();
    let server = RedisServer::builder().tls(&pki).password("tls-pw").start();
    assert!(server.url().starts_with("rediss://"), "{}", server.url());
    let store = RedisStore::open_with_root_certificate(&server.url(), KEY, pki.ca_pem.as_bytes()).unwrap();
    store.init(&set("rt-tls", None, None)).unwrap();
    assert_eq!(store.load().unwrap(), Some(set("rt-tls", None, None)));
    assert_eq!(server.get(KEY), Some(to_store_json(&set("rt-tls", None, None))));
    // Trusting another CA, the handshake fails: nothing is read or written.
    let other = oidc_refresh_testing::redis::pem_pki();
    let stranger =
        RedisStore::open_with_root_certificate(&server.url(), KEY, other.ca_pem.as_bytes()).unwrap();
    let e = stranger.load().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::Unavailable, "{e}");
}

#[test]
fn clear_deletes_the_set_under_the_lease_and_only_what_it_read() {
    let server = RedisServer::start();
    let store = store(&server);
    store.init(&set("rt-1", Some("at-1"), Some(1_900_000_000))).unwrap();
    let mut guard = store.lock().unwrap();
    assert!(guard.load().unwrap().is_some());
    guard.clear().unwrap();
    assert_eq!(server.get(KEY), None, "the set is gone");
    assert_eq!(guard.load().unwrap(), None);
    guard.clear().unwrap(); // an empty store: nothing to do
    assert!(server.get(&format!("{KEY}:lease")).is_some(), "the lease is the guard's until dropped");
    drop(guard);
    assert!(server.keys("*").is_empty(), "{:?}", server.keys("*"));

    // The store's own call: lock, clear, unlock.
    store.init(&set("rt-2", None, None)).unwrap();
    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
    assert!(server.keys("*").is_empty(), "{:?}", server.keys("*"));

    // A retry whose first run deleted the set (its reply lost) finds it gone: done.
    store.init(&set("rt-3", None, None)).unwrap();
    let mut guard = store.lock().unwrap();
    guard.load().unwrap();
    server.del(KEY);
    guard.clear().unwrap();
    assert_eq!(server.get(KEY), None);
}

#[test]
fn clear_refuses_once_the_lease_lapsed_and_never_deletes_a_newer_set() {
    let server = RedisServer::start();
    let store = store(&server);
    let lease_key = format!("{KEY}:lease");
    let ours = to_store_json(&set("rt-1", None, None));

    // The lease lapsed and another holder took it and stored a newer set.
    store.init(&set("rt-1", None, None)).unwrap();
    let mut guard = store.lock().unwrap();
    guard.load().unwrap();
    server.set(&lease_key, "another-holder");
    let newer = to_store_json(&set("rt-theirs", Some("at-theirs"), Some(1_900_000_000)));
    server.set(KEY, &newer);
    let e = guard.clear().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::LeaseLost, "{e}");
    assert_eq!(server.get(KEY), Some(newer), "the newer set is kept");
    drop(guard);
    assert_eq!(server.get(&lease_key), Some(b"another-holder".to_vec()), "another's lease is kept");
    server.del(&lease_key);

    // The lease lapsed (expired) with the set unchanged: refused all the same.
    store.init(&set("rt-1", None, None)).unwrap();
    let mut guard = store.lock().unwrap();
    guard.load().unwrap();
    server.del(&lease_key);
    let e = guard.clear().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::LeaseLost, "{e}");
    assert_eq!(server.get(KEY), Some(ours.clone()), "nothing removed");
    drop(guard);

    // The lease is ours but the set changed after this guard read it (written by hand):
    // the compare-and-delete keeps it.
    let mut guard = store.lock().unwrap();
    guard.load().unwrap();
    let by_hand = to_store_json(&set("rt-by-hand", None, None));
    server.set(KEY, &by_hand);
    let e = guard.clear().unwrap_err();
    assert_eq!(e.kind(), RedisStoreErrorKind::LeaseLost, "{e}");
    assert!(e.to_string().contains("newer set"), "{e}");
    assert_eq!(server.get(KEY), Some(by_hand));
}
