//! `oidc-refresh revoke`: revokes a refresh token (RFC 7009) and empties the refresh token
//! file, or the store, that held it.
//!
//! The endpoint is `--revocation-endpoint URL`, or with `--issuer` the discovery document's
//! `revocation_endpoint` (`--revocation-endpoint` wins, and then nothing is discovered);
//! without either there is none, exit 2. The request is the library's one-shot
//! [`revoke`] through the transport of `--transport`, sent once, never retried. Success (a
//! 200, whatever its body) prints nothing; only then is the file emptied (atomically, mode
//! 0600) or the store cleared, under the store's lock, held from before the stored refresh
//! token is read until it is removed (a `token` run waiting for the lock then finds the
//! store empty). On any failure the file or the store is left as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use oidc_refresh::blocking::{discover, revoke};
use oidc_refresh::store::{StoreGuard, TokenStore};
use oidc_refresh::{ClientConfig, Error, RefreshToken, check_refresh_token, parse_endpoint};

use crate::client::{ClientArgs, PreparedClient};
use crate::exit::{Exit, Failure};
use crate::files::{empty_file, read_value};
use crate::stores::{STORE_ENV, StoreArg, StoreCommand, StoreSpec, open_store, read_failure, write_failure};
use crate::transport::LazyTransport;

/// Arguments of `revoke`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    client: ClientArgs,
    /// The file holding the refresh token to revoke (surrounding whitespace ignored);
    /// emptied once the provider revoked it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["store", "store_key"])]
    refresh_token_file: Option<PathBuf>,
    // --store (or OIDC_REFRESH_STORE) and --store-key: revoke the stored refresh token and
    // clear the store.
    #[command(flatten)]
    store: StoreArg,
    /// The revocation endpoint. Default with --issuer: the discovery document's
    /// revocation_endpoint (this flag wins, and then nothing is discovered).
    #[arg(long, value_name = "URL")]
    revocation_endpoint: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    // Everything that needs no network is checked first.
    let prepared = args.client.prepare()?;
    match &args.revocation_endpoint {
        Some(url) => {
            parse_endpoint(url)
                .map_err(|e| Failure::usage(format!("--revocation-endpoint is unusable: {e}")))?;
        }
        None if !prepared.needs_discovery() => {
            return Err(Failure::usage(
                "no revocation endpoint: give --revocation-endpoint URL (only --issuer finds one, by discovery)",
            ));
        }
        None => {}
    }
    match &args.refresh_token_file {
        Some(path) => revoke_file(&args, &prepared, path),
        None if !args.store.is_named() => Err(Failure::usage(format!(
            "nothing to revoke: give --refresh-token-file FILE or --store STORE (or set {STORE_ENV})"
        ))),
        None => {
            let spec = args.store.spec(Some(args.client.client_id()))?;
            let exchange_timeout = Duration::from_secs(args.client.timeout);
            open_store(&spec, exchange_timeout, Revoke { args: &args, prepared: &prepared })
        }
    }
}

/// Revokes the refresh token in `path`, then empties the file.
fn revoke_file(args: &Args, prepared: &PreparedClient, path: &Path) -> Result<(), Failure> {
    let refresh_token = read_value(path)
        .map(RefreshToken::new)
        .map_err(|e| Failure::usage(format!("cannot read the refresh token file {}: {e}", path.display())))?;
    if refresh_token.expose_secret().is_empty() {
        return Err(Failure::usage(format!(
            "the refresh token file {} is empty: nothing to revoke",
            path.display()
        )));
    }
    check_refresh_token(&refresh_token).map_err(Error::from)?;
    let transport = LazyTransport::new(&args.client);
    let (client, endpoint) = resolve(args, prepared, &transport)?;
    revoke(&transport, &client, &endpoint, &refresh_token)?;
    empty_file(path).map_err(|e| {
        Failure::usage(format!(
            "the refresh token was revoked, but the file {} cannot be emptied: {e}",
            path.display()
        ))
    })
}

/// `revoke --store`: a command run on the store [`open_store`] opens.
struct Revoke<'a> {
    args: &'a Args,
    prepared: &'a PreparedClient,
}

impl StoreCommand for Revoke<'_> {
    fn run<S: TokenStore>(self, store: &S, spec: &StoreSpec) -> Result<(), Failure> {
        // Without the lock first: a missing or malformed store is exit 2 before any request.
        stored_refresh_token(store.load(), spec, "holds no token set: nothing to revoke")?;
        let transport = LazyTransport::new(&self.args.client);
        let (client, endpoint) = resolve(self.args, self.prepared, &transport)?;

        // Under the lock, from the read of the refresh token to the store's removal.
        let mut guard = store.lock().map_err(read_failure)?;
        let refresh_token = stored_refresh_token(
            guard.load(),
            spec,
            "holds no token set any more: it was emptied meanwhile",
        )?;
        revoke(&transport, &client, &endpoint, &refresh_token)?;
        guard.clear().map_err(|e| {
            let failure = write_failure(e);
            Failure {
                exit: failure.exit,
                message: format!(
                    "the refresh token was revoked, but the store {spec} could not be emptied: {}",
                    failure.message
                ),
            }
        })
    }
}

/// The stored refresh token, checked; a missing, unreadable or unusable store is exit 2
/// (`missing` says why nothing is there).
fn stored_refresh_token<E>(
    loaded: Result<Option<oidc_refresh::TokenSet>, E>,
    spec: &StoreSpec,
    missing: &str,
) -> Result<RefreshToken, Failure>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let set =
        loaded.map_err(read_failure)?.ok_or_else(|| Failure::usage(format!("the store {spec} {missing}")))?;
    let set = set.checked().map_err(|e| Failure::usage(format!("the store {spec} is malformed: {e}")))?;
    Ok(set.refresh_token)
}

/// The client and the revocation endpoint: `--revocation-endpoint` (the client without
/// discovery), or the discovery document's `revocation_endpoint` (none: exit 2; one that is
/// plain http to a non-loopback host, or otherwise unusable: exit 4, as for the token
/// endpoint of a discovery document).
fn resolve(
    args: &Args,
    prepared: &PreparedClient,
    transport: &LazyTransport<'_>,
) -> Result<(ClientConfig, String), Failure> {
    if let Some(url) = &args.revocation_endpoint {
        return Ok((prepared.provisional()?, url.clone()));
    }
    let (client, metadata) = prepared.resolve_client(|issuer| discover(transport, issuer))?;
    let Some(endpoint) = metadata.as_ref().and_then(|m| m.revocation_endpoint()) else {
        return Err(Failure::usage(
            "the provider has no revocation endpoint: its discovery document names none (give --revocation-endpoint URL)",
        ));
    };
    parse_endpoint(endpoint).map_err(|e| Failure {
        exit: Exit::Protocol,
        message: format!("the discovery document's revocation_endpoint is unusable: {e}"),
    })?;
    Ok((client, endpoint.to_owned()))
}
