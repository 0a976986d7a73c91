//! `mizan pack synth-log`: a synthetic catalogue and interaction log with a
//! realistic long tail, for measuring the packer (and the Spark job) at sizes
//! no public dataset here reaches.
//!
//! Items are ranked by popularity along a Zipf law (exponent 1); item `r` is the
//! `r`-th most popular, in category `r mod C` (one category per 500 items, at
//! least 18). Each user has a home category: seven picks in ten come from it
//! (Zipf within the category), the rest from the whole catalogue. History
//! lengths are log-normal (median 20, a few heavy users past a thousand),
//! events a few minutes apart within a user's sessions over 180 days. Users are
//! added until the log holds `per_item` interactions per item. Deterministic.

use std::io::{BufWriter, Write};
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Zipf};

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Share of a user's picks from their home category.
const HOME_SHARE: f64 = 0.7;
/// Span of the log, ms (180 days), ending at [`END_MS`].
const SPAN_MS: i64 = 180 * 86_400_000;
/// The newest possible interaction.
const END_MS: i64 = 1_780_000_000_000;

/// Writes `catalog.csv` and `interactions.csv` into `out` (created if needed).
pub fn synth_log(items: u32, per_item: u32, seed: u64, out: &Path) -> CliResult<()> {
    if items < 2 || per_item == 0 {
        return Err("--items must be at least 2 and --per-item at least 1".into());
    }
    crate::files::create_dir_all(out)?;
    let categories = (items / 500).max(18).min(items);
    let create = |name: &str| {
        let path = out.join(name);
        crate::files::create(&path).map(BufWriter::new)
    };
    let mut catalog = create("catalog.csv")?;
    writeln!(catalog, "id,title,categories")?;
    for r in 0..items {
        writeln!(catalog, "i{r},Item {r},c{}", r % categories)?;
    }
    catalog.flush()?;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let global = Zipf::new(f64::from(items), 1.0)?;
    let per_category = items.div_ceil(categories);
    let home = Zipf::new(f64::from(per_category), 1.0)?;
    let lengths = LogNormal::new(20f64.ln(), 1.0)?;
    let mut log = create("interactions.csv")?;
    writeln!(log, "user,item,timestamp_ms")?;
    let target = u64::from(items) * u64::from(per_item);
    let (mut written, mut user) = (0u64, 0u64);
    while written < target {
        let category = rng.random_range(0..categories);
        let length = (lengths.sample(&mut rng).round() as u64).clamp(1, 5_000).min(target - written);
        let mut t = END_MS - rng.random_range(0..SPAN_MS);
        for _ in 0..length {
            let in_home = (home.sample(&mut rng) as u32 - 1) * categories + category;
            let item = if rng.random_bool(HOME_SHARE) && in_home < items { in_home } else { global.sample(&mut rng) as u32 - 1 };
            // Minutes apart within a session, sometimes a day or two between sessions.
            t += if rng.random_bool(0.9) { rng.random_range(30_000..600_000) } else { rng.random_range(3_600_000..172_800_000) };
            writeln!(log, "u{user},i{item},{}", t.min(END_MS))?;
        }
        written += length;
        user += 1;
    }
    log.flush()?;
    println!("wrote {} and {}: {items} items, {user} users, {written} interactions", out.join("catalog.csv").display(), out.join("interactions.csv").display());
    Ok(())
}
