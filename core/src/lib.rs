//! The sans-IO core of [oidc-refresh]: the OAuth 2.0 refresh-token grant (RFC 6749 §6)
//! with OpenID Connect ID tokens, shaped like ReachFive's `client.refreshTokens()`.
//!
//! **What it does.** It builds refresh requests as [`http::Request<Vec<u8>>`], parses
//! whatever the token endpoint answers into the SDK-shaped [`AuthResult`] (with the decoded
//! [`IdTokenPayload`]) or an [`Error`] typed by who is at fault, and checks ID tokens
//! against the client, the issuer and the previous ID token ([`validate_id_token`]).
//!
//! **What it does not do.** No sockets, no files, no clock, no randomness: time comes in as
//! a [`UnixTime`] argument and bytes in and out as `http` types. Sending the request is the
//! job of your HTTP stack, or of the `oidc-refresh-ureq` and `oidc-refresh-hyper`
//! transports.
//!
//! **Signatures** (feature `verify`, off by default in this crate). Without it, an ID
//! token's signature is trusted to TLS, as OIDC Core §3.1.3.7 allows for a token that came
//! straight from the token endpoint. With it, `verify_signature` checks a signature against
//! the provider's JWK Set (`JwkSet`; HS256/384/512 with the client secret), `KeySetCache`
//! keeps that set on a time passed in and says when to fetch it again, and `at_hash_matches`
//! checks `at_hash`: sans-IO too (`build_key_set_request`, `parse_key_set_response`), with
//! `ring` for the cryptography.
//!
//! **Client assertions and DPoP proofs** (feature `sign`, off by default in this crate).
//! `SigningKey` reads a private JWK or a PKCS#8 PEM (RS256, PS256, ES256, EdDSA);
//! `build_client_assertion` makes the `private_key_jwt` or `client_secret_jwt` assertion of
//! RFC 7523 and OIDC Core §9, `build_dpop_proof` the DPoP proof of RFC 9449, and
//! `DpopNonces` keeps the servers' `DPoP-Nonce` per origin. Time, the `jti` bytes and the
//! random number generator come in as arguments, as everywhere in the core.
//!
//! # Example: one refresh with your own HTTP stack
//!
//! ```
//! use oidc_refresh_core::{
//!     build_refresh_request, parse_refresh_response, ClientConfig, RefreshParams, RefreshToken,
//! };
//!
//! let client = ClientConfig::new("https://id.example/token", "my-app")?;
//! let refresh_token = RefreshToken::new("rt-1");
//!
//! // 1. Build the request and send it with any HTTP client.
//! let request = build_refresh_request(&client, &RefreshParams::new(&refresh_token))?;
//! assert_eq!(request.body().as_slice(), b"grant_type=refresh_token&refresh_token=rt-1&client_id=my-app");
//!
//! // 2. Hand back whatever came back, whatever its status.
//! let response = http::Response::builder()
//!     .status(200)
//!     .body(br#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#)?;
//! match parse_refresh_response(&response) {
//!     Ok(result) => {
//!         // Store the rotated refresh token *before* using the access token.
//!         let next = result.refresh_token().unwrap_or(&refresh_token);
//!         assert_eq!(next.expose_secret(), "rt-2");
//!         assert_eq!(result.access_token().expose_secret(), "at-2");
//!     }
//!     Err(e) if e.is_reauth_required() => { /* invalid_grant: sign the user in again */ }
//!     Err(mut e) => {
//!         // R18 rotated-token-survives-broken-response: a response that rotated the token
//!         // but is otherwise broken still hands over the new refresh token; store it, the
//!         // old one is spent.
//!         if let Some(rotated) = e.take_rotated_refresh_token() { /* store it */ let _ = rotated; }
//!         return Err(e.into());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things live
//!
//! One file per concern; each uses only the files below it (CI checks that no two import
//! each other, `scripts/module-graph.py`). Every public item is reached by one path: the
//! crate root.
//!
//! ```text
//!  session      Session: lifetime, rotation, one refresh in flight, retries (the state machine)
//!     |
//!  exchange     check_refresh_response: a response parsed, then its ID token validated
//!  token_set    TokenSet: what a store keeps between refreshes
//!     |
//!  request      build_refresh_request: RFC 6749 §6 request bytes
//!  response     parse_refresh_response: AuthResult, or an Error by fault
//!  validate     validate_id_token: OIDC Core §3.1.3.7 and §12.2
//!  discovery    OpenID discovery: the request and the checks on the document
//!  revoke       build_revocation_request, parse_revocation_response: RFC 7009
//!     |
//!  sign/        (feature `sign`) client assertions (RFC 7523) and DPoP proofs (RFC 9449):
//!               SigningKey, build_client_assertion, build_dpop_proof, DpopNonces
//!     |
//!  verify/      (feature `verify`) ID-token signatures: JwkSet, verify_signature,
//!               at_hash_matches, KeySetCache (the key set's request, response and cache)
//!     |
//!  claims       IdTokenPayload, decode_id_token (no signature check)
//!  config       ClientConfig, ClientAuth, BodyFormat, Expectations; URL rules
//!  syntax       RFC 6749 Appendix A: scopes, refresh tokens
//!     |
//!  error        Error and its kinds: caller, server refused, server broke the protocol, ...
//!     |
//!  jwt          compact JWS: segments, base64url, the header; never verifies
//!     |
//!  json         strict JSON reading: the scanner, serde_json as its reference
//!  redact       server text made safe to show
//!  secret       AccessToken, RefreshToken, ...: redacted Debug, no Display, zeroed on drop
//!  time         UnixTime, the only time type
//! ```
//!
//! [oidc-refresh]: https://docs.rs/oidc-refresh

#![forbid(unsafe_code)]
#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

pub use http;

#[cfg(any(feature = "verify", feature = "sign"))]
mod alg;
mod claims;
mod config;
mod discovery;
mod error;
mod exchange;
mod json;
mod jwt;
mod redact;
mod request;
mod response;
mod revoke;
mod secret;
mod session;
#[cfg(feature = "sign")]
mod sign;
mod syntax;
mod time;
mod token_set;
mod validate;
#[cfg(feature = "verify")]
mod verify;
#[cfg(any(feature = "verify", feature = "sign"))]
pub use alg::Algorithm;
pub use claims::{
    Address, IdTokenPayload, NumericDate, UpdatedAt, decode_id_token, decode_id_token_with_header,
};
pub use config::{BodyFormat, ClientAuth, ClientConfig, Expectations, is_loopback_host, parse_endpoint};
pub use discovery::{ProviderMetadata, build_discovery_request, discovery_url, parse_discovery_response};
pub use error::{
    ConfigError, Error, ErrorDetail, Fault, IdTokenError, IdTokenErrorKind, KeySetError, OAuthError,
    OutOfStep, ProtocolError, ProtocolErrorKind, SignError, SignatureError, StoreError, TransportError,
    TransportErrorKind,
};
#[cfg(feature = "verify")]
pub use exchange::{SignatureCheck, check_id_token_signature};
pub use exchange::{check_refresh_response, validate_auth_result};
pub use jwt::{JwtError, JwtHeader, Segment};
pub use request::{RefreshParams, build_refresh_request};
pub use response::{AuthResult, AuthResultRef, parse_refresh_response, parse_refresh_response_borrowed};
pub use revoke::{build_revocation_request, parse_revocation_response};
pub use secret::{AccessToken, ClientSecret, IdToken, OtherSecret, RefreshToken, SecretRef};
pub use session::{Action, Session};
#[cfg(feature = "sign")]
pub use sign::{
    AssertionKey, CLIENT_ASSERTION_LIFETIME, CLIENT_ASSERTION_TYPE, DpopNonces, SigningKey,
    build_client_assertion, build_dpop_proof, dpop_nonce, is_use_dpop_nonce,
};
pub use syntax::{check_refresh_token, check_scope};
pub use time::UnixTime;
pub use token_set::{TokenSet, UnusableTokenSet};
pub use validate::{Continuity, validate_id_token};
#[cfg(feature = "verify")]
pub use verify::{
    JwkSet, KeySetCache, Verdict, at_hash_matches, build_key_set_request, check_jwks_uri,
    parse_key_set_response, verify_signature,
};
