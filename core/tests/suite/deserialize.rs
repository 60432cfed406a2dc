//! `Deserialize` from the wire names: the same result, and the same strictness, as the
//! parser; and the store's `TokenSet` JSON shape.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::http::Response;
use oidc_refresh_core::{
    AuthResult, IdTokenPayload, RefreshToken, TokenSet, UnixTime, decode_id_token, parse_refresh_response,
};
use serde_json::json;

fn jwt(payload: &serde_json::Value) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[test]
fn auth_result_deserialises_from_the_wire_form_like_the_parser() {
    let payload =
        json!({"iss":"https://id.example","sub":"u1","aud":"app","email_verified":"true","groups":["a"]});
    let body = json!({
        "access_token": "at", "token_type": "bearer", "expires_in": "3599", "refresh_token": "rt2",
        "id_token": jwt(&payload), "scope": "openid", "x_custom": {"k": [1, 2]}
    })
    .to_string();
    let via_serde: AuthResult = serde_json::from_str(&body).unwrap();
    let via_parser = parse_refresh_response(&Response::new(body.as_bytes())).unwrap();
    assert_eq!(via_serde, via_parser);
    assert_eq!(serde_json::to_value(&via_serde).unwrap()["tokenType"], "Bearer");
    assert_eq!(serde_json::to_value(&via_serde).unwrap()["x_custom"], json!({"k": [1, 2]}));
}

#[test]
fn auth_result_deserialisation_is_as_strict_as_the_parser() {
    for bad in [
        r#"{"token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"60s"}"#,
        r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":"Bearer","id_token":"x.y"}"#,
        r#"[1]"#,
    ] {
        assert!(serde_json::from_str::<AuthResult>(bad).is_err(), "{bad}");
        assert!(parse_refresh_response(&Response::new(bad)).is_err(), "{bad}");
    }
}

#[test]
fn id_token_payload_deserialises_from_wire_claims_like_the_decoder() {
    let payload = json!({
        "iss":"https://id.example","sub":"u1","aud":["app","api"],"azp":"app","exp":1700000000.5,
        "auth_time":1700000000,"updated_at":"2025-01-21T10:45:22","new_user":"false",
        "address":{"street_address":"1 rue X","postal_code":"75001"},"custom_fields":{"Tier":"gold"},
        "https://x/roles":["admin"]
    });
    let via_serde: IdTokenPayload = serde_json::from_value(payload.clone()).unwrap();
    let via_decoder = decode_id_token(&jwt(&payload)).unwrap();
    assert_eq!(via_serde, via_decoder);
    let out = serde_json::to_value(&via_serde).unwrap();
    assert_eq!(out["authTime"], 1700000000);
    assert_eq!(out["exp"], 1700000000.5);
    assert_eq!(out["newUser"], false);
    assert_eq!(out["address"], json!({"streetAddress":"1 rue X","postalCode":"75001"}));
    assert_eq!(out["customFields"], json!({"Tier":"gold"}));
    assert_eq!(out["https://x/roles"], json!(["admin"]));
    assert!(serde_json::from_str::<IdTokenPayload>(r#"{"aud":1}"#).is_err());
    assert!(serde_json::from_str::<IdTokenPayload>(r#"{"sub":"a","sub":"b"}"#).is_err());
}

#[test]
fn token_set_has_the_store_shape() {
    let empty = TokenSet::from_refresh_token(RefreshToken::new("rt1"));
    assert_eq!(serde_json::to_value(&empty).unwrap(), json!({"refresh_token":"rt1"}));
    let result = parse_refresh_response(&Response::new(
        r#"{"access_token":"at2","token_type":"bearer","expires_in":600,"refresh_token":"rt2","scope":"openid"}"#,
    ))
    .unwrap();
    let next = empty.after_refresh(&result, UnixTime::from_secs(1000), std::time::Duration::from_secs(300));
    assert_eq!(
        serde_json::to_value(&next).unwrap(),
        json!({"refresh_token":"rt2","access_token":"at2","token_type":"Bearer","scope":"openid","expires_at":1600})
    );
    // No expires_in: the default lifetime; no new refresh token: the previous one is kept.
    let quiet =
        parse_refresh_response(&Response::new(r#"{"access_token":"at3","token_type":"Bearer"}"#)).unwrap();
    let after = next.after_refresh(&quiet, UnixTime::from_secs(2000), std::time::Duration::from_secs(300));
    assert_eq!(after.refresh_token.expose_secret(), "rt2");
    assert_eq!(after.expires_at, Some(2300));
    assert_eq!(after.scope.as_deref(), Some("openid"));
    // Fresh only while more than min_ttl remains.
    let min_ttl = std::time::Duration::from_secs(60);
    assert!(after.fresh_access_token(UnixTime::from_secs(2239), min_ttl).is_some());
    assert!(after.fresh_access_token(UnixTime::from_secs(2240), min_ttl).is_none());
    assert!(empty.fresh_access_token(UnixTime::from_secs(0), min_ttl).is_none());
    // The store's JSON reads back; a set without a refresh token is refused.
    let back: TokenSet = serde_json::from_value(serde_json::to_value(&after).unwrap()).unwrap();
    assert_eq!(back, after);
    assert!(serde_json::from_str::<TokenSet>(r#"{"access_token":"a"}"#).is_err());
    assert!(!format!("{after:?}").contains("rt2"));
}
