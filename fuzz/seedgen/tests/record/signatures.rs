//! Hand-written seeds of the `key_set` and `verify` targets: key sets as providers serve them
//! and as they go wrong, genuine tokens of every algorithm, single changes to them, and the
//! hostile tokens of issue 13. Every `verify` seed is run through the target's checks here and
//! must end as it is written to (verified, or refused for its reason).

use oidc_refresh::record;
use oidc_refresh::{Algorithm, SignatureError, verify_signature};
use oidc_refresh_oracles::reference::jose::{base64url_decode_strict, base64url_encode, unsigned_jwt};
use oidc_refresh_oracles::verify::{
    CLAIMS, F_ALLOWED, F_GENUINE_KEYS, F_GENUINE_TOKEN, F_SECRET, Op, RSA_1024_JWKS, RSA_1024_JWT, SECRET,
    ed25519_token, genuine, hs_token, input, mutation_input, other_ed25519_x, run_with,
};

/// RFC 7517 Appendix A.1: an EC P-256 key (and, here, the genuine RSA modulus beside it).
const RFC7517_EC_X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
const RFC7517_EC_Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
/// RFC 8037 Appendix A.2 and A.4: an Ed25519 public key and a JWS it signed.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// The genuine RSA modulus and the genuine Ed25519 `x`, read back from the genuine set.
fn genuine_members() -> (String, String) {
    let set: serde_json::Value = serde_json::from_str(&genuine().key_set).unwrap();
    let keys = set["keys"].as_array().unwrap();
    let n = keys[0]["n"].as_str().unwrap().to_owned();
    let x = keys[3]["x"].as_str().unwrap().to_owned();
    (n, x)
}

#[test]
fn hand_written_key_sets() {
    let (n, _) = genuine_members();
    let x509 = "MIIDBTCCAe2gAwIBAgIQN33ROaIJ6bJBWDCxtmJEbjANBgkqhkiG9w0BAQsFADAtMSswKQYDVQQD";
    let bodies: Vec<String> = vec![
        // Providers' sets (the material is the genuine RSA key's; the shapes are theirs).
        genuine().key_set.clone(),
        format!(
            r#"{{"keys":[{{"e":"AQAB","kty":"RSA","n":"{n}","alg":"RS256","kid":"6f7254101f56e41cf35c9926de84a2d552b4c6f1","use":"sig"}},{{"alg":"RS256","n":"{n}","use":"sig","kid":"c7e04465649ffa606557650c7e65f0a87ae00fe8","kty":"RSA","e":"AQAB"}}]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"RSA","use":"sig","kid":"nOo3ZDrODXEK1jKWhXslHR_KXEg","x5t":"nOo3ZDrODXEK1jKWhXslHR_KXEg","n":"{n}","e":"AQAB","x5c":["{x509}"],"issuer":"https://login.microsoftonline.com/{{tenantid}}/v2.0"}}]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kid":"Xc1PR0qd","kty":"RSA","alg":"RSA-OAEP","use":"enc","n":"{n}","e":"AQAB","x5c":["{x509}"],"x5t":"Zm9v","x5t#S256":"YmFy"}},{{"kid":"kC2dFmzm","kty":"RSA","alg":"RS256","use":"sig","n":"{n}","e":"AQAB","x5c":["{x509}"]}}]}}"#
        ),
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{RFC7517_EC_X}","y":"{RFC7517_EC_Y}","use":"enc","kid":"1"}},{{"kty":"RSA","n":"{n}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}]}}"#
        ),
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}},{{"kty":"OKP","crv":"X25519","x":"{RFC8037_X}"}}]}}"#),
        RSA_1024_JWKS.to_owned(),
        // Keys skipped, not fatal: oct, unknown kty and crv, mistyped or missing members,
        // material of the wrong length, null members (absent).
        format!(
            r#"{{"keys":[{{"kty":"oct","k":"c2VjcmV0"}},{{"kty":"RSA-PSS","n":"{n}","e":"AQAB"}},{{"kty":"EC","crv":"P-521","x":"{RFC7517_EC_X}","y":"{RFC7517_EC_Y}"}},{{"kty":"EC","x":"{RFC7517_EC_X}","y":"{RFC7517_EC_Y}"}},{{"kty":"RSA","n":"{n}","e":65537}},{{"kty":"RSA","n":"{n}","e":"AQAB","kid":["a"]}},{{"kty":"RSA","n":"{n}","e":"AQAB","key_ops":"verify"}},{{"kty":"RSA","n":"{n}","e":"AQAB","key_ops":["verify",1]}},{{"kty":"OKP","crv":"Ed25519","x":"{}"}},{{"kty":"RSA","n":"{n}","e":"AQAB","use":null,"alg":null,"kid":null,"key_ops":null}}]}}"#,
            &RFC8037_X[..42]
        ),
        r#"{"keys":[1,"a",null,true,[],{},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#.to_owned(),
        // Padding tolerated; leading zero bytes of n; an over-long n; an escaped name.
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}="}},{{"kty":"RSA","n":"AAA{n}","e":"AAEAAQ"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"huge","n":"{}","e":"AQAB"}}]}}"#, "A".repeat(4097)),
        format!(r#"{{"k\u0065ys":[{{"k\u0074y":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}]}}"#),
        // Not a set.
        r#"{"keys":[]}"#.to_owned(),
        r#"{"keys":null}"#.to_owned(),
        "{}".to_owned(),
        r#"{"keys":{}}"#.to_owned(),
        r#"{"keys":"secret-ish-material-0123456789abcdef"}"#.to_owned(),
        "[]".to_owned(),
        String::new(),
        r#"{"keys":[]} x"#.to_owned(),
        // Repeated names, at every depth.
        r#"{"keys":[],"keys":[]}"#.to_owned(),
        format!(r#"{{"keys":[{{"kty":"OKP","kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}","x5c":[{{"a":1,"a":2}}]}}]}}"#),
        format!(
            r#"{{{}"keys":[],"m3":2}}"#,
            (0..30).map(|i| format!(r#""m{i}":1,"#)).collect::<String>()
        ),
        // Nesting in a member the reader does not use.
        format!(r#"{{"keys":[],"x":{}{}}}"#, "[".repeat(40), "]".repeat(40)),
        format!(r#"{{"keys":[],"x":{}{}}}"#, "[".repeat(130), "]".repeat(130)),
    ];
    for body in &bodies {
        record("key_set", body.as_bytes());
    }
    record("key_set", b"\xff{\"keys\":[]}");
}

/// How a `verify` seed must end.
#[derive(Debug, PartialEq)]
enum Want {
    Exactly(Result<Algorithm, SignatureError>),
    /// Refused, for whichever reason comes first.
    Any,
}

/// A DER `ECDSA-Sig-Value` of a JOSE `R || S` signature.
fn der_ecdsa(fixed: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let v = &v[v.iter().position(|&b| b != 0).unwrap_or(v.len() - 1)..];
        let mut out = vec![0x02];
        let pad = v[0] & 0x80 != 0;
        out.push((v.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// `jwt` with its signature segment replaced by `signature`.
fn with_signature(jwt: &str, signature: &[u8]) -> String {
    let cut = jwt.rfind('.').unwrap();
    format!("{}.{}", &jwt[..cut], base64url_encode(signature))
}

#[test]
fn hand_written_verify_inputs() {
    let g = genuine();
    let set = g.key_set.as_bytes();
    let token = |alg: Algorithm, kid: bool| {
        g.tokens.iter().position(|t| t.alg == alg && t.kid.is_some() == kid).unwrap() as u8
    };
    let jwt = |alg: Algorithm| g.tokens[usize::from(token(alg, !alg.is_hmac()))].jwt.clone();
    let (n, ed_x) = genuine_members();
    use SignatureError::*;
    use Want::{Any, Exactly};
    let ok = |alg| Exactly(Ok(alg));
    let refused = |e| Exactly(Err(e));
    let all = F_GENUINE_KEYS | F_SECRET;
    let mut seeds: Vec<(&str, Vec<u8>, Want)> = Vec::new();

    // Every genuine token verifies, picked by index, against the genuine set.
    for (i, t) in g.tokens.iter().enumerate() {
        seeds.push(("genuine", input(all | F_GENUINE_TOKEN, &[], i as u8, "", SECRET, b""), ok(t.alg)));
    }
    // Genuine tokens as text, with the set as text: what the fuzzer mutates freely.
    for alg in [Algorithm::Rs256, Algorithm::Ps512, Algorithm::Es256, Algorithm::Es384, Algorithm::EdDsa] {
        seeds.push(("token and set as text", input(F_SECRET, &[], 6, &jwt(alg), SECRET, set), ok(alg)));
    }
    seeds.push((
        "HS256 as text",
        input(F_SECRET, &[], 9, &jwt(Algorithm::Hs256), SECRET, b"{\"keys\":[]}"),
        ok(Algorithm::Hs256),
    ));
    seeds.push((
        "only the token's algorithm accepted",
        input(all | F_ALLOWED, &["ES256"], 0, &jwt(Algorithm::Es256), SECRET, b""),
        ok(Algorithm::Es256),
    ));

    // One change to a genuine token: the signature's last symbol, a dot deleted, the header's
    // second symbol; padding appended.
    for alg in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa, Algorithm::Hs256] {
        let i = token(alg, !alg.is_hmac());
        let t = &g.tokens[usize::from(i)].jwt;
        let last = (t.len() - 1) as u16;
        let dot = t.find('.').unwrap() as u16;
        seeds.push(("last symbol, one bit", mutation_input(i, false, Op::Flip, false, last, 1), Any));
        seeds.push((
            "a dot deleted",
            mutation_input(i, false, Op::Delete, false, dot, 0),
            refused(Malformed),
        ));
        seeds.push((
            "header changed",
            mutation_input(i, false, Op::Replace, false, 1, b'X'),
            refused(Malformed),
        ));
    }
    let i = token(Algorithm::Ps384, true);
    let end = g.tokens[usize::from(i)].jwt.len() as u16;
    seeds.push((
        "appended padding",
        mutation_input(i, false, Op::Insert, true, end, b'='),
        refused(Malformed),
    ));
    // Unchanged: replaced by the same byte.
    let es = token(Algorithm::Es256, true);
    seeds.push(("unchanged", mutation_input(es, false, Op::Replace, false, 0, b'e'), ok(Algorithm::Es256)));
    // The payload changed, under the same signature.
    let i = token(Algorithm::Ps256, true);
    let dot = g.tokens[usize::from(i)].jwt.find('.').unwrap() as u16;
    seeds.push((
        "payload changed",
        mutation_input(i, false, Op::Replace, false, dot + 10, b'A'),
        refused(BadSignature),
    ));

    // One change to the genuine key set: in the RSA modulus, the EC point, a kid; padding
    // appended to the Ed25519 key (tolerated); `use` renamed (then absent: still verifies).
    let at = |needle: &str| g.key_set.find(needle).unwrap() as u16;
    let rs = token(Algorithm::Rs256, true);
    seeds.push(("modulus changed", mutation_input(rs, true, Op::Flip, false, at(&n) + 100, 1), Any));
    let p256 = at("\"ec-p256\"");
    seeds.push((
        "kid changed",
        mutation_input(es, true, Op::Replace, false, p256 + 2, b'E'),
        refused(UnknownKid),
    ));
    let ed = token(Algorithm::EdDsa, true);
    let ed_end = at(&ed_x) + ed_x.len() as u16;
    seeds.push(("x padded", mutation_input(ed, true, Op::Insert, false, ed_end, b'='), ok(Algorithm::EdDsa)));
    seeds.push((
        "x one longer",
        mutation_input(ed, true, Op::Insert, false, ed_end, b'A'),
        refused(UnknownKid),
    ));
    let ed_use = at(r#""use":"sig","alg":"EdDSA""#) + 1;
    seeds.push((
        "use renamed",
        mutation_input(ed, true, Op::Replace, false, ed_use, b'v'),
        ok(Algorithm::EdDsa),
    ));
    let hs = token(Algorithm::Hs384, false);
    seeds.push(("HS* needs no set", mutation_input(hs, true, Op::Delete, false, 0, 0), ok(Algorithm::Hs384)));

    // Hostile tokens (issue 13).
    let ed_header = |extra: &str| format!(r#"{{"alg":"EdDSA","kid":"ed25519"{extra}}}"#);
    let hostile: Vec<(&str, String, &str, u8, Want)> = vec![
        ("alg none", unsigned_jwt(r#"{"alg":"none"}"#, CLAIMS), SECRET, all, refused(AlgNone)),
        (
            "alg NONE",
            unsigned_jwt(r#"{"alg":"NONE","kid":"rsa-2048"}"#, CLAIMS),
            SECRET,
            all,
            refused(AlgNone),
        ),
        ("no alg", unsigned_jwt(r#"{"typ":"JWT"}"#, CLAIMS), SECRET, all, refused(UnsupportedAlg)),
        ("ES512", unsigned_jwt(r#"{"alg":"ES512"}"#, CLAIMS), SECRET, all, refused(UnsupportedAlg)),
        (
            "crit",
            ed25519_token(&ed_header(r#","crit":["exp"],"exp":1"#), CLAIMS, false),
            SECRET,
            all,
            refused(CritHeader),
        ),
        (
            "jku never used",
            ed25519_token(&ed_header(r#","jku":"https://attacker.example/jwks""#), CLAIMS, false),
            SECRET,
            all,
            ok(Algorithm::EdDsa),
        ),
        (
            "x5u never used",
            ed25519_token(&ed_header(r#","x5u":"https://attacker.example/cert""#), CLAIMS, false),
            SECRET,
            all,
            ok(Algorithm::EdDsa),
        ),
        (
            "an embedded jwk",
            ed25519_token(
                &ed_header(&format!(r#","jwk":{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, other_ed25519_x())),
                CLAIMS,
                true,
            ),
            SECRET,
            all,
            refused(BadSignature),
        ),
        (
            "another key, unknown kid",
            ed25519_token(r#"{"alg":"EdDSA","kid":"attacker"}"#, CLAIMS, true),
            SECRET,
            all,
            refused(UnknownKid),
        ),
        (
            "DER ECDSA",
            with_signature(
                &jwt(Algorithm::Es256),
                &der_ecdsa(
                    &base64url_decode_strict(jwt(Algorithm::Es256).rsplit('.').next().unwrap()).unwrap(),
                ),
            ),
            SECRET,
            all,
            refused(BadSignature),
        ),
        ("a 1024-bit RSA key", RSA_1024_JWT.trim().to_owned(), SECRET, all, refused(WeakKey)),
        (
            "HS256 with the public key's bytes",
            hs_token(
                "HS256",
                &base64url_decode_strict(&n).unwrap(),
                r#"{"alg":"HS256","kid":"rsa-2048"}"#,
                CLAIMS,
            ),
            SECRET,
            all,
            refused(BadSignature),
        ),
        (
            "HS256 with the public key's text",
            hs_token("HS256", n.as_bytes(), r#"{"alg":"HS256"}"#, CLAIMS),
            "",
            all,
            refused(NoSecret),
        ),
        (
            "HS256 naming the oct key",
            hs_token("HS256", SECRET.as_bytes(), r#"{"alg":"HS256","kid":"hmac"}"#, CLAIMS),
            SECRET,
            all,
            ok(Algorithm::Hs256),
        ),
        ("HS512 without a secret", jwt(Algorithm::Hs512), SECRET, F_GENUINE_KEYS, refused(NoSecret)),
        ("not three segments", "e30.e30".to_owned(), SECRET, all, refused(Malformed)),
        ("four segments", "e30.e30.e30.e30".to_owned(), SECRET, all, refused(Malformed)),
        ("padded header", "eyJhbGciOiJFZERTQSJ9=.e30.".to_owned(), SECRET, all, refused(Malformed)),
        (
            "an over-long signature",
            format!("eyJhbGciOiJFZERTQSJ9.e30.{}", "A".repeat(1400)),
            SECRET,
            all,
            refused(BadSignature),
        ),
    ];
    for (name, jwt, secret, flags, want) in hostile {
        seeds.push((name, input(flags, &[], 3, &jwt, secret, b""), want));
    }
    // The EdDSA token without kid: ambiguous with two Ed25519 keys, no candidate with none.
    let no_kid = g.tokens[usize::from(token(Algorithm::EdDsa, false))].jwt.clone();
    let two = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ed_x}"}},{{"kty":"OKP","crv":"Ed25519","x":"{}"}}]}}"#,
        other_ed25519_x()
    );
    seeds.push(("no kid, one candidate", input(all, &[], 2, &no_kid, SECRET, b""), ok(Algorithm::EdDsa)));
    seeds.push(("ambiguous", input(F_SECRET, &[], 2, &no_kid, SECRET, two.as_bytes()), refused(Ambiguous)));
    seeds.push((
        "no candidate",
        input(F_SECRET, &[], 2, &no_kid, SECRET, RSA_1024_JWKS.as_bytes()),
        refused(NoCandidate),
    ));
    let rfc8037 = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}]}}"#);
    seeds.push(("RFC 8037 A.4", input(0, &[], 8, RFC8037_JWS, "", rfc8037.as_bytes()), ok(Algorithm::EdDsa)));
    seeds.push((
        "the weak key in its own set",
        input(0, &[], 0, RSA_1024_JWT.trim(), "", RSA_1024_JWKS.as_bytes()),
        refused(WeakKey),
    ));
    // A PS256 token, its key restricted to RS256: no candidate with its kid.
    let rs256_only =
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"rsa-2048","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#);
    seeds.push((
        "key alg RS256",
        input(0, &[], 4, &jwt(Algorithm::Ps256), "", rs256_only.as_bytes()),
        refused(UnknownKid),
    ));
    seeds.push((
        "not accepted",
        input(all | F_ALLOWED, &["RS256", "HS256"], 7, &jwt(Algorithm::Es384), SECRET, b""),
        refused(AlgNotAllowed),
    ));
    seeds.push((
        "none accepted",
        input(all | F_ALLOWED, &[], 9, &jwt(Algorithm::Hs256), SECRET, b""),
        refused(AlgNotAllowed),
    ));

    let mut wrong = Vec::new();
    for (name, data, want) in &seeds {
        let got = run_with(verify_signature, data);
        if !matches!(want, Any if got.is_err()) && *want != Exactly(got) {
            wrong.push(format!("{name}: {got:?}, not {want:?}"));
        }
        record("verify", data);
    }
    assert!(wrong.is_empty(), "seeds that do not end as written:\n{}", wrong.join("\n"));
}
