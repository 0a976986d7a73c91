//! The manifest: which generation of files is current, and the salt and key
//! check that tie the data key to the host's key material. Replacing the
//! manifest atomically is the commit point of every rewrite (compaction,
//! forget, key rotation, migration).

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
        match key.open(&check_context(generation), &body[8 + SALT_LEN..]) {
            Some(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(Some(Manifest { generation, key })),
            _ => Err(Error::WrongKey),
        }
    }

    /// A new generation under a fresh salt (not yet committed).
    pub fn next(generation: u64, material: &[u8]) -> Result<(Manifest, [u8; SALT_LEN])> {
        let salt = random_salt()?;
        Ok((Manifest { generation, key: DataKey::derive(material, &salt)? }, salt))
    }

    /// Writes the manifest atomically: from here on this generation is current.
    pub fn commit(&self, dir: &Path, salt: &[u8; SALT_LEN]) -> Result<()> {
        let mut bytes = header(MAGIC, STORE_FORMAT_VERSION);
        bytes.extend_from_slice(&self.generation.to_le_bytes());
        bytes.extend_from_slice(salt);
        bytes.extend(self.key.seal(&check_context(self.generation), KEY_CHECK_PLAINTEXT)?);
        write_atomically(&dir.join(MANIFEST_FILE), &bytes)
    }
}

fn check_context(generation: u64) -> Vec<u8> {
    let mut c = KEY_CHECK_CONTEXT.to_vec();
    c.extend_from_slice(&generation.to_le_bytes());
    c
}
