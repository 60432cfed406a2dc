//! The driver's integration tests, one binary: the file store against threads, processes
//! and SIGKILL (`store_file`), and the drive loop against a store whose lock can lapse
//! (`lapsing_store`).

#[cfg(unix)]
mod store_file;

mod lapsing_store;
