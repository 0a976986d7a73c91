//! Pack decoding and verification: the input as a whole pack (header, payload
//! and signature as received), and the input as a payload validly signed by a
//! trusted key (a hostile pack from a compromised backend: any section table,
//! lengths, indices and values). Either is refused with a typed error or
//! accepted as a catalogue whose every item can be ranked; never a panic or an
//! abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizan::catalog::{sign_payload, Catalog};
use ring::signature::{Ed25519KeyPair, KeyPair};

fuzz_target!(|data: &[u8]| {
    let signer = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).expect("seed");
    let trusted = vec![signer.public_key().as_ref().to_vec()];
    let _ = Catalog::from_signed(data, &trusted);
    if let Ok(catalog) = Catalog::from_signed(&sign_payload(data, &signer), &trusted) {
        for i in 0..catalog.len().min(64) as u32 {
            let _ = (catalog.id(i), catalog.title(i), catalog.neighbours(i).iter().count(), catalog.item_categories(i));
        }
    }
});
