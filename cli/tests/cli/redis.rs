//! `--store redis://…` against real `redis-server`s on loopback ports of their own and the
//! bundled provider (whose reuse detection revokes a grant on any replay): a fleet of
//! processes, each in a directory, HOME and TMPDIR of its own so that nothing but Redis can
//! coordinate them, refreshes once per round; the store commands and failures, exit codes
//! included.

use std::process::{Command, Output};
use std::sync::Barrier;

use oidc_refresh_testing::provider::{Provider, field};
use oidc_refresh_testing::redis::RedisServer;
use oidc_refresh_testing::servers::closed_port;
use serde_json::Value;

use crate::common::{bin, path, stderr_line};

const KEY: &str = "oidc-refresh:public-client";

/// `oidc-refresh ARGS` in a directory, HOME and TMPDIR of its own, the store named by the
/// environment variable only.
fn isolated(store_url: &str, args: &[&str]) -> (Command, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("TMPDIR", home.path())
        .env("OIDC_REFRESH_STORE", store_url)
        .env_remove("RUST_LOG");
    (cmd, home)
}

fn token_args(p: &Provider) -> Vec<String> {
    ["token", "--token-endpoint", &p.token_endpoint(), "--client-id", "public-client"]
        .map(str::to_owned)
        .to_vec()
}

/// The set stored at `KEY`, as JSON.
fn stored(server: &RedisServer) -> Value {
    serde_json::from_slice(&server.get(KEY).expect("a value at KEY")).unwrap()
}

/// Writes a login's tokens to Redis with `store init`.
fn init_from_login(server: &RedisServer, p: &Provider) {
    let login = p.login("public-client", None);
    let files = tempfile::tempdir().unwrap();
    let (rt, id) = (files.path().join("rt"), files.path().join("id"));
    std::fs::write(&rt, field(&login, "refresh_token")).unwrap();
    std::fs::write(&id, field(&login, "id_token")).unwrap();
    let out = Command::new(bin())
        .args(["store", "init", "--store", &server.url(), "--store-key", KEY])
        .args(["--refresh-token-file", path(&rt), "--id-token-file", path(&id)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The stored access token made expired (the refresh token kept), for the next round.
fn expire(server: &RedisServer) {
    let mut set = stored(server);
    set["expires_at"] = Value::from(0);
    server.set(KEY, serde_json::to_vec_pretty(&set).unwrap());
}

fn printed(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap().trim().to_owned()
}

#[test]
fn a_fleet_of_8_then_32_processes_refreshes_once_per_round_and_the_grant_lives() {
    let p = Provider::start();
    let server = RedisServer::start();
    init_from_login(&server, &p);
    let args = token_args(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for (fleet, rounds) in [(8, 5), (32, 5)] {
        for round in 0..rounds {
            let (grants, errors) = p.stats();
            let barrier = Barrier::new(fleet);
            let outputs: Vec<Output> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..fleet)
                    .map(|_| {
                        let (server, args, barrier) = (&server, &args, &barrier);
                        s.spawn(move || {
                            let (mut cmd, _home) = isolated(&server.url(), args);
                            barrier.wait();
                            cmd.output().unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let stored_at = stored(&server)["access_token"].as_str().unwrap().to_owned();
            for out in &outputs {
                assert_eq!(printed(out), stored_at, "{fleet} processes, round {round}: the stored token");
            }
            assert_eq!(p.stats(), (grants + 1, errors), "{fleet} processes, round {round}: one refresh");
            assert_eq!(server.keys("*"), [KEY], "no key but KEY once the runs are done");
            expire(&server);
        }
    }
    // The grant is alive: a forced refresh succeeds.
    let (mut cmd, _home) = isolated(&server.url(), &args);
    printed(&cmd.arg("--force").output().unwrap());
}

#[test]
fn store_commands_on_redis_and_their_failures() {
    let p = Provider::start();
    let server = RedisServer::builder().password("pw-s3cret").start();
    init_from_login(&server, &p);
    let set = stored(&server);
    assert!(set["refresh_token"].is_string() && set["id_token"].is_string(), "{set}");
    assert_eq!(server.keys("*"), [KEY], "the lease is given back");

    let show = |url: &str| {
        Command::new(bin()).args(["store", "show", "--store", url, "--store-key", KEY]).output().unwrap()
    };
    let shown: Value = serde_json::from_slice(&show(&server.url()).stdout).unwrap();
    assert_eq!(shown["refresh_token"], "<redacted>");
    assert_eq!(shown["id_token"], "<redacted>");

    // A wrong password: exit 2, never shown, the value untouched.
    let wrong = server.url().replace("pw-s3cret", "not-the-pw");
    let out = show(&wrong);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let line = stderr_line(&out);
    assert!(!line.contains("not-the-pw") && !line.contains("pw-s3cret"), "{line}");
    assert_eq!(stored(&server), set);

    // Malformed, or of another type: exit 2, untouched.
    server.set(KEY, "not json");
    assert_eq!(show(&server.url()).status.code(), Some(2));
    let args = token_args(&p);
    let mut token = Command::new(bin());
    token.args(&args).args(["--store", &server.url()]);
    let out = token.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.get(KEY).as_deref(), Some(&b"not json"[..]));
    server.del(KEY);
    server.command(&["LPUSH", KEY, "x"]);
    let out = token.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.command(&["TYPE", KEY]).as_text(), Some("list"));
    server.del(KEY);
    // Missing: exit 2.
    assert_eq!(show(&server.url()).status.code(), Some(2));
    let out = token.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));

    // Redis down: exit 5.
    let down = format!("redis://127.0.0.1:{}/", closed_port());
    let out = show(&down);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let mut token = Command::new(bin());
    let out = token.args(&args).args(["--store", &down]).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    stderr_line(&out);
}
