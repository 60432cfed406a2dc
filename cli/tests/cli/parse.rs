//! The `parse` and `decode-id-token` commands of the built binary: exit codes, stdout and
//! the one-line stderr rule of the contract.

// Tests fail by panicking: `expect`/`unwrap`/`panic!` are how they report.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::bin;

struct Out {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Out {
    /// Success: exit 0, one JSON document on stdout, nothing on stderr.
    fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert_eq!(self.stderr, "", "nothing on stderr on success");
        let mut docs = serde_json::Deserializer::from_slice(&self.stdout).into_iter::<Value>();
        let first = docs.next().expect("one document").expect("valid JSON");
        assert!(docs.next().is_none(), "exactly one JSON document on stdout");
        first
    }

    /// Failure: this exit code, nothing on stdout, exactly one line on stderr; returns it.
    fn failure(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "stdout: {:?}, stderr: {}", self.stdout_text(), self.stderr);
        assert!(self.stdout.is_empty(), "nothing on stdout on failure, got {:?}", self.stdout_text());
        let line = self.stderr.strip_suffix('\n').expect("stderr ends with a newline");
        assert!(!line.is_empty(), "a message on stderr");
        assert!(!line.contains('\n'), "exactly one line on stderr: {:?}", self.stderr);
        line
    }

    /// A usage error (exit 2): nothing on stdout, something on stderr (clap may add usage).
    fn usage_error(&self) {
        assert_eq!(self.code, Some(2), "stdout: {:?}, stderr: {}", self.stdout_text(), self.stderr);
        assert!(self.stdout.is_empty(), "nothing on stdout, got {:?}", self.stdout_text());
        assert!(!self.stderr.trim().is_empty());
    }

    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Out {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        // A child that fails before reading its input (a bad flag) closes the pipe early.
        match pipe.write_all(input) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        }
        drop(pipe);
    }
    let out = child.wait_with_output().expect("the binary finishes");
    Out {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A file under the target's temporary folder, unique per test.
fn file(name: &str, content: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_parse");
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write the input file");
    path
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn id_token() -> String {
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","kid":"k1"}"#),
        b64(
            r#"{"iss":"https://acme.reach5.net","sub":"u-1","aud":"app","exp":1737459922,"iat":1737456322,"email_verified":"true","updated_at":"2025-01-21T10:45:22","custom_fields":{"loyalty_card":"LC-1"},"https://x/roles":["a"]}"#
        )
    )
}

fn expected_payload() -> Value {
    json!({
        "iss": "https://acme.reach5.net",
        "sub": "u-1",
        "aud": ["app"],
        "exp": 1_737_459_922u64,
        "iat": 1_737_456_322u64,
        "emailVerified": true,
        "updatedAt": "2025-01-21T10:45:22",
        "customFields": {"loyalty_card": "LC-1"},
        "https://x/roles": ["a"]
    })
}

fn success_body() -> String {
    format!(
        r#"{{"access_token":"at-1","token_type":"bearer","expires_in":"3599","refresh_token":"rt-2","scope":"openid email","id_token":"{}","session_state":"s1"}}"#,
        id_token()
    )
}

fn expected_result() -> Value {
    json!({
        "accessToken": "at-1",
        "tokenType": "Bearer",
        "expiresIn": 3599,
        "refreshToken": "rt-2",
        "scope": "openid email",
        "idToken": id_token(),
        "idTokenPayload": expected_payload(),
        "session_state": "s1"
    })
}

// ---------------------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------------------

#[test]
fn parse_success_from_a_file() {
    let path = file("success.json", success_body().as_bytes());
    let out = run(&["parse", path.to_str().expect("UTF-8 path")], None);
    assert_eq!(out.json(), expected_result());
    assert!(out.stdout.ends_with(b"\n"));
}

#[test]
fn parse_success_from_stdin_with_dash_and_without_argument() {
    for args in [&["parse", "-"][..], &["parse"][..]] {
        let out = run(args, Some(success_body().as_bytes()));
        assert_eq!(out.json(), expected_result(), "{args:?}");
    }
}

#[test]
fn parse_success_with_an_explicit_2xx_status() {
    for status in ["200", "201", "299"] {
        let out = run(&["parse", "--status", status, "-"], Some(success_body().as_bytes()));
        assert_eq!(out.json(), expected_result(), "{status}");
    }
}

#[test]
fn parse_status_400_invalid_grant_exits_3() {
    let body = br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#;
    let path = file("invalid_grant.json", body);
    let from_file = run(&["parse", path.to_str().expect("UTF-8 path"), "--status", "400"], None);
    assert!(from_file.failure(3).contains("invalid_grant"), "{}", from_file.stderr);
    let from_stdin = run(&["parse", "--status", "400"], Some(body));
    assert!(from_stdin.failure(3).contains("invalid_grant"), "{}", from_stdin.stderr);
}

#[test]
fn parse_oauth_error_with_a_200_exits_3() {
    let out =
        run(&["parse"], Some(br#"{"error":"invalid_client","access_token":"x","token_type":"Bearer"}"#));
    assert!(out.failure(3).contains("invalid_client"), "{}", out.stderr);
}

#[test]
fn parse_reachfive_error_exits_3_with_the_code() {
    let body = br#"{"error":"invalid_request","error_id":"e1","error_user_msg":"Oops","error_message_key":"k","error_details":[{"field":"refresh_token","message":"Required","code":"missing"}]}"#;
    let out = run(&["parse", "--status", "400", "-"], Some(body));
    assert!(out.failure(3).contains("invalid_request"), "{}", out.stderr);
}

#[test]
fn parse_html_502_exits_4() {
    let body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n";
    let out = run(&["parse", "--status", "502"], Some(body));
    out.failure(4);
}

#[test]
fn parse_protocol_errors_exit_4() {
    let cases: &[(&str, &[u8])] = &[
        ("200", b""),
        ("500", b""),
        ("200", b"[]"),
        ("200", br#"{"token_type":"Bearer"}"#),
        ("200", br#"{"access_token":"a","token_type":"Bearer","expires_in":"60s"}"#),
        ("200", br#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#),
        ("200", b"{\"access_token\":\"\xff\",\"token_type\":\"Bearer\"}"),
        ("200", br#"{"access_token":"a","token_type":"Bearer"} trailing"#),
        ("200", br#"{"access_token":"a","token_type":"Bearer","id_token":"a.b"}"#),
        ("302", br#"{"access_token":"a","token_type":"Bearer"}"#),
        ("100", br#"{"access_token":"a","token_type":"Bearer"}"#),
        ("400", b"{}"),
    ];
    for (status, body) in cases {
        let out = run(&["parse", "--status", status], Some(body));
        assert_eq!(out.code, Some(4), "{status} {:?}: {}", String::from_utf8_lossy(body), out.stderr);
        out.failure(4);
    }
}

#[test]
fn parse_failure_lines_never_show_a_token() {
    // A rotated refresh token in a broken 200: exit 4, and the line does not show it.
    let out = run(&["parse"], Some(br#"{"token_type":"Bearer","refresh_token":"rt-rotated-9"}"#));
    let line = out.failure(4);
    assert!(!line.contains("rt-rotated-9"), "{line}");
    // A server echoing a long token in its description: the code shows, the token does not.
    let echoed = "SECRETRTxxxxxxxxxxxxxxxxxxxxxxxx";
    let body =
        format!(r#"{{"error":"invalid_grant","error_description":"refresh token {echoed} is invalid"}}"#);
    let out = run(&["parse", "--status", "400"], Some(body.as_bytes()));
    let line = out.failure(3);
    assert!(line.contains("invalid_grant"), "{line}");
    assert!(!line.contains(echoed), "{line}");
    // A description with newlines still gives one line.
    let out = run(
        &["parse", "--status", "400"],
        Some(br#"{"error":"invalid_scope","error_description":"line one\nline two\r\nthree"}"#),
    );
    assert!(out.failure(3).contains("invalid_scope"));
}

#[test]
fn parse_unreadable_file_exits_2() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_parse").join("does-not-exist.json");
    let out = run(&["parse", missing.to_str().expect("UTF-8 path")], None);
    out.failure(2);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let out = run(&["parse", dir.to_str().expect("UTF-8 path")], None);
    out.failure(2);
}

#[test]
fn parse_bad_status_exits_2() {
    for status in ["42", "99", "1000", "abc", "-1", "70000", ""] {
        let out = run(&["parse", "--status", status, "-"], Some(success_body().as_bytes()));
        out.usage_error();
    }
}

// ---------------------------------------------------------------------------------------
// decode-id-token
// ---------------------------------------------------------------------------------------

#[test]
fn decode_id_token_trims_surrounding_whitespace() {
    let token = id_token();
    for arg in [token.clone(), format!("  {token}\n"), format!("\n\t{token} \r\n")] {
        let out = run(&["decode-id-token", &arg], None);
        assert_eq!(out.json(), expected_payload(), "{arg:?}");
    }
    for args in [&["decode-id-token", "-"][..], &["decode-id-token"][..]] {
        let out = run(args, Some(format!("\n {token}\n\n").as_bytes()));
        assert_eq!(out.json(), expected_payload(), "{args:?}");
    }
}

#[test]
fn decode_malformed_id_token_exits_4() {
    let h = b64(r#"{"alg":"RS256"}"#);
    let p = b64(r#"{"sub":"x"}"#);
    for token in [
        format!("{h}.{p}"),
        format!("{h}.{p}.c2ln.x.y"),
        format!("{h}.{p}=.c2ln"),
        format!("{h}.{}.c2ln", b64("[]")),
        format!("{h}.{}.c2ln", b64(r#"{"sub":"a","sub":"b"}"#)),
        format!("{h}.{}.c2ln", b64(r#"{"aud":1}"#)),
        format!("{h}.{}.c2ln", b64(r#"{"email_verified":"yes"}"#)),
        "not a token".to_owned(),
        format!("{h} .{p}.c2ln"),
    ] {
        let out = run(&["decode-id-token", &token], None);
        let line = out.failure(4);
        assert!(!line.contains(&p), "the token does not show: {line}");
        let out = run(&["decode-id-token"], Some(token.as_bytes()));
        out.failure(4);
    }
}

#[test]
fn decode_empty_input_exits_4() {
    let out = run(&["decode-id-token", "-"], Some(b"  \n"));
    out.failure(4);
}
