//! The on-device user model: decayed item and category affinities learned from
//! the person's own events. Sensitive items never enter it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::{Catalog, RankerWeights};
use crate::events::{EventKind, StoredEvent};

const MS_PER_DAY: f64 = 86_400_000.0;
const MS_PER_HOUR: f64 = 3_600_000.0;
/// Weight of a query token that names a category, before decay.
const SEARCH_CATEGORY_WEIGHT: f64 = 2.0;

/// What the model holds about one item the person interacted with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemInterest {
    /// Decayed, summed interest (negative after dismissals or low ratings).
    pub score: f64,
    /// The kind of event that contributed most, for explanations.
    pub strongest_kind: EventKind,
    /// Time of the latest event on the item.
    pub last_ms: i64,
}

/// A person's profile at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserProfile {
    /// Interest per catalogue item index.
    pub items: BTreeMap<u32, ItemInterest>,
    /// Affinity per category index, scaled to at most 1 in absolute value.
    pub categories: BTreeMap<u32, f64>,
    /// Items bought.
    pub purchased: BTreeSet<u32>,
    /// Items dismissed as "not interested".
    pub dismissed: BTreeSet<u32>,
    /// Events on items the loaded catalogue does not know.
    pub unknown_item_events: usize,
    /// Events on sensitive items, left out of the profile.
    pub sensitive_events_ignored: usize,
    /// Decayed activity per hour of day (UTC).
    pub hour_of_day: [f64; 24],
    /// The largest absolute item interest, for scaling.
    pub max_item_interest: f64,
    /// The latest items engaged with positively, most recent first.
    pub recent: Vec<u32>,
}

/// How many recent items feed "what comes next".
pub const RECENT_ITEMS: usize = 5;

impl UserProfile {
    /// Builds the profile from events as of `now_ms`. Interest halves every
    /// `half_life_days`; events of the last hours count extra (`session_boost`).
    pub fn build(events: &[StoredEvent], catalog: &Catalog, weights: &RankerWeights, now_ms: i64) -> Self {
        let half_life_days = f64::from(weights.half_life_days);
        let session_half_life = f64::from(weights.session_half_life_hours);
        let mut profile = UserProfile::default();
        let mut strongest: BTreeMap<u32, f64> = BTreeMap::new();
        let category_by_name: BTreeMap<String, u32> = catalog
            .pack()
            .categories
            .iter()
            .enumerate()
            .filter(|(_, c)| c.sensitive.is_none())
            .map(|(i, c)| (c.name.to_lowercase(), i as u32))
            .collect();

        let mut chronological: Vec<&StoredEvent> = events.iter().collect();
        chronological.sort_by_key(|e| (e.timestamp_ms, e.seq));
        for event in chronological {
            let age_ms = (now_ms - event.timestamp_ms).max(0) as f64;
            let decay = 0.5f64.powf(age_ms / MS_PER_DAY / half_life_days)
                + f64::from(weights.session_boost) * 0.5f64.powf(age_ms / MS_PER_HOUR / session_half_life);
            let hour = (event.timestamp_ms.rem_euclid(MS_PER_DAY as i64) / 3_600_000) as usize;
            profile.hour_of_day[hour] += decay;

            for token in &event.query_tokens {
                if let Some(&c) = category_by_name.get(token) {
                    *profile.categories.entry(c).or_default() += SEARCH_CATEGORY_WEIGHT * decay;
                }
            }
            if event.item_id.is_empty() {
                continue;
            }
            let Some(index) = catalog.index_of(&event.item_id) else {
                profile.unknown_item_events += 1;
                continue;
            };
            if catalog.is_sensitive(index) {
                profile.sensitive_events_ignored += 1;
                continue;
            }
            let contribution = event.interest_weight() * decay;
            let entry = profile.items.entry(index).or_insert(ItemInterest {
                score: 0.0,
                strongest_kind: event.kind,
                last_ms: event.timestamp_ms,
            });
            entry.score += contribution;
            entry.last_ms = entry.last_ms.max(event.timestamp_ms);
            let best = strongest.entry(index).or_insert(f64::MIN);
            if contribution > *best {
                *best = contribution;
                entry.strongest_kind = event.kind;
            }
            let cats = &catalog.item(index).categories;
            for &c in cats {
                *profile.categories.entry(c).or_default() += contribution / cats.len() as f64;
            }
            if contribution > 0.0 {
                profile.recent.retain(|&r| r != index);
                profile.recent.insert(0, index);
                profile.recent.truncate(RECENT_ITEMS);
            }
            match event.kind {
                EventKind::Purchase => {
                    profile.purchased.insert(index);
                }
                EventKind::Dismiss => {
                    profile.dismissed.insert(index);
                }
                _ => {}
            }
        }

        let max_cat = profile.categories.values().map(|v| v.abs()).fold(0.0, f64::max);
        if max_cat > 0.0 {
            profile.categories.values_mut().for_each(|v| *v /= max_cat);
        }
        profile.max_item_interest = profile.items.values().map(|i| i.score.abs()).fold(0.0, f64::max);
        profile
    }

    /// Item interest scaled to [-1, 1].
    pub fn scaled_interest(&self, interest: &ItemInterest) -> f64 {
        if self.max_item_interest > 0.0 {
            interest.score / self.max_item_interest
        } else {
            0.0
        }
    }

    /// Whether the person has any usable history.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.categories.is_empty()
    }

    /// Category affinity of an item: the mean over its categories.
    pub fn category_affinity(&self, catalog: &Catalog, index: u32) -> f64 {
        let cats = &catalog.item(index).categories;
        if cats.is_empty() {
            return 0.0;
        }
        cats.iter().map(|c| self.categories.get(c).copied().unwrap_or(0.0)).sum::<f64>() / cats.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::tiny_pack;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_780_000_000_000;

    fn ev(kind: EventKind, item: &str, ts: i64) -> StoredEvent {
        StoredEvent { seq: 0, kind, item_id: item.into(), timestamp_ms: ts, dwell_secs: None, rating: None, query_tokens: vec![] }
    }

    #[test]
    fn recent_and_committed_events_weigh_more_and_sensitive_ones_are_ignored() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let events = vec![
            ev(EventKind::Purchase, "a", NOW - 60 * DAY),
            ev(EventKind::Purchase, "b", NOW - DAY),
            ev(EventKind::View, "c", NOW),
            ev(EventKind::View, "zzz", NOW),
        ];
        let p = UserProfile::build(&events, &catalog, &RankerWeights::default(), NOW);
        assert!(p.items[&1].score > p.items[&0].score);
        assert!(!p.items.contains_key(&2));
        assert!(!p.categories.contains_key(&1));
        assert_eq!(p.sensitive_events_ignored, 1);
        assert_eq!(p.unknown_item_events, 1);
        assert_eq!(p.purchased.len(), 2);
        assert_eq!(p.recent, vec![1, 0], "most recent first, sensitive and unknown items left out");
    }

    #[test]
    fn dismissal_turns_interest_negative() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let events = vec![ev(EventKind::View, "a", NOW), ev(EventKind::Dismiss, "a", NOW)];
        let p = UserProfile::build(&events, &catalog, &RankerWeights::default(), NOW);
        assert!(p.items[&0].score < 0.0);
        assert!(p.dismissed.contains(&0));
    }
}
