//! Reads stores written by format version 1 (one `events.log`, `keyring`,
//! `state.bin`) so that they can be migrated to the segmented format.

use std::path::Path;

use super::fsutil::{read_optional, strip_header};
use crate::crypto::{DataKey, SALT_LEN};
use crate::error::{Error, Result};
use crate::events::StoredEvent;

pub(super) const KEYRING_FILE: &str = "keyring";
pub(super) const LOG_FILE: &str = "events.log";
pub(super) const STATE_FILE: &str = "state.bin";
const VERSION: u16 = 1;

/// Everything a version-1 store held.
pub(super) struct LegacyStore {
    pub events: Vec<StoredEvent>,
    pub state: Option<Vec<u8>>,
    pub corrupt_records: u64,
}

/// Whether `dir` holds a version-1 store (its key ring, so it can be read).
pub(super) fn present(dir: &Path) -> bool {
    dir.join(KEYRING_FILE).exists()
}

/// Whether any version-1 file is in `dir` (with its key ring or without).
pub(super) fn leftovers(dir: &Path) -> bool {
    [KEYRING_FILE, LOG_FILE, STATE_FILE].iter().any(|name| dir.join(name).exists())
}

/// Reads a version-1 store, unlocking it with `material`.
pub(super) fn read(dir: &Path, material: &[u8]) -> Result<LegacyStore> {
    let keyring = read_optional(&dir.join(KEYRING_FILE))?.ok_or(Error::Corrupt("v1 key ring missing"))?;
    let body = strip_header(&keyring, b"MZKR", VERSION).ok_or(Error::Corrupt("v1 key ring header"))?;
    if body.len() <= SALT_LEN {
        return Err(Error::Corrupt("v1 key ring too short"));
    }
    let salt: [u8; SALT_LEN] = body[..SALT_LEN].try_into().expect("salt length");
    let key = DataKey::derive(material, &salt)?;
    if key.open(b"mizan/key-check", &body[SALT_LEN..]).as_deref() != Some(b"mizan key check") {
        return Err(Error::WrongKey);
    }
    let mut out = LegacyStore { events: Vec::new(), state: None, corrupt_records: 0 };
    if let Some(log) = read_optional(&dir.join(LOG_FILE))? {
        let mut body = strip_header(&log, b"MZLG", VERSION).ok_or(Error::Corrupt("v1 log header"))?;
        while body.len() >= 4 {
            let len = u32::from_le_bytes(body[..4].try_into().expect("4 bytes")) as usize;
            let Some(sealed) = body.get(4..4 + len) else { break };
            match key.open(b"mizan/events", sealed) {
                Some(plain) => {
                    let (batch, _): (Vec<StoredEvent>, usize) =
                        bincode::serde::decode_from_slice(&plain, bincode::config::standard())
                            .map_err(|_| Error::Corrupt("v1 record does not decode"))?;
                    out.events.extend(batch);
                }
                None => out.corrupt_records += 1,
            }
            body = &body[4 + len..];
        }
    }
    if let Some(state) = read_optional(&dir.join(STATE_FILE))? {
        let sealed = strip_header(&state, b"MZST", VERSION).ok_or(Error::Corrupt("v1 state header"))?;
        out.state = Some(key.open(b"mizan/state", sealed).ok_or(Error::Corrupt("v1 state failed authentication"))?);
    }
    Ok(out)
}
