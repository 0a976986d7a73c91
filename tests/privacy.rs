//! Privacy guarantees, tested: consent gating, encryption at rest, complete
//! export, unrecoverable erasure, sensitive categories, no networking code.

use mizan::{Event, EventKind, Feedback, RecommendRequest, PERSONALISATION};
use mizan_integration_tests::*;

const MARKER: &str = "zz-plaintext-marker-4711";

#[test]
fn nothing_is_stored_before_consent_or_after_withdrawal() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.load_catalog(&signed_pack(1)).unwrap();
    let empty_log_bytes = engine.inspect().unwrap().store.log_bytes;
    let outcome = engine.record(&[view(&item_id(0, 1), 5)]).unwrap();
    assert_eq!((outcome.stored, outcome.dropped_without_consent), (0, 1));
    engine.feedback(&Feedback { impressions: vec![item_id(0, 2)], clicks: vec![item_id(0, 2)], ..Feedback::default() }).unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!((report.store.events, report.store.log_bytes, report.impressions), (0, empty_log_bytes, 0));
    assert_eq!(report.online_ranker.impressions, 0, "the ranker learns nothing before consent");

    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    assert_eq!(engine.record(&[view(&item_id(0, 1), 5)]).unwrap().stored, 1);
    engine.set_consent(PERSONALISATION, false, "v1", false).unwrap();
    assert_eq!(engine.record(&[view(&item_id(0, 3), 4)]).unwrap().stored, 0);
    assert_eq!(engine.inspect().unwrap().store.events, 1);
    let recs = engine.recommend(&RecommendRequest { now_ms: Some(NOW), ..Default::default() }).unwrap();
    assert!(!recs.personalised, "withdrawal stops personalised ranking at once");
    assert!(recs.items.iter().flat_map(|r| &r.reasons).all(|r| r.source_item_id.is_none()));

    engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
    let shown = vec![item_id(0, 2), item_id(1, 2)];
    engine.feedback(&Feedback { impressions: shown, clicks: vec![item_id(0, 2)], timestamp_ms: Some(NOW), ..Feedback::default() }).unwrap();
    assert_eq!(engine.inspect().unwrap().online_ranker.impressions, 2);
    engine.set_consent(PERSONALISATION, false, "v1", true).unwrap();
    let report = engine.inspect().unwrap();
    assert_eq!(report.store.events, 0, "withdrawal with erasure deletes events");
    assert_eq!(report.online_ranker.impressions, 0, "and what the ranker learned from clicks");
    assert!(report.online_ranker.adjustments.values().all(|&a| a == 0.0));
    assert_eq!(engine.consents().unwrap().len(), 1);
}

#[test]
fn stored_data_is_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let search = Event { query: Some(MARKER.into()), ..Event::new(EventKind::Search, "", NOW - 1000) };
    engine.record(&[view(MARKER, 1), search]).unwrap();
    engine.close().unwrap();
    let files = files_under(dir.path());
    assert!(files.len() >= 3);
    for (path, bytes) in files {
        assert!(!contains(&bytes, MARKER.as_bytes()), "plaintext found in {}", path.display());
    }
}

#[test]
fn erased_data_is_unrecoverable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let engine = ready(&store);
    engine.record(&[view(MARKER, 1)]).unwrap();
    let keyring_before = std::fs::read(store.join("MANIFEST")).unwrap();
    engine.erase_all().unwrap();
    assert!(files_under(dir.path()).is_empty(), "no file is left");
    assert!(!store.exists());
    // The same host key opens a brand-new, empty store: the old data key is gone with its salt.
    let engine = open(&store, 1).unwrap();
    assert_eq!(engine.inspect().unwrap().store.events, 0);
    assert_ne!(std::fs::read(store.join("MANIFEST")).unwrap(), keyring_before);
    assert!(matches!(engine.record(&[view("a", 1)]), Ok(o) if o.stored == 0), "consent does not survive erasure");
}

#[test]
fn export_lists_every_event_and_consent_decision() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let events: Vec<Event> = (0..25).map(|k| view(&item_id(k % 4, k as u32 % PER_CATEGORY), 100 - k as i64)).collect();
    engine.record(&events).unwrap();
    engine.set_consent(mizan::SEARCH_TERMS, false, "v2", false).unwrap();
    assert!(engine.set_consent("marketing", true, "v2", false).is_err(), "undeclared purposes are refused");
    let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
    let exported = json["events"].as_array().unwrap();
    assert_eq!(exported.len(), events.len());
    for (e, x) in events.iter().zip(exported) {
        assert_eq!(x["item_id"], e.item_id.as_str());
        assert_eq!(x["timestamp_ms"], e.timestamp_ms);
        assert_eq!(x["kind"], "view");
    }
    assert_eq!(json["consent_history"].as_array().unwrap().len(), 2);
    assert!(json["inferred"]["categories"].as_array().is_some_and(|c| !c.is_empty()));
    for round in 0..20 {
        let shown: Vec<String> = engine.recommend(&RecommendRequest { k: 5, now_ms: Some(NOW), ..Default::default() }).unwrap().items.into_iter().map(|r| r.item_id).collect();
        let clicks = vec![shown[shown.len() - 1].clone()];
        engine.feedback(&Feedback { impressions: shown, clicks, timestamp_ms: Some(NOW - 50 + round), ..Feedback::default() }).unwrap();
    }
    let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
    let learned = engine.inspect().unwrap().online_ranker;
    assert!(learned.adjustments.values().any(|&a| a != 0.0), "{learned:?}");
    let online = &json["inferred"]["online_ranker"];
    assert_eq!(online["impressions"], learned.impressions);
    for (name, value) in learned.adjustments.iter().map(|a| ("adjustments", a)).chain(learned.coefficients.iter().map(|c| ("coefficients", c))) {
        // Written exactly (shortest round-trip digits); serde_json's default parser may read the last digit off by one ulp.
        let exported = online[name][value.0].as_f64().unwrap_or(f64::NAN);
        assert!((exported - value.1).abs() <= 1e-12 * value.1.abs().max(1.0), "{name} {}: {exported} against {}", value.0, value.1);
    }
    assert_eq!(online["coefficients"].as_object().map(|c| c.len()), Some(mizan::online::FEATURES + 1), "every coefficient is exported");
}

#[test]
fn sensitive_events_change_no_score_and_never_appear_in_reasons() {
    sensitive_events_change_nothing_under(&signed_pack(1));
}

/// The sequence network reads the recent items in order: sensitive ones must not
/// enter it, nor shift the positions of the others.
#[test]
fn sensitive_events_change_no_score_of_a_sequence_network() {
    sensitive_events_change_nothing_under(&signed_network_pack());
}

/// The taste over item embeddings is read from the recent items: sensitive ones
/// must not enter it.
#[test]
fn sensitive_events_change_no_score_under_item_embeddings() {
    sensitive_events_change_nothing_under(&signed_embedding_pack());
    // The taste is in play in that pack: ordinary views earn its reason.
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(&signed_embedding_pack()).unwrap();
    engine.record(&[view(&item_id(0, 1), 30), view(&item_id(0, 4), 20)]).unwrap();
    let recs = engine.recommend(&RecommendRequest { k: 10, now_ms: Some(NOW), ..Default::default() }).unwrap();
    assert!(recs.items.iter().flat_map(|r| &r.reasons).any(|r| r.text.contains("liked by the same people")), "{recs:?}");
}

fn sensitive_events_change_nothing_under(pack: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 1).unwrap();
    engine.set_consent(mizan::PERSONALISATION, true, "v1", false).unwrap();
    engine.load_catalog(pack).unwrap();
    engine.record(&[view(&item_id(0, 1), 30), view(&item_id(1, 2), 20)]).unwrap();
    let scores = |engine: &mizan::Engine| -> Vec<(String, f32)> {
        (0..3)
            .flat_map(|c| (0..PER_CATEGORY).map(move |k| item_id(c, k)))
            .map(|id| {
                let e = engine.explain(&id, Some(NOW)).unwrap();
                (id, e.score)
            })
            .collect()
    };
    let before = scores(&engine);
    let pharmacy: Vec<Event> = (0..PER_CATEGORY)
        .flat_map(|k| [view(&item_id(3, k), 5), Event::new(EventKind::Purchase, item_id(3, k), NOW - 60_000)])
        .chain([Event { query: Some("pharmacy".into()), ..Event::new(EventKind::Search, "", NOW - 1000) }])
        .collect();
    engine.record(&pharmacy).unwrap();
    // Screens mixing ordinary and sensitive items where only the sensitive one is
    // opened, before and after the person allows sensitive profiling: nothing is
    // learned about which signals to follow.
    for k in 0..PER_CATEGORY {
        if k == PER_CATEGORY / 2 {
            engine.set_consent(mizan::SENSITIVE_PROFILING, true, "v1", false).unwrap();
        }
        let shown = vec![item_id(0, k), item_id(1, k), item_id(3, k)];
        let feedback = Feedback { impressions: shown, clicks: vec![item_id(3, k)], timestamp_ms: Some(NOW - 500), ..Feedback::default() };
        engine.feedback(&feedback).unwrap();
    }
    engine.set_consent(mizan::SENSITIVE_PROFILING, false, "v1", false).unwrap();
    assert_eq!(scores(&engine), before, "sensitive events moved a non-sensitive score");
    let online = engine.inspect().unwrap().online_ranker;
    assert_eq!(online.impressions, 2 * u64::from(PER_CATEGORY), "only the ordinary items were learned from");
    assert!(online.adjustments.values().all(|&a| a == 0.0), "sensitive clicks taught the ranker: {online:?}");

    let recs = engine.recommend(&RecommendRequest { k: 40, include_seen: true, now_ms: Some(NOW), ..Default::default() }).unwrap();
    for reason in recs.items.iter().flat_map(|r| &r.reasons) {
        assert!(!reason.text.contains("pharmacy"), "{}", reason.text);
        assert!(reason.source_item_id.as_deref().is_none_or(|s| !s.starts_with("pharmacy")));
    }
    let report = engine.inspect().unwrap();
    assert!(report.top_categories.iter().all(|c| c.name != "pharmacy"));
    assert_eq!(report.sensitive_items_ignored, u64::from(PER_CATEGORY));
}

/// Symbols through which a library could talk to a network.
const NETWORK_SYMBOLS: [&str; 16] = [
    "socket", "connect", "bind", "listen", "accept", "accept4", "send", "sendto", "sendmsg", "recv", "recvfrom",
    "recvmsg", "getaddrinfo", "gethostbyname", "inet_pton", "curl_easy_init",
];

#[test]
fn the_built_library_imports_no_networking_functions() {
    let target = std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
    });
    let lib = target.join("debug/libmizan_ffi.so");
    assert!(lib.exists(), "build the cdylib first (cargo build --workspace): {}", lib.display());
    let out = std::process::Command::new("nm").args(["-D", "--undefined-only"]).arg(&lib).output().expect("nm runs");
    assert!(out.status.success());
    let imports = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = imports.lines().filter_map(|l| l.split_whitespace().last()).map(|s| s.split('@').next().unwrap()).collect();
    assert!(names.contains(&"open") || names.contains(&"open64"), "nm output looks wrong: {imports}");
    for sym in NETWORK_SYMBOLS {
        assert!(!names.contains(&sym), "the library imports {sym}");
    }
}

/// Issue 20, defect 8: words searched without the search-terms consent are kept
/// as keyed hashes under a secret of the store, so a dictionary of candidate
/// words recovers nothing from an export or a stolen state, and two stores hash
/// the same word differently; the hashed words still count for a category.
#[test]
fn words_searched_without_consent_cannot_be_recovered_with_a_dictionary() {
    let dictionary = ["hiv", "test", "pregnancy", "loan", "divorce", "tea", "books", "garden", "pharmacy"];
    let unkeyed = |word: &str| {
        let digest = ring::digest::digest(&ring::digest::SHA256, word.as_bytes());
        format!("#{}", digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let mut per_store = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let engine = ready(dir.path());
        let search = Event { query: Some("HIV test tea".into()), ..Event::new(EventKind::Search, "", NOW - 1000) };
        engine.record(&[search]).unwrap();
        let json: serde_json::Value = serde_json::from_str(&engine.export_user_data().unwrap()).unwrap();
        let tokens: Vec<String> =
            json["events"][0]["query_tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
        assert_eq!(tokens.len(), 3);
        for token in &tokens {
            assert!(token.starts_with('#'), "{token}");
            assert!(dictionary.iter().all(|w| *token != unkeyed(w) && !token.contains(w)), "{token} is a dictionary word");
        }
        let interests = engine.inspect().unwrap().top_categories;
        assert!(interests.iter().any(|c| c.name == "tea"), "the hashed word still names its category: {interests:?}");
        per_store.push(tokens);
    }
    assert_ne!(per_store[0], per_store[1], "each store has its own key");
}
