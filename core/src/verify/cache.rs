//! [`KeySetCache`]: the provider's key set, kept for a bounded age and fetched again after a
//! key rotation, at most once per cool-down, on a time the caller passes in.

use std::time::Duration;

use http::{Request, Response, Uri};

use super::jwk::JwkSet;
use super::request::{build_key_set_request, parse_key_set_response};
use super::signature::Token;
use crate::alg::Algorithm;
use crate::error::{Error, SignatureError};
use crate::secret::ClientSecret;
use crate::time::UnixTime;

/// What [`KeySetCache::verify`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The signature verifies, with this algorithm.
    Verified(Algorithm),
    /// Fetch the key set ([`KeySetCache::build_request`]), hand it in
    /// ([`KeySetCache::handle_key_set_response`], or [`KeySetCache::handle_fetch_failed`]),
    /// then ask again.
    FetchKeys,
    /// The signature is refused.
    Refused(SignatureError),
}

/// The key set of one provider, as a sans-IO cache: the caller fetches, the cache decides
/// when, from the times it is given.
///
/// - No key set yet, or one older than the maximum age ([`DEFAULT_MAX_AGE`], 1 hour):
///   [`Verdict::FetchKeys`] before anything is verified.
/// - A token whose `kid` is in no key of the set (or, without a `kid`, that no key fits):
///   [`Verdict::FetchKeys`] if the last fetch was at least a cool-down ago
///   ([`DEFAULT_REFETCH_COOLDOWN`], 60 s), so a key rotation on the provider's side is picked
///   up without a failure; within the cool-down, refused. A flood of tokens with made-up
///   `kid`s causes at most one fetch per cool-down.
/// - A failed fetch keeps the keys there were and counts as a fetch for the cool-down (no
///   refetch storm while the provider is down).
/// - HS256/384/512 tokens are checked with the client secret and never need the key set.
///
/// [`DEFAULT_MAX_AGE`]: Self::DEFAULT_MAX_AGE
/// [`DEFAULT_REFETCH_COOLDOWN`]: Self::DEFAULT_REFETCH_COOLDOWN
///
/// ```
/// use oidc_refresh_core::{http, Algorithm, KeySetCache, UnixTime, Verdict};
///
/// // RFC 8037 Appendix A.4: an Ed25519 signature, and the public key of A.2.
/// let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/// let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
///
/// let mut cache = KeySetCache::new("https://id.example/jwks".parse()?);
/// let now = UnixTime::from_secs(1_700_000_000);
/// assert_eq!(cache.verify(now, jws, None), Verdict::FetchKeys);
///
/// // Send this with any HTTP client, then hand back the response.
/// let request = cache.build_request();
/// assert_eq!(request.uri(), "https://id.example/jwks");
/// cache.handle_key_set_response(now, &http::Response::new(jwks))?;
/// assert_eq!(cache.verify(now, jws, None), Verdict::Verified(Algorithm::EdDsa));
/// assert_eq!(cache.fetches(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeySetCache {
    jwks_uri: Uri,
    keys: Option<JwkSet>,
    /// When `keys` was handed in.
    fetched_at: Option<UnixTime>,
    /// When a key set was last fetched, or a fetch last failed.
    attempted_at: Option<UnixTime>,
    max_age: Duration,
    refetch_cooldown: Duration,
    algorithms: Option<Vec<Algorithm>>,
    fetches: u32,
}

impl KeySetCache {
    /// How long a key set is used before it is fetched again: 1 hour.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
    /// The least time between two fetches caused by an unknown `kid` (or a failed fetch):
    /// 60 seconds.
    pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);

    /// An empty cache for the key set at `jwks_uri` (checked beforehand with
    /// [`check_jwks_uri`](crate::check_jwks_uri)), accepting every algorithm of
    /// [`Algorithm::ALL`].
    #[must_use]
    pub fn new(jwks_uri: Uri) -> KeySetCache {
        KeySetCache {
            jwks_uri,
            keys: None,
            fetched_at: None,
            attempted_at: None,
            max_age: Self::DEFAULT_MAX_AGE,
            refetch_cooldown: Self::DEFAULT_REFETCH_COOLDOWN,
            algorithms: None,
            fetches: 0,
        }
    }

    /// Sets how long a key set is used before it is fetched again.
    #[must_use]
    pub fn with_max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }

    /// Sets the least time between two fetches caused by an unknown `kid`, a stale set or a
    /// failed fetch.
    #[must_use]
    pub fn with_refetch_cooldown(mut self, d: Duration) -> Self {
        self.refetch_cooldown = d;
        self
    }

    /// Accepts only these algorithms, e.g. the provider's
    /// `id_token_signing_alg_values_supported` (names this crate does not know left out by
    /// the caller). An empty list accepts every algorithm, as if none were given.
    #[must_use]
    pub fn with_algorithms(mut self, allowed: Vec<Algorithm>) -> Self {
        self.algorithms = (!allowed.is_empty()).then_some(allowed);
        self
    }

    /// The URL of the key set.
    #[must_use]
    pub fn jwks_uri(&self) -> &Uri {
        &self.jwks_uri
    }

    /// The algorithms accepted; `None` when every algorithm is.
    #[must_use]
    pub fn algorithms(&self) -> Option<&[Algorithm]> {
        self.algorithms.as_deref()
    }

    /// The key set held, if one was handed in.
    #[must_use]
    pub fn keys(&self) -> Option<&JwkSet> {
        self.keys.as_ref()
    }

    /// When the key set held was handed in.
    #[must_use]
    pub fn fetched_at(&self) -> Option<UnixTime> {
        self.fetched_at
    }

    /// The request for the key set: a `GET` of [`jwks_uri`](Self::jwks_uri).
    #[must_use]
    pub fn build_request(&self) -> Request<Vec<u8>> {
        build_key_set_request(&self.jwks_uri)
    }

    /// Whether a fetch at `now` respects the cool-down since the last one.
    fn may_fetch(&self, now: UnixTime) -> bool {
        self.attempted_at.is_none_or(|at| now.saturating_duration_since(at) >= self.refetch_cooldown)
    }

    /// Verifies the signature of the compact JWS `jwt` at `now` (see the type's docs for
    /// when the verdict is [`Verdict::FetchKeys`]); `secret` is the client secret, the only
    /// key for HS256/384/512, as for [`verify_signature`](crate::verify_signature).
    ///
    /// A token refused for what it is (`alg: none`, an algorithm not accepted, `crit`, a
    /// malformed token) is refused before any fetch.
    #[must_use]
    pub fn verify(&self, now: UnixTime, jwt: &str, secret: Option<&ClientSecret>) -> Verdict {
        let token = match Token::parse(jwt, self.algorithms.as_deref()) {
            Ok(token) => token,
            Err(e) => return Verdict::Refused(e),
        };
        if token.alg().is_hmac() {
            return verdict(token.verify_hmac(secret));
        }
        let may_fetch = self.may_fetch(now);
        let stale = match (&self.keys, self.fetched_at) {
            (Some(_), Some(at)) => now.saturating_duration_since(at) >= self.max_age,
            _ => true,
        };
        if stale && may_fetch {
            return Verdict::FetchKeys;
        }
        let empty;
        let keys = match &self.keys {
            Some(keys) => keys,
            None => {
                empty = JwkSet::empty();
                &empty
            }
        };
        match token.verify(keys, secret) {
            Err(e) if e.may_need_new_keys() && may_fetch => Verdict::FetchKeys,
            result => verdict(result),
        }
    }

    /// Keeps `keys`, fetched at `now`, in place of the set held.
    pub fn handle_key_set(&mut self, now: UnixTime, keys: JwkSet) {
        self.keys = Some(keys);
        self.fetched_at = Some(now);
        self.attempted_at = Some(now);
        self.fetches = self.fetches.saturating_add(1);
    }

    /// Reads the response to [`build_request`](Self::build_request), received at `now`, and
    /// keeps its key set ([`handle_key_set`](Self::handle_key_set)).
    ///
    /// # Errors
    ///
    /// As [`parse_key_set_response`](crate::parse_key_set_response). The keys held before
    /// are kept, and the attempt counts for the cool-down (no refetch storm).
    pub fn handle_key_set_response<B: AsRef<[u8]>>(
        &mut self,
        now: UnixTime,
        response: &Response<B>,
    ) -> Result<(), Error> {
        match parse_key_set_response(response) {
            Ok(keys) => {
                self.handle_key_set(now, keys);
                Ok(())
            }
            Err(e) => {
                self.handle_fetch_failed(now);
                Err(e)
            }
        }
    }

    /// Notes that fetching the key set failed at `now` (a transport error): the keys held are
    /// kept and the next fetch waits for the cool-down.
    pub fn handle_fetch_failed(&mut self, now: UnixTime) {
        self.attempted_at = Some(now);
    }

    /// How many key sets were handed in ([`handle_key_set`](Self::handle_key_set), or a
    /// response that [`handle_key_set_response`](Self::handle_key_set_response) could read).
    #[must_use]
    pub fn fetches(&self) -> u32 {
        self.fetches
    }
}

fn verdict(result: Result<Algorithm, SignatureError>) -> Verdict {
    match result {
        Ok(alg) => Verdict::Verified(alg),
        Err(e) => Verdict::Refused(e),
    }
}
