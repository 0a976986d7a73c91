//! User rights and minimisation at the storage level: forget by item, category,
//! kind and time range; retention by age and size; timestamp coarsening; key
//! rotation; export of everything stored.

use std::sync::Arc;

use mizan::{Engine, EngineConfig, Error, Event, EventKind, ForgetRequest, Retention, StaticKey};
use mizan_integration_tests::*;

const HOUR: i64 = 3_600_000;

fn ids(engine: &Engine) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
    json["events"].as_array().unwrap().iter().map(|e| e["item_id"].as_str().unwrap().to_string()).collect()
}

fn history() -> Vec<Event> {
    vec![
        view(&item_id(0, 1), 300),
        Event::new(EventKind::Purchase, item_id(0, 1), NOW - 290 * 60_000),
        view(&item_id(1, 2), 200),
        view(&item_id(2, 3), 100),
        Event::new(EventKind::AddToCart, item_id(2, 4), NOW - 50 * 60_000),
    ]
}

#[test]
fn forget_by_item_removes_its_events_and_feedback_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&history()).unwrap();
    engine
        .feedback(&mizan::Feedback {
            impressions: vec![item_id(0, 1), item_id(0, 2)],
            clicks: vec![item_id(0, 2)],
            not_interested: vec![item_id(0, 1)],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(engine.inspect().unwrap().online_ranker.impressions, 2);
    let removed = engine.forget(&ForgetRequest { item_ids: vec![item_id(0, 1)], ..Default::default() }).unwrap();
    assert_eq!(removed, 3, "view, purchase and the dismissal");
    assert_eq!(ids(&engine), vec![item_id(1, 2), item_id(2, 3), item_id(2, 4), item_id(0, 2)], "the click is kept as a view");
    let report = engine.inspect().unwrap();
    assert_eq!((report.impressions, report.suppressed_items, report.store.events), (1, 0, 4));
    assert_eq!(report.online_ranker.impressions, 0, "what the ranker learned from the forgotten item is dropped");
    assert!(report.top_items.iter().all(|w| w.name != item_id(0, 1)), "the model forgot it too");
    drop(engine);
    assert_eq!(ids(&open(dir.path(), 1).unwrap()).len(), 4, "forgetting is durable");
}

#[test]
fn forget_by_category_kind_and_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&history()).unwrap();
    let by_category = ForgetRequest { categories: vec!["garden".into()], ..Default::default() };
    assert_eq!(engine.forget(&by_category).unwrap(), 2);
    let by_kind = ForgetRequest { kinds: vec![EventKind::Purchase], ..Default::default() };
    assert_eq!(engine.forget(&by_kind).unwrap(), 1);
    let by_time = ForgetRequest { from_ms: Some(NOW - 250 * 60_000), until_ms: Some(NOW), ..Default::default() };
    assert_eq!(engine.forget(&by_time).unwrap(), 1);
    assert_eq!(ids(&engine), vec![item_id(0, 1)]);
    assert!(matches!(engine.forget(&ForgetRequest::default()), Err(Error::InvalidRequest(_))), "an empty request forgets nothing");
    let combined = ForgetRequest { item_ids: vec![item_id(0, 1)], kinds: vec![EventKind::Purchase], ..Default::default() };
    assert_eq!(engine.forget(&combined).unwrap(), 0, "criteria combine with AND");
}

#[test]
fn forget_by_category_needs_a_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    let r = engine.forget(&ForgetRequest { categories: vec!["tea".into()], ..Default::default() });
    assert!(matches!(r, Err(Error::NoCatalog)));
}

fn open_with(dir: &std::path::Path, retention: Retention, granularity: Option<i64>) -> Engine {
    let mut config = EngineConfig::new(dir, vec![trusted_key()]);
    config.retention = retention;
    config.timestamp_granularity_ms = granularity;
    let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32]))).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&signed_pack(1)).unwrap();
    engine
}

#[test]
fn events_past_the_age_limit_are_deleted_on_append_and_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let now = mizan::engine::now_ms();
    let day = 24 * HOUR;
    let no_limit = Retention { max_age_days: None, max_log_bytes: None };
    let engine = open_with(dir.path(), no_limit, None);
    engine.record(&[Event::new(EventKind::View, "old", now - 40 * day), Event::new(EventKind::View, "new", now - day)]).unwrap();
    drop(engine);
    let limited = Retention { max_age_days: Some(30), max_log_bytes: None };
    let engine = open_with(dir.path(), limited, None);
    assert_eq!(ids(&engine), vec!["new"], "enforced on open");
    engine.record(&[Event::new(EventKind::View, "older", now - 31 * day)]).unwrap();
    assert_eq!(ids(&engine), vec!["new"], "enforced on append");
}

#[test]
fn the_oldest_events_go_when_the_log_outgrows_its_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 20_000;
    let engine = open_with(dir.path(), Retention { max_age_days: None, max_log_bytes: Some(limit) }, None);
    let now = mizan::engine::now_ms();
    for batch in 0..100 {
        let events: Vec<Event> = (0..10).map(|k| Event::new(EventKind::View, format!("b{batch:03}-{k}"), now - 1_000)).collect();
        engine.record(&events).unwrap();
        assert!(engine.inspect().unwrap().store.log_bytes <= limit, "batch {batch}");
    }
    let kept = ids(&engine);
    assert!(kept.len() > 100 && kept.len() < 1_000);
    assert_eq!(kept.last().unwrap(), "b099-9", "the newest survive");
    let mut sorted = kept.clone();
    sorted.sort();
    assert_eq!(sorted, kept, "what is kept is a suffix of the history");
}

#[test]
fn timestamps_are_coarsened_before_they_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_with(dir.path(), Retention::default(), Some(HOUR));
    let t = mizan::engine::now_ms() - 2 * HOUR;
    engine.record(&[Event::new(EventKind::View, item_id(0, 1), t)]).unwrap();
    let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
    let stored = json["events"][0]["timestamp_ms"].as_i64().unwrap();
    assert_eq!(stored, t - t.rem_euclid(HOUR));
    assert_eq!(engine.inspect().unwrap().policy.timestamp_granularity_ms, Some(HOUR));
}

#[test]
fn key_rotation_re_encrypts_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&history()).unwrap();
    let before = ids(&engine);
    engine.rotate_key(&StaticKey(vec![2; 32])).unwrap();
    assert_eq!(ids(&engine), before);
    engine.record(&[view(&item_id(3, 3), 1)]).unwrap();
    drop(engine);
    assert!(matches!(open(dir.path(), 1), Err(Error::WrongKey)), "the old key is retired");
    let engine = open(dir.path(), 2).unwrap();
    assert_eq!(ids(&engine).len(), before.len() + 1);
    assert_eq!(engine.consents().unwrap().len(), 1, "state was re-encrypted too");
    assert!(matches!(engine.rotate_key(&StaticKey(vec![3; 4])), Err(Error::KeyProvider(_))));
    assert_eq!(ids(&engine).len(), before.len() + 1, "a refused rotation changes nothing");
}

/// Forgetting what matches nothing rewrites nothing and keeps what the online
/// ranker learned; forgetting what matches still does both.
#[test]
fn forgetting_what_matches_nothing_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    let shown: Vec<String> = (2..6).map(|k| item_id(0, k)).collect();
    let feedback = mizan::Feedback { impressions: shown.clone(), clicks: vec![shown[0].clone()], timestamp_ms: Some(NOW), ..Default::default() };
    engine.feedback(&feedback).unwrap();
    let before = engine.inspect().unwrap();
    assert!(before.online_ranker.impressions > 0);
    let none = mizan::ForgetRequest { item_ids: vec!["never-seen".into()], ..Default::default() };
    assert_eq!(engine.forget(&none).unwrap(), 0);
    let after = engine.inspect().unwrap();
    assert_eq!((after.store.generation, after.online_ranker.impressions), (before.store.generation, before.online_ranker.impressions));
    let one = mizan::ForgetRequest { item_ids: vec![item_id(0, 1)], ..Default::default() };
    assert_eq!(engine.forget(&one).unwrap(), 1);
    let forgotten = engine.inspect().unwrap();
    assert!(forgotten.store.generation > before.store.generation);
    assert_eq!(forgotten.online_ranker.impressions, 0, "what the ranker learned cannot be unpicked event by event");
}

/// A backfill reaching past the retention limit says what it kept: events
/// older than the limit are counted as dropped by retention, never written,
/// and the log is not rewritten to delete them.
#[test]
fn a_backfill_past_retention_says_what_it_dropped_and_rewrites_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    let generation = engine.inspect().unwrap().store.generation;
    let now = mizan::engine::now_ms();
    let day = 24 * HOUR;
    let backfill = vec![
        Event::new(EventKind::Purchase, item_id(0, 2), now - 400 * day),
        Event::new(EventKind::Purchase, item_id(0, 3), now - 30 * day),
        Event::new(EventKind::Purchase, item_id(0, 4), now - 366 * day),
    ];
    let outcome = engine.record(&backfill).unwrap();
    assert_eq!((outcome.stored, outcome.dropped_by_retention, outcome.dropped_without_consent), (1, 2, 0));
    let report = engine.inspect().unwrap();
    assert_eq!((report.store.events, report.store.generation), (2, generation), "one more event, no rewrite");
    assert_eq!(ids(&engine), vec![item_id(0, 1), item_id(0, 3)]);
}
