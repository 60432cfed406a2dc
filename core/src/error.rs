//! Errors, typed by who is at fault.
//!
//! | variant | whose fault | CLI exit |
//! | --- | --- | --- |
//! | [`Error::Config`] | the caller: bad URL, plain http off loopback, bad scope or token syntax; no token set to refresh ([`ConfigError::NoTokens`]: sign in) | 2 |
//! | [`Error::Server`] | nobody's: the server refused with an OAuth error (`invalid_grant`, ...) | 3 |
//! | [`Error::Protocol`] | the server broke the protocol: not JSON, wrong shape, bad ID token | 4 |
//! | [`Error::Transport`] | the network: connect, timeout, TLS, redirect refused, body over the cap | 5 |
//! | [`Error::IdToken`] | the ID token decoded but failed validation or continuity | 6 |
//! | [`Error::Store`] | the token store could not be read or written (reported by a session's driver) | 2, or 7 when it holds a rotated refresh token it could not write |
//!
//! No error ever displays a token or holds a whole response body. The only token an error
//! may hold is a refresh token the server rotated in an otherwise unusable response
//! (R18 rotated-token-survives-broken-response: the old one is spent, so the new one must
//! not be lost), or a rotated one that could not be written to the store ([`Error::Store`]);
//! it sits in a redacting [`RefreshToken`] and is reached through
//! [`Error::rotated_refresh_token`].

use std::fmt;

use http::StatusCode;

use crate::jwt::JwtError;
use crate::redact::{Sanitized, sanitize};
use crate::secret::RefreshToken;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's configuration or input is invalid; nothing was or should be sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server answered with an OAuth 2.0 error response (RFC 6749 §5.2).
    #[error(transparent)]
    Server(#[from] Box<OAuthError>),
    /// The server's response does not follow the protocol.
    #[error(transparent)]
    Protocol(#[from] Box<ProtocolError>),
    /// The ID token decoded but failed a check (OIDC Core §3.1.3.7, §12.2).
    #[error(transparent)]
    IdToken(#[from] Box<IdTokenError>),
    /// The HTTP exchange itself failed (reported by a transport; the core never does I/O).
    #[error(transparent)]
    Transport(#[from] Box<TransportError>),
    /// The token store could not be read or written (reported by whoever drives a
    /// [`Session`](crate::Session); the core does no I/O).
    #[error(transparent)]
    Store(#[from] Box<StoreError>),
}

/// Who is at fault for an [`Error`]: see the table on [`Error`]'s variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The caller: configuration or input.
    Caller,
    /// The server refused the request with an OAuth error.
    ServerRefused,
    /// The server broke the protocol.
    ServerProtocol,
    /// The ID token failed validation.
    IdToken,
    /// The network or the HTTP exchange failed.
    Transport,
    /// The token store failed.
    Store,
}

impl Fault {
    /// A stable name for logs and metrics: `caller`, `server_refused`, `server_protocol`,
    /// `id_token`, `transport` or `store`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Caller => "caller",
            Fault::ServerRefused => "server_refused",
            Fault::ServerProtocol => "server_protocol",
            Fault::IdToken => "id_token",
            Fault::Transport => "transport",
            Fault::Store => "store",
        }
    }
}

impl Error {
    /// Who is at fault.
    #[must_use]
    pub fn fault(&self) -> Fault {
        match self {
            Error::Config(_) => Fault::Caller,
            Error::Server(_) => Fault::ServerRefused,
            Error::Protocol(_) => Fault::ServerProtocol,
            Error::IdToken(_) => Fault::IdToken,
            Error::Transport(_) => Fault::Transport,
            Error::Store(_) => Fault::Store,
        }
    }

    /// `true` when the user must sign in (again): the server answered `invalid_grant` (the
    /// refresh token is expired, revoked or already spent), or there is no grant at all
    /// ([`ConfigError::NoTokens`]: the store is empty).
    #[must_use]
    pub fn is_reauth_required(&self) -> bool {
        match self {
            Error::Server(e) => e.code() == "invalid_grant",
            Error::Config(e) => matches!(e, ConfigError::NoTokens),
            Error::Protocol(_) | Error::IdToken(_) | Error::Transport(_) | Error::Store(_) => false,
        }
    }

    /// `true` when sending the same request again later may succeed: an OAuth
    /// `temporarily_unavailable` or `slow_down`, an HTTP 429, or a 5xx that is not an
    /// OAuth error (an HTML 502 from a proxy). Other OAuth errors are final
    /// (R26 transient-failures-retried-bounded).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server(e) => {
                matches!(e.code(), "temporarily_unavailable" | "slow_down")
                    || e.status() == StatusCode::TOO_MANY_REQUESTS
            }
            Error::Protocol(e) => {
                e.status().is_some_and(|s| s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS)
            }
            Error::Transport(e) => e.kind().is_retryable(),
            Error::Config(_) | Error::IdToken(_) | Error::Store(_) => false,
        }
    }

    /// The OAuth error code (`invalid_grant`, `invalid_client`, ...) when the server sent one.
    #[must_use]
    pub fn oauth_error_code(&self) -> Option<&str> {
        match self {
            Error::Server(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The `Retry-After` header of the response this error came from, in seconds, when it
    /// was sent as a number (R26 transient-failures-retried-bounded).
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::Server(e) => e.retry_after_secs(),
            Error::Protocol(e) => e.retry_after_secs(),
            _ => None,
        }
    }

    /// The HTTP status of the response this error came from, if any.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Server(e) => Some(e.status()),
            Error::Protocol(e) => e.status(),
            _ => None,
        }
    }

    /// The new refresh token from a response that rotated it but was otherwise unusable
    /// (R18 rotated-token-survives-broken-response). Store it: the refresh token that was
    /// sent is spent.
    ///
    /// `None` for every error that did not come from such a response, and for an ID token
    /// that names another issuer, subject or audience (then nothing in it may be used).
    #[must_use]
    pub fn rotated_refresh_token(&self) -> Option<&RefreshToken> {
        match self {
            Error::Protocol(e) => e.rotated_refresh_token.as_ref(),
            Error::IdToken(e) => e.rotated_refresh_token(),
            Error::Transport(e) => e.rotated_refresh_token.as_ref(),
            Error::Store(e) => e.unsaved_refresh_token.as_ref(),
            _ => None,
        }
    }

    /// Takes the rotated refresh token out of the error (see
    /// [`rotated_refresh_token`](Self::rotated_refresh_token)).
    #[must_use]
    pub fn take_rotated_refresh_token(&mut self) -> Option<RefreshToken> {
        match self {
            Error::Protocol(e) => e.rotated_refresh_token.take(),
            Error::IdToken(e) => e.take_rotated_refresh_token(),
            Error::Transport(e) => e.rotated_refresh_token.take(),
            Error::Store(e) => e.unsaved_refresh_token.take(),
            _ => None,
        }
    }

    /// This error, holding `rotated`: the refresh token of a response that rotated it and
    /// whose refresh then failed after all (its ID token did not verify, the provider's key
    /// set could not be fetched or read), so that the caller stores it
    /// ([`take_rotated_refresh_token`](Self::take_rotated_refresh_token)). A configuration
    /// error (a key-set URL the transport refuses) becomes an [`Error::Transport`] of kind
    /// [`TransportErrorKind::Other`] to hold it; an OAuth error from the server cannot come
    /// after a rotation and is returned unchanged, without the token.
    #[must_use]
    pub fn with_rotated_refresh_token(self, rotated: RefreshToken) -> Error {
        match self {
            Error::Protocol(mut e) => {
                e.rotated_refresh_token = Some(rotated);
                Error::Protocol(e)
            }
            Error::IdToken(mut e) => {
                e.rotated_refresh_token = Some(rotated);
                Error::IdToken(e)
            }
            Error::Transport(mut e) => {
                e.rotated_refresh_token = Some(rotated);
                Error::Transport(e)
            }
            Error::Store(mut e) => {
                e.unsaved_refresh_token.get_or_insert(rotated);
                Error::Store(e)
            }
            Error::Config(e) => {
                let mut e = TransportError::new(TransportErrorKind::Other, e);
                e.rotated_refresh_token = Some(rotated);
                Error::Transport(Box::new(e))
            }
            e @ Error::Server(_) => e,
        }
    }

    /// A copy of this error for another caller that shared the same refresh (a token
    /// manager hands one to every waiter): the same variant, kind, status, OAuth error and
    /// `Retry-After`, with the cause of a transport or store error kept as (sanitised) text.
    /// The rotated refresh token of R18 rotated-token-survives-broken-response is not
    /// copied: it stays with the original, so that a secret lives in one place.
    #[must_use]
    pub fn duplicate(&self) -> Error {
        fn text(source: &(dyn std::error::Error + Send + Sync)) -> Box<dyn std::error::Error + Send + Sync> {
            sanitize(&source.to_string(), 300).into()
        }
        match self {
            Error::Config(e) => Error::Config(e.clone()),
            Error::Server(e) => Error::Server(e.clone()),
            Error::Protocol(e) => {
                let mut copy = ProtocolError::new(e.kind.clone());
                copy.status = e.status;
                copy.content_type.clone_from(&e.content_type);
                copy.excerpt.clone_from(&e.excerpt);
                copy.retry_after.clone_from(&e.retry_after);
                copy.into()
            }
            Error::IdToken(e) => IdTokenError::from(e.kind()).into(),
            Error::Transport(e) => TransportError {
                kind: e.kind,
                source: e.source.as_deref().map(|s| sanitize(&chain_text(s), 400).into()),
                rotated_refresh_token: None,
            }
            .into(),
            Error::Store(e) => StoreError {
                write: e.write,
                superseded: e.superseded,
                source: text(e.source.as_ref()),
                unsaved_refresh_token: None,
                after: e.after.as_ref().map(Error::duplicate),
            }
            .into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(Box::new(e))
    }
}

/// The token store could not be read (or locked) or written.
///
/// When a write failed after the server had rotated the refresh token, the new refresh
/// token is kept here ([`Error::rotated_refresh_token`]) as well as in the session's memory,
/// so that it is never lost: the one that was sent is spent.
#[derive(Debug)]
pub struct StoreError {
    write: bool,
    superseded: bool,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
    unsaved_refresh_token: Option<RefreshToken>,
    /// The failure this write came after (see [`StoreError::after`]).
    after: Option<Error>,
}

impl StoreError {
    /// Reading (or locking) the store failed.
    #[must_use]
    pub fn read(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            write: false,
            superseded: false,
            source: source.into(),
            unsaved_refresh_token: None,
            after: None,
        }
    }

    /// Writing a token set failed; `unsaved_refresh_token` is the rotated refresh token that
    /// it held, if the server rotated it.
    #[must_use]
    pub fn write(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
        unsaved_refresh_token: Option<RefreshToken>,
    ) -> Self {
        Self { write: true, superseded: false, source: source.into(), unsaved_refresh_token, after: None }
    }

    /// The store refused a write because another writer stored a newer token set since this
    /// refresh read it (a compare-and-set store: the refresh's hold on the store had lapsed).
    /// The newer set is adopted; `unsaved_refresh_token` is this refresh's rotated refresh
    /// token, kept only here, never written over the newer set.
    #[must_use]
    pub fn superseded(unsaved_refresh_token: Option<RefreshToken>) -> Self {
        Self {
            write: true,
            superseded: true,
            source: "another writer stored a newer token set meanwhile".into(),
            unsaved_refresh_token,
            after: None,
        }
    }

    /// `true` when a newer set written meanwhile was kept instead of this one
    /// ([`StoreError::superseded`]).
    #[must_use]
    pub fn is_superseded(&self) -> bool {
        self.superseded
    }

    /// The same failure, noting the one it came after.
    #[must_use]
    pub(crate) fn after_failure(mut self, after: Option<Error>) -> Self {
        self.after = after;
        self
    }

    /// `true` for a failed write, `false` for a failed read or lock.
    #[must_use]
    pub fn is_write(&self) -> bool {
        self.write
    }

    /// The failure this write came after, if any: a response that broke the protocol (or
    /// whose ID token failed) but rotated the refresh token, which was then to be stored
    /// before that failure was reported (R18 rotated-token-survives-broken-response). Its
    /// rotated token is not in it: it is [`Error::rotated_refresh_token`] of the store error.
    #[must_use]
    pub fn after(&self) -> Option<&Error> {
        self.after.as_ref()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.write { "written" } else { "read" };
        write!(f, "the token store could not be {what}: {}", Sanitized(&self.source.to_string(), 300))?;
        if self.superseded {
            f.write_str("; the newer set was adopted")?;
            if self.unsaved_refresh_token.is_some() {
                f.write_str(", and this refresh's rotated refresh token is kept in this error only")?;
            }
        } else if self.unsaved_refresh_token.is_some() {
            f.write_str("; the rotated refresh token is kept in memory")?;
        }
        if let Some(after) = &self.after {
            write!(f, " (after: {after})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Self {
        Error::Server(Box::new(e))
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(Box::new(e))
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(Box::new(e))
    }
}

impl From<IdTokenError> for Error {
    fn from(e: IdTokenError) -> Self {
        Error::IdToken(Box::new(e))
    }
}

/// The HTTP exchange failed: what a transport reports, in the core's vocabulary so that
/// every transport has the same error classes and the session logic can react to them.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// A refresh token a response rotated before this exchange failed (the provider's key
    /// set could not be fetched, say): the one sent is spent.
    rotated_refresh_token: Option<RefreshToken>,
}

impl TransportError {
    /// A transport error of `kind`, caused by `source` (which must not hold a secret:
    /// HTTP clients' errors name hosts and causes, never bodies).
    #[must_use]
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self { kind, source: Some(source.into()), rotated_refresh_token: None }
    }

    /// A transport error of `kind` without an underlying cause.
    #[must_use]
    pub fn from_kind(kind: TransportErrorKind) -> Self {
        Self { kind, source: None, rotated_refresh_token: None }
    }

    /// The class of failure.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The HTTP client's error behind this one, to downcast (an `io::Error`, a `hyper` or
    /// `ureq` error). The message already names it and its causes (sanitised), so it is not
    /// this error's [`source`](std::error::Error::source): a printer of error chains shows
    /// each cause once.
    #[must_use]
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

/// `transport error: {kind}: {cause}`, the cause followed by its own causes (each left out
/// when the one before already says it): the whole story in one line, with token-like runs
/// masked.
impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport error: {}", self.kind)?;
        if let Some(source) = &self.source {
            write!(f, ": {}", Sanitized(&chain_text(source.as_ref()), 400))?;
        }
        Ok(())
    }
}

/// `e` and its causes as one text, `: `-separated; a cause whose text the text before
/// already holds (`io: {io error}`) is not repeated.
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut last = text.clone();
    let mut cause = e.source();
    for _ in 0..16 {
        let Some(c) = cause else { break };
        let shown = c.to_string();
        if !shown.is_empty() && !last.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        last = shown;
        cause = c.source();
    }
    text
}

/// No `source`: the message names the cause and its chain ([`TransportError::cause`] gives
/// the cause itself), so that each cause is shown once.
impl std::error::Error for TransportError {}

/// The classes of [`TransportError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, unreachable, DNS failure).
    #[error("could not connect")]
    Connect,
    /// The exchange took longer than its deadline.
    #[error("timed out")]
    Timeout,
    /// TLS failed: untrusted certificate, wrong name, handshake error.
    #[error("TLS failed")]
    Tls,
    /// The server answered with a redirect, which is never followed
    /// (R9 no-redirects-capped-body-timeouts).
    #[error("the server answered with a redirect, which is refused")]
    Redirect,
    /// The response body exceeded the configured cap.
    #[error("the response body exceeds the size cap")]
    BodyTooLarge,
    /// The connection broke before the response was complete.
    #[error("the connection closed before the response was complete")]
    Interrupted,
    /// Any other I/O or HTTP-level failure.
    #[error("the HTTP exchange failed")]
    Other,
}

impl TransportErrorKind {
    /// Whether a new attempt may succeed (R26 transient-failures-retried-bounded): connect
    /// failures, timeouts and broken connections are transient; TLS failures, redirects and
    /// oversized bodies are not.
    #[must_use]
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Connect | Self::Timeout | Self::Interrupted)
    }
}

/// The caller's configuration or input is invalid. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The token endpoint (or issuer) is not a usable absolute URL.
    #[error("invalid URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain `http://` to a host that is not loopback (RFC 6749 §3.2 requires TLS).
    #[error("plain http is allowed only to a loopback host (127.0.0.0/8, [::1], localhost); use https")]
    InsecureUrl,
    /// The client id is empty or holds a control character.
    #[error("invalid client id: {reason}")]
    InvalidClientId {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A client secret is empty or holds a control character.
    #[error("invalid client secret: {reason}")]
    InvalidClientSecret {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The requested scope is not a space-delimited list of scope-tokens (RFC 6749 §3.3).
    #[error("invalid scope: {reason}")]
    InvalidScope {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The refresh token is empty or holds a character outside `%x20-7E` (RFC 6749 A.17).
    #[error("invalid refresh token: {reason}")]
    InvalidRefreshToken {
        /// What is wrong with it (never the token itself).
        reason: &'static str,
    },
    /// There is no grant to refresh: a [`Session`](crate::Session) holds no token set and
    /// the store has none either (it was never written, or was emptied). The user must sign
    /// in and the new token set be written to the store: [`Error::is_reauth_required`] is
    /// `true`, and the session says [`Action::SignIn`](crate::Action::SignIn). Nothing was
    /// sent.
    #[error("there is no token set (the store is empty): sign in first")]
    NoTokens,
    /// An extra request parameter would override one of the grant's own parameters.
    #[error("extra parameter `{name}` is reserved by the refresh grant and cannot be overridden")]
    ReservedParameter {
        /// The parameter name.
        name: String,
    },
    /// An extra trusted root certificate given to a transport is not a usable DER X.509
    /// certificate.
    #[error("extra root certificate #{index} is not a usable DER X.509 certificate")]
    InvalidRootCertificate {
        /// Its position among the extra roots, counting from 1.
        index: usize,
    },
    /// An extra request parameter name is empty or repeated.
    #[error("invalid extra parameter: {reason}")]
    InvalidParameter {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A driver fed a [`Session`](crate::Session) an input it was not waiting for: a bug
    /// of the driver.
    #[error(transparent)]
    OutOfStep(OutOfStep),
}

/// A `Session::handle_*` call the session was not waiting for: the result of a step it
/// never handed out, or of one it already has. The input is ignored and the session is
/// unchanged; the driver that made the call is out of step (a bug), which this error makes
/// loud rather than silent.
///
/// ```
/// use oidc_refresh_core::{ClientConfig, Session, TokenSet};
///
/// let mut session = Session::new(ClientConfig::new("https://id.example/token", "app")?);
/// // No `Action::Load` was handed out: there is nothing to answer.
/// let e = session.handle_loaded(Ok::<_, std::io::Error>(None::<TokenSet>)).unwrap_err();
/// assert_eq!(e.input(), "handle_loaded");
/// assert_eq!(e.state(), "idle");
/// # Ok::<(), oidc_refresh_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Session::{input} called while the session is {state}: the driver is out of step (input ignored)")]
pub struct OutOfStep {
    input: &'static str,
    state: &'static str,
}

impl OutOfStep {
    pub(crate) fn new(input: &'static str, state: &'static str) -> Self {
        Self { input, state }
    }

    /// The call that was out of step: `handle_loaded`, `handle_response`,
    /// `handle_transport_error` or `handle_stored`.
    #[must_use]
    pub fn input(&self) -> &'static str {
        self.input
    }

    /// What the session was doing: `idle`, `loading`, `locked`, `sending`, `backoff` or
    /// `storing`.
    #[must_use]
    pub fn state(&self) -> &'static str {
        self.state
    }
}

impl From<OutOfStep> for Error {
    fn from(e: OutOfStep) -> Self {
        Error::Config(ConfigError::OutOfStep(e))
    }
}

/// An OAuth 2.0 error response (RFC 6749 §5.2), with ReachFive's extra members.
///
/// `Display` and `Debug` show server-written text bounded and sanitised: token-like runs are
/// masked, in case a server echoes a credential. The accessors return it as sent.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) description: Option<String>,
    pub(crate) uri: Option<String>,
    pub(crate) www_authenticate: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) user_msg: Option<String>,
    pub(crate) message_key: Option<String>,
    pub(crate) details: Vec<ErrorDetail>,
    pub(crate) error_id: Option<String>,
}

impl OAuthError {
    /// The `error` code, e.g. `invalid_grant`.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The HTTP status the error came with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// `error_description`, as sent.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// `error_uri`, as sent.
    #[must_use]
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }
    /// The `WWW-Authenticate` response header (sent with 401 `invalid_client`).
    #[must_use]
    pub fn www_authenticate(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }
    /// The `Retry-After` response header, as sent (seconds or an HTTP date).
    #[must_use]
    pub fn retry_after(&self) -> Option<&str> {
        self.retry_after.as_deref()
    }
    /// `Retry-After` when it is a number of seconds.
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.as_deref().and_then(|v| v.trim().parse().ok())
    }
    /// ReachFive's `error_user_msg`: a message meant for the end user.
    #[must_use]
    pub fn user_msg(&self) -> Option<&str> {
        self.user_msg.as_deref()
    }
    /// ReachFive's `error_message_key`.
    #[must_use]
    pub fn message_key(&self) -> Option<&str> {
        self.message_key.as_deref()
    }
    /// ReachFive's `error_details`: per-field problems.
    #[must_use]
    pub fn details(&self) -> &[ErrorDetail] {
        &self.details
    }
    /// ReachFive's `error_id`, to quote to their support.
    #[must_use]
    pub fn error_id(&self) -> Option<&str> {
        self.error_id.as_deref()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server refused the request: {} (HTTP {})",
            Sanitized(&self.code, 64),
            self.status.as_u16()
        )?;
        if let Some(d) = &self.description {
            write!(f, ": {}", Sanitized(d, 200))?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {}

/// `Option<String>` of server-written text, shown sanitised.
struct MaskedOpt<'a>(&'a Option<String>);

impl fmt::Debug for MaskedOpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, "Some({:?})", sanitize(text, 200)),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthError")
            .field("status", &self.status)
            .field("code", &sanitize(&self.code, 64))
            .field("description", &MaskedOpt(&self.description))
            .field("uri", &MaskedOpt(&self.uri))
            .field("www_authenticate", &MaskedOpt(&self.www_authenticate))
            .field("retry_after", &MaskedOpt(&self.retry_after))
            .field("user_msg", &MaskedOpt(&self.user_msg))
            .field("message_key", &MaskedOpt(&self.message_key))
            .field("details", &self.details)
            .field("error_id", &MaskedOpt(&self.error_id))
            .finish()
    }
}

/// One entry of ReachFive's `error_details`: `{field, message, code}`. `Debug` masks
/// token-like runs, as for [`OAuthError`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The field the problem is about.
    pub field: Option<String>,
    /// A human-readable message.
    pub message: Option<String>,
    /// `missing` or `invalid` in ReachFive's API.
    pub code: Option<String>,
}

impl fmt::Debug for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetail")
            .field("field", &MaskedOpt(&self.field))
            .field("message", &MaskedOpt(&self.message))
            .field("code", &MaskedOpt(&self.code))
            .finish()
    }
}

/// The server's response does not follow the protocol.
///
/// Holds the status, the content type and, for bodies that are not JSON at all, a short
/// sanitised excerpt; never the whole body and never a token, except the rotated refresh
/// token of R18 rotated-token-survives-broken-response in its redacting type.
#[derive(Debug)]
pub struct ProtocolError {
    pub(crate) kind: ProtocolErrorKind,
    pub(crate) status: Option<StatusCode>,
    pub(crate) content_type: Option<String>,
    pub(crate) excerpt: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) rotated_refresh_token: Option<RefreshToken>,
}

impl ProtocolError {
    pub(crate) fn new(kind: ProtocolErrorKind) -> Self {
        Self {
            kind,
            status: None,
            content_type: None,
            excerpt: None,
            retry_after: None,
            rotated_refresh_token: None,
        }
    }

    /// What is wrong.
    #[must_use]
    pub fn kind(&self) -> &ProtocolErrorKind {
        &self.kind
    }
    /// The HTTP status of the response, when the error came from one.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }
    /// The response's `Content-Type`, bounded and sanitised.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
    /// The first bytes of a body that is not JSON, bounded, sanitised, token-like runs masked.
    #[must_use]
    pub fn excerpt(&self) -> Option<&str> {
        self.excerpt.as_deref()
    }
    /// The `Retry-After` response header, as sent (an HTML 429 or 503 from a proxy).
    #[must_use]
    pub fn retry_after(&self) -> Option<&str> {
        self.retry_after.as_deref()
    }
    /// `Retry-After` when it is a number of seconds.
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.as_deref().and_then(|v| v.trim().parse().ok())
    }
    /// The rotated refresh token of R18 rotated-token-survives-broken-response, if the
    /// response carried a well-formed one.
    #[must_use]
    pub fn rotated_refresh_token(&self) -> Option<&RefreshToken> {
        self.rotated_refresh_token.as_ref()
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server broke the protocol: {}", self.kind)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {}", status.as_u16())?;
            if let Some(ct) = &self.content_type {
                write!(f, ", {ct}")?;
            }
            f.write_str(")")?;
        }
        if let Some(excerpt) = &self.excerpt {
            write!(f, "; body starts {excerpt:?}")?;
        }
        if self.rotated_refresh_token.is_some() {
            f.write_str("; the response rotated the refresh token, which is kept")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ProtocolErrorKind::IdToken(e) => Some(e),
            ProtocolErrorKind::KeySet(e) => Some(e),
            _ => None,
        }
    }
}

/// What exactly is wrong in a [`ProtocolError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// The body is not JSON (an HTML page, an empty body, invalid UTF-8, trailing garbage,
    /// nesting too deep).
    #[error("the body is not JSON ({detail})")]
    NotJson {
        /// The JSON parser's position-only description.
        detail: String,
    },
    /// The body is JSON but its top level is not an object.
    #[error("the body is JSON but not an object")]
    NotAnObject,
    /// A JSON object arrived with a status it cannot have: a token response with a non-2xx
    /// status, or a 4xx/5xx object without an `error` code.
    #[error("unexpected HTTP status for this body: {reason}")]
    UnexpectedStatus {
        /// Why the status does not fit the body.
        reason: &'static str,
    },
    /// A required member is missing (or `null`).
    #[error("the required member `{field}` is missing")]
    MissingField {
        /// The member's wire name.
        field: &'static str,
    },
    /// A member has the wrong type or an invalid value.
    #[error("the member `{field}` is invalid: {reason}")]
    InvalidField {
        /// The member's wire name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A member name appears twice in one object (parsers would disagree on which counts).
    #[error("the member name {name:?} appears more than once in one object")]
    DuplicateMember {
        /// The member name, bounded and sanitised.
        name: String,
    },
    /// The `id_token` cannot be decoded.
    #[error("the ID token cannot be decoded: {0}")]
    IdToken(#[from] JwtError),
    /// A discovery document is unusable (wrong issuer, missing or insecure endpoint).
    #[error("the discovery document is unusable: {reason}")]
    Discovery {
        /// What is wrong with it.
        reason: String,
    },
    /// The key set fetched from `jwks_uri` is unusable: a status other than 2xx, or a body
    /// that is not a JWK Set (feature `verify`).
    #[error(transparent)]
    KeySet(KeySetError),
}

/// What is wrong with a JWK Set (RFC 7517 §5) or the response that should have carried one.
///
/// Its `Display` says what is wrong and where, never a key's material; a member name it
/// quotes is bounded and sanitised. Produced by the feature `verify`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a usable JWK Set: {reason}")]
pub struct KeySetError {
    reason: String,
}

impl KeySetError {
    /// An error saying `reason`, which must quote no key material.
    #[cfg_attr(not(feature = "verify"), allow(dead_code))]
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }

    /// What is wrong, e.g. ``the member `keys` is not an array``.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Why an ID token's signature was refused (feature `verify`), as
/// [`IdTokenErrorKind::Signature`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header says `alg: none`: an unsigned token.
    #[error("the token is unsigned (alg \"none\")")]
    AlgNone,
    /// The header's `alg` is missing or not one this crate verifies.
    #[error("the token's alg is missing or not supported")]
    UnsupportedAlg,
    /// The header's `alg` is supported but not among the algorithms accepted (e.g. the
    /// provider's `id_token_signing_alg_values_supported`).
    #[error("the token's alg is not among the accepted algorithms")]
    AlgNotAllowed,
    /// The header has `crit`, naming extensions this client does not understand.
    #[error("the token's header has a `crit` member")]
    CritHeader,
    /// Not three base64url segments, or a header that is not a JSON object.
    #[error("the token is not a well-formed compact JWS")]
    Malformed,
    /// The header's `kid` names no key of the key set that fits its `alg` (fetching the key
    /// set again may help: the provider may have rotated its keys).
    #[error("no key of the key set has the token's kid and fits its alg")]
    UnknownKid,
    /// The header has no `kid` and no key of the key set fits its `alg`.
    #[error("no key of the key set fits the token's alg")]
    NoCandidate,
    /// The header has no `kid` and several keys of the key set fit its `alg`.
    #[error("the token has no kid and several keys fit its alg")]
    Ambiguous,
    /// The key is an RSA key with a modulus under 2048 bits (counted without leading zero
    /// bytes), over 8192 bits or even, or with a public exponent that is refused (even, under
    /// 3, or over 33 bits).
    #[error("the key is too weak (an RSA modulus under 2048 bits, or a refused exponent)")]
    WeakKey,
    /// The `alg` is HS256, HS384 or HS512 and the client has no secret (such tokens are
    /// never checked with a key from a key set).
    #[error("the token is signed with HMAC and there is no client secret to check it with")]
    NoSecret,
    /// The signature does not verify (a tampered token, a wrong key, a DER-encoded ECDSA
    /// signature, a signature of the wrong length).
    #[error("the signature does not verify")]
    BadSignature,
}

impl SignatureError {
    /// `true` when fetching the key set again may help: [`UnknownKid`](Self::UnknownKid)
    /// and [`NoCandidate`](Self::NoCandidate) (the provider may have rotated its keys).
    #[must_use]
    pub fn may_need_new_keys(self) -> bool {
        matches!(self, Self::UnknownKid | Self::NoCandidate)
    }
}

/// Why a key cannot sign, or a client assertion or DPoP proof cannot be made (feature
/// `sign`).
///
/// Whose fault: every variant but [`SigningFailed`](Self::SigningFailed) is the caller's
/// (the configured key or secret is unusable, [`is_key_error`](Self::is_key_error); or an
/// argument is, [`InvalidInput`](Self::InvalidInput)): fix the configuration, nothing was
/// sent. [`SigningFailed`](Self::SigningFailed) is the platform's (its random number
/// generator failed). No variant shows key material: each names what is wrong, never a
/// value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The text is not a private key this crate reads: not a JWK or a PKCS#8 PEM, a member
    /// missing or malformed, a public key only, parts that do not fit together.
    #[error("unusable signing key: {reason}")]
    InvalidKey {
        /// What is wrong, never a key's value.
        reason: &'static str,
    },
    /// A key of a type, curve or size this crate does not sign with (it signs with RSA of
    /// 2048 to 4096 bits, EC P-256 and Ed25519).
    #[error("unsupported signing key: {reason}")]
    UnsupportedKey {
        /// Which kind of key it is.
        reason: &'static str,
    },
    /// An RSA key whose modulus is under 2048 bits (RFC 7518 §3.3, §3.5).
    #[error("the RSA key is too weak: a {bits}-bit modulus, at least 2048 bits are required")]
    WeakKey {
        /// The modulus length in bits.
        bits: usize,
    },
    /// The algorithm asked for does not fit the key (RS256 or PS256 for RSA, ES256 for
    /// P-256, EdDSA for Ed25519), or is not one this crate signs with.
    #[error("the algorithm {alg} cannot sign with this {key} key")]
    AlgorithmMismatch {
        /// The algorithm's `alg` name.
        alg: &'static str,
        /// The key's type: `RSA`, `EC P-256` or `OKP Ed25519`.
        key: &'static str,
    },
    /// The JWK's `use`, `key_ops` or `alg` member forbids signing with it (RFC 7517 §4.2,
    /// §4.3, §4.4), or its `alg` names another algorithm than the one asked for.
    #[error("the JWK does not allow this signature: {reason}")]
    UsageForbidden {
        /// Which member forbids it.
        reason: &'static str,
    },
    /// `client_secret_jwt` without a client secret (or with an empty one).
    #[error("client_secret_jwt needs a client secret, and the secret is empty")]
    NoSecret,
    /// An argument cannot go into the JWT: an empty client id or audience, a DPoP `htu`
    /// that is not an absolute http(s) URI, a nonce that is not `NQCHAR`.
    #[error("invalid input for a signed JWT: {reason}")]
    InvalidInput {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Signing failed: the random number generator the caller passed failed.
    #[error("signing failed: the random number generator failed")]
    SigningFailed,
}

impl SignError {
    /// `true` when the configured key or client secret is the problem (not an argument, not
    /// the random number generator): [`InvalidKey`](Self::InvalidKey),
    /// [`UnsupportedKey`](Self::UnsupportedKey), [`WeakKey`](Self::WeakKey),
    /// [`AlgorithmMismatch`](Self::AlgorithmMismatch),
    /// [`UsageForbidden`](Self::UsageForbidden) and [`NoSecret`](Self::NoSecret).
    #[must_use]
    pub fn is_key_error(self) -> bool {
        !matches!(self, Self::InvalidInput { .. } | Self::SigningFailed)
    }
}

/// Why an ID token failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenErrorKind {
    /// The header says `alg: none`: an unsigned token.
    #[error("the ID token is unsigned (alg \"none\")")]
    AlgNone,
    /// The header has `crit`, naming extensions this client does not understand.
    #[error("the ID token header has a `crit` member")]
    CritHeader,
    /// A claim §2 requires is missing.
    #[error("the ID token lacks the required claim `{0}`")]
    MissingClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("the ID token's `iss` is not the expected issuer")]
    IssuerMismatch,
    /// `aud` does not contain the client id.
    #[error("the ID token's `aud` does not contain this client's id")]
    AudienceMismatch,
    /// Several audiences and `azp` is not the client id.
    #[error("the ID token has several audiences and its `azp` is not this client's id")]
    AzpMismatch,
    /// `exp` is in the past (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    /// `iss` differs from the previous ID token's.
    #[error("the refreshed ID token names another issuer than the previous one")]
    IssuerChanged,
    /// `sub` differs from the previous ID token's.
    #[error("the refreshed ID token names another subject than the previous one")]
    SubjectChanged,
    /// `aud` is not the same set as the previous ID token's.
    #[error("the refreshed ID token names other audiences than the previous one")]
    AudienceChanged,
    /// `azp` differs from the previous ID token's.
    #[error("the refreshed ID token's `azp` differs from the previous one")]
    AzpChanged,
    /// `auth_time` differs from the previous ID token's.
    #[error("the refreshed ID token's `auth_time` differs from the previous one")]
    AuthTimeChanged,
    /// `iat` is earlier than the previous ID token's.
    #[error("the refreshed ID token was issued before the previous one")]
    IatEarlier,
    /// `nonce` is present and differs from the previous ID token's.
    #[error("the refreshed ID token's `nonce` differs from the previous one")]
    NonceChanged,
    /// The signature was refused (feature `verify`). Not an identity mismatch: a rotated
    /// refresh token is kept.
    #[error("the ID token's signature was refused: {0}")]
    Signature(SignatureError),
    /// `at_hash` does not match the access token of the same response (OIDC Core §3.1.3.8,
    /// §3.3.2.11; feature `verify`). Not an identity mismatch: a rotated refresh token is
    /// kept.
    #[error("the ID token's `at_hash` does not match the access token")]
    AtHashMismatch,
}

impl IdTokenErrorKind {
    /// `true` when the token names another issuer, subject or audience than expected or
    /// than before: then nothing from the response may be used, not even a rotated
    /// refresh token (R18 rotated-token-survives-broken-response).
    #[must_use]
    pub fn is_identity_mismatch(self) -> bool {
        matches!(
            self,
            Self::IssuerMismatch
                | Self::AudienceMismatch
                | Self::IssuerChanged
                | Self::SubjectChanged
                | Self::AudienceChanged
        )
    }
}

/// An ID token that failed validation, with the rotated refresh token of
/// R18 rotated-token-survives-broken-response when the failure is not an identity mismatch.
pub struct IdTokenError {
    pub(crate) kind: IdTokenErrorKind,
    pub(crate) rotated_refresh_token: Option<RefreshToken>,
}

impl IdTokenError {
    /// What failed.
    #[must_use]
    pub fn kind(&self) -> IdTokenErrorKind {
        self.kind
    }
    /// The rotated refresh token, kept unless the failure is an identity mismatch.
    #[must_use]
    pub fn rotated_refresh_token(&self) -> Option<&RefreshToken> {
        self.rotated_refresh_token.as_ref()
    }
    pub(crate) fn take_rotated_refresh_token(&mut self) -> Option<RefreshToken> {
        self.rotated_refresh_token.take()
    }
}

impl From<IdTokenErrorKind> for IdTokenError {
    fn from(kind: IdTokenErrorKind) -> Self {
        Self { kind, rotated_refresh_token: None }
    }
}

impl fmt::Debug for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenError")
            .field("kind", &self.kind)
            .field("rotated_refresh_token", &self.rotated_refresh_token)
            .finish()
    }
}

impl fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ID token validation failed: {}", self.kind)?;
        if self.rotated_refresh_token.is_some() {
            f.write_str("; the response rotated the refresh token, which is kept")?;
        }
        Ok(())
    }
}

impl std::error::Error for IdTokenError {}
