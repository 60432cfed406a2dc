//! Every numeric flag of every command fed extreme values, and ports out of range: never a
//! panic, at most one line on stderr, exit 2 with nothing sent for a value out of range or
//! not a number (or a port out of range in a flag), exit 4 for one in a discovery document.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use oidc_refresh_testing::servers::{Behaviour, Listener, Server, json_response};
use serde_json::json;

use crate::common::{path, run, stderr_line};

/// A numeric flag and the range it accepts.
struct Flag {
    name: &'static str,
    min: u64,
    max: u64,
}

const TIMEOUT: Flag = Flag { name: "--timeout", min: 1, max: 86_400 };
const MAX_BODY: Flag = Flag { name: "--max-body", min: 1, max: 64 * 1024 * 1024 };
const LEEWAY: Flag = Flag { name: "--leeway", min: 0, max: 3_600 };
const MIN_TTL: Flag = Flag { name: "--min-ttl", min: 0, max: 86_400 };
const STATUS: Flag = Flag { name: "--status", min: 100, max: 999 };

/// The values tried on `flag`, each with whether it is in range.
fn values(flag: &Flag) -> Vec<(String, bool)> {
    let mut all: Vec<String> = ["0", "1"].map(String::from).to_vec();
    all.push(flag.max.to_string());
    all.push((flag.max + 1).to_string());
    all.push(u64::MAX.to_string());
    all.extend(["18446744073709551616", "-1", "1e3", "", " 5"].map(String::from));
    all.into_iter()
        .map(|v| {
            let valid = v.parse::<u64>().is_ok_and(|n| (flag.min..=flag.max).contains(&n));
            (v, valid)
        })
        .collect()
}

/// At most one line on stderr, never a panic (exit 101).
fn sane(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{what}: a panic: {stderr}");
    assert!(out.status.code().is_some(), "{what}: killed by a signal");
    assert!(stderr.lines().count() <= 1, "{what}: more than one line on stderr: {stderr:?}");
}

/// A file of mode 0600 holding `text`.
fn private_file(p: &Path, text: &str) {
    fs::write(p, text).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o600)).unwrap();
}

/// A server that refuses every grant (`invalid_grant`, not retried).
fn refusing_server() -> Server {
    Server::start(Behaviour::Respond(json_response(400, r#"{"error":"invalid_grant"}"#)))
}

/// The arguments of `command` against `url`, before the flag under test.
fn command_args(command: &str, url: &str, dir: &Path) -> Vec<String> {
    let rt = dir.join("rt");
    let store = dir.join("tokens.json");
    let mut args: Vec<String> =
        [command, "--token-endpoint", url, "--client-id", "app"].map(String::from).to_vec();
    match command {
        "refresh" => args.extend(["--refresh-token-file".into(), path(&rt).into()]),
        "token" => args.extend(["--store".into(), path(&store).into()]),
        "revoke" => args.extend([
            "--refresh-token-file".into(),
            path(&rt).into(),
            "--revocation-endpoint".into(),
            url.into(),
        ]),
        other => panic!("no arguments for {other}"),
    }
    args
}

#[test]
fn every_numeric_flag_is_range_checked_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    private_file(&dir.path().join("rt"), "rt-flags-0123456789\n");
    let commands: [(&str, &[&Flag]); 3] = [
        ("refresh", &[&TIMEOUT, &MAX_BODY, &LEEWAY]),
        ("token", &[&TIMEOUT, &MAX_BODY, &LEEWAY, &MIN_TTL]),
        ("revoke", &[&TIMEOUT, &MAX_BODY, &LEEWAY]),
    ];
    for (command, flags) in commands {
        for flag in flags {
            for (value, valid) in values(flag) {
                private_file(&dir.path().join("tokens.json"), r#"{"refresh_token":"rt-flags-0123456789"}"#);
                let server = refusing_server();
                let mut args = command_args(command, &server.url("/token"), dir.path());
                args.extend([flag.name.to_owned(), value.clone()]);
                let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
                let log = server.finish();
                let what = format!("{command} {} {value:?}", flag.name);
                sane(&out, &what);
                assert!(out.stdout.is_empty(), "{what}");
                if valid {
                    assert_ne!(
                        out.status.code(),
                        Some(2),
                        "{what}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    assert!(!log.requests.is_empty(), "{what}: accepted, so the request was sent");
                } else {
                    assert_eq!(
                        out.status.code(),
                        Some(2),
                        "{what}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    stderr_line(&out);
                    assert_eq!(log.connections, 0, "{what}: refused, so nothing was sent");
                }
            }
        }
    }
}

#[test]
fn parse_status_is_range_checked() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    fs::write(&body, r#"{"error":"invalid_grant"}"#).unwrap();
    for (value, valid) in values(&STATUS) {
        let out = run(&["parse", path(&body), "--status", &value]);
        let what = format!("parse --status {value:?}");
        sane(&out, &what);
        if valid {
            assert_ne!(out.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        } else {
            assert_eq!(out.status.code(), Some(2), "{what}");
            stderr_line(&out);
        }
    }
}

#[test]
fn a_port_out_of_range_on_the_command_line_is_exit_2_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("rt");
    private_file(&rt, "rt-ports-0123456789\n");
    let server = refusing_server();
    let good = server.url("/token");
    let refresh = |endpoint: [&str; 2], extra: &[&str]| {
        let mut args = vec!["refresh", endpoint[0], endpoint[1], "--client-id", "app"];
        args.extend(["--refresh-token-file", path(&rt)]);
        args.extend(extra);
        run(&args)
    };
    for port in ["99999", "65536", "0", ""] {
        let url = format!("http://127.0.0.1:{port}/token");
        let domain = format!("example.invalid:{port}");
        let jwks = format!("http://127.0.0.1:{port}/jwks");
        for out in [
            refresh(["--token-endpoint", &url], &[]),
            refresh(["--domain", &domain], &[]),
            refresh(["--issuer", &format!("http://127.0.0.1:{port}")], &[]),
            refresh(["--token-endpoint", &good], &["--jwks-uri", &jwks]),
            run(&[
                "revoke",
                "--token-endpoint",
                &good,
                "--client-id",
                "app",
                "--refresh-token-file",
                path(&rt),
                "--revocation-endpoint",
                &url,
            ]),
        ] {
            sane(&out, &url);
            assert_eq!(out.status.code(), Some(2), "{port}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(stderr_line(&out).contains("port"), "{port}");
        }
    }
    assert_eq!(server.finish().connections, 0);
    assert_eq!(fs::read_to_string(&rt).unwrap(), "rt-ports-0123456789\n");
}

#[test]
fn a_port_out_of_range_in_a_discovery_document_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("rt");
    private_file(&rt, "rt-ports-0123456789\n");
    for port in ["99999", "0"] {
        let listener = Listener::bind();
        let issuer = listener.base_url();
        let doc = json!({"issuer": issuer, "token_endpoint": format!("http://127.0.0.1:{port}/token")});
        let server = listener.serve(Behaviour::Respond(json_response(200, &doc.to_string())));
        let out = run(&[
            "refresh",
            "--issuer",
            &issuer,
            "--no-verify",
            "--client-id",
            "app",
            "--refresh-token-file",
            path(&rt),
        ]);
        sane(&out, port);
        assert_eq!(out.status.code(), Some(4), "{port}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stderr_line(&out).contains("token_endpoint"), "{port}");
        let log = server.finish();
        assert_eq!(log.requests.len(), 1, "{port}: only the discovery document was fetched");
        assert!(log.requests[0].head.contains("/.well-known/openid-configuration"), "{port}");
    }
}
