//! Reading values from files and standard input, and replacing files atomically
//! (R27 atomic-owner-only-store-files).

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use oidc_refresh::store::write_atomic;

use crate::exit::Failure;

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

/// Writes one value and a trailing newline, atomically and owner-only (0600): the
/// library's [`write_atomic`], shared with its file store.
pub(crate) fn write_value(path: &Path, value: &str) -> io::Result<()> {
    let mut contents = Vec::with_capacity(value.len() + 1);
    contents.extend_from_slice(value.as_bytes());
    contents.push(b'\n');
    write_atomic(path, &contents)
}

/// Empties a file, atomically and owner-only (0600), as [`write_value`] writes: a reader
/// sees the old content or nothing, never a part.
pub(crate) fn empty_file(path: &Path) -> io::Result<()> {
    write_atomic(path, &[])
}

/// Reads `FILE`, or standard input for `-` or no argument.
pub(crate) fn read_input(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    match path {
        None => io::stdin().lock().read_to_end(&mut buf).map(|_| buf),
        Some(p) if p == Path::new("-") => io::stdin().lock().read_to_end(&mut buf).map(|_| buf),
        Some(p) => fs::read(p),
    }
    .map_err(|e| {
        Failure::usage(format!(
            "cannot read {}: {e}",
            path.map_or_else(|| "standard input".into(), |p| p.display().to_string())
        ))
    })
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
