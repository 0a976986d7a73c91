//! Fault injection and power-loss sweeps over the engine's whole I/O path
//! (issue 20): a workload of every kind of call that writes (open with a
//! retention compaction, record, feedback, consent, forget, a new pack, key
//! rotation, withdrawal with erasure, a snapshot at close) is run once to count its file
//! calls and note what the store holds after each step; then again once per
//! call, with that call failing:
//!
//! - **faults** (EIO, ENOSPC with a short write): the failing step returns a
//!   typed error and changes nothing, in memory or on disk; retried on the same
//!   engine, it then gives exactly what the clean run gave (nothing twice);
//! - **crashes**: the process "dies" in that call (every later call fails),
//!   with the page cache kept (a killed process) or lost (power loss: whatever
//!   was not synced, directory entries included, is dropped). Reopening finds
//!   every step acknowledged before the crash, and the step it died in either
//!   wholly done or not at all.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::catalog::tests::{signer, tiny_pack};
use crate::catalog::{public_key, CatalogPack, PackMeta};
use crate::store::vfs::sim::{self, Fault};
use crate::{Engine, EngineConfig, Error, Event, EventKind, Feedback, ForgetRequest, Retention, StaticKey, PERSONALISATION, SEARCH_TERMS};

const HOUR: i64 = 3_600_000;
/// The last step: it closes the engine, so there is no live engine after it.
const CLOSE: &str = "close, with a snapshot";

/// What the store holds, as the person's export and the engine report it
/// (times of consent decisions left out: they are the wall clock's).
#[derive(Debug, Clone, PartialEq)]
struct Facts {
    events: Vec<Value>,
    consents: Vec<(String, bool, String)>,
    feedback: Value,
    pack_version: Option<u64>,
}

fn facts(engine: &Engine) -> Facts {
    sim::uncounted(|| facts_now(engine))
}

fn facts_now(engine: &Engine) -> Facts {
    let export: Value = serde_json::from_str(&engine.export_user_data().expect("export")).expect("JSON");
    let consents = export["consent_history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| (c["purpose"].as_str().unwrap().to_owned(), c["granted"].as_bool().unwrap(), c["policy_version"].as_str().unwrap().to_owned()))
        .collect();
    Facts {
        events: export["events"].as_array().expect("events").clone(),
        consents,
        feedback: export["feedback"].clone(),
        pack_version: engine.inspect().expect("inspect").catalog.map(|c| c.meta.pack_version),
    }
}

fn config(dir: &Path, retention: Retention) -> EngineConfig {
    EngineConfig { retention, ..EngineConfig::new(dir, vec![public_key(&signer(1))]) }
}

fn open(dir: &Path, key: u8) -> crate::Result<Engine> {
    Engine::open(config(dir, Retention { max_age_days: Some(30), max_log_bytes: None }), Arc::new(StaticKey(vec![key; 32])))
}

/// Reopens the store with whichever of the two keys opens it: (facts, key).
fn reopen(dir: &Path) -> (Facts, u8) {
    sim::uncounted(|| reopen_now(dir))
}

fn reopen_now(dir: &Path) -> (Facts, u8) {
    for key in [1, 2] {
        match open(dir, key) {
            Ok(engine) => return (facts_now(&engine), key),
            Err(Error::WrongKey) => continue,
            Err(e) => panic!("the store does not reopen: {e:?}"),
        }
    }
    panic!("neither key opens the store")
}

fn pack(version: u64) -> Vec<u8> {
    CatalogPack { meta: PackMeta { pack_version: version, ..tiny_pack().meta }, ..tiny_pack() }.sign(&signer(1))
}

fn events(now: i64, items: &[&str], hours_ago: i64) -> Vec<Event> {
    items.iter().enumerate().map(|(i, id)| Event::new(EventKind::View, (*id).to_owned(), now - hours_ago * HOUR + i as i64)).collect()
}

/// A store holding 20 events past the workload's 30-day retention and 30
/// recent ones, with consent and a pack, written without faults.
fn base_store(dir: &Path, now: i64) {
    let engine = Engine::open(config(dir, Retention { max_age_days: None, max_log_bytes: None }), Arc::new(StaticKey(vec![1; 32]))).unwrap();
    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&pack(1)).unwrap();
    engine.record(&events(now, &["a", "b"].repeat(10), 40 * 24)).unwrap();
    engine.record(&events(now, &["a", "b", "c"].repeat(10), 48)).unwrap();
    assert_eq!(engine.inspect().unwrap().store.events, 50);
    engine.close().unwrap();
}

/// One step of the workload, on the engine (which the first step opens) of
/// the store in the directory, with the workload's "now".
type Step = fn(&mut Option<Engine>, &Path, i64) -> crate::Result<()>;

/// The workload, with what each step is.
fn workload() -> Vec<(&'static str, Step)> {
    fn with(engine: &mut Option<Engine>, f: impl FnOnce(&Engine) -> crate::Result<()>) -> crate::Result<()> {
        f(engine.as_ref().expect("open"))
    }
    vec![
        ("open, compacting away what retention expires", |engine, dir, _| {
            *engine = Some(open(dir, 1)?);
            Ok(())
        }),
        ("record", |e, _, now| with(e, |e| e.record(&events(now, &["a", "c", "b"], 2)).map(drop))),
        ("feedback", |e, _, now| {
            with(e, |e| {
                let feedback = Feedback {
                    impressions: vec!["a".into(), "b".into()],
                    clicks: vec!["b".into()],
                    not_interested: vec!["c".into()],
                    timestamp_ms: Some(now - HOUR),
                    ..Feedback::default()
                };
                e.feedback(&feedback)
            })
        }),
        ("consent", |e, _, _| with(e, |e| e.set_consent(SEARCH_TERMS, true, "v2", false))),
        ("forget", |e, _, _| with(e, |e| e.forget(&ForgetRequest { item_ids: vec!["a".into()], ..ForgetRequest::default() }).map(drop))),
        ("new pack", |e, _, _| with(e, |e| e.load_catalog(&pack(2)).map(drop))),
        ("key rotation", |e, _, _| with(e, |e| e.rotate_key(&StaticKey(vec![2; 32])))),
        ("record after rotation", |e, _, now| with(e, |e| e.record(&events(now, &["b", "b"], 1)).map(drop))),
        ("withdrawal with erasure", |e, _, _| with(e, |e| e.set_consent(PERSONALISATION, false, "v2", true))),
        ("consent again", |e, _, _| with(e, |e| e.set_consent(PERSONALISATION, true, "v3", false))),
        ("record after erasure", |e, _, now| with(e, |e| e.record(&events(now, &["c"], 1)).map(drop))),
        (CLOSE, |e, _, _| with(e, |e| e.close())),
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// What the clean run gives: the facts and key after each step (index 0: the
/// base store), and the file calls each step makes.
struct Reference {
    after: Vec<(Facts, u8)>,
    calls: Vec<u64>,
}

fn reference(base: &Path, now: i64) -> Reference {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base, dir.path());
    let mut after = vec![reopen(dir.path())];
    let mut calls = Vec::new();
    let mut engine = None;
    let mut key = 1;
    for (name, step) in workload() {
        sim::clear();
        step(&mut engine, dir.path(), now).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        calls.push(sim::calls());
        key = if name == "key rotation" { 2 } else { key };
        let live = engine.as_ref().filter(|_| name != CLOSE).map(facts);
        // The live engine's view is the store's (checked by reopening a copy).
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let reopened = reopen(copy.path());
        assert_eq!(reopened.1, key, "{name}");
        if let Some(live) = live {
            assert_eq!(live, reopened.0, "{name}");
        }
        after.push(reopened);
    }
    assert_eq!(after[1].0.events.len(), 30, "the open compacts (reopening does too, so step 0 starts there as well)");
    Reference { after, calls }
}

/// Runs the workload in a copy of `base` with call `n` failing by `fault`.
/// Faults: the failing step is an error and changes nothing, and its retry
/// gives the clean run's result. Crashes: see [`check_crash`].
fn run_with_fault(base: &Path, now: i64, reference: &Reference, n: u64, fault: Fault, power_loss: bool) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(base, dir.path());
    sim::clear();
    if power_loss {
        sim::track(dir.path());
    }
    sim::inject(n, fault);
    let mut engine = None;
    for (i, (name, step)) in workload().into_iter().enumerate() {
        let result = step(&mut engine, dir.path(), now);
        if fault == Fault::Crash && sim::calls() > n {
            // The process died in this step: it is not acknowledged, and nothing after it runs.
            drop(engine.take());
            return check_crash(dir.path(), reference, i, n, power_loss);
        }
        let expected = &reference.after[i + 1].0;
        match result {
            Ok(()) => {}
            Err(e) => {
                assert!(matches!(e, Error::Io { .. }), "{name}, call {n} failing ({fault:?}): not an I/O error: {e:?}");
                if name == CLOSE {
                    // Closed either way: the reopen below shows nothing was lost.
                    break;
                }
                if let Some(live) = engine.as_ref() {
                    assert_eq!(&facts(live), &reference.after[i].0, "{name}, call {n} failing ({fault:?}): a failed call changed what the engine holds");
                }
                let copy = tempfile::tempdir().unwrap();
                copy_dir(dir.path(), copy.path());
                assert_eq!(reopen(copy.path()), reference.after[i], "{name}, call {n} failing ({fault:?}): a failed call changed the store");
                step(&mut engine, dir.path(), now).unwrap_or_else(|e| panic!("{name}, call {n} failing ({fault:?}): the retry failed: {e:?}"));
            }
        }
        if name != CLOSE {
            assert_eq!(&facts(engine.as_ref().unwrap()), expected, "{name}, call {n} failing ({fault:?})");
        }
    }
    drop(engine);
    assert_eq!(reopen(dir.path()), reference.after[reference.after.len() - 1], "call {n} failing ({fault:?}): after the workload");
}

/// After a crash in step `acknowledged` (every step before it returned),
/// the store reopens as of that step's start or its end.
fn check_crash(dir: &Path, reference: &Reference, acknowledged: usize, n: u64, power_loss: bool) {
    if power_loss {
        sim::power_loss();
    }
    sim::clear();
    let found = reopen(dir);
    let (before, after) = (&reference.after[acknowledged], &reference.after[acknowledged + 1]);
    assert!(
        &found == before || &found == after,
        "crash at call {n} (power loss: {power_loss}) in step {acknowledged}: the store holds neither the state before the step nor after it\n{found:?}"
    );
}

#[test]
fn every_file_call_of_the_workload_can_fail_and_nothing_is_lost_or_half_done() {
    let base = tempfile::tempdir().unwrap();
    let now = crate::engine::now_ms() - HOUR;
    base_store(base.path(), now);
    let reference = reference(base.path(), now);
    let total: u64 = reference.calls.iter().sum();
    let mut points = 0;
    for n in 0..total {
        for fault in [Fault::Io, Fault::NoSpace] {
            run_with_fault(base.path(), now, &reference, n, fault, false);
            points += 1;
        }
        for power_loss in [false, true] {
            run_with_fault(base.path(), now, &reference, n, Fault::Crash, power_loss);
            points += 1;
        }
    }
    sim::clear();
    eprintln!("fault points: {points} over {total} file calls ({:?} per step)", reference.calls);
    assert!(total > 100, "the workload makes every kind of call ({total})");
}
