//! Atomic, owner-only file replacement (R27 atomic-owner-only-store-files), shared by
//! [`FileStore`](super::FileStore) and the command line's token files.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// What follows `.{file name}` in the name of a temporary file, before its random part.
const TMP_INFIX: &str = ".oidc-refresh-";
/// The end of a temporary file's name.
const TMP_SUFFIX: &str = ".tmp";
/// The length of the random part of a temporary file's name (ASCII alphanumerics).
const TMP_RANDOM: usize = 6;

/// Replaces the file at `path` with `contents`, atomically: a reader (or a process started
/// after a crash) sees the old content or the new, never a mix or nothing.
///
/// The steps (R27 atomic-owner-only-store-files): a temporary file
/// `.{name}.oidc-refresh-XXXXXX.tmp` is created in the same folder, owner-only (mode 0600 on
/// Unix), written, flushed to disk (`fsync`), renamed over `path`, and then the folder itself
/// is flushed so that the rename survives a power loss. The new file is therefore 0600
/// whatever the old one's mode was. A process killed before the rename leaves the old file
/// intact and, at worst, a stray temporary file (which [`FileStore`](super::FileStore)
/// removes under its lock).
///
/// This call blocks; in async code run it on a blocking thread (`spawn_blocking`).
///
/// # Errors
///
/// Any I/O error of those steps. An error up to the rename leaves the old content at
/// `path`; only the last step, flushing the folder, can fail with the new content already
/// in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = folder_of(path);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} does not name a file", path.display()))
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name_tag(name));
    prefix.push(TMP_INFIX);
    // tempfile creates the file with mode 0600 (O_EXCL, never following a planted link);
    // setting it again makes it exactly 0600 whatever the umask.
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TMP_SUFFIX)
        .rand_bytes(TMP_RANDOM)
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_folder(dir)
}

/// The longest file name whose temporary files carry it (the usual limit on a name is 255
/// bytes; a temporary name adds 24).
const MAX_TAGGED_NAME: usize = 200;

/// The file's name as it appears in its temporary files' names; left out for a longer
/// name than [`MAX_TAGGED_NAME`].
fn name_tag(name: &OsStr) -> &OsStr {
    if name.len() <= MAX_TAGGED_NAME { name } else { OsStr::new("") }
}

/// The folder holding `path` (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the temporary files that [`write_atomic`] left beside `path` when its process
/// died before the rename. Only call it while holding a lock that every writer of `path`
/// takes, or a write in progress could lose its temporary file (it would then fail, not
/// tear anything). Errors are ignored: this is housekeeping.
pub(crate) fn remove_stale_temporaries(path: &Path) {
    let (Some(name), Ok(entries)) = (path.file_name(), fs::read_dir(folder_of(path))) else {
        return;
    };
    for entry in entries.flatten() {
        if is_temporary_of(&entry.file_name(), name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether `candidate` is exactly `.{name}.oidc-refresh-XXXXXX.tmp`. Never for a name
/// too long to appear in it: those temporary names do not say whose they are.
fn is_temporary_of(candidate: &OsStr, name: &OsStr) -> bool {
    if name.len() > MAX_TAGGED_NAME {
        return false;
    }
    let (Some(candidate), Some(name)) = (candidate.to_str(), name.to_str()) else {
        return false;
    };
    candidate
        .strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix(TMP_INFIX))
        .and_then(|rest| rest.strip_suffix(TMP_SUFFIX))
        .is_some_and(|random| random.len() == TMP_RANDOM && random.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Flushes a folder's entries (the rename) to disk. Windows cannot open a folder as a file
/// and has no such step.
#[cfg(unix)]
pub(crate) fn sync_folder(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn sync_folder(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_exactly() {
        let name = OsStr::new("store.json");
        assert!(is_temporary_of(OsStr::new(".store.json.oidc-refresh-aB3xY9.tmp"), name));
        assert!(!is_temporary_of(OsStr::new(".store.json.oidc-refresh-aB3xY.tmp"), name));
        assert!(!is_temporary_of(OsStr::new(".store.json.x.oidc-refresh-aB3xY9.tmp"), name));
        assert!(!is_temporary_of(OsStr::new(".store.json.oidc-refresh-aB3-Y9.tmp"), name));
        assert!(!is_temporary_of(OsStr::new("store.json"), name));
        assert!(!is_temporary_of(OsStr::new("store.json.lock"), name));
        let long = "n".repeat(250);
        assert!(!is_temporary_of(OsStr::new("..oidc-refresh-aB3xY9.tmp"), OsStr::new(&long)));
    }
}
