//! Behaviour events: what the host app reports, how it is validated, and the
//! minimised form that is actually stored.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::error::{Error, InvalidReason, Result};

/// Longest item id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Longest search query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 512;
/// Most events accepted in one `record` call.
pub const MAX_BATCH: usize = 10_000;
/// Longest dwell time accepted (one day), in seconds.
pub const MAX_DWELL_SECS: f64 = 86_400.0;
/// Highest rating accepted; ratings run from 0 to this.
pub const MAX_RATING: f64 = 5.0;
const YEAR_2000_MS: i64 = 946_684_800_000;

/// What the user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Opened an item's page; `dwell_secs` may say how long they stayed.
    View,
    /// Put the item in the cart.
    AddToCart,
    /// Bought the item.
    Purchase,
    /// Rated the item (`rating` 0–5).
    Rating,
    /// Searched (`query`), optionally opening a result (`item_id`).
    Search,
    /// Said "not interested" in the item.
    Dismiss,
    /// Opened a notification (optionally about `item_id`).
    NotificationOpen,
    /// Started a session in the app (no item).
    SessionStart,
}

impl EventKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EventKind; 8] = [
        EventKind::View,
        EventKind::AddToCart,
        EventKind::Purchase,
        EventKind::Rating,
        EventKind::Search,
        EventKind::Dismiss,
        EventKind::NotificationOpen,
        EventKind::SessionStart,
    ];

    /// The stable wire name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::AddToCart => "add_to_cart",
            EventKind::Purchase => "purchase",
            EventKind::Rating => "rating",
            EventKind::Search => "search",
            EventKind::Dismiss => "dismiss",
            EventKind::NotificationOpen => "notification_open",
            EventKind::SessionStart => "session_start",
        }
    }

    /// The past-tense verb used in explanations ("because you viewed …").
    pub fn verb(self) -> &'static str {
        match self {
            EventKind::View => "viewed",
            EventKind::AddToCart => "added to your cart",
            EventKind::Purchase => "bought",
            EventKind::Rating => "rated",
            EventKind::Search => "searched for",
            EventKind::Dismiss => "dismissed",
            EventKind::NotificationOpen => "opened a notification about",
            EventKind::SessionStart => "visited",
        }
    }
}

impl FromStr for EventKind {
    type Err = InvalidReason;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(InvalidReason::UnknownKind)
    }
}

/// One behaviour event as the host app reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The catalogue id of the item; may be empty only for a search without a clicked result.
    pub item_id: String,
    /// What happened.
    pub kind: EventKind,
    /// When it happened, in milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
    /// Seconds spent on the item (views only).
    #[serde(default)]
    pub dwell_secs: Option<f64>,
    /// Rating from 0 to 5 (ratings only).
    #[serde(default)]
    pub rating: Option<f64>,
    /// The search text (searches only). Stored only as lower-cased tokens.
    #[serde(default)]
    pub query: Option<String>,
}

impl Event {
    /// A plain event of `kind` on `item_id` at `timestamp_ms`.
    pub fn new(kind: EventKind, item_id: impl Into<String>, timestamp_ms: i64) -> Self {
        Event { item_id: item_id.into(), kind, timestamp_ms, dwell_secs: None, rating: None, query: None }
    }

    /// Checks the event against the rules; `now_ms` bounds the timestamp.
    pub fn validate(&self, now_ms: i64, max_skew_ms: i64) -> std::result::Result<(), InvalidReason> {
        let id_required = !matches!(self.kind, EventKind::Search | EventKind::NotificationOpen | EventKind::SessionStart);
        if self.item_id.is_empty() {
            if id_required {
                return Err(InvalidReason::EmptyItemId);
            }
        } else if self.kind == EventKind::SessionStart {
            return Err(InvalidReason::Unexpected("item_id"));
        } else {
            check_id(&self.item_id)?;
        }
        check_timestamp(self.timestamp_ms, now_ms, max_skew_ms)?;
        match (self.kind, self.dwell_secs) {
            (EventKind::View, Some(d)) => check_range(d, "dwell_secs", MAX_DWELL_SECS)?,
            (_, Some(_)) => return Err(InvalidReason::Unexpected("dwell_secs")),
            _ => {}
        }
        match (self.kind, self.rating) {
            (EventKind::Rating, Some(r)) => check_range(r, "rating", MAX_RATING)?,
            (EventKind::Rating, None) => return Err(InvalidReason::Missing("rating")),
            (_, Some(_)) => return Err(InvalidReason::Unexpected("rating")),
            _ => {}
        }
        match (self.kind, &self.query) {
            (EventKind::Search, Some(q)) if q.len() > MAX_QUERY_LEN => return Err(InvalidReason::TooLong("query")),
            (EventKind::Search, Some(q)) if q.trim().is_empty() => return Err(InvalidReason::Missing("query")),
            (EventKind::Search, None) => return Err(InvalidReason::Missing("query")),
            (EventKind::Search, Some(_)) => {}
            (_, Some(_)) => return Err(InvalidReason::Unexpected("query")),
            _ => {}
        }
        Ok(())
    }
}

fn check_range(value: f64, field: &'static str, max: f64) -> std::result::Result<(), InvalidReason> {
    if !value.is_finite() {
        Err(InvalidReason::NotFinite(field))
    } else if value < 0.0 {
        Err(InvalidReason::Negative(field))
    } else if value > max {
        Err(InvalidReason::OutOfRange(field))
    } else {
        Ok(())
    }
}

/// Checks a non-empty item id (or category name) against the id rules: at most
/// [`MAX_ID_LEN`] bytes, no control characters.
pub fn check_id(id: &str) -> std::result::Result<(), InvalidReason> {
    if id.is_empty() {
        Err(InvalidReason::EmptyItemId)
    } else if id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        Err(InvalidReason::MalformedItemId)
    } else {
        Ok(())
    }
}

/// Checks that `t_ms` is no earlier than the year 2000 and no later than
/// `now_ms` plus the allowed clock skew.
pub fn check_timestamp(t_ms: i64, now_ms: i64, max_skew_ms: i64) -> std::result::Result<(), InvalidReason> {
    if t_ms < YEAR_2000_MS {
        return Err(InvalidReason::AncientTimestamp);
    }
    if t_ms > now_ms.saturating_add(max_skew_ms) {
        return Err(InvalidReason::FutureTimestamp);
    }
    Ok(())
}

/// Validates a whole batch; the first bad event refuses the batch.
pub fn validate_batch(events: &[Event], now_ms: i64, max_skew_ms: i64) -> Result<()> {
    if events.len() > MAX_BATCH {
        return Err(Error::InvalidRequest(InvalidReason::TooMany("events in one batch")));
    }
    for (index, event) in events.iter().enumerate() {
        event.validate(now_ms, max_skew_ms).map_err(|reason| Error::InvalidEvent { index, reason })?;
    }
    Ok(())
}

/// The minimised form of an event that is written to disk: only the fields the
/// model uses, with the query reduced to tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Monotonic sequence number within this store.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
    /// Catalogue item id (empty for an item-less search).
    pub item_id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Dwell seconds (views only).
    pub dwell_secs: Option<f32>,
    /// Rating 0–5 (ratings only).
    pub rating: Option<f32>,
    /// Lower-cased query tokens (searches only).
    pub query_tokens: Vec<String>,
}

impl StoredEvent {
    /// Minimises a validated event for storage.
    pub fn minimise(event: &Event, seq: u64) -> Self {
        StoredEvent {
            seq,
            kind: event.kind,
            item_id: event.item_id.clone(),
            timestamp_ms: event.timestamp_ms,
            dwell_secs: event.dwell_secs.map(|d| d as f32),
            rating: event.rating.map(|r| r as f32),
            query_tokens: event.query.as_deref().map(tokenize).unwrap_or_default(),
        }
    }

    /// How strongly this event signals interest in its item: views < dwell-weighted
    /// views < add-to-cart < purchase; low ratings and dismissals are negative.
    pub fn interest_weight(&self) -> f64 {
        match self.kind {
            EventKind::View => 1.0 + (f64::from(self.dwell_secs.unwrap_or(0.0)) / 30.0).min(1.5),
            EventKind::Search => 2.0,
            EventKind::AddToCart => 4.0,
            EventKind::Purchase => 6.0,
            EventKind::Rating => (f64::from(self.rating.unwrap_or(2.5)) - 2.5) * 2.0,
            EventKind::Dismiss => -6.0,
            EventKind::NotificationOpen => 1.0,
            EventKind::SessionStart => 0.0,
        }
    }
}

/// The stored stand-in for a query word when search terms may not be kept:
/// `#` and 16 hex digits of its HMAC-SHA256 under `key`, a secret of the store
/// (kept in its encrypted state), so that nobody without it can test words
/// from a dictionary against the stand-ins.
pub fn hash_token(key: &[u8], token: &str) -> String {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), token.as_bytes());
    let hex: String = tag.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("#{hex}")
}

/// Lower-cases and splits a query into alphanumeric tokens.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000;

    fn check(e: &Event) -> std::result::Result<(), InvalidReason> {
        e.validate(NOW, 60_000)
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        assert_eq!("teleport".parse::<EventKind>(), Err(InvalidReason::UnknownKind));
    }

    #[test]
    fn refuses_bad_fields() {
        let ok = Event::new(EventKind::View, "a", NOW);
        assert_eq!(check(&ok), Ok(()));
        assert_eq!(check(&Event::new(EventKind::View, "", NOW)), Err(InvalidReason::EmptyItemId));
        let nan = Event { dwell_secs: Some(f64::NAN), ..ok.clone() };
        assert_eq!(check(&nan), Err(InvalidReason::NotFinite("dwell_secs")));
        let neg = Event { dwell_secs: Some(-1.0), ..ok.clone() };
        assert_eq!(check(&neg), Err(InvalidReason::Negative("dwell_secs")));
        let huge = Event { dwell_secs: Some(1e300), ..ok.clone() };
        assert_eq!(check(&huge), Err(InvalidReason::OutOfRange("dwell_secs")));
        let future = Event::new(EventKind::View, "a", NOW + 3_600_000);
        assert_eq!(check(&future), Err(InvalidReason::FutureTimestamp));
        assert_eq!(check(&Event::new(EventKind::View, "a", 5)), Err(InvalidReason::AncientTimestamp));
        assert_eq!(check(&Event::new(EventKind::Rating, "a", NOW)), Err(InvalidReason::Missing("rating")));
        assert_eq!(check(&Event::new(EventKind::Search, "", NOW)), Err(InvalidReason::Missing("query")));
        let long_id = Event::new(EventKind::View, "x".repeat(MAX_ID_LEN + 1), NOW);
        assert_eq!(check(&long_id), Err(InvalidReason::MalformedItemId));
    }

    #[test]
    fn weights_are_ordered_by_commitment() {
        let ev = |kind, dwell| StoredEvent {
            seq: 0,
            kind,
            item_id: "a".into(),
            timestamp_ms: NOW,
            dwell_secs: dwell,
            rating: None,
            query_tokens: vec![],
        };
        let view = ev(EventKind::View, None).interest_weight();
        let dwell = ev(EventKind::View, Some(60.0)).interest_weight();
        let cart = ev(EventKind::AddToCart, None).interest_weight();
        let buy = ev(EventKind::Purchase, None).interest_weight();
        assert!(view < dwell && dwell < cart && cart < buy);
        assert!(ev(EventKind::Dismiss, None).interest_weight() < 0.0);
    }

    #[test]
    fn queries_are_stored_as_tokens() {
        let e = Event { query: Some("Green TEA, organic!".into()), ..Event::new(EventKind::Search, "", NOW) };
        assert_eq!(StoredEvent::minimise(&e, 1).query_tokens, vec!["green", "tea", "organic"]);
    }
}
