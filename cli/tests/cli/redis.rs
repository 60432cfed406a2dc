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

/// Runs `cmd` to its end, which must come within `limit` (a hang fails the test).
fn within(mut cmd: Command, limit: std::time::Duration) -> (Output, std::time::Duration) {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut child =
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
            child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
            return (Output { status, stdout, stderr }, started.elapsed());
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A pseudo-random number per call, from a randomly keyed hash (no seed to fix: every run
/// kills at other points).
fn random_below(n: u64) -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now()) % n
}

#[test]
#[allow(clippy::print_stderr)] // the test reports how often each case came up
fn a_lease_holder_killed_at_random_points_costs_at_most_a_lease_and_never_an_older_set() {
    let p = Provider::start();
    let server = RedisServer::start();
    init_from_login(&server, &p);
    let args = token_args(&p);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--timeout", "1", "--force"]);
    // The lease: --timeout + 5 s; a run waits at most that for a dead holder's lease.
    let lease = std::time::Duration::from_secs(6);
    let mut seen: Vec<String> = vec![stored(&server)["refresh_token"].as_str().unwrap().to_owned()];
    let (mut lost_answers, mut waits) = (0, 0);
    for kill in 0..20 {
        let (grants, errors) = p.stats();
        let before = stored(&server)["refresh_token"].as_str().unwrap().to_owned();
        let (mut cmd, _home) = isolated(&server.url(), &args);
        let mut holder =
            cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(random_below(60)));
        holder.kill().unwrap();
        holder.wait().unwrap();
        let after = stored(&server)["refresh_token"].as_str().unwrap().to_owned();
        if after != before {
            assert!(!seen.contains(&after), "kill {kill}: an older set was written over a newer one");
            seen.push(after.clone());
        }
        let (next, took) = within(isolated(&server.url(), &args).0, lease * 3);
        assert!(took < lease + std::time::Duration::from_secs(3), "kill {kill}: the next run took {took:?}");
        if took > std::time::Duration::from_secs(2) {
            waits += 1;
        }
        if next.status.code() == Some(3) {
            // The killed run's answer was lost: the provider served its refresh (it may do so
            // after the kill, so this is judged once the next run ended) and the store does
            // not have it. Its refresh token was spent: the next run sends it once and the
            // provider, which revokes a grant on a replay, says sign in again, never a loop.
            lost_answers += 1;
            assert!(p.stats().0 > grants && after == before, "kill {kill}: exit 3 without a lost answer");
            assert_eq!(p.stats().1, errors + 1, "kill {kill}: one refused replay");
            init_from_login(&server, &p);
            seen.push(stored(&server)["refresh_token"].as_str().unwrap().to_owned());
        } else {
            let token = printed(&next);
            assert_eq!(token, stored(&server)["access_token"].as_str().unwrap(), "kill {kill}");
            assert_eq!(p.stats().1, errors, "kill {kill}: no replay");
            seen.push(stored(&server)["refresh_token"].as_str().unwrap().to_owned());
        }
        assert_eq!(server.keys("*"), [KEY], "kill {kill}: no lease left once the next run ended");
    }
    eprintln!("20 kills: {waits} next runs waited for a dead holder's lease, {lost_answers} answers lost");
}

#[test]
fn redis_restarted_during_rounds_loses_nothing_and_runs_in_the_outage_exit_5() {
    let p = Provider::start();
    let mut server = RedisServer::start();
    init_from_login(&server, &p);
    let url = server.url();
    let args = token_args(&p);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--timeout", "2"]);
    for round in 0..4 {
        expire(&server);
        let (grants, errors) = p.stats();
        let runs: Vec<std::thread::JoinHandle<Output>> = (0..8)
            .map(|_| {
                let (cmd, home) = isolated(&url, &args);
                std::thread::spawn(move || {
                    let (out, _) = within(cmd, std::time::Duration::from_secs(30));
                    drop(home);
                    out
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(random_below(40)));
        server.stop();
        let outs: Vec<Output> = runs.into_iter().map(|h| h.join().unwrap()).collect();
        server.restart();
        // Nothing half-written: the value is a token set (AOF, appendfsync always).
        let set = stored(&server);
        let mut rotated_not_stored = None;
        for out in &outs {
            match out.status.code() {
                Some(0) => assert_eq!(printed(out), set["access_token"].as_str().unwrap(), "round {round}"),
                Some(5) => {
                    let line = stderr_line(out);
                    assert!(line.contains("Redis"), "round {round}: {line}");
                }
                // The refresh was done and its set could not be written: the new refresh
                // token is printed, never lost.
                Some(7) => rotated_not_stored = Some(String::from_utf8(out.stdout.clone()).unwrap()),
                other => panic!("round {round}: exit {other:?}: {}", String::from_utf8_lossy(&out.stderr)),
            }
        }
        if let Some(rt) = rotated_not_stored {
            // What an operator does with it: put it back in the store.
            let files = tempfile::tempdir().unwrap();
            let rt_file = files.path().join("rt");
            std::fs::write(&rt_file, rt.trim()).unwrap();
            let out = Command::new(bin())
                .args([
                    "store",
                    "init",
                    "--store",
                    &url,
                    "--store-key",
                    KEY,
                    "--refresh-token-file",
                    path(&rt_file),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        // With Redis back, a run gets a token, and the grant was never replayed.
        let (out, _) = within(isolated(&url, &args).0, std::time::Duration::from_secs(30));
        assert_eq!(printed(&out), stored(&server)["access_token"].as_str().unwrap(), "round {round}");
        assert_eq!(p.stats().1, errors, "round {round}: no replay");
        assert!(p.stats().0 <= grants + 2, "round {round}: at most the interrupted refresh and one more");
    }
}

#[test]
fn rediss_with_a_password_trusts_ssl_cert_file_and_refuses_an_unknown_ca() {
    let p = Provider::start();
    let pki = oidc_refresh_testing::redis::pem_pki();
    let server = RedisServer::builder().tls(&pki).password("tls-s3cret").start();
    let url = server.url();
    assert!(url.starts_with("rediss://"), "{url}");
    let certs = tempfile::tempdir().unwrap();
    let ca = certs.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let login = p.login("public-client", None);
    let rt = certs.path().join("rt");
    std::fs::write(&rt, field(&login, "refresh_token")).unwrap();

    let mut init = Command::new(bin());
    init.args(["store", "init", "--store", &url, "--store-key", KEY, "--refresh-token-file", path(&rt)])
        .env("SSL_CERT_FILE", &ca);
    let out = init.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args = token_args(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut cmd, _home) = isolated(&url, &args);
    let token = printed(&cmd.env("SSL_CERT_FILE", &ca).output().unwrap());
    assert_eq!(token, stored(&server)["access_token"].as_str().unwrap());

    // Trusting only another CA, the handshake fails: Redis is unreachable, exit 5.
    let other = certs.path().join("other.pem");
    std::fs::write(&other, oidc_refresh_testing::redis::pem_pki().ca_pem).unwrap();
    let (mut cmd, _home) = isolated(&url, &args);
    let out = cmd.env("SSL_CERT_FILE", &other).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stderr_line(&out).contains("tls-s3cret"));
}

#[test]
fn two_grants_under_two_keys_raced_together_stay_apart() {
    let p = Provider::start();
    let server = RedisServer::start();
    let keys = ["{a}:public-client", "{b}:public-client"];
    for key in keys {
        let login = p.login("public-client", None);
        let files = tempfile::tempdir().unwrap();
        let rt = files.path().join("rt");
        std::fs::write(&rt, field(&login, "refresh_token")).unwrap();
        let out = Command::new(bin())
            .args([
                "store",
                "init",
                "--store",
                &server.url(),
                "--store-key",
                key,
                "--refresh-token-file",
                path(&rt),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let before: Vec<Value> =
        keys.iter().map(|k| serde_json::from_slice(&server.get(k).unwrap()).unwrap()).collect();
    let (grants, errors) = p.stats();
    let args = token_args(&p);
    let barrier = Barrier::new(16);
    let outputs: Vec<(usize, Output)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (server, args, barrier) = (&server, &args, &barrier);
                s.spawn(move || {
                    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
                    all.extend(["--store-key", keys[i % 2]]);
                    let (mut cmd, _home) = isolated(&server.url(), &all);
                    barrier.wait();
                    (i % 2, cmd.output().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(p.stats(), (grants + 2, errors), "one refresh per grant, no replay");
    for (k, key) in keys.iter().enumerate() {
        let after: Value = serde_json::from_slice(&server.get(key).unwrap()).unwrap();
        assert_ne!(after["refresh_token"], before[k]["refresh_token"], "{key} was refreshed");
        for (_, out) in outputs.iter().filter(|(g, _)| *g == k) {
            assert_eq!(printed(out), after["access_token"].as_str().unwrap(), "{key}: its own token");
        }
    }
    assert_ne!(
        serde_json::from_slice::<Value>(&server.get(keys[0]).unwrap()).unwrap()["access_token"],
        serde_json::from_slice::<Value>(&server.get(keys[1]).unwrap()).unwrap()["access_token"]
    );
    assert_eq!(server.keys("*"), keys, "no key outside KEY and KEY:*");
}
