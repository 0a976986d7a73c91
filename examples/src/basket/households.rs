//! A seeded simulator of grocery households, for `mizan eval-basket` when no
//! public basket dataset is at hand (none is in the package registries this
//! project may use).
//!
//! The shop has [`AISLES`] aisles of [`PER_AISLE`] items, popular along a Zipf
//! law within each aisle. Three items in four are consumables with a typical
//! interval between purchases that depends on the aisle (fresh food days,
//! pantry weeks, household goods a month or two); the rest are bought once.
//! Each household starts using the app at some moment of the span (so some
//! have a few orders, some months of them) and shops on its own rhythm (every
//! 3 to 14 days, with jitter),
//! prefers three aisles, and keeps staples: consumables it re-buys on its own
//! interval (the item's, stretched or shrunk per household, never shorter than
//! its rhythm), skipping now and then. Each order also holds a few impulse
//! items from its aisles, popular first; an impulse consumable sometimes
//! becomes a new staple. So the next basket is mostly the household's own
//! rhythm (what a repurchase model predicts) plus what people with the same
//! aisles buy (what a collaborative model predicts). Deterministic per seed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson, Zipf};

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Aisles in the shop.
pub const AISLES: u32 = 24;
/// Items per aisle.
pub const PER_AISLE: u32 = 50;
/// Days simulated, ending at [`END_MS`].
const SPAN_DAYS: f64 = 240.0;
/// The newest possible order.
pub const END_MS: i64 = 1_780_000_000_000;
const DAY_MS: f64 = 86_400_000.0;
/// Median typical interval (days) of the consumables of aisle `a`: fresh, pantry, household goods.
fn aisle_interval_days(aisle: u32) -> f64 {
    [4.0, 7.0, 14.0, 30.0, 45.0][(aisle % 5) as usize]
}
/// A staple due is left out of an order this often.
const SKIP: f64 = 0.15;
/// Impulse items per order (Poisson mean).
const IMPULSE: f64 = 1.5;
/// An impulse consumable becomes a staple this often.
const ADOPT: f64 = 0.25;

/// One simulated shop item.
struct ShopItem {
    aisle: u32,
    /// The typical days between purchases of a consumable (none for a one-off).
    interval_days: Option<f64>,
}

/// Writes `catalog.csv` (no tags: the packer must find the consumables itself)
/// and `interactions.csv` (one row per item per order) for `households`.
pub fn simulate(households: u32, seed: u64, out: &Path) -> CliResult<(usize, usize)> {
    crate::files::create_dir_all(out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let spread = LogNormal::new(0.0, 0.35)?;
    let items: Vec<ShopItem> = (0..AISLES * PER_AISLE)
        .map(|i| {
            let aisle = i / PER_AISLE;
            let consumable = rng.random_bool(0.75);
            ShopItem { aisle, interval_days: consumable.then(|| aisle_interval_days(aisle) * spread.sample(&mut rng)) }
        })
        .collect();
    let mut catalog = create(out, "catalog.csv")?;
    writeln!(catalog, "id,title,categories")?;
    for (i, item) in items.iter().enumerate() {
        writeln!(catalog, "g{i},Grocery {i},aisle {}", item.aisle)?;
    }
    catalog.flush()?;

    let mut log = create(out, "interactions.csv")?;
    writeln!(log, "user,item,timestamp_ms")?;
    let in_aisle = Zipf::new(f64::from(PER_AISLE), 1.0)?;
    let impulses = Poisson::new(IMPULSE)?;
    let jitter = LogNormal::new(0.0, 0.15)?;
    let start = END_MS as f64 - SPAN_DAYS * DAY_MS;
    let mut rows = 0usize;
    for household in 0..households {
        let rhythm_days = [3.0, 4.0, 5.0, 7.0, 7.0, 7.0, 10.0, 14.0][rng.random_range(0..8)];
        let aisles: Vec<u32> = (0..3).map(|_| rng.random_range(0..AISLES)).collect();
        // Picks an item of one of the household's aisles (any aisle one time in five), popular first.
        let pick = |rng: &mut ChaCha8Rng| {
            let aisle = if rng.random_bool(0.8) { aisles[rng.random_range(0..aisles.len())] } else { rng.random_range(0..AISLES) };
            aisle * PER_AISLE + in_aisle.sample(rng) as u32 - 1
        };
        // Households start using the app at any time: some have a few orders, some months of them.
        let mut t = start + rng.random_range(0.0..(SPAN_DAYS * DAY_MS - 3.0 * rhythm_days * DAY_MS));
        // Staples: (item, this household's interval in ms, when last bought).
        let mut staples: Vec<(u32, f64, f64)> = Vec::new();
        for _ in 0..rng.random_range(4..24) {
            let item = pick(&mut rng);
            if let Some(days) = items[item as usize].interval_days.filter(|_| staples.iter().all(|s| s.0 != item)) {
                let own = (days * spread.sample(&mut rng)).max(rhythm_days) * DAY_MS;
                staples.push((item, own, t - rng.random_range(0.0..own)));
            }
        }
        while t < END_MS as f64 {
            let mut basket: Vec<u32> = Vec::new();
            for staple in &mut staples {
                if t - staple.2 >= staple.1 * jitter.sample(&mut rng) && !rng.random_bool(SKIP) {
                    basket.push(staple.0);
                    staple.2 = t;
                }
            }
            for _ in 0..impulses.sample(&mut rng) as usize {
                let item = pick(&mut rng);
                basket.push(item);
                if let Some(days) = items[item as usize].interval_days.filter(|_| rng.random_bool(ADOPT) && staples.iter().all(|s| s.0 != item)) {
                    staples.push((item, (days * spread.sample(&mut rng)).max(rhythm_days) * DAY_MS, t));
                }
            }
            basket.sort_unstable();
            basket.dedup();
            for (k, item) in basket.iter().enumerate() {
                // Items of one order are scanned a few seconds apart.
                writeln!(log, "h{household},g{item},{}", t as i64 + 5_000 * k as i64)?;
            }
            rows += basket.len();
            t += rhythm_days * DAY_MS * jitter.sample(&mut rng);
        }
    }
    log.flush()?;
    Ok((items.len(), rows))
}

fn create(out: &Path, name: &str) -> CliResult<BufWriter<File>> {
    let path = out.join(name);
    Ok(crate::files::create(&path).map(BufWriter::new)?)
}
