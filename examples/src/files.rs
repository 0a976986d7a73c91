//! File access for the CLI: every error names the file it is about.

use std::fs::File;
use std::path::Path;

/// An I/O error, with the file it happened to.
fn named(path: &Path) -> impl FnOnce(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// Reads a whole file.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<u8>, String> {
    std::fs::read(path.as_ref()).map_err(named(path.as_ref()))
}

/// Reads a whole text file.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String, String> {
    std::fs::read_to_string(path.as_ref()).map_err(named(path.as_ref()))
}

/// Writes a whole file.
pub fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path.as_ref(), bytes).map_err(named(path.as_ref()))
}

/// Opens a file for reading.
pub fn open(path: impl AsRef<Path>) -> Result<File, String> {
    File::open(path.as_ref()).map_err(named(path.as_ref()))
}

/// Creates (or empties) a file for writing.
pub fn create(path: impl AsRef<Path>) -> Result<File, String> {
    File::create(path.as_ref()).map_err(named(path.as_ref()))
}

/// Creates a directory and its parents.
pub fn create_dir_all(path: impl AsRef<Path>) -> Result<(), String> {
    std::fs::create_dir_all(path.as_ref()).map_err(named(path.as_ref()))
}
