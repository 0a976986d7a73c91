//! The engine: the one object a host app talks to. It ties the consent gate,
//! validation, the encrypted store, the catalogue and the ranker together.
//! Every method is synchronous and thread-safe; call it off the UI thread.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, PackMeta};
use crate::consent::{ConsentLedger, ConsentRecord, PERSONALISATION};
use crate::crypto::KeyProvider;
use crate::error::{Error, InvalidReason, Result};
use crate::events::{validate_batch, Event, EventKind, StoredEvent, MAX_BATCH};
use crate::export::{FeedbackData, InferredData, UserDataExport, EXPORT_FORMAT};
use crate::inspect::{InspectInputs, InspectReport, Weighted};
use crate::model::UserProfile;
use crate::rank::{RankOptions, Ranker, Recommendation};
use crate::store::Store;

/// Most items one recommend call may return.
pub const MAX_K: u32 = 1_000;

/// How an engine is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Directory that holds this user's store (created if missing).
    pub data_dir: PathBuf,
    /// Raw 32-byte Ed25519 public keys whose catalogue packs are accepted.
    pub trusted_pack_keys: Vec<Vec<u8>>,
    /// How far in the future an event timestamp may lie, in ms (device clock skew).
    pub max_clock_skew_ms: i64,
}

impl EngineConfig {
    /// A config with the default 5-minute clock skew.
    pub fn new(data_dir: impl Into<PathBuf>, trusted_pack_keys: Vec<Vec<u8>>) -> Self {
        EngineConfig { data_dir: data_dir.into(), trusted_pack_keys, max_clock_skew_ms: 5 * 60_000 }
    }
}

/// What happened to a recorded batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOutcome {
    /// Events written to the encrypted log (durable when this returns).
    pub stored: u32,
    /// Events discarded because personalisation consent is not granted.
    pub dropped_without_consent: u32,
}

/// A request for recommendations.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendRequest {
    /// How many items to return (1..=[`MAX_K`]).
    pub k: u32,
    /// Re-rank only these ids (unknown ids are skipped and counted).
    pub candidates: Option<Vec<String>>,
    /// Also return items the person already interacted with.
    pub include_seen: bool,
    /// 0 = pure relevance … 1 = maximal category spread.
    pub diversity: f32,
    /// The moment to rank for; the device clock if `None`.
    pub now_ms: Option<i64>,
}

impl Default for RecommendRequest {
    fn default() -> Self {
        RecommendRequest { k: 10, candidates: None, include_seen: false, diversity: 0.2, now_ms: None }
    }
}

/// A ranked list.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendations {
    /// Ranked items, best first.
    pub items: Vec<Recommendation>,
    /// Whether the person's profile shaped the list (false without consent).
    pub personalised: bool,
    /// Candidate ids that the catalogue does not know.
    pub unknown_candidates: u32,
}

/// What the person did with shown recommendations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feedback {
    /// Items that were shown.
    pub impressions: Vec<String>,
    /// Items that were opened.
    pub clicks: Vec<String>,
    /// Items marked "not interested": never recommended again.
    pub not_interested: Vec<String>,
    /// When it happened; the device clock if `None`.
    pub timestamp_ms: Option<i64>,
}

/// State kept beside the event log, encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EngineState {
    consent: ConsentLedger,
    next_seq: u64,
    impressions: BTreeMap<String, u32>,
    not_interested: BTreeMap<String, i64>,
}

struct Inner {
    config: EngineConfig,
    store: Store,
    events: Vec<StoredEvent>,
    state: EngineState,
    catalog: Option<Catalog>,
}

/// The on-device personalisation engine for one user.
pub struct Engine {
    inner: Mutex<Option<Inner>>,
}

/// The device clock in ms since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Engine {
    /// Opens (or creates) the store in `config.data_dir`, decrypting it with the
    /// provider's key. Reloads the last verified catalogue pack, if any.
    pub fn open(config: EngineConfig, key_provider: Arc<dyn KeyProvider>) -> Result<Engine> {
        if config.max_clock_skew_ms < 0 {
            return Err(Error::InvalidRequest(InvalidReason::Negative("max_clock_skew_ms")));
        }
        let opened = Store::open(&config.data_dir, key_provider.as_ref())?;
        let state = match opened.state {
            Some(bytes) => bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
                .map_err(|_| Error::Corrupt("engine state does not decode"))?
                .0,
            None => EngineState::default(),
        };
        // A saved pack signed by a key that is no longer trusted is simply not used.
        let catalog = opened.pack.and_then(|bytes| Catalog::from_signed(&bytes, &config.trusted_pack_keys).ok());
        let inner = Inner { config, store: opened.store, events: opened.events, state, catalog };
        Ok(Engine { inner: Mutex::new(Some(inner)) })
    }

    /// Records a consent decision for `purpose`. Withdrawing personalisation stops
    /// collection and personalised ranking at once; `erase_on_withdraw` also
    /// deletes every stored event.
    pub fn set_consent(&self, purpose: &str, granted: bool, policy_version: &str, erase_on_withdraw: bool) -> Result<()> {
        self.with(|inner| {
            let record = ConsentRecord {
                purpose: purpose.to_string(),
                granted,
                policy_version: policy_version.to_string(),
                at_ms: now_ms(),
            };
            inner.state.consent.record(record)?;
            if !granted && purpose == PERSONALISATION && erase_on_withdraw {
                inner.store.rewrite_log(&[])?;
                inner.events.clear();
                inner.state.impressions.clear();
            }
            inner.save_state()
        })
    }

    /// The latest decision per purpose.
    pub fn consents(&self) -> Result<Vec<ConsentRecord>> {
        self.with(|inner| Ok(inner.state.consent.current()))
    }

    /// Verifies a signed catalogue pack and swaps it in. A refused pack leaves
    /// the previous one in use. User state is kept across packs.
    pub fn load_catalog(&self, signed_pack: &[u8]) -> Result<PackMeta> {
        self.with(|inner| {
            let catalog = Catalog::from_signed(signed_pack, &inner.config.trusted_pack_keys)?;
            inner.store.save_pack(signed_pack)?;
            let meta = catalog.pack().meta.clone();
            inner.catalog = Some(catalog);
            Ok(meta)
        })
    }

    /// Validates and stores a batch of events. Without personalisation consent
    /// nothing is stored and the events are counted as dropped. One invalid
    /// event refuses the whole batch.
    pub fn record(&self, events: &[Event]) -> Result<RecordOutcome> {
        self.with(|inner| {
            validate_batch(events, now_ms(), inner.config.max_clock_skew_ms)?;
            inner.store_events(events.iter().cloned())
        })
    }

    /// Ranks items for the person (non-personalised without consent).
    pub fn recommend(&self, request: &RecommendRequest) -> Result<Recommendations> {
        if request.k == 0 || request.k > MAX_K {
            return Err(Error::InvalidRequest(InvalidReason::OutOfRange("k")));
        }
        if !request.diversity.is_finite() || !(0.0..=1.0).contains(&request.diversity) {
            return Err(Error::InvalidRequest(InvalidReason::OutOfRange("diversity")));
        }
        self.with(|inner| {
            let catalog = inner.catalog.as_ref().ok_or(Error::NoCatalog)?;
            let now = request.now_ms.unwrap_or_else(now_ms);
            let personalised = inner.personalised();
            let (candidates, unknown) = match &request.candidates {
                Some(ids) => {
                    let known: Vec<u32> = ids.iter().filter_map(|id| catalog.index_of(id)).collect();
                    let unknown = (ids.len() - known.len()) as u32;
                    (Some(known), unknown)
                }
                None => (None, 0),
            };
            let profile = inner.profile(now);
            let suppressed = inner.suppressed();
            let weights = &catalog.pack().default_weights;
            let options = RankOptions {
                k: request.k as usize,
                candidates,
                include_seen: request.include_seen,
                diversity: request.diversity,
                personalised,
                now_ms: now,
            };
            let items = Ranker::new(catalog, &profile, weights, &suppressed).rank(&options);
            Ok(Recommendations { items, personalised, unknown_candidates: unknown })
        })
    }

    /// Explains the score of any catalogue item for this person.
    pub fn explain(&self, item_id: &str, now: Option<i64>) -> Result<Recommendation> {
        self.with(|inner| {
            let catalog = inner.catalog.as_ref().ok_or(Error::NoCatalog)?;
            let index = catalog.index_of(item_id).ok_or(Error::UnknownItem)?;
            let profile = inner.profile(now.unwrap_or_else(now_ms));
            let suppressed = inner.suppressed();
            let ranker = Ranker::new(catalog, &profile, &catalog.pack().default_weights, &suppressed);
            Ok(ranker.explain(index, inner.personalised()))
        })
    }

    /// Takes in impressions, clicks and "not interested". Clicks are stored as
    /// views and impressions counted only with consent; "not interested" is
    /// always honoured.
    pub fn feedback(&self, feedback: &Feedback) -> Result<()> {
        let total = feedback.impressions.len() + feedback.clicks.len() + feedback.not_interested.len();
        if total > MAX_BATCH {
            return Err(Error::InvalidRequest(InvalidReason::TooMany("feedback entries")));
        }
        self.with(|inner| {
            let at = feedback.timestamp_ms.unwrap_or_else(now_ms);
            let events: Vec<Event> = feedback
                .clicks
                .iter()
                .map(|id| Event::new(EventKind::View, id.clone(), at))
                .chain(feedback.not_interested.iter().map(|id| Event::new(EventKind::Dismiss, id.clone(), at)))
                .collect();
            validate_batch(&events, now_ms(), inner.config.max_clock_skew_ms)?;
            for id in &feedback.not_interested {
                inner.state.not_interested.insert(id.clone(), at);
            }
            if inner.personalised() {
                for id in &feedback.impressions {
                    *inner.state.impressions.entry(id.clone()).or_default() += 1;
                }
            }
            inner.store_events(events.into_iter())?;
            inner.save_state()
        })
    }

    /// A snapshot of what the engine holds and has learned, for developers.
    pub fn inspect(&self) -> Result<InspectReport> {
        self.with(|inner| {
            let profile = inner.profile(now_ms());
            Ok(InspectReport::build(InspectInputs {
                store: &inner.store,
                events: &inner.events,
                consents: inner.state.consent.current(),
                personalised: inner.personalised(),
                catalog: inner.catalog.as_ref(),
                profile: &profile,
                impressions: inner.state.impressions.values().map(|&v| u64::from(v)).sum(),
                suppressed_items: inner.state.not_interested.len() as u64,
            }))
        })
    }

    /// Everything stored and inferred about the person, as JSON.
    pub fn export_user_data(&self) -> Result<String> {
        self.with(|inner| {
            let profile = inner.profile(now_ms());
            let name = |w: Vec<(String, f64)>| w.into_iter().map(|(name, weight)| Weighted { name, weight }).collect();
            let (categories, items) = match &inner.catalog {
                Some(c) => (
                    name(profile.categories.iter().map(|(&i, &w)| (c.category(i).name.clone(), w)).collect()),
                    name(profile.items.iter().map(|(&i, s)| (c.item(i).id.clone(), s.score)).collect()),
                ),
                None => (vec![], vec![]),
            };
            let export = UserDataExport {
                format: EXPORT_FORMAT,
                exported_at_ms: now_ms(),
                consent_history: inner.state.consent.history(),
                events: &inner.events,
                inferred: InferredData { categories, items, active_hours: profile.hour_of_day.to_vec() },
                feedback: FeedbackData { impressions: &inner.state.impressions, not_interested: &inner.state.not_interested },
            };
            Ok(export.to_json())
        })
    }

    /// Erases everything: crypto-shreds the key ring, deletes every file, and
    /// closes the engine. Opening the directory again starts empty.
    pub fn erase_all(&self) -> Result<()> {
        let inner = self.lock().take().ok_or(Error::Closed)?;
        inner.store.erase()
    }

    /// Closes the engine and releases the store lock. Later calls fail with [`Error::Closed`].
    pub fn close(&self) -> Result<()> {
        self.lock().take().map(drop).ok_or(Error::Closed)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        // A panic inside a call cannot leave the state half-written on disk
        // (writes are atomic), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or(Error::Closed)?;
        f(inner)
    }
}

impl Inner {
    fn personalised(&self) -> bool {
        self.state.consent.is_granted(PERSONALISATION)
    }

    fn store_events(&mut self, events: impl Iterator<Item = Event>) -> Result<RecordOutcome> {
        let events: Vec<Event> = events.collect();
        let count = events.len() as u32;
        if !self.personalised() {
            return Ok(RecordOutcome { stored: 0, dropped_without_consent: count });
        }
        let first = self.state.next_seq;
        let stored: Vec<StoredEvent> =
            events.iter().enumerate().map(|(i, e)| StoredEvent::minimise(e, first + i as u64)).collect();
        self.store.append(&stored)?;
        self.events.extend(stored);
        self.state.next_seq = first + u64::from(count);
        self.save_state()?;
        Ok(RecordOutcome { stored: count, dropped_without_consent: 0 })
    }

    fn save_state(&self) -> Result<()> {
        let bytes = bincode::serde::encode_to_vec(&self.state, bincode::config::standard())
            .map_err(|_| Error::Corrupt("engine state does not encode"))?;
        self.store.save_state(&bytes)
    }

    fn profile(&self, now: i64) -> UserProfile {
        match (&self.catalog, self.personalised()) {
            (Some(catalog), true) => UserProfile::build(&self.events, catalog, &catalog.pack().default_weights, now),
            _ => UserProfile::default(),
        }
    }

    fn suppressed(&self) -> BTreeSet<u32> {
        let Some(catalog) = &self.catalog else { return BTreeSet::new() };
        self.state.not_interested.keys().filter_map(|id| catalog.index_of(id)).collect()
    }
}
