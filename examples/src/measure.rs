//! `mizan pack synth` and `mizan pack measure`: synthetic packs at catalogue
//! scale, and what a pack costs a phone: its bytes per item by section, the
//! time to verify and load it, and the memory an engine holds with it loaded
//! and a history recorded.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use mizan::catalog::{public_key, Catalog, CatalogPack};
use mizan::{Engine, EngineConfig, Event, EventKind, RecommendRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};

type CliResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The moment synthetic histories end at.
const NOW: i64 = 1_780_000_000_000;
/// How many times the load is timed (the median is reported).
const LOAD_RUNS: usize = 5;

/// Writes a synthetic pack (`mizan::packer::synthetic_pack`) signed with the demo key, and that key.
pub fn synth(items: u32, network_dim: usize, embedding_dim: usize, out: &Path, public_key_out: &Path) -> CliResult<()> {
    let signer = crate::pack::demo_signer();
    let bytes = mizan::packer::synthetic_pack(items, network_dim, embedding_dim).sign(&signer);
    crate::files::write(out, &bytes)?;
    crate::files::write(public_key_out, public_key(&signer))?;
    println!("wrote {} ({} bytes, {items} items) and {}", out.display(), bytes.len(), public_key_out.display());
    Ok(())
}

/// Resident and peak resident memory of this process, in bytes (Linux).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok()).unwrap_or(0) * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Measures `pack` as a phone would use it: first the memory of an engine with
/// it loaded and a history of `history` views recorded (in a process that has
/// done nothing else yet), then its size by section and its load time.
pub fn measure(pack: &Path, key: &Path, history: u32) -> CliResult<()> {
    let (rss_start, _) = memory();
    let trusted = vec![crate::files::read(key)?];
    let dir = tempfile::tempdir()?;
    let mut config = EngineConfig::new(dir.path(), trusted.clone());
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    let engine = Engine::open(config, Arc::new(StaticKey(vec![3; 32])))?;
    engine.set_consent(PERSONALISATION, true, "measure", false)?;
    let n = {
        let bytes = crate::files::read(pack)?;
        engine.load_catalog(&bytes)?;
        // The host's copy of the bytes is dropped here; the engine keeps its own layout.
        engine.inspect()?.catalog.map_or(0, |c| c.items as usize)
    };
    let events: Vec<Event> = (0..history)
        .map(|i| {
            let item = (u64::from(i) * 7_919 + u64::from(i / 7)) % n as u64;
            Event::new(EventKind::View, item.to_string(), NOW - 60_000 * i64::from(history - i))
        })
        .collect();
    for batch in events.chunks(mizan::events::MAX_BATCH) {
        engine.record(batch)?;
    }
    drop(events);
    engine.recommend(&RecommendRequest { k: 20, now_ms: Some(NOW), ..Default::default() })?;
    let (rss, peak) = memory();
    let mb = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "engine with the pack and {history} events, after a recommend: resident {:.1} MB ({:.1} MB over the process before it), peak {:.1} MB",
        mb(rss as usize),
        mb(rss.saturating_sub(rss_start) as usize),
        mb(peak as usize)
    );
    drop(engine);

    let bytes = crate::files::read(pack)?;
    let started = Instant::now();
    let sections = CatalogPack::section_sizes(&bytes, &trusted)?;
    let verify_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut loads: Vec<f64> = (0..LOAD_RUNS)
        .map(|_| {
            let started = Instant::now();
            Catalog::from_signed(&bytes, &trusted).map(|_| started.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    loads.sort_by(f64::total_cmp);
    let footprint = Catalog::from_signed(&bytes, &trusted)?.footprint();
    let per_item = |names: &[&str]| sections.iter().filter(|(s, _)| names.contains(&s.as_str())).map(|(_, b)| *b).sum::<usize>() as f64 / n as f64;
    println!("pack: {} bytes, {n} items ({:.1} bytes per item)", bytes.len(), bytes.len() as f64 / n as f64);
    for (name, size) in &sections {
        println!("  section {name:<12} {size:>12} bytes  {:>8.1} per item", *size as f64 / n as f64);
    }
    println!("  links (neighbours + transitions): {:.1} bytes per item", per_item(&["neighbours", "transitions"]));
    println!("verify + decode + lay out: median {:.1} ms of {LOAD_RUNS} (min {:.1}, max {:.1})", loads[LOAD_RUNS / 2], loads[0], loads[LOAD_RUNS - 1]);
    println!("  of which the signature check alone: {verify_ms:.1} ms");
    let f = footprint;
    println!(
        "catalogue in memory: items {:.1} MB, id index {:.1} MB, links {:.1} MB, vectors {:.1} MB, other {:.1} MB",
        mb(f.items),
        mb(f.index),
        mb(f.links),
        mb(f.vectors),
        mb(f.other)
    );
    Ok(())
}
