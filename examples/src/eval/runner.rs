//! Replays each evaluated user's history into a fresh engine through the public
//! API (`record`, then `recommend`), exactly as on that user's phone; optionally
//! the last steps of the history as a feedback loop (shown a top 10 before each
//! step, clicking it when the item that came next is in it) so that the online
//! ranker learns from them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizan::{Engine, EngineConfig, Event, EventKind, Feedback, RecommendRequest, Recommendations, Retention, StaticKey, SyncPolicy, PERSONALISATION};

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
    /// How many of the last history steps are replayed as shown lists and clicks
    /// (0: the history is only recorded).
    pub feedback_steps: usize,
    /// Whether engines score every item instead of their candidates.
    pub full_scan: bool,
    /// How the final `recommend` is asked again and timed.
    pub repeats: Repeats,
}

/// How often each user's final `recommend` is asked again, and from what state.
#[derive(Debug, Clone, Copy)]
pub struct Repeats {
    /// How many times (at least once).
    pub calls: usize,
    /// Whether the processor's caches are evicted before the first repeat.
    pub cold_cache: bool,
}

/// More than the largest last-level cache of the machines measured on.
const EVICTION_BYTES: usize = 64 << 20;

/// Writes a buffer larger than the caches, one byte per cache line, so that
/// whatever a ranking reads next comes from memory.
fn evict_caches(buffer: &mut Vec<u8>) {
    buffer.resize(EVICTION_BYTES, 0);
    buffer.iter_mut().step_by(64).for_each(|b| *b = b.wrapping_add(1));
    std::hint::black_box(buffer);
}

/// Items shown per simulated screen.
const SHOWN: u32 = 10;

/// Mean wall times per evaluated user.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// `record` of the history (and any replayed screens) plus the final `recommend`.
    pub per_user: Duration,
    /// The final `recommend` alone.
    pub per_recommend: Duration,
    /// The same `recommend` asked again, each repeat by its place (not part
    /// of `per_user`). As for the peers, the time of freeing an answer is not
    /// in it: it is `per_answer_drop`.
    pub per_repeat: Vec<Duration>,
    /// Dropping one repeat's answer (its strings and vectors), mean over the repeats.
    pub per_answer_drop: Duration,
}

impl Timing {
    /// The first repeat: the engine kept open, its buffers grown by the first
    /// call (from cold caches under [`Repeats::cold_cache`]).
    pub fn per_warm_recommend(&self) -> Duration {
        self.per_repeat.first().copied().unwrap_or_default()
    }
}

/// Ranks every case with the engine, one user after another on one thread so
/// that each call is timed alone (as the peers are); returns the lists and the
/// mean wall times per user.
pub fn run(run: &EngineRun<'_>, cases: &[Case], k: u32) -> Result<(Vec<Ranked>, Timing), mizan::Error> {
    let index: HashMap<&str, u32> = run.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i as u32)).collect();
    let progress = crate::progress::bar(cases.len() as u64, "users");
    let mut ranked = Vec::with_capacity(cases.len());
    let mut total = Timing { per_repeat: vec![Duration::ZERO; run.repeats.calls.max(1)], ..Timing::default() };
    let mut eviction = Vec::new();
    let replayed: Result<(), mizan::Error> = cases.iter().enumerate().try_for_each(|(n, case)| {
        let (r, t) = one(run, &index, case, k, n, &mut eviction)?;
        progress.inc(1);
        ranked.push(r);
        total.per_user += t.per_user;
        total.per_recommend += t.per_recommend;
        total.per_repeat.iter_mut().zip(&t.per_repeat).for_each(|(sum, d)| *sum += *d);
        total.per_answer_drop += t.per_answer_drop;
        Ok(())
    });
    // Cleared before any error is reported, so no half bar is left on the terminal.
    progress.finish_and_clear();
    replayed?;
    let users = cases.len().max(1) as u32;
    let per_repeat: Vec<Duration> = total.per_repeat.iter().map(|d| *d / users).collect();
    let per_answer_drop = total.per_answer_drop / users;
    let timing = Timing { per_user: total.per_user / users, per_recommend: total.per_recommend / users, per_repeat, per_answer_drop };
    Ok((ranked, timing))
}

fn one(run: &EngineRun<'_>, index: &HashMap<&str, u32>, case: &Case, k: u32, n: usize, eviction: &mut Vec<u8>) -> Result<(Ranked, Timing), mizan::Error> {
    let mut config = EngineConfig::new(run.scratch.join(format!("user-{n}")), vec![run.trusted_key.to_vec()]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    config.sync = SyncPolicy::GroupCommit { max_bytes: u64::MAX, max_delay_ms: u64::MAX };
    config.full_scan = run.full_scan;
    let engine = Engine::open(config, Arc::new(StaticKey(vec![1; 32])))?;
    engine.set_consent(PERSONALISATION, true, "evaluation", false)?;
    engine.load_catalog(run.pack)?;
    let events: Vec<Event> = case.input.iter().map(|&(t, i)| Event::new(EventKind::View, run.ids[i as usize].clone(), t)).collect();
    let request = |k: u32, now: i64| RecommendRequest {
        k,
        diversity: run.diversity,
        exploration: run.exploration,
        now_ms: Some(now),
        seed: Some(n as u64),
        ..RecommendRequest::default()
    };
    let started = Instant::now();
    // At least the first event is recorded plainly, so there is something to rank from.
    let recorded_len = events.len().saturating_sub(run.feedback_steps).max(1).min(events.len());
    let (recorded, fed_back) = events.split_at(recorded_len);
    for batch in recorded.chunks(mizan::events::MAX_BATCH) {
        engine.record(batch)?;
    }
    for next in fed_back {
        let shown: Vec<String> = engine.recommend(&request(SHOWN, next.timestamp_ms))?.items.into_iter().map(|r| r.item_id).collect();
        let clicked = shown.contains(&next.item_id);
        let clicks = if clicked { vec![next.item_id.clone()] } else { vec![] };
        engine.feedback(&Feedback { impressions: shown, clicks, timestamp_ms: Some(next.timestamp_ms), ..Feedback::default() })?;
        if !clicked {
            engine.record(std::slice::from_ref(next))?;
        }
    }
    let recommending = Instant::now();
    let recs = engine.recommend(&request(k, case.target_ms))?;
    let (per_user, per_recommend) = (started.elapsed(), recommending.elapsed());
    if run.repeats.cold_cache {
        evict_caches(eviction);
    }
    let calls = run.repeats.calls.max(1);
    let mut dropping = Duration::ZERO;
    let per_repeat = (0..calls)
        .map(|_| {
            let again = Instant::now();
            let answer = repeat_recommend(&engine, &request(k, case.target_ms))?;
            let took = again.elapsed();
            let freeing = Instant::now();
            drop(answer);
            dropping += freeing.elapsed();
            Ok(took)
        })
        .collect::<Result<Vec<_>, mizan::Error>>()?;
    let timing = Timing { per_user, per_recommend, per_repeat, per_answer_drop: dropping / calls as u32 };
    engine.erase_all()?;
    Ok((recs.items.iter().filter_map(|r| index.get(r.item_id.as_str()).copied()).collect(), timing))
}

/// One repeat of a user's final `recommend`, kept out of line so that a
/// profiler can count the repeats alone (as callgrind does with
/// `--toggle-collect='*repeat_recommend*'`).
#[inline(never)]
fn repeat_recommend(engine: &Engine, request: &RecommendRequest) -> Result<Recommendations, mizan::Error> {
    engine.recommend(request)
}
