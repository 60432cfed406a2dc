//! Every future this crate returns is `Send`: checked at compile time, and by spawning 50
//! concurrent refreshes on a multi-thread runtime.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ACCEPT_WINDOW, TOKEN_BODY, client, json_ok, listener, read_request};
use oidc_refresh_core::{ClientConfig, IdTokenPayload, RefreshParams, RefreshToken};
use oidc_refresh_hyper::{Options, Transport};
use tokio::io::AsyncWriteExt;

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

/// Builds (never polls) each returned future and asserts it is `Send`.
#[test]
fn every_returned_future_is_send() {
    assert_send_sync::<Transport>();
    assert_send_sync::<Options>();
    let transport = Transport::new(Options::default()).expect("transport");
    let client = ClientConfig::new("https://id.example/token", "my-app").expect("client");
    let rt = RefreshToken::new("rt-1");
    let params = RefreshParams::new(&rt);
    let previous: Option<&IdTokenPayload> = None;

    assert_send(&transport.execute(http::Request::new(Vec::new())));
    assert_send(&transport.discover("https://id.example"));
    assert_send(&transport.refresh_tokens(&client, &params));
    assert_send(&transport.refresh_tokens_with_previous(&client, &params, previous));
    assert_send(&oidc_refresh_hyper::refresh_tokens(&client, &params));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refreshes_on_a_multi_thread_runtime() {
    const N: usize = 50;
    let (listener, addr) = listener().await;
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let server = tokio::spawn(async move {
        let mut handlers = Vec::new();
        for _ in 0..N {
            let Ok(Ok((mut stream, _))) = tokio::time::timeout(ACCEPT_WINDOW, listener.accept()).await else {
                break;
            };
            let counter = counter.clone();
            handlers.push(tokio::spawn(async move {
                if let Ok(Ok(got)) = tokio::time::timeout(ACCEPT_WINDOW, read_request(&mut stream)).await {
                    // Each request carries its own refresh token; echo it in the access token.
                    let body = String::from_utf8_lossy(&got.body).into_owned();
                    let rt = body.split('&').find_map(|p| p.strip_prefix("refresh_token=")).unwrap_or("?");
                    let answer = TOKEN_BODY.replace("at-2", &format!("at-for-{rt}"));
                    // A little latency so that the exchanges overlap.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let _ = stream.write_all(&json_ok(&answer)).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        for h in handlers {
            let _ = h.await;
        }
    });

    let transport = Transport::new(Options::default().timeout(Duration::from_secs(10))).expect("transport");
    let client = Arc::new(client(addr));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let transport = transport.clone();
            let client = client.clone();
            // tokio::spawn requires the future to be Send + 'static.
            tokio::spawn(async move {
                let rt = RefreshToken::new(format!("rt-{i}"));
                let result = transport.refresh_tokens(&client, &RefreshParams::new(&rt)).await;
                (i, result)
            })
        })
        .collect();
    for task in tasks {
        let (i, result) = task.await.expect("task");
        let result = result.unwrap_or_else(|e| panic!("refresh {i}: {e}"));
        assert_eq!(result.access_token().expose_secret(), format!("at-for-rt-{i}"));
    }
    server.await.expect("server");
    assert_eq!(served.load(Ordering::SeqCst), N);
}
