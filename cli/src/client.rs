//! The client and HTTP options `refresh`, `token` and `revoke` share, and the client configuration
//! built from them: everything checked that needs no network, discovery left for when a
//! request is due.

use std::path::PathBuf;
use std::time::Duration;

use oidc_refresh::http::Uri;
use oidc_refresh::{
    Algorithm, BodyFormat, ClientAuth, ClientConfig, ClientSecret, Error, KeySetCache, Options,
};
use oidc_refresh::{ProviderMetadata, check_jwks_uri};

use crate::exit::Failure;
use crate::files::read_value;
use crate::transport::TransportArg;

/// The largest `--timeout`: one day. A deadline of 0 makes no sense, so the least is 1 s.
pub(crate) const MAX_TIMEOUT_SECS: u64 = 86_400;
/// The largest `--max-body`: 64 MiB (a token response is a few kilobytes; the default is
/// 1 MiB). The least is 1 byte.
pub(crate) const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// The largest `--leeway`: one hour (0, no leeway, is allowed).
pub(crate) const MAX_LEEWAY_SECS: u64 = 3_600;

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

/// The client and the HTTP options shared by `refresh`, `token` and `revoke`.
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
    #[arg(long, value_enum, default_value_t = TransportArg::default())]
    pub(crate) transport: TransportArg,
    /// One deadline, in seconds, for each HTTP exchange as a whole (1 to 86400).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = Options::DEFAULT_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS)
    )]
    pub(crate) timeout: u64,
    /// Cap on a response body, in bytes (a body of exactly this size passes; 1 to 67108864).
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = Options::DEFAULT_MAX_BODY,
        value_parser = clap::value_parser!(u64).range(1..=MAX_BODY_BYTES)
    )]
    pub(crate) max_body: u64,
    /// ID-token leeway for exp and iat, in seconds (0 to 3600).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = ClientConfig::DEFAULT_LEEWAY.as_secs(),
        value_parser = clap::value_parser!(u64).range(0..=MAX_LEEWAY_SECS)
    )]
    leeway: u64,
    /// Verify every ID token's signature with the JWK Set at this URL (https, or http on
    /// loopback). With --issuer, used instead of the discovery document's jwks_uri.
    #[arg(long, value_name = "URL", conflicts_with = "no_verify")]
    jwks_uri: Option<String>,
    /// With --issuer: do not verify ID-token signatures (the discovery document's jwks_uri
    /// is then never fetched). Sound only when ID tokens come from the token endpoint over
    /// TLS, and nothing else trusts them.
    #[arg(long)]
    no_verify: bool,
}

impl ClientArgs {
    /// The client id (`--client-id`).
    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The requested scope, if any.
    pub(crate) fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
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
                oidc_refresh::discovery_url(issuer).map_err(Error::from)?;
                PreparedEndpoint::Discover(issuer.clone())
            }
            (_, _, Some(domain)) => PreparedEndpoint::Ready(
                ClientConfig::reachfive(domain, self.client_id.clone()).map_err(Error::from)?,
            ),
            _ => return Err(Failure::usage("one of --token-endpoint, --issuer or --domain is required")),
        };
        let keys = match (&self.jwks_uri, self.no_verify, &endpoint) {
            (Some(uri), _, _) => PreparedKeys::At(
                check_jwks_uri(uri).map_err(|e| Failure::usage(format!("--jwks-uri is unusable: {e}")))?,
            ),
            (None, false, PreparedEndpoint::Discover(_)) => PreparedKeys::FromDiscovery,
            (None, _, _) => PreparedKeys::Off,
        };
        Ok(PreparedClient {
            endpoint,
            keys,
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
    keys: PreparedKeys,
    client_id: String,
    auth: ClientAuth,
    leeway: Duration,
    body: Option<BodyArg>,
}

enum PreparedEndpoint {
    Ready(ClientConfig),
    Discover(String),
}

/// Where the keys that verify ID-token signatures come from.
enum PreparedKeys {
    /// Signatures are not verified.
    Off,
    /// `--jwks-uri`.
    At(Uri),
    /// The discovery document's `jwks_uri`.
    FromDiscovery,
}

/// The client, and the key-set cache when ID-token signatures are verified.
pub(crate) struct Resolved {
    pub(crate) client: ClientConfig,
    pub(crate) keys: Option<KeySetCache>,
}

impl PreparedClient {
    /// `true` when the client is known only after OpenID discovery (`--issuer`).
    pub(crate) fn needs_discovery(&self) -> bool {
        matches!(self.endpoint, PreparedEndpoint::Discover(_))
    }

    /// The client configuration, and for `--issuer` the discovery document, running
    /// `discover` for it; no key set (see [`resolve`](Self::resolve) for that).
    pub(crate) fn resolve_client(
        &self,
        discover: impl FnOnce(&str) -> Result<ProviderMetadata, Error>,
    ) -> Result<(ClientConfig, Option<ProviderMetadata>), Error> {
        let (client, metadata) = match &self.endpoint {
            PreparedEndpoint::Ready(client) => (client.clone(), None),
            PreparedEndpoint::Discover(issuer) => {
                let metadata = discover(issuer)?;
                (metadata.client(self.client_id.clone())?, Some(metadata))
            }
        };
        Ok((self.configure(client), metadata))
    }

    /// The client configuration and its key-set cache, running `discover` for `--issuer`.
    pub(crate) fn resolve(
        &self,
        discover: impl FnOnce(&str) -> Result<ProviderMetadata, Error>,
    ) -> Result<Resolved, Error> {
        let (client, metadata) = self.resolve_client(discover)?;
        let keys = match (&self.keys, &metadata) {
            (PreparedKeys::Off, _) => None,
            (PreparedKeys::At(uri), None) => Some(KeySetCache::new(uri.clone())),
            // The discovery document's algorithms, the key set at --jwks-uri.
            (PreparedKeys::At(uri), Some(metadata)) => {
                let algorithms: Vec<Algorithm> = metadata
                    .id_token_signing_alg_values_supported()
                    .iter()
                    .filter_map(|name| Algorithm::from_name(name))
                    .collect();
                let cache = KeySetCache::new(uri.clone());
                Some(if algorithms.is_empty() { cache } else { cache.with_algorithms(algorithms) })
            }
            (PreparedKeys::FromDiscovery, Some(metadata)) => Some(metadata.key_set_cache()?),
            (PreparedKeys::FromDiscovery, None) => None,
        };
        Ok(Resolved { client, keys })
    }

    /// The key-set cache known without any network (`--jwks-uri`).
    pub(crate) fn provisional_keys(&self) -> Option<KeySetCache> {
        match &self.keys {
            PreparedKeys::At(uri) => Some(KeySetCache::new(uri.clone())),
            PreparedKeys::Off | PreparedKeys::FromDiscovery => None,
        }
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
