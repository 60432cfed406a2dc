//! This crate's pipelines: the parse alone ("lazy": tokens are copied out, lists built and
//! unknown claims' values read only when asked for) and the parse followed by reading every
//! field a user can read through the public API ("full"), so that "full" does the work the
//! baselines do.

use oidc_refresh_core::{
    AuthResult, AuthResultRef, IdTokenPayload, parse_refresh_response, parse_refresh_response_borrowed,
};

use crate::digest::Digest;
use crate::vectors::Vector;

/// `parse_refresh_response` alone: the owned `AuthResult` with its decoded `IdTokenPayload`.
#[must_use]
pub fn ours_lazy(v: &Vector) -> Option<AuthResult> {
    parse_refresh_response(&v.response).ok()
}

/// `parse_refresh_response_borrowed` alone: the same, borrowing the body.
#[must_use]
pub fn ours_borrowed(v: &Vector) -> Option<AuthResultRef<'_>> {
    parse_refresh_response_borrowed(&v.response).ok()
}

/// `parse_refresh_response`, then every field through the public API: the three tokens
/// (copied out of the body), the other members, every claim, every list iterated, and every
/// unknown claim's value read as the type it has.
#[must_use]
pub fn ours_full(v: &Vector) -> Option<Digest> {
    let r = parse_refresh_response(&v.response).ok()?;
    let mut d = Digest::default();
    d.str(r.access_token().expose_secret());
    d.str(r.token_type());
    d.opt_num(r.expires_in());
    d.opt_str(r.refresh_token().map(|t| t.expose_secret()));
    d.opt_str(r.id_token().map(|t| t.expose_secret()));
    d.opt_str(r.scope());
    claims(&mut d, r.id_token_payload()?);
    Some(d)
}

/// `parse_refresh_response_borrowed`, then every field as [`ours_full`] reads them.
#[must_use]
pub fn ours_full_borrowed(v: &Vector) -> Option<Digest> {
    let r = parse_refresh_response_borrowed(&v.response).ok()?;
    let mut d = Digest::default();
    d.str(r.access_token().expose_secret());
    d.str(r.token_type());
    d.opt_num(r.expires_in());
    d.opt_str(r.refresh_token().map(|t| t.expose_secret()));
    d.opt_str(r.id_token().map(|t| t.expose_secret()));
    d.opt_str(r.scope());
    claims(&mut d, r.id_token_payload()?);
    Some(d)
}

/// Every claim of the vectors, through the payload's accessors.
fn claims(d: &mut Digest, p: &IdTokenPayload) {
    d.opt_str(p.iss());
    d.opt_str(p.sub());
    d.strs(p.aud().into_iter().flatten().map(String::as_str));
    d.opt_num(p.exp().map(|t| t.as_secs()));
    d.opt_num(p.iat().map(|t| t.as_secs()));
    d.opt_num(p.auth_time().map(|t| t.as_secs()));
    for s in [p.nonce(), p.at_hash(), p.azp(), p.acr()] {
        d.opt_str(s);
    }
    d.strs(p.amr().into_iter().flatten().map(String::as_str));
    for s in [p.name(), p.given_name(), p.family_name(), p.preferred_username(), p.email()] {
        d.opt_str(s);
    }
    d.opt_flag(p.email_verified());
    d.opt_str(p.locale());
    d.opt_str(p.picture());
    d.opt_num(p.updated_at().and_then(|u| match u {
        oidc_refresh_core::UpdatedAt::Number(n) => n.as_u64(),
        oidc_refresh_core::UpdatedAt::String(_) => None,
    }));
    // The unknown claims: `sid` (a string) and, in the large vector, `groups` (a list).
    for (_name, value) in p.extra() {
        match serde_json::from_str::<&str>(value.get()) {
            Ok(s) => d.str(s),
            Err(_) => d.strs(serde_json::from_str::<Vec<&str>>(value.get()).unwrap_or_default()),
        }
    }
}
