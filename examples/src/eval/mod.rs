//! `mizan eval`: recommendation quality on real data, in the privacy-honest
//! setting. Protocol (also written into the report):
//!
//! - per user, interactions in time order, ties broken by item index;
//! - leave-last-out: the last item is the test target, the second-to-last the
//!   validation target; full ranking over the catalogue, items already seen excluded;
//! - strong generalisation: users are split 80/20 (seeded); the pack is built only
//!   from the 80%; each evaluated user's history is replayed into a fresh engine
//!   through the public API and `recommend` is asked at the target's time;
//! - also: weak generalisation (the pack saw everyone's training prefix), targets
//!   after a gap of at least one hour, and a global temporal split (validation
//!   at an 85% cut-off, test at 90%), the one setting where the pack's "now" is
//!   the evaluated users' "now", as it is on a phone;
//! - baselines (popularity, trending, item-kNN, EASE, EASE + recency) run on the same splits;
//! - optionally, on the strong test split: the accuracy/diversity trade-off
//!   (`--tradeoff`) and pack size against HR@10 (`--size-curve`);
//! - optionally, every user evaluated (`--cross-validate`): the 80/20 split is one
//!   of five folds; the other four are evaluated the same way, each with a pack
//!   built from the rest, and the five are pooled.

mod baselines;
mod data;
mod metrics;
mod runner;

use std::path::PathBuf;

use clap::Args;
use mizan::catalog::{public_key, CatalogPack, PackMeta, RankerWeights};
use mizan::packer::{
    build_pack, AlsConfig, EaseConfig, EmbeddingSource, Interaction, ItemModel, LlrConfig, NetworkConfig, PackerConfig, SequentialConfig, TransitionConfig,
};
use ring::signature::Ed25519KeyPair;
use serde::Serialize;

use baselines::Baselines;
use data::{Dataset, Holdout, Split, FOLDS, MAIN_FOLD};
use metrics::{compute, pool, target_profile, Metrics, Ranked};

/// Options of `mizan eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Directory with `catalog.csv` and `interactions.csv` (from examples/movielens/fetch.py).
    #[arg(long)]
    data: PathBuf,
    /// Where the report, results and split files go.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the user split.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// EASE regularisation (pack and baseline).
    #[arg(long, default_value_t = 250.0)]
    lambda: f64,
    /// Regularisation of the sequential model.
    #[arg(long, default_value_t = 200.0)]
    seq_lambda: f64,
    /// Upcoming items the sequential model learns to predict.
    #[arg(long, default_value_t = 3)]
    steps_ahead: usize,
    /// Neighbours per item in the pack.
    #[arg(long, default_value_t = 40)]
    top_k: usize,
    /// Successors per item in the pack.
    #[arg(long, default_value_t = 20)]
    transitions_top_k: usize,
    /// Hidden dimensions of the pack's sequence network (0 = no network).
    #[arg(long, default_value_t = 0)]
    network_dim: usize,
    /// Training passes of the sequence network.
    #[arg(long, default_value_t = 3)]
    network_epochs: usize,
    /// Item embeddings learned by implicit ALS with this many factors (0 = none).
    #[arg(long, default_value_t = 0)]
    als_factors: usize,
    /// The pack's item model: `ease`, `llr` (sparse log-likelihood co-occurrence) or `sequential`.
    #[arg(long, default_value = "sequential")]
    model: String,
    /// Half-life, in steps back, of the recency-weighted EASE baseline.
    #[arg(long, default_value_t = 8.0)]
    recency_half_life: f32,
    /// Diversity knob of the engine's requests (0 = pure relevance).
    #[arg(long, default_value_t = 0.0)]
    diversity: f32,
    /// Exploration share of the engine's requests (0 = none).
    #[arg(long, default_value_t = 0.0)]
    exploration: f32,
    /// Also rank with engines that score every catalogue item instead of their
    /// candidates (the reference ranking), reported beside.
    #[arg(long)]
    full_scan: bool,
    /// Ranker weights put in the pack, by name, overriding the model's defaults
    /// for the names given (as `mizan pack build --weights`).
    #[arg(long, value_delimiter = ',')]
    weights: Option<Vec<String>>,
    /// Also sweep diversity and exploration on the strong test split (accuracy/diversity trade-off).
    #[arg(long)]
    tradeoff: bool,
    /// Also replay the strong validation split with the headline pack at each of
    /// these network weights (tuning the mix without rebuilding the pack).
    #[arg(long, value_delimiter = ',')]
    network_weight_sweep: Vec<f32>,
    /// Also replay the strong validation split with the headline pack at each of
    /// these embedding weights (with `--als-factors`).
    #[arg(long, value_delimiter = ',', requires = "als_factors")]
    embedding_weight_sweep: Vec<f32>,
    /// Also rebuild the pack at several sizes (neighbours and successors kept per
    /// item) and measure each on the strong test split (pack size / HR@10 curve).
    #[arg(long)]
    size_curve: bool,
    /// Only the strong-generalisation test and validation splits (faster).
    #[arg(long, conflicts_with_all = ["temporal_only", "trend_weight_sweep"])]
    strong_only: bool,
    /// Only the temporal validation and test splits (faster).
    #[arg(long, conflicts_with_all = ["tradeoff", "size_curve", "cross_validate", "online_feedback", "network_weight_sweep", "embedding_weight_sweep"])]
    temporal_only: bool,
    /// Days after which an interaction counts half towards what is popular now
    /// (the pack's trend and the trending baseline).
    #[arg(long, default_value_t = mizan::packer::TREND_HALF_LIFE_DAYS)]
    trend_half_life_days: f64,
    /// Also replay the temporal validation split with the headline pack at each
    /// of these trend weights.
    #[arg(long, value_delimiter = ',')]
    trend_weight_sweep: Vec<f32>,
    /// Also evaluate every user in strong generalisation: four more folds of 20%,
    /// each with a pack built from the other users, pooled with the main split
    /// (five times the evaluated users, for small datasets such as ML-100K).
    #[arg(long)]
    cross_validate: bool,
    /// Also replay the strong validation and test splits with the last this many
    /// history steps as a feedback loop (a top 10 shown before each, clicked when
    /// it holds the next item), so the online ranker learns before the final list.
    #[arg(long, default_value_t = 0)]
    online_feedback: usize,
    /// Asks each user's final `recommend` again this many times, and reports the
    /// mean time of each repeat by its place (how a call speeds up as the
    /// caches and the allocator warm to it); the first is the warm figure.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    warm_calls: u32,
    /// Evicts the processor's caches (writes 64 MiB) before the repeats, so
    /// that the first of them is timed from cold caches, as after the app has
    /// been busy elsewhere.
    #[arg(long)]
    cold_cache: bool,
    /// Keeps each pack built, signed, in this directory, and reads it back when a
    /// later run builds the same pack (same catalogue, pack users and pack
    /// options), instead of training it again.
    #[arg(long)]
    pack_dir: Option<PathBuf>,
    /// Evaluates only the first this many users of each split (for profiling;
    /// the metrics are then of those users alone).
    #[arg(long)]
    max_users: Option<usize>,
    /// Replays the engine alone, without fitting or running the baselines (for
    /// profiling).
    #[arg(long)]
    engine_only: bool,
}

/// One row of the results.
#[derive(Serialize)]
struct Row {
    split: String,
    method: String,
    #[serde(flatten)]
    metrics: Metrics,
    pack_bytes: Option<usize>,
    ms_per_user: Option<f64>,
    /// Mean time of the final `recommend` per user, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    us_per_recommend: Option<f64>,
    /// Mean time of the same `recommend` asked again, in µs: an engine kept
    /// open, as in an app, with its buffers grown by the first (from cold
    /// caches with `--cold-cache`).
    #[serde(skip_serializing_if = "Option::is_none")]
    us_per_warm_recommend: Option<f64>,
    /// With `--warm-calls` above 1: the mean time of each repeat, in µs, by its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    us_per_repeat: Option<Vec<f64>>,
    /// Mean time of dropping one repeat's answer, in µs (in no repeat's time,
    /// as the peers' times do not include freeing theirs).
    #[serde(skip_serializing_if = "Option::is_none")]
    us_per_answer_drop: Option<f64>,
}

impl Row {
    /// A row of `method`'s `metrics` on `split`, with no pack size or times.
    fn new(split: impl Into<String>, method: impl Into<String>, metrics: Metrics) -> Row {
        Row {
            split: split.into(),
            method: method.into(),
            metrics,
            pack_bytes: None,
            ms_per_user: None,
            us_per_recommend: None,
            us_per_warm_recommend: None,
            us_per_repeat: None,
            us_per_answer_drop: None,
        }
    }

    /// The row with the engine's times per user from `timing` (each repeat's
    /// only when there was more than one).
    fn timed(self, timing: &runner::Timing) -> Row {
        let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
        Row {
            ms_per_user: Some(timing.per_user.as_secs_f64() * 1e3),
            us_per_recommend: Some(us(timing.per_recommend)),
            us_per_warm_recommend: Some(us(timing.per_warm_recommend())),
            us_per_repeat: (timing.per_repeat.len() > 1).then(|| timing.per_repeat.iter().map(|&d| us(d)).collect()),
            us_per_answer_drop: Some(us(timing.per_answer_drop)),
            ..self
        }
    }
}

/// Runs the evaluation and writes `results.json`, `results.md` and the split files.
pub fn run(args: &EvalArgs) -> Result<(), Box<dyn std::error::Error>> {
    crate::files::create_dir_all(&args.out)?;
    let data = data::load(&args.data, mizan::engine::now_ms())?;
    let mut splits = Vec::new();
    if !args.temporal_only {
        splits.extend(strong_splits(&data, args.seed, MAIN_FOLD));
    }
    if !args.strong_only && !args.temporal_only {
        splits.push(data::weak(&data, args.seed));
    }
    if !args.strong_only {
        splits.extend([data::temporal(&data, Holdout::Validation), data::temporal(&data, Holdout::Test)]);
    }
    if let Some(max) = args.max_users {
        splits.iter_mut().for_each(|s| s.cases.truncate(max));
    }
    if !args.temporal_only {
        write_split_files(&args.out, &splits[1])?;
    }
    let (mut rows, packs) = evaluate_all(args, &data, &splits)?;
    if args.cross_validate {
        rows.extend(cross_validate(args, &data, &rows)?);
    }
    if !args.network_weight_sweep.is_empty() {
        let set = |w: &mut RankerWeights, x: f32| w.network = x;
        rows.extend(weight_sweep(args, &data, &splits[0], &packs[0], ("network", &args.network_weight_sweep, set))?);
    }
    if !args.embedding_weight_sweep.is_empty() {
        let set = |w: &mut RankerWeights, x: f32| w.embedding = x;
        rows.extend(weight_sweep(args, &data, &splits[0], &packs[0], ("embedding", &args.embedding_weight_sweep, set))?);
    }
    if !args.trend_weight_sweep.is_empty() {
        let s = splits.len() - 2;
        let set = |w: &mut RankerWeights, x: f32| w.trend = x;
        rows.extend(weight_sweep(args, &data, &splits[s], &packs[s], ("trend", &args.trend_weight_sweep, set))?);
    }
    if args.online_feedback > 0 {
        for (split, pack) in splits.iter().zip(&packs).take(2) {
            rows.push(online_feedback(args, &data, split, pack)?);
        }
    }
    if args.tradeoff {
        rows.extend(tradeoff(args, &data, &splits[1], &packs[1])?);
    }
    if args.size_curve {
        rows.extend(size_curve(args, &data, &splits[1], &packs[1])?);
    }
    crate::files::write(args.out.join("results.json"), serde_json::to_string_pretty(&rows)?)?;
    let table = markdown(&rows);
    let targets = targets_markdown(&data, &splits);
    crate::files::write(args.out.join("results.md"), format!("{}\n{table}\n{targets}", protocol(args)))?;
    println!("{table}");
    Ok(())
}

/// The strong-generalisation validation and test splits whose evaluated users are part `fold`.
fn strong_splits(data: &Dataset, seed: u64, fold: usize) -> Vec<Split> {
    vec![data::strong(data, seed, Holdout::Validation, fold), data::strong(data, seed, Holdout::Test, fold)]
}

/// Every split's rows, and the pack each was evaluated with. Consecutive splits
/// with the same pack users (validation and test) share one pack.
fn evaluate_all(args: &EvalArgs, data: &Dataset, splits: &[Split]) -> Result<(Vec<Row>, Vec<CatalogPack>), Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    let mut packs: Vec<CatalogPack> = Vec::new();
    for (s, split) in splits.iter().enumerate() {
        eprintln!("== {}: {} pack users, {} evaluated users", split.name, split.pack_histories.len(), split.cases.len());
        let pack = match packs.last() {
            Some(previous) if splits[s - 1].pack_histories == split.pack_histories => previous.clone(),
            _ => build(args, data, split, PackSize::of(args), args.network_dim > 0)?,
        };
        rows.extend(evaluate(args, data, split, &pack)?);
        packs.push(pack);
    }
    Ok((rows, packs))
}

/// The strong-generalisation rows of all five folds pooled: the main split's
/// rows (already in `main_rows`) with those of the other four folds.
fn cross_validate(args: &EvalArgs, data: &Dataset, main_rows: &[Row]) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let mut fold_rows: Vec<Row> = Vec::new();
    for fold in (0..FOLDS).filter(|&f| f != MAIN_FOLD) {
        fold_rows.extend(evaluate_all(args, data, &strong_splits(data, args.seed, fold))?.0);
    }
    let mut pooled = Vec::new();
    for kind in ["validation", "test"] {
        let main_split = format!("strong ({kind})");
        for main in main_rows.iter().filter(|r| r.split == main_split) {
            let folds: Vec<&Row> = fold_rows.iter().filter(|r| r.method == main.method && r.split.starts_with(&format!("strong ({kind},"))).collect();
            let parts: Vec<&Metrics> = std::iter::once(&main.metrics).chain(folds.iter().map(|r| &r.metrics)).collect();
            let metrics = pool(&parts);
            eprintln!("   {FOLDS} folds ({kind}) {:<40} HR@10 {:.4}  NDCG@10 {:.4}  ({} users)", main.method, metrics.hr10, metrics.ndcg10, metrics.users);
            pooled.push(Row::new(format!("strong, all users in {FOLDS} folds ({kind})"), main.method.clone(), metrics));
        }
    }
    Ok(pooled)
}

/// The baselines and the engine (with `pack`, unsigned) on one split.
fn evaluate(args: &EvalArgs, data: &Dataset, split: &Split, pack: &CatalogPack) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let n = data.items.len();
    let replay = Replay::new(args, data, split)?;
    let row = |method: &str, metrics: Metrics| Row::new(split.name.clone(), method, metrics);

    let mut rows = Vec::new();
    if !args.engine_only {
        let baselines = Baselines::fit(&split.pack_histories, n, args.lambda, args.trend_half_life_days)?;
        let by = |f: &dyn Fn(&data::Case) -> Ranked| replay.score(&split.cases.iter().map(f).collect::<Vec<_>>());
        rows.extend([
            row("Popularity", by(&|c| baselines.popularity(c, 20))),
            row(&format!("Trending (half-life {} days)", args.trend_half_life_days), by(&|c| baselines.trending(c, 20))),
            row("Item-kNN (cosine)", by(&|c| baselines.item_knn(c, 20))),
            row(&format!("EASE (λ={})", args.lambda), by(&|c| baselines.ease(c, 20))),
            row(&format!("EASE + recency (half-life {} steps)", args.recency_half_life), by(&|c| baselines.ease_recency(c, 20, args.recency_half_life))),
        ]);
    }

    let pack = pack.sign(&eval_signer());
    let (metrics, per_user) = replay.engine(&pack, args.diversity, args.exploration)?;
    let network = if args.network_dim > 0 { format!(" + network d{}", args.network_dim) } else { String::new() };
    let als = if args.als_factors > 0 { format!(" + ALS {}", args.als_factors) } else { String::new() };
    let mut mizan = row(&format!("Mizan on-device ({} top-{} + transitions{network}{als})", args.model, args.top_k), metrics).timed(&per_user);
    mizan.pack_bytes = Some(pack.len());
    if args.full_scan {
        let (metrics, per_user) = replay.engine_with_feedback(&pack, args.diversity, args.exploration, 0, true)?;
        let scanned = row(&format!("{} (full scan)", mizan.method), metrics).timed(&per_user);
        rows.push(mizan);
        rows.push(scanned);
    } else {
        rows.push(mizan);
    }
    for r in &rows {
        eprintln!("   {:<48} HR@10 {:.4}  NDCG@10 {:.4}  HR@20 {:.4}", r.method, r.metrics.hr10, r.metrics.ndcg10, r.metrics.hr20);
    }
    Ok(rows)
}

/// The engine on one split at several diversity and exploration settings.
fn tradeoff(args: &EvalArgs, data: &Dataset, split: &Split, pack: &CatalogPack) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let replay = Replay::new(args, data, split)?;
    let pack = pack.sign(&eval_signer());
    let mut rows = Vec::new();
    for (diversity, exploration) in [(0.0, 0.0), (0.2, 0.0), (0.4, 0.0), (0.6, 0.0), (0.0, 0.1), (0.0, 0.2), (0.3, 0.1)] {
        let (metrics, _) = replay.engine(&pack, diversity, exploration)?;
        eprintln!("   trade-off diversity {diversity} exploration {exploration}: HR@10 {:.4} ILD@10 {:.3}", metrics.hr10, metrics.ild10);
        rows.push(Row::new("trade-off (strong test)", format!("Mizan, diversity {diversity}, exploration {exploration}"), metrics));
    }
    Ok(rows)
}

/// The engine on one split after the last `--online-feedback` steps of each
/// history were replayed as shown lists and clicks.
fn online_feedback(args: &EvalArgs, data: &Dataset, split: &Split, pack: &CatalogPack) -> Result<Row, Box<dyn std::error::Error>> {
    let replay = Replay::new(args, data, split)?;
    let (metrics, per_user) = replay.engine_with_feedback(&pack.sign(&eval_signer()), args.diversity, args.exploration, args.online_feedback, false)?;
    eprintln!("   online ranker after {} steps of feedback: HR@10 {:.4} NDCG@10 {:.4}", args.online_feedback, metrics.hr10, metrics.ndcg10);
    let method = format!("Mizan + online ranker (clicks on the last {} top-10 lists)", args.online_feedback);
    Ok(Row::new(split.name.clone(), method, metrics).timed(&per_user))
}

/// The ranker weight one sweep varies: its name, the values, and how to set it.
type Sweep<'a> = (&'a str, &'a [f32], fn(&mut RankerWeights, f32));

/// The engine on a validation split with `pack` at each value of one ranker
/// weight (tuning the mix without rebuilding the pack).
fn weight_sweep(args: &EvalArgs, data: &Dataset, split: &Split, pack: &CatalogPack, sweep: Sweep) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let (name, values, set) = sweep;
    let replay = Replay::new(args, data, split)?;
    let mut rows = Vec::new();
    for &value in values {
        let mut weighted = pack.clone();
        set(&mut weighted.default_weights, value);
        let (metrics, _) = replay.engine(&weighted.sign(&eval_signer()), args.diversity, args.exploration)?;
        eprintln!("   {name} weight {value}: HR@10 {:.4} NDCG@10 {:.4}", metrics.hr10, metrics.ndcg10);
        rows.push(Row::new(format!("{name} weight ({})", split.name), format!("Mizan, {name} weight {value}"), metrics));
    }
    Ok(rows)
}

/// The engine on one split with packs of several sizes, all carrying the
/// network (if any) of `full`, the split's headline pack.
fn size_curve(args: &EvalArgs, data: &Dataset, split: &Split, full: &CatalogPack) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let replay = Replay::new(args, data, split)?;
    let mut rows = Vec::new();
    for (neighbours, transitions) in [(5, 3), (10, 5), (20, 10), (30, 15), (40, 20), (60, 30), (100, 60)] {
        let pruned = build(args, data, split, PackSize { neighbours, transitions }, false)?;
        let pack = CatalogPack { network: full.network.clone(), default_weights: full.default_weights.clone(), ..pruned }.sign(&eval_signer());
        let (metrics, _) = replay.engine(&pack, args.diversity, args.exploration)?;
        eprintln!("   pack size {neighbours}+{transitions}: {} bytes, HR@10 {:.4}", pack.len(), metrics.hr10);
        let same_network = if full.network.is_some() { ", same network" } else { "" };
        let method = format!("Mizan, {neighbours} neighbours + {transitions} successors per item, int8{same_network}");
        rows.push(Row { pack_bytes: Some(pack.len()), ..Row::new("pack size (strong test)", method, metrics) });
    }
    Ok(rows)
}

/// Scores ranked lists for one split, and replays its cases through engines
/// in a scratch directory (removed when dropped).
struct Replay<'a> {
    split: &'a Split,
    categories: Vec<Vec<u32>>,
    popularity: Vec<f64>,
    ids: Vec<String>,
    trusted_key: Vec<u8>,
    scratch: PathBuf,
    repeats: runner::Repeats,
}

impl<'a> Replay<'a> {
    fn new(args: &EvalArgs, data: &Dataset, split: &'a Split) -> Result<Self, String> {
        let scratch = args.out.join(format!("scratch-{}", std::process::id()));
        crate::files::create_dir_all(&scratch)?;
        Ok(Replay {
            split,
            categories: data.items.iter().map(|i| i.categories.clone()).collect(),
            popularity: pack_popularity(split, data.items.len()),
            ids: data.items.iter().map(|i| i.id.clone()).collect(),
            trusted_key: public_key(&eval_signer()),
            scratch,
            repeats: runner::Repeats { calls: args.warm_calls as usize, cold_cache: args.cold_cache },
        })
    }

    /// The metrics of one ranked list per case.
    fn score(&self, ranked: &[Ranked]) -> Metrics {
        compute(&self.split.cases, ranked, &self.categories, &self.popularity)
    }

    /// The engine's metrics with `pack` at the given request knobs, and the mean
    /// time per user of `record` + `recommend`.
    fn engine(&self, pack: &[u8], diversity: f32, exploration: f32) -> Result<(Metrics, runner::Timing), mizan::Error> {
        self.engine_with_feedback(pack, diversity, exploration, 0, false)
    }

    /// The same with the last `feedback_steps` of each history replayed as a
    /// feedback loop (the time per user then includes those steps).
    fn engine_with_feedback(
        &self,
        pack: &[u8],
        diversity: f32,
        exploration: f32,
        feedback_steps: usize,
        full_scan: bool,
    ) -> Result<(Metrics, runner::Timing), mizan::Error> {
        let run = runner::EngineRun {
            pack,
            trusted_key: &self.trusted_key,
            ids: &self.ids,
            diversity,
            exploration,
            scratch: &self.scratch,
            feedback_steps,
            full_scan,
            repeats: self.repeats,
        };
        let (ranked, per_user) = runner::run(&run, &self.split.cases, 20)?;
        Ok((self.score(&ranked), per_user))
    }
}

impl Drop for Replay<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// The fixed key evaluation packs are signed with.
fn eval_signer() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[11; 32]).expect("seed")
}

/// Share of pack users who had each item (smoothed), for novelty.
fn pack_popularity(split: &Split, n: usize) -> Vec<f64> {
    let mut users_with = vec![0f64; n];
    for h in &split.pack_histories {
        let mut items: Vec<u32> = h.iter().map(|s| s.1).collect();
        items.sort_unstable();
        items.dedup();
        items.iter().for_each(|&i| users_with[i as usize] += 1.0);
    }
    users_with.iter().map(|c| (c + 1.0) / (split.pack_histories.len() as f64 + 1.0)).collect()
}

/// How much of each item's model a pack keeps.
#[derive(Clone, Copy)]
struct PackSize {
    neighbours: usize,
    transitions: usize,
}

impl PackSize {
    fn of(args: &EvalArgs) -> Self {
        PackSize { neighbours: args.top_k, transitions: args.transitions_top_k }
    }
}

/// The evaluation pack of one split, unsigned: read from `--pack-dir` when
/// the same pack was kept there, else built (and kept there).
fn build(args: &EvalArgs, data: &Dataset, split: &Split, size: PackSize, network: bool) -> Result<CatalogPack, Box<dyn std::error::Error>> {
    let Some(dir) = &args.pack_dir else {
        return train(args, data, split, size, network);
    };
    let path = dir.join(format!("{}.pack", pack_key(args, data, split, size, network)));
    if let Ok(bytes) = std::fs::read(&path) {
        eprintln!("   pack read from {}", path.display());
        return Ok(CatalogPack::verify(&bytes, &[public_key(&eval_signer())])?);
    }
    let pack = train(args, data, split, size, network)?;
    crate::files::create_dir_all(dir)?;
    crate::files::write(&path, pack.sign(&eval_signer()))?;
    Ok(pack)
}

/// A digest of everything a split's pack is built from: the catalogue, the
/// pack users' histories and the pack options (hex, for a file name).
fn pack_key(args: &EvalArgs, data: &Dataset, split: &Split, size: PackSize, network: bool) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let options = (
        (&args.model, args.lambda, args.seq_lambda, args.steps_ahead, size.neighbours, size.transitions),
        (network.then_some((args.network_dim, args.network_epochs)), args.als_factors, args.trend_half_life_days, &args.weights),
    );
    digest.update(format!("{options:?}{:?}{:?}", data.categories, data.items).as_bytes());
    for history in &split.pack_histories {
        digest.update(&(history.len() as u64).to_le_bytes());
        for &(t, i) in history {
            digest.update(&t.to_le_bytes());
            digest.update(&i.to_le_bytes());
        }
    }
    digest.finish().as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Trains the evaluation pack of one split, unsigned.
fn train(args: &EvalArgs, data: &Dataset, split: &Split, size: PackSize, network: bool) -> Result<CatalogPack, Box<dyn std::error::Error>> {
    let interactions: Vec<Interaction> = split
        .pack_histories
        .iter()
        .enumerate()
        .flat_map(|(u, h)| h.iter().map(move |&(t, item)| Interaction { user: u as u32, item, timestamp_ms: t }))
        .collect();
    let model = match args.model.as_str() {
        "ease" => ItemModel::Ease(EaseConfig { lambda: args.lambda, top_k: size.neighbours }),
        "llr" => ItemModel::Llr(LlrConfig { top_k: size.neighbours, ..Default::default() }),
        "sequential" => {
            ItemModel::Sequential(SequentialConfig { lambda: args.seq_lambda, top_k: size.neighbours, steps_ahead: args.steps_ahead, ..Default::default() })
        }
        _ => return Err("--model is ease, llr or sequential".into()),
    };
    let config = PackerConfig {
        model,
        transitions: TransitionConfig { top_k: size.transitions, ..Default::default() },
        network: network.then(|| NetworkConfig { dim: args.network_dim, epochs: args.network_epochs, ..Default::default() }),
        trend_half_life_days: args.trend_half_life_days,
        embeddings: if args.als_factors > 0 {
            EmbeddingSource::Als(AlsConfig { factors: args.als_factors, ..Default::default() })
        } else {
            EmbeddingSource::None
        },
        memory_budget_bytes: None,
        mark_consumables: false,
    };
    let meta = PackMeta { pack_version: 1, built_at_ms: 0, source: format!("evaluation split {}", split.name), coverage: None };
    let mut pack = build_pack(meta, data.categories.clone(), data.items.clone(), &interactions, &config)?;
    if let Some(values) = &args.weights {
        pack.default_weights = crate::pack::ranker_weights(values, &pack.default_weights)?;
    }
    Ok(pack)
}

/// Writes the strong-generalisation test split for the Python peers:
/// `train.csv` (user,item,timestamp_ms) and `cases.csv` (case,target,history).
fn write_split_files(out: &std::path::Path, split: &Split) -> Result<(), String> {
    use std::fmt::Write;
    let mut train = String::from("user,item,timestamp_ms\n");
    for (u, h) in split.pack_histories.iter().enumerate() {
        for (t, i) in h {
            let _ = writeln!(train, "{u},{i},{t}");
        }
    }
    let mut cases = String::from("case,target,history\n");
    for (n, c) in split.cases.iter().enumerate() {
        let history: Vec<String> = c.input.iter().map(|s| s.1.to_string()).collect();
        let _ = writeln!(cases, "{n},{},{}", c.target, history.join(" "));
    }
    crate::files::write(out.join("train.csv"), train)?;
    crate::files::write(out.join("cases.csv"), cases)
}

fn protocol(args: &EvalArgs) -> String {
    format!(
        "# Evaluation: {}\n\nProtocol: per-user chronological order (ties by item index); leave-last-out \
         (test = last item, validation = second-to-last); full ranking, seen items excluded. Strong \
         generalisation: 80/20 user split (seed {}), pack built from the 80% only, each evaluated user's \
         history replayed into a fresh engine through `record` then `recommend` at the target's time. Weak: \
         the pack also saw every evaluated user's training prefix. Gap ≥ 1 h: the strong test users whose \
         target follows their previous interaction by at least an hour. Temporal: pack from everything before \
         the 90th-percentile timestamp (validation: the 85th); users evaluated on their first interaction after it. \
         Trending: interactions counted ½ per {} days before the pack's newest, as the pack's trend. Novelty = mean \
         −log2 of the share of pack users who had the item. Engine requests use diversity {} and \
         exploration {}; engines score {}.{}\n",
        args.data.display(),
        args.seed,
        args.trend_half_life_days,
        args.diversity,
        args.exploration,
        if args.full_scan { "their candidates (and, in the full-scan rows, every catalogue item)" } else { "their candidates" },
        if args.cross_validate {
            " All users in 5 folds: the 80/20 split is one fold of five (each 20% of the shuffled users); \
             each other fold is evaluated the same way with a pack built from the remaining 80%, and the five \
             are pooled (means weighted by users; coverage is the mean of the folds' coverage)."
        } else {
            ""
        }
    )
}

/// A table of how hard each split's targets are (see [`metrics::TargetProfile`]).
fn targets_markdown(data: &Dataset, splits: &[Split]) -> String {
    let mut s = String::from(
        "## Targets\n\nPer split: how many targets share their timestamp with the interaction before them (their place \
         came from the tie-break by item index), and the median popularity rank of the targets among the pack's items \
         (0 = most popular).\n\n| Split | Users | Tied with the previous | Median popularity rank |\n|---|---|---|---|\n",
    );
    for split in splits {
        let t = target_profile(&split.cases, &pack_popularity(split, data.items.len()));
        s.push_str(&format!("| {} | {} | {:.1}% | {} |\n", split.name, t.users, 100.0 * t.tied_share, t.median_popularity_rank));
    }
    s
}

fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| Split | Method | HR@10 | NDCG@10 | HR@20 | Cov@10 | ILD@10 | Novelty | HR@10 gap≥1h (n) | Pack | ms/user |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let m = &r.metrics;
        s.push_str(&format!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.3} | {:.3} | {:.2} | {:.4} ({}) | {} | {} |\n",
            r.split,
            r.method,
            m.hr10,
            m.ndcg10,
            m.hr20,
            m.coverage10,
            m.ild10,
            m.novelty10,
            m.hr10_gap1h,
            m.users_gap1h,
            r.pack_bytes.map_or(String::new(), |b| format!("{:.2} MB", b as f64 / 1e6)),
            r.ms_per_user.map_or(String::new(), |t| format!("{t:.2}"))
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        eval: EvalArgs,
    }

    /// 60 users walking 12 steps around a ring of 60 items, one step a minute.
    fn ring_dataset(dir: &std::path::Path) {
        let mut catalog = String::from("id,title,categories,tags,sensitive,available_from_ms,available_until_ms\n");
        (0..60).for_each(|i| catalog.push_str(&format!("m{i},Film {i},{},,,,\n", if i % 2 == 0 { "Drama" } else { "Comedy" })));
        let mut interactions = String::from("user,item,timestamp_ms\n");
        for user in 0..60u64 {
            let start = (user * 7) % 60;
            for step in 0..12 {
                interactions.push_str(&format!("u{user},m{},{}\n", (start + step) % 60, 1_600_000_000_000 + (user * 1000 + step) as i64 * 60_000));
            }
        }
        std::fs::write(dir.join("catalog.csv"), catalog).unwrap();
        std::fs::write(dir.join("interactions.csv"), interactions).unwrap();
    }

    /// `mizan eval` with `flags` on the ring dataset: its directory (the output
    /// is in `out/`) and the rows of `results.json`.
    fn run_on_ring(flags: &[&str]) -> (tempfile::TempDir, Vec<serde_json::Value>) {
        let dir = tempfile::tempdir().unwrap();
        ring_dataset(dir.path());
        let out = dir.path().join("out");
        let args = ["eval", "--data", dir.path().to_str().unwrap(), "--out", out.to_str().unwrap()].into_iter().chain(flags.iter().copied());
        run(&Cli::parse_from(args).eval).unwrap();
        let rows = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
        (dir, rows)
    }

    /// The whole harness on a dataset whose next item is always known: every
    /// user is evaluated across the folds, and the engine finds what comes next
    /// where popularity cannot.
    #[test]
    fn cross_validation_evaluates_every_user_and_the_engine_learns_the_ring() {
        let (dir, rows) = run_on_ring(&["--strong-only", "--cross-validate"]);
        let find = |split: &str, method: &str| {
            rows.iter().find(|r| r["split"] == split && r["method"].as_str().unwrap().starts_with(method)).unwrap_or_else(|| panic!("{split} / {method}"))
        };
        let pooled = find("strong, all users in 5 folds (test)", "Mizan");
        assert_eq!(pooled["users"], 60, "every user evaluated once");
        assert_eq!(find("strong (test)", "Mizan")["users"], 12);
        assert!(pooled["hr10"].as_f64().unwrap() > 0.9, "{pooled}");
        assert!(find("strong, all users in 5 folds (test)", "Popularity")["hr10"].as_f64().unwrap() < 0.5);
        let report = std::fs::read_to_string(dir.path().join("out/results.md")).unwrap();
        assert!(report.contains("## Targets") && report.contains("All users in 5 folds"), "{report}");
    }

    /// Without `--strong-only` every view is reported: the weak and temporal
    /// splits, the accuracy/diversity trade-off and the pack-size curve.
    #[test]
    fn a_full_run_reports_every_view() {
        let (_dir, rows) = run_on_ring(&["--tradeoff", "--size-curve"]);
        let count = |split: &str| rows.iter().filter(|r| r["split"] == split).count();
        for split in ["strong (validation)", "strong (test)", "weak (test)", "temporal (validation, 85% cut-off)", "temporal (test, 90% cut-off)"] {
            assert_eq!(count(split), 6, "{split}: five baselines and Mizan");
        }
        let weak = rows.iter().find(|r| r["split"] == "weak (test)" && r["method"].as_str().unwrap().starts_with("Mizan")).unwrap();
        assert!(weak["hr10"].as_f64().unwrap() > 0.9, "{weak}");
        assert_eq!(count("trade-off (strong test)"), 7);
        let sizes: Vec<u64> = rows.iter().filter(|r| r["split"] == "pack size (strong test)").map(|r| r["pack_bytes"].as_u64().unwrap()).collect();
        assert!(sizes.len() > 2 && sizes.windows(2).all(|w| w[0] < w[1]), "packs grow with the links kept: {sizes:?}");
    }

    /// The feedback loop replays the last steps as shown lists and clicks: the
    /// history the engine ends with is the same (it still finds the ring's next
    /// item), and the rows say so for both strong splits.
    #[test]
    fn the_online_feedback_replay_keeps_the_history_and_reports_both_splits() {
        let (_dir, rows) = run_on_ring(&["--strong-only", "--online-feedback", "5"]);
        let online: Vec<&serde_json::Value> = rows.iter().filter(|r| r["method"].as_str().unwrap().starts_with("Mizan + online ranker")).collect();
        assert_eq!(online.iter().map(|r| r["split"].as_str().unwrap()).collect::<Vec<_>>(), ["strong (validation)", "strong (test)"]);
        for row in online {
            assert_eq!(row["users"], 12);
            assert!(row["hr10"].as_f64().unwrap() > 0.9, "{row}");
        }
    }
}
