//! Small file-system helpers shared by the store's file formats.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Magic (4 bytes) followed by a little-endian format version.
pub(super) fn header(magic: &[u8; 4], version: u16) -> Vec<u8> {
    let mut h = magic.to_vec();
    h.extend_from_slice(&version.to_le_bytes());
    h
}

/// The bytes after a `magic ‖ version` header, if both match.
pub(super) fn strip_header<'a>(bytes: &'a [u8], magic: &[u8; 4], version: u16) -> Option<&'a [u8]> {
    let head = bytes.get(..6)?;
    (head[..4] == magic[..] && u16::from_le_bytes([head[4], head[5]]) == version).then(|| &bytes[6..])
}

/// Reads a whole file, or `None` if it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match File::open(path) {
        Ok(mut f) => {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).map_err(Error::io("reading a store file"))?;
            Ok(Some(buf))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { op: "opening a store file", source }),
    }
}

/// Replaces `path` with `bytes` atomically: temporary file, sync, rename, sync directory.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Io { op: "writing a store file", source });
    }
    fs::rename(&tmp, path).map_err(Error::io("replacing a store file"))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Persists renames and deletions in `dir` (not every platform can sync a directory).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Deletes a file; a missing file is fine.
pub(super) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io { op: "deleting a store file", source: e }),
        _ => Ok(()),
    }
}

/// Overwrites a file's bytes with zeros and syncs, before it is deleted.
pub(super) fn shred(path: &Path) -> Result<()> {
    let Ok(len) = fs::metadata(path).map(|m| m.len()) else { return Ok(()) };
    let mut f = fs::OpenOptions::new().write(true).open(path).map_err(Error::io("opening a file to shred"))?;
    f.write_all(&vec![0u8; len as usize]).map_err(Error::io("shredding a file"))?;
    f.sync_all().map_err(Error::io("syncing a shredded file"))
}
