//! Property tests of the sans-IO core:
//! (a) generated token responses, written in wire form, parse into an `AuthResult` whose
//!     JSON carries the same values after the contract's normalisations;
//! (b) generated ID-token payloads round-trip through `decode_id_token`;
//! (c) arbitrary and mutated inputs never make the parser or the decoder panic.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_refresh_core::http::Response;
use oidc_refresh_core::{AuthResult, Error, Fault, decode_id_token, parse_refresh_response};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const CASES: u32 = 256;

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt(payload: &str) -> String {
    format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","typ":"JWT"}"#), b64(payload))
}

fn parse(status: u16, body: &[u8]) -> Result<AuthResult, Error> {
    let response = Response::builder().status(status).body(body).expect("a valid response");
    parse_refresh_response(&response)
}

/// Writes members as a JSON object in the given order.
fn object_text(members: &[(String, Value)]) -> String {
    let inner: Vec<String> =
        members.iter().map(|(k, v)| format!("{}:{}", serde_json::to_string(k).expect("key"), v)).collect();
    format!("{{{}}}", inner.join(","))
}

/// Simple JSON values for unknown members and claims (no floats: their text round trip is
/// not what is under test).
fn simple_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------------------------------
// (a) token responses
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug)]
struct GenIdToken {
    iss: String,
    sub: String,
    aud: Aud,
    exp: Option<u64>,
    iat: Option<u64>,
    /// (value, sent as the string "true"/"false")
    email_verified: Option<(bool, bool)>,
    extra: Vec<(String, Value)>,
}

impl GenIdToken {
    fn wire(&self) -> String {
        let mut m: Vec<(String, Value)> = vec![
            ("iss".into(), json!(self.iss)),
            ("sub".into(), json!(self.sub)),
            (
                "aud".into(),
                match &self.aud {
                    Aud::One(a) => json!(a),
                    Aud::Many(v) => json!(v),
                },
            ),
        ];
        if let Some(e) = self.exp {
            m.push(("exp".into(), json!(e)));
        }
        if let Some(i) = self.iat {
            m.push(("iat".into(), json!(i)));
        }
        if let Some((v, as_string)) = self.email_verified {
            m.push(("email_verified".into(), if as_string { json!(v.to_string()) } else { json!(v) }));
        }
        m.extend(self.extra.iter().cloned());
        object_text(&m)
    }

    fn expected(&self) -> Value {
        let mut m = Map::new();
        m.insert("iss".into(), json!(self.iss));
        m.insert("sub".into(), json!(self.sub));
        m.insert(
            "aud".into(),
            match &self.aud {
                Aud::One(a) => json!([a]),
                Aud::Many(v) => json!(v),
            },
        );
        if let Some(e) = self.exp {
            m.insert("exp".into(), json!(e));
        }
        if let Some(i) = self.iat {
            m.insert("iat".into(), json!(i));
        }
        if let Some((v, _)) = self.email_verified {
            m.insert("emailVerified".into(), json!(v));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

fn gen_id_token() -> impl Strategy<Value = GenIdToken> {
    (
        any::<String>(),
        any::<String>(),
        prop_oneof![
            any::<String>().prop_map(Aud::One),
            proptest::collection::vec(any::<String>(), 0..4).prop_map(Aud::Many),
        ],
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of((any::<bool>(), any::<bool>())),
        proptest::collection::btree_map(
            "c_[a-z0-9_]{1,6}|https://x\\.example/[a-z]{1,5}",
            simple_value(),
            0..4,
        ),
    )
        .prop_map(|(iss, sub, aud, exp, iat, email_verified, extra)| GenIdToken {
            iss,
            sub,
            aud,
            exp,
            iat,
            email_verified,
            extra: extra.into_iter().collect(),
        })
}

#[derive(Clone, Debug)]
struct GenResponse {
    access_token: String,
    token_type: String,
    /// (seconds, sent as a string of digits)
    expires_in: Option<(u64, bool)>,
    refresh_token: Option<String>,
    scope: Option<String>,
    id_token: Option<GenIdToken>,
    unknown: Vec<(String, Value)>,
}

impl GenResponse {
    fn members(&self) -> Vec<(String, Value)> {
        let mut m = vec![
            ("access_token".to_owned(), json!(self.access_token)),
            ("token_type".to_owned(), json!(self.token_type)),
        ];
        if let Some((n, as_string)) = self.expires_in {
            m.push(("expires_in".into(), if as_string { json!(n.to_string()) } else { json!(n) }));
        }
        if let Some(rt) = &self.refresh_token {
            m.push(("refresh_token".into(), json!(rt)));
        }
        if let Some(s) = &self.scope {
            m.push(("scope".into(), json!(s)));
        }
        if let Some(idt) = &self.id_token {
            m.push(("id_token".into(), json!(jwt(&idt.wire()))));
        }
        m.extend(self.unknown.iter().cloned());
        m
    }

    fn expected(&self) -> Value {
        let mut m = Map::new();
        m.insert("accessToken".into(), json!(self.access_token));
        let tt = if self.token_type.eq_ignore_ascii_case("bearer") { "Bearer" } else { &self.token_type };
        m.insert("tokenType".into(), json!(tt));
        if let Some((n, _)) = self.expires_in {
            m.insert("expiresIn".into(), json!(n));
        }
        if let Some(rt) = &self.refresh_token {
            m.insert("refreshToken".into(), json!(rt));
        }
        if let Some(s) = &self.scope {
            m.insert("scope".into(), json!(s));
        }
        if let Some(idt) = &self.id_token {
            m.insert("idToken".into(), json!(jwt(&idt.wire())));
            m.insert("idTokenPayload".into(), idt.expected());
        }
        for (k, v) in &self.unknown {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

fn gen_response() -> impl Strategy<Value = GenResponse> {
    (
        any::<String>().prop_filter("access_token is non-empty", |s| !s.is_empty()),
        prop_oneof![
            Just("bearer".to_owned()),
            Just("Bearer".to_owned()),
            Just("BEARER".to_owned()),
            Just("DPoP".to_owned()),
            "[A-Za-z][A-Za-z0-9_-]{0,12}",
        ],
        proptest::option::of((any::<u64>(), any::<bool>())),
        proptest::option::of("[ -~]{1,48}"),
        proptest::option::of(any::<String>()),
        proptest::option::of(gen_id_token()),
        proptest::collection::btree_map("x_[a-z0-9_]{1,8}|x-\\PC{1,6}", simple_value(), 0..5),
    )
        .prop_map(|(access_token, token_type, expires_in, refresh_token, scope, id_token, unknown)| {
            GenResponse {
                access_token,
                token_type,
                expires_in,
                refresh_token,
                scope,
                id_token,
                unknown: unknown.into_iter().collect(),
            }
        })
}

/// A generated response with its members in a random order.
fn gen_response_and_order() -> impl Strategy<Value = (GenResponse, Vec<(String, Value)>)> {
    gen_response().prop_flat_map(|r| {
        let members = r.members();
        (Just(r), Just(members).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn generated_token_responses_parse_to_the_same_values(
        (generated, members) in gen_response_and_order(),
        status in prop_oneof![Just(200u16), Just(201), Just(299)],
    ) {
        let body = object_text(&members);
        let result = match parse(status, body.as_bytes()) {
            Ok(r) => r,
            Err(e) => return Err(TestCaseError::fail(format!("{e} / {e:?} for {body}"))),
        };
        prop_assert_eq!(serde_json::to_value(&result).expect("serialises"), generated.expected());
        // Accessors agree with the JSON.
        prop_assert_eq!(result.access_token().expose_secret(), generated.access_token.as_str());
        prop_assert_eq!(result.expires_in(), generated.expires_in.map(|(n, _)| n));
        prop_assert_eq!(
            result.refresh_token().map(|t| t.expose_secret().to_owned()),
            generated.refresh_token.clone()
        );
        prop_assert_eq!(result.id_token_payload().is_some(), generated.id_token.is_some());
    }

    #[test]
    fn generated_token_responses_with_an_error_member_are_oauth_errors(
        generated in gen_response(),
        code in "[a-z_]{1,20}",
        status in prop_oneof![Just(200u16), Just(400), Just(401), Just(500)],
    ) {
        let mut members = generated.members();
        members.insert(0, ("error".into(), json!(code)));
        let body = object_text(&members);
        let e = parse(status, body.as_bytes()).expect_err("an OAuth error");
        prop_assert_eq!(e.fault(), Fault::ServerRefused);
        prop_assert_eq!(e.oauth_error_code(), Some(code.as_str()));
        prop_assert!(e.rotated_refresh_token().is_none());
    }
}

// ---------------------------------------------------------------------------------------
// (b) ID-token payloads
// ---------------------------------------------------------------------------------------

/// Every string claim the SDK knows: wire name, output name.
const STRING_CLAIMS: &[(&str, &str)] = &[
    ("iss", "iss"),
    ("sub", "sub"),
    ("nonce", "nonce"),
    ("acr", "acr"),
    ("azp", "azp"),
    ("at_hash", "atHash"),
    ("name", "name"),
    ("given_name", "givenName"),
    ("family_name", "familyName"),
    ("middle_name", "middleName"),
    ("nickname", "nickname"),
    ("preferred_username", "preferredUsername"),
    ("profile", "profile"),
    ("picture", "picture"),
    ("website", "website"),
    ("email", "email"),
    ("gender", "gender"),
    ("birthdate", "birthdate"),
    ("zoneinfo", "zoneinfo"),
    ("locale", "locale"),
    ("phone_number", "phoneNumber"),
    ("auth_type", "authType"),
    ("custom_identifier", "customIdentifier"),
    ("external_id", "externalId"),
];

const ADDRESS_FIELDS: &[(&str, &str)] = &[
    ("formatted", "formatted"),
    ("street_address", "streetAddress"),
    ("locality", "locality"),
    ("region", "region"),
    ("postal_code", "postalCode"),
    ("country", "country"),
];

/// A NumericDate: (wire value, expected output).
fn numeric_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|n| json!(n)),
        // Fractions that are exact in binary, on values small enough to stay exact.
        (0u64..(1 << 40), 0u8..4).prop_map(|(n, q)| json!(n as f64 + f64::from(q) / 4.0)),
    ]
}

/// A boolean claim: (wire value, expected boolean).
fn lenient_bool() -> impl Strategy<Value = (Value, bool)> {
    (any::<bool>(), any::<bool>())
        .prop_map(|(b, as_string)| (if as_string { json!(b.to_string()) } else { json!(b) }, b))
}

/// A list claim (`aud`, `amr`): (wire value, expected array).
fn string_or_list() -> impl Strategy<Value = (Value, Value)> {
    prop_oneof![
        any::<String>().prop_map(|s| (json!(s), json!([s]))),
        proptest::collection::vec(any::<String>(), 0..4).prop_map(|v| (json!(v), json!(v))),
    ]
}

#[derive(Clone, Debug)]
struct GenPayload {
    wire: Vec<(String, Value)>,
    expected: Map<String, Value>,
}

prop_compose! {
    fn gen_payload()(
        strings in proptest::collection::vec(proptest::option::of(any::<String>()), STRING_CLAIMS.len()),
        aud in proptest::option::of(string_or_list()),
        amr in proptest::option::of(string_or_list()),
        exp in proptest::option::of(numeric_date()),
        iat in proptest::option::of(numeric_date()),
        auth_time in proptest::option::of(numeric_date()),
        nbf in proptest::option::of(numeric_date()),
        email_verified in proptest::option::of(lenient_bool()),
        phone_number_verified in proptest::option::of(lenient_bool()),
        new_user in proptest::option::of(lenient_bool()),
        address in proptest::option::of(
            proptest::collection::vec(proptest::option::of(any::<String>()), ADDRESS_FIELDS.len())
        ),
        updated_at in proptest::option::of(prop_oneof![
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<String>().prop_map(Value::String),
        ]),
        custom_fields in proptest::option::of(
            proptest::collection::btree_map("[a-zA-Z_]{1,10}", simple_value(), 0..4)
        ),
        extra in proptest::collection::btree_map("c_[a-z0-9_]{1,6}|https://x\\.example/[a-z]{1,5}", simple_value(), 0..4),
    ) -> GenPayload {
        let mut wire = Vec::new();
        let mut expected = Map::new();
        for (i, value) in strings.into_iter().enumerate() {
            if let Some(v) = value {
                wire.push((STRING_CLAIMS[i].0.to_owned(), json!(v)));
                expected.insert(STRING_CLAIMS[i].1.to_owned(), json!(v));
            }
        }
        for (name, v) in [("aud", aud), ("amr", amr)] {
            if let Some((w, e)) = v {
                wire.push((name.to_owned(), w));
                expected.insert(name.to_owned(), e);
            }
        }
        for (wire_name, out, v) in [("exp", "exp", exp), ("iat", "iat", iat), ("auth_time", "authTime", auth_time), ("nbf", "nbf", nbf)] {
            if let Some(v) = v {
                wire.push((wire_name.to_owned(), v.clone()));
                expected.insert(out.to_owned(), v);
            }
        }
        for (wire_name, out, v) in [
            ("email_verified", "emailVerified", email_verified),
            ("phone_number_verified", "phoneNumberVerified", phone_number_verified),
            ("new_user", "newUser", new_user),
        ] {
            if let Some((w, b)) = v {
                wire.push((wire_name.to_owned(), w));
                expected.insert(out.to_owned(), json!(b));
            }
        }
        if let Some(fields) = address {
            let mut w = Map::new();
            let mut e = Map::new();
            for (i, f) in fields.into_iter().enumerate() {
                if let Some(f) = f {
                    w.insert(ADDRESS_FIELDS[i].0.to_owned(), json!(f));
                    e.insert(ADDRESS_FIELDS[i].1.to_owned(), json!(f));
                }
            }
            wire.push(("address".to_owned(), Value::Object(w)));
            expected.insert("address".to_owned(), Value::Object(e));
        }
        if let Some(u) = updated_at {
            wire.push(("updated_at".to_owned(), u.clone()));
            expected.insert("updatedAt".to_owned(), u);
        }
        if let Some(cf) = custom_fields {
            let cf: Map<String, Value> = cf.into_iter().collect();
            wire.push(("custom_fields".to_owned(), Value::Object(cf.clone())));
            expected.insert("customFields".to_owned(), Value::Object(cf));
        }
        for (k, v) in extra {
            wire.push((k.clone(), v.clone()));
            expected.insert(k, v);
        }
        GenPayload { wire, expected }
    }
}

fn gen_payload_shuffled() -> impl Strategy<Value = GenPayload> {
    gen_payload().prop_flat_map(|p| {
        let expected = p.expected.clone();
        Just(p.wire).prop_shuffle().prop_map(move |wire| GenPayload { wire, expected: expected.clone() })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn generated_id_token_payloads_round_trip(payload in gen_payload_shuffled()) {
        let token = jwt(&object_text(&payload.wire));
        let claims = match decode_id_token(&token) {
            Ok(c) => c,
            Err(e) => return Err(TestCaseError::fail(format!("{e:?} for {}", object_text(&payload.wire)))),
        };
        prop_assert_eq!(serde_json::to_value(&claims).expect("serialises"), Value::Object(payload.expected.clone()));

        // Decoding the same token inside a 200 response gives the same payload.
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","id_token":{}}}"#, json!(token));
        let result = parse(200, body.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(
            serde_json::to_value(&result).expect("serialises")["idTokenPayload"].clone(),
            Value::Object(payload.expected)
        );
    }
}

// ---------------------------------------------------------------------------------------
// (c) never panics
// ---------------------------------------------------------------------------------------

/// One valid, rich body for the mutation tests.
fn valid_body() -> String {
    let idt = jwt(
        r#"{"iss":"https://id.example","sub":"u1","aud":["app","b"],"exp":1700003600,"iat":1700000000.5,"email_verified":"true","address":{"locality":"Paris"},"custom_fields":{"k":[1,{"z":null}]},"x":{"y":[true]}}"#,
    );
    format!(
        r#"{{"access_token":"at-1","token_type":"bearer","expires_in":"3599","refresh_token":"rt-2","scope":"openid email","id_token":"{idt}","amr":["pwd"],"x_extra":{{"a":[1,2,{{"b":"c"}}],"n":null}},"error":null}}"#
    )
}

/// The checks every outcome must pass, whatever the input.
fn check_outcome(status: u16, outcome: &Result<AuthResult, Error>) -> Result<(), TestCaseError> {
    match outcome {
        Ok(r) => {
            prop_assert!((200..300).contains(&status), "a success needs a 2xx, got {status}");
            prop_assert!(!r.access_token().is_empty());
            prop_assert!(!r.token_type().is_empty());
            // Every success can be serialised.
            prop_assert!(serde_json::to_string(r).is_ok());
        }
        Err(e) => {
            let f = e.fault();
            prop_assert!(f == Fault::ServerProtocol || f == Fault::ServerRefused, "{e:?}");
            prop_assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
            if e.rotated_refresh_token().is_some() {
                prop_assert!((200..300).contains(&status));
                prop_assert_eq!(f, Fault::ServerProtocol);
            }
            // Formatting never panics.
            let _ = format!("{e} {e:?}");
        }
    }
    Ok(())
}

#[test]
fn valid_body_parses() {
    let r = parse(200, valid_body().as_bytes()).expect("the base of the mutations is valid");
    assert_eq!(r.refresh_token().map(|t| t.expose_secret()), Some("rt-2"));
}

#[test]
fn every_truncation_of_a_valid_body_is_a_protocol_error() {
    let body = valid_body();
    for status in [200, 400, 500] {
        for len in 0..body.len() {
            let outcome = parse(status, &body.as_bytes()[..len]);
            check_outcome(status, &outcome).expect("invariants");
            match outcome {
                Ok(_) => panic!("a prefix of {len} bytes parsed"),
                Err(e) => assert_eq!(e.fault(), Fault::ServerProtocol, "{len}: {e:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        status in prop_oneof![Just(200u16), Just(400), Just(500)],
    ) {
        check_outcome(status, &parse(status, &body))?;
    }

    #[test]
    fn json_like_text_never_panics(
        body in r#"[{}\[\]":,0-9a-z_ .\\-]{0,200}"#,
        status in prop_oneof![Just(200u16), Just(400), Just(500)],
    ) {
        check_outcome(status, &parse(status, body.as_bytes()))?;
    }

    #[test]
    fn byte_flips_of_a_valid_body_never_panic(
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), 1u8..=255), 1..4),
        status in prop_oneof![Just(200u16), Just(400), Just(500)],
    ) {
        let mut body = valid_body().into_bytes();
        for (index, mask) in &flips {
            let i = index.index(body.len());
            body[i] ^= mask;
        }
        check_outcome(status, &parse(status, &body))?;
    }

    #[test]
    fn byte_insertions_and_deletions_never_panic(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), proptest::option::of(any::<u8>())), 1..4),
        status in prop_oneof![Just(200u16), Just(400), Just(500)],
    ) {
        let mut body = valid_body().into_bytes();
        for (index, insert) in &edits {
            let i = index.index(body.len());
            match insert {
                Some(b) => body.insert(i, *b),
                None => {
                    body.remove(i);
                }
            }
        }
        check_outcome(status, &parse(status, &body))?;
    }

    #[test]
    fn any_string_to_decode_id_token_never_panics(token in any::<String>()) {
        if let Err(e) = decode_id_token(&token) {
            prop_assert_eq!(e.fault(), Fault::ServerProtocol);
            prop_assert_eq!(e.status(), None);
        }
    }

    #[test]
    fn base64url_like_strings_to_decode_id_token_never_panic(token in "[A-Za-z0-9_=+/.-]{0,120}") {
        if let Err(e) = decode_id_token(&token) {
            prop_assert_eq!(e.fault(), Fault::ServerProtocol);
        }
    }

    #[test]
    fn arbitrary_payload_bytes_in_a_well_formed_jwt_never_panic(
        header in proptest::collection::vec(any::<u8>(), 0..64),
        payload in proptest::collection::vec(any::<u8>(), 0..256),
        sig in "[A-Za-z0-9_-]{0,16}",
    ) {
        let token = format!("{}.{}.{sig}", b64(&header), b64(&payload));
        if let Err(e) = decode_id_token(&token) {
            prop_assert_eq!(e.fault(), Fault::ServerProtocol);
        }
    }

    #[test]
    fn json_like_payloads_in_a_well_formed_jwt_never_panic(
        payload in r#"\{[{}\[\]":,0-9a-z_ .\\-]{0,120}\}"#,
    ) {
        let token = jwt(&payload);
        if let Ok(claims) = decode_id_token(&token) {
            prop_assert!(serde_json::to_string(&claims).is_ok());
        }
    }
}
