//! [`FileStore`]: a store in one JSON file, shared by threads, tasks and processes.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use oidc_refresh_core::TokenSet;

use super::atomic::{self, write_atomic};
use super::json::{UnknownMembers, from_store_json_keeping, to_store_json_keeping};
use super::{StoreGuard, TokenStore};

/// A store in one JSON file, shared safely by any number of threads, tasks
/// and processes, the same file the command line's `token --store FILE` uses.
///
/// # The file
///
/// `FILE` holds one [`TokenSet`] as a JSON object with the wire names `refresh_token`
/// (required), `access_token`, `id_token`, `token_type`, `scope` and `expires_at` (Unix
/// seconds, an integer), absent members omitted:
///
/// ```json
/// {
///   "refresh_token": "...",
///   "access_token": "...",
///   "token_type": "Bearer",
///   "expires_at": 1700003600
/// }
/// ```
///
/// Anything but a JSON object is malformed. Other members of the object (another tool's, or
/// a newer version's) are kept: a guard that read the set writes them back after its own.
///
/// Every write replaces the file atomically with [`write_atomic`] (a temporary file in the
/// same folder, mode 0600, `fsync`, rename, `fsync` of the folder): a reader, or a process
/// started after a crash or a `SIGKILL`, finds the old token set or the new one, never a mix
/// or an empty file.
///
/// # The lock
///
/// [`FileStore::lock`] takes an exclusive advisory lock ([`File::lock`]: `flock(LOCK_EX)` on
/// Linux and macOS, `LockFileEx` on Windows) on `FILE.lock` beside the store, created with
/// mode 0600 and never deleted, not even by [`clear`](StoreGuard::clear) (deleting a lock
/// file while another process waits on it would let two holders in at once). The lock belongs to the open file, so the kernel
/// releases it when the holder's process dies, however it dies: a killed holder never
/// leaves the store locked. Any program that takes `flock(FILE.lock, LOCK_EX)` around its
/// reads and writes interoperates with this store and with `oidc-refresh token`.
///
/// # Blocking and async
///
/// As a [`TokenStore`], every call blocks on the file system, and the lock waits for the
/// other holders. With this crate's `tokio` feature it is an [`AsyncTokenStore`](super::AsyncTokenStore) too: each
/// call runs on tokio's blocking pool (`spawn_blocking`) and is awaited, and the guard, which
/// owns the open lock file, is held by the task itself.
///
/// # Example: the refresh protocol across processes
///
/// ```no_run
/// use std::time::Duration;
/// use oidc_refresh_core::{TokenSet, UnixTime};
/// use oidc_refresh_driver::store::{FileStore, StoreGuard, TokenStore};
///
/// # fn now() -> UnixTime { UnixTime::EPOCH }
/// # fn refresh(_: &TokenSet) -> TokenSet { unimplemented!() }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = FileStore::new("tokens.json");
/// let min_ttl = Duration::from_secs(60);
/// // The fresh path: no lock, no request.
/// if let Some(set) = store.load()? {
///     if let Some(token) = set.fresh_access_token(now(), min_ttl) {
///         return Ok(use_token(token.expose_secret()));
///     }
/// }
/// // Lock, re-read: another process may have refreshed meanwhile.
/// let mut guard = store.lock()?;
/// let set = guard.load()?.ok_or("no token set stored")?;
/// if let Some(token) = set.fresh_access_token(now(), min_ttl) {
///     return Ok(use_token(token.expose_secret()));
/// }
/// // Refresh with the *stored* refresh token, save before use, then unlock (drop).
/// let new = refresh(&set);
/// guard.save(&new)?;
/// drop(guard);
/// # Ok(())
/// # }
/// # fn use_token(_: &str) {}
/// ```
///
/// `FileStore` holds only the two paths; it opens the files on each call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
}

impl FileStore {
    /// A store in the file at `path`; its lock file is `path` with `.lock` appended
    /// (`tokens.json` → `tokens.json.lock`). Nothing is touched until the first call.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        Self { path, lock_path: PathBuf::from(lock_path) }
    }

    /// The store file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file beside it (`FILE.lock`).
    #[must_use]
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Takes the lock if no one else holds it, without waiting: `Ok(None)` when another
    /// holder (a thread or a process) has it.
    ///
    /// # Errors
    ///
    /// [`FileStoreErrorKind::Lock`]: the lock file cannot be created or opened (a missing
    /// folder, no permission), or the lock call itself failed.
    pub fn try_lock(&self) -> Result<Option<FileStoreGuard>, FileStoreError> {
        let file = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileStoreGuard::new(self.clone(), file))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(self.error(FileStoreErrorKind::Lock, e)),
        }
    }

    fn open_lock_file(&self) -> Result<File, FileStoreError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&self.lock_path).map_err(|e| self.error(FileStoreErrorKind::Lock, e))
    }

    fn write(&self, tokens: &TokenSet, unknown: &UnknownMembers) -> Result<(), FileStoreError> {
        let json = to_store_json_keeping(tokens, unknown);
        atomic::remove_stale_temporaries(&self.path);
        write_atomic(&self.path, &json).map_err(|e| self.error(FileStoreErrorKind::Write, e))
    }

    /// Removes the store file (unlinked at once: a reader finds the whole set or no file),
    /// then flushes the folder so that the removal survives a power loss. A missing file is
    /// already removed.
    fn remove(&self) -> Result<(), FileStoreError> {
        atomic::remove_stale_temporaries(&self.path);
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.error(FileStoreErrorKind::Remove, e)),
        }
        atomic::sync_folder(atomic::folder_of(&self.path))
            .map_err(|e| self.error(FileStoreErrorKind::Remove, e))
    }

    fn read(&self) -> Result<Option<TokenSet>, FileStoreError> {
        Ok(self.read_keeping()?.map(|(tokens, _)| tokens))
    }

    /// The set and the object's other members.
    fn read_keeping(&self) -> Result<Option<(TokenSet, UnknownMembers)>, FileStoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(FileStoreErrorKind::Read, e)),
        };
        from_store_json_keeping(&bytes).map(Some).map_err(|e| FileStoreError {
            kind: FileStoreErrorKind::Malformed,
            path: self.path.clone(),
            detail: Detail::Malformed(e.to_string()),
        })
    }

    fn error(&self, kind: FileStoreErrorKind, e: io::Error) -> FileStoreError {
        let path = if kind == FileStoreErrorKind::Lock { &self.lock_path } else { &self.path };
        FileStoreError { kind, path: path.clone(), detail: Detail::Io(e) }
    }
}

impl TokenStore for FileStore {
    type Error = FileStoreError;
    type Guard<'a> = FileStoreGuard;

    /// Reads the store without locking. A missing file is `None`; an empty or malformed
    /// one is an error (an atomic writer never leaves either).
    fn load(&self) -> Result<Option<TokenSet>, FileStoreError> {
        self.read()
    }

    /// Takes the exclusive lock on `FILE.lock` (created 0600 if missing), waiting as long
    /// as another thread or process holds it.
    fn lock(&self) -> Result<FileStoreGuard, FileStoreError> {
        let file = self.open_lock_file()?;
        loop {
            match file.lock() {
                Ok(()) => return Ok(FileStoreGuard::new(self.clone(), file)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(FileStoreErrorKind::Lock, e)),
            }
        }
    }
}

/// The exclusive hold on a [`FileStore`]; dropping it unlocks.
///
/// It owns what it needs (no borrow of the store), so it can move between threads and
/// into and out of `spawn_blocking`.
#[derive(Debug)]
pub struct FileStoreGuard {
    store: FileStore,
    lock: File,
    /// The members of the object last read that are not a token set's: written back by
    /// `save`.
    unknown: UnknownMembers,
}

impl FileStoreGuard {
    fn new(store: FileStore, lock: File) -> Self {
        Self { store, lock, unknown: UnknownMembers::default() }
    }

    /// Keeps the unknown members of what was read, for the next save.
    fn keep(&mut self, read: Option<(TokenSet, UnknownMembers)>) -> Option<TokenSet> {
        let (tokens, unknown) = read.unzip();
        self.unknown = unknown.unwrap_or_default();
        tokens
    }

    /// The store this guard locks.
    #[must_use]
    pub fn store(&self) -> &FileStore {
        &self.store
    }
}

impl StoreGuard for FileStoreGuard {
    type Error = FileStoreError;

    /// Reads the set, and keeps the object's other members for [`save`](Self::save).
    fn load(&mut self) -> Result<Option<TokenSet>, FileStoreError> {
        let read = self.store.read_keeping()?;
        Ok(self.keep(read))
    }

    /// Replaces the store file atomically ([`write_atomic`]) with `tokens` as pretty JSON
    /// and a trailing newline, mode 0600, followed by the other members of the object this
    /// guard last [loaded](Self::load) (none when it loaded nothing: an `init`). Temporary
    /// files left by writers killed before their rename are removed first (safe: every
    /// writer holds this lock).
    fn save(&mut self, tokens: &TokenSet) -> Result<(), FileStoreError> {
        self.store.write(tokens, &self.unknown)
    }

    /// Removes the store file (the lock file stays: see [the lock](FileStore#the-lock)), and
    /// flushes the folder. A reader without the lock finds the whole set or no file; a
    /// process waiting for the lock finds no file once it has it. Temporary files left by
    /// killed writers are removed first.
    ///
    /// # Errors
    ///
    /// [`FileStoreErrorKind::Remove`]: the file cannot be removed (it is then still
    /// stored), or the folder cannot be flushed (it is then removed, and may come back after
    /// a power loss).
    fn clear(&mut self) -> Result<(), FileStoreError> {
        self.store.remove()?;
        self.unknown = UnknownMembers::default();
        Ok(())
    }
}

impl Drop for FileStoreGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first also covers a copy of the
        // descriptor that a concurrent fork may briefly hold.
        let _ = self.lock.unlock();
    }
}

#[cfg(feature = "tokio")]
mod nonblocking {
    //! The async face of the file store: each call on tokio's blocking pool.

    use std::future::Future;

    use oidc_refresh_core::TokenSet;

    use super::{FileStore, FileStoreError, FileStoreErrorKind, FileStoreGuard, UnknownMembers};
    use crate::store::{AsyncStoreGuard, AsyncTokenStore, TokenStore};

    /// Runs `call` on tokio's blocking pool; a task that cannot run (the runtime is shutting
    /// down) is an error of `kind`.
    async fn blocking<T: Send + 'static>(
        store: &FileStore,
        kind: FileStoreErrorKind,
        call: impl FnOnce(FileStore) -> Result<T, FileStoreError> + Send + 'static,
    ) -> Result<T, FileStoreError> {
        let owned = store.clone();
        match tokio::task::spawn_blocking(move || call(owned)).await {
            Ok(result) => result,
            Err(e) => Err(store.error(kind, std::io::Error::other(e))),
        }
    }

    impl AsyncTokenStore for FileStore {
        type Error = FileStoreError;
        type Guard<'a> = FileStoreGuard;

        fn load(&self) -> impl Future<Output = Result<Option<TokenSet>, FileStoreError>> + Send {
            blocking(self, FileStoreErrorKind::Read, |store| store.read())
        }

        /// Waits for the lock on a blocking thread; the task then holds the guard.
        fn lock(&self) -> impl Future<Output = Result<FileStoreGuard, FileStoreError>> + Send {
            blocking(self, FileStoreErrorKind::Lock, |store| TokenStore::lock(&store))
        }
    }

    impl AsyncStoreGuard for FileStoreGuard {
        type Error = FileStoreError;

        async fn load(&mut self) -> Result<Option<TokenSet>, FileStoreError> {
            let read = blocking(&self.store, FileStoreErrorKind::Read, |store| store.read_keeping()).await?;
            Ok(self.keep(read))
        }

        fn save(&mut self, tokens: &TokenSet) -> impl Future<Output = Result<(), FileStoreError>> + Send {
            let (tokens, unknown) = (tokens.clone(), self.unknown.clone());
            blocking(&self.store, FileStoreErrorKind::Write, move |store| store.write(&tokens, &unknown))
        }

        async fn clear(&mut self) -> Result<(), FileStoreError> {
            blocking(&self.store, FileStoreErrorKind::Remove, |store| store.remove()).await?;
            self.unknown = UnknownMembers::default();
            Ok(())
        }
    }
}

/// What went wrong with a [`FileStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileStoreErrorKind {
    /// The store file exists but cannot be read.
    Read,
    /// The store file is not a token set: not JSON, not an object (an array, a string, a
    /// number), `refresh_token`
    /// missing, a member of the wrong type, a repeated member, or empty.
    Malformed,
    /// The lock file cannot be created or opened, or locking failed.
    Lock,
    /// The new token set cannot be written; the previous one is still stored.
    Write,
    /// The store file cannot be removed ([`StoreGuard::clear`]); the set is still stored.
    Remove,
}

/// A [`FileStore`] error: its [kind](FileStoreErrorKind), the file, and the cause.
///
/// It never shows file content: a malformed store is described by the JSON error's class
/// and position only (a token in the wrong member must not reach a log).
#[derive(Debug)]
pub struct FileStoreError {
    kind: FileStoreErrorKind,
    path: PathBuf,
    detail: Detail,
}

#[derive(Debug)]
enum Detail {
    Io(io::Error),
    Malformed(String),
}

impl FileStoreError {
    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> FileStoreErrorKind {
        self.kind
    }

    /// The file concerned: the store, or its lock file for [`FileStoreErrorKind::Lock`].
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The I/O error behind it, if any.
    #[must_use]
    pub fn io_error(&self) -> Option<&io::Error> {
        match &self.detail {
            Detail::Io(e) => Some(e),
            Detail::Malformed(_) => None,
        }
    }
}

impl fmt::Display for FileStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match (&self.kind, &self.detail) {
            (FileStoreErrorKind::Malformed, Detail::Malformed(why)) => {
                write!(f, "the store {path} is malformed: {why}")
            }
            (FileStoreErrorKind::Read, Detail::Io(e)) => write!(f, "cannot read the store {path}: {e}"),
            (FileStoreErrorKind::Lock, Detail::Io(e)) => write!(f, "cannot lock the store ({path}): {e}"),
            (FileStoreErrorKind::Write, Detail::Io(e)) => write!(f, "cannot write the store {path}: {e}"),
            (FileStoreErrorKind::Remove, Detail::Io(e)) => write!(f, "cannot remove the store {path}: {e}"),
            (_, Detail::Io(e)) => write!(f, "store {path}: {e}"),
            (_, Detail::Malformed(why)) => write!(f, "store {path}: {why}"),
        }
    }
}

impl std::error::Error for FileStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io_error().map(|e| e as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_is_beside_the_store() {
        let store = FileStore::new("/var/lib/app/tokens.json");
        assert_eq!(store.lock_path(), Path::new("/var/lib/app/tokens.json.lock"));
        assert_eq!(FileStore::new("t").lock_path(), Path::new("t.lock"));
    }
}
