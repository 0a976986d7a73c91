//! Bad situations get typed errors and lose nothing: wrong keys, locked
//! stores, corrupt files, calls after close, and the FFI error mapping.

use std::sync::Arc;

use mizan::{Error, EventKind, RecommendRequest};
use mizan_integration_tests::*;

#[test]
fn wrong_key_is_refused_without_touching_data() {
    let dir = tempfile::tempdir().unwrap();
    ready(dir.path()).record(&[view(&item_id(0, 1), 5)]).unwrap();
    let before = files_under(dir.path());
    assert!(matches!(open(dir.path(), 2), Err(Error::WrongKey)));
    assert_eq!(files_under(dir.path()), before);
    assert_eq!(open(dir.path(), 1).unwrap().inspect().unwrap().store.events, 1);
}

#[test]
fn short_key_material_is_a_key_provider_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = mizan::Engine::open(mizan::EngineConfig::new(dir.path(), vec![]), Arc::new(mizan::StaticKey(vec![1; 4])));
    assert!(matches!(r, Err(Error::KeyProvider(_))));
}

#[test]
fn a_second_engine_on_the_same_store_is_locked_out_until_close() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), 1).unwrap();
    assert!(matches!(open(dir.path(), 1), Err(Error::StoreLocked)));
    first.close().unwrap();
    assert!(open(dir.path(), 1).is_ok());
}

#[test]
fn every_call_after_close_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.close().unwrap();
    assert!(matches!(engine.record(&[view("a", 1)]), Err(Error::Closed)));
    assert!(matches!(engine.recommend(&RecommendRequest::default()), Err(Error::Closed)));
    assert!(matches!(engine.inspect(), Err(Error::Closed)));
    assert!(matches!(engine.export_user_data(), Err(Error::Closed)));
    assert!(matches!(engine.erase_all(), Err(Error::Closed)));
    assert!(matches!(engine.close(), Err(Error::Closed)));
}

#[test]
fn a_tampered_state_file_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    ready(dir.path()).close().unwrap();
    let state = store_file(dir.path(), ".state");
    let mut bytes = std::fs::read(&state).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&state, bytes).unwrap();
    assert!(matches!(open(dir.path(), 1), Err(Error::Corrupt(_))));
}

#[test]
fn a_torn_log_tail_is_cut_and_earlier_events_kept() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    engine.record(&[view(&item_id(0, 2), 4)]).unwrap();
    engine.close().unwrap();
    let log = store_file(dir.path(), ".seg");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() - 7]).unwrap();
    let engine = open(dir.path(), 1).unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!(report.store.events, 1);
    assert!(report.store.truncated_bytes > 0);
    // The engine keeps working after recovery.
    assert_eq!(engine.record(&[view(&item_id(0, 3), 3)]).unwrap().stored, 1);
    drop(engine);
    assert_eq!(open(dir.path(), 1).unwrap().inspect().unwrap().store.events, 2);
}

#[test]
fn many_threads_can_share_one_engine() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(ready(dir.path()));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                for k in 0..25u32 {
                    engine.record(&[view(&item_id(t, k % PER_CATEGORY), 50)]).unwrap();
                    engine.recommend(&RecommendRequest { now_ms: Some(NOW), ..Default::default() }).unwrap();
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    let report = engine.inspect().unwrap();
    assert_eq!(report.store.events, 100);
    let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
    let mut seqs: Vec<u64> = json["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..100).collect::<Vec<_>>(), "sequence numbers are unique");
}

#[test]
fn ffi_errors_are_typed_and_carry_no_personal_data() {
    use mizan_ffi::{Engine, KeyProvider, KeyProviderError, MizanError};

    struct Key(u8);
    impl KeyProvider for Key {
        fn key_material(&self) -> Result<Vec<u8>, KeyProviderError> {
            Ok(vec![self.0; 32])
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let config = ffi_config(dir.path());
    let engine = Engine::open(config.clone(), Arc::new(Key(1))).unwrap();
    let secret_id = "user-secret-item-id";
    let bad = mizan_ffi::Event { item_id: secret_id.into(), kind: mizan_ffi::EventKind::Rating, timestamp_ms: NOW, dwell_secs: None, rating: Some(f64::INFINITY), query: None };
    match engine.record(vec![bad]) {
        Err(e @ MizanError::InvalidInput { .. }) => assert!(!e.to_string().contains(secret_id)),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(matches!(engine.load_catalog(b"garbage".to_vec()), Err(MizanError::PackRejected { .. })));
    // Every error carries a message (an empty one is useless in a crash report) and no personal data.
    let errors = [
        engine.explain(secret_id.into(), None).unwrap_err(),
        Engine::open(config.clone(), Arc::new(Key(1))).err().unwrap(),
    ];
    assert!(matches!(errors[0], MizanError::NoCatalog { .. }));
    assert!(matches!(errors[1], MizanError::StoreLocked { .. }));
    engine.shutdown().unwrap();
    let errors = [errors[0].to_string(), errors[1].to_string(), {
        let wrong = Engine::open(config.clone(), Arc::new(Key(9))).err().unwrap();
        assert!(matches!(wrong, MizanError::WrongKey { .. }));
        wrong.to_string()
    }, {
        let closed = engine.shutdown().unwrap_err();
        assert!(matches!(closed, MizanError::Closed { .. }));
        closed.to_string()
    }];
    for message in errors {
        assert!(message.len() > 12 && !message.contains(secret_id), "{message}");
    }

    struct Refusing;
    impl KeyProvider for Refusing {
        fn key_material(&self) -> Result<Vec<u8>, KeyProviderError> {
            Err(KeyProviderError::Unavailable { reason: "key permanently invalidated\n(biometrics changed)".into() })
        }
    }
    match Engine::open(config.clone(), Arc::new(Refusing)) {
        Err(MizanError::KeyUnavailable { reason }) => {
            assert!(reason.contains("key permanently invalidated") && !reason.contains('\n'), "the host's cause is kept: {reason}");
        }
        other => panic!("expected KeyUnavailable, got {:?}", other.err()),
    }
    assert!("teleport".parse::<EventKind>().is_err(), "an unknown kind name is refused");
}

/// Times at either end of `i64` (and offsets at either end of `i32`) get an
/// answer or a typed error, never a panic; a "not interested" stamped at such a
/// time is refused rather than kept, and nothing is left unusable afterwards.
#[test]
fn extreme_times_are_answered_or_refused_never_a_panic() {
    use mizan::{BestTimeRequest, Error, Feedback, InvalidReason};
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 1), 5), view(&item_id(0, 2), 3)]).unwrap();
    for now in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        let recs = engine.recommend(&mizan::RecommendRequest { now_ms: Some(now), ..Default::default() }).unwrap();
        assert!(!recs.items.is_empty(), "a list at {now}");
        engine.explain(&item_id(0, 3), Some(now)).unwrap();
        for offset in [i32::MIN, -14 * 60, 0, 14 * 60, i32::MAX] {
            let request = BestTimeRequest { now_ms: Some(now), utc_offset_minutes: offset, ..Default::default() };
            match engine.best_time(&request) {
                Ok(_) | Err(Error::InvalidRequest(InvalidReason::OutOfRange(_))) => {}
                Err(other) => panic!("best_time at {now}, offset {offset}: {other}"),
            }
        }
    }
    for at in [i64::MIN, 0, i64::MAX] {
        let feedback = Feedback { not_interested_categories: vec!["tea".into()], timestamp_ms: Some(at), ..Default::default() };
        assert!(matches!(engine.feedback(&feedback), Err(Error::InvalidRequest(InvalidReason::OutOfRange("timestamp_ms")))), "{at}");
    }
    let after = engine.recommend(&mizan::RecommendRequest { now_ms: Some(NOW), ..Default::default() }).unwrap();
    assert!(after.items.iter().any(|r| r.item_id.starts_with(&item_id(0, 0)[..3])), "tea is not suppressed by a refused feedback");
}

/// Feedback ids follow the rules of event ids: a 10 MiB impression id, one
/// with a control character and an empty one are refused, and the refused call
/// leaves nothing behind (no count, no suppression, no event).
#[test]
fn feedback_ids_are_checked_like_event_ids() {
    use mizan::{Error, Feedback, InvalidReason};
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let before = engine.export_user_data().unwrap();
    let huge = "x".repeat(10 << 20);
    let cases = [
        (Feedback { impressions: vec![huge], ..Default::default() }, InvalidReason::MalformedItemId),
        (Feedback { clicks: vec!["a\u{7}b".into()], ..Default::default() }, InvalidReason::MalformedItemId),
        (Feedback { not_interested: vec![String::new()], ..Default::default() }, InvalidReason::EmptyItemId),
        (Feedback { impressions: vec![item_id(0, 1)], not_interested_categories: vec!["tea\n".into()], ..Default::default() }, InvalidReason::MalformedItemId),
    ];
    for (feedback, reason) in cases {
        match engine.feedback(&feedback) {
            Err(Error::InvalidRequest(r)) => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
    }
    let after = engine.export_user_data().unwrap();
    let without_time = |s: &str| s.split("\"exported_at_ms\"").nth(1).map(|rest| rest.split_once(',').map_or("", |(_, r)| r).to_string()).unwrap_or_default();
    assert_eq!(without_time(&before), without_time(&after), "a refused call changes nothing");
}

/// A store that cannot be opened (a damaged state file here; a lost key alike)
/// can still be erased, without its key; an open store cannot be erased from
/// outside its engine.
#[test]
fn a_store_that_cannot_be_opened_can_still_be_erased() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("user");
    let engine = ready(&store);
    engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    assert!(matches!(mizan::Engine::destroy(&store), Err(Error::StoreLocked)), "not while an engine has it open");
    engine.close().unwrap();
    let state = store_file(&store, ".state");
    let mut bytes = std::fs::read(&state).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&state, bytes).unwrap();
    assert!(matches!(open(&store, 1), Err(Error::Corrupt(_))));
    mizan::Engine::destroy(&store).unwrap();
    assert!(!store.exists(), "every file and the directory are gone");
    mizan::Engine::destroy(&store).unwrap();
    let fresh = open(&store, 2).unwrap();
    assert_eq!(fresh.inspect().unwrap().store.events, 0, "a new key opens a new, empty store");
}

/// Issue 20, defect 3: a failed call leaves no partial effect, so a retry never
/// counts twice. The state file's temporary path is blocked by a directory, so
/// saving the state fails (as on a full disk).
#[test]
fn feedback_that_fails_to_save_leaves_nothing_behind_and_a_retry_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let blocker = store_file(dir.path(), ".state").with_extension("tmp");
    std::fs::create_dir(&blocker).unwrap();
    let click = mizan::Feedback {
        impressions: vec![item_id(0, 1), item_id(0, 2)],
        clicks: vec![item_id(0, 1)],
        not_interested: vec![item_id(0, 3)],
        timestamp_ms: Some(NOW),
        ..mizan::Feedback::default()
    };
    let before = engine.inspect().unwrap();
    for _ in 0..3 {
        assert!(matches!(engine.feedback(&click), Err(Error::Io { .. })));
    }
    let after = engine.inspect().unwrap();
    assert_eq!((after.store.events, after.impressions, after.suppressed_items), (before.store.events, 0, 0), "nothing applied");
    std::fs::remove_dir(&blocker).unwrap();
    engine.feedback(&click).unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!((report.store.events, report.impressions, report.suppressed_items), (2, 2, 1), "one click and one dismissal, once");
    drop(engine);
    let reopened = open(dir.path(), 1).unwrap().inspect().unwrap();
    assert_eq!((reopened.store.events, reopened.impressions), (2, 2));
}

/// Once a batch is in the log, upkeep that fails afterwards (here the model
/// snapshot) does not fail the call: the host would retry and record it twice.
#[test]
fn a_recorded_batch_is_acknowledged_even_when_the_snapshot_after_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let blocker = store_file(dir.path(), ".state").with_extension("tmp");
    std::fs::create_dir(&blocker).unwrap();
    let batch: Vec<mizan::Event> = (0..10_000).map(|k| view(&item_id(k % 4, k as u32 % PER_CATEGORY), 1 + k as i64 / 100)).collect();
    for _ in 0..5 {
        assert_eq!(engine.record(&batch).unwrap().stored, 10_000, "50,000 events call for a snapshot, which cannot be written");
    }
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(engine.inspect().unwrap().store.events, 50_000);
    drop(engine);
    assert_eq!(open(dir.path(), 1).unwrap().inspect().unwrap().store.events, 50_000, "nothing lost or doubled");
}

/// Issue 19 item 5: dropping an engine without closing it (Kotlin's `close()`,
/// a finalised handle) syncs the log, saves a snapshot and unlocks the store.
#[test]
fn a_dropped_engine_is_closed_properly() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = mizan::EngineConfig::new(dir.path(), vec![trusted_key()]);
    config.sync = mizan::SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    let engine = mizan::Engine::open(config.clone(), Arc::new(mizan::StaticKey(vec![1; 32]))).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    let outcome = engine.record(&[view(&item_id(0, 1), 5), view(&item_id(0, 2), 4)]).unwrap();
    assert!(!outcome.durable, "group commit: not synced yet");
    drop(engine);
    let reopened = mizan::Engine::open(config, Arc::new(mizan::StaticKey(vec![1; 32]))).expect("unlocked");
    let report = reopened.inspect().unwrap();
    assert_eq!((report.store.events, report.store.events_since_snapshot), (2, 0), "kept, and a snapshot covers them");
}

/// Issue 20, defect 9 (state): putting an older state file back (one that still
/// grants a consent since withdrawn) is seen as a rollback. The engine fails
/// closed: every consent is withdrawn, nothing more is recorded until the host
/// asks again, and the report says why. Deleting the state file alike.
#[test]
fn an_older_state_file_put_back_or_a_deleted_one_is_a_rollback_and_withdraws_consent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    engine.feedback(&mizan::Feedback { not_interested: vec![item_id(1, 2)], ..Default::default() }).unwrap();
    engine.close().unwrap();
    let state = store_file(dir.path(), ".state");
    let granted = std::fs::read(&state).unwrap();
    // Impressions alone are not vouched for (a second sync per screen); putting back the state
    // before them is no rollback: nothing protected changed.
    let engine = open(dir.path(), 1).unwrap();
    engine.feedback(&mizan::Feedback { impressions: vec![item_id(0, 3)], ..Default::default() }).unwrap();
    engine.close().unwrap();
    std::fs::write(&state, &granted).unwrap();
    let engine = open(dir.path(), 1).unwrap();
    assert!(!engine.inspect().unwrap().store.state_rolled_back && engine.inspect().unwrap().personalised);
    engine.close().unwrap();

    let engine = open(dir.path(), 1).unwrap();
    assert!(!engine.inspect().unwrap().store.state_rolled_back, "a clean reopen is no rollback");
    engine.set_consent(mizan::PERSONALISATION, false, "v1", false).unwrap();
    engine.close().unwrap();
    std::fs::write(&state, &granted).unwrap();

    let engine = open(dir.path(), 1).unwrap();
    let report = engine.inspect().unwrap();
    assert!(report.store.state_rolled_back);
    assert!(!report.personalised && report.consents.iter().all(|c| !c.granted), "{:?}", report.consents);
    assert_eq!(report.suppressed_items, 1, "what the older state holds is kept");
    assert_eq!(engine.record(&[view(&item_id(0, 2), 4)]).unwrap().dropped_without_consent, 1);
    engine.close().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    let report = engine.inspect().unwrap();
    assert!(!report.store.state_rolled_back && !report.personalised, "reported once; the withdrawal stays");
    engine.set_consent(mizan::PERSONALISATION, true, "v2", false).unwrap();
    engine.close().unwrap();

    std::fs::remove_file(store_file(dir.path(), ".state")).unwrap();
    let report = open(dir.path(), 1).unwrap().inspect().unwrap();
    assert!(report.store.state_rolled_back && !report.personalised);
    assert_eq!(report.store.events, 2, "the log (a view, a dismissal) is kept");
}
