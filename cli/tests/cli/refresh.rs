//! `oidc-refresh refresh` end to end against the bundled provider: token files rotated
//! atomically, left untouched on failure, exit 7 when the rotated token cannot be stored,
//! exit 6 on an ID token naming another subject, and both transports.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use oidc_refresh_testing::provider::{BASIC_SECRET, POST_SECRET, Provider, field};

use crate::common::{bin, mode, path, stderr_line};

struct Files {
    _dir: tempfile::TempDir,
    rt: PathBuf,
    idt: PathBuf,
}

fn files(login: &serde_json::Value) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("refresh_token");
    let idt = dir.path().join("id_token");
    fs::write(&rt, format!("  {}\n\n", field(login, "refresh_token"))).unwrap();
    fs::write(&idt, format!("{}\n", field(login, "id_token"))).unwrap();
    Files { _dir: dir, rt, idt }
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("OIDC_REFRESH_CLIENT_SECRET")
        .output()
        .unwrap()
}

/// One successful refresh through the CLI; asserts the files were replaced as the contract says.
fn refresh_ok(p: &Provider, f: &Files, extra: &[&str]) -> serde_json::Value {
    let before = fs::read_to_string(&f.rt).unwrap();
    let mut args = vec!["refresh", "--client-id", "public-client", "--refresh-token-file", path(&f.rt)];
    args.extend(["--id-token-file", path(&f.idt)]);
    let endpoint = p.token_endpoint();
    if !extra.contains(&"--issuer") {
        args.extend(["--token-endpoint", endpoint.as_str()]);
    }
    args.extend(extra);
    let out = run(&args);
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let new_rt = result["refreshToken"].as_str().expect("rotated");
    assert_ne!(before.trim(), new_rt);
    assert_eq!(
        fs::read_to_string(&f.rt).unwrap(),
        format!("{new_rt}\n"),
        "the file holds the value and one newline"
    );
    assert_eq!(mode(&f.rt), 0o600);
    assert_eq!(fs::read_to_string(&f.idt).unwrap(), format!("{}\n", result["idToken"].as_str().unwrap()));
    assert_eq!(mode(&f.idt), 0o600);
    assert_eq!(result["tokenType"], "Bearer");
    assert_eq!(result["idTokenPayload"]["sub"], "user-123");
    result
}

#[test]
fn refresh_rotates_the_token_files_twice() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    refresh_ok(&p, &f, &[]);
    let issuer = p.issuer.clone();
    refresh_ok(&p, &f, &["--issuer", &issuer]);
}

#[cfg(feature = "hyper")]
#[cfg(feature = "hyper")]
#[test]
fn refresh_over_the_hyper_transport() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    refresh_ok(&p, &f, &["--transport", "hyper"]);
    refresh_ok(&p, &f, &["--transport", "ureq"]);
}

#[cfg(not(feature = "hyper"))]
#[test]
fn the_hyper_transport_needs_the_feature() {
    let out = run(&[
        "refresh",
        "--token-endpoint",
        "http://127.0.0.1:9/token",
        "--client-id",
        "a",
        "--refresh-token-file",
        "/dev/null",
        "--transport",
        "hyper",
    ]);
    // Refused when the arguments are read (nothing is read from the refresh token file,
    // nothing sent): clap names the value and the ones this binary has.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'hyper' for '--transport"), "{stderr}");
    assert!(stderr.contains("possible values: ureq"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn confidential_clients_read_the_secret_from_a_file() {
    let p = Provider::start();
    for (client, auth, secret) in
        [("basic-client", "basic", BASIC_SECRET), ("post-client", "post", POST_SECRET)]
    {
        let f = files(&p.login(client, Some((auth, secret))));
        let secret_file = f.rt.with_file_name("secret");
        fs::write(&secret_file, format!("{secret}\n")).unwrap();
        let out = run(&[
            "refresh",
            "--token-endpoint",
            &p.token_endpoint(),
            "--client-id",
            client,
            "--client-secret-file",
            path(&secret_file),
            "--auth",
            auth,
            "--refresh-token-file",
            path(&f.rt),
        ]);
        assert!(out.status.success(), "{client}: {}", String::from_utf8_lossy(&out.stderr));
        // The secret itself never reaches the output.
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    }
}

#[test]
fn a_refused_refresh_leaves_the_files_untouched() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let f = files(&login);
    let spent = fs::read(&f.rt).unwrap();
    let id_before = fs::read(&f.idt).unwrap();
    refresh_ok(&p, &f, &[]);
    // Replay the spent token from a copy of the original files.
    fs::write(&f.rt, &spent).unwrap();
    fs::write(&f.idt, &id_before).unwrap();
    let out = run(&[
        "refresh",
        "--token-endpoint",
        &p.token_endpoint(),
        "--client-id",
        "public-client",
        "--refresh-token-file",
        path(&f.rt),
        "--id-token-file",
        path(&f.idt),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("invalid_grant"));
    assert_eq!(fs::read(&f.rt).unwrap(), spent);
    assert_eq!(fs::read(&f.idt).unwrap(), id_before);
}

#[test]
fn a_rotated_token_that_cannot_be_written_is_printed_and_exits_7() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    let before = fs::read(&f.rt).unwrap();
    // As root, permissions do not stop a write; a file-size limit of 0 does (and SIGXFSZ is
    // ignored, so the write fails with EFBIG instead of killing the process). Pipes are not
    // limited, so stdout still works.
    let script = format!(
        "trap '' XFSZ; ulimit -f 0; exec '{}' refresh --token-endpoint '{}' --client-id public-client --refresh-token-file '{}'",
        bin(),
        p.token_endpoint(),
        path(&f.rt)
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(printed.lines().count(), 1, "the new refresh token alone: {printed:?}");
    let new_rt = printed.trim();
    assert_ne!(new_rt.as_bytes(), before.trim_ascii());
    assert!(stderr_line(&out).contains("cannot be written"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(new_rt), "the token is not on stderr");
    assert_eq!(fs::read(&f.rt).unwrap(), before, "the old file is intact");
    // The printed token is the real rotated one: it refreshes.
    fs::write(&f.rt, format!("{new_rt}\n")).unwrap();
    refresh_ok(&p, &f, &[]);
}

#[test]
fn an_id_token_for_another_subject_is_exit_6_and_nothing_is_stored() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    // The previous ID token names another user: the refreshed one fails §12.2 continuity.
    let other = p.login_as("public-client", "someone-else");
    fs::write(&f.idt, field(&other, "id_token")).unwrap();
    let rt_before = fs::read(&f.rt).unwrap();
    let idt_before = fs::read(&f.idt).unwrap();
    let out = run(&[
        "refresh",
        "--token-endpoint",
        &p.token_endpoint(),
        "--client-id",
        "public-client",
        "--refresh-token-file",
        path(&f.rt),
        "--id-token-file",
        path(&f.idt),
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(stderr_line(&out).contains("subject"));
    assert_eq!(fs::read(&f.rt).unwrap(), rt_before, "another subject: nothing from the response is used");
    assert_eq!(fs::read(&f.idt).unwrap(), idt_before);
}

#[test]
fn configuration_and_transport_failures_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("rt");
    fs::write(&rt, "some-token\n").unwrap();
    let rt = path(&rt);
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["--token-endpoint", "http://id.example/token"], 2, "loopback"),
        (vec!["--token-endpoint", "not a url"], 2, "URL"),
        (vec!["--domain", "acme.example/x"], 2, "domain"),
        (vec!["--token-endpoint", "http://127.0.0.1:1/token"], 5, "connect"),
    ];
    for (endpoint, code, needle) in cases {
        let mut args = vec!["refresh", "--client-id", "app", "--refresh-token-file", rt, "--timeout", "5"];
        args.extend(endpoint.iter().copied());
        let out = run(&args);
        assert_eq!(out.status.code(), Some(code), "{endpoint:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        assert!(stderr_line(&out).contains(needle), "{endpoint:?}");
        assert_eq!(fs::read_to_string(dir.path().join("rt")).unwrap(), "some-token\n");
    }
    // Unreadable refresh token file, and two endpoints at once.
    let out = run(&[
        "refresh",
        "--token-endpoint",
        "http://127.0.0.1:1/t",
        "--client-id",
        "a",
        "--refresh-token-file",
        "/nonexistent/rt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "refresh",
        "--token-endpoint",
        "http://127.0.0.1:1/t",
        "--domain",
        "x.example",
        "--client-id",
        "a",
        "--refresh-token-file",
        rt,
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_issuer_that_does_not_match_its_discovery_document_is_exit_4() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    let before = fs::read(&f.rt).unwrap();
    let spelled_differently = p.issuer.replace("127.0.0.1", "localhost");
    let out = run(&[
        "refresh",
        "--issuer",
        &spelled_differently,
        "--client-id",
        "public-client",
        "--refresh-token-file",
        path(&f.rt),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stderr_line(&out).contains("issuer"));
    assert_eq!(fs::read(&f.rt).unwrap(), before);
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let p = Provider::start();
    let f = files(&p.login("public-client", None));
    for no_color in [None, Some("1")] {
        let mut cmd = Command::new(bin());
        cmd.args(["-v", "refresh", "--token-endpoint", &p.token_endpoint(), "--client-id", "public-client"])
            .args(["--refresh-token-file", path(&f.rt)])
            .env_remove("RUST_LOG");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains("oidc_refresh"), "-v logs on stderr: {log}");
        assert!(!out.stderr.contains(&0x1b), "no ANSI escape in a log that is not on a terminal: {log:?}");
    }
}
