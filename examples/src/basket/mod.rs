//! `mizan eval-basket`: how well a list predicts the next basket, for grocery
//! and other repeat-purchase shops.
//!
//! Protocol (strong generalisation, next basket): purchases within an hour of
//! an order's first are one basket. Households with at least three baskets are
//! shuffled with the seed and a share of them held out; the pack is learned
//! (with consumables marked from the log) from the other households only. Each
//! held-out household's baskets but the last are recorded as purchases into a
//! fresh engine through the public API, and a top 10 is asked for at the
//! moment of the last basket; the target is that whole basket. Seen items are
//! not excluded from the targets. The basket before the last (with the ones
//! before it as history) is the validation case that picks the repurchase
//! weight; the last basket is the reported test. Metrics: NDCG@10 (binary
//! gains, ideal = min(|basket|, 10) hits), Recall@10 (hits / |basket|) and
//! HR@10 (at least one hit), against two baselines in the same harness: the
//! repurchase-frequency list (each item the household bought, every order
//! counting 0.5^(days ago / 30), popular items after them) and popularity.

mod households;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mizan::catalog::{public_key, CatalogPack, PackMeta};
use mizan::packer::{build_pack, read_catalog_csv, read_interactions_csv, CooccurrenceConfig, EaseConfig, Interaction, ItemModel, LlrConfig, PackerConfig};
use mizan::repurchase::ORDER_WINDOW_MS;
use mizan::{Engine, EngineConfig, Event, EventKind, ReasonKind, RecommendMode, RecommendRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use ring::signature::Ed25519KeyPair;
use serde::Serialize;

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Places in each list.
const K: usize = 10;
/// The repurchase-frequency baseline's half-life, days.
const FREQUENCY_HALF_LIFE_DAYS: f64 = 30.0;

/// Arguments of `mizan eval-basket`.
#[derive(clap::Args, Debug)]
pub struct BasketArgs {
    /// A directory with `catalog.csv` and `interactions.csv` (user,item,timestamp_ms) of
    /// purchases; without it, households are simulated (seeded) and written to `<out>/data`.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Households to simulate.
    #[arg(long, default_value_t = 3_000)]
    households: u32,
    /// Seed of the simulation and of the split.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Share of the households held out for evaluation.
    #[arg(long, default_value_t = 0.2)]
    held_out: f64,
    /// Evaluate at most this many held-out households.
    #[arg(long, default_value_t = 600)]
    max_households: usize,
    /// The pack's item model: `cooccurrence`, `ease` or `llr`.
    #[arg(long, default_value = "cooccurrence")]
    model: String,
    /// Repurchase weights tried on the validation baskets; the best is reported on the test baskets.
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,4,8")]
    repurchase_weights: Vec<f32>,
    /// Ranker weights put in the pack, by name (e.g. `category=0.2,popularity=0.1`),
    /// overriding the model's defaults; the repurchase weight is then tuned.
    #[arg(long, value_delimiter = ',')]
    weights: Option<Vec<String>>,
    /// Where to write `basket.md` and `basket.json` (and simulated data).
    #[arg(long)]
    out: PathBuf,
}

/// One basket: when, and its items (sorted, distinct).
type Basket = (i64, Vec<u32>);

/// One evaluated household: the baskets before the target, and the target.
struct Case {
    history: Vec<Basket>,
    target: Basket,
}

/// Set metrics of one method over the cases.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Scores {
    ndcg10: f64,
    recall10: f64,
    hr10: f64,
    /// Share of listed items the household bought before.
    bought_before: f64,
    /// Share of listed items whose first reason is "Trending".
    trending_first: f64,
}

#[derive(Serialize)]
struct Row {
    method: String,
    households: usize,
    #[serde(flatten)]
    scores: Scores,
    /// The same on the households with at most [`SHORT_HISTORY`] baskets before the target.
    short_history: Scores,
    short_households: usize,
}

/// Baskets of history up to which a household counts as new to the shop.
const SHORT_HISTORY: usize = 3;

/// Runs the evaluation and writes the report.
pub fn run(args: &BasketArgs) -> CliResult<()> {
    crate::files::create_dir_all(&args.out)?;
    let data = match &args.data {
        Some(dir) => dir.clone(),
        None => {
            let dir = args.out.join("data");
            let (items, rows) = households::simulate(args.households, args.seed, &dir)?;
            eprintln!("simulated {} households: {items} items, {rows} purchases ({})", args.households, dir.display());
            dir
        }
    };
    let open = |name: &str| {
        let path = data.join(name);
        crate::files::open(&path).map(std::io::BufReader::new)
    };
    let catalog = read_catalog_csv(open("catalog.csv")?)?;
    let log = read_interactions_csv(open("interactions.csv")?, &catalog)?;
    let n = catalog.items.len();
    let baskets = baskets_per_user(&log.interactions);
    let (pack_users, evaluated) = split(&baskets, args.held_out, args.seed, args.max_households);
    let interactions: Vec<Interaction> = log.interactions.iter().filter(|i| pack_users.contains(&(i.user as usize))).copied().collect();
    let validation: Vec<Case> = evaluated.iter().map(|&u| case(&baskets[u], 2)).collect();
    let test: Vec<Case> = evaluated.iter().map(|&u| case(&baskets[u], 1)).collect();
    eprintln!("{} pack households ({} purchases), {} evaluated", pack_users.len(), interactions.len(), evaluated.len());

    let model = match args.model.as_str() {
        "cooccurrence" => ItemModel::Cooccurrence(CooccurrenceConfig::default()),
        "ease" => ItemModel::Ease(EaseConfig::default()),
        "llr" => ItemModel::Llr(LlrConfig::default()),
        _ => return Err("--model is cooccurrence, ease or llr".into()),
    };
    let learn = |interactions: &[Interaction], mark_consumables: bool| -> CliResult<CatalogPack> {
        let meta = PackMeta { pack_version: 1, built_at_ms: 0, source: "next-basket evaluation".into(), coverage: None };
        let config = PackerConfig { model: model.clone(), mark_consumables, ..Default::default() };
        let mut pack = build_pack(meta, catalog.categories.clone(), catalog.items.clone(), interactions, &config)?;
        if let Some(values) = &args.weights {
            pack.default_weights = crate::pack::ranker_weights(values, &pack.default_weights)?;
        }
        Ok(pack)
    };
    let pack = learn(&interactions, true)?;
    let consumables = pack.repurchase_hours.iter().filter(|&&h| h > 0).count();
    eprintln!("the pack marks {consumables} of {n} items as bought again and again");
    let signer = Ed25519KeyPair::from_seed_unchecked(&[13; 32]).map_err(|e| format!("{e:?}"))?;
    let ids: Vec<String> = catalog.items.iter().map(|i| i.id.clone()).collect();
    let replay = Replay { ids: &ids, trusted_key: public_key(&signer), scratch: tempfile::tempdir()?.keep() };
    let with_weights = |pack: &CatalogPack, repurchase: f32, trend: Option<f32>| {
        let mut p = pack.clone();
        p.default_weights.repurchase = repurchase;
        p.default_weights.trend = trend.unwrap_or(p.default_weights.trend);
        p.sign(&signer)
    };
    let with_weight = |w: f32| with_weights(&pack, w, None);

    let mut tuning = Vec::new();
    for &w in &args.repurchase_weights {
        let lists = replay.lists(&with_weight(w), &validation, &[Surface::new("", RecommendMode::Mixed, true)])?;
        let scores = score(&validation, &lists[0].items);
        eprintln!("validation, repurchase weight {w}: NDCG@10 {:.4}", scores.ndcg10);
        tuning.push((w, scores));
    }
    let best = tuning.iter().max_by(|a, b| a.1.ndcg10.total_cmp(&b.1.ndcg10)).map_or(mizan::catalog::REPURCHASE_WEIGHT, |t| t.0);

    let counts = purchase_counts(&interactions, n);
    let popular = top_k((0..n as u32).map(|i| (i, counts[i as usize])));
    let mut rows = vec![
        row("Repurchase frequency (baseline)", &test, Lists::of(test.iter().map(|c| frequency_list(c, &popular)).collect())),
        row("Popularity (baseline)", &test, Lists::of(test.iter().map(|_| popular.clone()).collect())),
    ];
    let surfaces = [
        Surface::new("mixed", RecommendMode::Mixed, true),
        Surface::new("mixed, default diversity 0.2 and exploration 0.1", RecommendMode::Mixed, false),
        Surface::new("buy again", RecommendMode::BuyAgain, true),
        Surface::new("discover", RecommendMode::Discover, true),
    ];
    let lists = replay.lists(&with_weight(best), &test, &surfaces)?;
    // Surfaces 0 and 2: what mixing in the collaborative signal adds to the person's own rhythm.
    let mixing = [
        Paired::of(&test, &lists[0].items, &lists[2].items, |_| true),
        Paired::of(&test, &lists[0].items, &lists[2].items, |c| c.history.len() <= SHORT_HISTORY),
    ];
    for (surface, lists) in surfaces.iter().zip(lists) {
        rows.push(row(&format!("Mizan, {} (repurchase weight {best})", surface.name), &test, lists));
    }
    let untagged = learn(&interactions, false)?.sign(&signer);
    let lists = replay.lists(&untagged, &test, &[Surface::new("", RecommendMode::Mixed, true)])?;
    rows.push(row("Mizan, mixed, pack without consumables marked (an untagged shop)", &test, lists.into_iter().next().unwrap_or_default()));

    // The temporal view: the pack's "now" is the households' "now", as on a phone, so what is
    // popular now is in force for whoever comes back.
    let (cut, temporal) = temporal_split(&baskets, args.seed, args.max_households);
    let before: Vec<Interaction> = log.interactions.iter().filter(|i| i.timestamp_ms < cut).copied().collect();
    let temporal_pack = learn(&before, true)?;
    let counts = purchase_counts(&before, n);
    let popular = top_k((0..n as u32).map(|i| (i, counts[i as usize])));
    let mut temporal_rows = vec![
        row("Repurchase frequency (baseline)", &temporal, Lists::of(temporal.iter().map(|c| frequency_list(c, &popular)).collect())),
        row("Popularity (baseline)", &temporal, Lists::of(temporal.iter().map(|_| popular.clone()).collect())),
    ];
    let trend = temporal_pack.default_weights.trend;
    let both = [Surface::new("mixed", RecommendMode::Mixed, true), Surface::new("discover", RecommendMode::Discover, true)];
    for (weight, label) in [(trend, format!("trend weight {trend}")), (0.0, "without the trend".to_string())] {
        let lists = replay.lists(&with_weights(&temporal_pack, best, Some(weight)), &temporal, &both)?;
        for (surface, lists) in both.iter().zip(lists) {
            temporal_rows.push(row(&format!("Mizan, {}, {label}", surface.name), &temporal, lists));
        }
    }
    let _ = std::fs::remove_dir_all(&replay.scratch);

    let markdown = report(args, &rows, &temporal_rows, &tuning, best, consumables, n, &mixing);
    println!("{markdown}");
    crate::files::write(args.out.join("basket.md"), &markdown)?;
    let json = serde_json::json!({ "rows": rows, "mixed_against_buy_again": { "all": mixing[0], "short_history": mixing[1] }, "temporal_rows": temporal_rows, "tuning": tuning.iter().map(|(w, s)| serde_json::json!({"repurchase_weight": w, "validation": s})).collect::<Vec<_>>(), "chosen_weight": best });
    crate::files::write(args.out.join("basket.json"), serde_json::to_vec_pretty(&json)?)?;
    Ok(())
}

/// Each user's baskets in time order: purchases within [`ORDER_WINDOW_MS`] of a basket's first join it.
fn baskets_per_user(interactions: &[Interaction]) -> Vec<Vec<Basket>> {
    let users = interactions.iter().map(|i| i.user as usize + 1).max().unwrap_or(0);
    let mut timed: Vec<Vec<(i64, u32)>> = vec![Vec::new(); users];
    interactions.iter().for_each(|i| timed[i.user as usize].push((i.timestamp_ms, i.item)));
    timed
        .into_iter()
        .map(|mut purchases| {
            purchases.sort_unstable();
            let mut baskets: Vec<Basket> = Vec::new();
            for (t, item) in purchases {
                match baskets.last_mut() {
                    Some((start, items)) if t.saturating_sub(*start) < ORDER_WINDOW_MS => items.push(item),
                    _ => baskets.push((t, vec![item])),
                }
            }
            baskets.iter_mut().for_each(|(_, items)| {
                items.sort_unstable();
                items.dedup();
            });
            baskets
        })
        .collect()
}

/// The pack's users and the evaluated ones (households with at least three baskets, shuffled with `seed`).
fn split(baskets: &[Vec<Basket>], held_out: f64, seed: u64, max: usize) -> (std::collections::HashSet<usize>, Vec<usize>) {
    let mut eligible: Vec<usize> = (0..baskets.len()).filter(|&u| baskets[u].len() >= 3).collect();
    eligible.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let cut = ((eligible.len() as f64 * held_out.clamp(0.0, 1.0)) as usize).min(max);
    let evaluated: Vec<usize> = eligible[..cut].to_vec();
    let pack = (0..baskets.len()).filter(|u| !evaluated.contains(u)).collect();
    (pack, evaluated)
}

/// The temporal view: the cut-off is the start of the newest tenth of all baskets; each household
/// with two baskets before it and one after (shuffled with `seed`, at most `max`) is asked about
/// its first basket after it, with what it bought before as history.
fn temporal_split(baskets: &[Vec<Basket>], seed: u64, max: usize) -> (i64, Vec<Case>) {
    let mut starts: Vec<i64> = baskets.iter().flatten().map(|(t, _)| *t).collect();
    starts.sort_unstable();
    let cut = starts.get(starts.len() * 9 / 10).copied().unwrap_or(0);
    let mut cases: Vec<Case> = baskets
        .iter()
        .filter_map(|b| {
            let at = b.partition_point(|(t, _)| *t < cut);
            (at >= 2 && at < b.len()).then(|| Case { history: b[..at].to_vec(), target: b[at].clone() })
        })
        .collect();
    cases.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    cases.truncate(max);
    (cut, cases)
}

/// The case whose target is the `back`-th basket from the end.
fn case(baskets: &[Basket], back: usize) -> Case {
    let at = baskets.len() - back;
    Case { history: baskets[..at].to_vec(), target: baskets[at].clone() }
}

/// What a method listed for each case, and (for the engine) how many listed
/// items led with "Trending".
#[derive(Default)]
struct Lists {
    items: Vec<Vec<u32>>,
    trending_first: usize,
}

impl Lists {
    fn of(items: Vec<Vec<u32>>) -> Self {
        Lists { items, trending_first: 0 }
    }
}

/// A list an app asks for: its name in the report and the request's knobs.
struct Surface {
    name: &'static str,
    request: RecommendRequest,
}

impl Surface {
    fn new(name: &'static str, mode: RecommendMode, focused: bool) -> Self {
        let request = RecommendRequest { mode, ..RecommendRequest::default() };
        let request = if focused { RecommendRequest { diversity: 0.0, exploration: 0.0, ..request } } else { request };
        Surface { name, request }
    }
}

/// Replays cases into fresh engines through the public API.
struct Replay<'a> {
    ids: &'a [String],
    trusted_key: Vec<u8>,
    scratch: PathBuf,
}

impl Replay<'_> {
    /// Per surface, each case's top 10 from an engine holding the case's history as purchases.
    fn lists(&self, pack: &[u8], cases: &[Case], surfaces: &[Surface]) -> Result<Vec<Lists>, mizan::Error> {
        let index: HashMap<&str, u32> = self.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i as u32)).collect();
        let progress = crate::progress::bar(cases.len() as u64, "households");
        let mut out: Vec<Lists> = surfaces.iter().map(|_| Lists::default()).collect();
        for (n, case) in cases.iter().enumerate() {
            let engine = self.engine(pack, n)?;
            let events: Vec<Event> = case
                .history
                .iter()
                .flat_map(|(t, items)| items.iter().map(move |&i| Event::new(EventKind::Purchase, self.ids[i as usize].clone(), *t)))
                .collect();
            for batch in events.chunks(mizan::events::MAX_BATCH) {
                engine.record(batch)?;
            }
            for (m, surface) in surfaces.iter().enumerate() {
                let request = RecommendRequest { k: K as u32, now_ms: Some(case.target.0 - 1), seed: Some(n as u64), ..surface.request.clone() };
                let items = engine.recommend(&request)?.items;
                out[m].items.push(items.iter().filter_map(|r| index.get(r.item_id.as_str()).copied()).collect());
                out[m].trending_first += items.iter().filter(|r| r.reasons[0].kind == ReasonKind::Trending).count();
            }
            engine.erase_all()?;
            progress.inc(1);
        }
        progress.finish_and_clear();
        Ok(out)
    }

    fn engine(&self, pack: &[u8], n: usize) -> Result<Engine, mizan::Error> {
        let mut config = EngineConfig::new(self.scratch.join(format!("household-{n}")), vec![self.trusted_key.clone()]);
        config.retention = Retention { max_age_days: None, max_log_bytes: None };
        config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
        let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32])))?;
        engine.set_consent(PERSONALISATION, true, "evaluation", false)?;
        engine.load_catalog(pack)?;
        Ok(engine)
    }
}

fn purchase_counts(interactions: &[Interaction], n: usize) -> Vec<f64> {
    let mut counts = vec![0.0; n];
    interactions.iter().for_each(|i| counts[i.item as usize] += 1.0);
    counts
}

/// The `K` best-scored items, ties by index.
fn top_k(scored: impl Iterator<Item = (u32, f64)>) -> Vec<u32> {
    let mut all: Vec<(u32, f64)> = scored.filter(|(_, s)| *s > 0.0).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.into_iter().take(K).map(|(i, _)| i).collect()
}

/// The repurchase-frequency baseline: items bought before, each order counting
/// by how recent it is; popular items fill what is left.
fn frequency_list(case: &Case, popular: &[u32]) -> Vec<u32> {
    let mut score: HashMap<u32, f64> = HashMap::new();
    for (t, items) in &case.history {
        let days = (case.target.0 - t) as f64 / 86_400_000.0;
        items.iter().for_each(|&i| *score.entry(i).or_default() += 0.5f64.powf(days / FREQUENCY_HALF_LIFE_DAYS));
    }
    let mut list = top_k(score.into_iter());
    list.extend(popular.iter().filter(|i| !list.contains(i)).copied().collect::<Vec<_>>());
    list.truncate(K);
    list
}

/// The places (from 0) of `list`'s first [`K`] items that are in `case`'s target basket.
fn hits(case: &Case, list: &[u32]) -> Vec<usize> {
    list.iter().take(K).enumerate().filter(|(_, i)| case.target.1.binary_search(i).is_ok()).map(|(p, _)| p).collect()
}

/// NDCG@10 of a list with these `hits` for `case` (binary gains, ideal = min(|basket|, 10) hits).
fn ndcg(case: &Case, hits: &[usize]) -> f64 {
    let dcg: f64 = hits.iter().map(|&p| 1.0 / ((p + 2) as f64).log2()).sum();
    let ideal: f64 = (0..case.target.1.len().min(K)).map(|p| 1.0 / ((p + 2) as f64).log2()).sum();
    dcg / ideal
}

fn score(cases: &[Case], lists: &[Vec<u32>]) -> Scores {
    let mut total = Scores::default();
    let mut listed = 0usize;
    for (case, list) in cases.iter().zip(lists) {
        let target = &case.target.1;
        let hits = hits(case, list);
        total.ndcg10 += ndcg(case, &hits);
        total.recall10 += hits.len() as f64 / target.len() as f64;
        total.hr10 += f64::from(u8::from(!hits.is_empty()));
        let bought = |i: &u32| case.history.iter().any(|(_, items)| items.binary_search(i).is_ok());
        total.bought_before += list.iter().take(K).filter(|i| bought(i)).count() as f64;
        listed += list.len().min(K);
    }
    let n = cases.len().max(1) as f64;
    let bought_before = total.bought_before / listed.max(1) as f64;
    Scores { ndcg10: total.ndcg10 / n, recall10: total.recall10 / n, hr10: total.hr10 / n, bought_before, trending_first: 0.0 }
}

fn table(rows: &[Row]) -> String {
    let mut md = format!(
        "| Method | Households | NDCG@10 | Recall@10 | HR@10 | Listed items bought before | Led by \"Trending\" | NDCG@10, at most {SHORT_HISTORY} baskets before (households) |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let s = r.scores;
        let short = format!("{:.4} ({})", r.short_history.ndcg10, r.short_households);
        let trending = 100.0 * s.trending_first;
        md += &format!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.1}% | {trending:.1}% | {short} |\n",
            r.method,
            r.households,
            s.ndcg10,
            s.recall10,
            s.hr10,
            100.0 * s.bought_before
        );
    }
    md
}

/// One list against another, household by household: the mean difference of
/// their NDCG@10 with its 95% interval (normal approximation over the
/// households), and how many households each list served better.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Paired {
    households: usize,
    mean: f64,
    low: f64,
    high: f64,
    better: usize,
    worse: usize,
}

impl Paired {
    /// `a` against `b` on the `cases` that `keep` selects.
    fn of(cases: &[Case], a: &[Vec<u32>], b: &[Vec<u32>], keep: impl Fn(&Case) -> bool) -> Self {
        let differences: Vec<f64> = cases.iter().zip(a.iter().zip(b)).filter(|(c, _)| keep(c)).map(|(c, (a, b))| ndcg(c, &hits(c, a)) - ndcg(c, &hits(c, b))).collect();
        let n = differences.len();
        if n < 2 {
            return Paired { households: n, ..Paired::default() };
        }
        let mean = differences.iter().sum::<f64>() / n as f64;
        let variance = differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = 1.96 * (variance / n as f64).sqrt();
        let count = |f: fn(f64) -> bool| differences.iter().filter(|&&d| f(d)).count();
        Paired { households: n, mean, low: mean - half, high: mean + half, better: count(|d| d > 0.0), worse: count(|d| d < 0.0) }
    }

    fn describe(&self) -> String {
        format!(
            "{:+.4} (95% interval {:+.4} to {:+.4}; better for {}, worse for {} of {} households)",
            self.mean, self.low, self.high, self.better, self.worse, self.households
        )
    }
}

fn row(method: &str, cases: &[Case], lists: Lists) -> Row {
    let listed = lists.items.iter().map(|l| l.len().min(K)).sum::<usize>().max(1);
    let trending_first = lists.trending_first as f64 / listed as f64;
    let lists = lists.items;
    let (short, short_lists): (Vec<&Case>, Vec<&Vec<u32>>) = cases.iter().zip(&lists).filter(|(c, _)| c.history.len() <= SHORT_HISTORY).unzip();
    let short: Vec<Case> = short.into_iter().map(|c| Case { history: c.history.clone(), target: c.target.clone() }).collect();
    let short_lists: Vec<Vec<u32>> = short_lists.into_iter().cloned().collect();
    Row {
        method: method.to_string(),
        households: cases.len(),
        scores: Scores { trending_first, ..score(cases, &lists) },
        short_history: score(&short, &short_lists),
        short_households: short.len(),
    }
}

#[allow(clippy::too_many_arguments)]
fn report(args: &BasketArgs, rows: &[Row], temporal_rows: &[Row], tuning: &[(f32, Scores)], best: f32, consumables: usize, n: usize, mixing: &[Paired; 2]) -> String {
    let source = match &args.data {
        Some(dir) => format!("purchases in `{}`", dir.display()),
        None => format!("{} simulated households (seed {}, `mizan eval-basket` built-in simulator)", args.households, args.seed),
    };
    let mut md = format!(
        "Next-basket evaluation on {source}; pack model `{}`, {consumables} of {n} items marked as bought again and again.\n\n\
         Strong generalisation, the last basket of held-out households:\n\n{}\n\
         Mixed against buy again, household by household (NDCG@10): {}; on households with at most {SHORT_HISTORY} baskets before: {}.\n\n\
         Temporal view, each household's first basket after the cut-off (the newest tenth of baskets), the pack learned from everything before it:\n\n{}\n",
        args.model,
        table(rows),
        mixing[0].describe(),
        mixing[1].describe(),
        table(temporal_rows)
    );
    md += "Validation (the basket before the last), Mizan Mixed by repurchase weight:";
    for (w, s) in tuning {
        md += &format!(" {w}: {:.4};", s.ndcg10);
    }
    md += &format!(" chosen {best}.\n");
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        basket: BasketArgs,
    }

    /// The whole harness on a small simulation: the simulator is deterministic,
    /// every row is reported, the household's own rhythm beats popularity and
    /// the pack's marks matter (an untagged shop without them gets a poor list).
    #[test]
    fn a_small_simulation_runs_end_to_end_and_the_rhythm_wins() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let args = [
            "eval-basket",
            "--households",
            "150",
            "--max-households",
            "40",
            "--held-out",
            "0.5",
            "--repurchase-weights",
            "2,8",
            "--out",
            out.to_str().unwrap(),
        ];
        run(&Cli::parse_from(args).basket).unwrap();
        let first = std::fs::read(out.join("data/interactions.csv")).unwrap();
        households::simulate(150, 7, &dir.path().join("again")).unwrap();
        assert_eq!(first, std::fs::read(dir.path().join("again/interactions.csv")).unwrap(), "the same seed simulates the same log");
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("basket.json")).unwrap()).unwrap();
        let ndcg = |method: &str| {
            let rows = report["rows"].as_array().unwrap();
            let row = rows.iter().find(|r| r["method"].as_str().unwrap().starts_with(method)).unwrap_or_else(|| panic!("{method}"));
            assert_eq!(row["households"], 40);
            row["ndcg10"].as_f64().unwrap()
        };
        assert!(ndcg("Mizan, mixed") > ndcg("Popularity") + 0.2, "{report}");
        assert!(ndcg("Mizan, buy again") > ndcg("Mizan, mixed, pack without consumables marked") + 0.2, "{report}");
        assert!(ndcg("Repurchase frequency") > ndcg("Popularity"));
        assert!(std::fs::read_to_string(out.join("basket.md")).unwrap().contains("| Mizan, discover"));
        let paired = &report["mixed_against_buy_again"]["all"];
        let (mean, low, high) = (paired["mean"].as_f64().unwrap(), paired["low"].as_f64().unwrap(), paired["high"].as_f64().unwrap());
        assert!(low <= mean && mean <= high && paired["households"] == 40, "{paired}");
        let mixed_minus_buy_again = ndcg("Mizan, mixed (") - ndcg("Mizan, buy again");
        assert!((mean - mixed_minus_buy_again).abs() < 1e-9, "the paired mean is the difference of the rows: {paired}");
    }
}
