//! Small file-system helpers shared by the store's file formats.

use std::path::Path;

use super::vfs;
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
    match vfs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { op: "reading a store file", source }),
    }
}

/// Replaces `path` with `bytes` atomically: temporary file, sync, rename, sync directory.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut f = vfs::create(&tmp, false)?;
        vfs::write_all(&mut f, bytes)?;
        vfs::sync(&f, &tmp, false)
    })();
    if let Err(source) = written {
        let _ = vfs::remove(&tmp);
        return Err(Error::Io { op: "writing a store file", source });
    }
    if let Err(source) = vfs::rename(&tmp, path) {
        let _ = vfs::remove(&tmp);
        return Err(Error::Io { op: "replacing a store file", source });
    }
    vfs::sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Deletes a file; a missing file is fine.
pub(super) fn remove_if_present(path: &Path) -> Result<()> {
    match vfs::remove(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io { op: "deleting a store file", source: e }),
        _ => Ok(()),
    }
}

/// Overwrites a file's bytes with zeros and syncs, before it is deleted.
pub(super) fn shred(path: &Path) -> Result<()> {
    let Ok(len) = vfs::len(path) else { return Ok(()) };
    let mut f = vfs::open(path).map_err(Error::io("opening a file to shred"))?;
    vfs::write_all(&mut f, &vec![0u8; len as usize]).map_err(Error::io("shredding a file"))?;
    vfs::sync(&f, path, false).map_err(Error::io("syncing a shredded file"))
}
