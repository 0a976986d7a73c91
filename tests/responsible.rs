//! Responsible personalisation through the public API: best time to engage,
//! exploration, novelty, caps, decaying "not interested", purposes, what is
//! popular now for people coming back.

use mizan::{BestTimeRequest, Event, EventKind, QuietHours};
use mizan_integration_tests::*;

const HOUR: i64 = 3_600_000;

#[test]
fn best_time_follows_notification_opens_and_respects_quiet_hours() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let now = mizan::engine::now_ms();
    let today = now - now.rem_euclid(24 * HOUR);
    let request = BestTimeRequest { now_ms: Some(now), quiet_hours: None, ..Default::default() };
    assert!(engine.best_time(&request).unwrap().fallback, "no data yet");
    // Opens at 18:00 UTC over the last two weeks, and a few stray sessions.
    let mut events: Vec<Event> = (1..15).map(|d| Event::new(EventKind::NotificationOpen, "", today - d * 24 * HOUR + 18 * HOUR + 60_000)).collect();
    events.extend((1..4).map(|d| Event::new(EventKind::SessionStart, "", today - d * 24 * HOUR + 9 * HOUR)));
    engine.record(&events).unwrap();
    let t = engine.best_time(&request).unwrap();
    assert!(!t.fallback);
    assert_eq!(t.local_hour, 18);
    assert!(t.at_ms > now && t.at_ms - now <= 7 * 24 * HOUR, "an 18:00 within the week");
    assert!(t.confidence > 0.4, "{t:?}");
    let quiet = BestTimeRequest { quiet_hours: Some(QuietHours { start_hour: 17, end_hour: 20 }), ..request.clone() };
    let t = engine.best_time(&quiet).unwrap();
    assert!(!(17..20).contains(&t.local_hour), "{t:?}");
    engine.set_consent(mizan::PERSONALISATION, false, "v1", false).unwrap();
    assert!(engine.best_time(&request).unwrap().fallback, "no consent, no timing profile");
}

#[test]
fn session_starts_carry_no_item_and_notification_opens_may() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let mut bad = Event::new(EventKind::SessionStart, item_id(0, 1), NOW);
    bad.timestamp_ms = mizan::engine::now_ms();
    assert!(engine.record(&[bad]).is_err());
    let ok = [Event::new(EventKind::NotificationOpen, item_id(0, 1), NOW), Event::new(EventKind::NotificationOpen, "", NOW)];
    assert_eq!(engine.record(&ok).unwrap().stored, 2);
}

fn request() -> mizan::RecommendRequest {
    mizan::RecommendRequest { k: 10, now_ms: Some(NOW), diversity: 0.0, exploration: 0.0, ..Default::default() }
}

fn ids(recs: &mizan::Recommendations) -> Vec<String> {
    recs.items.iter().map(|r| r.item_id.clone()).collect()
}

/// Someone back after two weeks is shown what is popular now (and told so);
/// someone mid-session is shown what follows from what they just did; someone
/// new, or who has not consented, starts from what is popular now.
#[test]
fn what_is_popular_now_counts_for_people_coming_back_not_mid_session() {
    const DAY: i64 = 86_400_000;
    let (new_hit, old_hit) = ("books-7", "garden-0");
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.load_catalog(&signed_trend_pack()).unwrap();
    let first = |engine: &mizan::Engine, now: i64| engine.recommend(&mizan::RecommendRequest { now_ms: Some(now), ..request() }).unwrap();
    let before_consent = first(&engine, NOW);
    assert!(!before_consent.personalised);
    assert_eq!(before_consent.items[0].item_id, new_hit, "what is popular now leads, not {old_hit}, the most popular overall");
    assert_eq!(before_consent.items[0].reasons[0].kind, mizan::ReasonKind::Trending);
    assert_eq!(before_consent.items[0].reasons[0].text, "Trending in books");
    let before_the_trend = first(&engine, NOW - 3 * DAY);
    assert_eq!(before_the_trend.items[0].item_id, old_hit, "a request dated before the pack's trend gets none of it");

    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    assert_eq!(first(&engine, NOW).items[0].item_id, new_hit, "a new person too");
    assert_eq!(engine.inspect().unwrap().trend_share, 1.0, "the debug API shows the trend in full force");
    let last_view = NOW - 14 * DAY;
    let tea: Vec<Event> = (1..4).map(|k| Event::new(EventKind::View, item_id(0, k), last_view - (4 - i64::from(k)) * 60_000)).collect();
    engine.record(&tea).unwrap();

    let mid_session = first(&engine, last_view + 60_000);
    let place_in = |recs: &mizan::Recommendations, id: &str| recs.items.iter().position(|r| r.item_id == id).unwrap_or(recs.items.len());
    let top: Vec<&str> = mid_session.items.iter().take(5).map(|r| r.item_id.as_str()).collect();
    assert!(top.iter().all(|id| id.starts_with("tea-")), "a minute later the session's own thread leads: {top:?}");

    let back = first(&engine, NOW);
    let beyond_their_thread = |recs: &mizan::Recommendations| recs.items.iter().find(|r| !r.item_id.starts_with("tea-")).map(|r| r.item_id.clone());
    assert_eq!(beyond_their_thread(&mid_session).as_deref(), Some(old_hit), "mid-session, past their own thread, the all-time hit");
    assert_eq!(beyond_their_thread(&back).as_deref(), Some(new_hit), "back after two weeks, what is popular now: {:?}", ids(&back));
    let place = place_in(&back, new_hit);
    assert!(place < place_in(&mid_session, new_hit) && place < place_in(&back, old_hit));
    let reasons = &back.items[place].reasons;
    assert!(reasons.iter().any(|r| r.kind == mizan::ReasonKind::Trending && r.contribution > 0.0), "{reasons:?}");
    assert!(back.items.iter().any(|r| r.item_id.starts_with("tea-")), "their own taste stays in the list");
    engine.record(&[Event::new(EventKind::View, item_id(0, 5), mizan::engine::now_ms())]).unwrap();
    assert!(engine.inspect().unwrap().trend_share < 0.01, "and hardly in force right after an event");
}

#[test]
fn exploration_adds_labelled_items_from_new_categories_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&(0..5).map(|k| view(&item_id(1, k), 20)).collect::<Vec<_>>()).unwrap();
    let explore = mizan::RecommendRequest { exploration: 0.2, seed: Some(3), ..request() };
    let recs = engine.recommend(&explore).unwrap();
    let explored: Vec<_> = recs.items.iter().filter(|r| r.reasons[0].kind == mizan::ReasonKind::Exploration).collect();
    assert_eq!(explored.len(), 2);
    for r in &explored {
        assert!(!r.item_id.starts_with("books-") && !r.item_id.starts_with("pharmacy-"), "{}", r.item_id);
        assert!(r.reasons[0].text.starts_with("Something different to explore"));
    }
    assert_eq!(ids(&engine.recommend(&explore).unwrap()), ids(&recs), "same seed, same list");
    let plain = engine.recommend(&request()).unwrap();
    assert!(plain.items.iter().all(|r| r.reasons[0].kind != mizan::ReasonKind::Exploration));
}

#[test]
fn frequency_caps_hide_items_and_categories_shown_enough_today() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let now = mizan::engine::now_ms();
    let req = mizan::RecommendRequest { now_ms: Some(now), ..request() };
    let first = engine.recommend(&req).unwrap();
    let shown = first.items[0].item_id.clone();
    let feedback = mizan::Feedback { impressions: vec![shown.clone(); 3], timestamp_ms: Some(now), ..Default::default() };
    engine.feedback(&feedback).unwrap();
    let capped = mizan::RecommendRequest { max_impressions_per_item_per_day: Some(3), ..req.clone() };
    assert!(ids(&engine.recommend(&capped).unwrap()).iter().all(|id| *id != shown));
    assert!(ids(&engine.recommend(&mizan::RecommendRequest { max_impressions_per_item_per_day: Some(4), ..req.clone() }).unwrap()).contains(&shown));
    let category = shown.split('-').next().unwrap().to_string();
    let per_category = mizan::RecommendRequest { k: 40, max_impressions_per_category_per_day: Some(3), ..req.clone() };
    assert!(ids(&engine.recommend(&per_category).unwrap()).iter().all(|id| !id.starts_with(&category)));
    let tomorrow = mizan::RecommendRequest { now_ms: Some(now + 24 * HOUR), ..capped };
    assert!(ids(&engine.recommend(&tomorrow).unwrap()).contains(&shown), "caps are per day");
}

#[test]
fn not_interested_hides_then_fades_and_keeps_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let now = mizan::engine::now_ms();
    let all = |at: i64| ids(&engine.recommend(&mizan::RecommendRequest { k: 40, include_seen: true, now_ms: Some(at), ..request() }).unwrap());
    let target = all(now)[0].clone();
    let feedback = mizan::Feedback {
        not_interested: vec![target.clone()],
        not_interested_categories: vec!["garden".into()],
        reason: Some(mizan::NotInterestedReason::TooOften),
        timestamp_ms: Some(now),
        ..Default::default()
    };
    engine.feedback(&feedback).unwrap();
    let hidden = all(now + HOUR);
    assert!(!hidden.contains(&target));
    assert!(hidden.iter().all(|id| !id.starts_with("garden-")), "the category is hidden too");
    let later = all(now + 200 * 24 * HOUR);
    assert!(later.contains(&target), "after the fading period the item can come back");
    assert!(engine.export_user_data().unwrap().contains("too_often"));
}

#[test]
fn repeatable_items_stay_recommendable_after_purchase() {
    use mizan::catalog::{CatalogPack, Category, Item, NeighbourList, PackMeta, RankerWeights};
    let item = |id: &str, tags: Vec<String>| Item {
        id: id.into(),
        title: id.into(),
        categories: vec![0],
        tags,
        sensitive: None,
        available_from_ms: None,
        available_until_ms: None,
    };
    let pack = CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "t".into(), coverage: None },
        categories: vec![Category { name: "groceries".into(), sensitive: None }],
        items: vec![item("milk", vec!["repeatable".into()]), item("kettle", vec![])],
        neighbours: vec![NeighbourList::default(); 2],
        transitions: vec![NeighbourList::default(); 2],
        popularity: vec![100, 100],
        trend: vec![0, 0],
        trend_as_of_ms: 0,
        embeddings: None,
        network: None,
        repurchase_hours: Vec::new(),
        default_weights: RankerWeights::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&pack.sign(&signer())).unwrap();
    engine.record(&[Event::new(EventKind::Purchase, "milk", NOW - HOUR), Event::new(EventKind::Purchase, "kettle", NOW - HOUR)]).unwrap();
    assert_eq!(ids(&engine.recommend(&request()).unwrap()), vec!["milk"]);
}

#[test]
fn search_words_are_hashed_unless_a_purpose_allows_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let search = |q: &str| Event { query: Some(q.into()), ..Event::new(EventKind::Search, "", mizan::engine::now_ms() - 1000) };
    engine.record(&[search("books about gardens")]).unwrap();
    let export = engine.export_user_data().unwrap();
    assert!(!export.contains("gardens") && !export.contains("about"), "plain words stored without the purpose: {export}");
    let report = engine.inspect().unwrap();
    assert_eq!(report.top_categories[0].name, "books", "hashed words still match category names");
    engine.set_consent(mizan::SEARCH_TERMS, true, "v1", false).unwrap();
    engine.record(&[search("tulips")]).unwrap();
    assert!(engine.export_user_data().unwrap().contains("tulips"));
}

#[test]
fn sensitive_categories_shape_the_profile_only_with_their_purpose_and_are_never_cited() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&(0..6).map(|k| view(&item_id(3, k), 30)).collect::<Vec<_>>()).unwrap();
    let report = engine.inspect().unwrap();
    assert!(report.top_categories.iter().all(|c| c.name != "pharmacy"));
    assert_eq!(report.sensitive_items_ignored, 6);
    engine.set_consent(mizan::SENSITIVE_PROFILING, true, "v1", false).unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!(report.sensitive_items_ignored, 0, "the purpose lets them into the profile");
    // ...but debug output never names them, consent or not.
    assert!(report.top_items.iter().all(|w| !w.name.starts_with("pharmacy-")) && report.top_categories.iter().all(|c| c.name != "pharmacy"));
    let recs = engine.recommend(&mizan::RecommendRequest { k: 40, ..request() }).unwrap();
    for reason in recs.items.iter().flat_map(|r| &r.reasons) {
        assert!(!reason.text.contains("pharmacy") && reason.source_item_id.as_deref().is_none_or(|s| !s.starts_with("pharmacy")), "{}", reason.text);
    }
}

/// A pack of one film the person watched ("seed"), ten obscure films similar to
/// it ("near-*") and ten popular films unrelated to anything ("hit-*").
fn seed_near_hit_pack() -> Vec<u8> {
    use mizan::catalog::{CatalogPack, Category, Item, NeighbourList, PackMeta, RankerWeights};
    let ids: Vec<String> = std::iter::once("seed".to_string())
        .chain((0..10).map(|k| format!("near-{k}")))
        .chain((0..10).map(|k| format!("hit-{k}")))
        .collect();
    let item = |id: &String| Item {
        id: id.clone(),
        title: id.clone(),
        categories: vec![0],
        tags: vec![],
        sensitive: None,
        available_from_ms: None,
        available_until_ms: None,
    };
    let mut neighbours = vec![NeighbourList::default(); ids.len()];
    neighbours[0] = NeighbourList::quantise(&(1..=10).map(|i| (i as u32, 1.0 - i as f32 / 20.0)).collect::<Vec<_>>());
    let popularity = ids.iter().map(|id| if id.starts_with("hit-") { 20_000 } else { 500 }).collect();
    CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "t".into(), coverage: None },
        categories: vec![Category { name: "films".into(), sensitive: None }],
        items: ids.iter().map(item).collect(),
        neighbours,
        transitions: vec![NeighbourList::default(); ids.len()],
        popularity,
        trend: vec![0; ids.len()],
        trend_as_of_ms: 0,
        embeddings: None,
        network: None,
        repurchase_hours: Vec::new(),
        default_weights: RankerWeights::default(),
    }
    .sign(&signer())
}

/// A person shown films similar to what they watched beside popular ones, who
/// always opens a popular one: the online ranker learns to weigh popularity up
/// and similarity down, so popular films climb. A twin engine that records the
/// same openings as plain views keeps the pack's order, and what was learned
/// survives a restart.
#[test]
fn clicks_teach_the_ranker_which_signals_this_person_follows() {
    let (dir, twin_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let engines = [open(dir.path(), 1).unwrap(), open(twin_dir.path(), 1).unwrap()];
    for engine in &engines {
        engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
        engine.load_catalog(&seed_near_hit_pack()).unwrap();
        engine.record(&[Event::new(EventKind::View, "seed", NOW - HOUR)]).unwrap();
    }
    let [engine, twin] = engines;
    let fresh = engine.inspect().unwrap();
    assert_eq!(fresh.online_ranker.impressions, 0);
    assert!(fresh.online_ranker.adjustments.values().all(|&a| a == 0.0), "a fresh ranker keeps the pack's weights");
    assert_eq!(fresh.ranker_weights.as_ref(), Some(&fresh.catalog.as_ref().unwrap().weights));
    for round in 0..40u32 {
        let at = NOW - HOUR + 1000 + i64::from(round);
        let clicked = format!("hit-{}", round % 5);
        let shown = vec![format!("near-{}", round % 10), format!("near-{}", (round + 3) % 10), clicked.clone()];
        engine.feedback(&mizan::Feedback { impressions: shown, clicks: vec![clicked.clone()], timestamp_ms: Some(at), ..Default::default() }).unwrap();
        twin.record(&[Event::new(EventKind::View, clicked, at)]).unwrap();
    }
    let hits = |recs: &mizan::Recommendations| ids(recs).iter().filter(|id| id.starts_with("hit-")).count();
    let (learned_recs, twin_recs) = (engine.recommend(&request()).unwrap(), twin.recommend(&request()).unwrap());
    assert_eq!(hits(&twin_recs), 0, "the same views alone keep similar films first: {:?}", ids(&twin_recs));
    assert_eq!(hits(&learned_recs), 5, "the five popular films not yet seen climb: {:?}", ids(&learned_recs));
    let learned = engine.inspect().unwrap();
    assert_eq!(learned.online_ranker.impressions, 120);
    let a = &learned.online_ranker.adjustments;
    assert!(a["popularity"] > 0.0 && a["neighbour"] < 0.0, "{a:?}");
    assert_eq!(twin.inspect().unwrap().online_ranker.impressions, 0, "views alone teach the ranker nothing");
    engine.close().unwrap();
    let reopened = open(dir.path(), 1).unwrap();
    assert_eq!(reopened.inspect().unwrap().online_ranker, learned.online_ranker);
    assert_eq!(ids(&reopened.recommend(&request()).unwrap()), ids(&learned_recs));
}

/// Clicks can switch a signal off and later earn it its weight back.
#[test]
fn a_signal_the_clicks_switched_off_can_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&seed_near_hit_pack()).unwrap();
    engine.record(&[Event::new(EventKind::View, "seed", NOW - HOUR)]).unwrap();
    let screen = |round: u32, click_near: bool| {
        let (near, hit) = (format!("near-{}", round % 10), format!("hit-{}", round % 10));
        let clicked = if click_near { near.clone() } else { hit.clone() };
        let feedback = mizan::Feedback { impressions: vec![near, hit], clicks: vec![clicked], timestamp_ms: Some(NOW - HOUR + 1000 + i64::from(round)), ..Default::default() };
        engine.feedback(&feedback).unwrap();
    };
    let neighbour_weight = || engine.inspect().unwrap().ranker_weights.unwrap().neighbour;
    (0..200).for_each(|round| screen(round, false));
    assert_eq!(neighbour_weight(), 0.0, "{:?}", engine.inspect().unwrap().online_ranker);
    (200..600).for_each(|round| screen(round, true));
    assert!(neighbour_weight() > 0.0, "{:?}", engine.inspect().unwrap().online_ranker);
}
