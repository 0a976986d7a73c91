//! The manifest: which generation of files is current, the salt and key check
//! that tie the data key to the host's key material, and the version of the
//! state file it vouches for (so that an older state file put back in place is
//! seen as a rollback). Replacing the manifest atomically is the commit point of
//! every rewrite (compaction, forget, key rotation, migration).

use std::path::Path;

use super::fsutil::{header, read_optional, strip_header, write_atomically};
use crate::crypto::{random_salt, DataKey, SALT_LEN};
use crate::error::{Error, Result};

pub(super) const MANIFEST_FILE: &str = "MANIFEST";
const MAGIC: &[u8; 4] = b"MZMF";
/// Store format version written by this engine.
pub const STORE_FORMAT_VERSION: u16 = 2;
const KEY_CHECK_CONTEXT: &[u8] = b"mizan/key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"mizan key check";

/// The decoded manifest.
pub(super) struct Manifest {
    pub generation: u64,
    pub key: DataKey,
    salt: [u8; SALT_LEN],
    /// The version of the state file last vouched for (0: none; a manifest
    /// written before states had versions reads as 0 too).
    pub state_version: u64,
}

impl Manifest {
    /// Reads the manifest; `Ok(None)` if there is none. A key that does not pass
    /// the key check fails with [`Error::WrongKey`].
    pub fn read(dir: &Path, material: &[u8]) -> Result<Option<Manifest>> {
        let Some(bytes) = read_optional(&dir.join(MANIFEST_FILE))? else { return Ok(None) };
        let body = strip_header(&bytes, MAGIC, STORE_FORMAT_VERSION).ok_or(Error::Corrupt("manifest header"))?;
        if body.len() <= 8 + SALT_LEN {
            return Err(Error::Corrupt("manifest too short"));
        }
        let generation = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let salt: [u8; SALT_LEN] = body[8..8 + SALT_LEN].try_into().expect("salt length");
        let key = DataKey::derive(material, &salt)?;
        let plain = key.open(&check_context(generation), &body[8 + SALT_LEN..]).ok_or(Error::WrongKey)?;
        // The key check, then (since states have versions) the state version.
        let state_version = match plain.strip_prefix(KEY_CHECK_PLAINTEXT).ok_or(Error::WrongKey)? {
            [] => 0,
            version => u64::from_le_bytes(version.try_into().map_err(|_| Error::Corrupt("manifest state version"))?),
        };
        Ok(Some(Manifest { generation, key, salt, state_version }))
    }

    /// A new generation under a fresh salt (not yet committed), vouching for `state_version`.
    pub fn next(generation: u64, material: &[u8], state_version: u64) -> Result<Manifest> {
        let salt = random_salt()?;
        Ok(Manifest { generation, key: DataKey::derive(material, &salt)?, salt, state_version })
    }

    /// Writes the manifest atomically: from here on this generation (and state version) is current.
    pub fn commit(&self, dir: &Path) -> Result<()> {
        let mut bytes = header(MAGIC, STORE_FORMAT_VERSION);
        bytes.extend_from_slice(&self.generation.to_le_bytes());
        bytes.extend_from_slice(&self.salt);
        let mut check = KEY_CHECK_PLAINTEXT.to_vec();
        check.extend_from_slice(&self.state_version.to_le_bytes());
        bytes.extend(self.key.seal(&check_context(self.generation), &check)?);
        write_atomically(&dir.join(MANIFEST_FILE), &bytes)
    }
}

fn check_context(generation: u64) -> Vec<u8> {
    let mut c = KEY_CHECK_CONTEXT.to_vec();
    c.extend_from_slice(&generation.to_le_bytes());
    c
}
