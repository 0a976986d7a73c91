//! The engine: the one object a host app talks to. It ties the consent gate,
//! validation and minimisation, the encrypted store, the incremental model, the
//! catalogue and the ranker together. Every method is synchronous and
//! thread-safe; call it off the UI thread.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, PackMeta, RankerWeights};
use crate::config::EngineConfig;
use crate::consent::{ConsentLedger, ConsentRecord, BUILT_IN_PURPOSES, PERSONALISATION, SEARCH_TERMS, SENSITIVE_PROFILING};
use crate::crypto::KeyProvider;
use crate::debug::{DebugOptions, DebugSnapshot};
use crate::error::{Error, InvalidReason, PackError, Result};
use crate::events::{check_id, check_timestamp, hash_token, validate_batch, Event, EventKind, StoredEvent, MAX_BATCH};
use crate::export::{write_export, ExportHeader};
use crate::inspect::{InspectInputs, InspectReport};
use crate::model::{ModelState, ProfileIndex, UserProfile};
use crate::feedback::{FeedbackState, NotInterestedReason, Suppression};
use crate::online::{Impression, OnlineRanker};
use crate::rank::{Filters, RankOptions, Ranker, RecommendMode, Recommendation, Scratch};
use crate::store::{LogPosition, RecoveryReport, Snapshot, Store};
use crate::timing::{best_time, BestTime, BestTimeRequest};

/// Most items one recommend call may return.
pub const MAX_K: u32 = 1_000;
/// A model snapshot is saved after this many new events (and on close).
const SNAPSHOT_EVERY: u64 = 50_000;
/// Version of the snapshot payload; a different one is rebuilt from the log.
const MODEL_FORMAT: u16 = 4;
const DAY_MS: i64 = 86_400_000;

/// What happened to a recorded batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOutcome {
    /// Events written to the encrypted log.
    pub stored: u32,
    /// Events discarded because personalisation consent is not granted.
    pub dropped_without_consent: u32,
    /// Events older than the retention limit (`Retention::max_age_days`): not
    /// stored, since retention would delete them at once (e.g. a backfill of
    /// past orders reaching further back than the limit).
    pub dropped_by_retention: u32,
    /// Whether the stored events are already synced to stable storage (see `SyncPolicy`).
    pub durable: bool,
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
    /// Share of the list (0–0.5) given to exploring categories new to the person.
    pub exploration: f32,
    /// Weight of a boost for items few others had (0 = none).
    pub novelty: f32,
    /// Seed of the exploration's draws; derived from the hour of `now` if `None`.
    pub seed: Option<u64>,
    /// Hide items already shown this many times today (UTC day).
    pub max_impressions_per_item_per_day: Option<u32>,
    /// Hide a category's items once it was shown this many times today.
    pub max_impressions_per_category_per_day: Option<u32>,
    /// What the list is for (default [`RecommendMode::Mixed`]).
    pub mode: RecommendMode,
}

impl Default for RecommendRequest {
    fn default() -> Self {
        RecommendRequest {
            k: crate::rank::DEFAULT_LIST_LEN,
            candidates: None,
            include_seen: false,
            diversity: 0.2,
            now_ms: None,
            exploration: 0.1,
            novelty: 0.0,
            seed: None,
            max_impressions_per_item_per_day: None,
            max_impressions_per_category_per_day: None,
            mode: RecommendMode::Mixed,
        }
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
    /// Why the list holds fewer items than asked for (`None` when it is full).
    pub shortfall: Option<Shortfall>,
}

/// Why a list holds fewer items than asked for. A list is never short while
/// more items could fill it: every eligible item is considered first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// How many places are empty.
    pub missing: u32,
    /// Why.
    pub reason: ShortfallReason,
}

/// What left a list short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortfallReason {
    /// Fewer items are eligible (in the catalogue or among the app's
    /// candidates, once seen, hidden, capped and unavailable items are left out).
    FewerEligibleItems,
    /// "Buy it again": the person bought fewer items (that they have not hidden).
    FewerPurchases,
    /// "Buy it again" without consent to personalisation: the purchase history is not used.
    NoConsent,
}

impl Shortfall {
    /// The shortfall of a list of `listed` items for `request`, if any.
    fn of(request: &RecommendRequest, listed: usize, personalised: bool) -> Option<Self> {
        let missing = (request.k as usize).checked_sub(listed).filter(|&m| m > 0)? as u32;
        let reason = match request.mode {
            RecommendMode::BuyAgain if !personalised => ShortfallReason::NoConsent,
            RecommendMode::BuyAgain => ShortfallReason::FewerPurchases,
            _ => ShortfallReason::FewerEligibleItems,
        };
        Some(Shortfall { missing, reason })
    }
}

/// What the person did with shown recommendations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feedback {
    /// Items that were shown.
    pub impressions: Vec<String>,
    /// Items that were opened.
    pub clicks: Vec<String>,
    /// Items marked "not interested": hidden for 30 days, then less and less penalised.
    pub not_interested: Vec<String>,
    /// Categories marked "not interested", likewise.
    pub not_interested_categories: Vec<String>,
    /// Why, if the person said.
    pub reason: Option<NotInterestedReason>,
    /// When it happened; the device clock if `None`.
    pub timestamp_ms: Option<i64>,
}

/// Which stored events to forget. Every criterion given must match (an empty
/// list or `None` matches anything); at least one must be given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForgetRequest {
    /// Events on any of these items.
    pub item_ids: Vec<String>,
    /// Events on items in any of these categories (needs a loaded catalogue).
    pub categories: Vec<String>,
    /// Events of any of these kinds.
    pub kinds: Vec<EventKind>,
    /// Events at or after this time.
    pub from_ms: Option<i64>,
    /// Events before this time.
    pub until_ms: Option<i64>,
}

/// State kept beside the event log, encrypted.
#[derive(Debug, Serialize, Deserialize)]
struct EngineState {
    consent: ConsentLedger,
    next_seq: u64,
    feedback: FeedbackState,
    online: OnlineRanker,
    token_key: TokenKey,
    /// The newest pack version this store has used: an older pack is a rollback.
    newest_pack: u64,
    /// Events committed with this state that may not be in the log yet (a
    /// crash between saving the state and appending them): the next open
    /// appends those the log lacks. Kept until the next save, harmlessly.
    pending: Vec<StoredEvent>,
}

/// The store's secret for hashing query words kept without consent
/// ([`hash_token`]); random per store, it lives only in the encrypted state,
/// and is wiped from memory when dropped.
#[derive(Clone, Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct TokenKey([u8; 32]);

impl TokenKey {
    fn random() -> Result<Self> {
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).map_err(|_| Error::KeyProvider("no system randomness".into()))?;
        Ok(TokenKey(key))
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// The state layout of the first release (no prefix), still read when migrating.
#[derive(Deserialize)]
struct EngineStateV1 {
    consent: ConsentLedger,
    next_seq: u64,
    impressions: BTreeMap<String, u32>,
    not_interested: BTreeMap<String, i64>,
}

/// Marks the current state layout.
const STATE_MAGIC: &[u8; 4] = b"ES05";
/// Marks the layout before pending events: the current one without its last field.
const STATE_MAGIC_V4: &[u8; 4] = b"ES04";

impl EngineState {
    /// The state of a new store.
    fn new() -> Result<Self> {
        Ok(EngineState {
            consent: ConsentLedger::default(),
            next_seq: 0,
            feedback: FeedbackState::default(),
            online: OnlineRanker::default(),
            token_key: TokenKey::random()?,
            newest_pack: 0,
            pending: Vec::new(),
        })
    }

    /// The state's bytes (the token key among them, so wiped when dropped).
    fn encode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut bytes = STATE_MAGIC.to_vec();
        bytes.extend(bincode::serde::encode_to_vec(self, bincode::config::standard()).map_err(|_| Error::Corrupt("engine state does not encode"))?);
        Ok(zeroize::Zeroizing::new(bytes))
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let config = bincode::config::standard();
        let corrupt = || Error::Corrupt("engine state does not decode");
        let malformed = |_| corrupt();
        // Fields are written in order, so the layout before pending events reads
        // as the current one once an empty list (a zero length) is appended.
        let current = match bytes.strip_prefix(STATE_MAGIC_V4) {
            Some(body) => Some({
                let mut body = body.to_vec();
                body.push(0);
                body
            }),
            None => bytes.strip_prefix(STATE_MAGIC).map(<[u8]>::to_vec),
        };
        if let Some(body) = current {
            let state: EngineState = bincode::serde::decode_from_slice(&body, config).map_err(malformed)?.0;
            return Some(state).filter(|s| s.online.is_consistent()).ok_or_else(corrupt);
        }
        if bytes.starts_with(b"ES") {
            // A layout of a development build between the first release and ES04.
            return Err(corrupt());
        }
        // The first release's layout gains a new token key: words hashed before
        // it (unkeyed) no longer match a category, and nothing else changes.
        let fresh = EngineState::new()?;
        let (old, _): (EngineStateV1, usize) = bincode::serde::decode_from_slice(bytes, config).map_err(malformed)?;
        let mut feedback = FeedbackState { impressions: old.impressions, ..Default::default() };
        feedback.not_interested =
            old.not_interested.into_iter().map(|(id, at_ms)| (id, Suppression { at_ms, reason: None })).collect();
        Ok(EngineState { consent: old.consent, next_seq: old.next_seq, feedback, ..fresh })
    }
}

struct Inner {
    config: EngineConfig,
    store: Store,
    model: ModelState,
    state: EngineState,
    catalog: Option<Catalog>,
    events_since_snapshot: u64,
    /// The moment-free part of the profile, kept up to date event by event.
    profile_index: Option<ProfileIndex>,
    /// Ranking buffers, reused across requests.
    scratch: Scratch,
    /// The profile the last ranking read, whose lists the next one reuses.
    profile_buffer: UserProfile,
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
    /// provider's key; restores the model from its snapshot plus the log after it
    /// (or from the whole log), reloads the last verified pack, and enforces retention.
    pub fn open(config: EngineConfig, key_provider: Arc<dyn KeyProvider>) -> Result<Engine> {
        if config.max_clock_skew_ms < 0 {
            return Err(Error::InvalidRequest(InvalidReason::Negative("max_clock_skew_ms")));
        }
        if config.timestamp_granularity_ms.is_some_and(|g| g <= 0) {
            return Err(Error::InvalidRequest(InvalidReason::OutOfRange("timestamp_granularity_ms")));
        }
        let opened = Store::open(&config.data_dir, key_provider.as_ref(), config.store_options())?;
        let mut state = match opened.state {
            Some(bytes) => EngineState::decode(&bytes)?,
            None => EngineState::new()?,
        };
        // A saved pack signed by a key that is no longer trusted is simply not used.
        // A saved pack older than one the store has used was swapped in on disk:
        // not used either (the authenticated state remembers the newest version).
        let catalog = match opened.pack.map(|bytes| Catalog::from_signed(&bytes, &config.trusted_pack_keys)) {
            None => None,
            Some(Ok(c)) if c.meta().pack_version >= state.newest_pack => Some(c),
            Some(Ok(c)) => {
                log::warn!("the saved pack (version {}) is older than version {} and is not used", c.meta().pack_version, state.newest_pack);
                None
            }
            Some(Err(e)) => {
                log::warn!("the saved pack is not used: {e}");
                None
            }
        };
        let mut store = opened.store;
        let rolled_back = store.recovery().state_rolled_back;
        if rolled_back {
            // Fail closed: an older state may hold a consent since withdrawn.
            log::warn!("the state file is older than the store vouches for, or missing: every consent is withdrawn");
            state.consent.withdraw_all(now_ms());
        }
        let had_snapshot = opened.snapshot.is_some();
        let (mut model, from) = match opened.snapshot.and_then(decode_model) {
            Some((model, position)) if store.covers(position) => (model, Some(position)),
            _ => {
                if had_snapshot {
                    store.note_snapshot_discarded();
                }
                (ModelState::default(), None)
            }
        };
        let mut replayed = 0u64;
        store.read_from(from, |e| {
            model.apply(&e);
            replayed += 1;
        })?;
        // Events committed with the state but not appended (a crash in between).
        let missing: Vec<StoredEvent> = state.pending.drain(..).filter(|e| model.max_seq.is_none_or(|m| e.seq > m)).collect();
        if !missing.is_empty() {
            store.append(&missing)?;
            missing.iter().for_each(|e| drop(model.apply(e)));
            replayed += missing.len() as u64;
            log::warn!("recovered at open: {} events committed with the state were appended to the log", missing.len());
        }
        state.next_seq = state.next_seq.max(model.max_seq.map_or(0, |s| s + 1));
        // A pack saved before the state that remembers it (a crash in between) is
        // remembered from now on (saved with the next change of state).
        state.newest_pack = state.newest_pack.max(catalog.as_ref().map_or(0, |c| c.meta().pack_version));
        let mut inner =
            Inner { config, store, model, state, catalog, events_since_snapshot: replayed, profile_index: None, scratch: Scratch::default(), profile_buffer: UserProfile::default() };
        if rolled_back {
            inner.save_state(true)?;
        }
        inner.reindex();
        inner.enforce_retention(now_ms())?;
        let recovery = inner.store.recovery();
        if recovery != &RecoveryReport::default() {
            log::warn!("recovered at open: {recovery:?}");
        }
        log::info!("store opened: {} events, {replayed} replayed after the snapshot", inner.model.events);
        Ok(Engine { inner: Mutex::new(Some(inner)) })
    }

    /// Records a consent decision for `purpose`. Withdrawing personalisation stops
    /// collection and personalised ranking at once; `erase_on_withdraw` also
    /// deletes every stored event.
    pub fn set_consent(&self, purpose: &str, granted: bool, policy_version: &str, erase_on_withdraw: bool) -> Result<()> {
        self.with(|inner| {
            if !BUILT_IN_PURPOSES.contains(&purpose) && !inner.config.declared_purposes.iter().any(|p| p == purpose) {
                return Err(Error::InvalidRequest(InvalidReason::UnknownPurpose));
            }
            let record = ConsentRecord {
                purpose: purpose.to_string(),
                granted,
                policy_version: policy_version.to_string(),
                at_ms: now_ms(),
            };
            let before = inner.state.encode()?;
            inner.state.consent.record(record)?;
            let saved = if !granted && purpose == PERSONALISATION && erase_on_withdraw {
                inner.state.feedback = FeedbackState::default();
                inner.state.online = OnlineRanker::default();
                inner.compact(|_| false).map(drop)
            } else {
                inner.save_state(true)
            };
            if saved.is_err() {
                // Not saved, so not in force: the engine keeps agreeing with the store.
                inner.restore_state(&before);
            }
            if purpose == SENSITIVE_PROFILING {
                inner.reindex();
            } else if purpose == PERSONALISATION && !granted {
                // Nothing of the history stays in the ranking buffers once it may not be used.
                inner.drop_buffers();
            }
            saved
        })
    }

    /// The latest decision per purpose.
    pub fn consents(&self) -> Result<Vec<ConsentRecord>> {
        self.with(|inner| Ok(inner.state.consent.current()))
    }

    /// Verifies a signed catalogue pack and swaps it in. A refused pack leaves
    /// the previous one in use. User state is kept across packs. A pack older
    /// than one this store has used is refused ([`PackError::Rollback`]); the
    /// same version again is accepted.
    pub fn load_catalog(&self, signed_pack: &[u8]) -> Result<PackMeta> {
        self.with(|inner| {
            let catalog = Catalog::from_signed(signed_pack, &inner.config.trusted_pack_keys).inspect_err(|e| log::warn!("refused a pack: {e}"))?;
            let (offered, used) = (catalog.meta().pack_version, inner.state.newest_pack);
            if offered < used {
                log::warn!("refused pack version {offered}: this store has used version {used}");
                return Err(Error::PackRejected(PackError::Rollback { offered, used }));
            }
            // The pack first, then the state that remembers its version: a crash in
            // between leaves a pack newer than the state remembers, which the next
            // open uses (and remembers).
            let previous = if offered > used { inner.store.saved_pack()? } else { None };
            inner.store.save_pack(Some(signed_pack))?;
            if offered > used {
                inner.state.newest_pack = offered;
                if let Err(e) = inner.save_state(true) {
                    inner.state.newest_pack = used;
                    // Best effort: if this fails too, the next open uses the new pack.
                    let _ = inner.store.save_pack(previous.as_deref());
                    return Err(e);
                }
            }
            let meta = catalog.meta().clone();
            log::info!("loaded pack version {} ({} items)", meta.pack_version, catalog.len());
            inner.catalog = Some(catalog);
            inner.reindex();
            Ok(meta)
        })
    }

    /// Validates, minimises and stores a batch of events. Without personalisation
    /// consent nothing is stored and the events are counted as dropped. One invalid
    /// event refuses the whole batch.
    pub fn record(&self, events: &[Event]) -> Result<RecordOutcome> {
        self.with(|inner| {
            validate_batch(events, now_ms(), inner.config.max_clock_skew_ms)?;
            inner.store_events(events)
        })
    }

    /// Syncs everything recorded so far to stable storage.
    pub fn flush(&self) -> Result<()> {
        self.with(|inner| inner.store.flush())
    }

    /// Ranks items for the person (non-personalised without consent).
    pub fn recommend(&self, request: &RecommendRequest) -> Result<Recommendations> {
        if request.k == 0 || request.k > MAX_K {
            return Err(Error::InvalidRequest(InvalidReason::OutOfRange("k")));
        }
        for (value, field, max) in [(request.diversity, "diversity", 1.0), (request.exploration, "exploration", 0.5), (request.novelty, "novelty", 10.0)] {
            if !value.is_finite() || !(0.0..=max).contains(&value) {
                return Err(Error::InvalidRequest(InvalidReason::OutOfRange(field)));
            }
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
            let mut profile = std::mem::take(&mut inner.profile_buffer);
            inner.profile_into(now, &mut profile);
            let filters = inner.filters(catalog, now, request);
            let options = rank_options(request, now, personalised, candidates);
            let weights = inner.weights(catalog);
            let ranker = Ranker::new(catalog, &profile, &weights, &filters).with_full_scan(inner.config.full_scan);
            let items = ranker.rank(&options, &mut inner.scratch);
            // The buffer keeps the lists' allocations, not a share of the
            // evidence: recording would then have to copy it whole.
            profile.evidence = Default::default();
            inner.profile_buffer = profile;
            let shortfall = Shortfall::of(request, items.len(), personalised);
            Ok(Recommendations { items, personalised, unknown_candidates: unknown, shortfall })
        })
    }

    /// Explains the score of any catalogue item for this person.
    pub fn explain(&self, item_id: &str, now: Option<i64>) -> Result<Recommendation> {
        self.with(|inner| {
            let catalog = inner.catalog.as_ref().ok_or(Error::NoCatalog)?;
            let index = catalog.index_of(item_id).ok_or(Error::UnknownItem)?;
            let now = now.unwrap_or_else(now_ms);
            let profile = inner.profile(now);
            let filters = inner.filters(catalog, now, &RecommendRequest::default());
            let weights = inner.weights(catalog);
            let personalised = inner.personalised();
            let ranker = Ranker::new(catalog, &profile, &weights, &filters).with_full_scan(inner.config.full_scan);
            Ok(ranker.explain(index, personalised, &mut inner.scratch))
        })
    }

    /// When this person is most likely to respond (e.g. to a notification), from
    /// their notification opens and session starts; a default while there is too
    /// little data or no personalisation consent.
    pub fn best_time(&self, request: &BestTimeRequest) -> Result<BestTime> {
        self.with(|inner| {
            let now = request.now_ms.unwrap_or_else(now_ms);
            let engagement = inner.model.engagement_by_hour_of_week(now);
            best_time(&engagement, inner.model.engagement_events, inner.personalised(), request, now)
        })
    }

    /// Takes in impressions, clicks and "not interested". Clicks are stored as
    /// views and impressions counted only with consent; "not interested" is
    /// always honoured.
    pub fn feedback(&self, feedback: &Feedback) -> Result<()> {
        let total = feedback.impressions.len()
            + feedback.clicks.len()
            + feedback.not_interested.len()
            + feedback.not_interested_categories.len();
        if total > MAX_BATCH {
            return Err(Error::InvalidRequest(InvalidReason::TooMany("feedback entries")));
        }
        // Ids are kept in the state (counts, suppressions): the same rules as events' ids.
        let ids = [&feedback.impressions, &feedback.clicks, &feedback.not_interested, &feedback.not_interested_categories];
        if let Some(reason) = ids.iter().flat_map(|list| list.iter()).find_map(|id| check_id(id).err()) {
            return Err(Error::InvalidRequest(reason));
        }
        self.with(|inner| {
            let at = feedback.timestamp_ms.unwrap_or_else(now_ms);
            // Checked even without clicks: a "not interested" stamped at an
            // absurd time would otherwise be kept and weigh on every ranking.
            check_timestamp(at, now_ms(), inner.config.max_clock_skew_ms).map_err(|_| Error::InvalidRequest(InvalidReason::OutOfRange("timestamp_ms")))?;
            let events: Vec<Event> = feedback
                .clicks
                .iter()
                .map(|id| Event::new(EventKind::View, id.clone(), at))
                .chain(feedback.not_interested.iter().map(|id| Event::new(EventKind::Dismiss, id.clone(), at)))
                .collect();
            validate_batch(&events, now_ms(), inner.config.max_clock_skew_ms)?;
            // All or nothing, so that a retry after an error never counts twice: the
            // new state, holding the events as pending, is saved first (atomically:
            // the commit point, so a crash after it is completed at the next open),
            // then the events are appended; if either fails, the state before the
            // call is restored.
            let before = inner.state.encode()?;
            let suppression = Suppression { at_ms: at, reason: feedback.reason };
            for id in &feedback.not_interested {
                inner.state.feedback.not_interested.insert(id.clone(), suppression);
            }
            for name in &feedback.not_interested_categories {
                inner.state.feedback.not_interested_categories.insert(name.clone(), suppression);
            }
            if inner.personalised() {
                inner.learn_from_impressions(feedback, at);
                feedback.impressions.iter().for_each(|id| inner.state.feedback.impression(id, at));
                feedback.clicks.iter().for_each(|id| inner.state.feedback.click(id));
            }
            let next_seq;
            (inner.state.pending, next_seq) = if inner.personalised() { inner.minimise(&events) } else { (Vec::new(), inner.state.next_seq) };
            let vouched = !(feedback.not_interested.is_empty() && feedback.not_interested_categories.is_empty());
            if let Err(e) = inner.save_state(vouched) {
                inner.restore_state(&before);
                return Err(e);
            }
            let stored = std::mem::take(&mut inner.state.pending);
            if let Err(e) = inner.commit_events(stored, next_seq, events.len() as u32) {
                log::warn!("feedback not applied, the state before it restored: {e}");
                inner.restore_state(&before);
                // If this fails too, the next open completes the feedback from
                // the state saved above, although this call reports an error.
                let _ = inner.save_state(vouched);
                return Err(e);
            }
            Ok(())
        })
    }

    /// Forgets matching events (rectification / partial erasure): the log is
    /// rewritten without them and the model rebuilt. Returns how many were removed.
    pub fn forget(&self, request: &ForgetRequest) -> Result<u64> {
        let any = !request.item_ids.is_empty()
            || !request.categories.is_empty()
            || !request.kinds.is_empty()
            || request.from_ms.is_some()
            || request.until_ms.is_some();
        if !any {
            return Err(Error::InvalidRequest(InvalidReason::Missing("a forget criterion")));
        }
        self.with(|inner| {
            let items: Option<HashSet<String>> =
                (!request.item_ids.is_empty()).then(|| request.item_ids.iter().cloned().collect());
            let in_categories = match request.categories.is_empty() {
                true => None,
                false => Some(items_in_categories(inner.catalog.as_ref().ok_or(Error::NoCatalog)?, &request.categories)),
            };
            let matches = |e: &StoredEvent| {
                items.as_ref().is_none_or(|s| s.contains(&e.item_id))
                    && in_categories.as_ref().is_none_or(|s| s.contains(&e.item_id))
                    && (request.kinds.is_empty() || request.kinds.contains(&e.kind))
                    && request.from_ms.is_none_or(|f| e.timestamp_ms >= f)
                    && request.until_ms.is_none_or(|u| e.timestamp_ms < u)
            };
            // Forgetting items entirely also forgets the feedback kept about them.
            let whole_items = request.kinds.is_empty() && request.from_ms.is_none() && request.until_ms.is_none();
            let named = || items.iter().flatten().chain(in_categories.iter().flatten());
            let feedback_kept = whole_items && named().any(|id| inner.state.feedback.mentions(id));
            let mut matched = 0u64;
            inner.store.read_from(None, |e| matched += u64::from(matches(&e)))?;
            if matched == 0 && !feedback_kept {
                // Nothing to forget: no rewrite, and the ranker keeps what it learned.
                return Ok(0);
            }
            let before = inner.state.encode()?;
            if whole_items {
                for id in named() {
                    inner.state.feedback.forget_item(id);
                }
            }
            // What the online ranker learned cannot be unpicked event by event.
            inner.state.online = OnlineRanker::default();
            // Compaction writes the state (with the feedback forgotten above) too.
            inner.compact(|e| !matches(e)).inspect_err(|_| inner.restore_state(&before))
        })
    }

    /// Re-encrypts the whole store under key material from `new_provider` (e.g.
    /// after the host rotated its Keystore key). Atomic; afterwards only the new
    /// key opens the store. If the process dies during the call, the store is
    /// under the old key or the new one: open with the old key, and on
    /// [`Error::WrongKey`] with the new one (keep both until an open succeeds).
    pub fn rotate_key(&self, new_provider: &dyn KeyProvider) -> Result<()> {
        let material = zeroize::Zeroizing::new(new_provider.key_material().map_err(|reason| crate::crypto::provider_failure(&reason))?);
        crate::crypto::check_material(&material)?;
        self.with(|inner| {
            let state = inner.state.encode()?;
            inner.store.rewrite(Some(material), &state, |_| true)?;
            // Rotated: from here on the call succeeds, so the host switches keys.
            inner.snapshot_or_retry_later();
            Ok(())
        })
    }

    /// A snapshot of what the engine holds and has learned, for developers.
    pub fn inspect(&self) -> Result<InspectReport> {
        self.with(|inner| {
            let now = now_ms();
            Ok(inner.inspect_report(&inner.profile(now), now))
        })
    }

    /// The model inspector's snapshot: what [`Self::inspect`] reports, the current
    /// top items with every signal's share of their scores, why the named items
    /// are or are not listed, the interests, the hour-of-week engagement and the
    /// ranker's on-device adjustments ([`crate::debug`]). Aggregates only unless
    /// raw events are asked for; sensitive items and categories never appear.
    /// Refused with [`Error::DebugDisabled`] unless the host enabled it
    /// ([`EngineConfig::debug_api`]) in a library built with the `debug-api` feature.
    pub fn debug_snapshot(&self, options: &DebugOptions) -> Result<DebugSnapshot> {
        self.debug_call(options, Inner::debug_snapshot)
    }

    /// [`Self::debug_snapshot`] as pretty-printed JSON (what the bindings hand
    /// to Kotlin and Swift). Without the `debug-api` feature no serialiser for
    /// it is compiled in.
    pub fn debug_snapshot_json(&self, options: &DebugOptions) -> Result<String> {
        self.debug_call(options, Inner::debug_snapshot_json)
    }

    fn debug_call<T>(&self, options: &DebugOptions, call: impl FnOnce(&mut Inner, &DebugOptions) -> Result<T>) -> Result<T> {
        if options.top_n == 0 || options.top_n > crate::debug::MAX_DEBUG_ITEMS {
            return Err(Error::InvalidRequest(InvalidReason::OutOfRange("top_n")));
        }
        if options.item_ids.len() > crate::debug::MAX_DEBUG_ITEMS as usize {
            return Err(Error::InvalidRequest(InvalidReason::TooMany("item_ids")));
        }
        if let Some(reason) = options.item_ids.iter().find_map(|id| check_id(id).err()) {
            return Err(Error::InvalidRequest(reason));
        }
        self.with(|inner| {
            if !inner.config.debug_api {
                return Err(Error::DebugDisabled);
            }
            call(inner, options)
        })
    }

    /// Streams everything stored and inferred about the person to `out` as JSON.
    pub fn export_to(&self, out: &mut dyn Write) -> Result<()> {
        self.with(|inner| {
            let now = now_ms();
            let profile = inner.profile(now);
            let header = ExportHeader {
                exported_at_ms: now,
                consent_history: inner.state.consent.history(),
                catalog: inner.catalog.as_ref(),
                profile: &profile,
                model: &inner.model,
                active_hours: inner.model.active_hours(now),
                feedback: &inner.state.feedback,
                online_ranker: inner.state.online.summary(),
            };
            write_export(out, &header, |emit| inner.store.read_from(None, emit))
        })
    }

    /// Everything stored and inferred about the person, as a JSON string.
    pub fn export_user_data(&self) -> Result<String> {
        let mut buf = Vec::new();
        self.export_to(&mut buf)?;
        Ok(String::from_utf8(buf).expect("JSON is UTF-8"))
    }

    /// Erases everything: crypto-shreds the manifest, deletes every file, and
    /// closes the engine. Opening the directory again starts empty.
    pub fn erase_all(&self) -> Result<()> {
        let inner = self.lock().take().ok_or(Error::Closed)?;
        inner.store.erase()
    }

    /// Erases the store in `data_dir` without opening it, for a store that
    /// cannot be opened (its key is lost, or its files are damaged beyond
    /// recovery): shreds the manifest and deletes every store file. Refused with
    /// [`Error::StoreLocked`] while an engine has the store open.
    pub fn destroy(data_dir: impl AsRef<std::path::Path>) -> Result<()> {
        Store::destroy(data_dir.as_ref())
    }

    /// Syncs, saves a snapshot if the model moved, closes the engine and releases
    /// the store lock. Later calls fail with [`Error::Closed`].
    pub fn close(&self) -> Result<()> {
        let mut inner = self.lock().take().ok_or(Error::Closed)?;
        if inner.events_since_snapshot > 0 {
            inner.save_snapshot()?;
        }
        inner.store.flush()
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

impl Drop for Engine {
    /// Dropping an open engine closes it (Kotlin's `close()` and `use {}`, Swift's
    /// deinit, a handle the garbage collector finalises): the log is synced and a
    /// snapshot saved, then the store unlocked. Best effort, as a drop cannot
    /// report an error; [`Engine::close`] reports one.
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl Inner {
    fn personalised(&self) -> bool {
        self.state.consent.is_granted(PERSONALISATION)
    }

    fn store_events(&mut self, events: &[Event]) -> Result<RecordOutcome> {
        let count = events.len() as u32;
        if !self.personalised() {
            return Ok(RecordOutcome { stored: 0, dropped_without_consent: count, dropped_by_retention: 0, durable: true });
        }
        let (stored, next_seq) = self.minimise(events);
        self.commit_events(stored, next_seq, count)
    }

    /// The events as they are stored (sequence numbers from `state.next_seq`,
    /// coarsened, query words hashed without consent), without those that
    /// retention would delete at once; and the next sequence number after them.
    fn minimise(&self, events: &[Event]) -> (Vec<StoredEvent>, u64) {
        let cutoff = self.retention_cutoff(now_ms());
        let granularity = self.config.timestamp_granularity_ms;
        let keep_words = self.state.consent.is_granted(SEARCH_TERMS);
        let mut next_seq = self.state.next_seq;
        let stored: Vec<StoredEvent> = events
            .iter()
            .filter_map(|e| {
                let mut s = StoredEvent::minimise(e, next_seq);
                if let Some(g) = granularity {
                    s.timestamp_ms -= s.timestamp_ms.rem_euclid(g);
                }
                // Older than retention keeps: never written (nor rewritten away after).
                if cutoff.is_some_and(|cut| s.timestamp_ms < cut) {
                    return None;
                }
                if !keep_words {
                    s.query_tokens.iter_mut().for_each(|t| *t = hash_token(&self.state.token_key.0, t));
                }
                next_seq += 1;
                Some(s)
            })
            .collect();
        (stored, next_seq)
    }

    /// Appends minimised events (`count` were offered) and applies them to the model.
    fn commit_events(&mut self, stored: Vec<StoredEvent>, next_seq: u64, count: u32) -> Result<RecordOutcome> {
        let kept = stored.len() as u32;
        let durable = if stored.is_empty() { true } else { self.store.append(&stored)? };
        for e in &stored {
            if let (Some(applied), Some(index), Some(catalog)) = (self.model.apply(e), &mut self.profile_index, &self.catalog) {
                index.update(&e.item_id, &applied, catalog);
            }
        }
        self.state.next_seq = next_seq;
        self.events_since_snapshot += u64::from(kept);
        // The events are in the log: upkeep that fails now (dropping what retention
        // expires, the snapshot) is retried by the next call and at open, and must
        // not fail this one, or a retry would record the batch twice.
        if let Err(e) = self.enforce_retention(now_ms()) {
            log::warn!("retention upkeep failed after a record; retried by the next call: {e}");
        }
        if self.events_since_snapshot >= SNAPSHOT_EVERY {
            self.snapshot_or_retry_later();
        }
        Ok(RecordOutcome { stored: kept, dropped_without_consent: 0, dropped_by_retention: count - kept, durable })
    }

    /// The oldest event time retention keeps at `now`, if there is an age limit.
    fn retention_cutoff(&self, now: i64) -> Option<i64> {
        self.config.retention.max_age_days.map(|d| now.saturating_sub(i64::from(d) * DAY_MS))
    }

    /// Deletes events past the age limit, and the oldest events when the log is too big.
    fn enforce_retention(&mut self, now: i64) -> Result<()> {
        let retention = self.config.retention;
        let cutoff_ms = self.retention_cutoff(now);
        let too_old = cutoff_ms.is_some_and(|cut| self.model.first_ms.is_some_and(|f| f < cut));
        let log_bytes = self.store.log_bytes();
        let too_big = retention.max_log_bytes.is_some_and(|max| log_bytes > max);
        if !too_old && !too_big {
            return Ok(());
        }
        let mut min_seq = None;
        if let (true, Some(max)) = (too_big, retention.max_log_bytes) {
            // Appends are in sequence order, so dropping the oldest means a sequence cut-off.
            let keep = (self.model.events as u128 * u128::from(max / 4 * 3) / u128::from(log_bytes.max(1))) as u64;
            let drop = self.model.events.saturating_sub(keep);
            let mut seen = 0u64;
            self.store.read_from(None, |e| {
                if seen == drop {
                    min_seq.get_or_insert(e.seq);
                }
                seen += 1;
            })?;
            min_seq.get_or_insert(u64::MAX);
        }
        self.compact(|e| cutoff_ms.is_none_or(|cut| e.timestamp_ms >= cut) && min_seq.is_none_or(|m| e.seq >= m))?;
        Ok(())
    }

    /// Rewrites the log (and the state) keeping what `keep` accepts, rebuilds the
    /// model from the kept events in the same pass, and snapshots it.
    fn compact(&mut self, mut keep: impl FnMut(&StoredEvent) -> bool) -> Result<u64> {
        let state = self.state.encode()?;
        let mut model = ModelState::default();
        let dropped = self.store.rewrite(None, &state, |e| {
            let kept = keep(e);
            if kept {
                model.apply(e);
            }
            kept
        })?;
        self.model = model;
        self.reindex();
        // The rewrite is committed, so the call has taken effect whatever happens to the snapshot.
        self.snapshot_or_retry_later();
        Ok(dropped)
    }

    /// Saves a snapshot after a change that has already taken effect: a failure
    /// is logged and the snapshot retried later (the next large batch, close),
    /// never reported as the failure of that change.
    fn snapshot_or_retry_later(&mut self) {
        if let Err(e) = self.save_snapshot() {
            self.events_since_snapshot = self.events_since_snapshot.max(1);
            log::warn!("saving a snapshot failed; retried later: {e}");
        }
    }

    /// Puts back the state as [`EngineState::encode`] gave it before a change
    /// that could not be saved.
    fn restore_state(&mut self, before: &[u8]) {
        match EngineState::decode(before) {
            Ok(state) => self.state = state,
            Err(e) => log::error!("the state before a failed change does not decode: {e}"),
        }
    }

    /// Saves the state. `vouched`: the manifest vouches for it too (a second
    /// atomic write), so that putting back an older state file is noticed; for
    /// every change of a consent, a "not interested" or the newest pack, not for
    /// impressions and clicks alone.
    fn save_state(&mut self, vouched: bool) -> Result<()> {
        self.store.save_state(&self.state.encode()?, vouched)
    }

    fn save_snapshot(&mut self) -> Result<()> {
        let mut payload = MODEL_FORMAT.to_le_bytes().to_vec();
        payload.extend(
            bincode::serde::encode_to_vec(&self.model, bincode::config::standard()).map_err(|_| Error::Corrupt("model does not encode"))?,
        );
        self.store.save_snapshot(&payload)?;
        self.events_since_snapshot = 0;
        Ok(())
    }

    /// The ranker weights in force: the pack's, adjusted by what the online
    /// ranker learned from this person's clicks (only while personalised).
    fn weights(&self, catalog: &Catalog) -> RankerWeights {
        let defaults = catalog.weights();
        if self.personalised() { self.state.online.apply(defaults) } else { defaults.clone() }
    }

    /// Teaches the online ranker which of the shown (or clicked) items were
    /// clicked, from their score parts as the person's profile stands now,
    /// weighed by the pack's weights (so a part the ranker switched off can
    /// still earn its weight back). Sensitive items never teach it anything.
    fn learn_from_impressions(&mut self, feedback: &Feedback, at: i64) {
        let Some(catalog) = &self.catalog else { return };
        let shown: BTreeSet<u32> = feedback
            .impressions
            .iter()
            .chain(&feedback.clicks)
            .filter_map(|id| catalog.index_of(id))
            .filter(|&i| !catalog.is_sensitive(i))
            .collect();
        let clicked: BTreeSet<u32> = feedback.clicks.iter().filter_map(|id| catalog.index_of(id)).collect();
        let items: Vec<u32> = shown.into_iter().collect();
        let profile = self.profile(at);
        let defaults = catalog.weights();
        let no_filters = Filters::default();
        let ranker = Ranker::new(catalog, &profile, defaults, &no_filters).with_full_scan(self.config.full_scan);
        let features = ranker.features(&items, &mut self.scratch);
        let impressions: Vec<Impression> =
            items.iter().zip(features).map(|(i, features)| Impression { features, clicked: clicked.contains(i) }).collect();
        self.state.online.learn(&impressions, defaults);
    }

    fn inspect_report(&self, profile: &UserProfile, now: i64) -> InspectReport {
        InspectReport::build(InspectInputs {
            store: &self.store,
            config: &self.config,
            model: &self.model,
            consents: self.state.consent.current(),
            personalised: self.personalised(),
            catalog: self.catalog.as_ref(),
            profile,
            impressions: self.state.feedback.impressions.values().map(|&v| u64::from(v)).sum(),
            suppressed_items: self.state.feedback.not_interested.len() as u64,
            events_since_snapshot: self.events_since_snapshot,
            online: &self.state.online,
            ranker_weights: self.catalog.as_ref().map(|c| self.weights(c)),
            now_ms: now,
        })
    }

    fn profile(&self, now: i64) -> UserProfile {
        let mut profile = UserProfile::default();
        self.profile_into(now, &mut profile);
        profile
    }

    /// [`Self::profile`] written over `profile`, reusing its lists.
    fn profile_into(&self, now: i64, profile: &mut UserProfile) {
        match (&self.catalog, &self.profile_index, self.personalised()) {
            (Some(catalog), Some(index), true) => index.profile_into(profile, &self.model, catalog, catalog.weights(), now),
            (Some(catalog), _, _) => *profile = UserProfile::anonymous(catalog, now),
            (None, _, _) => *profile = UserProfile::default(),
        }
    }

    #[cfg(not(feature = "debug-api"))]
    fn debug_snapshot(&mut self, _: &DebugOptions) -> Result<DebugSnapshot> {
        Err(Error::DebugDisabled)
    }

    #[cfg(not(feature = "debug-api"))]
    fn debug_snapshot_json(&mut self, _: &DebugOptions) -> Result<String> {
        Err(Error::DebugDisabled)
    }

    #[cfg(feature = "debug-api")]
    fn debug_snapshot_json(&mut self, options: &DebugOptions) -> Result<String> {
        self.debug_snapshot(options).map(|s| s.to_json())
    }

    #[cfg(feature = "debug-api")]
    fn debug_snapshot(&mut self, options: &DebugOptions) -> Result<DebugSnapshot> {
        use crate::debug::{Engagement, RawEvents};
        let now = options.now_ms.unwrap_or_else(now_ms);
        let best_time_request = BestTimeRequest { now_ms: Some(now), utc_offset_minutes: options.utc_offset_minutes, ..BestTimeRequest::default() };
        let quiet = best_time_request.quiet_hours.expect("the default request has quiet hours");
        let by_hour_of_week = self.model.engagement_by_hour_of_week(now);
        let engagement = Engagement {
            best_time: best_time(&by_hour_of_week, self.model.engagement_events, self.personalised(), &best_time_request, now)?.into(),
            by_hour_of_week,
            events: self.model.engagement_events,
            utc_offset_minutes: options.utc_offset_minutes,
            quiet_hours_of_week: (0..crate::model::HOURS_PER_WEEK as u32)
                .filter(|&h| quiet.contains(crate::timing::local_hour(h, options.utc_offset_minutes)))
                .collect(),
        };
        let raw_events = match options.include_raw_events {
            false => None,
            true => {
                let mut raw = RawEvents { events: Vec::new(), sensitive_left_out: 0 };
                let sensitive = |id: &str| self.catalog.as_ref().is_some_and(|c| c.index_of(id).is_some_and(|i| c.is_sensitive(i)));
                self.store.read_from(None, |e| match sensitive(&e.item_id) {
                    true => raw.sensitive_left_out += 1,
                    false => raw.events.push(e),
                })?;
                Some(raw)
            }
        };
        let profile = self.profile(now);
        let report = self.inspect_report(&profile, now);
        let request = RecommendRequest {
            k: options.top_n,
            now_ms: Some(now),
            max_impressions_per_item_per_day: options.max_impressions_per_item_per_day,
            max_impressions_per_category_per_day: options.max_impressions_per_category_per_day,
            ..RecommendRequest::default()
        };
        let (catalog, weights, filters) = match &self.catalog {
            Some(c) => (Some(c), Some(self.weights(c)), self.filters(c, now, &request)),
            None => (None, None, Filters::default()),
        };
        Ok(crate::debug::build(crate::debug::DebugInputs {
            report,
            catalog,
            profile: &profile,
            weights,
            filters,
            feedback: &self.state.feedback,
            options: rank_options(&request, now, self.personalised(), None),
            full_scan: self.config.full_scan,
            named: &options.item_ids,
            engagement,
            raw_events,
            scratch: &mut self.scratch,
        }))
    }

    /// Rebuilds the profile index and drops the ranking buffers: after the
    /// catalogue, a consent or the whole model changed.
    fn reindex(&mut self) {
        let sensitive = self.state.consent.is_granted(SENSITIVE_PROFILING);
        let key = Some(self.state.token_key.0.as_slice());
        self.profile_index = self.catalog.as_ref().map(|catalog| ProfileIndex::build(&self.model, catalog, sensitive, key));
        // What the buffers remember of the last ranking is of the history before this.
        self.drop_buffers();
    }

    /// Drops the ranking buffers and the profile kept with them.
    fn drop_buffers(&mut self) {
        self.scratch = Scratch::default();
        self.profile_buffer = UserProfile::default();
    }

    /// Exclusions and penalties from "not interested" and frequency caps, and the
    /// per-category click statistics that exploration draws on.
    fn filters(&self, catalog: &Catalog, now: i64, request: &RecommendRequest) -> Filters {
        let feedback = &self.state.feedback;
        let mut filters = Filters::default();
        let mut apply = |index: u32, s: &Suppression| match s.penalty(now) {
            None => {
                filters.excluded.insert(index);
            }
            Some(p) => *filters.penalties.entry(index).or_default() += p,
        };
        for (id, s) in &feedback.not_interested {
            if let Some(i) = catalog.index_of(id) {
                apply(i, s);
            }
        }
        for (name, s) in &feedback.not_interested_categories {
            if let Some(c) = catalog.categories().iter().position(|category| category.name == *name).map(|c| c as u32) {
                match s.penalty(now) {
                    None => drop(filters.excluded_categories.insert(c)),
                    Some(p) => *filters.category_penalties.entry(c).or_default() += p,
                }
            }
        }
        let mut category_today: BTreeMap<u32, u32> = BTreeMap::new();
        for (id, _) in feedback.today.iter() {
            let Some(i) = catalog.index_of(id) else { continue };
            let today = feedback.impressions_today(id, now);
            if request.max_impressions_per_item_per_day.is_some_and(|cap| today >= cap) {
                filters.excluded.insert(i);
            }
            for &c in catalog.item_categories(i) {
                *category_today.entry(c).or_default() += today;
            }
        }
        if let Some(cap) = request.max_impressions_per_category_per_day {
            filters.excluded_categories.extend(category_today.iter().filter(|&(_, &n)| n >= cap).map(|(&c, _)| c));
        }
        for (id, &shown) in &feedback.impressions {
            let Some(i) = catalog.index_of(id) else { continue };
            let clicks = feedback.clicks.get(id).copied().unwrap_or(0);
            for &c in catalog.item_categories(i) {
                let entry = filters.category_feedback.entry(c).or_default();
                entry.0 += f64::from(clicks.min(shown));
                entry.1 += f64::from(shown);
            }
        }
        filters
    }
}

/// How the ranker serves `request` at `now` (the seed, if not given, follows the hour).
fn rank_options(request: &RecommendRequest, now: i64, personalised: bool, candidates: Option<Vec<u32>>) -> RankOptions {
    RankOptions {
        k: request.k as usize,
        candidates,
        include_seen: request.include_seen,
        diversity: request.diversity,
        personalised,
        now_ms: now,
        exploration: request.exploration,
        novelty: request.novelty,
        seed: request.seed.unwrap_or(now.div_euclid(3_600_000) as u64),
        mode: request.mode,
    }
}

/// Ids of the catalogue items in any of the named categories.
fn items_in_categories(catalog: &Catalog, names: &[String]) -> HashSet<String> {
    let wanted: BTreeSet<u32> =
        catalog.categories().iter().enumerate().filter(|(_, c)| names.contains(&c.name)).map(|(i, _)| i as u32).collect();
    wanted.iter().flat_map(|&c| catalog.category_items(c)).map(|&i| catalog.id(i).to_string()).collect()
}

fn decode_model(snapshot: Snapshot) -> Option<(ModelState, LogPosition)> {
    let format = u16::from_le_bytes(snapshot.payload.get(..2)?.try_into().ok()?);
    if format != MODEL_FORMAT {
        return None;
    }
    let (model, _) = bincode::serde::decode_from_slice(&snapshot.payload[2..], bincode::config::standard()).ok()?;
    Some((model, snapshot.position))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built without the `debug-api` feature (as `cargo test -p mizan --lib`
    /// builds it; the test command runs it), the call is refused whatever the host says.
    #[cfg(not(feature = "debug-api"))]
    #[test]
    fn without_the_debug_api_feature_a_snapshot_is_refused_even_when_the_host_enables_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = EngineConfig { debug_api: true, ..EngineConfig::new(dir.path(), vec![]) };
        let engine = Engine::open(config, Arc::new(crate::StaticKey(vec![1; 32]))).unwrap();
        assert!(matches!(engine.debug_snapshot(&DebugOptions::default()), Err(Error::DebugDisabled)));
    }

    /// The profile an engine keeps between rankings (for its lists'
    /// allocations) holds no share of the evidence: the next event would
    /// otherwise copy all of it, in proportion to the catalogue.
    #[test]
    fn a_ranking_leaves_the_evidence_unshared() {
        let dir = tempfile::tempdir().unwrap();
        let signer = crate::catalog::tests::signer(1);
        let engine = Engine::open(EngineConfig::new(dir.path(), vec![crate::catalog::public_key(&signer)]), Arc::new(crate::StaticKey(vec![1; 32]))).unwrap();
        engine.set_consent(PERSONALISATION, true, "v1", false).unwrap();
        engine.load_catalog(&crate::catalog::tests::tiny_pack().sign(&signer)).unwrap();
        engine.record(&[Event::new(EventKind::View, "a", 1_780_000_000_000)]).unwrap();
        engine.recommend(&RecommendRequest { now_ms: Some(1_780_000_000_000), ..RecommendRequest::default() }).unwrap();
        assert!(!engine.with(|inner| Ok(inner.profile_index.as_ref().unwrap().evidence_is_shared())).unwrap());
    }

    #[test]
    fn a_state_saved_before_pending_events_is_read_with_none() {
        let mut feedback = FeedbackState::default();
        feedback.click("a");
        let key = TokenKey([7; 32]);
        let mut bytes = STATE_MAGIC_V4.to_vec();
        let old = (ConsentLedger::default(), 11u64, &feedback, OnlineRanker::default(), &key, 3u64);
        bytes.extend(bincode::serde::encode_to_vec(old, bincode::config::standard()).unwrap());
        let state = EngineState::decode(&bytes).unwrap();
        assert_eq!((state.next_seq, &state.feedback, state.token_key.0, state.newest_pack), (11, &feedback, [7; 32], 3));
        assert!(state.pending.is_empty());
    }
}
