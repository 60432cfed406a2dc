//! The facade's integration tests, one binary (one link on a small CI machine): the
//! transports and managers as a user reaches them through `oidc_refresh`, against the real
//! bundled OpenID Provider and against misbehaving servers on loopback.
//!
//! - `interop_provider`: both transports against the real provider (rotation, reuse
//!   detection, client authentication, ID-token checks).
//! - `manager_ureq`, `manager_hyper`: many threads or tasks, one refresh, on the provider.
//! - `transport_matrix`: every transport against the same misbehaving servers.
//! - `secrets`: no public type shows a secret, formatted any way.
//! - `verify_provider`: ID-token signatures of every algorithm verified through both
//!   transports and managers, and a key rotation on the provider's side.
//! - `revoke`: both managers' `revoke()` (the user signed out in one call) and the
//!   transports' one-shot `revoke`, on the provider.
//!
//! The store's own tests are the driver's (`driver/tests/suite/store_file.rs`); the core's are in
//! `core/tests/suite`.

mod fleet_managers;
mod interop_provider;
mod manager_hyper;
mod manager_ureq;
mod revoke;
mod secrets;
mod transport_matrix;
#[cfg(feature = "verify")]
mod verify_provider;
