//! Pack decoding and verification: the input as a whole pack (header, payload
//! and signature as received), and the input as a payload validly signed by a
//! trusted key (a hostile pack from a compromised backend: any section table,
//! lengths, indices and values). Either is refused with a typed error or
//! accepted as a catalogue whose every item can be ranked; never a panic or an
//! abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizan::catalog::{Catalog, PACK_FORMAT_VERSION};
use ring::signature::{Ed25519KeyPair, KeyPair};

fn signed(payload: &[u8], signer: &Ed25519KeyPair) -> Vec<u8> {
    let mut pack = b"MZPK".to_vec();
    pack.extend_from_slice(&PACK_FORMAT_VERSION.to_le_bytes());
    pack.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let mut message = pack.clone();
    message.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, payload).as_ref());
    let signature = signer.sign(&message);
    pack.extend_from_slice(payload);
    pack.extend_from_slice(signature.as_ref());
    pack
}

fuzz_target!(|data: &[u8]| {
    let signer = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).expect("seed");
    let trusted = vec![signer.public_key().as_ref().to_vec()];
    let _ = Catalog::from_signed(data, &trusted);
    if let Ok(catalog) = Catalog::from_signed(&signed(data, &signer), &trusted) {
        for i in 0..catalog.len().min(64) as u32 {
            let _ = (catalog.id(i), catalog.title(i), catalog.neighbours(i).iter().count(), catalog.item_categories(i));
        }
    }
});
