//! "Buy it again" through the public API: repeat purchases are scored by the
//! person's own rhythm, listed with their reason, asked for as a list of their
//! own, kept out of reach without consent and for sensitive items, and a short
//! list always says why.

use mizan::catalog::{CatalogPack, Category, Item, NeighbourList, PackMeta, RankerWeights, SensitiveCategory};
use mizan::{Event, EventKind, ReasonKind, RecommendMode, RecommendRequest, Recommendations, ShortfallReason, PERSONALISATION, SENSITIVE_PROFILING};
use mizan_integration_tests::*;

const DAY: i64 = 86_400_000;

/// A grocery shop: staples (tagged repeatable or known to the pack as re-bought),
/// a kettle bought once, a pharmacy item, and twenty things never bought.
fn grocery_pack() -> Vec<u8> {
    let item = |id: &str, category: u32, tags: &[&str]| Item {
        id: id.into(),
        title: id.to_uppercase(),
        categories: vec![category],
        tags: tags.iter().map(|t| t.to_string()).collect(),
        sensitive: None,
        available_from_ms: None,
        available_until_ms: None,
    };
    let mut items = vec![
        item("milk", 0, &["repeatable"]),
        item("bread", 0, &["repeatable"]),
        item("coffee", 0, &["repeatable"]),
        item("kettle", 1, &[]),
        item("painkillers", 2, &["repeatable"]),
    ];
    items.extend((0..20).map(|k| item(&format!("snack-{k}"), 0, &[])));
    let n = items.len();
    CatalogPack {
        meta: PackMeta { pack_version: 1, built_at_ms: 0, source: "t".into(), coverage: None },
        categories: vec![
            Category { name: "groceries".into(), sensitive: None },
            Category { name: "kitchen".into(), sensitive: None },
            Category { name: "pharmacy".into(), sensitive: Some(SensitiveCategory::Health) },
        ],
        items,
        neighbours: vec![NeighbourList::default(); n],
        transitions: vec![NeighbourList::default(); n],
        popularity: (0..n).map(|i| 1_000 + i as u16).collect(),
        trend: vec![0; n],
        trend_as_of_ms: 0,
        embeddings: None,
        network: None,
        // People buy coffee again every ten days.
        repurchase_hours: (0..n).map(|i| if i == 2 { 240 } else { 0 }).collect(),
        default_weights: RankerWeights::default(),
    }
    .sign(&signer())
}

fn purchase(id: &str, t: i64) -> Event {
    Event::new(EventKind::Purchase, id, t)
}

/// A weekly shopper: milk every week for a month (last six days before `NOW`),
/// bread twice, coffee once (eight days ago), the kettle once, painkillers weekly.
fn shopper(dir: &std::path::Path) -> mizan::Engine {
    let engine = open(dir, 1).unwrap();
    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&grocery_pack()).unwrap();
    let mut events: Vec<Event> = (0..4).map(|w| purchase("milk", NOW - 6 * DAY - w * 7 * DAY)).collect();
    events.extend([purchase("bread", NOW - 6 * DAY), purchase("bread", NOW - 20 * DAY), purchase("coffee", NOW - 8 * DAY), purchase("kettle", NOW - 6 * DAY)]);
    events.extend((0..4).map(|w| purchase("painkillers", NOW - 6 * DAY - w * 7 * DAY)));
    engine.record(&events).unwrap();
    engine
}

fn request(mode: RecommendMode) -> RecommendRequest {
    RecommendRequest { k: 10, now_ms: Some(NOW), diversity: 0.0, exploration: 0.0, mode, ..Default::default() }
}

fn ids(recs: &Recommendations) -> Vec<&str> {
    recs.items.iter().map(|r| r.item_id.as_str()).collect()
}

fn buy_again_reason(recs: &Recommendations, id: &str) -> Option<String> {
    let item = recs.items.iter().find(|r| r.item_id == id)?;
    item.reasons.iter().find(|r| r.kind == ReasonKind::BuyAgain).map(|r| r.text.clone())
}

#[test]
fn a_weekly_staple_leads_the_list_with_the_rhythm_as_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = shopper(dir.path());
    let mixed = engine.recommend(&request(RecommendMode::Mixed)).unwrap();
    assert_eq!(ids(&mixed)[0], "milk", "{:?}", ids(&mixed));
    assert_eq!(mixed.items[0].reasons[0].kind, ReasonKind::BuyAgain);
    assert_eq!(mixed.items[0].reasons[0].text, "You usually buy this every 7 days — last bought 6 days ago");
    assert_eq!(buy_again_reason(&mixed, "coffee").as_deref(), Some("You bought this 8 days ago — people usually buy it again every 10 days"));
    assert!(!ids(&mixed).contains(&"kettle"), "a one-off stays hidden");
    assert!(mixed.shortfall.is_none());
    let explained = engine.explain("milk", Some(NOW)).unwrap();
    assert_eq!(explained.reasons[0].text, mixed.items[0].reasons[0].text, "explain shows the same part and reason");
    assert!(engine.inspect().unwrap().due_items.iter().any(|w| w.name == "milk"));

    let discover = engine.recommend(&request(RecommendMode::Discover)).unwrap();
    assert!(discover.items.iter().all(|r| r.reasons.iter().all(|x| x.kind != ReasonKind::BuyAgain)), "discovery does not count due-ness");
    assert_ne!(ids(&discover)[0], "milk");
    assert_eq!(engine.recommend(&RecommendRequest { mode: RecommendMode::default(), ..request(RecommendMode::Mixed) }).unwrap(), mixed);
}

#[test]
fn buy_again_lists_only_what_was_bought_most_due_first_and_says_why_it_is_short() {
    let dir = tempfile::tempdir().unwrap();
    let engine = shopper(dir.path());
    let again = engine.recommend(&request(RecommendMode::BuyAgain)).unwrap();
    assert_eq!(ids(&again)[0], "milk");
    let mut listed = ids(&again);
    listed.sort_unstable();
    assert_eq!(listed, vec!["bread", "coffee", "kettle", "milk"], "everything bought (a one-off too), nothing else, no pharmacy");
    assert!(again.items.iter().all(|r| r.reasons[0].kind == ReasonKind::BuyAgain));
    let short = again.shortfall.unwrap();
    assert_eq!((short.missing, short.reason), (6, ShortfallReason::FewerPurchases));
    // Once milk is bought again today, it is no longer due.
    engine.record(&[purchase("milk", NOW - 60_000)]).unwrap();
    assert_ne!(ids(&engine.recommend(&request(RecommendMode::BuyAgain)).unwrap())[0], "milk");
}

#[test]
fn sensitive_purchases_drive_nothing_without_their_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let engine = shopper(dir.path());
    for mode in [RecommendMode::Mixed, RecommendMode::BuyAgain] {
        let recs = engine.recommend(&request(mode)).unwrap();
        assert!(!ids(&recs).contains(&"painkillers"), "{mode:?}");
    }
    engine.set_consent(SENSITIVE_PROFILING, true, "v1", false).unwrap();
    let recs = engine.recommend(&request(RecommendMode::BuyAgain)).unwrap();
    assert!(buy_again_reason(&recs, "painkillers").is_some(), "with the purpose granted, the person's own rhythm counts");
}

#[test]
fn without_consent_buy_again_is_empty_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let engine = shopper(dir.path());
    engine.set_consent(PERSONALISATION, false, "v1", false).unwrap();
    let recs = engine.recommend(&request(RecommendMode::BuyAgain)).unwrap();
    assert!(recs.items.is_empty());
    let short = recs.shortfall.unwrap();
    assert_eq!((short.missing, short.reason), (10, ShortfallReason::NoConsent));
}

#[test]
fn a_list_is_short_only_when_the_catalogue_is_and_then_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let engine = shopper(dir.path());
    let all = engine.recommend(&RecommendRequest { k: 40, exploration: 0.1, ..request(RecommendMode::Mixed) }).unwrap();
    // 25 items, of which the kettle (bought once, not repeatable) is hidden.
    assert_eq!(all.items.len(), 24);
    let short = all.shortfall.unwrap();
    assert_eq!((short.missing, short.reason), (16, ShortfallReason::FewerEligibleItems));
    let full = engine.recommend(&RecommendRequest { k: 24, ..request(RecommendMode::Mixed) }).unwrap();
    assert_eq!((full.items.len(), full.shortfall), (24, None));
}

#[test]
fn the_rhythm_survives_a_restart_and_goes_with_erasure() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let engine = shopper(dir.path());
        let recs = engine.recommend(&request(RecommendMode::BuyAgain)).unwrap();
        engine.close().unwrap();
        recs
    };
    let engine = open(dir.path(), 1).unwrap();
    assert_eq!(engine.recommend(&request(RecommendMode::BuyAgain)).unwrap(), before);
    let export = engine.export_user_data().unwrap();
    assert!(
        export.contains("\"rhythm\":{\"times\":[") && export.contains("\"repurchase\":[{\"item\":"),
        "the export holds the order times and how due each item is: {export}"
    );
    engine.forget(&mizan::ForgetRequest { item_ids: vec!["milk".into()], ..Default::default() }).unwrap();
    assert!(!ids(&engine.recommend(&request(RecommendMode::BuyAgain)).unwrap()).contains(&"milk"));
}
