//! `oidc-refresh store init` and `store show`, and the store selection they share with
//! `token`: `--store`, `OIDC_REFRESH_STORE` (which `--store` overrides), and a Redis URL, which
//! this build refuses with exit 2 without connecting anywhere.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh::store::{FileStore, TokenStore};
use oidc_refresh_testing::provider::{Provider, field};
use serde_json::{Value, json};

use crate::common::{bin, mode, path, stderr_line};

const STORE_ENV: &str = "OIDC_REFRESH_STORE";

/// An unsigned ID token that decodes (`store init` decodes the previous ID token, no more).
fn id_token(sub: &str) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
    format!(
        "{}.{}.",
        part(json!({"alg": "none"})),
        part(json!({"iss": "https://id.example", "sub": sub, "aud": "app", "exp": 4_000_000_000_u64}))
    )
}

/// A temporary folder with helpers for files in it.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `content` to `name` and returns its path.
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.join(name);
        fs::write(&p, content).unwrap();
        p
    }

    /// The names of the files in the folder, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

/// `oidc-refresh store ARGS...`, with no store in the environment and no logs.
fn store_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("store").args(args).env_remove(STORE_ENV).env_remove("RUST_LOG");
    cmd
}

fn json_file(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// A successful run that printed nothing at all.
fn silent_success(out: &Output) {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A successful `show`: its JSON, nothing on stderr.
fn shown(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A failed run: exit 2, nothing on stdout, and the one line on stderr.
fn usage_failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    stderr_line(out)
}

#[test]
fn init_then_show_redacts_every_token_and_keeps_the_other_members() {
    let dir = Dir::new();
    let jwt = id_token("user-1");
    let rt = dir.file("rt", "\n  rt-secret-0123456789 \t\n");
    let id = dir.file("id", &format!(" {jwt}\n\n"));
    let store = dir.join("tokens.json");

    let out = store_cmd(&["init", "--store", path(&store)])
        .args(["--refresh-token-file", path(&rt), "--id-token-file", path(&id)])
        .output()
        .unwrap();
    silent_success(&out);
    // The store's JSON, surrounding whitespace of the files ignored, owner-only.
    assert_eq!(json_file(&store), json!({"refresh_token": "rt-secret-0123456789", "id_token": jwt}));
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(&dir.join("tokens.json.lock")), 0o600, "the lock file `token` uses");
    // The files read are left as they were.
    assert_eq!(fs::read_to_string(&rt).unwrap(), "\n  rt-secret-0123456789 \t\n");

    let out = store_cmd(&["show", "--store", path(&store)]).output().unwrap();
    assert_eq!(shown(&out), json!({"refresh_token": "<redacted>", "id_token": "<redacted>"}));

    // A store `token` has refreshed: every token redacted, the other members as stored.
    let full = json!({
        "refresh_token": "rt-secret-0123456789",
        "access_token": "at-secret-0123456789",
        "id_token": jwt,
        "token_type": "DPoP",
        "scope": "openid offline_access",
        "expires_at": 1_700_003_600_u64,
    });
    fs::write(&store, serde_json::to_vec(&full).unwrap()).unwrap();
    let before = fs::read(&store).unwrap();
    let out = store_cmd(&["show", "--store", path(&store)]).output().unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        shown(&out),
        json!({
            "refresh_token": "<redacted>",
            "access_token": "<redacted>",
            "id_token": "<redacted>",
            "token_type": "DPoP",
            "scope": "openid offline_access",
            "expires_at": 1_700_003_600_u64,
        })
    );
    for secret in ["rt-secret", "at-secret", jwt.split('.').nth(1).unwrap()] {
        assert!(!stdout.contains(secret), "{secret} shown: {stdout}");
    }
    assert_eq!(fs::read(&store).unwrap(), before, "show writes nothing");
}

#[test]
fn init_without_an_id_token_or_with_a_missing_or_empty_one_stores_none() {
    let dir = Dir::new();
    let rt = dir.file("rt", "rt-1\n");
    let empty = dir.file("empty-id", " \n");
    let missing = dir.join("missing-id");
    let cases: [&[&str]; 3] = [&[], &["--id-token-file", path(&missing)], &["--id-token-file", path(&empty)]];
    for (i, extra) in cases.into_iter().enumerate() {
        let store = dir.join(&format!("s{i}.json"));
        let out = store_cmd(&["init", "--store", path(&store), "--refresh-token-file", path(&rt)])
            .args(extra)
            .output()
            .unwrap();
        silent_success(&out);
        assert_eq!(json_file(&store), json!({"refresh_token": "rt-1"}), "{extra:?}");
    }
    assert!(!missing.exists(), "init does not create the ID token file");
}

#[test]
fn init_with_an_unusable_file_is_exit_2_and_writes_nothing() {
    let dir = Dir::new();
    let good_rt = dir.file("rt", "rt-1");
    let cases = [
        ("a missing refresh token file", path(&dir.join("nope")).to_owned(), None, "nope"),
        ("an empty refresh token", path(&dir.file("empty", "\n \n")).to_owned(), None, "empty"),
        ("a refresh token outside ASCII", path(&dir.file("non-ascii", "rt-é")).to_owned(), None, "non-ascii"),
        (
            "a folder as ID token file",
            path(&good_rt).to_owned(),
            Some(path(dir.0.path()).to_owned()),
            "ID token",
        ),
        (
            "an undecodable ID token",
            path(&good_rt).to_owned(),
            Some(path(&dir.file("id", "not.a.jwt")).to_owned()),
            "cannot be decoded",
        ),
    ];
    for (what, rt, id, needle) in cases {
        let store = dir.join("tokens.json");
        let mut cmd = store_cmd(&["init", "--store", path(&store), "--refresh-token-file", &rt]);
        if let Some(id) = &id {
            cmd.args(["--id-token-file", id]);
        }
        let line = usage_failure(&cmd.output().unwrap());
        assert!(line.contains(needle), "{what}: {line}");
        assert!(
            !store.exists() && !dir.join("tokens.json.lock").exists(),
            "{what}: the store is not touched"
        );
    }
    // A store whose folder does not exist.
    let out = store_cmd(&["init", "--store", "/nonexistent/folder/tokens.json", "--refresh-token-file"])
        .arg(path(&good_rt))
        .output()
        .unwrap();
    assert!(usage_failure(&out).contains("/nonexistent/folder/tokens.json"));
}

#[test]
fn init_replaces_whatever_the_store_held_under_its_lock() {
    let dir = Dir::new();
    let store = dir.join("tokens.json");
    let rt = dir.file("rt", "rt-new");
    // A store in use, and a malformed one: init writes a new token set over either.
    for old in [
        json!({"refresh_token": "rt-old", "access_token": "at-old", "id_token": id_token("u"),
               "token_type": "Bearer", "scope": "openid", "expires_at": 9_999_999_999_u64})
        .to_string(),
        "{not json".to_owned(),
    ] {
        fs::write(&store, &old).unwrap();
        let file_store = FileStore::new(&store);
        let guard = file_store.lock().unwrap();
        let mut child = store_cmd(&["init", "--store", path(&store), "--refresh-token-file", path(&rt)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        assert!(child.try_wait().unwrap().is_none(), "init waits for the lock");
        assert_eq!(fs::read_to_string(&store).unwrap(), old, "nothing is written without the lock");
        drop(guard);
        silent_success(&child.wait_with_output().unwrap());
        assert_eq!(json_file(&store), json!({"refresh_token": "rt-new"}), "a new token set, nothing kept");
        assert_eq!(mode(&store), 0o600);
    }
    assert_eq!(dir.names(), ["rt", "tokens.json", "tokens.json.lock"], "no temporary file is left");
}

#[test]
fn show_of_a_malformed_store_is_exit_2_and_leaves_it_untouched() {
    let dir = Dir::new();
    let secretish = "at-secret-value-0123456789";
    let cases = [
        ("empty", String::new()),
        ("not JSON", format!("refresh_token={secretish}")),
        ("an array", "[]".to_owned()),
        ("no refresh_token", format!(r#"{{"access_token":"{secretish}"}}"#)),
        ("a string expires_at", format!(r#"{{"refresh_token":"rt","expires_at":"{secretish}"}}"#)),
        ("an empty refresh_token", r#"{"refresh_token":""}"#.to_owned()),
        ("an undecodable id_token", r#"{"refresh_token":"rt","id_token":"not.a.jwt"}"#.to_owned()),
    ];
    let store = dir.join("tokens.json");
    for (what, content) in &cases {
        fs::write(&store, content).unwrap();
        let line = usage_failure(&store_cmd(&["show", "--store", path(&store)]).output().unwrap());
        assert!(line.contains("tokens.json") && line.contains("malformed"), "{what}: {line}");
        assert!(!line.contains(secretish), "{what}: {line}");
        assert_eq!(fs::read_to_string(&store).unwrap(), *content, "{what}: untouched");
    }
    assert_eq!(dir.names(), ["tokens.json"], "show takes no lock and writes nothing");

    // A missing store: exit 2 too, and nothing is created.
    fs::remove_file(&store).unwrap();
    let line = usage_failure(&store_cmd(&["show", "--store", path(&store)]).output().unwrap());
    assert!(line.contains("tokens.json") && line.contains("does not exist"), "{line}");
    assert!(dir.names().is_empty());
}

#[test]
fn the_environment_names_the_store_when_store_is_absent() {
    let dir = Dir::new();
    let rt = dir.file("rt", "rt-env");
    let from_env = dir.join("env.json");
    let out =
        store_cmd(&["init", "--refresh-token-file", path(&rt)]).env(STORE_ENV, &from_env).output().unwrap();
    silent_success(&out);
    assert_eq!(json_file(&from_env), json!({"refresh_token": "rt-env"}));
    let out = store_cmd(&["show"]).env(STORE_ENV, &from_env).output().unwrap();
    assert_eq!(shown(&out), json!({"refresh_token": "<redacted>"}));

    // Neither --store nor the variable (or an empty one): exit 2, naming both.
    for env in [None, Some("")] {
        let mut cmd = store_cmd(&["show"]);
        if let Some(v) = env {
            cmd.env(STORE_ENV, v);
        }
        let line = usage_failure(&cmd.output().unwrap());
        assert!(line.contains("--store") && line.contains(STORE_ENV), "{line}");
    }
}

#[test]
fn store_wins_over_the_environment() {
    let dir = Dir::new();
    let rt = dir.file("rt", "rt-flag");
    let from_env = dir.join("env.json");
    let from_flag = dir.join("flag.json");
    let out = store_cmd(&["init", "--store", path(&from_flag), "--refresh-token-file", path(&rt)])
        .env(STORE_ENV, &from_env)
        .output()
        .unwrap();
    silent_success(&out);
    assert_eq!(json_file(&from_flag), json!({"refresh_token": "rt-flag"}));
    assert!(!from_env.exists() && !dir.join("env.json.lock").exists(), "the variable's store is not touched");

    // show reads the flag's store, not the (malformed) one the variable names.
    fs::write(&from_env, "{").unwrap();
    let out = store_cmd(&["show", "--store", path(&from_flag)]).env(STORE_ENV, &from_env).output().unwrap();
    assert_eq!(shown(&out), json!({"refresh_token": "<redacted>"}));
    // And the variable alone does name the malformed one.
    let line = usage_failure(&store_cmd(&["show"]).env(STORE_ENV, &from_env).output().unwrap());
    assert!(line.contains("env.json"), "{line}");
}

#[test]
#[cfg(not(feature = "redis"))]
fn a_redis_store_is_exit_2_in_a_build_without_redis_and_never_connects() {
    let dir = Dir::new();
    let rt = dir.file("rt", "rt-1");
    // A listener where the URL points: this build must not even connect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let password = "pw-s3cret-0123456789";
    let token_args = ["token", "--token-endpoint", "http://127.0.0.1:1/token", "--client-id", "app"];
    for scheme in ["redis", "rediss", "REDIS"] {
        let url = format!("{scheme}://user:{password}@127.0.0.1:{port}/0");
        let runs: Vec<(&str, Command)> = vec![
            ("init", {
                let mut c = store_cmd(&["init", "--store", &url, "--store-key", "k"]);
                c.args(["--refresh-token-file", path(&rt)]);
                c
            }),
            ("show", store_cmd(&["show", "--store", &url, "--store-key", "k"])),
            ("show from the environment", {
                let mut c = store_cmd(&["show", "--store-key", "k"]);
                c.env(STORE_ENV, &url);
                c
            }),
            ("token from the environment (default key)", {
                let mut c = Command::new(bin());
                c.args(token_args).env(STORE_ENV, &url).env_remove("RUST_LOG");
                c
            }),
        ];
        for (what, mut cmd) in runs {
            let line = usage_failure(&cmd.output().unwrap());
            assert!(line.contains("no Redis store"), "{what}: {line}");
            assert!(!line.contains(password), "{what}: {line}");
        }
        // Without a client id, the store commands need --store-key for Redis.
        let line = usage_failure(&store_cmd(&["show", "--store", &url]).output().unwrap());
        assert!(line.contains("--store-key") && !line.contains(password), "{line}");
    }
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "nothing connected to the Redis URL"
    );
    assert_eq!(dir.names(), ["rt"], "no file store was made of the URL");
}

#[test]
fn token_uses_the_store_init_wrote_and_the_environment_named() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let dir = Dir::new();
    let rt = dir.file("rt", field(&login, "refresh_token"));
    let id = dir.file("id", field(&login, "id_token"));
    let store = dir.join("tokens.json");
    let out = store_cmd(&["init", "--refresh-token-file", path(&rt), "--id-token-file", path(&id)])
        .env(STORE_ENV, &store)
        .output()
        .unwrap();
    silent_success(&out);

    let token = |env: &Path, flag: Option<&Path>| {
        let mut cmd = Command::new(bin());
        cmd.args(["token", "--issuer", &p.issuer, "--client-id", "public-client"])
            .env(STORE_ENV, env)
            .env_remove("RUST_LOG")
            .env_remove("OIDC_REFRESH_CLIENT_SECRET");
        if let Some(flag) = flag {
            cmd.arg("--store").arg(flag);
        }
        cmd.output().unwrap()
    };
    let before = p.stats();
    let out = token(&store, None);
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let stored = json_file(&store);
    assert_eq!(printed, format!("{}\n", stored["access_token"].as_str().unwrap()), "the stored access token");
    assert_ne!(stored["refresh_token"], field(&login, "refresh_token"), "the provider rotates");
    assert_eq!((p.stats().0 - before.0, p.stats().1 - before.1), (1, 0), "one refresh grant, no error");
    assert_eq!(mode(&store), 0o600);

    // --store wins over the variable: here the variable names a malformed store, and the run
    // takes the fresh token from the flag's store without a request.
    let malformed = dir.file("malformed.json", "{");
    let out = token(&malformed, Some(&store));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), printed, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(&malformed).unwrap(), "{");
    // The variable alone names the malformed store: exit 2, no request.
    let out = token(&malformed, None);
    assert!(usage_failure(&out).contains("malformed.json"));
    assert_eq!((p.stats().0 - before.0, p.stats().1 - before.1), (1, 0), "no other request");

    // show: what token stored, tokens redacted.
    let out = store_cmd(&["show", "--store", path(&store)]).output().unwrap();
    let v = shown(&out);
    assert_eq!(v["refresh_token"], "<redacted>");
    assert_eq!(v["access_token"], "<redacted>");
    assert_eq!(v["id_token"], "<redacted>");
    assert_eq!(v["token_type"], stored["token_type"]);
    assert_eq!(v["expires_at"], stored["expires_at"]);
}

#[test]
fn a_store_that_is_json_but_not_an_object_is_exit_2_for_show_and_token_and_sends_nothing() {
    let p = Provider::start();
    let dir = Dir::new();
    let store = dir.join("tokens.json");
    let secretish = "rt-secret-value-0123456789";
    let six = format!(r#"["{secretish}","at-secret-value-0123456789","Bearer","openid",null,99999999999]"#);
    let cases = [
        ("an array", format!(r#"["{secretish}"]"#)),
        ("an array", six),
        ("a string", format!(r#""{secretish}""#)),
        ("a number", "1234567".to_owned()),
    ];
    let before = p.stats();
    for (what, content) in &cases {
        fs::write(&store, content).unwrap();
        let line = usage_failure(&store_cmd(&["show", "--store", path(&store)]).output().unwrap());
        assert!(line.contains("tokens.json") && line.contains(&format!("holds {what}")), "{what}: {line}");
        assert!(!line.contains("secret") && !line.contains("1234567"), "{what}: {line}");
        let out = Command::new(bin())
            .args(["token", "--issuer", &p.issuer, "--client-id", "public-client", "--store", path(&store)])
            .env_remove(STORE_ENV)
            .env_remove("RUST_LOG")
            .env_remove("OIDC_REFRESH_CLIENT_SECRET")
            .output()
            .unwrap();
        let line = usage_failure(&out);
        assert!(line.contains("malformed") && line.contains(&format!("holds {what}")), "{what}: {line}");
        assert!(!line.contains("secret"), "{what}: {line}");
        assert_eq!(fs::read_to_string(&store).unwrap(), *content, "{what}: untouched");
    }
    assert_eq!(p.stats(), before, "nothing was sent");
}

#[test]
fn members_of_another_tool_survive_a_refresh_by_token() {
    let p = Provider::start();
    let login = p.login("public-client", None);
    let dir = Dir::new();
    let store = dir.join("tokens.json");
    let rt = field(&login, "refresh_token");
    let stored = json!({"refresh_token": rt, "x-other-tool": {"a": 1}});
    fs::write(&store, serde_json::to_vec(&stored).unwrap()).unwrap();
    let out = Command::new(bin())
        .args(["token", "--issuer", &p.issuer, "--client-id", "public-client", "--store", path(&store)])
        .env_remove(STORE_ENV)
        .env_remove("RUST_LOG")
        .env_remove("OIDC_REFRESH_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    let after = json_file(&store);
    assert_ne!(after["refresh_token"], rt, "the provider rotates");
    assert_eq!(
        format!("{}\n", after["access_token"].as_str().unwrap()),
        String::from_utf8(out.stdout).unwrap()
    );
    assert_eq!(after["x-other-tool"], json!({"a": 1}), "{after}");
    // show reads such a store (it shows the token set's members only).
    let v = shown(&store_cmd(&["show", "--store", path(&store)]).output().unwrap());
    assert_eq!(v["refresh_token"], "<redacted>");
}
