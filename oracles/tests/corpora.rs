//! Replays the committed fuzz inputs on stable: every file under `fuzz/seeds/<target>/` and
//! `fuzz/regressions/<target>/` goes through the same input decoding and the same invariant
//! checks as the cargo-fuzz target of that name (both call `oidc_refresh_oracles::<target>::run`),
//! so CI keeps them green without nightly or cargo-fuzz.
//!
//! An empty or missing seed folder fails the test: it must never pass by testing nothing.

// Tests fail by panicking: `expect`/`unwrap`/`panic!` are how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use oidc_refresh_core::{Algorithm, JwkSet, SignatureError, verify_signature};
use oidc_refresh_oracles::common::panic_message;
use oidc_refresh_oracles::session::{SessionStats, run_with_stats};
use oidc_refresh_oracles::{TARGETS, Target};

/// The fuzz crate's folder, beside this crate's.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Runs every file of `dir` through `check`; returns how many ran, panics listing every
/// file that failed.
fn replay(dir: &Path, check: Target) -> usize {
    let inputs = files(dir);
    let mut failures = Vec::new();
    for path in &inputs {
        let data = std::fs::read(path).expect("a readable input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            failures.push(format!("{}: {}", path.display(), panic_message(&*panic)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs fail:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
    inputs.len()
}

fn target(name: &str) -> Target {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).expect("a known target")
}

fn seeds(name: &str) {
    let dir = fuzz_dir().join("seeds").join(name);
    let n = replay(&dir, target(name));
    assert!(n > 0, "no seeds in {}: the corpus replay would test nothing", dir.display());
}

fn regressions(name: &str) {
    replay(&fuzz_dir().join("regressions").join(name), target(name));
}

#[test]
fn token_response_seeds() {
    seeds("token_response");
}

#[test]
fn error_response_seeds() {
    seeds("error_response");
}

#[test]
fn id_token_seeds() {
    seeds("id_token");
}

#[test]
fn scope_and_refresh_token_seeds() {
    seeds("scope_and_refresh_token");
}

#[test]
fn discovery_seeds() {
    seeds("discovery");
}

#[test]
fn session_seeds() {
    seeds("session");
}

#[test]
fn key_set_seeds() {
    seeds("key_set");
}

#[test]
fn verify_seeds() {
    seeds("verify");
}

/// The `key_set` seeds, together, hold a key of every type this crate verifies with, and
/// bodies that are refused.
#[test]
fn key_set_seeds_read_every_key_type() {
    let (mut shown, mut refused) = (String::new(), 0);
    for path in files(&fuzz_dir().join("seeds").join("key_set")) {
        match JwkSet::parse(&std::fs::read(&path).expect("a readable input")) {
            Ok(set) => shown.push_str(&format!("{set:?}")),
            Err(_) => refused += 1,
        }
    }
    for kty in ["RSA", "EC", "OKP"] {
        assert!(shown.contains(&format!("kty: {kty:?}")), "no key_set seed holds a usable {kty} key");
    }
    assert!(refused > 0, "no key_set seed is refused");
}

/// The `verify` seeds, together, verify a token of every algorithm and are refused for every
/// reason: a checker change that silently stopped them short would make the replay hollow.
#[test]
fn verify_seeds_reach_every_outcome() {
    let (mut verified, mut refused) = (Vec::new(), Vec::new());
    for path in files(&fuzz_dir().join("seeds").join("verify")) {
        match oidc_refresh_oracles::verify::run_with(
            verify_signature,
            &std::fs::read(&path).expect("an input"),
        ) {
            Ok(alg) => verified.push(alg),
            Err(e) => refused.push(e),
        }
    }
    let missing: Vec<String> = Algorithm::ALL
        .iter()
        .filter(|a| !verified.contains(a))
        .map(|a| format!("{a} verified"))
        .chain(
            [
                SignatureError::AlgNone,
                SignatureError::UnsupportedAlg,
                SignatureError::AlgNotAllowed,
                SignatureError::CritHeader,
                SignatureError::Malformed,
                SignatureError::UnknownKid,
                SignatureError::NoCandidate,
                SignatureError::Ambiguous,
                SignatureError::WeakKey,
                SignatureError::NoSecret,
                SignatureError::BadSignature,
            ]
            .into_iter()
            .filter(|e| !refused.contains(e))
            .map(|e| format!("{e:?}")),
        )
        .collect();
    assert!(missing.is_empty(), "no verify seed reaches: {missing:?}");
}

/// The `session` seeds, together, reach every path of the state machine they were written
/// for: a checker change that silently stopped them short would make the replay hollow.
#[test]
fn session_seeds_reach_every_path() {
    let mut reached = SessionStats::default();
    for path in files(&fuzz_dir().join("seeds").join("session")) {
        let s = run_with_stats(&std::fs::read(&path).expect("a readable input"));
        for (total, n) in [
            (&mut reached.ready, s.ready),
            (&mut reached.ready_with_error, s.ready_with_error),
            (&mut reached.ready_expired_once, s.ready_expired_once),
            (&mut reached.retry, s.retry),
            (&mut reached.wait, s.wait),
            (&mut reached.sign_in, s.sign_in),
            (&mut reached.adopted, s.adopted),
            (&mut reached.rotated, s.rotated),
            (&mut reached.rotated_in_error, s.rotated_in_error),
            (&mut reached.rotation_stored, s.rotation_stored),
            (&mut reached.store_failed, s.store_failed),
            (&mut reached.rotated_surfaced, s.rotated_surfaced),
            (&mut reached.identity_discarded, s.identity_discarded),
            (&mut reached.invalidated, s.invalidated),
            (&mut reached.abandoned, s.abandoned),
            (&mut reached.other_writes, s.other_writes),
        ] {
            *total += n;
        }
    }
    let missing: Vec<&str> = [
        ("Ready", reached.ready),
        ("Ready with a refresh error", reached.ready_with_error),
        ("Ready once with an expired token", reached.ready_expired_once),
        ("a retry", reached.retry),
        ("Wait", reached.wait),
        ("SignIn", reached.sign_in),
        ("a stored set adopted", reached.adopted),
        ("a rotation", reached.rotated),
        ("a rotated token in a broken response", reached.rotated_in_error),
        ("a rotated token written", reached.rotation_stored),
        ("a failed write", reached.store_failed),
        ("an error carrying an unwritten rotated token", reached.rotated_surfaced),
        ("another identity's rotated token dropped", reached.identity_discarded),
        ("an access token reported invalid", reached.invalidated),
        ("an abandoned step", reached.abandoned),
        ("another process writing the store", reached.other_writes),
    ]
    .into_iter()
    .filter(|(_, n)| *n == 0)
    .map(|(what, _)| what)
    .collect();
    assert!(missing.is_empty(), "no session seed reaches: {missing:?}");
}

#[test]
fn regressions_replay() {
    for (name, _) in TARGETS {
        regressions(name);
    }
}

/// Every folder under `fuzz/seeds/` and `fuzz/regressions/` belongs to a target this test
/// replays, and every target has its seeds.
#[test]
fn corpus_folders_match_the_targets() {
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else { continue };
        for entry in entries {
            let name = entry.expect("a readable directory entry").file_name().to_string_lossy().into_owned();
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name),
                "fuzz/{kind}/{name} is not a fuzz target replayed here: add it to oidc_refresh_oracles::TARGETS"
            );
        }
    }
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not a target of fuzz/Cargo.toml"
        );
        // The target runs the very oracle replayed here.
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&path).expect("the fuzz target's source");
        assert!(
            source.contains(&format!("oidc_refresh_oracles::{name}::run(data)")),
            "{} does not call oidc_refresh_oracles::{name}::run",
            path.display()
        );
    }
}
