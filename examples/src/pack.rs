//! `mizan pack …`: building, signing and checking catalogue packs.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use mizan::catalog::{public_key, CatalogPack, PackMeta, RankerWeights, WEIGHT_NAMES};
use mizan::packer::{
    assemble, build_pack, part_files, read_catalog_csv, read_catalog_json, read_factors_csv, read_interactions_csv, mark_consumables, read_learned, repurchase_hours, restrict, write_learned, AlsConfig, CatalogInput, Interaction,
    CooccurrenceConfig, EaseConfig, EmbeddingSource, ItemModel, LlrConfig, NetworkConfig, PackerConfig, SequentialConfig, Subset, TransitionConfig,
    TREND_HALF_LIFE_DAYS,
};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;

use crate::shop::{population_interactions, Shop, DEMO_NOW_MS};

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Seed of the demo signing key. The demo key signs only demo packs; a real
/// app's backend keeps its own key offline.
const DEMO_SIGNING_SEED: [u8; 32] = *b"mizan demo pack key, not secret!";
/// Shoppers in the simulated background population.
pub const POPULATION: usize = 600;
const POPULATION_SEED: u64 = 20_260_302;

/// The item-to-item model to learn.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelKind {
    /// Co-occurrence in users' baskets scored by log-likelihood ratio: sparse, for catalogues of any size.
    Llr,
    /// EASE closed-form item-to-item regression (dense: up to some tens of thousands of items).
    Ease,
    /// Distance-discounted co-occurrence.
    Cooccurrence,
    /// Ridge regression from the recent items and decayed history to the next few items.
    Sequential,
}

/// How the item model, transitions, popularity and trend are learned (shared by
/// `mizan pack learn` and `mizan pack build`).
#[derive(Args, Debug)]
pub struct LearnArgs {
    /// Catalogue file: `.json` or `.csv` (see the packer docs for columns).
    #[arg(long)]
    catalog: PathBuf,
    /// Interaction log CSV with header `user,item,timestamp_ms` (read row by row;
    /// malformed rows are counted and skipped).
    #[arg(long)]
    interactions: Option<PathBuf>,
    /// Item-to-item model.
    #[arg(long, value_enum, default_value = "ease")]
    model: ModelKind,
    /// Neighbours kept per item.
    #[arg(long, default_value_t = 40)]
    top_k: usize,
    /// LLR: distinct items kept per user, the most recent (caps heavy users' pairs).
    #[arg(long, default_value_t = LlrConfig::default().max_per_user)]
    max_per_user: usize,
    /// LLR: two basket items co-occur when at most this many positions apart (default: anywhere).
    #[arg(long)]
    window: Option<usize>,
    /// LLR: users a pair must co-occur for before it can be a neighbour.
    #[arg(long, default_value_t = LlrConfig::default().min_count)]
    min_count: u32,
    /// Memory the packer may use for dense matrices and LLR pair counts, in MB
    /// (default: what the machine has available).
    #[arg(long)]
    memory_budget_mb: Option<u64>,
    /// Regularisation (EASE or sequential).
    #[arg(long, default_value_t = 250.0)]
    lambda: f64,
    /// Successors kept per item for "what comes next".
    #[arg(long, default_value_t = 20)]
    transitions_top_k: usize,
    /// Days after which an interaction counts half towards what is popular now.
    #[arg(long, default_value_t = TREND_HALF_LIFE_DAYS)]
    trend_half_life_days: f64,
    /// The log is of purchases: mark the items a quarter of whose (five or more)
    /// buyers buy them again as repeatable (a catalogue tag `repeatable` or
    /// `not-repeatable` overrides this).
    #[arg(long)]
    mark_consumables: bool,
}

/// Options of `mizan pack learn`.
#[derive(Args, Debug)]
pub struct LearnOnlyArgs {
    #[command(flatten)]
    learn: LearnArgs,
    /// Directory to write what was learned into (the layout the Spark job writes).
    #[arg(long)]
    out: PathBuf,
}

/// Options of `mizan pack build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    learn: LearnArgs,
    /// Build from what `mizan pack learn` or the Spark job learned, instead of
    /// learning from `--interactions` here.
    #[arg(long, conflicts_with_all = ["interactions", "als_factors", "network_dim"])]
    learned: Option<PathBuf>,
    /// Learn item embeddings with implicit ALS, this many dimensions (0 = none).
    #[arg(long, default_value_t = 0)]
    als_factors: usize,
    /// Item factors trained elsewhere (e.g. Spark MLlib ALS), CSV `item,f1,…` or `item,"[f1, …]"`.
    #[arg(long, conflicts_with = "als_factors")]
    factors: Option<PathBuf>,
    /// Also train a sequence network with this many hidden dimensions (0 = none).
    #[arg(long, default_value_t = 0)]
    network_dim: usize,
    /// Ranker weights shipped in the pack, by name, overriding the model's defaults
    /// for the names given: e.g. `neighbour=1,transition=0.6,trend=0.5` (names:
    /// neighbour, transition, category, popularity, session_boost, sequence_boost,
    /// network, trend, embedding).
    #[arg(long, value_delimiter = ',')]
    weights: Option<Vec<String>>,
    /// PKCS#8 Ed25519 signing key (from `mizan pack keygen`).
    #[arg(long)]
    key: PathBuf,
    /// Pack version (monotonic, chosen by the backend).
    #[arg(long)]
    version: u64,
    /// Build time recorded in the pack, ms since the Unix epoch (fixed for reproducible packs).
    #[arg(long)]
    built_at_ms: i64,
    /// Description of the data the pack was learned from.
    #[arg(long, default_value = "")]
    source: String,
    /// Keep only the items in these categories (by name), e.g. one section of the shop.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["als_factors", "network_dim"])]
    only_categories: Vec<String>,
    /// Keep only the items carrying any of these tags, e.g. a market's `market:sa`.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["als_factors", "network_dim"])]
    only_tags: Vec<String>,
    /// Keep at most this many items (of those kept), the most interacted with.
    #[arg(long, conflicts_with_all = ["als_factors", "network_dim"])]
    top_items: Option<usize>,
    /// Where to write the signed pack.
    #[arg(long)]
    out: PathBuf,
}

impl LearnArgs {
    fn config(&self) -> PackerConfig {
        let memory_budget_bytes = self.memory_budget_mb.map(|mb| mb.saturating_mul(1 << 20));
        let model = match self.model {
            ModelKind::Llr => ItemModel::Llr(LlrConfig {
                top_k: self.top_k,
                max_per_user: self.max_per_user,
                window: self.window,
                min_count: self.min_count,
                pair_memory_bytes: memory_budget_bytes.map_or(LlrConfig::default().pair_memory_bytes, |b| (b / 2) as usize),
            }),
            ModelKind::Ease => ItemModel::Ease(EaseConfig { lambda: self.lambda, top_k: self.top_k }),
            ModelKind::Cooccurrence => ItemModel::Cooccurrence(CooccurrenceConfig { top_k: self.top_k, ..Default::default() }),
            ModelKind::Sequential => ItemModel::Sequential(SequentialConfig { lambda: self.lambda, top_k: self.top_k, ..Default::default() }),
        };
        PackerConfig {
            model,
            transitions: TransitionConfig { top_k: self.transitions_top_k, ..Default::default() },
            trend_half_life_days: self.trend_half_life_days,
            memory_budget_bytes,
            mark_consumables: self.mark_consumables,
            ..Default::default()
        }
    }

    /// The interaction log, if one was given; prints what was skipped.
    fn interactions(&self, catalog: &CatalogInput) -> CliResult<Vec<Interaction>> {
        let Some(path) = &self.interactions else { return Ok(vec![]) };
        let parsed = read_interactions_csv(crate::files::open(path)?, catalog)?;
        if let Some((line, reason)) = &parsed.first_bad_row {
            eprintln!("{}: skipped {} malformed rows (the first, line {line}: {reason})", path.display(), parsed.bad_rows);
        }
        if parsed.unknown_items > 0 {
            eprintln!("{}: skipped {} rows on items the catalogue does not have", path.display(), parsed.unknown_items);
        }
        Ok(parsed.interactions)
    }
}

/// Learns the item model, transitions, popularity and trend, and writes them
/// as files (the same layout the Spark job writes).
pub fn learn(args: &LearnOnlyArgs) -> CliResult<()> {
    let started = std::time::Instant::now();
    let catalog = read_catalog(&args.learn.catalog)?;
    let config = args.learn.config();
    config.check_fits(catalog.items.len())?;
    let interactions = args.learn.interactions(&catalog)?;
    let learned = mizan::packer::learn(&interactions, catalog.items.len(), &config)?;
    let ids: Vec<String> = catalog.items.into_iter().map(|i| i.id).collect();
    write_learned(&args.out, &learned, &ids)?;
    println!(
        "wrote {}: {} items, {} interactions, in {:.2} s",
        args.out.display(),
        ids.len(),
        interactions.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Builds, signs and writes a pack from files.
pub fn build(args: &BuildArgs) -> CliResult<()> {
    let started = std::time::Instant::now();
    let catalog = read_catalog(&args.learn.catalog)?;
    let n_items = catalog.items.len();
    let mut config = args.learn.config();
    config.embeddings = match (&args.factors, args.als_factors) {
        (Some(path), _) => {
            let (dim, rows) = read_factors_csv(&factor_rows(path)?[..], &catalog).map_err(|e| format!("{}: {e}", path.display()))?;
            EmbeddingSource::Precomputed { dim, rows }
        }
        (None, 0) => EmbeddingSource::None,
        (None, factors) => EmbeddingSource::Als(AlsConfig { factors, ..Default::default() }),
    };
    config.network = (args.network_dim > 0).then(|| NetworkConfig { dim: args.network_dim, ..Default::default() });
    // Refuse what cannot work before reading a large log.
    if args.learned.is_none() {
        config.check_fits(n_items)?;
    }
    let key = crate::files::read(&args.key)?;
    let signer = Ed25519KeyPair::from_pkcs8(&key).map_err(|_| format!("{}: not a PKCS#8 Ed25519 key", args.key.display()))?;
    if let Some(values) = &args.weights {
        ranker_weights(values, &RankerWeights::default())?;
    }
    let mut meta = PackMeta { pack_version: args.version, built_at_ms: args.built_at_ms, source: args.source.clone(), coverage: None };
    let subset = Subset { categories: args.only_categories.clone(), tags: args.only_tags.clone(), most_interacted: args.top_items };
    let factors = |embeddings: EmbeddingSource| match embeddings {
        EmbeddingSource::Precomputed { dim, rows } => Some((dim, rows)),
        _ => None,
    };
    let progress = crate::progress::stage("reading the interactions");
    let fitting = |progress: &indicatif::ProgressBar, interactions: usize| progress.set_message(format!("fitting the model to {interactions} interactions"));
    let (mut pack, interactions) = match &args.learned {
        None if subset.is_whole() => {
            let interactions = args.learn.interactions(&catalog)?;
            fitting(&progress, interactions.len());
            (build_pack(meta, catalog.categories, catalog.items, &interactions, &config)?, interactions.len())
        }
        learned_dir => {
            let (learned, interactions) = match learned_dir {
                Some(dir) => (read_learned(dir, &catalog)?, 0),
                None => {
                    let interactions = args.learn.interactions(&catalog)?;
                    fitting(&progress, interactions.len());
                    (mizan::packer::learn(&interactions, n_items, &config)?, interactions.len())
                }
            };
            let mut items = catalog.items;
            if config.mark_consumables {
                let marked = mark_consumables(&mut items, &learned);
                progress.suspend(|| eprintln!("marked {marked} consumable items as repeatable"));
            }
            let (items, learned, factors) = if subset.is_whole() {
                (items, learned, factors(config.embeddings))
            } else {
                let part = restrict(items, &catalog.categories, learned, factors(config.embeddings), &subset)?;
                progress.suspend(|| eprintln!("the pack covers {} of {n_items} items ({})", part.items.len(), part.coverage.subset));
                meta.coverage = Some(part.coverage);
                (part.items, part.learned, part.factors)
            };
            // Purchase rhythms are learned only from a log of purchases (as consumables are).
            let hours = if config.mark_consumables { repurchase_hours(&items, &learned) } else { Vec::new() };
            let pack = assemble(meta, catalog.categories, items, learned, factors, None)?;
            (CatalogPack { repurchase_hours: hours, ..pack }, interactions)
        }
    };
    if let Some(values) = &args.weights {
        pack.default_weights = ranker_weights(values, &pack.default_weights)?;
    }
    progress.set_message("signing and checking the pack");
    let bytes = pack.sign(&signer);
    // The engine's own checks, so that a pack it would refuse (e.g. NaN weights) is never written.
    CatalogPack::verify(&bytes, &[public_key(&signer)]).map_err(|e| format!("the built pack would be refused: {e}"))?;
    crate::files::write(&args.out, &bytes)?;
    progress.finish_and_clear();
    let from = match &args.learned {
        Some(dir) => format!("learned in {}", dir.display()),
        None => format!("{interactions} interactions"),
    };
    let kept = pack.items.len();
    println!("wrote {} ({} bytes): {kept} items, {from}, in {:.2} s", args.out.display(), bytes.len(), started.elapsed().as_secs_f64());
    if pack.embeddings.is_some() && pack.default_weights.embedding == 0.0 {
        eprintln!("note: the pack carries item embeddings at weight 0 (the default beside the sequential model); --weights embedding=2 makes them count");
    }
    Ok(())
}

/// `pack_defaults` (the weights the packer chose for the pack) with the weights
/// named in `pairs` (`name=value`) replaced.
pub fn ranker_weights(pairs: &[String], pack_defaults: &RankerWeights) -> CliResult<RankerWeights> {
    let mut weights = pack_defaults.clone();
    for pair in pairs {
        let (name, value) = pair.split_once('=').ok_or_else(|| format!("weight {pair:?} is not name=value"))?;
        let value: f32 = value.trim().parse().map_err(|_| format!("weight {name:?} is not a number"))?;
        if !value.is_finite() {
            return Err(format!("weight {name:?} must be finite").into());
        }
        let known = WEIGHT_NAMES.join(", ");
        *weights.get_mut(name.trim()).ok_or_else(|| format!("unknown weight {name:?}; the weights are {known}"))? = value;
    }
    Ok(weights)
}

/// The factor rows in `path`: a file, or a directory of `*.csv` parts without
/// headers (as the Spark job writes them), concatenated in name order.
fn factor_rows(path: &Path) -> CliResult<Vec<u8>> {
    let mut rows = Vec::new();
    for part in part_files(path)? {
        rows.extend(crate::files::read(&part)?);
    }
    Ok(rows)
}

fn read_catalog(path: &Path) -> CliResult<CatalogInput> {
    let file = crate::files::open(path)?;
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("json") => read_catalog_json(file)?,
        Some("csv") => read_catalog_csv(file)?,
        _ => return Err("the catalogue must be a .json or .csv file".into()),
    })
}

/// Generates a signing key pair: PKCS#8 private key and raw 32-byte public key.
pub fn keygen(out: &Path, public_key_out: &Path) -> CliResult<()> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| "no system randomness")?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| "generated key does not parse")?;
    crate::files::write(out, pkcs8.as_ref())?;
    crate::files::write(public_key_out, public_key(&pair))?;
    println!("wrote signing key {} (keep it offline) and public key {}", out.display(), public_key_out.display());
    Ok(())
}

/// The demo signing key pair.
pub fn demo_signer() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&DEMO_SIGNING_SEED).expect("32-byte seed")
}

/// Builds and signs the demo pack; returns (signed bytes, trusted public key).
pub fn demo_pack(shop: &Shop) -> (Vec<u8>, Vec<u8>) {
    let interactions = population_interactions(shop, POPULATION, POPULATION_SEED);
    let meta = PackMeta {
        pack_version: 1,
        built_at_ms: DEMO_NOW_MS,
        source: format!("synthetic shop: {POPULATION} simulated shoppers, {} interactions", interactions.len()),
        coverage: None,
    };
    let pack = build_pack(meta, shop.categories.clone(), shop.items.clone(), &interactions, &PackerConfig::default())
        .expect("co-occurrence packing cannot fail");
    let signer = demo_signer();
    (pack.sign(&signer), public_key(&signer))
}

/// Verifies a pack against a public key and describes it.
pub fn describe(pack_bytes: &[u8], public_key: &[u8]) -> Result<String, mizan::PackError> {
    let pack = CatalogPack::verify(pack_bytes, &[public_key.to_vec()])?;
    let links = |lists: &[mizan::catalog::NeighbourList]| lists.iter().map(|n| n.items.len()).sum::<usize>();
    Ok(format!(
        "pack v{} ({} bytes): {} items, {} categories, {} neighbour links, {} transitions, {}; source: {}",
        pack.meta.pack_version,
        pack_bytes.len(),
        pack.items.len(),
        pack.categories.len(),
        links(&pack.neighbours),
        links(&pack.transitions),
        pack.network.as_ref().map_or("no sequence network".to_string(), |n| format!("a {}-d sequence network", n.dim())),
        pack.meta.source
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mizan::catalog::TREND_WEIGHT;

    fn args(dir: &Path, weights: Option<Vec<String>>) -> BuildArgs {
        std::fs::write(dir.join("catalog.csv"), "id,title,categories,tags,sensitive,available_from_ms,available_until_ms\na,A,x,,,,\nb,B,x,,,,\n").unwrap();
        keygen(&dir.join("key.pk8"), &dir.join("key.pub")).unwrap();
        BuildArgs {
            learn: LearnArgs {
                catalog: dir.join("catalog.csv"),
                interactions: None,
                model: ModelKind::Ease,
                top_k: 40,
                max_per_user: 500,
                window: None,
                min_count: 2,
                memory_budget_mb: None,
                lambda: 250.0,
                transitions_top_k: 20,
                trend_half_life_days: TREND_HALF_LIFE_DAYS,
                mark_consumables: false,
            },
            learned: None,
            only_categories: vec![],
            only_tags: vec![],
            top_items: None,
            als_factors: 0,
            factors: None,
            network_dim: 0,
            weights,
            key: dir.join("key.pk8"),
            version: 1,
            built_at_ms: 0,
            source: String::new(),
            out: dir.join("out.pack"),
        }
    }

    #[test]
    fn weights_override_the_defaults_and_bad_ones_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let named = |s: &str| -> Vec<String> { s.split(',').map(str::to_string).collect() };
        build(&args(dir.path(), Some(named("neighbour=1,transition=2,sequence_boost=9, network = 0.1")))).unwrap();
        let public_key = std::fs::read(dir.path().join("key.pub")).unwrap();
        let pack = CatalogPack::verify(&std::fs::read(dir.path().join("out.pack")).unwrap(), &[public_key]).unwrap();
        let defaults = RankerWeights { embedding: 0.0, ..RankerWeights::default() };
        let expected = RankerWeights { neighbour: 1.0, transition: 2.0, sequence_boost: 9.0, network: 0.1, ..defaults.clone() };
        assert_eq!(pack.default_weights, expected, "the names given replace the pack's own weights; the rest stay");
        assert_eq!(pack.default_weights.trend, TREND_WEIGHT);
        assert_eq!(pack.default_weights.embedding, 0.0, "none without embeddings");

        for bad in ["neighbour", "neighbour=x", "neighbourr=1", "embedding=NaN", "trend=inf", "session_boost=-1"] {
            let fresh = tempfile::tempdir().unwrap();
            assert!(build(&args(fresh.path(), Some(named(bad)))).is_err(), "{bad:?}");
            assert!(!fresh.path().join("out.pack").exists(), "{bad:?}");
        }
    }

    #[test]
    fn a_dense_model_past_the_budget_is_refused_before_the_log_is_read_and_the_sparse_one_builds() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        std::fs::write(&log, "user,item,timestamp_ms\nu1,a,1\nu1,b,2\nu2,a,3\nu2,b,x\nu2,b,4\n").unwrap();
        let mut dense = args(dir.path(), None);
        (dense.learn.interactions, dense.learn.memory_budget_mb) = (Some(dir.path().join("missing.csv")), Some(0));
        let err = build(&dense).unwrap_err().to_string();
        assert!(err.contains("--model llr"), "refused before the missing log is opened: {err}");
        let learned = dir.path().join("learned");
        let mut learn_args = args(dir.path(), None).learn;
        (learn_args.interactions, learn_args.model) = (Some(log.clone()), ModelKind::Llr);
        let mut from_files = args(dir.path(), None);
        from_files.learned = Some(learned.clone());
        // The last key generated signs every pack below.
        let mut sparse = args(dir.path(), None);
        (sparse.learn.interactions, sparse.learn.model, sparse.learn.memory_budget_mb) = (Some(log), ModelKind::Llr, Some(1));
        build(&sparse).unwrap();
        let direct = std::fs::read(dir.path().join("out.pack")).unwrap();
        // Learning to files and building from them gives the same pack.
        learn(&LearnOnlyArgs { learn: learn_args, out: learned }).unwrap();
        build(&from_files).unwrap();
        assert_eq!(std::fs::read(dir.path().join("out.pack")).unwrap(), direct);
        let public_key = std::fs::read(dir.path().join("key.pub")).unwrap();
        let pack = CatalogPack::verify(&std::fs::read(dir.path().join("out.pack")).unwrap(), &[public_key]).unwrap();
        assert_eq!(pack.popularity[0], pack.popularity[1], "the malformed row is skipped, the rest counted");
    }

    #[test]
    fn a_pack_for_part_of_the_catalogue_says_what_it_covers() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.csv");
        std::fs::write(&log, "user,item,timestamp_ms\nu1,a,1\nu1,b,2\nu2,b,3\n").unwrap();
        let mut part = args(dir.path(), None);
        (part.learn.interactions, part.learn.model) = (Some(log), ModelKind::Llr);
        (part.only_categories, part.top_items) = (vec!["x".into()], Some(1));
        build(&part).unwrap();
        let public_key = std::fs::read(dir.path().join("key.pub")).unwrap();
        let pack = CatalogPack::verify(&std::fs::read(dir.path().join("out.pack")).unwrap(), &[public_key]).unwrap();
        assert_eq!(pack.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["b"], "the most interacted");
        let coverage = pack.meta.coverage.expect("the pack says what it covers");
        assert_eq!((coverage.subset.as_str(), coverage.source_items), ("categories: x; the 1 most interacted items", 2));
        part.only_categories = vec!["no such section".into()];
        assert!(build(&part).unwrap_err().to_string().contains("no such section"));
    }
}
