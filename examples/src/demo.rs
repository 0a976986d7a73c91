//! `mizan demo`: the whole path from consent to erasure on the embedded shop.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mizan::{DebugOptions, DebugSnapshot, Engine, EngineConfig, Event, EventKind, Feedback, RecommendRequest, Recommendations, StaticKey, PERSONALISATION};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::pack::{demo_pack, describe};
use crate::shop::{Shop, Shopper, DEMO_NOW_MS};

type DemoResult = Result<(), Box<dyn std::error::Error>>;

const POLICY: &str = "privacy-policy-2026-03";

struct Demo {
    shop: Shop,
    pack: Vec<u8>,
    trusted_key: Vec<u8>,
    root: PathBuf,
    category_of: HashMap<String, String>,
    report_dir: PathBuf,
}

/// Runs the demo in a fresh temporary directory, removed afterwards; one
/// shopper's inspector pages go to `report_dir` (kept).
pub fn run(report_dir: Option<PathBuf>) -> DemoResult {
    let shop = Shop::new();
    let (pack, trusted_key) = demo_pack(&shop);
    let root = std::env::temp_dir().join(format!("mizan-demo-{}", std::process::id()));
    let category_of = shop
        .items
        .iter()
        .map(|i| (i.id.clone(), shop.categories[i.categories[0] as usize].name.clone()))
        .collect();
    let report_dir = report_dir.unwrap_or_else(|| std::env::temp_dir().join("mizan-inspector"));
    let demo = Demo { shop, pack, trusted_key, root, category_of, report_dir };
    let result = demo.story();
    let _ = std::fs::remove_dir_all(&demo.root);
    result
}

impl Demo {
    fn story(&self) -> DemoResult {
        println!("Mizan demo: an on-device personalisation engine on a synthetic shop");
        println!("  {}", describe(&self.pack, &self.trusted_key)?);
        println!("  Everything below runs locally; each shopper's store is encrypted in {}\n", self.root.display());

        let shoppers = [
            self.persona("Amal", &[("Coffee & Tea", 1.5), ("Books", 1.0)], 1, 7),
            self.persona("Badr", &[("Sports & Outdoors", 1.5), ("Electronics", 1.0)], 2, 20),
            self.persona("Carla", &[("Fresh Produce", 1.2), ("Home & Kitchen", 1.0), ("Pharmacy", 0.6)], 0, 17),
        ];
        let histories: Vec<Vec<Event>> = shoppers
            .iter()
            .enumerate()
            .map(|(n, s)| s.simulate(&mut ChaCha8Rng::seed_from_u64(100 + n as u64), 6, DEMO_NOW_MS - 3_600_000))
            .collect();

        section(1, "Consent comes first");
        let amal = self.open("Amal")?;
        let early = amal.record(&histories[0][..5])?;
        println!("  Amal has not consented yet: record(5 events) -> stored {}, dropped {}", early.stored, early.dropped_without_consent);
        println!("  Events on disk: {}", amal.inspect()?.store.events);
        amal.set_consent(PERSONALISATION, true, POLICY, false)?;
        println!("  Amal grants '{PERSONALISATION}' under {POLICY}");

        section(2, "Recording behaviour");
        let mut engines = vec![amal];
        for name in ["Badr", "Carla"] {
            let e = self.open(name)?;
            e.set_consent(PERSONALISATION, true, POLICY, false)?;
            engines.push(e);
        }
        for ((shopper, engine), history) in shoppers.iter().zip(&engines).zip(&histories) {
            // Sessions (and notification opens) on most days at the shopper's usual hour.
            let hours: Vec<Event> = (1..=12)
                .filter(|day| day % 4 != 0)
                .map(|day: i64| {
                    let kind = if day % 3 == 0 { EventKind::NotificationOpen } else { EventKind::SessionStart };
                    let at = (DEMO_NOW_MS - day * 86_400_000).div_euclid(86_400_000) * 86_400_000 + shopper.usual_hour * 3_600_000;
                    Event::new(kind, "", at)
                })
                .collect();
            let history: Vec<Event> = history.iter().cloned().chain(hours).collect();
            let outcome = engine.record(&history)?;
            println!("  {:<6} {:>3} events stored ({})", shopper.name, outcome.stored, kind_counts(&history));
        }
        let bad = Event { dwell_secs: Some(f64::NAN), ..Event::new(EventKind::View, "sku-00-00", DEMO_NOW_MS) };
        match engines[0].record(&[bad]) {
            Err(e) => println!("  An invalid event is refused with a typed error: {e}"),
            Ok(_) => return Err("a NaN dwell time was accepted".into()),
        }

        section(3, "Top 10 for three shoppers, with reasons");
        let request = RecommendRequest { now_ms: Some(DEMO_NOW_MS), ..RecommendRequest::default() };
        for (shopper, engine) in shoppers.iter().zip(&engines) {
            println!("  {} (hidden tastes: {}; score, then the strongest reason)", shopper.name, self.tastes(shopper));
            self.print_list(&engine.recommend(&request)?, None);
            println!();
        }
        println!("  Carla's pharmacy visits are a sensitive category: they never shape her profile or appear as reasons.");

        section(4, "The list shifts after new behaviour");
        let before = engines[0].recommend(&request)?;
        let debug_options = |named: Vec<String>| DebugOptions { now_ms: Some(DEMO_NOW_MS), item_ids: named, ..DebugOptions::default() };
        let snapshot_before = engines[0].debug_snapshot(&debug_options(vec![]))?;
        let sports = self.shop.category("Sports & Outdoors");
        let new_events: Vec<Event> = (0..4)
            .map(|k| {
                let id = &self.shop.items[sports * 24 + 4 * k + 1].id;
                Event { dwell_secs: Some(75.0), ..Event::new(EventKind::View, id.clone(), DEMO_NOW_MS - 600_000 + k as i64 * 60_000) }
            })
            .chain([Event::new(EventKind::AddToCart, self.shop.items[sports * 24 + 5].id.clone(), DEMO_NOW_MS - 300_000)])
            .collect();
        engines[0].record(&new_events)?;
        println!("  Amal browses Sports & Outdoors this morning (4 long views, 1 add to cart). New list (+ = new entry):");
        let after = engines[0].recommend(&request)?;
        self.print_list(&after, Some(&before));

        section(5, "\"Not interested\" takes effect");
        let top = after.items[0].clone();
        engines[0].feedback(&Feedback {
            impressions: after.items.iter().map(|r| r.item_id.clone()).collect(),
            clicks: vec![],
            not_interested: vec![top.item_id.clone()],
            timestamp_ms: Some(DEMO_NOW_MS),
            ..Feedback::default()
        })?;
        let dismissed = engines[0].recommend(&request)?;
        let gone = dismissed.items.iter().all(|r| r.item_id != top.item_id);
        println!("  Amal taps \"not interested\" on #1 {}: {}", top.title, if gone { "it is gone." } else { "STILL THERE" });
        self.print_list(&dismissed, Some(&after));
        if !gone {
            return Err("a dismissed item was recommended again".into());
        }

        let named = vec![top.item_id.clone(), before.items[0].item_id.clone(), self.shop.items[sports * 24 + 1].id.clone(), self.shop.items[sports * 24 + 23].id.clone()];
        let snapshot_after = engines[0].debug_snapshot(&debug_options(named))?;

        section(6, "Coming back after a break");
        let back = RecommendRequest { now_ms: Some(DEMO_NOW_MS + 14 * 86_400_000), ..request.clone() };
        println!("  Amal opens the app two weeks later: what is popular now counts more than what she did last (+ = new entry):");
        self.print_list(&engines[0].recommend(&back)?, Some(&dismissed));

        section(7, "Inspect (developer debug API)");
        let report = engines[0].inspect()?;
        println!("  events stored        {}", report.store.events);
        println!(
            "  on disk              {} segment(s), {} bytes in all, encrypted (format v{}, generation {})",
            report.store.segments, report.store.bytes_on_disk, report.store.format_version, report.store.generation
        );
        let retention = &report.policy.retention;
        println!(
            "  retention            {} days, {} MiB of log; sync {}",
            retention.max_age_days.map_or("no limit".to_string(), |d| d.to_string()),
            retention.max_log_bytes.map_or("no limit".to_string(), |b| (b >> 20).to_string()),
            report.policy.sync
        );
        println!("  events by kind       {:?}", report.events_by_kind);
        println!("  personalised         {}", report.personalised);
        let pack = report.catalog.as_ref().ok_or("no pack")?;
        println!("  pack                 v{} with {} items", pack.meta.pack_version, pack.items);
        let cats: Vec<String> = report.top_categories.iter().take(4).map(|w| format!("{} {:.2}", w.name, w.weight)).collect();
        println!("  top categories       {}", cats.join(", "));
        let peak = report.active_hours.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(h, _)| h);
        println!("  most active hour     {peak:02}:00 UTC");
        let online = &report.online_ranker;
        let moved: Vec<String> = online.adjustments.iter().filter(|(_, a)| **a != 0.0).map(|(n, a)| format!("{n} {a:+.2}")).collect();
        println!(
            "  online ranker        {} impressions learned from; weights moved: {}",
            online.impressions,
            if moved.is_empty() { "none yet (no clicks)".to_string() } else { moved.join(", ") }
        );
        self.write_reports(&snapshot_before, &snapshot_after)?;
        let before_close = engines[0].recommend(&request)?;
        engines[0].close()?;
        let reopened = self.open("Amal")?;
        let same = reopened.recommend(&request)? == before_close;
        println!("  closed and reopened: same recommendations = {same}");

        section(8, "Export (right of access and portability)");
        let export = reopened.export_user_data()?;
        let json: serde_json::Value = serde_json::from_str(&export)?;
        println!("  {} bytes of JSON, format {}", export.len(), json["format"]);
        println!("  consent decisions: {}, events: {}, inferred categories: {}", json["consent_history"].as_array().map_or(0, Vec::len), json["events"].as_array().map_or(0, Vec::len), json["inferred"]["categories"].as_array().map_or(0, Vec::len));
        println!("  first event: {}", json["events"][0]);

        section(9, "Erasure");
        reopened.erase_all()?;
        println!("  erase_all(): manifest (salt of the data key) shredded, every file deleted. Store directory exists: {}", self.store_dir("Amal").exists());
        let fresh = self.open("Amal")?;
        let report = fresh.inspect()?;
        let list = fresh.recommend(&request)?;
        println!("  Reopened: {} events, {} consents, personalised = {}", report.store.events, report.consents.len(), list.personalised);
        println!("  (the pack must be loaded again: the app ships it; no user data survives)");
        fresh.erase_all()?;
        for engine in &engines[1..] {
            engine.erase_all()?;
        }
        println!("\nDone.");
        Ok(())
    }

    /// Writes Amal's snapshots before and after her morning of sports, the
    /// inspector page of the later one and the page of what changed.
    fn write_reports(&self, before: &DebugSnapshot, after: &DebugSnapshot) -> DemoResult {
        crate::files::create_dir_all(&self.report_dir)?;
        let path = |name: &str| self.report_dir.join(name);
        crate::files::write(path("amal-before.json"), before.to_json())?;
        crate::files::write(path("amal.json"), after.to_json())?;
        crate::files::write(path("amal.html"), crate::inspect::report(after))?;
        crate::files::write(path("amal-diff.html"), crate::inspect::diff(before, after))?;
        let first = &after.recommendations[0];
        let signals: Vec<String> = first.contributions.iter().filter(|c| c.contribution != 0.0).map(|c| format!("{} {:+.2}", c.signal, c.contribution)).collect();
        println!("  debug_snapshot()     #1 {} = {} = {:.2}", first.title, signals.join(" "), first.score);
        for named in &after.named_items {
            println!("                       {}: {:?}", named.item_id, named.verdict);
        }
        println!("  inspector page       {} (what changed this morning: {})", path("amal.html").display(), path("amal-diff.html").display());
        Ok(())
    }

    fn persona(&self, name: &'static str, tastes: &[(&str, f64)], style: usize, usual_hour: i64) -> Shopper {
        let tastes = tastes.iter().map(|(c, w)| (self.shop.category(c), *w)).collect();
        Shopper { name, tastes, style, usual_hour }
    }

    fn store_dir(&self, name: &str) -> PathBuf {
        self.root.join(name.to_lowercase())
    }

    fn open(&self, name: &str) -> Result<Engine, mizan::Error> {
        let key = StaticKey(format!("demo key for {name}, keystore-held in an app").into_bytes());
        // The demo is a developer's build: the debug API is on.
        let config = EngineConfig { debug_api: true, ..EngineConfig::new(self.store_dir(name), vec![self.trusted_key.clone()]) };
        let engine = Engine::open(config, Arc::new(key))?;
        if engine.inspect()?.catalog.is_none() {
            engine.load_catalog(&self.pack)?;
        }
        Ok(engine)
    }

    fn tastes(&self, s: &Shopper) -> String {
        s.tastes.iter().map(|(c, _)| self.shop.categories[*c].name.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn print_list(&self, list: &Recommendations, previous: Option<&Recommendations>) {
        for (rank, rec) in list.items.iter().enumerate() {
            let is_new = previous.is_some_and(|p| p.items.iter().all(|r| r.item_id != rec.item_id));
            println!(
                "   {}{:>2}. {:<24} {:<18} {:>5.2}  {}",
                if is_new { "+" } else { " " },
                rank + 1,
                rec.title,
                self.category_of.get(&rec.item_id).map_or("", String::as_str),
                rec.score,
                rec.reasons[0].text
            );
        }
    }
}

fn section(n: u32, title: &str) {
    println!("\n== {n}. {title} ==");
}

fn kind_counts(events: &[Event]) -> String {
    EventKind::ALL
        .iter()
        .map(|k| (k, events.iter().filter(|e| e.kind == *k).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}


#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Every log line, as a host's logger would receive it.
    struct Capture(Mutex<Vec<String>>);

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            self.0.lock().unwrap().push(format!("{} {}: {}", record.level(), record.target(), record.args()));
        }

        fn flush(&self) {}
    }

    static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

    /// Issue 19 item 7: over the demo's whole run (three shoppers, consent,
    /// packs, feedback, forgetting, erasure), the library logs its lifecycle and
    /// no line names an item, a title or a category.
    #[test]
    fn the_demo_logs_no_personal_data() {
        log::set_logger(&CAPTURE).expect("the only logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
        let reports = tempfile::tempdir().unwrap();
        run(Some(reports.path().to_path_buf())).expect("the demo runs");
        let lines = CAPTURE.0.lock().unwrap().clone();
        assert!(lines.iter().any(|l| l.contains("store opened")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("loaded pack version")), "{lines:?}");
        let shop = Shop::new();
        let personal: Vec<&str> = shop
            .items
            .iter()
            .flat_map(|i| [i.id.as_str(), i.title.as_str()])
            .chain(shop.categories.iter().map(|c| c.name.as_str()))
            .collect();
        for line in lines.iter().filter(|l| l.contains("mizan")) {
            assert!(personal.iter().all(|p| !line.contains(p)), "personal data in a log line: {line}");
        }
    }
}
