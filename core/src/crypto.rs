//! Encryption at rest: the host's key provider, the per-store data key derived
//! from it (HKDF-SHA256), and ChaCha20-Poly1305 sealing of every stored blob.
//!
//! ring's keys do not wipe themselves, and ring copies key bytes through its
//! own locals. So the key lives on the heap and is overwritten with zeros when
//! dropped, and every call that touches it is followed by [`scrub_stack`].

use std::mem::MaybeUninit;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Shortest key material accepted from a key provider, in bytes.
pub const MIN_KEY_MATERIAL: usize = 32;
/// Length of the random per-store salt; destroying it shreds the data key.
pub const SALT_LEN: usize = 32;
const KEY_INFO: &[u8] = b"mizan/data-key/v1";

/// Supplies the secret key material that protects the store. On a phone this is
/// backed by Android Keystore or the iOS Keychain; it must return the same bytes
/// every time for the same store.
pub trait KeyProvider: Send + Sync {
    /// Returns at least [`MIN_KEY_MATERIAL`] bytes of secret key material.
    fn key_material(&self) -> std::result::Result<Vec<u8>, String>;
}

/// A key provider holding fixed bytes; for tests, tools and hosts that manage keys themselves.
pub struct StaticKey(pub Vec<u8>);

impl KeyProvider for StaticKey {
    fn key_material(&self) -> std::result::Result<Vec<u8>, String> {
        Ok(self.0.clone())
    }
}

/// Stack bytes [`scrub_stack`] overwrites: more than key derivation and
/// sealing use below their caller (about 2 KB on x86-64).
const SCRUB_BYTES: usize = 16 * 1024;

/// Overwrites the [`SCRUB_BYTES`] of stack below the caller with zeros, where
/// the frames of a call that just returned left their copies of key bytes.
#[inline(never)]
fn scrub_stack() {
    let mut scratch = MaybeUninit::<[u8; SCRUB_BYTES]>::uninit();
    scratch.zeroize();
    std::hint::black_box(&scratch);
}

/// ring's key on the heap, its bytes overwritten with zeros when dropped.
struct HeapKey(Box<MaybeUninit<LessSafeKey>>);

impl HeapKey {
    fn get(&self) -> &LessSafeKey {
        // SAFETY: initialised when made (see `DataKey::derive_key`); wiped only in `drop`.
        unsafe { self.0.assume_init_ref() }
    }
}

impl Drop for HeapKey {
    fn drop(&mut self) {
        // SAFETY: initialised when made, and not used after this.
        unsafe { self.0.assume_init_drop() };
        self.0.zeroize();
    }
}

/// The symmetric key that seals the store's files.
pub struct DataKey {
    key: HeapKey,
    rng: SystemRandom,
}

impl DataKey {
    /// Derives the data key from host key material and the store's salt.
    pub fn derive(material: &[u8], salt: &[u8; SALT_LEN]) -> Result<Self> {
        check_material(material)?;
        let key = Self::derive_key(material, salt);
        scrub_stack();
        Ok(DataKey { key: key?, rng: SystemRandom::new() })
    }

    #[inline(never)]
    fn derive_key(material: &[u8], salt: &[u8; SALT_LEN]) -> Result<HeapKey> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(material);
        let okm = prk
            .expand(&[KEY_INFO], &CHACHA20_POLY1305)
            .map_err(|_| Error::KeyProvider("key derivation failed".into()))?;
        Ok(HeapKey(Box::new(MaybeUninit::new(LessSafeKey::new(UnboundKey::from(okm))))))
    }

    /// Encrypts `plaintext`, binding it to `context`; output is nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let sealed = self.seal_unscrubbed(context, plaintext);
        scrub_stack();
        sealed
    }

    #[inline(never)]
    fn seal_unscrubbed(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::KeyProvider("no system randomness".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + aead::MAX_TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .get()
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut out[NONCE_LEN..])
            .map_err(|_| Error::Corrupt("encryption failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a blob made by [`DataKey::seal`] with the same `context`.
    /// Returns `None` if it was tampered with, truncated, or sealed under another key.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let opened = self.open_unscrubbed(context, sealed);
        scrub_stack();
        opened
    }

    #[inline(never)]
    fn open_unscrubbed(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + aead::MAX_TAG_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let plain_len = self.key.get().open_in_place(nonce, Aad::from(context), &mut buf).ok()?.len();
        buf.truncate(plain_len);
        Some(buf)
    }
}

/// The error for a key provider that failed with `reason`: the host's own words
/// are kept (so that an invalidated key and a locked device can be told apart in
/// a crash report), without control characters and at most 200 characters long.
/// Hosts must not put key material in them.
pub fn provider_failure(reason: &str) -> Error {
    let cause: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
    Error::KeyProvider(format!("the key provider failed: {cause}"))
}

/// Refuses key material too short to derive a data key from.
pub fn check_material(material: &[u8]) -> Result<()> {
    if material.len() < MIN_KEY_MATERIAL {
        return Err(Error::KeyProvider(format!("key material must be at least {MIN_KEY_MATERIAL} bytes")));
    }
    Ok(())
}

/// Fills a fresh random salt.
pub fn random_salt() -> Result<[u8; SALT_LEN]> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new().fill(&mut salt).map_err(|_| Error::KeyProvider("no system randomness".into()))?;
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper_detection() {
        let salt = [7u8; SALT_LEN];
        let key = DataKey::derive(&[1u8; 32], &salt).unwrap();
        let sealed = key.seal(b"ctx", b"hello").unwrap();
        assert_eq!(key.open(b"ctx", &sealed).as_deref(), Some(&b"hello"[..]));
        assert!(key.open(b"other", &sealed).is_none());
        let mut flipped = sealed.clone();
        flipped[NONCE_LEN] ^= 1;
        assert!(key.open(b"ctx", &flipped).is_none());
        let other = DataKey::derive(&[2u8; 32], &salt).unwrap();
        assert!(other.open(b"ctx", &sealed).is_none());
        let other_salt = DataKey::derive(&[1u8; 32], &[8u8; SALT_LEN]).unwrap();
        assert!(other_salt.open(b"ctx", &sealed).is_none());
    }

    #[test]
    fn short_key_material_is_refused() {
        assert!(matches!(DataKey::derive(&[1u8; 8], &[0u8; SALT_LEN]), Err(Error::KeyProvider(_))));
    }
}
