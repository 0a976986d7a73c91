//! Ranking allocates nothing in proportion to the catalogue or the history
//! once an engine has warmed up: its per-item and per-candidate loops run over
//! scratch buffers the engine keeps. A counting global allocator (per thread,
//! so parallel tests do not disturb it) counts what one `recommend` allocates
//! at a small and at a 40 times larger catalogue with a 60 times longer
//! history; both stay under the same small bound, set by the k items returned.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use mizan::catalog::{public_key, CatalogPack};
use mizan::{Engine, EngineConfig, Event, EventKind, RecommendRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// Counts an allocation of `size` bytes on this thread.
fn count(size: usize) {
    ALLOCATIONS.with(|a| a.set(a.get() + 1));
    LARGEST.with(|l| l.set(l.get().max(size)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: i64 = 1_780_000_000_000;
/// A signed synthetic pack of `n` items (40 neighbours and 20 successors
/// each, `mizan::packer::synthetic_pack`) whose trend is as of [`NOW`], and its public key.
fn pack(n: u32) -> (Vec<u8>, Vec<u8>) {
    let pack = CatalogPack { trend_as_of_ms: NOW, ..mizan::packer::synthetic_pack(n, 0, 0) };
    let signer = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[5; 32]).unwrap();
    (pack.sign(&signer), public_key(&signer))
}

/// Allocations of one warmed-up `recommend` of 20 items after `history` views
/// on a catalogue of `n` items.
fn allocations_per_recommend(n: u32, history: u32) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, key) = pack(n);
    let mut config = EngineConfig::new(dir.path(), vec![key]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32]))).unwrap();
    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&bytes).unwrap();
    let events: Vec<Event> =
        (0..history).map(|i| Event::new(EventKind::View, ((i * 7_919) % n).to_string(), NOW - 60_000 * i64::from(history - i))).collect();
    for batch in events.chunks(1_000) {
        engine.record(batch).unwrap();
    }
    let request = RecommendRequest { k: 20, now_ms: Some(NOW), seed: Some(1), ..RecommendRequest::default() };
    for _ in 0..3 {
        engine.recommend(&request).unwrap();
    }
    let before = ALLOCATIONS.with(Cell::get);
    let list = engine.recommend(&request).unwrap();
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(list.items.len(), 20);
    allocations
}

#[test]
fn recommend_allocates_nothing_in_proportion_to_the_catalogue_or_the_history() {
    let small = allocations_per_recommend(500, 50);
    let large = allocations_per_recommend(20_000, 3_000);
    eprintln!("allocations per recommend: {small} (500 items, 50 events), {large} (20,000 items, 3,000 events)");
    // The k = 20 items returned (ids, titles, reasons and their wording) and a
    // few per-request buffers of fixed size; a per-item or per-candidate
    // allocation would add thousands at the larger size.
    let bound = 25 * 20;
    assert!(small <= bound && large <= bound, "{small} and {large} allocations, bound {bound}");
    assert!(large.abs_diff(small) <= 2 * 20, "{small} against {large}: the count moves only with the items' reasons");
}

/// Issue 20, defect 7: a validly signed pack whose categories section claims a
/// 512 MiB name in seven bytes is refused without allocating anything near
/// that (on a phone such an allocation aborts the app, which no error can catch):
/// small sections decode under a 16 MiB limit, checked before allocating.
#[test]
fn a_hostile_length_prefix_in_a_signed_pack_allocates_nothing_near_it() {
    use ring::signature::{Ed25519KeyPair, KeyPair};
    // Categories: one, whose name claims 2^29 bytes (bincode varint: 252, then a u32).
    let categories = [1u8, 252, 0, 0, 0, 0x20, b'a'];
    let payload = mizan::catalog::payload_from_sections(&[("categories", &categories[..])]);
    let signer = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap();
    let pack = mizan::catalog::sign_payload(&payload, &signer);

    LARGEST.with(|l| l.set(0));
    let verified = CatalogPack::verify(&pack, &[signer.public_key().as_ref().to_vec()]);
    let largest = LARGEST.with(Cell::get);
    assert!(matches!(verified, Err(mizan::PackError::Malformed("categories"))), "{verified:?}");
    assert!(largest < 2 << 20, "{largest} bytes allocated at once");
}
