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
    // A TokenSet is strings, integers and options of them: serde_json cannot fail on it.
    let mut json = serde_json::to_vec_pretty(tokens).unwrap_or_default();
    json.push(b'\n');
    json
}

/// Reads a token set from a store's JSON.
///
/// # Errors
///
/// [`MalformedStore`] when `json` is not a token set; its message never quotes `json`.
pub fn from_store_json(json: &[u8]) -> Result<TokenSet, MalformedStore> {
    serde_json::from_slice(json).map_err(|e| MalformedStore::from(&e))
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
}
