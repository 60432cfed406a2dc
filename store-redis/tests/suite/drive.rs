//! The drive loop with many holders, each with its own connection (as processes have):
//! exactly one refresh reaches the server, and every holder gets the same access token.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use oidc_refresh_core::http::{Request, Response};
use oidc_refresh_core::{ClientConfig, Error, RefreshToken, Session};
use oidc_refresh_driver::blocking::{Drive, Exchange};
use oidc_refresh_driver::store::{TokenStore, from_store_json_keeping, to_store_json};
use oidc_refresh_driver::{SystemClock, Via};
use oidc_refresh_redis::RedisStore;
use oidc_refresh_testing::redis::RedisServer;

use crate::common::{KEY, set};

/// A server that rotates single-use refresh tokens and counts the refreshes it served; a
/// replayed token is refused, as a provider with reuse detection does.
#[derive(Default)]
pub(crate) struct SingleUse {
    pub(crate) refreshes: AtomicU32,
    pub(crate) replays: AtomicU32,
}

impl SingleUse {
    pub(crate) fn answer(&self, request: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let body = String::from_utf8(request.into_body()).expect("a form body");
        let sent = body.split('&').find_map(|p| p.strip_prefix("refresh_token=")).unwrap_or_default();
        let n = self.refreshes.load(Ordering::SeqCst);
        if sent != format!("rt-{n}") {
            self.replays.fetch_add(1, Ordering::SeqCst);
            let mut response = Response::new(br#"{"error":"invalid_grant"}"#.to_vec());
            *response.status_mut() = oidc_refresh_core::http::StatusCode::BAD_REQUEST;
            return response;
        }
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        let json = format!(
            r#"{{"access_token":"at-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-{n}"}}"#
        );
        Response::new(json.into_bytes())
    }
}

impl Exchange for SingleUse {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        Ok(self.answer(request))
    }
}

fn client() -> ClientConfig {
    ClientConfig::new("https://id.example/token", "app").expect("a valid endpoint")
}

#[test]
fn many_holders_with_their_own_connections_refresh_once_per_round() {
    let server = RedisServer::start();
    let url = server.url();
    RedisStore::open(&url, KEY).unwrap().init(&set("rt-0", Some("at-0"), Some(1))).unwrap();
    let provider = Arc::new(SingleUse::default());
    for round in 1..=3 {
        let barrier = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (url, provider, barrier) = (url.clone(), Arc::clone(&provider), Arc::clone(&barrier));
                thread::spawn(move || {
                    let store = RedisStore::open(&url, KEY).unwrap();
                    let mut session = Session::new(client());
                    barrier.wait();
                    let ready =
                        Drive::new(provider.as_ref(), &store, &SystemClock).run(&mut session).unwrap();
                    (ready.access_token.expose_secret().to_owned(), ready.via)
                })
            })
            .collect();
        let got: Vec<(String, Via)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(provider.refreshes.load(Ordering::SeqCst), round, "one refresh per round");
        assert_eq!(provider.replays.load(Ordering::SeqCst), 0, "no spent token is ever sent");
        assert!(got.iter().all(|(at, _)| *at == format!("at-{round}")), "{got:?}");
        assert_eq!(got.iter().filter(|(_, via)| *via == Via::Refreshed).count(), 1, "{got:?}");
        // The next round starts from an expired set.
        let store = RedisStore::open(&url, KEY).unwrap();
        let mut expired = store.load().unwrap().expect("stored");
        assert_eq!(expired.refresh_token, RefreshToken::new(format!("rt-{round}")));
        expired.expires_at = Some(1);
        store.init(&expired).unwrap();
    }
    assert_eq!(server.keys("*"), [KEY]);
}

#[test]
fn members_of_another_tool_survive_a_refresh_and_the_compare_and_set() {
    let server = RedisServer::start();
    server.set(KEY, r#"{"refresh_token":"rt-0","x-other-tool":{"a":1}}"#);
    let store = RedisStore::open(&server.url(), KEY).unwrap();
    let provider = SingleUse::default();
    let ready = Drive::new(&provider, &store, &SystemClock).run(&mut Session::new(client())).unwrap();
    assert_eq!((ready.access_token.expose_secret(), ready.via), ("at-1", Via::Refreshed));
    let stored = server.get(KEY).expect("stored");
    let (set, unknown) = from_store_json_keeping(&stored).unwrap();
    assert_eq!(set.refresh_token, RefreshToken::new("rt-1"));
    assert_eq!(unknown.names().collect::<Vec<_>>(), ["x-other-tool"]);
    let text = String::from_utf8(stored).unwrap();
    assert!(text.contains("\"x-other-tool\": {\n    \"a\": 1\n  }"), "{text}");
    // An explicit replacement (`init`: nothing read) keeps nothing.
    store.init(&crate::common::set("rt-9", None, None)).unwrap();
    assert_eq!(server.get(KEY), Some(to_store_json(&crate::common::set("rt-9", None, None))));
}
