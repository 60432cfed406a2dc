//! The ureq transport of oidc-refresh (work in progress): executes the requests that
//! [`oidc_refresh_core`] builds.

#![forbid(unsafe_code)]

pub use oidc_refresh_core as core;
