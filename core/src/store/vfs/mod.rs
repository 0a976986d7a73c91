//! Every file-system call the store makes, in one place. Outside tests each is
//! the `std` call. In tests, [`sim`] can make the Nth call fail (EIO, ENOSPC, a
//! short write, or a crash after which every call fails), and can simulate a
//! power loss by dropping whatever was not synced, directory entries included.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

#[cfg(test)]
pub(crate) mod sim;

/// The kinds of call a fault can be injected into.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Open,
    Read,
    Write,
    Sync,
    Rename,
    Remove,
}

/// Runs before every call: in tests, where an injected fault fires.
#[inline(always)]
fn before(op: Op) -> io::Result<()> {
    #[cfg(test)]
    return sim::before(op);
    #[cfg(not(test))]
    {
        let _ = op;
        Ok(())
    }
}

/// Reads a whole file.
pub(super) fn read(path: &Path) -> io::Result<Vec<u8>> {
    before(Op::Open)?;
    let mut file = File::open(path)?;
    before(Op::Read)?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    Ok(buf)
}

/// The size of a file.
pub(super) fn len(path: &Path) -> io::Result<u64> {
    before(Op::Read)?;
    Ok(fs::metadata(path)?.len())
}

/// The names of the entries of `dir` (names that are not UTF-8 are not the store's).
pub(super) fn list(dir: &Path) -> io::Result<Vec<String>> {
    before(Op::Read)?;
    Ok(fs::read_dir(dir)?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
}

/// Creates `dir` and its parents.
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    before(Op::Write)?;
    fs::create_dir_all(dir)
}

/// Creates a file for reading and writing: a new one (failing if it exists) or,
/// unless `new`, an empty one in place of any file there.
pub(super) fn create(path: &Path, new: bool) -> io::Result<File> {
    before(Op::Open)?;
    let file = OpenOptions::new().read(true).write(true).create_new(new).create(!new).truncate(!new).open(path)?;
    #[cfg(test)]
    sim::created(path);
    Ok(file)
}

/// Opens an existing file for reading and writing.
pub(super) fn open(path: &Path) -> io::Result<File> {
    before(Op::Open)?;
    OpenOptions::new().read(true).write(true).open(path)
}

/// Opens (creating it if need be) the lock file, without truncating it.
pub(super) fn open_lock(path: &Path) -> io::Result<File> {
    before(Op::Open)?;
    OpenOptions::new().create(true).truncate(false).write(true).open(path)
}

/// Writes all of `bytes` at the file's position.
pub(super) fn write_all(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    #[cfg(test)]
    if let Some((part, error)) = sim::before_write(bytes.len())? {
        file.write_all(&bytes[..part])?;
        return Err(error);
    }
    file.write_all(bytes)
}

/// Cuts or extends a file to `len` bytes.
pub(super) fn set_len(file: &File, len: u64) -> io::Result<()> {
    before(Op::Write)?;
    file.set_len(len)
}

/// Syncs the file at `path` (open as `file`) to stable storage; with `data_only`,
/// its data but not every piece of its metadata.
pub(super) fn sync(file: &File, path: &Path, data_only: bool) -> io::Result<()> {
    before(Op::Sync)?;
    if data_only { file.sync_data() } else { file.sync_all() }?;
    #[cfg(test)]
    sim::synced(path);
    #[cfg(not(test))]
    let _ = path;
    Ok(())
}

/// Persists the creations, renames and deletions in `dir` (not every platform
/// can sync a directory, so this is best effort).
pub(super) fn sync_dir(dir: &Path) {
    if before(Op::Sync).is_err() {
        return;
    }
    if let Ok(d) = File::open(dir) {
        if d.sync_all().is_ok() {
            #[cfg(test)]
            sim::dir_synced(dir);
        }
    }
}

/// Renames `from` to `to`, replacing `to`.
pub(super) fn rename(from: &Path, to: &Path) -> io::Result<()> {
    before(Op::Rename)?;
    fs::rename(from, to)?;
    #[cfg(test)]
    sim::renamed(from, to);
    Ok(())
}

/// Deletes a file.
pub(super) fn remove(path: &Path) -> io::Result<()> {
    before(Op::Remove)?;
    fs::remove_file(path)?;
    #[cfg(test)]
    sim::removed(path);
    Ok(())
}
