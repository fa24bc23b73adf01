//! Files kgsim reads from and writes for its users: every read is capped, so that a key file
//! pointing at `/dev/zero` or a runaway scenario is refused with a clear message instead of
//! exhausting memory; every write of a regular file is atomic (a temporary file beside the
//! target, then a rename), so that a full disk or a killed process never leaves a truncated
//! report or snapshot behind — least of all one that a later run would accept; and no write
//! replaces what is not a regular file (a device, a FIFO, `/dev/stdout`) or a symlink.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// The largest access-key or app-secret file read (keys are tens of bytes).
pub(crate) const KEY_FILE_CAP: u64 = 64 * 1024;
/// The largest profile, scenario or body file read.
pub(crate) const INPUT_FILE_CAP: u64 = 4 * 1024 * 1024;

/// A user file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file system refused.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than the cap.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap in bytes.
        cap: u64,
    },
    /// The file is not UTF-8 text.
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The OS error alone: its Display already names the cause, so it is not repeated.
            Self::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::TooLarge { path, cap } => write!(
                f,
                "{} is larger than {} (kgsim reads at most that much of it)",
                path.display(),
                human_bytes(*cap)
            ),
            Self::NotUtf8 { path } => write!(f, "{} is not UTF-8 text", path.display()),
        }
    }
}

impl std::error::Error for ReadError {}

/// `4 MiB`, `64 KiB`, `12 bytes`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Reads at most `cap` bytes of a file; a longer file (or an endless device) is an error.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            cap,
        });
    }
    Ok(bytes)
}

/// Reads at most `cap` bytes of a UTF-8 text file.
pub(crate) fn read_text_capped(path: &Path, cap: u64) -> Result<String, ReadError> {
    String::from_utf8(read_capped(path, cap)?).map_err(|_| ReadError::NotUtf8 {
        path: path.to_owned(),
    })
}

/// Whether an output path is `-`: standard output.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where the bytes for an output path go, decided by the path's final target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// A regular file (or none yet): written to a temporary file in this file's folder,
    /// then renamed over it. A symlink is followed, so the link stays and its target is
    /// written.
    Replace(PathBuf),
    /// Not a regular file — a device, a FIFO, a socket, `/dev/stdout`, `/dev/fd/N` —:
    /// opened and written in place, never renamed over.
    InPlace(PathBuf),
}

/// The paths that always name an open descriptor, whatever they resolve to.
fn names_a_descriptor(path: &Path) -> bool {
    let text = path.to_string_lossy();
    matches!(text.as_ref(), "/dev/stdout" | "/dev/stderr" | "/dev/stdin")
        || text.starts_with("/dev/fd/")
        || text.starts_with("/proc/self/fd/")
}

/// Follows a chain of symlinks to the path it finally names (which may not exist yet).
fn final_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_owned();
    // A loop of links would never end; the kernel gives up after 40 as well.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Decides how an output path is written.
pub(crate) fn destination(path: &Path) -> std::io::Result<Destination> {
    if names_a_descriptor(path) {
        return Ok(Destination::InPlace(path.to_owned()));
    }
    let target = final_target(path)?;
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        )),
        Ok(meta) if !meta.is_file() => Ok(Destination::InPlace(target)),
        _ => Ok(Destination::Replace(target)),
    }
}

/// Writes an output file without ever destroying what the path names: a regular file is
/// replaced atomically (a temporary file in the same folder, flushed, then renamed over it:
/// either the whole new content is there afterwards or the old file is untouched; missing
/// parent folders are created); a symlink is followed and its target written the same way;
/// a device, FIFO or descriptor path is written in place. A failed write (a full disk,
/// `/dev/full`) is an error naming the OS's reason.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match destination(path)? {
        Destination::InPlace(target) => {
            let mut file = std::fs::OpenOptions::new().append(true).open(&target)?;
            file.write_all(bytes)?;
            file.flush()
        }
        Destination::Replace(target) => replace(&target, bytes),
    }
}

fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)?;
    let name = path.file_name().map_or_else(
        || "kgsim-output".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let temporary = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(())
}

/// Checks, before a run starts, that an output file can be written where the user asked:
/// its directory exists (or can be created) and accepts a new file. Nothing is left behind.
pub(crate) fn check_writable(path: &Path) -> std::io::Result<()> {
    let path = match destination(path)? {
        // Opening a FIFO waits for its reader and would hand it an end of file: it is
        // opened once, when the report is written.
        Destination::InPlace(target) if is_fifo(&target) => return Ok(()),
        Destination::InPlace(target) => {
            return std::fs::OpenOptions::new()
                .append(true)
                .open(target)
                .map(drop);
        }
        Destination::Replace(target) => target,
    };
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)?;
    let probe = parent.join(format!(".kgsim-probe.{}.tmp", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

/// Checks that a directory exists or can be created, and accepts new files.
pub(crate) fn check_writable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".kgsim-probe.{}.tmp", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_capped_even_on_endless_devices() {
        let error = read_capped(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(matches!(error, ReadError::TooLarge { cap: 1024, .. }));
        assert_eq!(
            error.to_string(),
            "/dev/zero is larger than 1 KiB (kgsim reads at most that much of it)"
        );
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let file = dir.join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_capped(&file, 5).unwrap(), b"12345");
        assert!(read_capped(&file, 4).is_err());
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_text_capped(&file, 5),
            Err(ReadError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn an_io_error_names_its_cause_once() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let text = read_capped(dir, 10).unwrap_err().to_string();
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporary() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let file = dir.join("sub/report.json");
        write_atomic(&file, b"first").unwrap();
        write_atomic(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
        assert!(write_atomic(dir, b"x").is_err(), "a directory is refused");
    }

    #[test]
    fn writability_is_checked_before_anything_is_written() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        assert!(check_writable(&dir.join("new/out.xml")).is_ok());
        assert!(check_writable(dir).is_err());
        assert!(check_writable(Path::new("/proc/kgsim/none.xml")).is_err());
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1, "only `new/`");
    }
}
