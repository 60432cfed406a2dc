//! Client assertions and DPoP proofs (feature `sign`): a private key read once into what
//! `ring` signs with, the `private_key_jwt` / `client_secret_jwt` assertion (RFC 7523 §3,
//! OIDC Core §9), the DPoP proof (RFC 9449 §4.2) and the servers' DPoP nonces (§8, §9).
//!
//! Sans-IO like the rest of the core: the time, the `jti` bytes and the random number
//! generator are arguments. `ring`'s `SecureRandom` is sealed, so the generator a driver
//! passes is `ring::rand::SystemRandom`; the core never makes one.
//!
//! ```text
//!  assertion   build_client_assertion, AssertionKey: RFC 7523 client authentication
//!  dpop        build_dpop_proof: the proof, its htu
//!  nonce       dpop_nonce, is_use_dpop_nonce, DpopNonces: the servers' nonces per origin
//!    |
//!  key         SigningKey: the algorithm, the public JWK, the thumbprint, sign
//!  jws         compact JWS assembly, base64url
//!    |
//!  jwk         a private JWK read into key parts
//!  pkcs8       a PKCS#8 PEM read into key parts
//!    |
//!  parts       KeyParts: a private key's parts, zeroed on drop; the RSA size rules
//!  der         the few DER shapes of PKCS#8
//! ```

mod assertion;
mod der;
mod dpop;
mod jwk;
mod jws;
mod key;
mod nonce;
mod parts;
mod pkcs8;

use crate::alg::Algorithm;
// The error kind lives in `error` (below `sign`, which uses it), as verify's do.
use crate::error::SignError;

pub use assertion::{AssertionKey, CLIENT_ASSERTION_LIFETIME, CLIENT_ASSERTION_TYPE, build_client_assertion};
pub use dpop::build_dpop_proof;
pub use key::SigningKey;
pub use nonce::{DpopNonces, dpop_nonce, is_use_dpop_nonce};
