//! The `discovery` target: every invariant of `parse_discovery_response` and
//! `discovery_url` on one exchange, judged against the independent endpoint and discovery
//! reference ([`crate::reference::endpoint`]): a document the reference finds acceptable must
//! be accepted, an accepted one must name the asked issuer and a usable token endpoint.
//!
//! Input: `[s] issuer 0xFF body…`: the status [`STATUSES`]`[s % 8]`, the issuer asked for
//! (lossy UTF-8) up to the first [`SEP`], the rest as the body.

use oidc_refresh_core::http::Response;
use oidc_refresh_core::{
    Error, Fault, ProviderMetadata, build_discovery_request, discovery_url, is_loopback_host,
    parse_discovery_response,
};
use serde_json::Value;

use crate::common::{SEP, response};
use crate::reference::endpoint::{discovery_document_ok, loopback};
use crate::reference::json::BodyRef;

/// The statuses the target chooses from with its first byte.
pub const STATUSES: [u16; 8] = [200, 200, 200, 201, 204, 302, 404, 500];

/// A discovery response parser: the core's `parse_discovery_response`, or a stand-in.
pub type Parser = fn(&Response<Vec<u8>>, &str) -> Result<ProviderMetadata, Error>;

/// The whole body of the `discovery` fuzz target: a status from the first byte, then the
/// issuer asked for, `0xFF`, the body.
pub fn run(data: &[u8]) {
    let Some((&s, rest)) = data.split_first() else { return };
    let status = STATUSES[usize::from(s) % STATUSES.len()];
    let (issuer, body) = match rest.iter().position(|&b| b == SEP) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    check(&String::from_utf8_lossy(issuer), &response(status, &[], body.to_vec()));
}

/// Every invariant of discovery on one response to a request for `issuer`'s document
/// (panics when one fails).
pub fn check(issuer: &str, response: &Response<Vec<u8>>) {
    check_with(parse_discovery_response::<Vec<u8>>, issuer, response);
}

/// [`check`] with `parse` in place of the core's `parse_discovery_response`.
pub fn check_with(parse: Parser, issuer: &str, response: &Response<Vec<u8>>) {
    let status = response.status();
    let result = parse(response, issuer);
    let again = parse(response, issuer);
    assert_eq!(format!("{result:?}"), format!("{again:?}"), "parse_discovery_response is not deterministic");
    // A document the reference finds acceptable must be accepted: an oracle that only
    // checked what the parser accepts would pass a parser that refused everything.
    if discovery_document_ok(status.as_u16(), issuer, response.body()) {
        assert!(result.is_ok(), "a valid discovery document for {issuer:?} was refused: {result:?}");
    }
    match &result {
        Ok(meta) => {
            assert!(status.is_success(), "a discovery document accepted from HTTP {status}");
            assert_eq!(meta.issuer(), issuer, "the issuer is not the one asked for");
            let uri = meta.token_endpoint();
            let host = uri.host().unwrap_or_default();
            let scheme = uri.scheme_str().unwrap_or_default();
            assert!(!host.is_empty(), "a token endpoint without a host");
            assert!(
                scheme.eq_ignore_ascii_case("https")
                    || (scheme.eq_ignore_ascii_case("http") && loopback(host)),
                "the token endpoint {uri} is neither https nor loopback http"
            );
            assert_eq!(is_loopback_host(host), loopback(host), "is_loopback_host({host:?})");
            assert!(!uri.authority().is_some_and(|a| a.as_str().contains('@')), "credentials in {uri}");
            match meta.client("app") {
                Ok(client) => {
                    assert_eq!(client.issuer(), Some(issuer));
                    assert_eq!(
                        client.token_endpoint(),
                        uri,
                        "the token endpoint does not survive a round trip"
                    );
                }
                Err(e) => panic!("the accepted token endpoint {uri} cannot configure a client: {e:?}"),
            }
            let body = BodyRef::of(response.body());
            if let Some(doc) = body.object() {
                assert!(!body.top_dup, "a repeated top-level member name was accepted");
                assert_eq!(doc.get("issuer").and_then(Value::as_str), Some(issuer));
                assert!(doc.get("token_endpoint").is_some_and(Value::is_string));
                assert_eq!(doc.get("jwks_uri").and_then(Value::as_str), meta.jwks_uri());
            }
        }
        Err(e) => {
            assert_eq!(e.fault(), Fault::ServerProtocol, "{e:?}");
            assert_eq!(e.status(), Some(status));
            assert!(e.rotated_refresh_token().is_none());
            let display = e.to_string();
            assert!(!display.contains(['\n', '\r']), "an error message on more than one line: {display:?}");
        }
    }
    // The issuer as a discovery URL: https or loopback http, ending in the well-known path.
    let url = discovery_url(issuer);
    assert_eq!(url.is_ok(), build_discovery_request(issuer).is_ok());
    if let Ok(url) = url {
        assert!(url.path().ends_with("/.well-known/openid-configuration"), "{url}");
        let scheme = url.scheme_str().unwrap_or_default();
        let host = url.host().unwrap_or_default();
        assert!(
            scheme.eq_ignore_ascii_case("https") || (scheme.eq_ignore_ascii_case("http") && loopback(host)),
            "the discovery URL {url} is neither https nor loopback http"
        );
    }
}
