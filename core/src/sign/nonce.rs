//! The servers' DPoP nonces (RFC 9449 §8 for authorization servers, §9 for resource
//! servers): the `DPoP-Nonce` header of a response, the `use_dpop_nonce` error, and
//! [`DpopNonces`], the newest nonce of each origin in a bounded store.

use std::collections::HashMap;

use http::{Response, Uri};

use crate::error::Error;

/// The longest nonce kept: RFC 9449 sets no bound, real nonces are tens of bytes.
const MAX_NONCE_LEN: usize = 1024;

/// The nonce a server sent in a response's `DPoP-Nonce` header (RFC 9449 §8, §9), with any
/// status (errors included: a `use_dpop_nonce` error carries the nonce to retry with).
///
/// `None` when there is no such header, or when its value is not a nonce: empty, longer
/// than 1024 bytes, or with a byte outside `NQCHAR` (`%x21 / %x23-5B / %x5D-7E`: no space,
/// no `"`, no `\`), which could not go into a proof or a header unchanged. With several
/// `DPoP-Nonce` headers, the first one counts.
///
/// ```
/// use oidc_refresh_core::{dpop_nonce, http};
///
/// let response = http::Response::builder().status(400).header("DPoP-Nonce", "eyJ7S_zG.9k2").body(())?;
/// assert_eq!(dpop_nonce(&response), Some("eyJ7S_zG.9k2"));
/// let quoted = http::Response::builder().header("DPoP-Nonce", "\"n\"").body(())?;
/// assert_eq!(dpop_nonce(&quoted), None);
/// # Ok::<(), http::Error>(())
/// ```
#[must_use]
pub fn dpop_nonce<B>(response: &Response<B>) -> Option<&str> {
    let value = response.headers().get("dpop-nonce")?.to_str().ok()?;
    is_nonce(value).then_some(value)
}

/// Whether `value` is a nonce: 1 to 1024 `NQCHAR` bytes (RFC 9449 §8).
pub(super) fn is_nonce(value: &str) -> bool {
    (1..=MAX_NONCE_LEN).contains(&value.len())
        && value.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// Whether `error` is the authorization server's `use_dpop_nonce` (RFC 9449 §8): the
/// request was refused for want of (the current) nonce, and is to be sent once more with a
/// new proof carrying the nonce of the error response's `DPoP-Nonce` header. The refresh
/// token was not spent by it.
///
/// ```
/// use oidc_refresh_core::{is_use_dpop_nonce, parse_refresh_response, http};
///
/// let response = http::Response::builder()
///     .status(400)
///     .header("DPoP-Nonce", "n-1")
///     .body(br#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#.as_slice())?;
/// let error = parse_refresh_response(&response).unwrap_err();
/// assert!(is_use_dpop_nonce(&error));
/// # Ok::<(), http::Error>(())
/// ```
#[must_use]
pub fn is_use_dpop_nonce(error: &Error) -> bool {
    matches!(error, Error::Server(e) if e.code() == "use_dpop_nonce")
}

/// The newest DPoP nonce of each origin (`scheme://host:port`), for the next proof sent
/// there (RFC 9449 §8, §9).
///
/// Feed it every response ([`handle_response`](Self::handle_response)), errors included;
/// ask it for the nonce before making a proof ([`get`](Self::get)). It holds at most
/// `capacity` origins: a new origin past that evicts the one updated least recently, so
/// that it never grows without bound, whatever servers send.
///
/// ```
/// use oidc_refresh_core::{DpopNonces, http};
///
/// let mut nonces = DpopNonces::with_capacity(8);
/// let token = http::Uri::from_static("https://id.example/token");
/// let response = http::Response::builder().status(400).header("DPoP-Nonce", "n-1").body(())?;
/// nonces.handle_response(&token, &response);
/// // The same origin, whatever the path.
/// assert_eq!(nonces.get(&http::Uri::from_static("https://ID.example:443/userinfo?x")), Some("n-1"));
/// assert_eq!(nonces.get(&http::Uri::from_static("http://id.example/token")), None);
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DpopNonces {
    capacity: usize,
    entries: HashMap<String, Entry>,
    /// Counts updates: the order in which entries were last updated.
    clock: u64,
}

#[derive(Clone, Debug)]
struct Entry {
    nonce: String,
    updated: u64,
}

impl Default for DpopNonces {
    /// A store of [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) origins.
    fn default() -> Self {
        DpopNonces::with_capacity(DpopNonces::DEFAULT_CAPACITY)
    }
}

impl DpopNonces {
    /// The capacity of [`DpopNonces::default`]: a client talks to a few origins (its
    /// authorization server and some resource servers).
    pub const DEFAULT_CAPACITY: usize = 32;

    /// An empty store that keeps the nonces of at most `capacity` origins (none with 0).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> DpopNonces {
        DpopNonces { capacity, entries: HashMap::with_capacity(capacity.min(64)), clock: 0 }
    }

    /// The newest nonce of `uri`'s origin, if a server sent one; `None` too for a URI
    /// without an http(s) scheme and a host.
    #[must_use]
    pub fn get(&self, uri: &Uri) -> Option<&str> {
        let origin = Origin::of(uri)?;
        self.entries.get(&origin.key()).map(|e| e.nonce.as_str())
    }

    /// Keeps the nonce of `response` (its `DPoP-Nonce` header, see [`dpop_nonce`]), which
    /// came from a request to `uri`, as the newest of `uri`'s origin. A response without a
    /// valid nonce changes nothing.
    pub fn handle_response<B>(&mut self, uri: &Uri, response: &Response<B>) {
        if let (Some(origin), Some(nonce)) = (Origin::of(uri), dpop_nonce(response)) {
            self.store(origin.key(), nonce);
        }
    }

    fn store(&mut self, origin: String, nonce: &str) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        let updated = self.clock;
        if let Some(entry) = self.entries.get_mut(&origin) {
            nonce.clone_into(&mut entry.nonce);
            entry.updated = updated;
            return;
        }
        if self.entries.len() >= self.capacity {
            let oldest = self.entries.iter().min_by_key(|(_, e)| e.updated).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(origin, Entry { nonce: nonce.to_owned(), updated });
    }

    /// How many origins have a nonce.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no origin has a nonce.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most origins kept.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// An http(s) URI's origin (RFC 6454): the scheme and host in lower case, the port (the
/// scheme's default when none is given).
pub(super) struct Origin {
    pub(super) https: bool,
    pub(super) host: String,
    pub(super) port: u16,
}

impl Origin {
    /// `None` without an http or https scheme, or without a host.
    pub(super) fn of(uri: &Uri) -> Option<Origin> {
        let https = match uri.scheme_str()? {
            s if s.eq_ignore_ascii_case("https") => true,
            s if s.eq_ignore_ascii_case("http") => false,
            _ => return None,
        };
        let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        Some(Origin { https, host, port })
    }

    pub(super) fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// Whether the port is the scheme's default (and so left out of a URI).
    pub(super) fn default_port(&self) -> bool {
        self.port == if self.https { 443 } else { 80 }
    }

    /// `scheme://host:port`, the port always written.
    fn key(&self) -> String {
        format!("{}://{}:{}", self.scheme(), self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(nonce: &[u8]) -> Response<()> {
        let mut r = Response::new(());
        if let Ok(v) = http::HeaderValue::from_bytes(nonce) {
            r.headers_mut().insert("DPoP-Nonce", v);
        }
        r
    }

    #[test]
    fn nqchar_only() {
        for ok in ["a", "!", "#[]~", "eyJ7S_zG.9k2-/+=", &"n".repeat(1024)] {
            assert_eq!(dpop_nonce(&response(ok.as_bytes())), Some(ok), "{ok}");
        }
        for bad in [&b""[..], b" ", b"a b", b"\"q\"", b"a\\b", b"\t", b"\xC3\xA9", &[b'n'; 1025]] {
            assert_eq!(dpop_nonce(&response(bad)), None, "{bad:?}");
        }
        assert_eq!(dpop_nonce(&Response::new(())), None);
    }

    #[test]
    fn origins() {
        let key = |uri: &str| Origin::of(&uri.parse::<Uri>().ok()?).map(|o| o.key());
        assert_eq!(key("https://ID.Example/p?q").as_deref(), Some("https://id.example:443"));
        assert_eq!(key("http://id.example:8080/").as_deref(), Some("http://id.example:8080"));
        assert_eq!(key("HTTPS://[::1]:8443").as_deref(), Some("https://[::1]:8443"));
        assert_eq!(key("ftp://id.example/"), None);
        assert_eq!(key("/token"), None);
    }

    #[test]
    fn newest_nonce_per_origin_and_bounded() {
        let mut nonces = DpopNonces::with_capacity(2);
        let (a, b, c) =
            (Uri::from_static("https://a/"), Uri::from_static("https://b/"), Uri::from_static("https://c/"));
        nonces.handle_response(&a, &response(b"a1"));
        nonces.handle_response(&b, &response(b"b1"));
        nonces.handle_response(&a, &response(b"a2"));
        nonces.handle_response(&a, &response(b"bad nonce"));
        assert_eq!((nonces.get(&a), nonces.get(&b)), (Some("a2"), Some("b1")));
        // `b` was updated least recently: evicted.
        nonces.handle_response(&c, &response(b"c1"));
        assert_eq!((nonces.get(&a), nonces.get(&b), nonces.get(&c)), (Some("a2"), None, Some("c1")));
        assert_eq!(nonces.len(), 2);
        let mut none = DpopNonces::with_capacity(0);
        none.handle_response(&a, &response(b"a1"));
        assert!(none.is_empty());
        assert_eq!(DpopNonces::default().capacity(), DpopNonces::DEFAULT_CAPACITY);
    }
}
