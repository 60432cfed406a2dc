//! `oidc-refresh store init` and `oidc-refresh store show`: put a grant into a token store,
//! and look at what a store holds without showing a token.
//!
//! Both work on any store [`open_store`] opens (a file or Redis), through the store's
//! own [`TokenStore`]: `init` writes under the store's lock ([`TokenStore::init`]), exactly as
//! `token` and the library's managers do, and `show` reads without it (writes are atomic).

use std::path::PathBuf;

use oidc_refresh::Options;
use oidc_refresh::store::TokenStore;
use oidc_refresh::{IdToken, RefreshToken, TokenSet, check_refresh_token, decode_id_token};
use serde::Serialize;

use crate::exit::Failure;
use crate::files::{read_optional_value, read_value};
use crate::output::print_json;
use crate::stores::{StoreArg, StoreCommand, StoreSpec, open_store, read_failure, write_failure};

/// What `show` prints in place of every token.
const REDACTED: &str = "<redacted>";

/// Arguments of `store`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Write a new token set holding the refresh token (and the previous ID token) into the
    /// store, replacing whatever it held, under the store's lock.
    Init(InitArgs),
    /// Print the stored token set as JSON, every token replaced by "<redacted>".
    Show(ShowArgs),
}

/// Arguments of `store init`.
#[derive(Debug, clap::Args)]
struct InitArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The file holding the refresh token (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    refresh_token_file: PathBuf,
    /// The file holding the previous ID token, for the continuity checks of the next
    /// refresh (surrounding whitespace ignored; missing or empty: none).
    #[arg(long, value_name = "FILE")]
    id_token_file: Option<PathBuf>,
}

/// Arguments of `store show`.
#[derive(Debug, clap::Args)]
struct ShowArgs {
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    match args.action {
        Action::Init(args) => {
            // No client id here: a Redis store needs --store-key.
            let spec = args.store.spec(None)?;
            let set = args.token_set()?;
            open_store(&spec, Options::DEFAULT_TIMEOUT, Init(set))
        }
        Action::Show(args) => open_store(&args.store.spec(None)?, Options::DEFAULT_TIMEOUT, Show),
    }
}

impl InitArgs {
    /// The token set to write, from the files; an unreadable file, an unusable refresh token
    /// or an undecodable ID token is exit 2, before the store is touched.
    fn token_set(&self) -> Result<TokenSet, Failure> {
        let path = &self.refresh_token_file;
        let refresh_token = read_value(path).map(RefreshToken::new).map_err(|e| {
            Failure::usage(format!("cannot read the refresh token file {}: {e}", path.display()))
        })?;
        check_refresh_token(&refresh_token)
            .map_err(|e| Failure::usage(format!("the refresh token file {}: {e}", path.display())))?;
        let mut set = TokenSet::from_refresh_token(refresh_token);
        if let Some(path) = &self.id_token_file {
            let jwt = read_optional_value(path).map_err(|e| {
                Failure::usage(format!("cannot read the ID token file {}: {e}", path.display()))
            })?;
            if let Some(jwt) = jwt {
                decode_id_token(&jwt).map_err(|e| {
                    Failure::usage(format!(
                        "the previous ID token in {} cannot be decoded: {e}",
                        path.display()
                    ))
                })?;
                set.id_token = Some(IdToken::new(jwt));
            }
        }
        Ok(set)
    }
}

/// `store init`: the new token set, written under the lock.
struct Init(TokenSet);

impl StoreCommand for Init {
    fn run<S: TokenStore>(self, store: &S, _: &StoreSpec) -> Result<(), Failure> {
        store.init(&self.0).map_err(write_failure)
    }
}

/// `store show`.
struct Show;

impl StoreCommand for Show {
    fn run<S: TokenStore>(self, store: &S, spec: &StoreSpec) -> Result<(), Failure> {
        let set = store.load().map_err(read_failure)?.ok_or_else(|| {
            Failure::usage(format!("the store {spec} does not exist (oidc-refresh store init writes one)"))
        })?;
        // What `token` would refuse is malformed here too.
        set.clone().checked().map_err(|e| Failure::usage(format!("the store {spec} is malformed: {e}")))?;
        print_json(&Redacted::from(&set))
    }
}

/// A token set as `show` prints it: the store's JSON, every token replaced by
/// [`REDACTED`] (an empty one, which is no token, stays empty).
#[derive(Serialize)]
struct Redacted<'a> {
    refresh_token: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
}

impl<'a> From<&'a TokenSet> for Redacted<'a> {
    fn from(set: &'a TokenSet) -> Self {
        // Every member named, so that a member added to `TokenSet` must be decided on here
        // (shown, or redacted if it is a token) before this compiles.
        let TokenSet { refresh_token, access_token, id_token, token_type, scope, expires_at } = set;
        let redact = |empty: bool| if empty { "" } else { REDACTED };
        Redacted {
            refresh_token: redact(refresh_token.is_empty()),
            access_token: access_token.as_ref().map(|t| redact(t.is_empty())),
            id_token: id_token.as_ref().map(|t| redact(t.is_empty())),
            token_type: token_type.as_deref(),
            scope: scope.as_deref(),
            expires_at: *expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oidc_refresh::AccessToken;

    #[test]
    fn every_token_is_redacted_and_the_rest_kept() {
        let mut set = TokenSet::from_refresh_token(RefreshToken::new("rt-secret"));
        set.access_token = Some(AccessToken::new("at-secret"));
        set.id_token = Some(IdToken::new(""));
        set.token_type = Some("DPoP".into());
        set.expires_at = Some(1_700_000_000);
        let json = serde_json::to_value(Redacted::from(&set)).ok();
        assert_eq!(
            json,
            Some(serde_json::json!({
                "refresh_token": "<redacted>",
                "access_token": "<redacted>",
                "id_token": "",
                "token_type": "DPoP",
                "expires_at": 1_700_000_000_u64,
            }))
        );
    }
}
