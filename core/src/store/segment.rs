//! Log segments: `g<generation>-<seq>.seg`, each a header followed by sealed
//! records. A record is `len u32 ‖ !len u32 ‖ sealed bincode(Vec<StoredEvent>)`;
//! the doubled length tells a torn tail (incomplete last record) from damage,
//! and the AEAD context binds each record to its generation, segment and offset
//! so records cannot be moved, swapped or replayed between files.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::STORE_FORMAT_VERSION;
use super::vfs;
use crate::crypto::DataKey;
use crate::error::{Error, Result};
use crate::events::StoredEvent;

const MAGIC: &[u8; 4] = b"MZSG";
/// Bytes of a segment header: magic, version, generation, sequence number.
pub(super) const HEADER_LEN: u64 = 4 + 2 + 8 + 8;
const FRAME_LEN: usize = 8;
const CONTEXT: &[u8] = b"mizan/segment";

/// A point in the log: the end of the last record covered, in one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogPosition {
    /// Segment sequence number.
    pub segment: u64,
    /// Byte offset within that segment.
    pub offset: u64,
}

/// The path of segment `seq` of `generation`.
pub(super) fn path(dir: &Path, generation: u64, seq: u64) -> PathBuf {
    dir.join(format!("g{generation:08}-{seq:08}.seg"))
}

/// Parses a segment file name into (generation, seq).
pub(super) fn parse_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix('g')?.strip_suffix(".seg")?;
    let (g, s) = rest.split_once('-')?;
    Some((g.parse().ok()?, s.parse().ok()?))
}

/// The header bytes of a new segment.
pub(super) fn header(generation: u64, seq: u64) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&STORE_FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&generation.to_le_bytes());
    h.extend_from_slice(&seq.to_le_bytes());
    h
}

/// Seals a batch into a framed record that will start at `offset`.
pub(super) fn frame(key: &DataKey, generation: u64, seq: u64, offset: u64, events: &[StoredEvent]) -> Result<Vec<u8>> {
    let plain = bincode::serde::encode_to_vec(events, bincode::config::standard()).map_err(|_| Error::Corrupt("event encoding failed"))?;
    let sealed = key.seal(&context(generation, seq, offset), &plain)?;
    let len = u32::try_from(sealed.len()).map_err(|_| Error::Corrupt("record too large"))?;
    let mut record = Vec::with_capacity(FRAME_LEN + sealed.len());
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&(!len).to_le_bytes());
    record.extend(sealed);
    Ok(record)
}

fn context(generation: u64, seq: u64, offset: u64) -> Vec<u8> {
    let mut c = CONTEXT.to_vec();
    for v in [generation, seq, offset] {
        c.extend_from_slice(&v.to_le_bytes());
    }
    c
}

/// How reading one segment ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ScanEnd {
    /// Offset just after the last complete, well-framed record.
    pub good_end: u64,
    /// Records skipped because authentication failed.
    pub corrupt_records: u64,
    /// The rest of the segment was unreadable (damaged frame or header) from `good_end`.
    pub damaged: bool,
    /// An incomplete record was found at `good_end` (a torn tail).
    pub torn: bool,
}

/// Reads the records of one segment from `from` (0 = the start), calling `f` for each
/// authenticated batch with the offset after it.
pub(super) fn scan(path: &Path, key: &DataKey, generation: u64, seq: u64, from: u64, f: &mut dyn FnMut(Vec<StoredEvent>, u64)) -> Result<ScanEnd> {
    let bytes = vfs::read(path).map_err(Error::io("reading a log segment"))?;
    let mut end = ScanEnd::default();
    if bytes.len() < HEADER_LEN as usize || bytes[..HEADER_LEN as usize] != header(generation, seq)[..] {
        end.damaged = true;
        return Ok(end);
    }
    let mut pos = from.max(HEADER_LEN) as usize;
    end.good_end = pos as u64;
    while pos < bytes.len() {
        let Some(frame) = bytes.get(pos..pos + FRAME_LEN) else {
            end.torn = true;
            break;
        };
        let len = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes"));
        if u32::from_le_bytes(frame[4..].try_into().expect("4 bytes")) != !len {
            // A damaged frame: records are authenticated one by one, so the next
            // one that is framed and authenticates is where reading resumes; the
            // damaged record counts as corrupt. Without one, the rest is damage.
            match resync(&bytes, pos + 1, key, generation, seq) {
                Some(next) => {
                    end.corrupt_records += 1;
                    pos = next;
                    continue;
                }
                None => {
                    end.damaged = true;
                    break;
                }
            }
        }
        let Some(sealed) = bytes.get(pos + FRAME_LEN..pos + FRAME_LEN + len as usize) else {
            end.torn = true;
            break;
        };
        let next = (pos + FRAME_LEN + len as usize) as u64;
        match key.open(&context(generation, seq, pos as u64), sealed) {
            Some(plain) => {
                let (batch, _): (Vec<StoredEvent>, usize) = bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                    .map_err(|_| Error::Corrupt("authenticated record does not decode"))?;
                f(batch, next);
            }
            None => end.corrupt_records += 1,
        }
        pos = next as usize;
        end.good_end = next;
    }
    Ok(end)
}

/// The offset of the first record at or after `from` in `bytes` that is framed
/// and authenticates at that offset (random bytes pass the frame check once in
/// 2^32 positions, and then the AEAD tag).
fn resync(bytes: &[u8], from: usize, key: &DataKey, generation: u64, seq: u64) -> Option<usize> {
    (from..bytes.len().saturating_sub(FRAME_LEN)).find(|&p| {
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let len = word(p);
        word(p + 4) == !len
            && bytes.get(p + FRAME_LEN..p + FRAME_LEN + len as usize).is_some_and(|sealed| key.open(&context(generation, seq, p as u64), sealed).is_some())
    })
}

/// Creates segment `seq` with its header, synced. On failure no file is left
/// behind, so that a retry can create it.
pub(super) fn create(dir: &Path, generation: u64, seq: u64) -> Result<File> {
    let p = path(dir, generation, seq);
    let mut file = vfs::create(&p, true).map_err(Error::io("creating a log segment"))?;
    let written = vfs::write_all(&mut file, &header(generation, seq)).and_then(|()| vfs::sync(&file, &p, false));
    if let Err(source) = written {
        let _ = vfs::remove(&p);
        return Err(Error::Io { op: "writing a segment header", source });
    }
    vfs::sync_dir(dir);
    Ok(file)
}

/// Opens an existing segment for appending at `len` (cutting anything after it).
pub(super) fn open_for_append(dir: &Path, generation: u64, seq: u64, len: u64) -> Result<File> {
    let p = path(dir, generation, seq);
    let mut file = vfs::open(&p).map_err(Error::io("opening a log segment"))?;
    if vfs::len(&p).map_err(Error::io("reading segment size"))? != len {
        vfs::set_len(&file, len).map_err(Error::io("truncating a torn log tail"))?;
        vfs::sync(&file, &p, false).map_err(Error::io("syncing a log segment"))?;
    }
    file.seek(SeekFrom::Start(len)).map_err(Error::io("seeking in a log segment"))?;
    Ok(file)
}

/// The sequence numbers of `generation`'s segments in `dir`, ascending.
pub(super) fn list(dir: &Path, generation: u64) -> Result<Vec<u64>> {
    let mut seqs: Vec<u64> = vfs::list(dir)
        .map_err(Error::io("listing the store directory"))?
        .iter()
        .filter_map(|name| parse_name(name))
        .filter(|&(g, _)| g == generation)
        .map(|(_, s)| s)
        .collect();
    seqs.sort_unstable();
    Ok(seqs)
}
