//! The `session` oracle's shadow model: what the sans-IO session must hold and must do
//! next, kept by the harness ([`crate::session`]) from the rules alone and compared with the
//! session after every event.

use std::time::Duration;

use oidc_refresh_core::{Error, Fault, IdTokenPayload, TokenSet, UnixTime};

use crate::session::secs;

/// What the session has handed out and not had reported back.
#[derive(Debug, Default)]
pub(crate) enum Out {
    #[default]
    Idle,
    Load,
    /// A request with refresh token `rt`, sent at `sent_at`, with `previous` the ID token the
    /// new one is checked against.
    Send {
        rt: String,
        sent_at: UnixTime,
        previous: Option<String>,
    },
    /// A set to write; `handed_out` once `Store` said so.
    Store {
        set: Box<TokenSet>,
        handed_out: bool,
        kind: StoreKind,
    },
}

/// Why a set is to be written.
#[derive(Debug)]
pub(crate) enum StoreKind {
    /// The set of a successful refresh, whose access token expires exactly at `expiry`
    /// (`sent_at + lifetime`; the set keeps whole seconds).
    Refreshed { expiry: UnixTime },
    /// The previous set with a rotated refresh token from a broken response, whose error is
    /// reported once the set is written.
    Rotated(Report),
    /// A set whose earlier write failed, written again.
    Rewrite,
}

/// An error the next poll must report.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) fault: Fault,
    /// Its `Display`, when known exactly.
    pub(crate) text: Option<String>,
    /// `SignIn` rather than `Failed`/`Ready`.
    pub(crate) reauth: bool,
    /// The rotated refresh token it must carry (exactly: `None` means none).
    pub(crate) carries: Option<String>,
}

/// A retry the session owes: the next poll says `Wait` or sends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Not sent before.
    pub(crate) earliest: UnixTime,
    /// `Wait` not past.
    pub(crate) latest: UnixTime,
    /// The `Wait` the session asked for, once it did: it must not move.
    pub(crate) until: Option<UnixTime>,
}

/// What the model needs of a failure without a rotated refresh token.
pub(crate) struct Failure {
    pub(crate) fault: Fault,
    pub(crate) text: String,
    pub(crate) reauth: bool,
    pub(crate) retryable: bool,
    pub(crate) retry_after: Duration,
}

impl Failure {
    pub(crate) fn of(e: &Error) -> Self {
        Self {
            fault: e.fault(),
            text: e.to_string(),
            reauth: e.is_reauth_required(),
            retryable: e.is_retryable(),
            retry_after: secs(e.retry_after_secs().unwrap_or(0)),
        }
    }
}

/// The shadow model: what the session must hold, what it has out, and what it owes.
#[derive(Debug, Default)]
pub(crate) struct Model {
    /// The token set the session must hold.
    pub(crate) current: Option<TokenSet>,
    pub(crate) out: Out,
    /// The driver holds the store's lock.
    pub(crate) locked: bool,
    /// `current` still has to be written.
    pub(crate) dirty: bool,
    /// `SignIn` was said and no other token set came since.
    pub(crate) signed_out: bool,
    /// `force_refresh` was called and the refresh it asks for has not ended.
    pub(crate) forced: bool,
    /// The last event was a successful write of a refreshed set.
    pub(crate) just_refreshed: bool,
    /// Requests sent in the refresh under way.
    pub(crate) attempts: u32,
    /// A retry that is due.
    pub(crate) retry: Option<Retry>,
    /// A failure the next poll must report.
    pub(crate) report: Option<Report>,
    /// A rotated refresh token not written yet.
    pub(crate) unsaved: Option<String>,
    /// Refresh tokens this session rotated away: never sent again.
    pub(crate) spent: Vec<String>,
    /// Refresh tokens another process rotated away while the store shows their successor:
    /// never sent again (once the store is emptied, the session cannot know).
    pub(crate) spent_elsewhere: Vec<String>,
    /// Refresh tokens refused with `invalid_grant`: never sent again.
    pub(crate) dead: Vec<String>,
    /// Rotated refresh tokens of responses whose ID token named another identity: never used.
    pub(crate) forbidden: Vec<String>,
    /// Access tokens reported invalid: never handed out again.
    pub(crate) invalidated: Vec<String>,
    /// The exact expiry of the current access token when this session obtained it (the
    /// set keeps it rounded down to whole seconds): the margin counts from it.
    pub(crate) exact_expiry: Option<UnixTime>,
}

/// R18's exception, judged from the claims: the new ID token *names* another issuer than
/// the configured one or the previous token's, another subject than the previous token's, or
/// audiences without the client `client_id` or other than the previous token's.
pub(crate) fn names_another_identity(
    new: &IdTokenPayload,
    previous: Option<&IdTokenPayload>,
    issuer: Option<&str>,
    client_id: &str,
) -> bool {
    let (iss, sub, aud) = (new.iss(), new.sub(), new.aud());
    if let (Some(want), Some(iss)) = (issuer, iss)
        && want != iss
    {
        return true;
    }
    if let Some(aud) = aud
        && !aud.iter().any(|a| a == client_id)
    {
        return true;
    }
    let Some(prev) = previous else { return false };
    let same_set =
        |a: &[String], b: &[String]| a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x));
    (iss.is_some() && prev.iss() != iss)
        || (sub.is_some() && prev.sub() != sub)
        || aud.is_some_and(|aud| !same_set(prev.aud().unwrap_or_default(), aud))
}
