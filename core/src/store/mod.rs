//! The on-disk store: one directory per user holding
//!
//! - `MANIFEST`: the current generation, the salt the data key is derived from
//!   (HKDF over the host's key material) and a key check;
//! - `g<gen>-<seq>.seg`: the append-only event log, in segments of sealed
//!   records (ChaCha20-Poly1305);
//! - `g<gen>.state`: consent ledger and feedback state, sealed, with a version
//!   the manifest vouches for: an older state file put back (or one deleted)
//!   is reported as a rollback ([`RecoveryReport::state_rolled_back`]);
//! - `g<gen>.snap`: a sealed snapshot of the derived model and the log position
//!   it covers, so that opening does not replay the whole log;
//! - `catalog.pack`: the last verified catalogue pack (signed, public data);
//! - `LOCK`: held while an engine has the store open.
//!
//! **Sync policy.** [`SyncPolicy::EveryBatch`] syncs each appended batch before
//! `append` returns: an acknowledged batch survives power loss.
//! [`SyncPolicy::GroupCommit`] syncs once `max_bytes` are pending or when a write
//! finds the oldest pending batch older than `max_delay_ms`; `append` says
//! whether its batch is durable, and [`Store::flush`] (also run by close,
//! snapshot and rewrite) makes everything durable. Either way an appended batch
//! survives the process being killed.
//!
//! **Rewrites** (retention compaction, forget, key rotation, migration) write a
//! complete new generation, then replace the manifest atomically: a crash leaves
//! either the old or the new generation, never a mix. The old generation's salt
//! is gone with the old manifest, so its records are crypto-shredded as well as deleted.
//!
//! **Recovery.** Opening cuts a torn tail (an incomplete last record), never uses a
//! record whose tag fails, counts such records, and starts a fresh segment after
//! damage so new appends stay readable.

mod fsutil;
mod legacy;
mod manifest;
mod segment;
pub(crate) mod vfs;

use std::fs::{self, File};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use manifest::STORE_FORMAT_VERSION;
pub use segment::LogPosition;

use crate::crypto::KeyProvider;
use crate::error::{Error, Result};
use crate::events::StoredEvent;
use fsutil::{header, read_optional, remove_if_present, shred, strip_header, write_atomically};
use manifest::{Manifest, MANIFEST_FILE};
use zeroize::Zeroizing;

const LOCK_FILE: &str = "LOCK";
const PACK_FILE: &str = "catalog.pack";
const STATE_MAGIC: &[u8; 4] = b"MZST";
const SNAPSHOT_MAGIC: &[u8; 4] = b"MZSN";
/// Starts a state's plaintext that carries its version (states saved before
/// versions start with the engine's own layout mark).
const STATE_VERSION_MAGIC: &[u8; 4] = b"MZSV";
/// Events per record when a rewrite re-batches the log: small, so that one
/// damaged record loses few events (reading resumes at the next record).
const REWRITE_BATCH: usize = 256;

/// When appended batches are synced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Sync every batch before `append` returns.
    EveryBatch,
    /// Sync when this many bytes are pending, or at the first write after the
    /// oldest pending batch is this old; `flush` syncs at once.
    GroupCommit {
        /// Pending bytes that trigger a sync.
        max_bytes: u64,
        /// Age of the oldest pending batch that triggers a sync at the next write.
        max_delay_ms: u64,
    },
}

/// Tuning of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// When appends are synced.
    pub sync: SyncPolicy,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { sync: SyncPolicy::EveryBatch, segment_bytes: 4 << 20 }
    }
}

/// What opening and reading found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Records whose authentication tag failed; skipped, never used.
    pub corrupt_records: u64,
    /// Bytes of an incomplete last record that were cut off at open.
    pub truncated_bytes: u64,
    /// Segments whose framing is damaged from some point on.
    pub damaged_segments: u64,
    /// Segment files missing from the middle of the sequence.
    pub missing_segments: u64,
    /// The snapshot was unreadable and the model was rebuilt from the log.
    pub snapshot_discarded: bool,
    /// The store was migrated from this older format version when opened.
    pub migrated_from: Option<u16>,
    /// Files found without a manifest (an interrupted creation or erasure, or a
    /// deleted manifest): the manifest held the salt of their key, so nothing can
    /// read them any more; they were deleted and the store started empty.
    pub orphaned_files_removed: u64,
    /// An erase had been interrupted after shredding the manifest; it was completed.
    pub interrupted_erase_completed: bool,
    /// The state file is older than the one the manifest vouches for, or
    /// missing: it was put back or deleted behind the engine's back.
    pub state_rolled_back: bool,
}

/// A saved model snapshot and the log position it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Every record up to here is reflected in `payload`.
    pub position: LogPosition,
    /// The engine's serialised model state.
    pub payload: Vec<u8>,
}

/// An open store directory. Holding it holds the lock.
pub struct Store {
    dir: PathBuf,
    /// The host's key material, wiped from memory when the store is dropped.
    material: Zeroizing<Vec<u8>>,
    manifest: Manifest,
    segments: Vec<u64>,
    active: File,
    active_len: u64,
    /// Bytes of every segment but the active one (kept here, so appends need no `stat`).
    closed_bytes: u64,
    unsynced_bytes: u64,
    oldest_unsynced: Option<Instant>,
    options: StoreOptions,
    recovery: RecoveryReport,
    /// The version of the last state file saved or read.
    state_version: u64,
    /// The segment validated at open and how far it was readable (None if damaged).
    validated: (u64, Option<u64>),
    _lock: File,
}

/// Everything read back when a store is opened.
pub struct Opened {
    /// The open store.
    pub store: Store,
    /// The decrypted state blob, if one was saved.
    pub state: Option<Vec<u8>>,
    /// The model snapshot, if one was saved and is readable.
    pub snapshot: Option<Snapshot>,
    /// The last saved catalogue pack, still signed (verify before use).
    pub pack: Option<Vec<u8>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, unlocking it with the provider's key;
    /// migrates a version-1 store. A wrong key fails with [`Error::WrongKey`] and
    /// changes nothing.
    pub fn open(dir: &Path, key_provider: &dyn KeyProvider, options: StoreOptions) -> Result<Opened> {
        vfs::create_dir(dir).map_err(Error::io("creating the store directory"))?;
        let lock = lock_store(dir)?;
        let material = Zeroizing::new(key_provider.key_material().map_err(|reason| crate::crypto::provider_failure(&reason))?);
        let mut recovery = RecoveryReport::default();
        if is_shredded(&dir.join(MANIFEST_FILE)) {
            // An erase stopped after its first step (the manifest shredded, so no
            // key reads the files any more): finish it.
            remove_store_files(dir)?;
            recovery.interrupted_erase_completed = true;
        }
        if legacy::leftovers(dir) {
            if Manifest::read(dir, &material)?.is_some() {
                // The migration committed before a crash; only removing the old files remained.
                remove_legacy_files(dir)?;
            } else if legacy::present(dir) {
                migrate_v1(dir, &material, options)?;
                recovery.migrated_from = Some(1);
            } else {
                // Old files without their key ring: nothing can read them.
                remove_legacy_files(dir)?;
            }
        }
        let manifest = match Manifest::read(dir, &material)? {
            Some(m) => m,
            None => {
                recovery.orphaned_files_removed = remove_other_generations(dir, 0)?;
                let manifest = Manifest::next(1, &material, 0)?;
                manifest.commit(dir)?;
                manifest
            }
        };
        remove_other_generations(dir, manifest.generation)?;

        let generation = manifest.generation;
        let mut segments = segment::list(dir, generation)?;
        if segments.is_empty() {
            segment::create(dir, generation, 1)?;
            segments.push(1);
        }
        recovery.missing_segments = (segments[segments.len() - 1] - segments[0] + 1) - segments.len() as u64;
        let last = segments[segments.len() - 1];
        let end = segment::scan(&segment::path(dir, generation, last), &manifest.key, generation, last, 0, &mut |_, _| {})?;
        let active = if end.damaged {
            recovery.damaged_segments += 1;
            segments.push(last + 1);
            segment::create(dir, generation, last + 1)?
        } else {
            let on_disk = vfs::len(&segment::path(dir, generation, last)).map_err(Error::io("reading segment size"))?;
            recovery.truncated_bytes = on_disk - end.good_end;
            segment::open_for_append(dir, generation, last, end.good_end)?
        };
        let active_len = if end.damaged { segment::HEADER_LEN } else { end.good_end };
        let closed_bytes = segment_bytes(dir, generation, &segments[..segments.len() - 1])?;
        let validated = (last, (!end.damaged).then_some(end.good_end));

        let state = read_sealed(&state_path(dir, generation), STATE_MAGIC, &manifest, b"mizan/state")?
            .map(|s| s.ok_or(Error::Corrupt("state file failed authentication")))
            .transpose()?;
        let (state_version, state) = match state {
            Some(plain) => match plain.strip_prefix(STATE_VERSION_MAGIC).filter(|rest| rest.len() >= 8) {
                Some(rest) => (Some(u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"))), Some(rest[8..].to_vec())),
                None => (None, Some(plain)),
            },
            None => (None, None),
        };
        // A state saved after the manifest's last commit is newer (a crash in
        // between, or a manifest commit that failed): not a rollback.
        let vouched = manifest.state_version;
        recovery.state_rolled_back = vouched > 0 && state_version.is_none_or(|v| v < vouched);
        let state_version = state_version.unwrap_or(0).max(vouched);
        let snapshot = match read_sealed(&snapshot_path(dir, generation), SNAPSHOT_MAGIC, &manifest, b"mizan/snapshot")? {
            None => None,
            Some(plain) => {
                let decoded = plain.and_then(|p| decode_snapshot(&p));
                recovery.snapshot_discarded = decoded.is_none();
                decoded
            }
        };
        let pack = read_optional(&dir.join(PACK_FILE))?;
        let store = Store {
            dir: dir.to_path_buf(),
            material,
            manifest,
            segments,
            active,
            active_len,
            closed_bytes,
            unsynced_bytes: 0,
            oldest_unsynced: None,
            options,
            recovery,
            state_version,
            validated,
            _lock: lock,
        };
        Ok(Opened { store, state, snapshot, pack })
    }

    /// Appends a batch as one sealed record. Returns whether it is already synced
    /// (always, under [`SyncPolicy::EveryBatch`]). A failed write or sync leaves
    /// the log as it was before the call, so that a retry records the batch once.
    pub fn append(&mut self, events: &[StoredEvent]) -> Result<bool> {
        if events.is_empty() {
            return Ok(self.unsynced_bytes == 0);
        }
        if self.active_len > segment::HEADER_LEN && self.active_len >= self.options.segment_bytes {
            self.roll_over()?;
        }
        let generation = self.manifest.generation;
        let record = segment::frame(&self.manifest.key, generation, self.active_seq(), self.active_len, events)?;
        let start = self.active_len;
        if let Err(source) = vfs::write_all(&mut self.active, &record) {
            self.cut_back_to(start);
            return Err(Error::Io { op: "appending to the event log", source });
        }
        self.active_len += record.len() as u64;
        self.unsynced_bytes += record.len() as u64;
        self.oldest_unsynced.get_or_insert_with(Instant::now);
        let due = match self.options.sync {
            SyncPolicy::EveryBatch => true,
            SyncPolicy::GroupCommit { max_bytes, max_delay_ms } => {
                self.unsynced_bytes >= max_bytes || self.oldest_unsynced.is_some_and(|t| t.elapsed() >= Duration::from_millis(max_delay_ms))
            }
        };
        if due {
            if let Err(e) = self.flush() {
                // Not acknowledged, so not kept: a retry must not find it there.
                self.unsynced_bytes -= record.len() as u64;
                self.cut_back_to(start);
                return Err(e);
            }
        }
        Ok(due)
    }

    /// Cuts the active segment back to `len` (undoing a record that was not
    /// acknowledged) so that later records stay readable and in place.
    fn cut_back_to(&mut self, len: u64) {
        let _ = vfs::set_len(&self.active, len);
        let _ = self.active.seek(SeekFrom::Start(len));
        self.active_len = len;
    }

    /// Syncs every appended record to stable storage.
    pub fn flush(&mut self) -> Result<()> {
        if self.unsynced_bytes > 0 {
            let path = segment::path(&self.dir, self.manifest.generation, self.active_seq());
            vfs::sync(&self.active, &path, true).map_err(Error::io("syncing the event log"))?;
            self.unsynced_bytes = 0;
            self.oldest_unsynced = None;
        }
        Ok(())
    }

    /// The end of the log: the position after the last appended record.
    pub fn end_position(&self) -> LogPosition {
        LogPosition { segment: self.active_seq(), offset: self.active_len }
    }

    /// Whether `position` lies within the readable log, so that a snapshot taken
    /// there can be trusted (a log cut or damaged behind a snapshot cannot).
    pub fn covers(&self, position: LogPosition) -> bool {
        let (seq, readable) = self.validated;
        if position.segment == seq {
            return readable.is_some_and(|end| position.offset <= end);
        }
        if position.segment > seq {
            return position.segment == self.active_seq() && position.offset <= self.active_len;
        }
        self.segments.contains(&position.segment)
            && vfs::len(&segment::path(&self.dir, self.manifest.generation, position.segment)).is_ok_and(|len| position.offset <= len)
    }

    /// Streams every readable event after `from` (or from the start), oldest first.
    /// Damaged records are counted in [`Store::recovery`], never returned.
    pub fn read_from(&mut self, from: Option<LogPosition>, mut f: impl FnMut(StoredEvent)) -> Result<()> {
        self.read_each(from, &mut f)
    }

    /// [`Self::read_from`], compiled once for every caller.
    fn read_each(&mut self, from: Option<LogPosition>, f: &mut dyn FnMut(StoredEvent)) -> Result<()> {
        let from = from.unwrap_or_default();
        let generation = self.manifest.generation;
        let last = self.active_seq();
        for &seq in self.segments.iter().filter(|&&s| s >= from.segment) {
            let start = if seq == from.segment { from.offset } else { 0 };
            let end = segment::scan(&segment::path(&self.dir, generation, seq), &self.manifest.key, generation, seq, start, &mut |batch, _| {
                batch.into_iter().for_each(&mut *f)
            })?;
            self.recovery.corrupt_records += end.corrupt_records;
            if (end.damaged || end.torn) && seq != last {
                self.recovery.damaged_segments += 1;
            }
        }
        Ok(())
    }

    /// Rewrites the log as a new generation keeping only the events `keep` accepts,
    /// re-sealing `state` with it; with `new_material`, under a new host key (key
    /// rotation). Atomic: on any failure the old generation stays current.
    /// Returns the number of events dropped.
    pub fn rewrite(&mut self, new_material: Option<Zeroizing<Vec<u8>>>, state: &[u8], mut keep: impl FnMut(&StoredEvent) -> bool) -> Result<u64> {
        self.rewrite_keeping(new_material, state, &mut keep)
    }

    /// [`Self::rewrite`], compiled once for every caller.
    fn rewrite_keeping(&mut self, new_material: Option<Zeroizing<Vec<u8>>>, state: &[u8], keep: &mut dyn FnMut(&StoredEvent) -> bool) -> Result<u64> {
        self.flush()?;
        let material = new_material.unwrap_or_else(|| self.material.clone());
        let generation = self.manifest.generation + 1;
        let manifest = Manifest::next(generation, &material, self.state_version + 1)?;
        let written = self.write_generation(&manifest, state, keep);
        let (dropped, written) = match written {
            Ok(result) => result,
            Err(e) => {
                let _ = remove_other_generations(&self.dir, self.manifest.generation);
                return Err(e);
            }
        };
        // Committed: from here on nothing may fail, or appends would go on into
        // the old generation, which the next open deletes.
        self.validated = (written.segments[written.segments.len() - 1], Some(written.len));
        self.active = written.file;
        self.active_len = written.len;
        self.closed_bytes = written.closed_bytes;
        self.segments = written.segments;
        self.manifest = manifest;
        self.material = material;
        self.state_version += 1;
        if let Err(e) = remove_other_generations(&self.dir, generation) {
            log::warn!("old files are left for the next open to delete: {e}");
        }
        Ok(dropped)
    }

    /// Saves the engine's state blob, encrypted, atomically, under the next
    /// state version; with `vouch`, then has the manifest vouch for that version
    /// (a state older than the one vouched for is a rollback at open).
    pub fn save_state(&mut self, plaintext: &[u8], vouch: bool) -> Result<()> {
        let version = self.state_version + 1;
        write_state(&self.dir, &self.manifest, version, plaintext)?;
        self.state_version = version;
        if !vouch {
            return Ok(());
        }
        self.manifest.state_version = version;
        if let Err(e) = self.manifest.commit(&self.dir) {
            // The state is saved: the manifest vouching for an older version only
            // leaves a rollback to this one unnoticed, until the next save.
            log::warn!("the manifest does not vouch for the new state yet: {e}");
        }
        Ok(())
    }

    /// Syncs the log, then saves a model snapshot covering everything appended so far.
    pub fn save_snapshot(&mut self, payload: &[u8]) -> Result<LogPosition> {
        self.flush()?;
        let position = self.end_position();
        let mut plain = Vec::with_capacity(16 + payload.len());
        plain.extend_from_slice(&position.segment.to_le_bytes());
        plain.extend_from_slice(&position.offset.to_le_bytes());
        plain.extend_from_slice(payload);
        write_sealed(&snapshot_path(&self.dir, self.manifest.generation), SNAPSHOT_MAGIC, &self.manifest, b"mizan/snapshot", &plain)?;
        Ok(position)
    }

    /// Saves a verified, signed catalogue pack so a reopened engine has it
    /// (`None`: deletes the saved one). Atomic.
    pub fn save_pack(&self, signed_pack: Option<&[u8]>) -> Result<()> {
        let path = self.dir.join(PACK_FILE);
        match signed_pack {
            Some(bytes) => write_atomically(&path, bytes),
            None => remove_if_present(&path),
        }
    }

    /// The saved catalogue pack, still signed.
    pub fn saved_pack(&self) -> Result<Option<Vec<u8>>> {
        read_optional(&self.dir.join(PACK_FILE))
    }

    /// Number of log segments.
    pub fn segment_count(&self) -> u64 {
        self.segments.len() as u64
    }

    /// The current generation (bumped by every rewrite).
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    /// What recovery found.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Records that a snapshot had to be discarded.
    pub fn note_snapshot_discarded(&mut self) {
        self.recovery.snapshot_discarded = true;
    }

    /// Bytes of the log segments.
    pub fn log_bytes(&self) -> u64 {
        self.closed_bytes + self.active_len
    }

    /// Total bytes of all files in the store directory.
    pub fn bytes_on_disk(&self) -> u64 {
        vfs::list(&self.dir).map(|names| names.iter().filter_map(|name| vfs::len(&self.dir.join(name)).ok()).sum()).unwrap_or(0)
    }

    /// Crypto-shreds the store (overwrites the manifest holding the salt the data
    /// key is derived from), then deletes every file and the directory.
    pub fn erase(self) -> Result<()> {
        let Store { dir, _lock, .. } = self;
        wipe(&dir, _lock)
    }

    /// Erases the store in `dir` without opening it (a store whose key is lost
    /// or whose files are damaged): shreds the manifest and deletes every store
    /// file. Refused with [`Error::StoreLocked`] while an engine has it open;
    /// nothing to do where there is no store.
    pub fn destroy(dir: &Path) -> Result<()> {
        if !dir.exists() {
            return Ok(());
        }
        wipe(dir, lock_store(dir)?)
    }

    fn active_seq(&self) -> u64 {
        self.segments[self.segments.len() - 1]
    }

    fn roll_over(&mut self) -> Result<()> {
        self.flush()?;
        let next = self.active_seq() + 1;
        self.active = segment::create(&self.dir, self.manifest.generation, next)?;
        self.segments.push(next);
        self.closed_bytes += self.active_len;
        self.active_len = segment::HEADER_LEN;
        Ok(())
    }

    /// Writes every segment of a new generation plus its state, then commits its manifest.
    fn write_generation(
        &mut self,
        manifest: &Manifest,
        state: &[u8],
        keep: &mut dyn FnMut(&StoredEvent) -> bool,
    ) -> Result<(u64, WrittenGeneration)> {
        let dir = self.dir.clone();
        let mut writer = GenerationWriter::new(&dir, manifest, self.options.segment_bytes)?;
        let mut dropped = 0u64;
        let mut batch = Vec::with_capacity(REWRITE_BATCH);
        let mut failure = None;
        self.read_from(None, |event| {
            if failure.is_some() {
                return;
            }
            if !keep(&event) {
                dropped += 1;
                return;
            }
            batch.push(event);
            if batch.len() == REWRITE_BATCH {
                failure = writer.write(&batch).err();
                batch.clear();
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        writer.write(&batch)?;
        let written = writer.finish()?;
        write_state(&dir, manifest, manifest.state_version, state)?;
        manifest.commit(&dir)?;
        Ok((dropped, written))
    }
}

/// Writes the segments of a new generation.
struct GenerationWriter<'a> {
    dir: &'a Path,
    manifest: &'a Manifest,
    segment_bytes: u64,
    segments: Vec<u64>,
    file: File,
    len: u64,
    closed_bytes: u64,
}

/// The segments of a written generation, and its last one open for appending.
struct WrittenGeneration {
    segments: Vec<u64>,
    file: File,
    len: u64,
    closed_bytes: u64,
}

impl<'a> GenerationWriter<'a> {
    fn new(dir: &'a Path, manifest: &'a Manifest, segment_bytes: u64) -> Result<Self> {
        let file = segment::create(dir, manifest.generation, 1)?;
        Ok(GenerationWriter { dir, manifest, segment_bytes, segments: vec![1], file, len: segment::HEADER_LEN, closed_bytes: 0 })
    }

    fn write(&mut self, events: &[StoredEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        if self.len > segment::HEADER_LEN && self.len >= self.segment_bytes {
            self.sync()?;
            let next = self.seq() + 1;
            self.file = segment::create(self.dir, self.manifest.generation, next)?;
            self.segments.push(next);
            self.closed_bytes += self.len;
            self.len = segment::HEADER_LEN;
        }
        let record = segment::frame(&self.manifest.key, self.manifest.generation, self.seq(), self.len, events)?;
        vfs::write_all(&mut self.file, &record).map_err(Error::io("writing a rewritten segment"))?;
        self.len += record.len() as u64;
        Ok(())
    }

    fn seq(&self) -> u64 {
        self.segments[self.segments.len() - 1]
    }

    fn sync(&self) -> Result<()> {
        vfs::sync(&self.file, &segment::path(self.dir, self.manifest.generation, self.seq()), false).map_err(Error::io("syncing a rewritten segment"))
    }

    fn finish(self) -> Result<WrittenGeneration> {
        self.sync()?;
        vfs::sync_dir(self.dir);
        Ok(WrittenGeneration { segments: self.segments, file: self.file, len: self.len, closed_bytes: self.closed_bytes })
    }
}

/// Total size of the given segments of `generation`.
fn segment_bytes(dir: &Path, generation: u64, seqs: &[u64]) -> Result<u64> {
    seqs.iter().map(|&s| vfs::len(&segment::path(dir, generation, s)).map_err(Error::io("reading segment size"))).sum()
}

fn state_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("g{generation:08}.state"))
}

fn snapshot_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("g{generation:08}.snap"))
}

/// Whether a file name belongs to the store (anything else in the directory is left alone).
/// Takes the store's lock in `dir`, or fails with [`Error::StoreLocked`] if an
/// engine (in this or another process) holds it.
fn lock_store(dir: &Path) -> Result<fs::File> {
    let lock = vfs::open_lock(&dir.join(LOCK_FILE)).map_err(Error::io("opening the lock file"))?;
    lock.try_lock().map_err(|e| match e {
        fs::TryLockError::WouldBlock => Error::StoreLocked,
        fs::TryLockError::Error(source) => Error::Io { op: "locking the store", source },
    })?;
    Ok(lock)
}

/// Shreds the manifest of the store in `dir` (whose `lock` is held), deletes
/// every store file, then the lock, and the directory if nothing else is in it.
fn wipe(dir: &Path, lock: fs::File) -> Result<()> {
    shred(&dir.join(MANIFEST_FILE))?;
    remove_store_files(dir)?;
    drop(lock);
    remove_if_present(&dir.join(LOCK_FILE))?;
    vfs::sync_dir(dir);
    // Leave the directory if the host put other files in it.
    let _ = fs::remove_dir(dir);
    Ok(())
}

/// Deletes every store file in `dir` (not the lock, nor the host's own files).
fn remove_store_files(dir: &Path) -> Result<()> {
    for name in vfs::list(dir).map_err(Error::io("listing the store directory"))? {
        if is_store_file(&name) {
            remove_if_present(&dir.join(name))?;
        }
    }
    vfs::sync_dir(dir);
    Ok(())
}

/// Whether `path` is a file of zeros only: what [`shred`] leaves.
fn is_shredded(path: &Path) -> bool {
    vfs::read(path).is_ok_and(|bytes| !bytes.is_empty() && bytes.iter().all(|&b| b == 0))
}

fn is_store_file(name: &str) -> bool {
    name == MANIFEST_FILE
        || name == PACK_FILE
        || name.ends_with(".tmp")
        || (name.starts_with('g') && [".seg", ".state", ".snap"].iter().any(|ext| name.ends_with(ext)))
        || [legacy::KEYRING_FILE, legacy::LOG_FILE, legacy::STATE_FILE].contains(&name)
}

/// Deletes leftovers of other generations (an interrupted or superseded rewrite);
/// returns how many files it deleted.
fn remove_other_generations(dir: &Path, generation: u64) -> Result<u64> {
    let current = format!("g{generation:08}");
    let mut removed = 0;
    for name in vfs::list(dir).map_err(Error::io("listing the store directory"))? {
        let generational = name.starts_with('g') && [".seg", ".state", ".snap"].iter().any(|ext| name.ends_with(ext));
        if (generational && !name.starts_with(&current)) || name.ends_with(".tmp") {
            remove_if_present(&dir.join(name))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Rewrites a version-1 store as generation 1 of the current format, then
/// deletes the old files. Re-running after a crash repeats it from the old files.
fn migrate_v1(dir: &Path, material: &[u8], options: StoreOptions) -> Result<()> {
    let old = legacy::read(dir, material)?;
    remove_if_present(&dir.join(MANIFEST_FILE))?;
    remove_other_generations(dir, 0)?;
    let manifest = Manifest::next(1, material, u64::from(old.state.is_some()))?;
    let mut writer = GenerationWriter::new(dir, &manifest, options.segment_bytes)?;
    for chunk in old.events.chunks(REWRITE_BATCH) {
        writer.write(chunk)?;
    }
    writer.finish()?;
    if let Some(state) = &old.state {
        write_state(dir, &manifest, 1, state)?;
    }
    manifest.commit(dir)?;
    remove_legacy_files(dir)
}

/// Shreds and deletes a version-1 store's files, key ring first.
fn remove_legacy_files(dir: &Path) -> Result<()> {
    for name in [legacy::KEYRING_FILE, legacy::LOG_FILE, legacy::STATE_FILE] {
        shred(&dir.join(name))?;
        remove_if_present(&dir.join(name))?;
    }
    vfs::sync_dir(dir);
    Ok(())
}

fn sealed_context(context: &[u8], generation: u64) -> Vec<u8> {
    let mut c = context.to_vec();
    c.extend_from_slice(&generation.to_le_bytes());
    c
}

/// Writes the state file of `manifest`'s generation: `plaintext` under `version`.
fn write_state(dir: &Path, manifest: &Manifest, version: u64, plaintext: &[u8]) -> Result<()> {
    let mut plain = STATE_VERSION_MAGIC.to_vec();
    plain.extend_from_slice(&version.to_le_bytes());
    plain.extend_from_slice(plaintext);
    write_sealed(&state_path(dir, manifest.generation), STATE_MAGIC, manifest, b"mizan/state", &plain)
}

fn write_sealed(path: &Path, magic: &[u8; 4], manifest: &Manifest, context: &[u8], plaintext: &[u8]) -> Result<()> {
    let mut bytes = header(magic, STORE_FORMAT_VERSION);
    bytes.extend(manifest.key.seal(&sealed_context(context, manifest.generation), plaintext)?);
    write_atomically(path, &bytes)
}

/// `Ok(None)`: no file; `Ok(Some(None))`: present but unreadable; `Ok(Some(Some(plain)))`.
fn read_sealed(path: &Path, magic: &[u8; 4], manifest: &Manifest, context: &[u8]) -> Result<Option<Option<Vec<u8>>>> {
    Ok(read_optional(path)?
        .map(|bytes| strip_header(&bytes, magic, STORE_FORMAT_VERSION).and_then(|body| manifest.key.open(&sealed_context(context, manifest.generation), body))))
}

fn decode_snapshot(plain: &[u8]) -> Option<Snapshot> {
    let segment = u64::from_le_bytes(plain.get(..8)?.try_into().ok()?);
    let offset = u64::from_le_bytes(plain.get(8..16)?.try_into().ok()?);
    Some(Snapshot { position: LogPosition { segment, offset }, payload: plain[16..].to_vec() })
}

#[cfg(test)]
mod tests;
