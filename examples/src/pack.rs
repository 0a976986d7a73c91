//! Building and checking signed catalogue packs from the command line.

use mizan::catalog::{public_key, CatalogPack, PackMeta};
use mizan::packer::{build_pack, PackerConfig};
use ring::signature::Ed25519KeyPair;

use crate::shop::{population_interactions, Shop, DEMO_NOW_MS};

/// Seed of the demo signing key. The demo key signs only demo packs; a real
/// app's backend keeps its own key offline.
const DEMO_SIGNING_SEED: [u8; 32] = *b"mizan demo pack key, not secret!";
/// Shoppers in the simulated background population.
pub const POPULATION: usize = 600;
const POPULATION_SEED: u64 = 20_260_302;

/// The demo signing key pair.
pub fn demo_signer() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&DEMO_SIGNING_SEED).expect("32-byte seed")
}

/// Builds and signs the demo pack; returns (signed bytes, trusted public key).
pub fn demo_pack(shop: &Shop) -> (Vec<u8>, Vec<u8>) {
    let interactions = population_interactions(shop, POPULATION, POPULATION_SEED);
    let meta = PackMeta {
        pack_version: 1,
        built_at_ms: DEMO_NOW_MS,
        source: format!("synthetic shop: {POPULATION} simulated shoppers, {} interactions", interactions.len()),
    };
    let pack = build_pack(meta, shop.categories.clone(), shop.items.clone(), &interactions, &PackerConfig::default())
        .expect("co-occurrence packing cannot fail");
    let signer = demo_signer();
    (pack.sign(&signer), public_key(&signer))
}

/// Verifies a pack against a public key and describes it.
pub fn describe(pack_bytes: &[u8], public_key: &[u8]) -> Result<String, mizan::PackError> {
    let pack = CatalogPack::verify(pack_bytes, &[public_key.to_vec()])?;
    let links: usize = pack.neighbours.iter().map(|n| n.items.len()).sum();
    Ok(format!(
        "pack v{} ({} bytes): {} items, {} categories, {} neighbour links; source: {}",
        pack.meta.pack_version,
        pack_bytes.len(),
        pack.items.len(),
        pack.categories.len(),
        links,
        pack.meta.source
    ))
}
