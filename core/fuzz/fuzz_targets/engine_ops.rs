//! The engine API driven by arbitrary sequences of calls: records with any
//! fields, recommend with any knobs, explain, feedback, forget, consent, best
//! time, inspect, export, key rotation, close and reopen, erase. Every call
//! returns a value or a typed error, never a panic; a refused record stores
//! nothing.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mizan::catalog::public_key;
use mizan::{
    BestTimeRequest, Engine, EngineConfig, Event, EventKind, Feedback, ForgetRequest, QuietHours, RecommendMode, RecommendRequest, StaticKey, SyncPolicy,
    PERSONALISATION, SEARCH_TERMS, SENSITIVE_PROFILING,
};
use ring::signature::Ed25519KeyPair;

#[derive(Arbitrary, Debug)]
enum Op {
    Record(Vec<(u8, u8, i64, Option<f64>, Option<f64>, Option<String>)>),
    Recommend {
        k: u32,
        include_seen: bool,
        diversity: f32,
        now_ms: Option<i64>,
        exploration: f32,
        novelty: f32,
        seed: Option<u64>,
        per_item: Option<u32>,
        per_category: Option<u32>,
        candidates: Option<Vec<u8>>,
        mode: u8,
    },
    Explain(u8, Option<i64>),
    Feedback { impressions: Vec<u8>, clicks: Vec<u8>, not_interested: Vec<u8>, categories: Vec<String>, timestamp_ms: Option<i64> },
    Forget { items: Vec<u8>, kinds: Vec<u8>, from_ms: Option<i64>, until_ms: Option<i64> },
    Consent(u8, bool, bool),
    BestTime { now_ms: Option<i64>, utc_offset_minutes: i32, quiet: Option<(u8, u8)>, horizon_hours: u32 },
    Inspect,
    DebugSnapshot { top_n: u32, items: Vec<u8>, raw: bool, now_ms: Option<i64>, utc_offset_minutes: i32, per_item: Option<u32> },
    Export,
    RotateKey(u8),
    Reopen,
    Erase,
}

/// Item `i` of the 50-item synthetic pack; higher numbers are unknown to it.
fn id(i: u8) -> String {
    i.to_string()
}

fn pack() -> &'static (Vec<u8>, Vec<u8>) {
    static PACK: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PACK.get_or_init(|| {
        let signer = Ed25519KeyPair::from_seed_unchecked(&[5; 32]).expect("seed");
        (mizan::packer::synthetic_pack(50, 0, 4).sign(&signer), public_key(&signer))
    })
}

fn open(dir: &std::path::Path, key: u8) -> mizan::Result<Engine> {
    let mut config = EngineConfig::new(dir, vec![pack().1.clone()]);
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    config.debug_api = true;
    Engine::open(config, Arc::new(StaticKey(vec![key; 32])))
}

fuzz_target!(|ops: Vec<Op>| {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("temp dir");
    let mut key = 1u8;
    let mut engine = open(dir.path(), key).expect("a fresh store opens");
    engine.set_consent(PERSONALISATION, true, "v1", false).expect("consent");
    engine.load_catalog(&pack().0).expect("the pack loads");
    for op in ops.into_iter().take(64) {
        match op {
            Op::Record(events) => {
                let events: Vec<Event> = events
                    .into_iter()
                    .map(|(kind, item, ts, dwell, rating, query)| Event {
                        dwell_secs: dwell,
                        rating,
                        query,
                        ..Event::new(EventKind::ALL[kind as usize % EventKind::ALL.len()], id(item), ts)
                    })
                    .collect();
                let before = engine.inspect().map(|r| r.store.events);
                if engine.record(&events).is_err() {
                    assert_eq!(engine.inspect().map(|r| r.store.events).ok(), before.ok(), "a refused record stored something");
                }
            }
            Op::Recommend { k, include_seen, diversity, now_ms, exploration, novelty, seed, per_item, per_category, candidates, mode } => {
                let request = RecommendRequest {
                    k,
                    include_seen,
                    diversity,
                    now_ms,
                    exploration,
                    novelty,
                    seed,
                    max_impressions_per_item_per_day: per_item,
                    max_impressions_per_category_per_day: per_category,
                    candidates: candidates.map(|c| c.into_iter().map(id).collect()),
                    mode: [RecommendMode::Discover, RecommendMode::BuyAgain, RecommendMode::Mixed][usize::from(mode) % 3],
                };
                if let Ok(list) = engine.recommend(&request) {
                    assert!(list.items.iter().all(|r| r.score.is_finite() && !r.reasons.is_empty()));
                    let missing = (k as usize).checked_sub(list.items.len()).expect("never more than k items");
                    assert_eq!(list.shortfall.map_or(0, |s| s.missing as usize), missing, "a short list says so, a full one does not");
                }
            }
            Op::Explain(item, now) => {
                let _ = engine.explain(&id(item), now);
            }
            Op::Feedback { impressions, clicks, not_interested, categories, timestamp_ms } => {
                let ids = |v: Vec<u8>| v.into_iter().map(id).collect();
                let feedback = Feedback {
                    impressions: ids(impressions),
                    clicks: ids(clicks),
                    not_interested: ids(not_interested),
                    not_interested_categories: categories,
                    reason: None,
                    timestamp_ms,
                };
                let _ = engine.feedback(&feedback);
            }
            Op::Forget { items, kinds, from_ms, until_ms } => {
                let request = ForgetRequest {
                    item_ids: items.into_iter().map(id).collect(),
                    categories: vec![],
                    kinds: kinds.into_iter().map(|k| EventKind::ALL[k as usize % EventKind::ALL.len()]).collect(),
                    from_ms,
                    until_ms,
                };
                let _ = engine.forget(&request);
            }
            Op::Consent(purpose, granted, erase) => {
                let purpose = [PERSONALISATION, SEARCH_TERMS, SENSITIVE_PROFILING, "undeclared"][purpose as usize % 4];
                let _ = engine.set_consent(purpose, granted, "v2", erase);
            }
            Op::BestTime { now_ms, utc_offset_minutes, quiet, horizon_hours } => {
                let quiet_hours = quiet.map(|(start_hour, end_hour)| QuietHours { start_hour, end_hour });
                let _ = engine.best_time(&BestTimeRequest { now_ms, utc_offset_minutes, quiet_hours, horizon_hours });
            }
            Op::Inspect => {
                let _ = engine.inspect();
            }
            Op::DebugSnapshot { top_n, items, raw, now_ms, utc_offset_minutes, per_item } => {
                let options = mizan::DebugOptions {
                    top_n,
                    item_ids: items.into_iter().map(id).collect(),
                    include_raw_events: raw,
                    now_ms,
                    utc_offset_minutes,
                    max_impressions_per_item_per_day: per_item,
                    max_impressions_per_category_per_day: None,
                };
                let _ = engine.debug_snapshot_json(&options);
            }
            Op::Export => {
                let _ = engine.export_user_data();
            }
            Op::RotateKey(new) => {
                let new = new.max(1);
                if engine.rotate_key(&StaticKey(vec![new; 32])).is_ok() {
                    key = new;
                }
            }
            Op::Reopen => {
                let _ = engine.close();
                drop(engine);
                engine = open(dir.path(), key).expect("a closed store reopens");
            }
            Op::Erase => {
                let _ = engine.erase_all();
                drop(engine);
                key = 1;
                engine = open(dir.path(), key).expect("an erased store opens empty");
                let _ = engine.set_consent(PERSONALISATION, true, "v1", false);
                let _ = engine.load_catalog(&pack().0);
            }
        }
    }
});
