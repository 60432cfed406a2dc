//! ID-token checks: OIDC Core §3.1.3.7 (R20 id-token-claims-validated) and continuity on
//! refresh, §12.2 (R21 id-token-continuity-on-refresh).
//!
//! Signatures are not verified here: an ID token received straight from the token endpoint
//! over TLS may be trusted without one (§3.1.3.7 point 6), which is the only way this crate
//! receives them.

use crate::claims::IdTokenPayload;
use crate::config::Expectations;
use crate::error::IdTokenErrorKind;
use crate::jwt::JwtHeader;
use crate::time::UnixTime;

/// The outcome of the §12.2 continuity checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Continuity {
    /// Compared with the previous ID token: same issuer, subject, audiences, ...
    Checked,
    /// There was no previous ID token to compare with: *not checked*, which is not *passed*.
    NotChecked,
    /// The response carried no ID token (allowed on refresh, OIDC Core §12.2).
    NoIdToken,
}

/// Checks an ID token's header and claims (R20 id-token-claims-validated) and, given the
/// previous ID token's claims, their continuity (R21 id-token-continuity-on-refresh).
///
/// ```
/// use oidc_refresh_core::{decode_id_token_with_header, validate_id_token, Continuity, Expectations, UnixTime};
///
/// // {"alg":"RS256"} . {"iss":"https://id.example","sub":"u1","aud":"app","exp":2000,"iat":1000}
/// let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUiLCJzdWIiOiJ1MSIsImF1ZCI6ImFwcCIsImV4cCI6MjAwMCwiaWF0IjoxMDAwfQ.";
/// let (header, claims) = decode_id_token_with_header(jwt)?;
/// let expected = Expectations::new("app").with_issuer("https://id.example");
/// let now = UnixTime::from_secs(1500);
/// assert_eq!(validate_id_token(&header, &claims, &expected, None, now), Ok(Continuity::NotChecked));
/// assert_eq!(validate_id_token(&header, &claims, &expected, Some(&claims), now), Ok(Continuity::Checked));
/// assert!(validate_id_token(&header, &claims, &expected, None, UnixTime::from_secs(9999)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The first [`IdTokenErrorKind`] found. Identity comes first: an issuer or audience other
/// than expected, or (against the previous token) another issuer, subject or audiences, is
/// reported whatever else is wrong, since nothing from such a response may be used
/// (R18 rotated-token-survives-broken-response). The other checks follow in the order
/// `docs/rules.md` lists them (R20, R21).
pub fn validate_id_token(
    header: &JwtHeader,
    claims: &IdTokenPayload,
    expected: &Expectations,
    previous: Option<&IdTokenPayload>,
    now: UnixTime,
) -> Result<Continuity, IdTokenErrorKind> {
    use IdTokenErrorKind as K;
    // Identity first (R18 rotated-token-survives-broken-response): a token naming another
    // issuer, subject or audience must be reported as such, whatever else is wrong with it,
    // so that nothing from its response (the rotated refresh token above all) is used. Each
    // check needs its claim; a missing claim is reported after.
    let iss = claims.iss();
    let sub = claims.sub();
    let aud = claims.aud();
    if let (Some(want), Some(iss)) = (expected.issuer.as_deref(), iss)
        && want != iss
    {
        return Err(K::IssuerMismatch);
    }
    if aud.is_some_and(|aud| !aud.contains(&expected.client_id)) {
        return Err(K::AudienceMismatch);
    }
    if let Some(prev) = previous {
        if iss.is_some() && prev.iss() != iss {
            return Err(K::IssuerChanged);
        }
        if sub.is_some() && prev.sub() != sub {
            return Err(K::SubjectChanged);
        }
        if let Some(aud) = aud
            && !same_set(prev.aud().unwrap_or_default(), aud)
        {
            return Err(K::AudienceChanged);
        }
    }
    if header.alg().is_some_and(|a| a.eq_ignore_ascii_case("none")) {
        return Err(K::AlgNone);
    }
    if header.has_crit() {
        return Err(K::CritHeader);
    }
    iss.ok_or(K::MissingClaim("iss"))?;
    sub.ok_or(K::MissingClaim("sub"))?;
    let aud = aud.ok_or(K::MissingClaim("aud"))?;
    let exp = claims.exp().ok_or(K::MissingClaim("exp"))?;
    let iat = claims.iat().ok_or(K::MissingClaim("iat"))?;
    if aud.len() > 1 && claims.azp() != Some(expected.client_id.as_str()) {
        return Err(K::AzpMismatch);
    }
    let leeway = expected.leeway.as_secs_f64();
    let now = now.as_secs_f64();
    if exp.as_secs_f64() + leeway <= now {
        return Err(K::Expired);
    }
    if iat.as_secs_f64() > now + leeway {
        return Err(K::IssuedInFuture);
    }
    let Some(prev) = previous else {
        return Ok(Continuity::NotChecked);
    };
    if prev.azp() != claims.azp() {
        return Err(K::AzpChanged);
    }
    if let (Some(a), Some(b)) = (prev.auth_time(), claims.auth_time())
        && a.as_secs_f64() != b.as_secs_f64()
    {
        return Err(K::AuthTimeChanged);
    }
    if prev.iat().is_some_and(|p| iat.as_secs_f64() < p.as_secs_f64()) {
        return Err(K::IatEarlier);
    }
    if claims.nonce().is_some() && claims.nonce() != prev.nonce() {
        return Err(K::NonceChanged);
    }
    Ok(Continuity::Checked)
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}
