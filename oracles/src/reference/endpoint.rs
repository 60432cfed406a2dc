//! Endpoint URLs and OpenID discovery documents, judged independently of the core: what is
//! loopback by the contract, which token endpoints are plainly well-formed https (or
//! loopback http) URLs, and which discovery responses must be accepted.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::reference::json::BodyRef;

/// Loopback by the contract: `localhost` in any case, `127.0.0.0/8` as a literal dotted
/// quad, the address `::1` (bracketed, as a URL host is).
#[must_use]
pub fn loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|a| a == Ipv6Addr::LOCALHOST);
    }
    host.parse::<Ipv4Addr>().is_ok_and(|a| a.octets()[0] == 127)
}

/// RFC 3986 `unreserved`, `sub-delims`, `:` and `@`: the characters of a path segment (a
/// `%` must start a percent-encoding, checked apart).
fn pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// Every `%` is followed by two hex digits.
fn percent_encodings_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'%' || b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)))
}

/// A host of an endpoint: a name of letters, digits, `-` and `.`, or a bracketed IPv6
/// literal.
fn host_ok(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
    }
}

/// A port: 1 to 65535, without leading zeros.
fn port_ok(port: &str) -> bool {
    !port.starts_with('0')
        && (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p))
}

/// Whether `url` is plainly a usable endpoint by the contract (R8 https-except-loopback): an absolute `https`
/// URL, or `http` to a loopback host; a host (a name or an IP literal) and an optional port,
/// no credentials, no fragment, a path and query of RFC 3986 characters only.
///
/// Conservative: it accepts only what every URL reader accepts (and so the core must), and
/// claims nothing about what it refuses.
#[must_use]
pub fn endpoint_ok(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let https = scheme.eq_ignore_ascii_case("https");
    if !(https || scheme.eq_ignore_ascii_case("http")) || url.len() > 8192 {
        return false;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(end);
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    host_ok(host)
        && port.is_none_or(port_ok)
        && (https || loopback(host))
        && path_and_query.bytes().all(|b| pchar(b) || b == b'/' || b == b'?' || b == b'%')
        && percent_encodings_ok(path_and_query)
}

/// Whether a discovery response must be accepted for `issuer`: a 2xx status, a body that is
/// a strict JSON object (no name repeated at any depth, nothing nested past 64 levels) whose
/// `issuer` is exactly the one asked for and whose `token_endpoint` is a string that
/// [`endpoint_ok`] accepts. Other metadata is informative and never a reason to refuse.
#[must_use]
pub fn discovery_document_ok(status: u16, issuer: &str, body: &[u8]) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    let body = BodyRef::of(body);
    let Some(doc) = body.strict_object() else { return false };
    doc.get("issuer").and_then(|v| v.as_str()) == Some(issuer)
        && doc.get("token_endpoint").and_then(|v| v.as_str()).is_some_and(endpoint_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.255.1.2", "[::1]", "[0:0:0:0:0:0:0:1]"] {
            assert!(loopback(host), "{host}");
        }
        for host in ["localhost.evil", "127.1", "128.0.0.1", "[::2]", "::1", "0x7f000001"] {
            assert!(!loopback(host), "{host}");
        }
    }

    #[test]
    fn endpoints() {
        for ok in [
            "https://id.example/token",
            "HTTPS://id.example:8443/o/oauth2/token?tenant=a&x=%2F",
            "https://id.example",
            "https://id.example?x=1",
            "https://[2001:db8::1]:443/t",
            "http://127.0.0.1:3000/token",
            "http://LOCALHOST/t",
            "http://[::1]:9/token",
            "https://id.example/a:b@c/!$&'()*+,;=~",
        ] {
            assert!(endpoint_ok(ok), "{ok}");
        }
        for refused in [
            "http://id.example/token",
            "http://127.1/token",
            "http://localhost.evil.example/t",
            "https://u:p@id.example/t",
            "https://id.example/t#f",
            "https://id.example:0/t",
            "https://id.example:65536/t",
            "https://id.example:/t",
            "https://id.example:08/t",
            "https:///t",
            "https://id example/t",
            "https://id.example/a b",
            "https://id.example/%zz",
            "ftp://id.example/t",
            "id.example/t",
            "https://[::1/t",
            "https://[fe80::1%25eth0]/t",
        ] {
            assert!(!endpoint_ok(refused), "{refused}");
        }
    }

    #[test]
    fn discovery_documents() {
        let doc = br#"{"issuer":"https://id.example","token_endpoint":"https://id.example/t","x":[1]}"#;
        assert!(discovery_document_ok(200, "https://id.example", doc));
        assert!(discovery_document_ok(204, "https://id.example", doc));
        assert!(!discovery_document_ok(302, "https://id.example", doc));
        assert!(!discovery_document_ok(200, "https://id.example/", doc));
        assert!(!discovery_document_ok(
            200,
            "https://id.example",
            br#"{"issuer":"https://id.example","token_endpoint":"https://id.example/t","x":{"a":1,"a":2}}"#
        ));
        assert!(!discovery_document_ok(200, "https://id.example", br#"{"issuer":"https://id.example"}"#));
    }
}
