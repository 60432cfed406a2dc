//! `oidc-refresh refresh`: one refresh grant, token files replaced atomically.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use oidc_refresh::{
    AuthResult, BodyFormat, ClientAuth, ClientConfig, ClientSecret, Continuity, Error, IdTokenPayload,
    RefreshParams, RefreshToken, decode_id_token,
};

use super::files::{read_optional_value, read_value, write_value};
use super::{Exit, Failure, print_json};

/// Where the token endpoint comes from (exactly one).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Endpoint {
    /// The token endpoint URL.
    #[arg(long, value_name = "URL")]
    token_endpoint: Option<String>,
    /// OpenID discovery from this issuer; every ID token's `iss` must equal it.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The ReachFive profile: https://DOMAIN/oauth/token with a JSON body.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
}

/// `--auth` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AuthMethod {
    /// A public client: client_id in the body, no secret.
    None,
    /// client_secret_basic.
    Basic,
    /// client_secret_post.
    Post,
}

/// `--body` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BodyArg {
    /// application/x-www-form-urlencoded.
    Form,
    /// application/json (ReachFive).
    Json,
}

/// `--transport` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportArg {
    /// Blocking ureq (the default).
    #[default]
    Ureq,
    /// Async hyper on a tokio runtime (needs the `hyper` feature).
    Hyper,
}

/// The client and the HTTP options shared by `refresh` and `token`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    #[command(flatten)]
    endpoint: Endpoint,
    /// The client id.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// A file holding the client secret (never pass a secret as a flag value). Without it,
    /// the environment variable OIDC_REFRESH_CLIENT_SECRET is used when set.
    #[arg(long, value_name = "FILE")]
    client_secret_file: Option<PathBuf>,
    /// Client authentication (default: basic with a secret, none without).
    #[arg(long, value_enum)]
    auth: Option<AuthMethod>,
    /// Body encoding (default: form, json for --domain).
    #[arg(long, value_enum)]
    body: Option<BodyArg>,
    /// Space-delimited scope to request.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// HTTP transport.
    #[arg(long, value_enum, default_value_t = TransportArg::Ureq)]
    transport: TransportArg,
    /// One deadline, in seconds, for each HTTP exchange as a whole.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Cap on a response body, in bytes (a body of exactly this size passes).
    #[arg(long, value_name = "BYTES", default_value_t = 1_048_576)]
    max_body: u64,
    /// ID-token leeway for exp and iat, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    leeway: u64,
}

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

/// A transport chosen at run time.
pub(crate) enum Transport {
    Ureq(oidc_refresh::ureq::Transport),
    #[cfg(feature = "hyper")]
    Hyper(oidc_refresh::hyper::Transport, tokio::runtime::Runtime),
}

impl Transport {
    /// Refuses a transport this binary was built without (exit 2), without building one.
    pub(crate) fn check_available(args: &ClientArgs) -> Result<(), Failure> {
        match args.transport {
            TransportArg::Ureq => Ok(()),
            #[cfg(feature = "hyper")]
            TransportArg::Hyper => Ok(()),
            #[cfg(not(feature = "hyper"))]
            TransportArg::Hyper => {
                Err(Failure::usage("--transport hyper: this binary was built without the `hyper` feature"))
            }
        }
    }

    pub(crate) fn new(args: &ClientArgs) -> Result<Self, Failure> {
        let timeout = Duration::from_secs(args.timeout);
        match args.transport {
            TransportArg::Ureq => {
                let options = oidc_refresh::ureq::Options::default().timeout(timeout).max_body(args.max_body);
                Ok(Transport::Ureq(oidc_refresh::ureq::Transport::new(options)?))
            }
            #[cfg(feature = "hyper")]
            TransportArg::Hyper => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
                let options =
                    oidc_refresh::hyper::Options::default().timeout(timeout).max_body(args.max_body);
                let transport = {
                    let _guard = runtime.enter();
                    oidc_refresh::hyper::Transport::new(options)?
                };
                Ok(Transport::Hyper(transport, runtime))
            }
            #[cfg(not(feature = "hyper"))]
            TransportArg::Hyper => {
                Err(Failure::usage("--transport hyper: this binary was built without the `hyper` feature"))
            }
        }
    }

    /// Sends one request (built by the core) and returns the response, whatever its status.
    pub(crate) fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, Error> {
        match self {
            Transport::Ureq(t) => t.execute(request),
            #[cfg(feature = "hyper")]
            Transport::Hyper(t, rt) => rt.block_on(t.execute(request)),
        }
    }

    pub(crate) fn discover(&self, issuer: &str) -> Result<oidc_refresh::discovery::ProviderMetadata, Error> {
        match self {
            Transport::Ureq(t) => t.discover(issuer),
            #[cfg(feature = "hyper")]
            Transport::Hyper(t, rt) => rt.block_on(t.discover(issuer)),
        }
    }

    pub(crate) fn refresh(
        &self,
        client: &ClientConfig,
        params: &RefreshParams<'_>,
        previous: Option<&IdTokenPayload>,
    ) -> Result<(AuthResult, Continuity), Error> {
        match self {
            Transport::Ureq(t) => t.refresh_tokens_with_previous(client, params, previous),
            #[cfg(feature = "hyper")]
            Transport::Hyper(t, rt) => rt.block_on(t.refresh_tokens_with_previous(client, params, previous)),
        }
    }
}

impl ClientArgs {
    /// The requested scope, if any.
    pub(crate) fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Builds the client configuration; `--issuer` runs discovery through `transport`.
    pub(crate) fn client_config(&self, transport: &Transport) -> Result<ClientConfig, Failure> {
        Ok(self.prepare()?.resolve(|issuer| transport.discover(issuer))?)
    }

    /// Checks everything about the client that needs no network (the secret file, the
    /// authentication method, the endpoint's syntax) and leaves only discovery for
    /// [`PreparedClient::resolve`].
    pub(crate) fn prepare(&self) -> Result<PreparedClient, Failure> {
        let secret = match &self.client_secret_file {
            Some(path) => Some(read_value(path).map_err(|e| {
                Failure::usage(format!("cannot read the client secret file {}: {e}", path.display()))
            })?),
            None => std::env::var("OIDC_REFRESH_CLIENT_SECRET").ok().filter(|s| !s.is_empty()),
        }
        .map(ClientSecret::new);
        let auth = match (self.auth, secret) {
            (None | Some(AuthMethod::None), None) => ClientAuth::None,
            (Some(AuthMethod::None), Some(_)) => {
                return Err(Failure::usage("--auth none takes no client secret"));
            }
            (None | Some(AuthMethod::Basic), Some(s)) => ClientAuth::ClientSecretBasic(s),
            (Some(AuthMethod::Post), Some(s)) => ClientAuth::ClientSecretPost(s),
            (Some(AuthMethod::Basic | AuthMethod::Post), None) => {
                return Err(Failure::usage("--auth basic and --auth post need --client-secret-file"));
            }
        };
        let e = &self.endpoint;
        let endpoint = match (&e.token_endpoint, &e.issuer, &e.domain) {
            (Some(url), _, _) => {
                PreparedEndpoint::Ready(ClientConfig::new(url, self.client_id.clone()).map_err(Error::from)?)
            }
            (_, Some(issuer), _) => {
                oidc_refresh::discovery::discovery_url(issuer).map_err(Error::from)?;
                PreparedEndpoint::Discover(issuer.clone())
            }
            (_, _, Some(domain)) => PreparedEndpoint::Ready(
                ClientConfig::reachfive(domain, self.client_id.clone()).map_err(Error::from)?,
            ),
            _ => return Err(Failure::usage("one of --token-endpoint, --issuer or --domain is required")),
        };
        Ok(PreparedClient {
            endpoint,
            client_id: self.client_id.clone(),
            auth,
            leeway: Duration::from_secs(self.leeway),
            body: self.body,
        })
    }
}

/// A client configuration checked as far as possible without the network: see
/// [`ClientArgs::prepare`].
pub(crate) struct PreparedClient {
    endpoint: PreparedEndpoint,
    client_id: String,
    auth: ClientAuth,
    leeway: Duration,
    body: Option<BodyArg>,
}

enum PreparedEndpoint {
    Ready(ClientConfig),
    Discover(String),
}

impl PreparedClient {
    /// `true` when the client is known only after OpenID discovery (`--issuer`).
    pub(crate) fn needs_discovery(&self) -> bool {
        matches!(self.endpoint, PreparedEndpoint::Discover(_))
    }

    /// The client configuration, running `discover` for `--issuer`.
    pub(crate) fn resolve(
        &self,
        discover: impl FnOnce(&str) -> Result<oidc_refresh::discovery::ProviderMetadata, Error>,
    ) -> Result<ClientConfig, Error> {
        let client = match &self.endpoint {
            PreparedEndpoint::Ready(client) => client.clone(),
            PreparedEndpoint::Discover(issuer) => discover(issuer)?.client(self.client_id.clone())?,
        };
        Ok(self.configure(client))
    }

    /// The client without any network: the configured one, or for `--issuer` a stand-in
    /// until discovery, with the issuer's URL as its token endpoint (checked by
    /// [`ClientArgs::prepare`]) and the issuer every ID token must name. Nothing must ever
    /// be sent to that endpoint: replace the stand-in with [`resolve`](Self::resolve)'s
    /// client before any request (see [`needs_discovery`](Self::needs_discovery)).
    pub(crate) fn provisional(&self) -> Result<ClientConfig, Error> {
        let client = match &self.endpoint {
            PreparedEndpoint::Ready(client) => client.clone(),
            PreparedEndpoint::Discover(issuer) => {
                ClientConfig::new(issuer, self.client_id.clone())?.with_issuer(issuer.clone())
            }
        };
        Ok(self.configure(client))
    }

    /// The authentication, leeway and body format of the command line.
    fn configure(&self, client: ClientConfig) -> ClientConfig {
        let client = client.with_auth(self.auth.clone()).with_leeway(self.leeway);
        match self.body {
            Some(BodyArg::Form) => client.with_body_format(BodyFormat::Form),
            Some(BodyArg::Json) => client.with_body_format(BodyFormat::Json),
            None => client,
        }
    }
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
    let transport = Transport::new(&args.client)?;
    let client = args.client.client_config(&transport)?;
    let mut params = RefreshParams::new(&refresh_token);
    if let Some(scope) = args.client.scope() {
        params = params.scope(scope);
    }

    match transport.refresh(&client, &params, previous.as_ref()) {
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

/// Exit 7: prints the rotated refresh token alone on stdout, so that it is not lost, and
/// returns the failure whose line says why it could not be stored (`why`, e.g.
/// "FILE cannot be written: ...") and what failed before (`after`).
pub(crate) fn rotated_not_stored(rotated: &RefreshToken, why: &str, after: Option<&Failure>) -> Failure {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", rotated.expose_secret());
    let _ = out.flush();
    let also = after.map(|f| format!(" (after: {})", f.message)).unwrap_or_default();
    Failure {
        exit: Exit::TokenNotStored,
        message: format!(
            "the server rotated the refresh token but {why}; the new refresh token is on standard output{also}"
        ),
    }
}
