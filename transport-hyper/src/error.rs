//! How hyper's errors become the core's transport errors.

use std::error::Error as StdError;
use std::io;

use oidc_refresh_core::{Error, TransportError, TransportErrorKind};

/// Sorts a hyper-util client error into the core's transport classes.
pub(crate) fn from_client(e: hyper_util::client::legacy::Error) -> Error {
    let mut kind = if e.is_connect() { TransportErrorKind::Connect } else { TransportErrorKind::Other };
    for cause in causes(&e) {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            kind = TransportErrorKind::Tls;
            break;
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::TimedOut => kind = TransportErrorKind::Timeout,
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
                    if !e.is_connect() =>
                {
                    kind = TransportErrorKind::Interrupted;
                }
                _ => {}
            }
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>()
            && !e.is_connect()
            && kind == TransportErrorKind::Other
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed() || h.is_body_write_aborted())
        {
            kind = TransportErrorKind::Interrupted;
        }
    }
    TransportError::new(kind, e).into()
}

/// The error and its causes, looking inside `io::Error`s too (whose `source` skips the
/// error they wrap, where rustls' errors hide).
fn causes<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&cur| match cur.downcast_ref::<io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => cur.source(),
    })
    .take(32)
}
