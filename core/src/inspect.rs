//! The developer-facing snapshot of what the engine holds and has learned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, PackMeta, RankerWeights};
use crate::config::{EngineConfig, Retention};
use crate::consent::ConsentRecord;
use crate::model::{ModelState, UserProfile};
use crate::online::{OnlineRanker, OnlineSummary};
use crate::store::{Store, SyncPolicy, STORE_FORMAT_VERSION};

/// How many top items and categories the report lists.
const TOP_N: usize = 10;

/// Storage facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreSummary {
    /// Events currently stored.
    pub events: u64,
    /// Log segments.
    pub segments: u64,
    /// Bytes of the log segments.
    pub log_bytes: u64,
    /// Bytes of all store files.
    pub bytes_on_disk: u64,
    /// Store format version.
    pub format_version: u16,
    /// File generation (bumped by every compaction, forget and key rotation).
    pub generation: u64,
    /// Events appended since the last model snapshot.
    pub events_since_snapshot: u64,
    /// Records skipped because they failed authentication.
    pub corrupt_records: u64,
    /// Bytes of a torn tail cut at open.
    pub truncated_bytes: u64,
    /// Segments found damaged.
    pub damaged_segments: u64,
    /// Segments missing from the sequence.
    pub missing_segments: u64,
    /// The snapshot was unreadable and the model was rebuilt from the log.
    pub snapshot_discarded: bool,
    /// Set when the store was migrated from an older format at open.
    pub migrated_from: Option<u16>,
    /// Store files found at open without the manifest that holds their key's
    /// salt (deleted or never committed): unreadable by anyone, so deleted, and
    /// the store started empty. Non-zero means earlier data was lost.
    pub unreadable_files_removed: u64,
    /// An erase interrupted after its first step was completed at open.
    pub interrupted_erase_completed: bool,
    /// The state file was older than the one the store last saved, or missing
    /// (put back or deleted behind the engine's back): every consent was
    /// withdrawn at open, to be asked again.
    pub state_rolled_back: bool,
}

/// The data-minimisation and durability policy in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// "every_batch" or "group_commit(<bytes> B, <ms> ms)".
    pub sync: String,
    /// Retention limits.
    pub retention: Retention,
    /// Stored timestamps are rounded down to this many ms, if set.
    pub timestamp_granularity_ms: Option<i64>,
    /// What each stored event keeps (everything else the host sends is dropped).
    pub stored_fields: String,
    /// Consent purposes the app declared besides the built-in ones.
    pub declared_purposes: Vec<String>,
}

/// The loaded catalogue pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSummary {
    /// Pack provenance.
    pub meta: PackMeta,
    /// Number of items.
    pub items: u64,
    /// Number of categories.
    pub categories: u64,
    /// The ranker weights the pack ships and the engine uses.
    pub weights: RankerWeights,
    /// Hidden dimensions of the pack's sequence network (0 without one).
    pub sequence_network_dim: u64,
}

/// A named weight in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weighted {
    /// Item id or category name.
    pub name: String,
    /// The learned weight.
    pub weight: f64,
}

/// Everything a developer needs to see what the on-device model knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectReport {
    /// Storage facts.
    pub store: StoreSummary,
    /// The policy in force.
    pub policy: PolicySummary,
    /// The latest consent decision per purpose.
    pub consents: Vec<ConsentRecord>,
    /// Whether ranking is currently personalised.
    pub personalised: bool,
    /// The loaded pack, if any.
    pub catalog: Option<CatalogSummary>,
    /// Stored events per kind.
    pub events_by_kind: BTreeMap<String, u64>,
    /// Oldest stored event time.
    pub first_event_ms: Option<i64>,
    /// Newest stored event time.
    pub last_event_ms: Option<i64>,
    /// Strongest category affinities (never sensitive ones).
    pub top_categories: Vec<Weighted>,
    /// Strongest item interests.
    pub top_items: Vec<Weighted>,
    /// The items most due to be bought again, with how due (0..=1; never sensitive ones).
    pub due_items: Vec<Weighted>,
    /// Decayed activity per UTC hour of day.
    pub active_hours: Vec<f64>,
    /// Items in the history that the pack does not know.
    pub unknown_items: u64,
    /// Sensitive items in the history, kept out of the profile.
    pub sensitive_items_ignored: u64,
    /// Impressions counted so far.
    pub impressions: u64,
    /// Items the person marked "not interested".
    pub suppressed_items: u64,
    /// What the ranker learned on the device from impressions and clicks.
    pub online_ranker: OnlineSummary,
    /// The ranker weights in force: the pack's, adjusted by the online ranker.
    pub ranker_weights: Option<RankerWeights>,
    /// How much of the trend weight (what is popular now) is in force: 0 right
    /// after an event, towards 1 after a break, 1 without history or consent
    /// (0 if the device clock is before the pack's trend).
    pub trend_share: f64,
}

/// Inputs to [`InspectReport::build`], borrowed from the engine.
pub struct InspectInputs<'a> {
    /// The open store.
    pub store: &'a Store,
    /// The engine's configuration.
    pub config: &'a EngineConfig,
    /// The model state.
    pub model: &'a ModelState,
    /// Current consent decisions.
    pub consents: Vec<ConsentRecord>,
    /// Whether personalisation is allowed.
    pub personalised: bool,
    /// The loaded catalogue.
    pub catalog: Option<&'a Catalog>,
    /// The profile as of now (empty without a catalogue or consent).
    pub profile: &'a UserProfile,
    /// Total impressions counted.
    pub impressions: u64,
    /// Suppressed items.
    pub suppressed_items: u64,
    /// Events since the last snapshot.
    pub events_since_snapshot: u64,
    /// The online ranker's state.
    pub online: &'a OnlineRanker,
    /// The ranker weights in force (with a catalogue).
    pub ranker_weights: Option<RankerWeights>,
    /// The moment of the report.
    pub now_ms: i64,
}

impl InspectReport {
    /// Assembles the report.
    pub fn build(inputs: InspectInputs<'_>) -> Self {
        let (top_categories, top_items) = match inputs.catalog {
            // Even with consent to sensitive profiling, a report never names them.
            Some(catalog) => (
                top(inputs
                    .profile
                    .categories
                    .iter()
                    .filter(|(&c, _)| catalog.category(c).sensitive.is_none())
                    .map(|(&c, &w)| (catalog.category(c).name.clone(), w))
                    .collect()),
                top(inputs.profile.items.iter().filter(|(i, _)| !catalog.is_sensitive(*i)).map(|&(i, ref s)| (catalog.id(i).to_string(), s.score)).collect()),
            ),
            None => (vec![], vec![]),
        };
        let due_items = match inputs.catalog {
            Some(catalog) => {
                top(inputs.profile.repurchase.iter().filter(|(i, _)| !catalog.is_sensitive(*i)).map(|(i, d)| (catalog.id(*i).to_string(), d.score)).collect())
            }
            None => vec![],
        };
        let store = inputs.store;
        let recovery = store.recovery();
        let sync = match inputs.config.sync {
            SyncPolicy::EveryBatch => "every_batch".to_string(),
            SyncPolicy::GroupCommit { max_bytes, max_delay_ms } => format!("group_commit({max_bytes} B, {max_delay_ms} ms)"),
        };
        InspectReport {
            store: StoreSummary {
                events: inputs.model.events,
                segments: store.segment_count(),
                log_bytes: store.log_bytes(),
                bytes_on_disk: store.bytes_on_disk(),
                format_version: STORE_FORMAT_VERSION,
                generation: store.generation(),
                events_since_snapshot: inputs.events_since_snapshot,
                corrupt_records: recovery.corrupt_records,
                truncated_bytes: recovery.truncated_bytes,
                damaged_segments: recovery.damaged_segments,
                missing_segments: recovery.missing_segments,
                snapshot_discarded: recovery.snapshot_discarded,
                migrated_from: recovery.migrated_from,
                unreadable_files_removed: recovery.orphaned_files_removed,
                interrupted_erase_completed: recovery.interrupted_erase_completed,
                state_rolled_back: recovery.state_rolled_back,
            },
            policy: PolicySummary {
                sync,
                retention: inputs.config.retention,
                timestamp_granularity_ms: inputs.config.timestamp_granularity_ms,
                stored_fields: "seq, kind, item_id, timestamp_ms, dwell_secs (views), rating (ratings), \
                                query words (searches; hashed unless 'search_terms' is granted)"
                    .to_string(),
                declared_purposes: inputs.config.declared_purposes.clone(),
            },
            consents: inputs.consents,
            personalised: inputs.personalised,
            catalog: inputs.catalog.map(|c| CatalogSummary {
                meta: c.meta().clone(),
                items: c.len() as u64,
                categories: c.categories().len() as u64,
                weights: c.weights().clone(),
                sequence_network_dim: c.network().map_or(0, |n| n.dim() as u64),
            }),
            events_by_kind: inputs.model.by_kind.iter().map(|(k, &n)| (k.as_str().to_string(), n)).collect(),
            first_event_ms: inputs.model.first_ms,
            last_event_ms: inputs.model.last_ms,
            top_categories,
            top_items,
            due_items,
            active_hours: inputs.model.active_hours(inputs.now_ms),
            unknown_items: inputs.profile.unknown_items as u64,
            sensitive_items_ignored: inputs.profile.sensitive_items_ignored as u64,
            impressions: inputs.impressions,
            suppressed_items: inputs.suppressed_items,
            online_ranker: inputs.online.summary(),
            ranker_weights: inputs.ranker_weights,
            trend_share: inputs.profile.trend_share,
        }
    }
}

/// The [`TOP_N`] largest weights (ties by name). Takes a vector, not an
/// iterator: one copy of the sort in the mobile library for every caller.
fn top(weights: Vec<(String, f64)>) -> Vec<Weighted> {
    let mut all: Vec<Weighted> = weights.into_iter().map(|(name, weight)| Weighted { name, weight }).collect();
    all.sort_unstable_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
    all.truncate(TOP_N);
    all
}
