//! The `key_set` target: every invariant of `JwkSet::parse` and `parse_key_set_response` on
//! one body, judged against the independent JWK reference ([`crate::reference::jws`]): a
//! JWK Set must be read, and read into exactly the keys the contract says are usable, in
//! order; anything else must be a `KeySetError` that shows no key material.
//!
//! Invariants: the same answer twice. A body the reference finds a JWK Set (a JSON object
//! whose `keys` is an array, no name repeated at any depth) is read; a body that is read is
//! such an object, and holds exactly the keys the reference finds usable, in the set's order
//! (`len`, `is_empty` and `kids` agreeing); its `Debug` lists each key once and shows no key
//! material (`n`, `e`, `x`, `y`, or a private member). A refusal is a one-line `KeySetError`
//! that quotes nothing of the body but a repeated member name. `parse_key_set_response` reads
//! a 2xx body exactly as `JwkSet::parse` does and refuses any other status, naming it.
//!
//! Input: the whole input, as the body.

use oidc_refresh_core::http::StatusCode;
use oidc_refresh_core::{Error, JwkSet, KeySetError, ProtocolErrorKind, parse_key_set_response};
use serde_json::Value;

use crate::common::response;
use crate::reference::json::{BodyRef, depth};
use crate::reference::jws::{Entry, read_set};

/// A JWK Set reader: the core's `JwkSet::parse`, or a stand-in.
pub type Parser = fn(&[u8]) -> Result<JwkSet, KeySetError>;

/// The whole body of the `key_set` fuzz target: the input as a key-set response body.
pub fn run(data: &[u8]) {
    check(data);
}

/// Every invariant of key-set parsing on one body (panics when one fails).
pub fn check(body: &[u8]) {
    check_with(JwkSet::parse, body);
}

/// Members of a JWK that hold key material (public or, in a set that should not hold them,
/// private): never shown by `Debug` or an error.
const MATERIAL: &[&str] = &["n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi", "k"];

/// [`check`] with `parse` in place of the core's `JwkSet::parse`.
pub fn check_with(parse: Parser, body: &[u8]) {
    let parsed = parse(body);
    let again = parse(body);
    assert_eq!(format!("{parsed:?}"), format!("{again:?}"), "JwkSet::parse is not deterministic");

    let reference = BodyRef::of(body);
    // A JWK Set by the contract (a JSON object whose `keys` is an array, no name repeated at
    // any depth, nesting well within the limits) must be read: an oracle that only checked
    // what the parser accepts would pass one that refused everything.
    let is_set = reference.object().is_some_and(|o| o.get("keys").is_some_and(Value::is_array))
        && !reference.any_dup
        && reference.value.as_ref().is_some_and(|v| depth(v) <= 48);
    if is_set {
        assert!(parsed.is_ok(), "a JWK Set was refused: {parsed:?}");
    }
    match &parsed {
        Ok(set) => {
            if let Some(value) = &reference.value {
                assert!(value.is_object(), "a body that is not a JSON object was read as a set");
                assert!(!reference.any_dup, "a repeated member name was accepted");
                let entries =
                    read_set(value).unwrap_or_else(|| panic!("a body without a `keys` array was read"));
                check_keys(set, &entries);
                check_debug(set, value);
            }
            let kids: Vec<Option<&str>> = set.kids().collect();
            assert_eq!(set.len(), kids.len(), "len() and kids() disagree");
            assert_eq!(set.is_empty(), kids.is_empty());
            assert_eq!(format!("{:?}", set.clone()), format!("{set:?}"), "a clone differs");
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!e.to_string().contains(['\n', '\r']), "an error message on more than one line: {e}");
            assert!(!e.reason().is_empty(), "an error without a reason");
            assert_no_material_in(&shown, body, e);
        }
    }
    check_responses(body);
}

/// The set holds exactly the usable keys of `entries`, in order (an [`Entry::Unsure`] key
/// may or may not be among them).
fn check_keys(set: &JwkSet, entries: &[Entry]) {
    let kids: Vec<Option<&str>> = set.kids().collect();
    let usable: Vec<Option<&str>> = entries
        .iter()
        .filter_map(|e| if let Entry::Key(k) = e { Some(k.kid.as_deref()) } else { None })
        .collect();
    let unsure = entries.iter().filter(|e| matches!(e, Entry::Unsure { .. })).count();
    if unsure == 0 {
        assert_eq!(kids, usable, "the keys read are not the usable keys of the set, in order");
    } else {
        assert!(
            (usable.len()..=usable.len() + unsure).contains(&kids.len()),
            "{} keys read, {} usable and {unsure} over-long RSA keys in the set",
            kids.len(),
            usable.len()
        );
    }
}

/// `Debug` shows each key's `kid` and `kty`, never its material.
fn check_debug(set: &JwkSet, value: &Value) {
    let shown = format!("{set:?}");
    assert_eq!(shown.matches("kty:").count(), set.len(), "Debug does not list each key once: {shown}");
    let Some(keys) = value.get("keys").and_then(Value::as_array) else { return };
    let kids: Vec<&str> = keys.iter().filter_map(|k| k.get("kid").and_then(Value::as_str)).collect();
    for key in keys.iter().filter_map(Value::as_object) {
        for name in MATERIAL {
            let Some(material) = key.get(*name).and_then(Value::as_str) else { continue };
            if material.len() >= 12 && !kids.iter().any(|k| k.contains(material)) {
                assert!(!shown.contains(material), "JwkSet's Debug shows the key material `{name}`: {shown}");
            }
        }
    }
}

/// An error about `body` does not quote it: no run of 16 or more base64url symbols of the body
/// appears in `shown`, unless the error names a repeated member name (a name is no secret).
fn assert_no_material_in(shown: &str, body: &[u8], e: &KeySetError) {
    if e.reason().contains("appears more than once") {
        return;
    }
    let text = String::from_utf8_lossy(body);
    for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        assert!(run.len() < 16 || !shown.contains(run), "the error shows the body: {run:?} in {shown:?}");
    }
}

/// `parse_key_set_response` reads a 2xx body as `JwkSet::parse` does (whatever the parser under
/// test, the core's response reader is compared with the core's own parser), and refuses every
/// other status.
fn check_responses(body: &[u8]) {
    let core = JwkSet::parse(body);
    for status in [200, 203] {
        let read = parse_key_set_response(&response(status, &[], body.to_vec()));
        match (&core, &read) {
            (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "HTTP {status}"),
            (Err(a), Err(b)) => assert_key_set_error(b, status, Some(a)),
            _ => panic!(
                "parse_key_set_response on HTTP {status} disagrees with JwkSet::parse: {read:?} / {core:?}"
            ),
        }
    }
    for status in [304, 404, 500] {
        let read = parse_key_set_response(&response(status, &[], body.to_vec()));
        let Err(e) = &read else { panic!("a key set read from HTTP {status}: {read:?}") };
        assert_key_set_error(e, status, None);
    }
}

fn assert_key_set_error(e: &Error, status: u16, same_as: Option<&KeySetError>) {
    let Error::Protocol(p) = e else { panic!("not a protocol error: {e:?}") };
    let ProtocolErrorKind::KeySet(k) = p.kind() else { panic!("not a key-set error: {e:?}") };
    if let Some(same_as) = same_as {
        assert_eq!(k, same_as, "HTTP {status}: another error than JwkSet::parse's");
    } else {
        assert!(k.reason().contains(&status.to_string()), "HTTP {status} not named: {k}");
    }
    assert_eq!(e.status(), StatusCode::from_u16(status).ok(), "the status is not kept");
    assert!(e.rotated_refresh_token().is_none());
    assert!(!e.to_string().contains(['\n', '\r']), "an error message on more than one line: {e}");
}
