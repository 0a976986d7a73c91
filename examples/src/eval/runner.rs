//! Replays each evaluated user's history into a fresh engine through the public
//! API (`record`, then `recommend`), exactly as on that user's phone.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizan::{Engine, EngineConfig, Event, EventKind, RecommendRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};

use super::data::Case;
use super::metrics::Ranked;

/// How the engine is asked.
pub struct EngineRun<'a> {
    /// The signed pack.
    pub pack: &'a [u8],
    /// Its public key.
    pub trusted_key: &'a [u8],
    /// Catalogue ids, by index.
    pub ids: &'a [String],
    /// Diversity knob of the request.
    pub diversity: f32,
    /// Exploration share of the request.
    pub exploration: f32,
    /// Where per-user stores are created (and erased).
    pub scratch: &'a Path,
}

/// Ranks every case with the engine on `threads` threads; returns the lists and
/// the mean wall time of `record` + `recommend` per user.
pub fn run(run: &EngineRun<'_>, cases: &[Case], k: u32, threads: usize) -> Result<(Vec<Ranked>, Duration), mizan::Error> {
    let index: HashMap<&str, u32> = run.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i as u32)).collect();
    let chunk = cases.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<Result<Vec<(Ranked, Duration)>, mizan::Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .enumerate()
            .map(|(t, part)| {
                let index = &index;
                scope.spawn(move || part.iter().enumerate().map(|(n, c)| one(run, index, c, k, t * chunk + n)).collect())
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("evaluation thread")).collect()
    });
    let mut ranked = Vec::with_capacity(cases.len());
    let mut total = Duration::ZERO;
    for part in results {
        for (r, d) in part? {
            ranked.push(r);
            total += d;
        }
    }
    Ok((ranked, total / cases.len().max(1) as u32))
}

fn one(run: &EngineRun<'_>, index: &HashMap<&str, u32>, case: &Case, k: u32, n: usize) -> Result<(Ranked, Duration), mizan::Error> {
    let mut config = EngineConfig::new(run.scratch.join(format!("user-{n}")), vec![run.trusted_key.to_vec()]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32])))?;
    engine.set_consent(PERSONALISATION, true, "evaluation", false)?;
    engine.load_catalog(run.pack)?;
    let events: Vec<Event> = case.input.iter().map(|&(t, i)| Event::new(EventKind::View, run.ids[i as usize].clone(), t)).collect();
    let started = Instant::now();
    for batch in events.chunks(mizan::events::MAX_BATCH) {
        engine.record(batch)?;
    }
    let request = RecommendRequest {
        k,
        diversity: run.diversity,
        exploration: run.exploration,
        now_ms: Some(case.target_ms),
        seed: Some(n as u64),
        ..RecommendRequest::default()
    };
    let recs = engine.recommend(&request)?;
    let elapsed = started.elapsed();
    engine.erase_all()?;
    Ok((recs.items.iter().filter_map(|r| index.get(r.item_id.as_str()).copied()).collect(), elapsed))
}
