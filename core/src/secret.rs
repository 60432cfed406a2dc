//! Redacting wrappers for tokens and client secrets.
//!
//! Every value here is a credential. None of them implements `Display`, and their `Debug`
//! prints the type name and `<redacted>` only, so a token can reach a log or an error message
//! only through an explicit call to `expose_secret()`, which is easy to find in review.
//! The memory holding a secret is overwritten with zeros when the value is dropped.
//!
//! They implement `Serialize` and `Deserialize` as plain strings, because the SDK-shaped
//! [`AuthResult`](crate::AuthResult) JSON carries the tokens on purpose: serialising is an
//! explicit act, formatting is not.
//!
//! A parsed [`AuthResult`](crate::AuthResult) owns one copy of the response body (a
//! [`SecretBuf`], zeroed when the result goes) and hands out each token the first time it
//! is asked for, as a secret of its own copied out of that body: parsing allocates nothing
//! per token, and a token kept for later never keeps the rest of the response alive.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The owned text of one parsed response (the body, then anything unescaped out of it),
/// zeroed when it is dropped.
pub(crate) struct SecretBuf(String);

impl SecretBuf {
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }

    /// The body, then the side text, in one allocation.
    pub(crate) fn joined(body: &str, side: &str) -> Self {
        let mut text = String::with_capacity(body.len() + side.len());
        text.push_str(body);
        text.push_str(side);
        Self(text)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretBuf {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Zeroes a string's whole allocation and empties it: `zeroize::zeroize_bytes` (a bulk fill
/// behind an optimisation barrier, so that it is not elided) rather than `String::zeroize`,
/// which writes one volatile byte at a time.
pub(crate) fn wipe(s: &mut String) {
    if s.capacity() == 0 {
        return;
    }
    let mut bytes = std::mem::take(s).into_bytes();
    let capacity = bytes.capacity();
    bytes.resize(capacity, 0);
    zeroize::zeroize_bytes(&mut bytes);
}

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value. No check is made here: the request builder and the
            /// response parser check syntax where the protocol defines one.
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Every call site is a place where a credential leaves its
            /// redacting wrapper: keep them few and never log what they return.
            #[must_use]
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// The length of the secret in bytes (safe to log).
            #[must_use]
            pub fn len(&self) -> usize {
                self.expose_secret().len()
            }

            /// Whether the secret is the empty string.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.expose_secret().is_empty()
            }
        }

        /// A clone owns its copy of the secret (zeroed when it is dropped).
        impl Clone for $name {
            fn clone(&self) -> Self {
                Self::new(self.expose_secret())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.expose_secret() == other.expose_secret()
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.expose_secret().hash(state);
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                wipe(&mut self.0);
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.expose_secret())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_string! {
    /// An OAuth 2.0 access token (RFC 6749 §1.4), as issued; opaque to this crate.
    AccessToken
}

secret_string! {
    /// An OAuth 2.0 refresh token (RFC 6749 §1.5). Single-use where the server rotates
    /// refresh tokens: once sent, treat it as spent and store the one the server returns.
    RefreshToken
}

secret_string! {
    /// An OpenID Connect ID token in its compact JWS form (`header.payload.signature`).
    IdToken
}

secret_string! {
    /// A client secret for `client_secret_basic` or `client_secret_post` authentication.
    ClientSecret
}

secret_string! {
    /// Any other credential a token response may carry: an authorization `code`, a
    /// ReachFive `stepUpToken`, or a social provider's access token.
    OtherSecret
}

impl AccessToken {
    /// The `Authorization` header value that presents this token as a bearer token
    /// (RFC 6750 §2.1), `Bearer <token>`, marked sensitive so that HTTP stacks that honour the
    /// mark (hyper's, `http`'s `Debug`) never show or compress it.
    ///
    /// ```
    /// use oidc_refresh_core::AccessToken;
    ///
    /// let header = AccessToken::new("at-1").bearer_header()?;
    /// assert_eq!(header, "Bearer at-1");
    /// assert!(header.is_sensitive());
    /// assert_eq!(format!("{header:?}"), "Sensitive");
    /// # Ok::<(), http::header::InvalidHeaderValue>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`http::header::InvalidHeaderValue`] when the token holds a byte a header value cannot
    /// hold (a control character); the error shows no part of the token.
    pub fn bearer_header(&self) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
        let mut value = http::HeaderValue::try_from(format!("Bearer {}", self.expose_secret()))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// A secret borrowed from a response body the caller keeps: the token accessors of
/// [`AuthResultRef`](crate::AuthResultRef).
///
/// Like the owned types, it has no `Display` and its `Debug` names only the kind of secret
/// (`AccessToken(<redacted>)`); the value is reached through
/// [`expose_secret`](Self::expose_secret). It owns nothing, so there is nothing to zero: the
/// caller owns the body (and [`AuthResultRef`](crate::AuthResultRef) zeroes the unescaped
/// copies it made). Convert with `AccessToken::from(s.expose_secret())` to keep one.
#[derive(Clone, Copy)]
pub struct SecretRef<'a> {
    value: &'a str,
    kind: &'static str,
}

impl<'a> SecretRef<'a> {
    pub(crate) fn new(value: &'a str, kind: &'static str) -> Self {
        Self { value, kind }
    }

    /// The secret itself. Every call site is a place where a credential leaves its
    /// redacting wrapper: keep them few and never log what they return.
    #[must_use]
    pub fn expose_secret(&self) -> &'a str {
        self.value
    }

    /// The length of the secret in bytes (safe to log).
    #[must_use]
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the secret is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

impl PartialEq for SecretRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for SecretRef<'_> {}

impl fmt::Debug for SecretRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(<redacted>)", self.kind)
    }
}

impl Serialize for SecretRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let token = RefreshToken::new("rt-very-secret");
        let shown = format!("{token:?} {token:#?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("RefreshToken(<redacted>)"));
        assert_eq!(token.expose_secret(), "rt-very-secret");
        assert_eq!(token.len(), 14);
    }

    #[test]
    fn serialises_as_a_plain_string() {
        let token = AccessToken::from("at");
        assert_eq!(serde_json::to_string(&token).unwrap_or_default(), "\"at\"");
        let back: AccessToken = serde_json::from_str("\"at\"").unwrap_or_else(|_| AccessToken::new(""));
        assert_eq!(back, token);
    }

    #[test]
    fn clones_own_their_copy_and_redact() {
        let at = AccessToken::new("access");
        let kept = at.clone();
        assert_ne!(at.expose_secret().as_ptr(), kept.expose_secret().as_ptr(), "a clone owns its copy");
        assert_eq!(kept, at);
        assert_eq!(format!("{at:?}"), "AccessToken(<redacted>)");
        let buf = SecretBuf::new("xx-access-refresh".to_owned());
        assert_eq!(buf.as_str().get(3..9), Some("access"));
        let r = SecretRef::new("v", "RefreshToken");
        assert_eq!(format!("{r:?}"), "RefreshToken(<redacted>)");
    }
}
