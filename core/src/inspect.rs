//! The developer-facing snapshot of what the engine holds and has learned.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Catalog, PackMeta};
use crate::consent::ConsentRecord;
use crate::events::StoredEvent;
use crate::model::UserProfile;
use crate::store::Store;

/// How many top items and categories the report lists.
const TOP_N: usize = 10;

/// Storage facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreSummary {
    /// Events currently stored.
    pub events: u64,
    /// Sealed records in the log.
    pub log_records: u64,
    /// Bytes of all store files.
    pub bytes_on_disk: u64,
    /// Records skipped at open because they failed authentication.
    pub corrupt_records: u64,
    /// Bytes of a torn tail cut at open.
    pub truncated_bytes: u64,
}

/// The loaded catalogue pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogSummary {
    /// Pack provenance.
    pub meta: PackMeta,
    /// Number of items.
    pub items: u64,
    /// Number of categories.
    pub categories: u64,
}

/// A named weight in the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weighted {
    /// Item id or category name.
    pub name: String,
    /// The learned weight.
    pub weight: f64,
}

/// Everything a developer needs to see what the on-device model knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    /// Storage facts.
    pub store: StoreSummary,
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
    /// Decayed activity per UTC hour of day.
    pub active_hours: Vec<f64>,
    /// Events on items the pack does not know.
    pub unknown_item_events: u64,
    /// Events on sensitive items, kept out of the profile.
    pub sensitive_events_ignored: u64,
    /// Impressions counted per item so far.
    pub impressions: u64,
    /// Items the person marked "not interested".
    pub suppressed_items: u64,
}

/// Inputs to [`InspectReport::build`], borrowed from the engine.
pub struct InspectInputs<'a> {
    /// The open store.
    pub store: &'a Store,
    /// All stored events.
    pub events: &'a [StoredEvent],
    /// Current consent decisions.
    pub consents: Vec<ConsentRecord>,
    /// Whether personalisation is allowed.
    pub personalised: bool,
    /// The loaded catalogue.
    pub catalog: Option<&'a Catalog>,
    /// The profile as of now (empty without a catalogue).
    pub profile: &'a UserProfile,
    /// Total impressions counted.
    pub impressions: u64,
    /// Suppressed items.
    pub suppressed_items: u64,
}

impl InspectReport {
    /// Assembles the report.
    pub fn build(inputs: InspectInputs<'_>) -> Self {
        let mut events_by_kind = BTreeMap::new();
        for e in inputs.events {
            *events_by_kind.entry(e.kind.as_str().to_string()).or_insert(0) += 1;
        }
        let (top_categories, top_items) = match inputs.catalog {
            Some(catalog) => (
                top(inputs.profile.categories.iter().map(|(&c, &w)| (catalog.category(c).name.clone(), w))),
                top(inputs.profile.items.iter().map(|(&i, s)| (catalog.item(i).id.clone(), s.score))),
            ),
            None => (vec![], vec![]),
        };
        let recovery = inputs.store.recovery();
        InspectReport {
            store: StoreSummary {
                events: inputs.events.len() as u64,
                log_records: inputs.store.log_records(),
                bytes_on_disk: inputs.store.bytes_on_disk(),
                corrupt_records: recovery.corrupt_records,
                truncated_bytes: recovery.truncated_bytes,
            },
            consents: inputs.consents,
            personalised: inputs.personalised,
            catalog: inputs.catalog.map(|c| CatalogSummary {
                meta: c.pack().meta.clone(),
                items: c.len() as u64,
                categories: c.pack().categories.len() as u64,
            }),
            events_by_kind,
            first_event_ms: inputs.events.iter().map(|e| e.timestamp_ms).min(),
            last_event_ms: inputs.events.iter().map(|e| e.timestamp_ms).max(),
            top_categories,
            top_items,
            active_hours: inputs.profile.hour_of_day.to_vec(),
            unknown_item_events: inputs.profile.unknown_item_events as u64,
            sensitive_events_ignored: inputs.profile.sensitive_events_ignored as u64,
            impressions: inputs.impressions,
            suppressed_items: inputs.suppressed_items,
        }
    }
}

fn top(weights: impl Iterator<Item = (String, f64)>) -> Vec<Weighted> {
    let mut all: Vec<Weighted> = weights.map(|(name, weight)| Weighted { name, weight }).collect();
    all.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.name.cmp(&b.name)));
    all.truncate(TOP_N);
    all
}
