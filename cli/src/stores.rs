//! Which token store a command uses, shared by `token`, `store` and `revoke`: `--store` (or the
//! environment variable `OIDC_REFRESH_STORE`) names a file or a Redis URL, `--store-key` the
//! grant's key in Redis, and [`open_store`] opens it and hands it to the command.
//!
//! Each command is generic over the store's type ([`StoreCommand::run`]), so it runs
//! monomorphised on the store's own [`TokenStore`] and keeps that store's own error type (the
//! exit codes and messages of `exit.rs` look at it). A new kind of store is one arm in
//! [`open_store`].

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use oidc_refresh::StoreError;
use oidc_refresh::store::{FileStore, TokenStore};

use crate::exit::Failure;

/// The environment variable that names the store when `--store` is absent.
pub(crate) const STORE_ENV: &str = "OIDC_REFRESH_STORE";

/// `--store` and `--store-key`.
#[derive(Debug, clap::Args)]
pub(crate) struct StoreArg {
    /// The token store, holding the grant's token set as a JSON object (refresh_token,
    /// access_token, id_token, token_type, scope, expires_at): a file, which concurrent runs
    /// share through FILE.lock beside it, or redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or
    /// rediss://... (TLS). Default: the environment variable OIDC_REFRESH_STORE (which keeps
    /// a password off the command line).
    #[arg(long, value_name = "STORE")]
    store: Option<OsString>,
    /// The grant's key in a Redis store (token's default: oidc-refresh:CLIENT_ID); not used
    /// by a file store.
    #[arg(long, value_name = "KEY")]
    store_key: Option<String>,
}

impl StoreArg {
    /// Whether a store is named at all: `--store`, or a non-empty `OIDC_REFRESH_STORE`.
    pub(crate) fn is_named(&self) -> bool {
        self.store.is_some() || std::env::var_os(STORE_ENV).is_some_and(|v| !v.is_empty())
    }

    /// The store named by `--store`, or by `OIDC_REFRESH_STORE` when `--store` is absent (an
    /// empty variable counts as unset). `client_id` gives a Redis store's default key,
    /// `oidc-refresh:CLIENT_ID`; without one (the `store` commands), a Redis store needs
    /// `--store-key`.
    pub(crate) fn spec(&self, client_id: Option<&str>) -> Result<StoreSpec, Failure> {
        let raw = match &self.store {
            Some(store) => store.clone(),
            None => std::env::var_os(STORE_ENV).filter(|v| !v.is_empty()).ok_or_else(|| {
                Failure::usage(format!("no token store: give --store STORE or set {STORE_ENV}"))
            })?,
        };
        if raw.is_empty() {
            return Err(Failure::usage("--store is empty"));
        }
        let Some(url) = raw.to_str().filter(|s| is_redis_url(s)) else {
            return Ok(StoreSpec::File(PathBuf::from(raw)));
        };
        let key = match (&self.store_key, client_id) {
            (Some(key), _) if key.is_empty() => return Err(Failure::usage("--store-key is empty")),
            (Some(key), _) => key.clone(),
            (None, Some(id)) => format!("oidc-refresh:{id}"),
            (None, None) => {
                return Err(Failure::usage(format!(
                    "a Redis store ({}) needs --store-key KEY here (no client id gives the default key)",
                    redacted_url(url)
                )));
            }
        };
        Ok(StoreSpec::Redis { url: url.to_owned(), key })
    }
}

/// `redis://…` or `rediss://…`, the scheme in any case; anything else is a file.
fn is_redis_url(s: &str) -> bool {
    ["redis://", "rediss://"]
        .iter()
        .any(|scheme| s.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme)))
}

/// A Redis URL without its user, password, query or fragment: what a message may show.
fn redacted_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    // Everything up to the last `@`, so that a password with an unescaped `/`, `?` or `@`
    // is dropped whole.
    let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    format!("{scheme}://{rest}")
}

/// A store named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// A JSON file, locked through `FILE.lock` beside it.
    File(PathBuf),
    /// A key in Redis.
    Redis {
        /// The URL as given (it may hold a password: never shown, see [`StoreSpec`]'s
        /// `Display`).
        url: String,
        /// The grant's key.
        key: String,
    },
}

impl fmt::Display for StoreSpec {
    /// The store as messages name it: the file's path, or the Redis URL without its
    /// credentials and the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::File(path) => write!(f, "{}", path.display()),
            StoreSpec::Redis { url, key } => write!(f, "{} key {key}", redacted_url(url)),
        }
    }
}

/// A command run on a store, whatever its type: [`open_store`] calls [`run`](Self::run) with
/// the store [`StoreSpec`] names.
pub(crate) trait StoreCommand {
    /// Runs on `store`, which `spec` names (for messages).
    fn run<S: TokenStore>(self, store: &S, spec: &StoreSpec) -> Result<(), Failure>;
}

/// Opens the store `spec` names and runs `command` on it. `exchange_timeout` is the deadline
/// of one HTTP exchange: a Redis lease lasts that + 5 s, so a holder that dies keeps the
/// right to refresh for at most that long.
pub(crate) fn open_store(
    spec: &StoreSpec,
    exchange_timeout: Duration,
    command: impl StoreCommand,
) -> Result<(), Failure> {
    match spec {
        StoreSpec::File(path) => command.run(&FileStore::new(path), spec),
        #[cfg(feature = "redis")]
        StoreSpec::Redis { url, key } => {
            let store = oidc_refresh::store::RedisStore::open(url, key.as_str())
                .map_err(|e| Failure::usage(format!("the store {spec}: {e}")))?
                .with_lease(exchange_timeout.saturating_add(Duration::from_secs(5)));
            command.run(&store, spec)
        }
        #[cfg(not(feature = "redis"))]
        StoreSpec::Redis { .. } => {
            let _ = exchange_timeout;
            Err(Failure::usage(format!(
                "the store {spec} is a Redis store, and this build of oidc-refresh has no Redis store"
            )))
        }
    }
}

/// A store's failure to be read or locked, as the drive loop reports it: the exit code and the
/// line come from `exit.rs`, as for `token`'s failures under the lock.
pub(crate) fn read_failure(e: impl std::error::Error + Send + Sync + 'static) -> Failure {
    oidc_refresh::Error::from(StoreError::read(e)).into()
}

/// A store's failure to be written (nothing rotated is at stake).
pub(crate) fn write_failure(e: impl std::error::Error + Send + Sync + 'static) -> Failure {
    oidc_refresh::Error::from(StoreError::write(e, None)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(store: &str, key: Option<&str>) -> StoreArg {
        StoreArg { store: Some(store.into()), store_key: key.map(str::to_owned) }
    }

    #[test]
    fn a_path_is_a_file_and_a_redis_url_a_key() {
        assert_eq!(arg("tokens.json", None).spec(None).ok(), Some(StoreSpec::File("tokens.json".into())));
        assert_eq!(
            arg("redis.json", Some("k")).spec(Some("app")).ok(),
            Some(StoreSpec::File("redis.json".into())),
            "--store-key does not make a file a Redis store"
        );
        let spec = arg("REDISS://u:pw@cache:6380/2", None).spec(Some("app")).ok();
        assert_eq!(
            spec,
            Some(StoreSpec::Redis {
                url: "REDISS://u:pw@cache:6380/2".into(),
                key: "oidc-refresh:app".into()
            })
        );
        let spec = arg("redis://cache", Some("mine")).spec(None).ok();
        assert_eq!(spec, Some(StoreSpec::Redis { url: "redis://cache".into(), key: "mine".into() }));
    }

    #[test]
    fn redis_without_a_key_or_client_or_with_an_empty_key_is_exit_2() {
        let f = arg("redis://:pw@cache/0", None).spec(None).err().map(|f| (f.exit, f.message));
        let (exit, message) = f.unwrap_or_else(|| panic!("no key: refused"));
        assert_eq!(exit, crate::exit::Exit::Usage);
        assert!(message.contains("--store-key") && !message.contains("pw"), "{message}");
        assert!(arg("redis://cache", Some("")).spec(Some("app")).is_err());
    }

    #[test]
    fn messages_never_show_redis_credentials() {
        let spec =
            StoreSpec::Redis { url: "rediss://user:s3cret@cache:6380/1?password=x".into(), key: "k".into() };
        assert_eq!(spec.to_string(), "rediss://cache:6380/1 key k");
        assert_eq!(redacted_url("redis://p@ss@host"), "redis://host");
        assert_eq!(redacted_url("redis://host:1"), "redis://host:1");
        assert_eq!(redacted_url("redis://u:a/b?c@host/3"), "redis://host/3");
    }
}
