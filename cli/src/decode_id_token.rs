//! `oidc-refresh decode-id-token [TOKEN|-]`.

use std::path::{Path, PathBuf};

use oidc_refresh::{Error, IdTokenError, IdTokenErrorKind, JwkSet, decode_id_token, verify_signature};

use crate::exit::Failure;
use crate::files::read_input;
use crate::output::print_json;

/// Arguments of `decode-id-token`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ID token, or `-` (the default) to read it from standard input. Surrounding
    /// whitespace is ignored.
    #[arg(value_name = "TOKEN|-")]
    token: Option<String>,
    /// Also verify the signature with the JWK Set in FILE (the signature only: no claim is
    /// validated). A signature that does not verify is exit 6.
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let owned;
    let token = match args.token.as_deref() {
        None | Some("-") => {
            owned = String::from_utf8(read_input(Some(Path::new("-")))?)
                .map_err(|_| Failure::usage("the ID token on standard input is not UTF-8"))?;
            owned.as_str()
        }
        Some(t) => t,
    };
    // The key set is read before anything else: an unusable file is exit 2 whatever the token.
    let keys = args.jwks.as_deref().map(read_key_set).transpose()?;
    let token = token.trim();
    let payload = decode_id_token(token)?;
    if let Some(keys) = keys {
        // No client here, so no client secret: an HS256/384/512 token never verifies.
        verify_signature(token, &keys, None, None)
            .map_err(|e| Error::from(IdTokenError::from(IdTokenErrorKind::Signature(e))))?;
    }
    print_json(&payload)
}

/// The JWK Set in `path`; exit 2 when it cannot be read or is not a JSON object with a
/// `keys` array.
fn read_key_set(path: &Path) -> Result<JwkSet, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read the key set file {}: {e}", path.display())))?;
    JwkSet::parse(&bytes)
        .map_err(|e| Failure::usage(format!("the key set file {} is not a JWK Set: {e}", path.display())))
}
