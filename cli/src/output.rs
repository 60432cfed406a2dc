//! What goes to standard output: one JSON document, or one access token.

use std::io::{self, Write};

use oidc_refresh::AccessToken;

use crate::exit::Failure;

/// Prints one JSON document and a newline on stdout.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let mut out =
        serde_json::to_vec_pretty(value).map_err(|e| Failure::usage(format!("cannot serialise: {e}")))?;
    out.push(b'\n');
    io::stdout()
        .lock()
        .write_all(&out)
        .map_err(|e| Failure::usage(format!("cannot write to standard output: {e}")))
}

/// The access token and a newline on stdout.
pub(crate) fn print_token(token: &AccessToken) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", token.expose_secret())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::usage(format!("cannot write to standard output: {e}")))
}
