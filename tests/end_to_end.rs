//! The whole path through the public API: consent, pack, record, recommend,
//! feedback, explain, inspect, export, reopen, hot swap, erase.

use mizan::{Error, Event, EventKind, Feedback, RecommendRequest, ReasonKind};
use mizan_integration_tests::*;

fn request() -> RecommendRequest {
    RecommendRequest { k: 10, now_ms: Some(NOW), ..RecommendRequest::default() }
}

#[test]
fn history_drives_the_list_and_every_item_has_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let history: Vec<Event> = (0..4).map(|k| view(&item_id(1, k * 2), 60 - k as i64)).collect();
    assert_eq!(engine.record(&history).unwrap().stored, 4);
    let recs = engine.recommend(&RecommendRequest { diversity: 0.0, exploration: 0.0, ..request() }).unwrap();
    assert!(recs.personalised);
    assert_eq!(recs.items.len(), 10);
    let books = recs.items.iter().take(5).filter(|r| r.item_id.starts_with("books-")).count();
    assert_eq!(books, 5, "the top five follow the books history: {:?}", recs.items);
    assert!(recs.items.iter().all(|r| !r.reasons.is_empty()));
    let top = &recs.items[0].reasons[0];
    assert_eq!(top.kind, ReasonKind::RelatedToHistory);
    assert!(top.text.starts_with("Because you viewed books item"), "{}", top.text);
}

/// A sequential pack makes the list follow the walk, in its direction, and the
/// lead item says it usually comes next.
#[test]
fn a_sequential_pack_recommends_what_comes_next() {
    let (recs, report) = after_a_walk(&signed_sequential_pack(), 1);
    assert_eq!(report.catalog.as_ref().map(|c| c.sequence_network_dim), Some(0));
    assert_eq!(recs.items[0].item_id, item_id(1, 7), "{:?}", recs.items);
    let position = |k: u32| recs.items.iter().position(|r| r.item_id == item_id(1, k)).unwrap_or(usize::MAX);
    assert!(position(8) < position(3), "forwards before backwards: {:?}", recs.items);
    let follows_the_last = |r: &mizan::Reason| r.kind == ReasonKind::FollowsRecent && r.source_item_id == Some(item_id(1, 6));
    assert!(recs.items[0].reasons.iter().any(follows_the_last), "{:?}", recs.items[0].reasons);

    // Before consent, the same pack's default weights still order by popularity:
    // every walk passes items 4 to 9, only some walks the items before.
    let other = tempfile::tempdir().unwrap();
    let anonymous = open(other.path(), 1).unwrap();
    anonymous.load_catalog(&signed_sequential_pack()).unwrap();
    let recs = anonymous.recommend(&request()).unwrap();
    assert!(!recs.personalised);
    let walked_by_everyone = |id: &str| id.rsplit('-').next().and_then(|k| k.parse::<u32>().ok()).is_some_and(|k| k >= 4);
    assert!(recs.items[..3].iter().all(|r| walked_by_everyone(&r.item_id)), "{:?}", recs.items);
}

#[test]
fn a_sequence_network_alone_recommends_what_comes_next_and_says_after_what() {
    let (recs, report) = after_a_walk(&signed_network_pack(), 2);
    let catalog = report.catalog.expect("a pack is loaded");
    assert_eq!((catalog.sequence_network_dim, catalog.weights.network), (16, 1.0), "the debug report shows the network");
    assert_eq!(recs.items[0].item_id, item_id(2, 7), "{:?}", recs.items);
    let reason = &recs.items[0].reasons[0];
    assert_eq!(reason.kind, ReasonKind::FollowsRecent, "{:?}", recs.items[0].reasons);
    assert!(reason.source_item_id.as_deref().is_some_and(|s| s.starts_with("garden-")), "{reason:?}");
}

/// The list, with consent and `pack`, after viewing items 4, 5 and 6 of
/// `category` in order, and the debug report.
fn after_a_walk(pack: &[u8], category: usize) -> (mizan::Recommendations, mizan::InspectReport) {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(pack).unwrap();
    let walked: Vec<Event> = (4..7).map(|k| view(&item_id(category, k), 60 - k as i64)).collect();
    engine.record(&walked).unwrap();
    let recs = engine.recommend(&RecommendRequest { diversity: 0.0, exploration: 0.0, ..request() }).unwrap();
    (recs, engine.inspect().unwrap())
}

#[test]
fn diversity_spreads_the_list_across_categories() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&(0..4).map(|k| view(&item_id(0, k), 10)).collect::<Vec<_>>()).unwrap();
    let categories = |diversity| {
        let recs = engine.recommend(&RecommendRequest { k: 6, diversity, exploration: 0.0, ..request() }).unwrap();
        let mut cats: Vec<String> = recs.items.iter().map(|r| r.item_id.split('-').next().unwrap().to_string()).collect();
        cats.sort();
        cats.dedup();
        cats.len()
    };
    assert_eq!(categories(0.0), 1);
    assert!(categories(0.9) >= 3);
}

#[test]
fn reopening_gives_identical_recommendations() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let engine = ready(dir.path());
        engine.record(&[view(&item_id(2, 1), 5), Event::new(EventKind::Purchase, item_id(2, 4), NOW - 60_000)]).unwrap();
        engine.recommend(&request()).unwrap()
    };
    let engine = open(dir.path(), 1).unwrap();
    assert_eq!(engine.recommend(&request()).unwrap(), before);
}

#[test]
fn feedback_counts_impressions_and_clicks_and_honours_not_interested() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 0), 5)]).unwrap();
    let first = engine.recommend(&request()).unwrap();
    let shown: Vec<String> = first.items.iter().map(|r| r.item_id.clone()).collect();
    engine
        .feedback(&Feedback {
            impressions: shown.clone(),
            clicks: vec![shown[1].clone()],
            not_interested: vec![shown[0].clone()],
            timestamp_ms: Some(NOW),
            ..Feedback::default()
        })
        .unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!(report.impressions, 10);
    assert_eq!(report.suppressed_items, 1);
    assert_eq!(report.events_by_kind.get("view"), Some(&2));
    assert_eq!(report.events_by_kind.get("dismiss"), Some(&1));
    let after = engine.recommend(&RecommendRequest { k: 40, include_seen: true, ..request() }).unwrap();
    assert!(after.items.iter().all(|r| r.item_id != shown[0]));
}

#[test]
fn explain_works_for_any_item_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(0, 0), 5)]).unwrap();
    for c in 0..CATEGORIES.len() {
        for k in 0..PER_CATEGORY {
            assert!(!engine.explain(&item_id(c, k), Some(NOW)).unwrap().reasons.is_empty());
        }
    }
    assert!(matches!(engine.explain("nope", Some(NOW)), Err(Error::UnknownItem)));
}

#[test]
fn candidate_lists_are_re_ranked_and_unknown_ids_counted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let candidates = vec![item_id(0, 1), item_id(2, 2), "ghost".to_string()];
    let recs = engine.recommend(&RecommendRequest { candidates: Some(candidates), ..request() }).unwrap();
    assert_eq!(recs.items.len(), 2);
    assert_eq!(recs.unknown_candidates, 1);
}

#[test]
fn a_newer_pack_swaps_in_and_keeps_user_state() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&[view(&item_id(1, 1), 5)]).unwrap();
    assert_eq!(engine.load_catalog(&signed_pack(2)).unwrap().pack_version, 2);
    let report = engine.inspect().unwrap();
    assert_eq!(report.catalog.unwrap().meta.pack_version, 2);
    assert_eq!(report.store.events, 1);
    let mut bad = signed_pack(3);
    bad[20] ^= 1;
    assert!(matches!(engine.load_catalog(&bad), Err(Error::PackRejected(_))));
    assert_eq!(engine.inspect().unwrap().catalog.unwrap().meta.pack_version, 2, "previous pack kept");
}

#[test]
fn after_a_hot_swap_vanished_items_go_and_new_items_come_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.record(&(0..3).map(|k| view(&item_id(1, k), 10)).collect::<Vec<_>>()).unwrap();
    let all = RecommendRequest { k: 40, diversity: 0.0, exploration: 0.0, ..request() };
    let before = engine.recommend(&all).unwrap();
    let favourite = before.items[0].item_id.clone();
    assert!(favourite.starts_with("books-"));

    let newer = signed_pack_changed(2, &[&favourite], &[("books-new", 1)]);
    engine.load_catalog(&newer).unwrap();
    let after = engine.recommend(&all).unwrap();
    assert!(after.items.iter().all(|r| r.item_id != favourite), "a vanished item is still recommended");
    let new_rank = after.items.iter().position(|r| r.item_id == "books-new").expect("the new item is recommended");
    let first_other = after.items.iter().position(|r| !r.item_id.starts_with("books-")).unwrap();
    assert!(new_rank < first_other, "the new item ranks on content (the person's category) at once");
    assert_eq!(engine.inspect().unwrap().store.events, 3, "user state survives the swap");
}

#[test]
fn recommend_without_a_pack_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    assert!(matches!(engine.recommend(&request()), Err(Error::NoCatalog)));
}

/// The profile is kept up to date event by event; reopening rebuilds it from the
/// log. Over a seeded replay of mixed events (repeats, purchases, dismissals,
/// ratings, sensitive and unknown items), forgets and consent changes, both
/// give exactly the same recommendations and explanations at every step, with
/// and without a sequence network (whose softmax sums over the candidates).
#[test]
fn the_profile_kept_event_by_event_ranks_exactly_as_one_rebuilt_from_the_log() {
    for pack in [signed_pack(1), signed_pack_with_network()] {
        ranks_exactly_as_rebuilt(&pack);
    }
}

fn ranks_exactly_as_rebuilt(pack: &[u8]) {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let mut engine = ready(dir.path());
    engine.load_catalog(pack).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let kinds = [EventKind::View, EventKind::View, EventKind::Purchase, EventKind::Dismiss, EventKind::AddToCart];
    let request = RecommendRequest { k: 20, now_ms: Some(NOW), seed: Some(3), ..RecommendRequest::default() };
    for step in 0..12 {
        let batch: Vec<Event> = (0..rng.random_range(1..40))
            .map(|_| {
                let id = match rng.random_range(0..10) {
                    0 => "not-in-the-pack".to_string(),
                    _ => item_id(rng.random_range(0..CATEGORIES.len()), rng.random_range(0..PER_CATEGORY)),
                };
                Event::new(kinds[rng.random_range(0..kinds.len())], id, NOW - rng.random_range(0..30 * 86_400_000))
            })
            .collect();
        engine.record(&batch).unwrap();
        match step % 4 {
            1 => {
                engine.forget(&mizan::ForgetRequest { item_ids: vec![batch[0].item_id.clone()], ..Default::default() }).unwrap();
            }
            2 => engine.set_consent(mizan::SENSITIVE_PROFILING, step % 8 == 2, "v1", false).unwrap(),
            _ => {}
        }
        let kept = engine.recommend(&request).unwrap();
        let explained = engine.explain(&item_id(1, 3), Some(NOW)).unwrap();
        engine.close().unwrap();
        engine = open(dir.path(), 1).unwrap();
        assert_eq!(engine.recommend(&request).unwrap(), kept, "step {step}");
        assert_eq!(engine.explain(&item_id(1, 3), Some(NOW)).unwrap(), explained, "step {step}");
    }
}

/// A pack for part of a catalogue (one section of the shop): events on items
/// outside it are kept in the log, counted as unknown, and never drive the list
/// or its reasons; a later pack that covers them uses them at once.
#[test]
fn events_outside_a_partial_pack_are_kept_and_count_once_a_pack_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let books: Vec<String> = (0..PER_CATEGORY).map(|k| item_id(1, k)).collect();
    let section = signed_pack_changed(2, &books.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    engine.load_catalog(&section).unwrap();
    let mut events: Vec<Event> = books.iter().take(4).enumerate().map(|(k, id)| view(id, 30 + k as i64)).collect();
    events.push(view(&item_id(0, 1), 5));
    engine.record(&events).unwrap();

    let report = engine.inspect().unwrap();
    assert_eq!((report.store.events, report.unknown_items), (5, 4), "kept in the log, unknown to the pack");
    let list = engine.recommend(&request()).unwrap();
    assert!(!list.items.is_empty());
    for r in &list.items {
        assert!(!r.item_id.starts_with("books-"), "{}", r.item_id);
        assert!(r.reasons.iter().all(|reason| !reason.source_item_id.as_deref().unwrap_or("").starts_with("books-")), "{:?}", r.reasons);
    }
    assert!(engine.export_user_data().unwrap().contains(&books[0]), "exported with the rest");

    engine.load_catalog(&signed_pack(3)).unwrap();
    assert_eq!(engine.inspect().unwrap().unknown_items, 0);
    let all = RecommendRequest { k: 10, diversity: 0.0, exploration: 0.0, ..request() };
    let covered = engine.recommend(&all).unwrap();
    assert!(covered.items.iter().take(3).all(|r| r.item_id.starts_with("books-")), "four views of books now lead");
}

/// Issue 20, defect 9 (packs): an older pack after a newer one is a rollback,
/// refused through the API and not used when swapped in on disk; the store's
/// authenticated state remembers the newest version it used.
#[test]
fn an_older_pack_is_refused_after_a_newer_one_even_swapped_in_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    engine.load_catalog(&signed_pack(3)).unwrap();
    let refused = engine.load_catalog(&signed_pack(2));
    assert!(matches!(refused, Err(Error::PackRejected(mizan::PackError::Rollback { offered: 2, used: 3 }))), "{refused:?}");
    engine.load_catalog(&signed_pack(3)).expect("the same version again is no rollback");
    assert_eq!(engine.inspect().unwrap().catalog.unwrap().meta.pack_version, 3);
    engine.close().unwrap();

    std::fs::write(dir.path().join("catalog.pack"), signed_pack(1)).unwrap();
    let reopened = open(dir.path(), 1).unwrap();
    assert!(reopened.inspect().unwrap().catalog.is_none(), "the older pack on disk is not used");
    assert!(matches!(reopened.recommend(&request()), Err(Error::NoCatalog)));
    reopened.load_catalog(&signed_pack(4)).unwrap();
    assert!(!reopened.recommend(&request()).unwrap().items.is_empty());
}
