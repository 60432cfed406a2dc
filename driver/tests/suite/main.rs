//! The driver's integration tests, one binary: the file store against threads, processes
//! and SIGKILL (`store_file`), the drive loop against a store whose lock can lapse
//! (`lapsing_store`), and both managers' `revoke` with a scripted provider
//! (`manager_revoke`).

#[cfg(unix)]
mod store_file;

mod lapsing_store;
mod manager_revoke;
