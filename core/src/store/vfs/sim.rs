//! Test-only control of the store's file calls ([`super`]), per thread:
//!
//! - **faults**: the Nth call from now fails with EIO or ENOSPC, or (a write)
//!   writes part of its bytes and then fails, or the process "crashes" there:
//!   that call and every later one fail, as if the process had died;
//! - **power loss**: [`track`] follows which file contents and directory
//!   entries are durable (synced, and for entries, the directory synced after
//!   them); [`power_loss`] puts the directory back to exactly that, dropping
//!   every write, creation, rename and deletion that was not synced.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::Op;

const EIO: i32 = 5;
const ENOSPC: i32 = 28;

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The call fails with EIO.
    Io,
    /// The call fails with ENOSPC (a write: after writing half of its bytes).
    NoSpace,
    /// The process dies in the call: a write leaves half of its bytes, and this
    /// call and every later one fail until [`clear`].
    Crash,
}

#[derive(Default)]
struct Sim {
    /// Calls are neither counted nor failed (the test's own reads).
    paused: bool,
    calls: u64,
    fault: Option<(u64, Fault)>,
    crashed: bool,
    durable: Option<Durable>,
}

/// The directory as power loss would leave it.
struct Durable {
    dir: PathBuf,
    next_id: u64,
    /// File name → identity of the file, as the directory is now.
    names: HashMap<String, u64>,
    /// File name → identity, as of the last directory sync.
    durable_names: HashMap<String, u64>,
    /// Identity → contents as of the file's last sync.
    contents: HashMap<u64, Vec<u8>>,
}

thread_local! {
    static SIM: RefCell<Sim> = RefCell::new(Sim::default());
}

/// Stops any fault and tracking on this thread and counts calls from zero.
pub(crate) fn clear() {
    SIM.with(|s| *s.borrow_mut() = Sim::default());
}

/// Calls made on this thread since [`clear`].
pub(crate) fn calls() -> u64 {
    SIM.with(|s| s.borrow().calls)
}

/// Runs `f` with this thread's calls neither counted nor failed.
pub(crate) fn uncounted<T>(f: impl FnOnce() -> T) -> T {
    let was = SIM.with(|s| std::mem::replace(&mut s.borrow_mut().paused, true));
    let out = f();
    SIM.with(|s| s.borrow_mut().paused = was);
    out
}

/// Makes call number `n` (from 0, counted from now) fail with `fault`.
pub(crate) fn inject(n: u64, fault: Fault) {
    SIM.with(|s| {
        let mut s = s.borrow_mut();
        s.fault = Some((s.calls + n, fault));
    });
}

/// Starts following what is durable in `dir`; everything in it now counts as durable.
pub(crate) fn track(dir: &Path) {
    let mut durable = Durable { dir: dir.to_path_buf(), next_id: 0, names: HashMap::new(), durable_names: HashMap::new(), contents: HashMap::new() };
    for entry in fs::read_dir(dir).expect("a tracked directory").flatten() {
        let name = entry.file_name().into_string().expect("UTF-8 names");
        if tracked(&name) {
            let id = durable.new_id();
            durable.contents.insert(id, fs::read(entry.path()).expect("readable"));
            durable.names.insert(name, id);
        }
    }
    durable.durable_names = durable.names.clone();
    SIM.with(|s| s.borrow_mut().durable = Some(durable));
}

/// Puts the tracked directory back to what was durable, and clears the simulation.
pub(crate) fn power_loss() {
    let durable = SIM.with(|s| s.borrow_mut().durable.take()).expect("power_loss without track");
    for entry in fs::read_dir(&durable.dir).expect("the tracked directory").flatten() {
        if entry.file_name().to_str().is_some_and(tracked) {
            fs::remove_file(entry.path()).expect("removable");
        }
    }
    for (name, id) in &durable.durable_names {
        let contents = durable.contents.get(id).map_or(&[][..], Vec::as_slice);
        fs::write(durable.dir.join(name), contents).expect("writable");
    }
    clear();
}

/// The lock file is not data: power loss leaves it alone.
fn tracked(name: &str) -> bool {
    name != "LOCK"
}

fn error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// Counts a call; fails it if a fault fires here (or the process has crashed).
pub(super) fn before(_op: Op) -> io::Result<()> {
    match next() {
        None => Ok(()),
        Some((Fault::NoSpace, _)) => Err(error(ENOSPC)),
        Some(_) => Err(error(EIO)),
    }
}

/// [`before`] for a write of `len` bytes: `Some((part, error))` when only
/// `part` bytes are to be written before `error`.
pub(super) fn before_write(len: usize) -> io::Result<Option<(usize, io::Error)>> {
    match next() {
        None => Ok(None),
        Some((Fault::Io, _)) => Err(error(EIO)),
        Some((Fault::NoSpace, _)) => Ok(Some((len / 2, error(ENOSPC)))),
        // The call the process dies in tears its write; later ones write nothing.
        Some((Fault::Crash, first)) => if first { Ok(Some((len / 2, error(EIO)))) } else { Err(error(EIO)) },
    }
}

/// Counts a call and says which fault, if any, it meets (and whether it is the
/// fault's first call: after a crash, every call meets it).
fn next() -> Option<(Fault, bool)> {
    SIM.with(|s| {
        let mut s = s.borrow_mut();
        if s.paused {
            return None;
        }
        if s.crashed {
            return Some((Fault::Crash, false));
        }
        let n = s.calls;
        s.calls += 1;
        match s.fault {
            Some((at, fault)) if at == n => {
                s.fault = None;
                s.crashed = fault == Fault::Crash;
                Some((fault, true))
            }
            _ => None,
        }
    })
}

fn with_durable(path: &Path, f: impl FnOnce(&mut Durable, String)) {
    SIM.with(|s| {
        if let Some(d) = s.borrow_mut().durable.as_mut() {
            let name = path.file_name().and_then(|n| n.to_str()).map(str::to_owned);
            if let Some(name) = name.filter(|n| path.parent() == Some(d.dir.as_path()) && tracked(n)) {
                f(d, name);
            }
        }
    })
}

impl Durable {
    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A file was created (or emptied in place).
pub(super) fn created(path: &Path) {
    with_durable(path, |d, name| {
        if !d.names.contains_key(&name) {
            let id = d.new_id();
            d.names.insert(name, id);
        }
    });
}

/// A file's contents reached stable storage.
pub(super) fn synced(path: &Path) {
    with_durable(path, |d, name| {
        if let Some(&id) = d.names.get(&name) {
            d.contents.insert(id, fs::read(path).expect("a synced file is readable"));
        }
    });
}

/// The directory's entries reached stable storage.
pub(super) fn dir_synced(dir: &Path) {
    SIM.with(|s| {
        if let Some(d) = s.borrow_mut().durable.as_mut().filter(|d| d.dir == dir) {
            d.durable_names = d.names.clone();
        }
    });
}

pub(super) fn renamed(from: &Path, to: &Path) {
    let mut moved = None;
    with_durable(from, |d, name| moved = d.names.remove(&name));
    with_durable(to, |d, name| {
        if let Some(id) = moved {
            d.names.insert(name, id);
        }
    });
}

pub(super) fn removed(path: &Path) {
    with_durable(path, |d, name| {
        d.names.remove(&name);
    });
}
