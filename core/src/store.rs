//! The on-disk store: one directory holding a key ring (salt + key check), an
//! append-only encrypted event log, an encrypted state file and the last
//! verified catalogue pack. A lock file keeps a second engine out.
//!
//! Sync policy: every `append` is written and `fsync`ed before it returns, so an
//! acknowledged batch survives a crash. State and pack files are replaced
//! atomically (write to a temporary file, sync, rename).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::crypto::{random_salt, DataKey, KeyProvider, SALT_LEN};
use crate::error::{Error, Result};
use crate::events::StoredEvent;

const LOCK_FILE: &str = "LOCK";
const KEYRING_FILE: &str = "keyring";
const LOG_FILE: &str = "events.log";
const STATE_FILE: &str = "state.bin";
const PACK_FILE: &str = "catalog.pack";

const KEYRING_MAGIC: &[u8; 4] = b"MZKR";
const LOG_MAGIC: &[u8; 4] = b"MZLG";
const STATE_MAGIC: &[u8; 4] = b"MZST";
const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 6;

const KEY_CHECK_CONTEXT: &[u8] = b"mizan/key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"mizan key check";
const LOG_CONTEXT: &[u8] = b"mizan/events";
const STATE_CONTEXT: &[u8] = b"mizan/state";

/// What was found and repaired when the store was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Records whose authentication tag failed; they were skipped, never used.
    pub corrupt_records: u64,
    /// Bytes of an incomplete last record that were cut off.
    pub truncated_bytes: u64,
}

/// An open store directory. Holding it holds the lock.
pub struct Store {
    dir: PathBuf,
    key: DataKey,
    log: File,
    log_records: u64,
    recovery: RecoveryReport,
    _lock: File,
}

/// Everything read back when a store is opened.
pub struct Opened {
    /// The open store.
    pub store: Store,
    /// All readable events, oldest first.
    pub events: Vec<StoredEvent>,
    /// The decrypted state blob, if one was saved.
    pub state: Option<Vec<u8>>,
    /// The last saved catalogue pack, still signed (verify before use).
    pub pack: Option<Vec<u8>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, unlocking it with the provider's key.
    /// A wrong key fails with [`Error::WrongKey`] and changes nothing.
    pub fn open(dir: &Path, key_provider: &dyn KeyProvider) -> Result<Opened> {
        fs::create_dir_all(dir).map_err(Error::io("creating the store directory"))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(Error::io("opening the lock file"))?;
        lock.try_lock().map_err(|e| match e {
            fs::TryLockError::WouldBlock => Error::StoreLocked,
            fs::TryLockError::Error(source) => Error::Io { op: "locking the store", source },
        })?;

        let material = key_provider.key_material().map_err(|_| Error::KeyProvider("the key provider returned an error".into()))?;
        let key = open_keyring(dir, &material)?;

        let log_path = dir.join(LOG_FILE);
        let (events, log_records, recovery) = read_log(&log_path, &key)?;
        let log = OpenOptions::new().append(true).open(&log_path).map_err(Error::io("opening the event log"))?;
        let state = read_optional(&dir.join(STATE_FILE))?
            .map(|bytes| {
                let body = strip_header(&bytes, STATE_MAGIC).ok_or(Error::Corrupt("state file header"))?;
                key.open(STATE_CONTEXT, body).ok_or(Error::Corrupt("state file failed authentication"))
            })
            .transpose()?;
        let pack = read_optional(&dir.join(PACK_FILE))?;
        let store = Store { dir: dir.to_path_buf(), key, log, log_records, recovery, _lock: lock };
        Ok(Opened { store, events, state, pack })
    }

    /// Appends a batch as one sealed record and syncs it to disk.
    pub fn append(&mut self, events: &[StoredEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let record = self.seal_events(events)?;
        self.log.write_all(&record).map_err(Error::io("appending to the event log"))?;
        self.log.sync_data().map_err(Error::io("syncing the event log"))?;
        self.log_records += 1;
        Ok(())
    }

    /// Replaces the whole log with `events` (used by forget), atomically.
    pub fn rewrite_log(&mut self, events: &[StoredEvent]) -> Result<()> {
        let mut bytes = header(LOG_MAGIC);
        if !events.is_empty() {
            bytes.extend(self.seal_events(events)?);
        }
        let path = self.dir.join(LOG_FILE);
        write_atomically(&path, &bytes)?;
        self.log = OpenOptions::new().append(true).open(&path).map_err(Error::io("reopening the event log"))?;
        self.log_records = u64::from(!events.is_empty());
        Ok(())
    }

    /// Saves the engine's state blob, encrypted, atomically.
    pub fn save_state(&self, plaintext: &[u8]) -> Result<()> {
        let mut bytes = header(STATE_MAGIC);
        bytes.extend(self.key.seal(STATE_CONTEXT, plaintext)?);
        write_atomically(&self.dir.join(STATE_FILE), &bytes)
    }

    /// Saves a verified, signed catalogue pack so a reopened engine has it.
    pub fn save_pack(&self, signed_pack: &[u8]) -> Result<()> {
        write_atomically(&self.dir.join(PACK_FILE), signed_pack)
    }

    /// Number of sealed records in the log.
    pub fn log_records(&self) -> u64 {
        self.log_records
    }

    /// What recovery found when the store was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Total bytes of all files in the store directory.
    pub fn bytes_on_disk(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|entries| entries.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    }

    /// Crypto-shreds the store: overwrites the salt that the data key is derived
    /// from, then deletes every file and the directory.
    pub fn erase(self) -> Result<()> {
        let keyring = self.dir.join(KEYRING_FILE);
        if let Ok(len) = fs::metadata(&keyring).map(|m| m.len()) {
            let mut f = OpenOptions::new().write(true).open(&keyring).map_err(Error::io("opening the key ring"))?;
            f.write_all(&vec![0u8; len as usize]).map_err(Error::io("shredding the key ring"))?;
            f.sync_all().map_err(Error::io("syncing the key ring"))?;
        }
        for name in [KEYRING_FILE, LOG_FILE, STATE_FILE, PACK_FILE] {
            remove_if_present(&self.dir.join(name))?;
        }
        let Store { dir, _lock, .. } = self;
        drop(_lock);
        remove_if_present(&dir.join(LOCK_FILE))?;
        // Leave the directory if the host put other files in it.
        let _ = fs::remove_dir(&dir);
        Ok(())
    }

    fn seal_events(&self, events: &[StoredEvent]) -> Result<Vec<u8>> {
        let plain = bincode::serde::encode_to_vec(events, bincode::config::standard())
            .map_err(|_| Error::Corrupt("event encoding failed"))?;
        let sealed = self.key.seal(LOG_CONTEXT, &plain)?;
        let len = u32::try_from(sealed.len()).map_err(|_| Error::Corrupt("record too large"))?;
        let mut record = Vec::with_capacity(4 + sealed.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend(sealed);
        Ok(record)
    }
}

fn open_keyring(dir: &Path, material: &[u8]) -> Result<DataKey> {
    let path = dir.join(KEYRING_FILE);
    match read_optional(&path)? {
        Some(bytes) => {
            let body = strip_header(&bytes, KEYRING_MAGIC).ok_or(Error::Corrupt("key ring header"))?;
            if body.len() <= SALT_LEN {
                return Err(Error::Corrupt("key ring too short"));
            }
            let (salt, check) = body.split_at(SALT_LEN);
            let salt: [u8; SALT_LEN] = salt.try_into().map_err(|_| Error::Corrupt("key ring salt"))?;
            let key = DataKey::derive(material, &salt)?;
            match key.open(KEY_CHECK_CONTEXT, check) {
                Some(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(key),
                _ => Err(Error::WrongKey),
            }
        }
        None => {
            if dir.join(LOG_FILE).exists() || dir.join(STATE_FILE).exists() {
                return Err(Error::Corrupt("key ring missing but data present"));
            }
            let salt = random_salt()?;
            let key = DataKey::derive(material, &salt)?;
            let mut bytes = header(KEYRING_MAGIC);
            bytes.extend_from_slice(&salt);
            bytes.extend(key.seal(KEY_CHECK_CONTEXT, KEY_CHECK_PLAINTEXT)?);
            write_atomically(&path, &bytes)?;
            write_atomically(&dir.join(LOG_FILE), &header(LOG_MAGIC))?;
            Ok(key)
        }
    }
}

/// Reads every record; cuts a torn tail, skips (and counts) records that fail authentication.
fn read_log(path: &Path, key: &DataKey) -> Result<(Vec<StoredEvent>, u64, RecoveryReport)> {
    let bytes = read_optional(path)?.ok_or(Error::Corrupt("event log missing"))?;
    let body = strip_header(&bytes, LOG_MAGIC).ok_or(Error::Corrupt("event log header"))?;
    let mut events = Vec::new();
    let mut report = RecoveryReport::default();
    let mut records = 0;
    let mut pos = 0usize;
    while pos < body.len() {
        let Some(len_bytes) = body.get(pos..pos + 4) else { break };
        let len = u32::from_le_bytes(len_bytes.try_into().expect("4 bytes")) as usize;
        let Some(sealed) = body.get(pos + 4..pos + 4 + len) else { break };
        match key.open(LOG_CONTEXT, sealed) {
            Some(plain) => {
                let (batch, _): (Vec<StoredEvent>, usize) =
                    bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                        .map_err(|_| Error::Corrupt("authenticated record does not decode"))?;
                events.extend(batch);
                records += 1;
            }
            None => report.corrupt_records += 1,
        }
        pos += 4 + len;
    }
    if pos < body.len() {
        report.truncated_bytes = (body.len() - pos) as u64;
        let file = OpenOptions::new().write(true).open(path).map_err(Error::io("opening the event log"))?;
        file.set_len((HEADER_LEN + pos) as u64).map_err(Error::io("truncating a torn log tail"))?;
        file.sync_all().map_err(Error::io("syncing the event log"))?;
    }
    Ok((events, records, report))
}

fn header(magic: &[u8; 4]) -> Vec<u8> {
    let mut h = magic.to_vec();
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h
}

fn strip_header<'a>(bytes: &'a [u8], magic: &[u8; 4]) -> Option<&'a [u8]> {
    let (head, body) = (bytes.get(..HEADER_LEN)?, bytes.get(HEADER_LEN..)?);
    (head[..4] == magic[..] && u16::from_le_bytes([head[4], head[5]]) == FORMAT_VERSION).then_some(body)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
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

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp).map_err(Error::io("creating a temporary file"))?;
        f.write_all(bytes).map_err(Error::io("writing a temporary file"))?;
        f.sync_all().map_err(Error::io("syncing a temporary file"))?;
    }
    fs::rename(&tmp, path).map_err(Error::io("replacing a store file"))?;
    if let Some(parent) = path.parent() {
        // Persist the rename itself; not every platform can sync a directory.
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io { op: "deleting a store file", source: e }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::StaticKey;
    use crate::events::EventKind;

    fn ev(seq: u64) -> StoredEvent {
        StoredEvent {
            seq,
            kind: EventKind::View,
            item_id: format!("item-{seq}"),
            timestamp_ms: 1_700_000_000_000,
            dwell_secs: None,
            rating: None,
            query_tokens: vec![],
        }
    }

    #[test]
    fn appends_survive_reopen_and_wrong_key_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let key = StaticKey(vec![3; 32]);
        let mut opened = Store::open(dir.path(), &key).unwrap();
        opened.store.append(&[ev(1), ev(2)]).unwrap();
        opened.store.append(&[ev(3)]).unwrap();
        opened.store.save_state(b"state").unwrap();
        drop(opened);

        let before: Vec<_> = [KEYRING_FILE, LOG_FILE, STATE_FILE].iter().map(|f| fs::read(dir.path().join(f)).unwrap()).collect();
        assert!(matches!(Store::open(dir.path(), &StaticKey(vec![4; 32])), Err(Error::WrongKey)));
        let after: Vec<_> = [KEYRING_FILE, LOG_FILE, STATE_FILE].iter().map(|f| fs::read(dir.path().join(f)).unwrap()).collect();
        assert_eq!(before, after);

        let reopened = Store::open(dir.path(), &key).unwrap();
        assert_eq!(reopened.events, vec![ev(1), ev(2), ev(3)]);
        assert_eq!(reopened.state.as_deref(), Some(&b"state"[..]));
        assert_eq!(reopened.store.log_records(), 2);
    }

    #[test]
    fn second_open_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let key = StaticKey(vec![3; 32]);
        let _first = Store::open(dir.path(), &key).unwrap();
        assert!(matches!(Store::open(dir.path(), &key), Err(Error::StoreLocked)));
    }

    #[test]
    fn torn_tail_is_cut_and_corrupt_record_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let key = StaticKey(vec![3; 32]);
        let mut opened = Store::open(dir.path(), &key).unwrap();
        opened.store.append(&[ev(1)]).unwrap();
        opened.store.append(&[ev(2)]).unwrap();
        drop(opened);
        let log = dir.path().join(LOG_FILE);
        let mut bytes = fs::read(&log).unwrap();
        let first_len = u32::from_le_bytes(bytes[HEADER_LEN..HEADER_LEN + 4].try_into().unwrap()) as usize;
        bytes[HEADER_LEN + 4 + first_len / 2] ^= 0x40; // corrupt the first record
        bytes.extend_from_slice(&[9, 0, 0]); // torn tail
        fs::write(&log, &bytes).unwrap();

        let reopened = Store::open(dir.path(), &key).unwrap();
        assert_eq!(reopened.events, vec![ev(2)]);
        assert_eq!(reopened.store.recovery(), &RecoveryReport { corrupt_records: 1, truncated_bytes: 3 });
        assert_eq!(fs::read(&log).unwrap().len(), bytes.len() - 3);
    }

    #[test]
    fn erase_removes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        let mut opened = Store::open(&store_dir, &StaticKey(vec![3; 32])).unwrap();
        opened.store.append(&[ev(1)]).unwrap();
        opened.store.erase().unwrap();
        assert!(!store_dir.exists());
    }
}
