//! The synthetic packs the benches share (`mizan::packer::synthetic_pack`), signed.

use mizan::catalog::{public_key, CatalogPack, Category};
use ring::signature::Ed25519KeyPair;

/// Items in the default synthetic catalogue (as in MovieLens-1M).
pub const ITEMS: u32 = 3_883;

/// The synthetic pack of [`ITEMS`] items, signed, and its public key.
#[allow(dead_code)] // not every bench uses every pack
pub fn synthetic_pack(network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    synthetic_pack_of(ITEMS, network_dim, embedding_dim)
}

/// The synthetic pack of `items` items, signed, and its public key.
pub fn synthetic_pack_of(items: u32, network_dim: usize, embedding_dim: usize) -> (Vec<u8>, Vec<u8>) {
    signed(mizan::packer::synthetic_pack(items, network_dim, embedding_dim))
}

/// The synthetic pack of `items` items spread over `categories` categories
/// (item `i` in category `i mod categories`), signed, and its public key.
#[allow(dead_code)] // only the scale bench varies the categories
pub fn synthetic_pack_in_categories(items: u32, categories: u32) -> (Vec<u8>, Vec<u8>) {
    let mut pack = mizan::packer::synthetic_pack(items, 0, 0);
    pack.categories = (0..categories).map(|c| Category { name: format!("category {c}"), sensitive: None }).collect();
    pack.items.iter_mut().zip(0..).for_each(|(item, i): (_, u32)| item.categories = vec![i % categories]);
    signed(pack)
}

/// `pack` signed, and the public key.
fn signed(pack: CatalogPack) -> (Vec<u8>, Vec<u8>) {
    let signer = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).expect("seed");
    (pack.sign(&signer), public_key(&signer))
}
