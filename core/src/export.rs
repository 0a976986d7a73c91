//! The user's data export (GDPR art. 15/20, PDPL, CCPA access): everything
//! stored and everything inferred, as machine-readable JSON, streamed so that a
//! large log never has to sit in memory at once.

use std::io::Write;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::consent::ConsentRecord;
use crate::error::{Error, Result};
use crate::events::StoredEvent;
use crate::feedback::FeedbackState;
use crate::inspect::Weighted;
use crate::model::{ModelState, UserProfile};
use crate::online::OnlineSummary;
use crate::repurchase::Due;

/// Identifies the export format so consumers can parse it safely.
pub const EXPORT_FORMAT: &str = "mizan-user-data/1";

/// Everything in the export except the event stream.
pub struct ExportHeader<'a> {
    /// When the export is made.
    pub exported_at_ms: i64,
    /// Every consent decision ever recorded, oldest first.
    pub consent_history: &'a [ConsentRecord],
    /// The loaded catalogue, to name inferred interests.
    pub catalog: Option<&'a Catalog>,
    /// The profile as of now.
    pub profile: &'a UserProfile,
    /// The raw model state (every item the person touched, sensitive or not).
    pub model: &'a ModelState,
    /// Activity per UTC hour of day.
    pub active_hours: Vec<f64>,
    /// Impressions, clicks and "not interested".
    pub feedback: &'a FeedbackState,
    /// What the ranker learned from them.
    pub online_ranker: OnlineSummary,
}

#[derive(Serialize)]
struct Head<'a> {
    format: &'static str,
    exported_at_ms: i64,
    consent_history: &'a [ConsentRecord],
    inferred: Inferred<'a>,
    feedback: &'a FeedbackState,
}

#[derive(Serialize)]
struct Inferred<'a> {
    categories: Vec<Weighted>,
    items: Vec<Weighted>,
    /// How due each item bought is to be bought again, and on what rhythm.
    repurchase: Vec<DueItem<'a>>,
    active_hours: &'a [f64],
    model: &'a ModelState,
    online_ranker: &'a OnlineSummary,
}

#[derive(Serialize)]
struct DueItem<'a> {
    item: &'a str,
    due: &'a Due,
}

/// Writes the export: the header fields, then `"events": [...]` filled by
/// `stream`, which calls its argument once per stored event, oldest first.
pub fn write_export(
    out: &mut dyn Write,
    header: &ExportHeader<'_>,
    stream: impl FnOnce(&mut dyn FnMut(StoredEvent)) -> Result<()>,
) -> Result<()> {
    let named = |pairs: Vec<(String, f64)>| pairs.into_iter().map(|(name, weight)| Weighted { name, weight }).collect();
    let repurchase = match header.catalog {
        Some(c) => header.profile.repurchase.iter().map(|(i, due)| DueItem { item: c.id(*i), due }).collect(),
        None => vec![],
    };
    let (categories, items) = match header.catalog {
        Some(c) => (
            named(header.profile.categories.iter().map(|(&i, &w)| (c.category(i).name.clone(), w)).collect()),
            named(header.profile.items.iter().map(|&(i, ref s)| (c.id(i).to_string(), s.score)).collect()),
        ),
        None => (vec![], vec![]),
    };
    let head = Head {
        format: EXPORT_FORMAT,
        exported_at_ms: header.exported_at_ms,
        consent_history: header.consent_history,
        inferred: Inferred {
            categories,
            items,
            repurchase,
            active_hours: &header.active_hours,
            model: header.model,
            online_ranker: &header.online_ranker,
        },
        feedback: header.feedback,
    };
    let io = Error::io("writing the export");
    let mut head_json = serde_json::to_vec(&head).expect("export header serialises");
    head_json.pop(); // the closing brace; the events follow
    out.write_all(&head_json).map_err(io)?;
    out.write_all(b",\"events\":[").map_err(Error::io("writing the export"))?;
    let mut first = true;
    let mut failure = None;
    stream(&mut |event| {
        if failure.is_some() {
            return;
        }
        let sep: &[u8] = if first { b"\n" } else { b",\n" };
        first = false;
        let written = out.write_all(sep).and_then(|_| serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::other));
        failure = written.err();
    })?;
    if let Some(source) = failure {
        return Err(Error::Io { op: "writing the export", source });
    }
    out.write_all(b"\n]}\n").map_err(Error::io("writing the export"))
}
