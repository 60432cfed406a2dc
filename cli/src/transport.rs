//! The transport chosen at run time (`--transport`), built only when a request is due, and
//! seen by the library's drive loop and one-shot calls as one [`Exchange`].

use std::sync::OnceLock;
use std::time::Duration;

use oidc_refresh::blocking::Exchange;
use oidc_refresh::http::{Request, Response};
use oidc_refresh::{Error, Options};

use crate::client::ClientArgs;

/// `--transport` values: only the transports this binary was built with, so that naming
/// another one is a usage error (exit 2) before anything runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportArg {
    /// Blocking ureq.
    #[cfg(feature = "ureq")]
    Ureq,
    /// Async hyper on a one-thread tokio runtime.
    #[cfg(feature = "hyper")]
    Hyper,
}

impl Default for TransportArg {
    /// ureq when the binary has it, else hyper.
    fn default() -> Self {
        #[cfg(feature = "ureq")]
        return TransportArg::Ureq;
        #[cfg(not(feature = "ureq"))]
        return TransportArg::Hyper;
    }
}

/// A transport built from the command line.
enum Transport {
    #[cfg(feature = "ureq")]
    Ureq(oidc_refresh::ureq::Transport),
    #[cfg(feature = "hyper")]
    Hyper(oidc_refresh::hyper::Transport, tokio::runtime::Runtime),
}

impl Transport {
    fn new(args: &ClientArgs) -> Result<Self, Error> {
        let options = Options::default().timeout(Duration::from_secs(args.timeout)).max_body(args.max_body);
        match args.transport {
            #[cfg(feature = "ureq")]
            TransportArg::Ureq => Ok(Transport::Ureq(oidc_refresh::ureq::Transport::new(options)?)),
            #[cfg(feature = "hyper")]
            TransportArg::Hyper => {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
                        oidc_refresh::TransportError::new(oidc_refresh::TransportErrorKind::Other, e)
                    })?;
                let transport = {
                    let _guard = runtime.enter();
                    oidc_refresh::hyper::Transport::new(options)?
                };
                Ok(Transport::Hyper(transport, runtime))
            }
        }
    }

    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        match self {
            #[cfg(feature = "ureq")]
            Transport::Ureq(t) => t.execute(request),
            #[cfg(feature = "hyper")]
            Transport::Hyper(t, runtime) => runtime.block_on(t.execute(request)),
        }
    }
}

/// The transport of the command line, built the first time a request is sent (a fresh
/// access token costs no TLS set-up).
pub(crate) struct LazyTransport<'a> {
    args: &'a ClientArgs,
    built: OnceLock<Transport>,
}

impl<'a> LazyTransport<'a> {
    pub(crate) fn new(args: &'a ClientArgs) -> Self {
        Self { args, built: OnceLock::new() }
    }

    fn get(&self) -> Result<&Transport, Error> {
        if let Some(transport) = self.built.get() {
            return Ok(transport);
        }
        let transport = Transport::new(self.args)?;
        Ok(self.built.get_or_init(|| transport))
    }
}

impl Exchange for LazyTransport<'_> {
    fn execute(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, Error> {
        self.get()?.execute(request)
    }
}
