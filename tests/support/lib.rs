//! Shared helpers for the integration tests: a small signed pack with a
//! sensitive category, engines in temporary directories, event builders.

use std::path::Path;
use std::sync::Arc;

use mizan::catalog::{public_key, Category, Item, PackMeta, RankerWeights, SensitiveCategory};
use mizan::packer::{build_pack, AlsConfig, EmbeddingSource, Interaction, ItemModel, NetworkConfig, PackerConfig, SequentialConfig};
use mizan::{Engine, EngineConfig, Event, EventKind, StaticKey};
use ring::signature::Ed25519KeyPair;

/// A fixed "now" for ranking: 2026-03-02 09:00 UTC.
pub const NOW: i64 = 1_772_442_000_000;
/// Items per category in the test pack.
pub const PER_CATEGORY: u32 = 10;
/// Category names; the last one is sensitive (health).
pub const CATEGORIES: [&str; 4] = ["tea", "books", "garden", "pharmacy"];

/// The signing key of the test pack.
pub fn signer() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[42; 32]).expect("seed")
}

/// The public key trusted by test engines.
pub fn trusted_key() -> Vec<u8> {
    public_key(&signer())
}

/// The id of item `k` in category `c`.
pub fn item_id(c: usize, k: u32) -> String {
    format!("{}-{k}", CATEGORIES[c])
}

/// A signed test pack: 4 categories × 10 items; users who like one category
/// interact with its items in order, so neighbours stay within categories.
pub fn signed_pack(version: u64) -> Vec<u8> {
    signed_pack_changed(version, &[], &[])
}

/// The bindings' configuration of a store in `dir` trusting the test pack key,
/// with the defaults an app would pass.
pub fn ffi_config(dir: &Path) -> mizan_ffi::EngineConfig {
    mizan_ffi::EngineConfig {
        data_dir: dir.display().to_string(),
        trusted_pack_keys: vec![trusted_key()],
        max_clock_skew_ms: 60_000,
        group_commit_ms: None,
        retention_days: 0,
        max_log_bytes: 0,
        timestamp_granularity_ms: None,
        declared_purposes: vec![],
        debug_api: false,
    }
}

/// The test pack without the items in `removed` and with `added` items
/// `(id, category)` that nobody has interacted with yet.
pub fn signed_pack_changed(version: u64, removed: &[&str], added: &[(&str, u32)]) -> Vec<u8> {
    pack_of(version, removed, added, &PackerConfig::default())
}

/// The test pack with 4-factor implicit-ALS item embeddings, weighed by default.
pub fn signed_embedding_pack() -> Vec<u8> {
    pack_of(1, &[], &[], &PackerConfig { embeddings: EmbeddingSource::Als(AlsConfig { factors: 4, ..Default::default() }), ..Default::default() })
}

fn pack_of(version: u64, removed: &[&str], added: &[(&str, u32)], config: &PackerConfig) -> Vec<u8> {
    let (categories, items) = catalogue(removed, added);
    let index = |id: &str| items.iter().position(|i| i.id == id).map(|i| i as u32);
    let mut log = Vec::new();
    for user in 0..40u32 {
        let c = user % CATEGORIES.len() as u32;
        for step in 0..6u32 {
            let k = (user / 4 + step * 3) % PER_CATEGORY;
            if let Some(item) = index(&item_id(c as usize, k)) {
                log.push(Interaction { user, item, timestamp_ms: NOW - 1_000_000 + i64::from(step) });
            }
        }
    }
    let meta = PackMeta { pack_version: version, built_at_ms: NOW, source: "integration tests".into(), coverage: None };
    build_pack(meta, categories, items, &log, config).expect("packs").sign(&signer())
}

/// A signed pack of the same catalogue under the sequential model, learned from
/// a log where everyone walks one category in order (item k, then k + 1, …)
/// from a starting point that varies by user.
pub fn signed_sequential_pack() -> Vec<u8> {
    let sequential = SequentialConfig { lambda: 1.0, ..Default::default() }; // a tiny log needs little shrinkage
    let config = PackerConfig { model: ItemModel::Sequential(sequential), ..Default::default() };
    let meta = PackMeta { pack_version: 1, built_at_ms: NOW, source: "integration tests (sequential)".into(), coverage: None };
    let (categories, items) = catalogue(&[], &[]);
    build_pack(meta, categories, items, &walks(), &config).expect("packs").sign(&signer())
}

/// A signed pack learned from the same walks whose ranking rests on its sequence
/// network alone (item-to-item weights switched off; popularity only breaks ties).
pub fn signed_network_pack() -> Vec<u8> {
    let network = NetworkConfig { dim: 16, epochs: 30, batch: 32, dropout: 0.0, learning_rate: 0.02, ..Default::default() };
    let config = PackerConfig { network: Some(network), ..Default::default() };
    let meta = PackMeta { pack_version: 1, built_at_ms: NOW, source: "integration tests (network)".into(), coverage: None };
    let (categories, items) = catalogue(&[], &[]);
    let mut pack = build_pack(meta, categories, items, &walks(), &config).expect("packs");
    pack.default_weights = RankerWeights { neighbour: 0.0, transition: 0.0, category: 0.0, popularity: 0.001, network: 1.0, ..pack.default_weights };
    pack.sign(&signer())
}

/// The test pack with a small sequence network beside its item-to-item links,
/// every part weighed by default.
pub fn signed_pack_with_network() -> Vec<u8> {
    let network = NetworkConfig { dim: 8, epochs: 5, batch: 32, dropout: 0.0, learning_rate: 0.02, ..Default::default() };
    pack_of(1, &[], &[], &PackerConfig { network: Some(network), ..Default::default() })
}

/// A signed pack of the same catalogue where the walks and an old hit
/// (`garden-0`, chosen by 40 people) are two months old and a new hit
/// (`books-7`, chosen by 8) is from yesterday: the most popular item overall is
/// not what is popular now.
pub fn signed_trend_pack() -> Vec<u8> {
    const DAY: i64 = 86_400_000;
    let mut log: Vec<Interaction> = walks().into_iter().map(|i| Interaction { timestamp_ms: i.timestamp_ms - 60 * DAY, ..i }).collect();
    let (old_hit, new_hit) = (2 * PER_CATEGORY, PER_CATEGORY + 7);
    log.extend((100..140).map(|user| Interaction { user, item: old_hit, timestamp_ms: NOW - 60 * DAY }));
    log.extend((200..208).map(|user| Interaction { user, item: new_hit, timestamp_ms: NOW - DAY }));
    let meta = PackMeta { pack_version: 1, built_at_ms: NOW, source: "integration tests (trend)".into(), coverage: None };
    let (categories, items) = catalogue(&[], &[]);
    build_pack(meta, categories, items, &log, &PackerConfig::default()).expect("packs").sign(&signer())
}

/// Everyone walks one category in order from a starting point that varies by user.
fn walks() -> Vec<Interaction> {
    let mut log = Vec::new();
    for user in 0..60u32 {
        let c = user % 3;
        for (step, k) in (user / 3 % 5..PER_CATEGORY).enumerate() {
            log.push(Interaction { user, item: c * PER_CATEGORY + k, timestamp_ms: NOW - 1_000_000 + step as i64 });
        }
    }
    log
}

/// The test categories and items, without `removed`, with `added` appended.
fn catalogue(removed: &[&str], added: &[(&str, u32)]) -> (Vec<Category>, Vec<Item>) {
    let categories = CATEGORIES
        .iter()
        .map(|n| Category { name: n.to_string(), sensitive: (*n == "pharmacy").then_some(SensitiveCategory::Health) })
        .collect();
    let items: Vec<Item> = (0..CATEGORIES.len())
        .flat_map(|c| {
            (0..PER_CATEGORY).map(move |k| Item {
                id: item_id(c, k),
                title: format!("{} item {k}", CATEGORIES[c]),
                categories: vec![c as u32],
                tags: vec![],
                sensitive: None,
                available_from_ms: None,
                available_until_ms: None,
            })
        })
        .filter(|item: &Item| !removed.contains(&item.id.as_str()))
        .chain(added.iter().map(|(id, c)| Item {
            id: id.to_string(),
            title: format!("new {id}"),
            categories: vec![*c],
            tags: vec![],
            sensitive: None,
            available_from_ms: None,
            available_until_ms: None,
        }))
        .collect();
    (categories, items)
}

/// Opens an engine in `dir` with key bytes `key`.
pub fn open(dir: &Path, key: u8) -> mizan::Result<Engine> {
    Engine::open(EngineConfig::new(dir, vec![trusted_key()]), Arc::new(StaticKey(vec![key; 32])))
}

/// Opens an engine with consent granted and the test pack loaded.
pub fn ready(dir: &Path) -> Engine {
    let engine = open(dir, 1).expect("open");
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).expect("consent");
    engine.load_catalog(&signed_pack(1)).expect("pack");
    engine
}

/// A view of `item` `minutes` before [`NOW`].
pub fn view(item: &str, minutes: i64) -> Event {
    Event::new(EventKind::View, item, NOW - minutes * 60_000)
}

/// Every file under `dir`, recursively, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The one store file in `dir` whose name ends with `suffix` (e.g. ".state", ".seg").
pub fn store_file(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "expected one *{suffix} file, found {found:?}");
    found.remove(0)
}
