//! Concurrency stress (issue 20): eight threads record, give feedback, forget,
//! recommend, explain, inspect, export and rotate the key on one engine while
//! another handle keeps trying to open the same store. The work is bounded by
//! counts, not time; the only clock is a generous deadlock guard. Afterwards
//! the log holds exactly what was acknowledged and not forgotten, under the
//! last key, with unique sequence numbers.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mizan::{Engine, EngineConfig, Error, Event, Feedback, ForgetRequest, RecommendRequest, StaticKey, PERSONALISATION};
use mizan_integration_tests::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const THREADS: u32 = 8;
const OPERATIONS: u32 = 60;
/// Long enough for the slowest machine to finish; only a deadlock hits it.
const DEADLOCK_GUARD: Duration = Duration::from_secs(600);

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig::new(dir, vec![trusted_key()])
}

#[test]
fn eight_threads_on_one_engine_keep_every_acknowledged_event_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(config(dir.path()), Arc::new(StaticKey(vec![1; 32]))).unwrap());
    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&signed_pack(1)).unwrap();
    assert!(matches!(Engine::open(config(dir.path()), Arc::new(StaticKey(vec![1; 32]))), Err(Error::StoreLocked)));
    // What the threads were told is stored, and what they forgot; the last key.
    let kept: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let last_key = Arc::new(Mutex::new(1u8));
    let (done, finished) = mpsc::channel();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, kept, last_key, done) = (Arc::clone(&engine), Arc::clone(&kept), Arc::clone(&last_key), done.clone());
            std::thread::spawn(move || {
                let mut rng = ChaCha8Rng::seed_from_u64(u64::from(t));
                let mut mine: Vec<Vec<String>> = Vec::new();
                for k in 0..OPERATIONS {
                    let id = |j: u32| format!("t{t}-k{k}-e{j}");
                    match rng.random_range(0..10) {
                        0..=2 => {
                            let ids: Vec<String> = (0..rng.random_range(1..5)).map(id).collect();
                            let events: Vec<Event> = ids.iter().map(|i| view(i, 30)).collect();
                            assert_eq!(engine.record(&events).unwrap().stored as usize, ids.len());
                            kept.lock().unwrap().extend(ids.iter().cloned());
                            mine.push(ids);
                        }
                        3 => {
                            let click = id(0);
                            let shown = vec![click.clone(), item_id(0, 1)];
                            engine.feedback(&Feedback { impressions: shown, clicks: vec![click.clone()], timestamp_ms: Some(NOW), ..Feedback::default() }).unwrap();
                            kept.lock().unwrap().insert(click.clone());
                            mine.push(vec![click]);
                        }
                        4 if !mine.is_empty() => {
                            let ids = mine.swap_remove(rng.random_range(0..mine.len()));
                            let removed = engine.forget(&ForgetRequest { item_ids: ids.clone(), ..ForgetRequest::default() }).unwrap();
                            assert_eq!(removed as usize, ids.len());
                            let mut kept = kept.lock().unwrap();
                            ids.iter().for_each(|i| assert!(kept.remove(i)));
                        }
                        5 if t == 0 => {
                            let mut key = last_key.lock().unwrap();
                            *key += 1;
                            engine.rotate_key(&StaticKey(vec![*key; 32])).unwrap();
                        }
                        6 => {
                            engine.explain(&item_id(1, 2), Some(NOW)).unwrap();
                        }
                        7 => {
                            let report = engine.inspect().unwrap();
                            assert!(report.store.corrupt_records == 0 && report.store.damaged_segments == 0);
                        }
                        8 => {
                            engine.export_user_data().unwrap();
                        }
                        _ => {
                            engine.recommend(&RecommendRequest { now_ms: Some(NOW), ..Default::default() }).unwrap();
                        }
                    }
                }
                done.send(t).unwrap();
            })
        })
        .collect();
    drop(done);

    // Meanwhile, a second handle never gets in (tried while the threads work).
    let mut tries = 0;
    while tries < 50 && workers.iter().any(|w| !w.is_finished()) {
        assert!(matches!(Engine::open(config(dir.path()), Arc::new(StaticKey(vec![1; 32]))), Err(Error::StoreLocked)));
        tries += 1;
    }
    for _ in 0..THREADS {
        finished.recv_timeout(DEADLOCK_GUARD).expect("every thread finishes: none is stuck");
    }
    workers.into_iter().for_each(|w| w.join().expect("no thread panicked"));

    let expected = kept.lock().unwrap().clone();
    let stored = |engine: &Engine| -> Vec<(String, u64)> {
        let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
        json["events"].as_array().unwrap().iter().map(|e| (e["item_id"].as_str().unwrap().to_string(), e["seq"].as_u64().unwrap())).collect()
    };
    let check = |events: Vec<(String, u64)>| {
        let ids: BTreeSet<String> = events.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids, expected, "the log holds exactly what was acknowledged and not forgotten");
        let seqs: BTreeSet<u64> = events.iter().map(|(_, s)| *s).collect();
        assert_eq!(seqs.len(), events.len(), "sequence numbers are unique");
    };
    check(stored(&engine));
    Arc::try_unwrap(engine).ok().expect("every thread let go").close().unwrap();
    let key = *last_key.lock().unwrap();
    let reopened = Engine::open(config(dir.path()), Arc::new(StaticKey(vec![key; 32]))).expect("opens under the last key");
    check(stored(&reopened));
}
