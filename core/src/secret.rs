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

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
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
                self.0.len()
            }

            /// Whether the secret is the empty string.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
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
}
