//! Records and enums crossing the FFI boundary, with their conversions to and
//! from the core types. Numbers are signed (`Int`, `Long`) as Java has no
//! unsigned types: a negative count or size is refused as out of range, and
//! counts past a signed type's range (none in practice) saturate.

use mizan::inspect::Weighted;

/// A count or size from the host: negative (or past the core type) is out of range.
fn from_host<T: TryFrom<i64>>(value: impl Into<i64>, field: &'static str) -> mizan::Result<T> {
    T::try_from(value.into()).map_err(|_| mizan::Error::InvalidRequest(mizan::InvalidReason::OutOfRange(field)))
}

/// [`from_host`] for an optional value.
fn opt_from_host<T: TryFrom<i64>>(value: Option<impl Into<i64>>, field: &'static str) -> mizan::Result<Option<T>> {
    value.map(|v| from_host(v, field)).transpose()
}

/// A count for the host, saturating at `i64::MAX`.
pub(crate) fn to_host(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// How an engine is opened.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EngineConfig {
    /// Directory for this user's store (e.g. `context.noBackupFilesDir/mizan`).
    pub data_dir: String,
    /// Raw 32-byte Ed25519 public keys whose catalogue packs are accepted.
    pub trusted_pack_keys: Vec<Vec<u8>>,
    /// Tolerated device clock skew for event timestamps, in ms.
    #[uniffi(default = 300000)]
    pub max_clock_skew_ms: i64,
    /// Null: sync every recorded batch. Otherwise group commit: sync when 1 MiB is
    /// pending or at the first write after the oldest pending batch is this old
    /// (`flush()` syncs at once).
    #[uniffi(default = None)]
    pub group_commit_ms: Option<i64>,
    /// Events older than this many days are deleted (0: no age limit).
    #[uniffi(default = 365)]
    pub retention_days: i32,
    /// Past this log size the oldest events are deleted (0: no size limit).
    #[uniffi(default = 67108864)]
    pub max_log_bytes: i64,
    /// Stored timestamps are rounded down to a multiple of this many ms.
    #[uniffi(default = None)]
    pub timestamp_granularity_ms: Option<i64>,
    /// Consent purposes the app uses besides the built-in ones
    /// (`personalisation`, `search_terms`, `sensitive_profiling`).
    #[uniffi(default = [])]
    pub declared_purposes: Vec<String>,
    /// Enables `debugSnapshot` (debug builds only).
    #[uniffi(default = false)]
    pub debug_api: bool,
}

/// Bytes pending that trigger a group commit.
const GROUP_COMMIT_BYTES: u64 = 1 << 20;

impl TryFrom<EngineConfig> for mizan::EngineConfig {
    type Error = mizan::Error;

    fn try_from(c: EngineConfig) -> mizan::Result<Self> {
        let sync = match opt_from_host(c.group_commit_ms, "group_commit_ms")? {
            None => mizan::SyncPolicy::EveryBatch,
            Some(max_delay_ms) => mizan::SyncPolicy::GroupCommit { max_bytes: GROUP_COMMIT_BYTES, max_delay_ms },
        };
        let retention_days: u32 = from_host(c.retention_days, "retention_days")?;
        let max_log_bytes: u64 = from_host(c.max_log_bytes, "max_log_bytes")?;
        Ok(mizan::EngineConfig {
            data_dir: c.data_dir.into(),
            trusted_pack_keys: c.trusted_pack_keys,
            max_clock_skew_ms: c.max_clock_skew_ms,
            sync,
            retention: mizan::Retention {
                max_age_days: (retention_days > 0).then_some(retention_days),
                max_log_bytes: (max_log_bytes > 0).then_some(max_log_bytes),
            },
            timestamp_granularity_ms: c.timestamp_granularity_ms,
            declared_purposes: c.declared_purposes,
            full_scan: false,
            debug_api: c.debug_api,
        })
    }
}

/// What the user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EventKind {
    /// Opened an item.
    View,
    /// Added it to the cart.
    AddToCart,
    /// Bought it.
    Purchase,
    /// Rated it (0–5).
    Rating,
    /// Searched.
    Search,
    /// Said "not interested".
    Dismiss,
    /// Opened a notification (item optional).
    NotificationOpen,
    /// Started a session (no item).
    SessionStart,
}

impl From<EventKind> for mizan::EventKind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::View => mizan::EventKind::View,
            EventKind::AddToCart => mizan::EventKind::AddToCart,
            EventKind::Purchase => mizan::EventKind::Purchase,
            EventKind::Rating => mizan::EventKind::Rating,
            EventKind::Search => mizan::EventKind::Search,
            EventKind::Dismiss => mizan::EventKind::Dismiss,
            EventKind::NotificationOpen => mizan::EventKind::NotificationOpen,
            EventKind::SessionStart => mizan::EventKind::SessionStart,
        }
    }
}

/// One behaviour event.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Event {
    /// Catalogue item id (may be empty only for a search).
    pub item_id: String,
    /// What happened.
    pub kind: EventKind,
    /// When, in ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// Seconds on the item (views).
    #[uniffi(default = None)]
    pub dwell_secs: Option<f64>,
    /// Rating 0–5 (ratings).
    #[uniffi(default = None)]
    pub rating: Option<f64>,
    /// Search text (searches); stored only as tokens.
    #[uniffi(default = None)]
    pub query: Option<String>,
}

impl From<Event> for mizan::Event {
    fn from(e: Event) -> Self {
        mizan::Event {
            item_id: e.item_id,
            kind: e.kind.into(),
            timestamp_ms: e.timestamp_ms,
            dwell_secs: e.dwell_secs,
            rating: e.rating,
            query: e.query,
        }
    }
}

/// What happened to a recorded batch.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RecordOutcome {
    /// Events durably stored.
    pub stored: i32,
    /// Events dropped because personalisation consent is not granted.
    pub dropped_without_consent: i32,
    /// Events older than the retention limit: not stored, since retention would delete them at once.
    pub dropped_by_retention: i32,
    /// Whether the stored events are already synced (always, without group commit).
    pub durable: bool,
}

impl From<mizan::RecordOutcome> for RecordOutcome {
    fn from(o: mizan::RecordOutcome) -> Self {
        // Counts of one batch (at most 10,000 events) fit an Int.
        RecordOutcome {
            stored: o.stored as i32,
            dropped_without_consent: o.dropped_without_consent as i32,
            dropped_by_retention: o.dropped_by_retention as i32,
            durable: o.durable,
        }
    }
}

/// Which stored events to forget; every criterion given must match, at least one must be given.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ForgetRequest {
    /// Events on any of these items.
    #[uniffi(default = [])]
    pub item_ids: Vec<String>,
    /// Events on items in any of these categories.
    #[uniffi(default = [])]
    pub categories: Vec<String>,
    /// Events of any of these kinds.
    #[uniffi(default = [])]
    pub kinds: Vec<EventKind>,
    /// Events at or after this time (ms since the Unix epoch).
    #[uniffi(default = None)]
    pub from_ms: Option<i64>,
    /// Events before this time.
    #[uniffi(default = None)]
    pub until_ms: Option<i64>,
}

impl From<ForgetRequest> for mizan::ForgetRequest {
    fn from(r: ForgetRequest) -> Self {
        mizan::ForgetRequest {
            item_ids: r.item_ids,
            categories: r.categories,
            kinds: r.kinds.into_iter().map(Into::into).collect(),
            from_ms: r.from_ms,
            until_ms: r.until_ms,
        }
    }
}

/// A consent decision.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConsentRecord {
    /// The purpose.
    pub purpose: String,
    /// Granted or withdrawn.
    pub granted: bool,
    /// Privacy policy version shown.
    pub policy_version: String,
    /// When, in ms since the Unix epoch.
    pub at_ms: i64,
}

impl From<mizan::ConsentRecord> for ConsentRecord {
    fn from(r: mizan::ConsentRecord) -> Self {
        ConsentRecord { purpose: r.purpose, granted: r.granted, policy_version: r.policy_version, at_ms: r.at_ms }
    }
}

/// A request for recommendations.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RecommendRequest {
    /// How many items (1–1000).
    #[uniffi(default = 10)]
    pub k: i32,
    /// Re-rank only these ids.
    #[uniffi(default = None)]
    pub candidates: Option<Vec<String>>,
    /// Also return items already interacted with.
    #[uniffi(default = false)]
    pub include_seen: bool,
    /// 0 = pure relevance … 1 = maximal spread.
    #[uniffi(default = 0.2)]
    pub diversity: f32,
    /// Moment to rank for; device clock if null.
    #[uniffi(default = None)]
    pub now_ms: Option<i64>,
    /// Share of the list (0–0.5) given to exploring categories new to the person.
    #[uniffi(default = 0.1)]
    pub exploration: f32,
    /// Weight of a boost for items few others had.
    #[uniffi(default = 0.0)]
    pub novelty: f32,
    /// Seed of the exploration's draws (null: derived from the hour); any value.
    #[uniffi(default = None)]
    pub seed: Option<i64>,
    /// Hide items shown this many times today.
    #[uniffi(default = None)]
    pub max_impressions_per_item_per_day: Option<i32>,
    /// Hide a category's items once shown this many times today.
    #[uniffi(default = None)]
    pub max_impressions_per_category_per_day: Option<i32>,
    /// What the list is for (null: mixed).
    #[uniffi(default = None)]
    pub mode: Option<RecommendMode>,
}

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecommendMode {
    /// What the person may like next; bought items stay hidden unless repeatable.
    Discover,
    /// Only what the person bought before, most due first ("Buy it again").
    BuyAgain,
    /// Both: repeatable items the person buys count by how due they are.
    Mixed,
}

impl From<RecommendMode> for mizan::RecommendMode {
    fn from(m: RecommendMode) -> Self {
        match m {
            RecommendMode::Discover => mizan::RecommendMode::Discover,
            RecommendMode::BuyAgain => mizan::RecommendMode::BuyAgain,
            RecommendMode::Mixed => mizan::RecommendMode::Mixed,
        }
    }
}

impl TryFrom<RecommendRequest> for mizan::RecommendRequest {
    type Error = mizan::Error;

    fn try_from(r: RecommendRequest) -> mizan::Result<Self> {
        Ok(mizan::RecommendRequest {
            k: from_host(r.k, "k")?,
            candidates: r.candidates,
            include_seen: r.include_seen,
            diversity: r.diversity,
            now_ms: r.now_ms,
            exploration: r.exploration,
            novelty: r.novelty,
            seed: r.seed.map(|s| s as u64),
            max_impressions_per_item_per_day: opt_from_host(r.max_impressions_per_item_per_day, "max_impressions_per_item_per_day")?,
            max_impressions_per_category_per_day: opt_from_host(r.max_impressions_per_category_per_day, "max_impressions_per_category_per_day")?,
            mode: r.mode.map(Into::into).unwrap_or_default(),
        })
    }
}

/// The kind of signal behind a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReasonKind {
    /// Associated with an item in the history.
    RelatedToHistory,
    /// Often comes next after a recent item.
    FollowsRecent,
    /// In a category the person engages with.
    CategoryInterest,
    /// Popular overall or in its category.
    Popular,
    /// Popular lately, for someone back after a break (or new).
    Trending,
    /// Rarely seen by others (novelty boost).
    New,
    /// Exploring a category new to the person.
    Exploration,
    /// Bought before and due again.
    BuyAgain,
}

/// One contributing signal, worded as association.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Reason {
    /// Signal kind.
    pub kind: ReasonKind,
    /// Text to show the user.
    pub text: String,
    /// The history item behind it, if any.
    pub source_item_id: Option<String>,
    /// The category behind it, if any.
    pub category: Option<String>,
    /// Contribution to the score.
    pub contribution: f32,
}

impl From<mizan::Reason> for Reason {
    fn from(r: mizan::Reason) -> Self {
        let kind = match r.kind {
            mizan::ReasonKind::RelatedToHistory => ReasonKind::RelatedToHistory,
            mizan::ReasonKind::FollowsRecent => ReasonKind::FollowsRecent,
            mizan::ReasonKind::CategoryInterest => ReasonKind::CategoryInterest,
            mizan::ReasonKind::Popular => ReasonKind::Popular,
            mizan::ReasonKind::Trending => ReasonKind::Trending,
            mizan::ReasonKind::New => ReasonKind::New,
            mizan::ReasonKind::Exploration => ReasonKind::Exploration,
            mizan::ReasonKind::BuyAgain => ReasonKind::BuyAgain,
        };
        Reason { kind, text: r.text, source_item_id: r.source_item_id, category: r.category, contribution: r.contribution }
    }
}

/// One ranked item.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Recommendation {
    /// Catalogue id.
    pub item_id: String,
    /// Display title.
    pub title: String,
    /// Score, comparable within one list.
    pub score: f32,
    /// Reasons, strongest first; never empty: at most three from `recommend`, all of them from `explain`.
    pub reasons: Vec<Reason>,
}

impl From<mizan::Recommendation> for Recommendation {
    fn from(r: mizan::Recommendation) -> Self {
        Recommendation { item_id: r.item_id, title: r.title, score: r.score, reasons: r.reasons.into_iter().map(Into::into).collect() }
    }
}

/// A ranked list.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Recommendations {
    /// Items, best first.
    pub items: Vec<Recommendation>,
    /// Whether the profile shaped the list.
    pub personalised: bool,
    /// Candidate ids unknown to the catalogue.
    pub unknown_candidates: i32,
    /// Why the list holds fewer items than asked for (null when full).
    pub shortfall: Option<Shortfall>,
}

impl From<mizan::Recommendations> for Recommendations {
    fn from(r: mizan::Recommendations) -> Self {
        Recommendations {
            items: r.items.into_iter().map(Into::into).collect(),
            personalised: r.personalised,
            unknown_candidates: i32::try_from(r.unknown_candidates).unwrap_or(i32::MAX),
            shortfall: r.shortfall.map(Into::into),
        }
    }
}

/// Why a list holds fewer items than asked for.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct Shortfall {
    /// Empty places.
    pub missing: i32,
    /// Why.
    pub reason: ShortfallReason,
}

/// What left a list short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ShortfallReason {
    /// Fewer items are eligible (catalogue or candidates, after filters).
    FewerEligibleItems,
    /// Buy again: the person bought fewer items.
    FewerPurchases,
    /// Buy again without personalisation consent.
    NoConsent,
}

impl From<mizan::Shortfall> for Shortfall {
    fn from(s: mizan::Shortfall) -> Self {
        let reason = match s.reason {
            mizan::ShortfallReason::FewerEligibleItems => ShortfallReason::FewerEligibleItems,
            mizan::ShortfallReason::FewerPurchases => ShortfallReason::FewerPurchases,
            mizan::ShortfallReason::NoConsent => ShortfallReason::NoConsent,
        };
        // At most k (≤ 1000) places.
        Shortfall { missing: s.missing as i32, reason }
    }
}

/// Impressions, clicks and "not interested".
#[derive(Debug, Clone, uniffi::Record)]
pub struct Feedback {
    /// Items shown.
    #[uniffi(default = [])]
    pub impressions: Vec<String>,
    /// Items opened.
    #[uniffi(default = [])]
    pub clicks: Vec<String>,
    /// Items marked "not interested" (hidden 30 days, then fading).
    #[uniffi(default = [])]
    pub not_interested: Vec<String>,
    /// Categories marked "not interested".
    #[uniffi(default = [])]
    pub not_interested_categories: Vec<String>,
    /// Why, if the person said.
    #[uniffi(default = None)]
    pub reason: Option<NotInterestedReason>,
    /// When; device clock if null.
    #[uniffi(default = None)]
    pub timestamp_ms: Option<i64>,
}

/// Why the person is not interested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NotInterestedReason {
    /// Not relevant to me.
    NotRelevant,
    /// I already have it.
    AlreadyHave,
    /// Offensive or inappropriate.
    Offensive,
    /// Shown too often.
    TooOften,
    /// Something else.
    Other,
}

impl From<NotInterestedReason> for mizan::NotInterestedReason {
    fn from(r: NotInterestedReason) -> Self {
        match r {
            NotInterestedReason::NotRelevant => mizan::NotInterestedReason::NotRelevant,
            NotInterestedReason::AlreadyHave => mizan::NotInterestedReason::AlreadyHave,
            NotInterestedReason::Offensive => mizan::NotInterestedReason::Offensive,
            NotInterestedReason::TooOften => mizan::NotInterestedReason::TooOften,
            NotInterestedReason::Other => mizan::NotInterestedReason::Other,
        }
    }
}

impl From<Feedback> for mizan::Feedback {
    fn from(f: Feedback) -> Self {
        mizan::Feedback {
            impressions: f.impressions,
            clicks: f.clicks,
            not_interested: f.not_interested,
            not_interested_categories: f.not_interested_categories,
            reason: f.reason.map(Into::into),
            timestamp_ms: f.timestamp_ms,
        }
    }
}

/// Provenance of a loaded pack.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PackInfo {
    /// Backend-chosen version.
    pub pack_version: i64,
    /// Build time, ms since the Unix epoch.
    pub built_at_ms: i64,
    /// Source description.
    pub source: String,
    /// When the pack holds part of a larger catalogue: how it was restricted
    /// (e.g. `categories: Dairy, Bakery`); none for a whole catalogue.
    pub covers: Option<String>,
    /// Items in the catalogue the pack was taken from (none for a whole catalogue).
    pub source_items: Option<i64>,
}

impl From<mizan::PackMeta> for PackInfo {
    fn from(m: mizan::PackMeta) -> Self {
        let (covers, source_items) = m.coverage.map(|c| (c.subset, c.source_items)).unzip();
        PackInfo { pack_version: to_host(m.pack_version), built_at_ms: m.built_at_ms, source: m.source, covers, source_items: source_items.map(to_host) }
    }
}

/// A named model weight.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NamedWeight {
    /// Item id, category name, or score part name.
    pub name: String,
    /// Weight.
    pub weight: f64,
}

impl From<Weighted> for NamedWeight {
    fn from(w: Weighted) -> Self {
        NamedWeight { name: w.name, weight: w.weight }
    }
}

/// The developer debug snapshot.
#[derive(Debug, Clone, uniffi::Record)]
pub struct InspectReport {
    /// Events stored.
    pub events: i64,
    /// Bytes of all store files.
    pub bytes_on_disk: i64,
    /// Records skipped because they failed authentication.
    pub corrupt_records: i64,
    /// Log segments.
    pub segments: i64,
    /// Store file generation (bumped by compaction, forget and key rotation).
    pub generation: i64,
    /// Whether ranking is personalised now.
    pub personalised: bool,
    /// The loaded pack, if any.
    pub pack: Option<PackInfo>,
    /// Items in the loaded pack.
    pub catalog_items: i64,
    /// Strongest category affinities.
    pub top_categories: Vec<NamedWeight>,
    /// Strongest item interests.
    pub top_items: Vec<NamedWeight>,
    /// Items most due to be bought again (0..=1; never sensitive ones).
    pub due_items: Vec<NamedWeight>,
    /// Impressions the on-device ranker has learned from.
    pub online_impressions: i64,
    /// Per score part, how much the on-device ranker has changed its weight, as
    /// a share of the pack's (0 until clicks say otherwise, −1 = switched off).
    pub ranker_adjustments: Vec<NamedWeight>,
    /// How much of the trend weight (what is popular now) is in force: 0 right
    /// after an event, towards 1 after a break.
    pub trend_share: f64,
    /// The full report as JSON (every field of the core report).
    pub details_json: String,
}

impl From<mizan::InspectReport> for InspectReport {
    fn from(r: mizan::InspectReport) -> Self {
        let details_json = serde_json::to_string_pretty(&r).expect("report serialises");
        InspectReport {
            events: to_host(r.store.events),
            bytes_on_disk: to_host(r.store.bytes_on_disk),
            corrupt_records: to_host(r.store.corrupt_records),
            segments: to_host(r.store.segments),
            generation: to_host(r.store.generation),
            personalised: r.personalised,
            catalog_items: r.catalog.as_ref().map_or(0, |c| to_host(c.items)),
            pack: r.catalog.map(|c| c.meta.into()),
            top_categories: r.top_categories.into_iter().map(Into::into).collect(),
            top_items: r.top_items.into_iter().map(Into::into).collect(),
            due_items: r.due_items.into_iter().map(Into::into).collect(),
            online_impressions: to_host(r.online_ranker.impressions),
            ranker_adjustments: r.online_ranker.adjustments.into_iter().map(|(name, weight)| NamedWeight { name, weight }).collect(),
            trend_share: r.trend_share,
            details_json,
        }
    }
}

/// A best-time question.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BestTimeRequest {
    /// Answer from this moment; device clock if null.
    #[uniffi(default = None)]
    pub now_ms: Option<i64>,
    /// The person's offset from UTC in minutes.
    #[uniffi(default = 0)]
    pub utc_offset_minutes: i32,
    /// First quiet local hour (0–23); quiet until `quiet_end_hour`. Equal values: no quiet hours.
    #[uniffi(default = 22)]
    pub quiet_start_hour: i32,
    /// First local hour after the quiet period.
    #[uniffi(default = 8)]
    pub quiet_end_hour: i32,
    /// How far ahead to look, in hours (1–336).
    #[uniffi(default = 168)]
    pub horizon_hours: i32,
}

impl TryFrom<BestTimeRequest> for mizan::BestTimeRequest {
    type Error = mizan::Error;

    fn try_from(r: BestTimeRequest) -> mizan::Result<Self> {
        let quiet = (r.quiet_start_hour != r.quiet_end_hour).then_some(mizan::QuietHours {
            start_hour: from_host(r.quiet_start_hour, "quiet_start_hour")?,
            end_hour: from_host(r.quiet_end_hour, "quiet_end_hour")?,
        });
        let horizon_hours = from_host(r.horizon_hours, "horizon_hours")?;
        Ok(mizan::BestTimeRequest { now_ms: r.now_ms, utc_offset_minutes: r.utc_offset_minutes, quiet_hours: quiet, horizon_hours })
    }
}

/// When the person is most likely to respond.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BestTime {
    /// Start of the suggested hour, ms since the Unix epoch.
    pub at_ms: i64,
    /// Its local hour.
    pub local_hour: i32,
    /// Its local weekday, Monday = 0.
    pub weekday: i32,
    /// 0–1 confidence; 0 for a fallback.
    pub confidence: f32,
    /// True when a default was used (too little data or no consent).
    pub fallback: bool,
    /// Engagement events the answer rests on.
    pub based_on_events: i64,
}

impl From<mizan::BestTime> for BestTime {
    fn from(t: mizan::BestTime) -> Self {
        BestTime {
            at_ms: t.at_ms,
            local_hour: t.local_hour.into(),
            weekday: t.weekday.into(),
            confidence: t.confidence,
            fallback: t.fallback,
            based_on_events: to_host(t.based_on_events),
        }
    }
}

/// What a debug snapshot holds (see the core's `DebugOptions`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct DebugOptions {
    /// Top items listed (1–100).
    #[uniffi(default = 10)]
    pub top_n: i32,
    /// Items explained, listed or not (≤ 100).
    #[uniffi(default = [])]
    pub item_ids: Vec<String>,
    /// Include stored events.
    #[uniffi(default = false)]
    pub include_raw_events: bool,
    /// Null: now.
    #[uniffi(default = None)]
    pub now_ms: Option<i64>,
    /// Places quiet hours.
    #[uniffi(default = 0)]
    pub utc_offset_minutes: i32,
    /// As in recommend.
    #[uniffi(default = None)]
    pub max_impressions_per_item_per_day: Option<i32>,
    /// As in recommend.
    #[uniffi(default = None)]
    pub max_impressions_per_category_per_day: Option<i32>,
}

impl TryFrom<DebugOptions> for mizan::DebugOptions {
    type Error = mizan::Error;

    fn try_from(o: DebugOptions) -> mizan::Result<Self> {
        Ok(mizan::DebugOptions {
            top_n: from_host(o.top_n, "top_n")?,
            item_ids: o.item_ids,
            include_raw_events: o.include_raw_events,
            now_ms: o.now_ms,
            utc_offset_minutes: o.utc_offset_minutes,
            max_impressions_per_item_per_day: opt_from_host(o.max_impressions_per_item_per_day, "max_impressions_per_item_per_day")?,
            max_impressions_per_category_per_day: opt_from_host(o.max_impressions_per_category_per_day, "max_impressions_per_category_per_day")?,
        })
    }
}
