//! The Redis store against real `redis-server`s started on loopback ports of their own
//! (`oidc_refresh_testing::redis`): the value and the keys it uses, the lease, the
//! compare-and-set, failures typed by who can fix them, the drive loop with many holders,
//! and the async store.

mod common;

mod blocking;
mod drive;
mod failures;
mod tokio_store;
