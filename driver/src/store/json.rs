//! The store's JSON: the token set as a file store writes it (and a network store keeps it),
//! and its reading, whose errors never quote what they read (it holds tokens).

use oidc_refresh_core::TokenSet;

/// The JSON of `tokens` as every store of this crate keeps it: the contract's token set
/// object, pretty-printed, with a trailing newline.
///
/// ```
/// use oidc_refresh_core::{RefreshToken, TokenSet};
/// use oidc_refresh_driver::store::{from_store_json, to_store_json};
///
/// let set = TokenSet::from_refresh_token(RefreshToken::new("rt-1"));
/// let json = to_store_json(&set);
/// assert!(json.ends_with(b"\n"));
/// assert_eq!(from_store_json(&json)?, set);
/// # Ok::<(), oidc_refresh_driver::store::MalformedStore>(())
/// ```
#[must_use]
pub fn to_store_json(tokens: &TokenSet) -> Vec<u8> {
    to_store_json_keeping(tokens, &UnknownMembers::default())
}

/// [`to_store_json`] with the `unknown` members of the set's previous JSON written back after
/// the token set's own: what a store's guard writes after it read the set with
/// [`from_store_json_keeping`], so that another tool's (or a newer version's) members of the
/// object survive a refresh.
///
/// ```
/// use oidc_refresh_core::RefreshToken;
/// use oidc_refresh_driver::store::{from_store_json_keeping, to_store_json_keeping};
///
/// let (mut set, unknown) = from_store_json_keeping(br#"{"refresh_token":"rt-1","x-other":[1]}"#)?;
/// set.refresh_token = RefreshToken::new("rt-2");
/// let json = to_store_json_keeping(&set, &unknown);
/// let (again, kept) = from_store_json_keeping(&json)?;
/// assert_eq!((again, kept), (set, unknown));
/// # Ok::<(), oidc_refresh_driver::store::MalformedStore>(())
/// ```
#[must_use]
pub fn to_store_json_keeping(tokens: &TokenSet, unknown: &UnknownMembers) -> Vec<u8> {
    // A TokenSet is strings, integers and options of them, the unknown members JSON values:
    // serde_json cannot fail on either.
    let mut json = serde_json::to_vec_pretty(tokens).unwrap_or_default();
    if !unknown.is_empty() {
        // Both objects are printed at the same depth with the same indentation: the set's
        // members (never none: `refresh_token`), then the unknown ones, in one object.
        let rest = serde_json::to_vec_pretty(&unknown.0).unwrap_or_default();
        if let (Some(head), Some(tail)) = (json.strip_suffix(b"\n}"), rest.strip_prefix(b"{\n")) {
            json = [head, b",\n", tail].concat();
        }
    }
    json.push(b'\n');
    json
}

/// Reads a token set from a store's JSON: a JSON object (an array, a string, a number or any
/// other value is malformed, never read by position) whose members not of a token set are
/// ignored (see [`from_store_json_keeping`] to keep them).
///
/// # Errors
///
/// [`MalformedStore`] when `json` is not a token set; its message never quotes `json`.
pub fn from_store_json(json: &[u8]) -> Result<TokenSet, MalformedStore> {
    check_object(json)?;
    serde_json::from_slice(json).map_err(|e| MalformedStore::from(&e))
}

/// [`from_store_json`], and the object's members that are not a token set's (another tool's
/// or a newer version's data), for [`to_store_json_keeping`] to write back.
///
/// # Errors
///
/// As [`from_store_json`].
pub fn from_store_json_keeping(json: &[u8]) -> Result<(TokenSet, UnknownMembers), MalformedStore> {
    let tokens = from_store_json(json)?;
    let mut members: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(json).map_err(|e| MalformedStore::from(&e))?;
    members.retain(|name, _| !TOKEN_SET_MEMBERS.contains(&name.as_str()));
    Ok((tokens, UnknownMembers(members)))
}

/// The members of a stored object that are not a token set's, kept to be written back
/// ([`to_store_json_keeping`]). `Debug` shows their names only (their values may be another
/// tool's secrets).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UnknownMembers(serde_json::Map<String, serde_json::Value>);

impl UnknownMembers {
    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Their names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for UnknownMembers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// The wire names of [`TokenSet`]'s members (a test checks them against its serialisation).
const TOKEN_SET_MEMBERS: [&str; 6] =
    ["refresh_token", "access_token", "id_token", "token_type", "scope", "expires_at"];

/// A store is a JSON object: anything else that is JSON is refused by what it is (serde would
/// otherwise read an array as the set's members by position), without quoting it. Not JSON at
/// all, or empty, is left to the parser's own reasons.
fn check_object(json: &[u8]) -> Result<(), MalformedStore> {
    let what = match json.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        None | Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "",
    };
    match serde_json::from_slice::<&serde_json::value::RawValue>(json) {
        Err(e) => Err(MalformedStore::from(&e)),
        Ok(_) => Err(MalformedStore(format!("not a token set: the store holds {what}, not a JSON object"))),
    }
}

/// What a store holds is not a token set: why, and where, without quoting it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedStore(String);

impl From<&serde_json::Error> for MalformedStore {
    fn from(e: &serde_json::Error) -> Self {
        Self(malformed_reason(e))
    }
}

/// A description of a JSON error that never quotes the file: serde's messages for a
/// wrong type or value quote the value found (`invalid type: string "..."`), which could be
/// a token.
fn malformed_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {} column {}", e.line(), e.column());
    match e.classify() {
        Category::Eof if e.line() == 1 && e.column() == 0 => "empty file".to_owned(),
        Category::Eof => format!("truncated JSON at {at}"),
        Category::Syntax => format!("not JSON (syntax error at {at})"),
        Category::Io => format!("cannot be read at {at}"),
        Category::Data => {
            let message = e.to_string();
            if message.starts_with("missing field") || message.starts_with("duplicate field") {
                // `missing field `refresh_token`` names a field only.
                message.split(" at line").next().unwrap_or("a member is missing").to_owned() + " at " + &at
            } else {
                format!("not a token set: a member has the wrong type or value, at {at}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(json: &str) -> String {
        match serde_json::from_str::<TokenSet>(json) {
            Err(e) => MalformedStore::from(&e).to_string(),
            Ok(_) => String::from("parsed"),
        }
    }

    #[test]
    fn malformed_reasons_never_quote_the_file() {
        assert_eq!(reason(""), "empty file");
        assert!(reason("{").starts_with("truncated JSON"));
        assert!(reason("nope").starts_with("not JSON"));
        assert!(reason("{}").starts_with("missing field `refresh_token` at line 1"), "{}", reason("{}"));
        let r = reason(r#"{"refresh_token":"a","refresh_token":"b"}"#);
        assert!(r.starts_with("duplicate field `refresh_token`"), "{r}");
        let r = reason(r#"{"refresh_token":"rt","expires_at":"secret-token-value"}"#);
        assert!(!r.contains("secret-token-value"), "{r}");
        assert!(r.contains("wrong type"), "{r}");
        let r = reason(r#"["secret-token-value"]"#);
        assert!(!r.contains("secret-token-value"), "{r}");
    }

    #[test]
    fn a_store_that_is_not_an_object_is_malformed_and_never_quoted() {
        let six = r#"["rt-secret","at-secret","Bearer","openid",null,99999999999]"#;
        for (json, what) in [
            (r#"["rt-secret"]"#, "an array"),
            (six, "an array"),
            (" \n[]", "an array"),
            (r#""rt-secret""#, "a string"),
            ("12345678", "a number"),
            ("-1", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            let e = from_store_json(json.as_bytes()).expect_err(json);
            let message = e.to_string();
            assert!(message.contains(what) && message.contains("not a JSON object"), "{json}: {message}");
            assert!(!message.contains("secret") && !message.contains("1234"), "{json}: {message}");
            assert!(from_store_json_keeping(json.as_bytes()).is_err(), "{json}");
        }
        // Broken JSON that starts like a value keeps the parser's reason, unquoted.
        let message = from_store_json(br#"["rt-secret""#).expect_err("truncated").to_string();
        assert!(message.starts_with("truncated JSON") && !message.contains("secret"), "{message}");
        assert!(from_store_json(b"").expect_err("empty").to_string().starts_with("empty file"));
    }

    #[test]
    fn unknown_members_are_kept_and_only_they() {
        let json = br#"{"x-other-tool":{"a":1},"refresh_token":"rt","scope":"s","zz":[true,null]}"#;
        let (set, unknown) = from_store_json_keeping(json).expect("a token set");
        assert_eq!(unknown.names().collect::<Vec<_>>(), ["x-other-tool", "zz"]);
        assert_eq!(format!("{unknown:?}"), r#"{"x-other-tool", "zz"}"#);
        let mut next = set.clone();
        next.scope = None;
        let written = to_store_json_keeping(&next, &unknown);
        let value: serde_json::Value = serde_json::from_slice(&written).expect("JSON");
        assert_eq!(
            value,
            serde_json::json!({"refresh_token": "rt", "x-other-tool": {"a": 1}, "zz": [true, null]}),
            "a known member dropped stays dropped"
        );
        assert!(written.starts_with(b"{\n  \"refresh_token\""), "the set's members first");
        assert_eq!(to_store_json_keeping(&set, &UnknownMembers::default()), to_store_json(&set));
    }

    #[test]
    fn the_known_names_are_the_token_sets() {
        let mut set = TokenSet::from_refresh_token(oidc_refresh_core::RefreshToken::new("rt"));
        set.access_token = Some(oidc_refresh_core::AccessToken::new("at"));
        set.id_token = Some(oidc_refresh_core::IdToken::new("a.b.c"));
        set.token_type = Some("Bearer".into());
        set.scope = Some("s".into());
        set.expires_at = Some(1);
        let value = serde_json::to_value(&set).expect("serialises");
        let names: Vec<&str> = value.as_object().expect("an object").keys().map(String::as_str).collect();
        let mut known = TOKEN_SET_MEMBERS.to_vec();
        known.sort_unstable();
        assert_eq!(names, known);
    }
}
