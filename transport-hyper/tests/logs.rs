//! The `tracing` events: one per attempt with the host and the outcome, whether the refresh
//! token rotated, and never a token or a secret (R28 secrets-never-formatted).

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use common::{TOKEN_BODY, client, json_ok, response, serve_raw};
use oidc_refresh_core::{ClientAuth, ClientSecret, RefreshParams, RefreshToken};
use oidc_refresh_hyper::{Options, Transport};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every event as `target: field=value ...`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{}:", event.metadata().target()));
        event.record(&mut line);
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line.0);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().expect("no thread panicked while logging").clone()
    }
}

const SECRETS: [&str; 4] = ["rt-secret-1", "rt-2", "at-2", "client-s3cret"];

#[tokio::test]
async fn events_name_the_host_the_outcome_and_rotation_but_no_secret() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let transport = Transport::new(Options::default()).expect("transport");
    let rt = RefreshToken::new("rt-secret-1");
    let (addr, _s) = serve_raw(json_ok(TOKEN_BODY)).await;
    let client = client(addr).with_auth(ClientAuth::ClientSecretBasic(ClientSecret::new("client-s3cret")));
    transport.refresh_tokens(&client, &RefreshParams::new(&rt)).await.expect("refresh");

    let (addr, _s) = serve_raw(response(
        "400 Bad Request",
        &[("Content-Type", "application/json")],
        br#"{"error":"invalid_grant"}"#,
    ))
    .await;
    let client =
        common::client(addr).with_auth(ClientAuth::ClientSecretPost(ClientSecret::new("client-s3cret")));
    let e = transport.refresh_tokens(&client, &RefreshParams::new(&rt)).await.expect_err("invalid_grant");
    assert!(e.is_reauth_required());

    let lines = recorder.lines();
    let ours: Vec<&String> = lines.iter().filter(|l| l.starts_with("oidc_refresh:")).collect();
    let all = lines.join("\n");
    for secret in SECRETS {
        assert!(!all.contains(secret), "a log line holds {secret}:\n{all}");
    }
    let attempts = ours.iter().filter(|l| l.contains("refresh attempt")).count();
    assert_eq!(attempts, 2, "{all}");
    assert!(ours.iter().all(|l| l.contains("host=127.0.0.1")), "{all}");
    assert!(ours.iter().any(|l| l.contains("outcome=\"success\"") && l.contains("rotated=true")), "{all}");
    assert!(
        ours.iter().any(|l| l.contains("outcome=\"server_refused\"")
            && l.contains("oauth_error=\"invalid_grant\"")
            && l.contains("rotated=false")),
        "{all}"
    );
    assert!(ours.iter().any(|l| l.contains("HTTP exchange done") && l.contains("status=200")), "{all}");
}
