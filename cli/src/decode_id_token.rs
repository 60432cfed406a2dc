//! `oidc-refresh decode-id-token [TOKEN|-]`.

use std::path::Path;

use oidc_refresh::decode_id_token;

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
    let payload = decode_id_token(token.trim())?;
    print_json(&payload)
}
