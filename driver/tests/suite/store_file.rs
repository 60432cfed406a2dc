//! `oidc_refresh_driver::store::FileStore`: the store's JSON shape and permissions, the lock
//! across threads and processes, and crash safety: a writer killed with SIGKILL at random
//! moments never leaves the store torn or empty, and a killed lock holder never leaves it
//! locked.
//!
//! Child processes are this test binary run again with `STORE_FILE_CHILD` set: the
//! `child_process` test then plays the role it names and the parent watches it.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use oidc_refresh_core::{AccessToken, IdToken, RefreshToken, TokenSet};
use oidc_refresh_driver::store::{FileStore, FileStoreErrorKind};
use oidc_refresh_driver::store::{StoreGuard, TokenStore};

const CHILD_ENV: &str = "STORE_FILE_CHILD";
const LOCKED: &str = "CHILD-HOLDS-THE-LOCK";

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("the file exists").permissions().mode() & 0o777
}

fn full_set(tag: &str, size: usize) -> TokenSet {
    TokenSet {
        refresh_token: RefreshToken::new(format!("rt-{tag}-{}", "r".repeat(size))),
        access_token: Some(AccessToken::new(format!("at-{tag}-{}", "a".repeat(size)))),
        id_token: Some(IdToken::new(format!("id-{tag}"))),
        token_type: Some("Bearer".into()),
        scope: Some("openid email".into()),
        expires_at: Some(1_700_000_000),
    }
}

/// The store's content, counting in `expires_at` (for the mutual-exclusion tests).
fn counter_set(n: u64) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new("rt-counter"));
    set.expires_at = Some(n);
    set
}

/// Adds one to the counter under the lock, with a pause between read and write that a
/// missing lock would turn into lost updates.
fn increment(store: &FileStore) {
    let mut guard = store.lock().expect("the store locks");
    let n = guard.load().expect("the store reads").and_then(|s| s.expires_at).unwrap_or(0);
    thread::sleep(Duration::from_micros(200));
    guard.save(&counter_set(n + 1)).expect("the store writes");
}

fn random_below(n: u64) -> u64 {
    RandomState::new().build_hasher().finish() % n
}

/// This test binary, run again to play `role` on the store at `path`.
fn spawn_child(role: &str, path: &Path) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "store_file::child_process", "--nocapture", "--test-threads=1", "--quiet"])
        .env(CHILD_ENV, format!("{role}:{}", path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts")
}

/// Waits until the child prints `marker`.
fn wait_for(stdout: &mut BufReader<ChildStdout>, marker: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("the child's stdout reads") > 0,
            "the child ended before printing {marker}"
        );
        if line.contains(marker) {
            return;
        }
    }
}

/// The file a "hold" child creates just before it unlocks.
fn released_marker(store: &Path) -> PathBuf {
    store.with_extension("released")
}

fn say(marker: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{marker}").expect("stdout writes");
    out.flush().expect("stdout flushes");
}

/// The child side: does nothing in an ordinary test run.
#[test]
fn child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let (role, path) = spec.split_once(':').unwrap();
    let store = FileStore::new(path);
    match role {
        // Holds the lock for 500 ms, creates FILE.released, then unlocks and exits.
        "hold" => {
            let guard = store.lock().unwrap();
            say(LOCKED);
            thread::sleep(Duration::from_millis(500));
            fs::write(released_marker(store.path()), "").unwrap();
            drop(guard);
        }
        // Holds the lock until killed.
        "hold-forever" => {
            let _guard = store.lock().unwrap();
            say(LOCKED);
            thread::sleep(Duration::from_secs(60));
        }
        "increment" => {
            for _ in 0..25 {
                increment(&store);
            }
        }
        // Saves two large token sets in turn, forever, under one lock.
        "save-loop" => {
            let mut guard = store.lock().unwrap();
            let (a, b) = (full_set("A", 256 * 1024), full_set("B", 256 * 1024));
            say(LOCKED);
            loop {
                guard.save(&b).unwrap();
                guard.save(&a).unwrap();
            }
        }
        other => panic!("unknown child role {other}"),
    }
}

#[test]
fn the_store_is_the_contract_json_owner_only_beside_an_owner_only_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    assert_eq!(store.load().unwrap(), None, "a store never written reads as None");

    let set = full_set("x", 3);
    {
        let mut guard = store.lock().unwrap();
        assert_eq!(guard.load().unwrap(), None);
        guard.save(&set).unwrap();
        assert_eq!(guard.load().unwrap().as_ref(), Some(&set), "the guard re-reads");
    }
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("}\n"), "one JSON object and a newline: {text:?}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_at", "id_token", "refresh_token", "scope", "token_type"]);
    assert_eq!(json["refresh_token"], "rt-x-rrr");
    assert_eq!(json["access_token"], "at-x-aaa");
    assert_eq!(json["id_token"], "id-x");
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "openid email");
    assert!(json["expires_at"].is_u64(), "an integer: {}", json["expires_at"]);
    assert_eq!(json["expires_at"], 1_700_000_000);
    assert_eq!(store.load().unwrap(), Some(set));

    assert_eq!(mode(&path), 0o600);
    let lock = dir.path().join("tokens.json.lock");
    assert_eq!(store.lock_path(), lock);
    assert_eq!(mode(&lock), 0o600);
    assert!(lock.exists(), "the lock file is never deleted");

    // Absent members are omitted, never null; a world-readable store becomes 0600.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let minimal = TokenSet::from_refresh_token(RefreshToken::new("only"));
    store.lock().unwrap().save(&minimal).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json, serde_json::json!({"refresh_token": "only"}));
    assert_eq!(mode(&path), 0o600);
    // Nothing else is left in the folder.
    let mut names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["tokens.json", "tokens.json.lock"]);

    // A store written by someone else, with unknown members, loads.
    fs::write(&path, r#"{"refresh_token":"rt","expires_at":5,"note":"kept by nobody"}"#).unwrap();
    let loaded = store.load().unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose_secret(), "rt");
    assert_eq!(loaded.expires_at, Some(5));
}

#[test]
fn seed_writes_an_empty_store_once_and_never_replaces_a_stored_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);

    // An empty store: written, the contract's JSON, owner-only.
    assert!(store.seed(RefreshToken::new("rt-seed")).unwrap());
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json, serde_json::json!({"refresh_token": "rt-seed"}));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(store.lock_path()), 0o600);

    // A stored set (a rotated refresh token, an access token): kept as it is.
    let rotated = full_set("rotated", 2);
    store.lock().unwrap().save(&rotated).unwrap();
    assert!(!store.seed(RefreshToken::new("rt-seed")).unwrap(), "the seed may be spent");
    assert_eq!(store.load().unwrap(), Some(rotated));

    // A malformed store is an error, and left untouched.
    fs::write(&path, b"{\"refresh_token\":").unwrap();
    let e = store.seed(RefreshToken::new("rt-seed")).unwrap_err();
    assert_eq!(e.kind(), FileStoreErrorKind::Malformed);
    assert_eq!(fs::read(&path).unwrap(), b"{\"refresh_token\":");
}

#[test]
fn seed_takes_the_lock_so_racing_seeders_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = Arc::new(FileStore::new(&path));

    // A holder of the lock writes a set before releasing it: a seeder waiting meanwhile
    // sees that set under the lock and keeps it.
    let mut guard = store.lock().unwrap();
    let waiting = {
        let store = Arc::clone(&store);
        thread::spawn(move || store.seed(RefreshToken::new("rt-late")).unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    guard.save(&full_set("holder", 1)).unwrap();
    drop(guard);
    assert!(!waiting.join().unwrap());
    assert_eq!(store.load().unwrap(), Some(full_set("holder", 1)));

    // Eight seeders of an empty store: exactly one writes, and its token is the stored one.
    fs::remove_file(&path).unwrap();
    let seeders: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            thread::spawn(move || (i, store.seed(RefreshToken::new(format!("rt-{i}"))).unwrap()))
        })
        .collect();
    let written: Vec<usize> =
        seeders.into_iter().map(|t| t.join().unwrap()).filter(|&(_, wrote)| wrote).map(|(i, _)| i).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let stored = store.load().unwrap().unwrap();
    assert_eq!(stored, TokenSet::from_refresh_token(RefreshToken::new(format!("rt-{}", written[0]))));
}

#[test]
fn a_malformed_store_is_an_error_that_never_shows_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let store = FileStore::new(&path);
    for bad in [
        "",
        "not json",
        "{",
        "[]",
        "{}",
        r#"{"access_token":"at-secret-value"}"#,
        r#"{"refresh_token":5}"#,
        r#"{"refresh_token":"rt","expires_at":"at-secret-value"}"#,
        r#"{"refresh_token":"rt","expires_at":1.5}"#,
        r#"{"refresh_token":"rt","refresh_token":"at-secret-value"}"#,
        r#"{"refresh_token":"rt"} trailing"#,
        r#"["at-secret-value"]"#,
        r#"["at-secret-value","at-secret-value","Bearer","openid",null,99999999999]"#,
        r#""at-secret-value""#,
        "1234567",
    ] {
        fs::write(&path, bad).unwrap();
        let e = store.load().unwrap_err();
        assert_eq!(e.kind(), FileStoreErrorKind::Malformed, "{bad:?}");
        assert_eq!(e.path(), path);
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("malformed") || shown.contains("Malformed"), "{shown}");
        assert!(!shown.contains("at-secret-value"), "{bad:?}: {shown}");
        let mut guard = store.lock().unwrap();
        assert_eq!(guard.load().unwrap_err().kind(), FileStoreErrorKind::Malformed);
    }
    // An unreadable store (a folder) is a read error; a missing folder a lock error.
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    assert_eq!(store.load().unwrap_err().kind(), FileStoreErrorKind::Read);
    let nowhere = FileStore::new(dir.path().join("missing/s.json"));
    assert_eq!(nowhere.load().unwrap(), None);
    let e = nowhere.lock().unwrap_err();
    assert_eq!(e.kind(), FileStoreErrorKind::Lock);
    assert!(e.to_string().contains("s.json.lock"), "{e}");
}

#[test]
fn the_lock_excludes_threads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("s.json")));
    store.lock().unwrap().save(&counter_set(0)).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for _ in 0..20 {
                    increment(&store);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.load().unwrap().unwrap().expires_at, Some(160), "no update lost");
}

#[test]
fn the_lock_excludes_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let store = FileStore::new(&path);
    store.lock().unwrap().save(&counter_set(0)).unwrap();
    let children: Vec<Child> = (0..4).map(|_| spawn_child("increment", &path)).collect();
    for _ in 0..25 {
        increment(&store);
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(store.load().unwrap().unwrap().expires_at, Some(125), "4 processes + this one, 25 each");
}

#[test]
fn a_second_locker_waits_for_the_holder_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let store = FileStore::new(&path);
    let mut child = spawn_child("hold", &path);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    wait_for(&mut stdout, LOCKED);
    assert!(store.try_lock().unwrap().is_none(), "held by the child");
    let guard = store.lock().unwrap();
    assert!(released_marker(&path).exists(), "lock() returned while the child still held the lock");
    assert!(child.wait().unwrap().success());
    drop(guard);
    assert!(store.try_lock().unwrap().is_some(), "unlocked when the guard dropped");
}

#[test]
fn a_lock_holder_killed_with_sigkill_never_leaves_the_store_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let store = FileStore::new(&path);
    for _ in 0..3 {
        let mut child = spawn_child("hold-forever", &path);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        wait_for(&mut stdout, LOCKED);
        assert!(store.try_lock().unwrap().is_none(), "held by the child");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // A process's files are closed before its parent can reap it: once `wait` returns,
        // the kernel has released the lock, so it is free at once (no waiting, no timing).
        let guard = store.try_lock().unwrap();
        assert!(guard.is_some(), "the kernel released the dead holder's lock");
        drop(guard);
    }
    assert!(store.lock_path().exists());
}

#[test]
#[allow(clippy::print_stderr)] // where the kills landed, for --nocapture
fn a_writer_killed_with_sigkill_mid_save_leaves_the_old_or_the_new_set() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("s.json");
    let store = FileStore::new(&path);
    let (a, b) = (full_set("A", 256 * 1024), full_set("B", 256 * 1024));
    // How long one save takes here (debug build, this disk, this load): the kills are
    // spread over the first four saves of each child.
    let timed = Instant::now();
    for _ in 0..3 {
        store.lock().unwrap().save(&a).unwrap();
    }
    let one_save = timed.elapsed() / 3;
    let spread = u64::try_from((one_save * 4).as_micros()).unwrap().max(1000);
    let (mut saw_a, mut saw_b, mut temporaries) = (0, 0, 0);
    let started = Instant::now();
    // At least 40 kills; more (up to 200) until some landed mid-save and on both sides.
    let mut rounds = 0;
    while rounds < 40 || ((temporaries == 0 || saw_a == 0 || saw_b == 0) && rounds < 200) {
        rounds += 1;
        let mut child = spawn_child("save-loop", &path);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        wait_for(&mut stdout, LOCKED);
        thread::sleep(Duration::from_micros(random_below(spread)));
        child.kill().unwrap(); // SIGKILL, at whatever step the save loop was
        child.wait().unwrap();
        let loaded = store.load().unwrap().expect("never empty or missing");
        if loaded == a {
            saw_a += 1;
        } else if loaded == b {
            saw_b += 1;
        } else {
            panic!("a torn store: {} bytes", fs::metadata(&path).unwrap().len());
        }
        temporaries += fs::read_dir(dir.path()).unwrap().count() - 2; // beyond the store and its lock
    }
    assert_eq!(saw_a + saw_b, rounds);
    // Evidence that kills landed mid-save (a temporary file left behind) and on both sides.
    eprintln!(
        "{rounds} kills in {:?} (one save: {one_save:?}): old/new {saw_a}/{saw_b}, temporary files left {temporaries}",
        started.elapsed()
    );
    assert!(temporaries > 0, "no kill landed between creating a temporary file and its rename");
    assert!(saw_a > 0 && saw_b > 0, "kills landed on one side only: {saw_a}/{saw_b}");
    // The next save under the lock removes what the killed writers left.
    store.lock().unwrap().save(&a).unwrap();
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    assert_eq!(store.load().unwrap(), Some(a));
}

#[test]
fn clear_removes_the_store_file_under_the_lock_and_keeps_the_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store.init(&full_set("x", 3)).unwrap();
    // A temporary file left by a writer killed before its rename goes too.
    let stray = dir.path().join(".tokens.json.oidc-refresh-aB3xY9.tmp");
    fs::write(&stray, "torn").unwrap();
    {
        let mut guard = store.lock().unwrap();
        guard.clear().unwrap();
        assert_eq!(guard.load().unwrap(), None, "cleared under the lock");
    }
    assert_eq!(store.load().unwrap(), None);
    assert!(!path.exists() && !stray.exists());
    assert!(store.lock_path().exists(), "the lock file is never deleted");
    let names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["tokens.json.lock"]);
    // Clearing an empty store does nothing; a new sign-in is stored as usual.
    store.clear().unwrap();
    store.init(&full_set("y", 3)).unwrap();
    assert_eq!(store.load().unwrap(), Some(full_set("y", 3)));
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_store_that_cannot_be_removed_is_a_remove_error_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the store file should be: nothing is removed.
    let path = dir.path().join("tokens.json");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("inside"), "kept").unwrap();
    let e = FileStore::new(&path).clear().unwrap_err();
    assert_eq!(e.kind(), FileStoreErrorKind::Remove, "{e}");
    assert!(e.to_string().contains("cannot remove the store"), "{e}");
    assert!(path.join("inside").exists());
}

/// A refresh waiting for the lock while the store is cleared (a revocation in another
/// process) finds the store empty: a store failure, never a request, never a write.
#[test]
fn a_refresh_waiting_for_the_lock_finds_a_cleared_store_empty() {
    use oidc_refresh_core::http::{Request, Response};
    use oidc_refresh_core::{ClientConfig, Error, Session};
    use oidc_refresh_driver::blocking::{Drive, Exchange};
    use oidc_refresh_driver::{StoreEmptied, SystemClock};

    struct NoServer;
    impl Exchange for NoServer {
        fn execute(&self, _: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
            panic!("nothing may be sent for a cleared store")
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("tokens.json"));
    store.init(&full_set("x", 3)).unwrap(); // its access token expired long ago
    let mut guard = store.lock().unwrap();
    let waiter = {
        let store = store.clone();
        thread::spawn(move || {
            let set = store.load().unwrap().unwrap(); // the lock-free first look
            let client = ClientConfig::new("https://id.example/token", "app").unwrap();
            let mut session = Session::new(client).with_tokens(set);
            Drive::new(&NoServer, &store, &SystemClock).run(&mut session)
        })
    };
    thread::sleep(Duration::from_millis(300)); // the waiter is blocked on the lock
    guard.clear().unwrap();
    drop(guard);
    let e = waiter.join().unwrap().unwrap_err();
    let Error::Store(store_error) = &e else { panic!("a store failure: {e:?}") };
    let cause = std::error::Error::source(&**store_error).unwrap();
    assert!(cause.downcast_ref::<StoreEmptied>().is_some(), "{e}");
    assert_eq!(store.load().unwrap(), None, "nothing was written back");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_async_clear_removes_the_store_file() {
    use oidc_refresh_driver::store::{AsyncStoreGuard, AsyncTokenStore};

    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("tokens.json"));
    TokenStore::init(&store, &full_set("x", 3)).unwrap();
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    AsyncStoreGuard::clear(&mut guard).await.unwrap();
    drop(guard);
    assert_eq!(AsyncTokenStore::load(&store).await.unwrap(), None);
    AsyncTokenStore::clear(&store).await.unwrap();
    assert!(!store.path().exists() && store.lock_path().exists());
}

use oidc_refresh_core::http::{Request as HttpRequest, Response as HttpResponse};

/// A server that answers every refresh with `rt-2` / `at-2`.
struct Rotates;

impl oidc_refresh_driver::blocking::Exchange for Rotates {
    fn execute(&self, _: HttpRequest<Vec<u8>>) -> Result<HttpResponse<Vec<u8>>, oidc_refresh_core::Error> {
        let body =
            br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#;
        Ok(HttpResponse::new(body.to_vec()))
    }
}

#[test]
fn json_that_is_not_an_object_is_never_read_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let store = FileStore::new(&path);
    let six = r#"["rt-secret","at-secret","Bearer","openid",null,99999999999]"#;
    for (bad, what) in
        [(r#"["rt-secret"]"#, "an array"), (six, "an array"), (r#""rt""#, "a string"), ("7", "a number")]
    {
        fs::write(&path, bad).unwrap();
        let e = store.load().unwrap_err();
        assert_eq!(e.kind(), FileStoreErrorKind::Malformed, "{bad}");
        assert!(e.to_string().contains(&format!("holds {what}, not a JSON object")), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), bad, "untouched");
    }
}

#[test]
fn members_of_another_tool_survive_a_refresh_and_init_replaces_them() {
    use oidc_refresh_core::{ClientConfig, Session};
    use oidc_refresh_driver::SystemClock;
    use oidc_refresh_driver::blocking::Drive;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    fs::write(&path, r#"{"refresh_token":"rt","x-other-tool":{"a":1}}"#).unwrap();
    let client = ClientConfig::new("https://id.example/token", "app").unwrap();
    let ready = Drive::new(&Rotates, &store, &SystemClock).run(&mut Session::new(client)).unwrap();
    assert_eq!(ready.access_token.expose_secret(), "at-2");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\n  \"refresh_token\": \"rt-2\",\n"), "{text}");
    assert!(text.contains("\"access_token\": \"at-2\""), "{text}");
    assert!(text.ends_with("\"x-other-tool\": {\n    \"a\": 1\n  }\n}\n"), "{text}");
    // A guard's save after its load keeps them too; one that loaded nothing (init) does not.
    let mut guard = store.lock().unwrap();
    let set = guard.load().unwrap().unwrap();
    guard.save(&TokenSet::from_refresh_token(RefreshToken::new("rt-3"))).unwrap();
    drop(guard);
    assert!(fs::read_to_string(&path).unwrap().contains("x-other-tool"));
    store.init(&set).unwrap();
    assert!(!fs::read_to_string(&path).unwrap().contains("x-other-tool"));
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_async_guard_keeps_members_of_another_tool() {
    use oidc_refresh_driver::store::{AsyncStoreGuard, AsyncTokenStore};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    fs::write(&path, r#"{"refresh_token":"rt","x-other-tool":{"a":1}}"#).unwrap();
    let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
    let mut set = AsyncStoreGuard::load(&mut guard).await.unwrap().unwrap();
    set.refresh_token = RefreshToken::new("rt-2");
    AsyncStoreGuard::save_if_unchanged(&mut guard, &set).await.unwrap();
    drop(guard);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"rt-2\"") && text.contains("\"x-other-tool\": {\n    \"a\": 1\n  }"), "{text}");
}
