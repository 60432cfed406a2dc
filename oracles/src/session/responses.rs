//! The `session` oracle's canned server: the token responses an input picks (the `R_*`
//! templates), and the ID tokens they carry.

use oidc_refresh_core::http::{HeaderValue, Response};
use serde_json::{Map, Value, json};

use super::{
    CLIENT_ID, EXPIRES_IN, Harness, ISSUER, R_429, R_BAD_REFRESH_TOKEN, R_BROKEN, R_ERROR_IN_200, R_HTML_5XX,
    R_INVALID_GRANT, R_INVALID_REQUEST, R_ODD_STATUS, R_OTHER_ERROR, R_RAW, R_TRUNCATED, R_UNAVAILABLE,
    RAW_STATUSES, RETRY_AFTERS, T0,
};
use crate::common::{Reader, response};
use crate::reference::session_model::Out;

impl Harness {
    /// The refresh token the request out carries (or the current one).
    fn sent_rt(&self) -> String {
        match &self.m.out {
            Out::Send { rt, .. } => rt.clone(),
            _ => self
                .m
                .current
                .as_ref()
                .map(|c| c.refresh_token.expose_secret().to_owned())
                .unwrap_or_default(),
        }
    }

    /// A good response body: new access token, `expires_in` choice `e`, maybe a new refresh token.
    fn good_body(&mut self, rotate: bool, e: usize) -> Map<String, Value> {
        let at = self.secret("zqA");
        self.access_tokens.push(at.clone());
        let mut body = Map::new();
        body.insert("access_token".into(), json!(at));
        body.insert("token_type".into(), json!("Bearer"));
        match EXPIRES_IN[e % EXPIRES_IN.len()] {
            Some(Some(n)) => {
                body.insert("expires_in".into(), json!(n));
            }
            Some(None) => {
                body.insert("expires_in".into(), json!("3599"));
            }
            None => {}
        }
        if rotate {
            body.insert("refresh_token".into(), json!(self.secret("zqR")));
        }
        body
    }

    pub(super) fn good_response(&mut self, rotate: bool, e: usize) -> Response<Vec<u8>> {
        let body = self.good_body(rotate, e);
        response(200, &[], Value::Object(body).to_string().into_bytes())
    }

    /// A good body from `flags` (see [`R_SUCCESS`]), reading the claims bytes when it has an ID token.
    fn flagged_body(&mut self, flags: u8, r: &mut Reader<'_>) -> Map<String, Value> {
        let mut body = self.good_body(flags & 1 != 0, usize::from((flags >> 3) & 15));
        if flags & 2 != 0 {
            let (c1, c2) = (r.byte(), r.byte());
            let jwt = self.id_token(c1, c2);
            body.insert("id_token".into(), json!(jwt));
        }
        if flags & 4 != 0 {
            body.insert("scope".into(), json!("openid"));
        }
        if flags & 128 != 0 {
            body.insert("token_type".into(), json!("bearer"));
        }
        body
    }

    /// An ID token whose claims start from the grant's (`sub` user-1, issued now) and are
    /// changed by `c1` and `c2` (see [`id_token_claims`]).
    fn id_token(&mut self, c1: u8, c2: u8) -> String {
        let (header, claims) = id_token_claims(self.now.as_secs(), c1, c2);
        self.jwt(&header, &claims)
    }

    pub(super) fn template(&mut self, r: &mut Reader<'_>) -> Response<Vec<u8>> {
        let rt = self.sent_rt();
        match r.byte() % 16 {
            R_BROKEN => {
                let flags = r.byte() | 1;
                let mut body = self.flagged_body(flags, r);
                let b = r.byte();
                let mut extra = "";
                match b % 8 {
                    0 => {
                        body.insert("expires_in".into(), json!("soon"));
                    }
                    1 => {
                        body.remove("token_type");
                    }
                    2 => {
                        body.remove("access_token");
                    }
                    3 => {
                        body.insert("access_token".into(), json!(""));
                    }
                    4 => extra = ",\"scope\":\"a\",\"scope\":\"b\"",
                    5 => extra = "}x",
                    6 => {
                        body.insert("id_token".into(), json!("not.a-jwt"));
                    }
                    _ => {
                        body.insert("scope".into(), json!(7));
                    }
                }
                let mut text = Value::Object(body).to_string();
                if !extra.is_empty() {
                    text.pop();
                    text.push_str(extra);
                    if !extra.ends_with('x') {
                        text.push('}');
                    }
                }
                response(200, &[], text.into_bytes())
            }
            R_INVALID_GRANT => {
                let s = r.byte();
                let status = [400, 401, 200, 429][usize::from(s % 4)];
                let mut body =
                    json!({"error": "invalid_grant", "error_description": "grant request is invalid"});
                if s & 4 != 0 {
                    body["refresh_token"] = json!(self.secret("zqR"));
                }
                response(status, &[], body.to_string().into_bytes())
            }
            R_INVALID_REQUEST => {
                let body = json!({"error": "invalid_request", "error_description": format!("refresh token {rt} malformed")});
                response(400, &[], body.to_string().into_bytes())
            }
            R_HTML_5XX => {
                let s = r.byte();
                let status = [500, 502, 503, 504][usize::from(s % 4)];
                let mut headers = Vec::new();
                if s & 4 != 0 {
                    headers.push(("retry-after", RETRY_AFTERS[usize::from(r.byte() % 8)]));
                }
                let body =
                    format!("<html><body><h1>{status}</h1><p>request refresh_token={rt}</p></body></html>");
                let mut resp = response(status, &headers, body.into_bytes());
                if s & 8 != 0 {
                    resp.headers_mut().insert("content-type", HeaderValue::from_static("text/html"));
                }
                resp
            }
            R_429 => {
                let ra = RETRY_AFTERS[usize::from(r.byte() % 8)];
                let body = if r.byte() & 1 == 0 { r#"{"error":"slow_down"}"# } else { "" };
                response(429, &[("retry-after", ra)], body.as_bytes().to_vec())
            }
            R_UNAVAILABLE => {
                let ra = r.byte();
                let headers: Vec<(&str, &str)> = if ra & 8 != 0 {
                    vec![("retry-after", RETRY_AFTERS[usize::from(ra % 8)])]
                } else {
                    vec![]
                };
                response(503, &headers, br#"{"error":"temporarily_unavailable"}"#.to_vec())
            }
            R_TRUNCATED => {
                let flags = r.byte();
                let body = self.flagged_body(flags, r);
                let mut text = Value::Object(body).to_string().into_bytes();
                let cut = usize::from(r.byte()) % text.len().max(1);
                text.truncate(cut);
                response(200, &[], text)
            }
            R_RAW => {
                let s = r.byte();
                let status = RAW_STATUSES[usize::from(s % 10)];
                response(status, &[], r.chunk(255).to_vec())
            }
            R_ERROR_IN_200 => {
                let at = self.secret("zqA");
                let body = json!({"access_token": at, "token_type": "Bearer", "error": "invalid_grant"});
                response(200, &[], body.to_string().into_bytes())
            }
            R_OTHER_ERROR => {
                let (status, code) = [
                    (401, "invalid_client"),
                    (400, "invalid_scope"),
                    (400, "unauthorized_client"),
                    (500, "server_error"),
                ][usize::from(r.byte() % 4)];
                response(status, &[], json!({"error": code}).to_string().into_bytes())
            }
            R_BAD_REFRESH_TOKEN => {
                let flags = r.byte();
                let mut body = self.flagged_body(flags & !1, r);
                body.insert(
                    "refresh_token".into(),
                    json!(["", "rt\u{1}x", "ü-token"][usize::from(flags % 3)]),
                );
                response(200, &[], Value::Object(body).to_string().into_bytes())
            }
            R_ODD_STATUS => {
                let s = r.byte();
                match s % 4 {
                    0 => response(204, &[], Vec::new()),
                    1 => response(302, &[("location", "https://id.example/login")], Vec::new()),
                    2 => {
                        let flags = r.byte();
                        let body = self.flagged_body(flags, r);
                        response(201, &[], Value::Object(body).to_string().into_bytes())
                    }
                    _ => response(304, &[], Vec::new()),
                }
            }
            _ => {
                let flags = r.byte();
                let body = self.flagged_body(flags, r);
                response(200, &[], Value::Object(body).to_string().into_bytes())
            }
        }
    }
}

/// The claims of the grant's ID tokens, issued at `iat`.
pub(super) fn base_claims(iat: u64) -> Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT_ID,
        "exp": iat.saturating_add(3600), "iat": iat, "auth_time": T0 - 100, "nonce": "n-1"
    })
}

/// The header and claims of an ID token issued at `now`: the grant's, changed by `c1` (bit 0
/// another `sub`, 1 another `iss`, 2 `aud` without the client, 3 `aud` with another
/// audience and `azp`, 4 no `azp`, 5 expired, 6 another `nonce`, 7 another `auth_time`) and
/// `c2` (bit 0 no `sub`, 1 `iat` long before, 2 `iat` in the future, 3 no `nonce`, bits 4-5
/// the header: RS256, `alg: none`, a `crit` member, RS256 without `typ`; 6 `azp` with one
/// audience, 7 no `iss`).
pub fn id_token_claims(now: u64, c1: u8, c2: u8) -> (Value, Value) {
    let mut claims = base_claims(now);
    let bit = |b: u8, n: u8| b & (1 << n) != 0;
    if bit(c1, 0) {
        claims["sub"] = json!("user-2");
    }
    if bit(c1, 1) {
        claims["iss"] = json!("https://evil.example");
    }
    if bit(c1, 2) {
        claims["aud"] = json!("api");
    }
    if bit(c1, 3) {
        claims["aud"] = json!([CLIENT_ID, "api"]);
        claims["azp"] = json!(CLIENT_ID);
    }
    if bit(c1, 4)
        && let Some(map) = claims.as_object_mut()
    {
        map.remove("azp");
    }
    if bit(c1, 5) {
        claims["exp"] = json!(now.saturating_sub(3600));
    }
    if bit(c1, 6) {
        claims["nonce"] = json!("n-2");
    }
    if bit(c1, 7) {
        claims["auth_time"] = json!(T0 - 50);
    }
    if bit(c2, 6) {
        claims["azp"] = json!(CLIENT_ID);
    }
    if bit(c2, 1) {
        claims["iat"] = json!(now.saturating_sub(100_000));
    }
    if bit(c2, 2) {
        claims["iat"] = json!(now.saturating_add(1000));
    }
    if let Some(map) = claims.as_object_mut() {
        if bit(c2, 0) {
            map.remove("sub");
        }
        if bit(c2, 3) {
            map.remove("nonce");
        }
        if bit(c2, 7) {
            map.remove("iss");
        }
    }
    let header = match (c2 >> 4) & 3 {
        0 => json!({"alg": "RS256", "typ": "JWT"}),
        1 => json!({"alg": "none"}),
        2 => json!({"alg": "RS256", "crit": ["exp"]}),
        _ => json!({"alg": "RS256"}),
    };
    (header, claims)
}
