//! The data directory: one server at a time, private to the server's user.
//!
//! Two servers on one directory would each keep their own live meetings and tile caches
//! while writing the same database: participants split between them, and each one's
//! changes surprise the other. An exclusive lock (`DATA/deskshare.lock`, held for the
//! life of the process and released by the kernel even on kill -9) refuses the second
//! one and names the first. The directory holds password hashes, chat and the admin
//! token, so it is made 0700 and its files 0600.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

use deskshare_proto::{ErrorCode, WireError};

/// Holds the directory's lock while alive.
pub struct DataDirLock {
    _file: File,
}

/// Creates (if needed) and locks the data directory, and makes it private.
pub fn open(dir: &Path) -> Result<DataDirLock, WireError> {
    let unusable = |e: std::io::Error| WireError::new(ErrorCode::DataDirUnusable, format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(unusable)?;
    make_private(dir, 0o700).map_err(unusable)?;
    let path = dir.join("deskshare.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(unusable)?;
    // SAFETY: flock on a file descriptor this function owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let who = if holder.is_empty() { "another process".to_string() } else { format!("process {holder}") };
        return Err(WireError::new(
            ErrorCode::DataDirInUse,
            format!("{who} holds {} (another deskshare serve on {})", path.display(), dir.display()),
        ));
    }
    file.set_len(0).and_then(|_| file.rewind()).map_err(unusable)?;
    writeln!(file, "{}", std::process::id()).map_err(unusable)?;
    for name in ["deskshare.db", "deskshare.db-wal", "deskshare.db-shm", "admin-token"] {
        let p = dir.join(name);
        if p.exists() {
            make_private(&p, 0o600).map_err(unusable)?;
        }
    }
    Ok(DataDirLock { _file: file })
}

fn make_private(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::info!(path = %path.display(), "permissions {current:o} -> {mode:o}: the data directory is private");
    }
    Ok(())
}

/// Creates the database file 0600 before SQLite opens it (SQLite gives its WAL and
/// shared-memory files the database file's mode).
pub fn precreate_private(path: &Path) -> std::io::Result<()> {
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("deskshare-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = open(&dir).unwrap();
        let err = open(&dir).err().expect("second lock refused");
        assert_eq!(err.code, ErrorCode::DataDirInUse);
        assert!(err.message.contains(&format!("process {}", std::process::id())), "{}", err.message);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        drop(first);
        assert!(open(&dir).is_ok(), "free again once the holder is gone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
