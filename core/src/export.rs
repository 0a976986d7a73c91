//! The user's data export (GDPR art. 15/20, PDPL, CCPA access): everything
//! stored and everything inferred, as machine-readable JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::consent::ConsentRecord;
use crate::events::StoredEvent;
use crate::inspect::Weighted;

/// Identifies the export format so consumers can parse it safely.
pub const EXPORT_FORMAT: &str = "mizan-user-data/1";

/// The complete export.
#[derive(Debug, Clone, Serialize)]
pub struct UserDataExport<'a> {
    /// Format identifier, [`EXPORT_FORMAT`].
    pub format: &'static str,
    /// When the export was made.
    pub exported_at_ms: i64,
    /// Every consent decision ever recorded, oldest first.
    pub consent_history: &'a [ConsentRecord],
    /// Every stored event, oldest first, exactly as stored.
    pub events: &'a [StoredEvent],
    /// Inferred interests.
    pub inferred: InferredData,
    /// Feedback state kept for ranking.
    pub feedback: FeedbackData<'a>,
}

/// What the model inferred from the events.
#[derive(Debug, Clone, Serialize)]
pub struct InferredData {
    /// Category affinities.
    pub categories: Vec<Weighted>,
    /// Item interests.
    pub items: Vec<Weighted>,
    /// Activity per UTC hour of day.
    pub active_hours: Vec<f64>,
}

/// Feedback counters and suppressions.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackData<'a> {
    /// Impressions per item id.
    pub impressions: &'a BTreeMap<String, u32>,
    /// Items marked "not interested", with the time.
    pub not_interested: &'a BTreeMap<String, i64>,
}

impl UserDataExport<'_> {
    /// Renders the export as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("export serialises")
    }
}
