//! The model inspector's snapshot: explanations that add up, why items are
//! not listed, and the privacy of the debug path.

use std::sync::Arc;

use mizan::debug::{DebugSnapshot, Verdict};
use mizan::{DebugOptions, Engine, EngineConfig, Event, EventKind, Feedback, RecommendRequest, StaticKey};
use mizan_integration_tests::*;
use proptest::prelude::*;

fn open_debuggable(dir: &std::path::Path) -> Engine {
    let config = EngineConfig { debug_api: true, ..EngineConfig::new(dir, vec![trusted_key()]) };
    let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32]))).expect("open");
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).expect("consent");
    engine.load_catalog(&signed_pack(1)).expect("pack");
    engine
}

fn at_now(item_ids: &[&str]) -> DebugOptions {
    DebugOptions { now_ms: Some(NOW), item_ids: item_ids.iter().map(|s| s.to_string()).collect(), ..DebugOptions::default() }
}

/// An item's contributions sum to its score, and that score is the one
/// `recommend` gives it at the same moment.
fn assert_adds_up(snapshot: &DebugSnapshot, engine: &Engine) {
    let request = RecommendRequest { k: snapshot.recommendations.len().max(1) as u32, now_ms: Some(snapshot.taken_at_ms), ..RecommendRequest::default() };
    let listed = engine.recommend(&request).expect("recommend").items;
    assert_eq!(listed.len(), snapshot.recommendations.len());
    for (rec, explained) in listed.iter().zip(&snapshot.recommendations) {
        assert_eq!(rec.item_id, explained.item_id, "the snapshot lists what recommend lists");
        assert_eq!(rec.score, explained.score as f32);
        let sum: f64 = explained.contributions.iter().map(|c| c.contribution).sum();
        assert!((sum - explained.score).abs() <= 1e-9 * explained.score.abs().max(1.0), "{} sums to {sum}, scored {}", explained.item_id, explained.score);
        for c in &explained.contributions {
            assert_eq!(c.contribution, c.weight * c.value, "{}", c.signal);
        }
    }
    for named in &snapshot.named_items {
        if let Some(score) = named.score {
            let sum: f64 = named.contributions.iter().map(|c| c.contribution).sum();
            assert!((sum - score).abs() <= 1e-9 * score.abs().max(1.0), "{} sums to {sum}, scored {score}", named.item_id);
        }
    }
}

#[test]
fn a_snapshot_explains_the_list_and_why_named_items_are_not_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_debuggable(dir.path());
    // A garden item past the category's most popular: exploration, whichever
    // category its draw tries, lists that category's most popular item only.
    let (tea0, tea1, tea2, garden5) = (item_id(0, 0), item_id(0, 1), item_id(0, 2), item_id(2, 5));
    let events: Vec<Event> = (0..3).map(|k| view(&item_id(0, k), 30 - k as i64)).chain([Event::new(EventKind::Purchase, &tea0, NOW - 10 * 60_000)]).collect();
    engine.record(&events).unwrap();
    engine.feedback(&Feedback { not_interested: vec![item_id(0, 3)], timestamp_ms: Some(NOW - 60_000), ..Feedback::default() }).unwrap();

    let listed_first = engine.recommend(&RecommendRequest { k: 5, now_ms: Some(NOW), ..RecommendRequest::default() }).unwrap().items[0].item_id.clone();
    let named = [listed_first.as_str(), &tea1, &item_id(0, 3), "no-such-item", &item_id(3, 0), &garden5];
    let snapshot = engine.debug_snapshot(&DebugOptions { top_n: 5, ..at_now(&named) }).unwrap();
    assert_eq!((snapshot.format.as_str(), snapshot.version), ("mizan-debug-snapshot", 1));
    assert_eq!(snapshot.recommendations.len(), 5);
    assert_adds_up(&snapshot, &engine);

    let top = &snapshot.recommendations[0];
    let neighbour = top.contributions.iter().find(|c| c.signal == "neighbour").unwrap();
    assert!(neighbour.contribution > 0.0 && !neighbour.sources.is_empty(), "the history behind the top item is named: {top:?}");
    let history = [&tea0, &tea1, &tea2, &item_id(0, 3)];
    assert!(neighbour.sources.iter().all(|s| history.contains(&&s.id)), "{:?}", neighbour.sources);
    assert_eq!(top.placement.kind, "relevance");

    let verdicts: Vec<&Verdict> = snapshot.named_items.iter().map(|n| &n.verdict).collect();
    assert_eq!(verdicts[0], &Verdict::Listed { position: 1 });
    assert_eq!(verdicts[1], &Verdict::Seen);
    assert_eq!(verdicts[2], &Verdict::NotInterested);
    assert_eq!(verdicts[3], &Verdict::Unknown);
    assert_eq!(verdicts[4], &Verdict::Sensitive);
    assert!(matches!(verdicts[5], Verdict::BelowCut { .. } | Verdict::OutsideCandidates), "{:?}", verdicts[5]);
    assert!(snapshot.named_items[4].score.is_none() && snapshot.named_items[4].contributions.is_empty());

    // Capped items: shown three times today, under a cap of two.
    let shown = snapshot.recommendations[1].item_id.clone();
    for _ in 0..3 {
        engine.feedback(&Feedback { impressions: vec![shown.clone()], timestamp_ms: Some(NOW - 1), ..Feedback::default() }).unwrap();
    }
    let capped = engine.debug_snapshot(&DebugOptions { max_impressions_per_item_per_day: Some(2), ..at_now(&[&shown]) }).unwrap();
    assert_eq!(capped.named_items[0].verdict, Verdict::Capped);
    assert!(capped.recommendations.iter().all(|r| r.item_id != shown));

    assert_eq!(snapshot.weights.len(), mizan::catalog::WEIGHT_NAMES.len(), "every ranker weight, pack and in force");
    assert_eq!(snapshot.engagement.by_hour_of_week.len(), 168);
    assert_eq!(snapshot.engagement.quiet_hours_of_week.len(), 7 * 10, "22:00-08:00 every day");
    assert!(snapshot.interests.categories.iter().any(|c| c.name == "tea"));
    assert!(snapshot.inspect.store.events >= 4);

    let json = snapshot.to_json();
    let parsed: DebugSnapshot = serde_json::from_str(&json).expect("the JSON reads back");
    assert_eq!(parsed, snapshot);
}

#[test]
fn the_debug_api_refuses_unless_the_host_enables_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    assert!(matches!(engine.debug_snapshot(&DebugOptions::default()), Err(mizan::Error::DebugDisabled)));
    drop(engine);

    let ffi = mizan_ffi::Engine::open(ffi_config(dir.path()), Arc::new(TestKey)).unwrap();
    let options = mizan_ffi::DebugOptions {
        top_n: 10,
        item_ids: vec![],
        include_raw_events: false,
        now_ms: None,
        utc_offset_minutes: 0,
        max_impressions_per_item_per_day: None,
        max_impressions_per_category_per_day: None,
    };
    assert!(matches!(ffi.debug_snapshot(options.clone()), Err(mizan_ffi::MizanError::DebugDisabled { .. })));
    drop(ffi);
    let enabled = mizan_ffi::Engine::open(mizan_ffi::EngineConfig { debug_api: true, ..ffi_config(dir.path()) }, Arc::new(TestKey)).unwrap();
    let json = enabled.debug_snapshot(options.clone()).unwrap();
    assert!(json.contains("\"format\": \"mizan-debug-snapshot\""));
    let bad = mizan_ffi::DebugOptions { top_n: 0, ..options };
    assert!(matches!(enabled.debug_snapshot(bad), Err(mizan_ffi::MizanError::InvalidInput { .. })));
}

struct TestKey;

impl mizan_ffi::KeyProvider for TestKey {
    fn key_material(&self) -> Result<Vec<u8>, mizan_ffi::KeyProviderError> {
        Ok(vec![1; 32])
    }
}

/// By default a snapshot holds aggregates: no event's timestamp, no query
/// words; sensitive items and categories never appear, even with consent to
/// sensitive profiling and with raw events asked for.
#[test]
fn a_snapshot_holds_no_event_level_data_by_default_and_never_anything_sensitive() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_debuggable(dir.path());
    engine.set_consent(mizan::SEARCH_TERMS, true, "v1", false).unwrap();
    engine.set_consent(mizan::SENSITIVE_PROFILING, true, "v1", false).unwrap();
    let sensitive: Vec<String> = (0..PER_CATEGORY).map(|k| item_id(3, k)).collect();
    let mut events: Vec<Event> = sensitive.iter().map(|id| Event::new(EventKind::Purchase, id, NOW - 3_600_000)).collect();
    events.extend((0..4).map(|k| view(&item_id(1, k), 50 - k as i64)));
    let mut search = Event::new(EventKind::Search, "", NOW - 5 * 60_000);
    search.query = Some("quinine tonic zebra".into());
    events.push(search);
    events.push(Event::new(EventKind::SessionStart, "", NOW - 7 * 60_000));
    engine.record(&events).unwrap();

    let named: Vec<&str> = vec![&sensitive[0]];
    let default = engine.debug_snapshot(&at_now(&named)).unwrap();
    let json = default.to_json();
    assert!(default.raw_events.is_none());
    // The store's oldest and newest event times are store facts (as in
    // inspect()); no other event's time may appear.
    let (oldest, newest) = (events.iter().map(|e| e.timestamp_ms).min().unwrap(), events.iter().map(|e| e.timestamp_ms).max().unwrap());
    for stamp in events.iter().map(|e| e.timestamp_ms).filter(|&t| t != oldest && t != newest) {
        assert!(!json.contains(&stamp.to_string()), "an event time is in the default snapshot");
    }
    for word in ["quinine", "tonic", "zebra"] {
        assert!(!json.contains(word), "a query word is in the default snapshot");
    }
    let named_only_as_asked = json.matches(sensitive[0].as_str()).count();
    assert_eq!(named_only_as_asked, 1, "a sensitive item appears only as the id the developer asked about");
    assert_eq!(default.named_items[0].verdict, Verdict::Sensitive);
    for id in &sensitive[1..] {
        assert!(!json.contains(id.as_str()), "sensitive item {id} in the snapshot");
    }
    assert!(!json.contains("\"pharmacy\""), "a sensitive category in the snapshot");

    let raw = engine.debug_snapshot(&DebugOptions { include_raw_events: true, ..at_now(&[]) }).unwrap();
    let events_out = raw.raw_events.as_ref().expect("asked for");
    assert_eq!(events_out.sensitive_left_out, u64::from(PER_CATEGORY));
    assert_eq!(events_out.events.len(), events.len() - PER_CATEGORY as usize);
    let raw_json = raw.to_json();
    assert!(raw_json.contains("quinine"), "raw events carry the query words kept with consent");
    assert!(!raw_json.contains("\"pharmacy\"") && sensitive.iter().all(|id| !raw_json.contains(id.as_str())));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Over random histories (views, purchases, ratings, dismissals across the
    /// catalogue, at random times), every listed and named item's contributions
    /// sum to its score, which is the score `recommend` gives it.
    #[test]
    fn explanations_add_up_over_random_histories(
        history in prop::collection::vec((0usize..4, 0u32..PER_CATEGORY, 0usize..4, 1i64..20_000), 1..40),
        named in prop::collection::vec((0usize..3, 0u32..PER_CATEGORY), 0..5),
        impressions in prop::collection::vec((0usize..3, 0u32..PER_CATEGORY, any::<bool>()), 0..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let engine = open_debuggable(dir.path());
        let kinds = [EventKind::View, EventKind::Purchase, EventKind::Rating, EventKind::Dismiss];
        let events: Vec<Event> = history
            .iter()
            .map(|&(c, k, kind, minutes)| {
                let mut e = Event::new(kinds[kind], item_id(c, k), NOW - minutes * 60_000);
                e.rating = (kinds[kind] == EventKind::Rating).then_some(f64::from(k % 6));
                e
            })
            .collect();
        engine.record(&events).unwrap();
        let shown: Vec<String> = impressions.iter().map(|&(c, k, _)| item_id(c, k)).collect();
        let clicks: Vec<String> = impressions.iter().filter(|i| i.2).map(|&(c, k, _)| item_id(c, k)).collect();
        engine.feedback(&Feedback { impressions: shown, clicks, timestamp_ms: Some(NOW - 1), ..Feedback::default() }).unwrap();
        let named: Vec<String> = named.iter().map(|&(c, k)| item_id(c, k)).collect();
        let named: Vec<&str> = named.iter().map(String::as_str).collect();
        let snapshot = engine.debug_snapshot(&DebugOptions { top_n: 8, ..at_now(&named) }).unwrap();
        assert_adds_up(&snapshot, &engine);
    }
}
