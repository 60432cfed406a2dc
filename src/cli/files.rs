//! Reading secrets from files and replacing files atomically (rule 27).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Reads a file holding one value (a token, a secret), surrounding whitespace ignored.
pub(crate) fn read_value(path: &Path) -> io::Result<String> {
    let text = fs::read_to_string(path)?;
    Ok(text.trim().to_owned())
}

/// Like [`read_value`], but a missing or empty file is `None`.
pub(crate) fn read_optional_value(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces `path` with `contents` atomically: a temporary file in the same folder, created
/// owner-only (0600), written, flushed to disk, renamed over `path`, then the folder
/// flushed, so that a reader sees the old content or the new, never a mix or nothing, even
/// if the process is killed at any moment.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".oidc-refresh.").suffix(".tmp").tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Writes one value and a trailing newline, atomically.
pub(crate) fn write_value(path: &Path, value: &str) -> io::Result<()> {
    let mut contents = Vec::with_capacity(value.len() + 1);
    contents.extend_from_slice(value.as_bytes());
    contents.push(b'\n');
    write_atomic(path, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_is_owner_only() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("token");
        fs::write(&path, "old\n")?;
        write_value(&path, "new")?;
        assert_eq!(fs::read_to_string(&path)?, "new\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path())?.count(), 1);
        assert_eq!(read_value(&path)?, "new");
        assert_eq!(read_optional_value(&dir.path().join("missing"))?, None);
        Ok(())
    }
}
