//! `oidc-refresh refresh`: one refresh grant, token files replaced atomically.

use std::path::PathBuf;

use oidc_refresh::blocking::{discover, refresh_tokens, refresh_tokens_verified};
use oidc_refresh::{Error, RefreshParams, RefreshToken, SystemClock, decode_id_token};

use crate::client::ClientArgs;
use crate::exit::{Failure, rotated_not_stored};
use crate::files::{read_optional_value, read_value, write_value};
use crate::output::print_json;
use crate::transport::LazyTransport;

/// Arguments of `refresh`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    client: ClientArgs,
    /// The file holding the refresh token; replaced by the rotated one.
    #[arg(long, value_name = "FILE")]
    refresh_token_file: PathBuf,
    /// The file holding the previous ID token (continuity checks); replaced by the new one.
    #[arg(long, value_name = "FILE")]
    id_token_file: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let refresh_token = read_value(&args.refresh_token_file).map(RefreshToken::new).map_err(|e| {
        Failure::usage(format!(
            "cannot read the refresh token file {}: {e}",
            args.refresh_token_file.display()
        ))
    })?;
    oidc_refresh::check_refresh_token(&refresh_token).map_err(Error::from)?;
    let previous = match &args.id_token_file {
        Some(path) => read_optional_value(path)
            .map_err(|e| Failure::usage(format!("cannot read the ID token file {}: {e}", path.display())))?
            .map(|jwt| {
                decode_id_token(&jwt).map_err(|e| {
                    Failure::usage(format!(
                        "the previous ID token in {} cannot be decoded: {e}",
                        path.display()
                    ))
                })
            })
            .transpose()?,
        None => None,
    };
    let transport = LazyTransport::new(&args.client);
    let resolved = args.client.prepare()?.resolve(|issuer| discover(&transport, issuer))?;
    let client = resolved.client;
    let mut params = RefreshParams::new(&refresh_token);
    if let Some(scope) = args.client.scope() {
        params = params.scope(scope);
    }

    let outcome = match resolved.keys {
        // The key set is fetched only when the response carries an ID token, at most twice.
        Some(mut keys) => {
            refresh_tokens_verified(&transport, &SystemClock, &client, &params, previous.as_ref(), &mut keys)
        }
        None => refresh_tokens(&transport, &SystemClock, &client, &params, previous.as_ref()),
    };
    match outcome {
        Ok((result, _continuity)) => {
            if let Some(rotated) = result.refresh_token() {
                store_rotated(&args.refresh_token_file, rotated, None)?;
            }
            if let (Some(path), Some(id_token)) = (&args.id_token_file, result.id_token()) {
                write_value(path, id_token.expose_secret()).map_err(|e| {
                    Failure::usage(format!(
                        "the refresh succeeded and the refresh token was stored, but the ID token file {} cannot be written: {e}",
                        path.display()
                    ))
                })?;
            }
            print_json(&result)
        }
        Err(mut e) => {
            let rotated = e.take_rotated_refresh_token();
            let failure = Failure::from(e);
            if let Some(rotated) = rotated {
                store_rotated(&args.refresh_token_file, &rotated, Some(&failure))?;
            }
            Err(failure)
        }
    }
}

/// Stores a rotated refresh token; when that fails, prints it alone on stdout and exits 7
/// (the old token is spent, so the new one must not be lost).
pub(crate) fn store_rotated(
    path: &std::path::Path,
    rotated: &RefreshToken,
    after: Option<&Failure>,
) -> Result<(), Failure> {
    match write_value(path, rotated.expose_secret()) {
        Ok(()) => Ok(()),
        Err(e) => {
            Err(rotated_not_stored(rotated, &format!("{} cannot be written: {e}", path.display()), after))
        }
    }
}
