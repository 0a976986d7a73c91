//! The synthetic packs the benches share (`mizan::packer::synthetic_pack`), signed.

use mizan::catalog::public_key;
use ring::signature::Ed25519KeyPair;

/// Items in the default synthetic catalogue (as in MovieLens-1M).
pub const ITEMS: u32 = 3_883;

/// The synthetic pack of [`ITEMS`] items, signed, and its public key.
#[allow(dead_code)] // each bench uses one of the two
pub fn synthetic_pack(network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    synthetic_pack_of(ITEMS, network_dim, embedding_dim)
}

/// The synthetic pack of `items` items, signed, and its public key.
pub fn synthetic_pack_of(items: u32, network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    let signer = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).expect("seed");
    (mizan::packer::synthetic_pack(items, network_dim, embedding_dim).sign(&signer), public_key(&signer))
}
