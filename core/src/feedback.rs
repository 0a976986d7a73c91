//! What the person told the engine through the recommendations themselves:
//! impressions and clicks (for frequency caps and exploration) and "not
//! interested" (for suppression that fades with time).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
/// A "not interested" hides its item or category completely for this many days…
pub const SUPPRESSION_FULL_DAYS: i64 = 30;
/// …and afterwards lowers its score by a penalty that halves every this many days.
pub const SUPPRESSION_HALF_LIFE_DAYS: f64 = 30.0;
/// The size of that penalty at the start, in score units.
const SUPPRESSION_PENALTY: f64 = 1.0;

/// Why the person is not interested (optional; shown back in the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotInterestedReason {
    /// Not relevant to me.
    NotRelevant,
    /// I already have it.
    AlreadyHave,
    /// I find it offensive or inappropriate.
    Offensive,
    /// I see it too often.
    TooOften,
    /// Something else.
    Other,
}

/// One "not interested".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// When it was said.
    pub at_ms: i64,
    /// Why, if the person said.
    pub reason: Option<NotInterestedReason>,
}

impl Suppression {
    /// `None` while the suppression still hides completely; afterwards the score penalty.
    pub fn penalty(&self, now_ms: i64) -> Option<f64> {
        let age_days = now_ms.saturating_sub(self.at_ms) as f64 / DAY_MS as f64;
        let past_full = age_days - SUPPRESSION_FULL_DAYS as f64;
        (past_full >= 0.0).then(|| SUPPRESSION_PENALTY * 0.5f64.powf(past_full / SUPPRESSION_HALF_LIFE_DAYS))
    }
}

/// Feedback kept beside the log (encrypted in the state file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedbackState {
    /// Impressions per item id, all time.
    pub impressions: BTreeMap<String, u32>,
    /// Clicks per item id, all time.
    pub clicks: BTreeMap<String, u32>,
    /// Impressions per item id on its latest day (UTC day number, count).
    pub today: BTreeMap<String, (i64, u32)>,
    /// Items marked "not interested".
    pub not_interested: BTreeMap<String, Suppression>,
    /// Categories marked "not interested".
    pub not_interested_categories: BTreeMap<String, Suppression>,
}

impl FeedbackState {
    /// Counts an impression of `id` at `at_ms`.
    pub fn impression(&mut self, id: &str, at_ms: i64) {
        *self.impressions.entry(id.to_string()).or_default() += 1;
        let day = at_ms.div_euclid(DAY_MS);
        let entry = self.today.entry(id.to_string()).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        entry.1 += 1;
    }

    /// Counts a click on `id`.
    pub fn click(&mut self, id: &str) {
        *self.clicks.entry(id.to_string()).or_default() += 1;
    }

    /// Impressions of `id` on the UTC day of `now_ms`.
    pub fn impressions_today(&self, id: &str, now_ms: i64) -> u32 {
        self.today.get(id).filter(|(day, _)| *day == now_ms.div_euclid(DAY_MS)).map_or(0, |(_, n)| *n)
    }

    /// Whether anything is kept about one item.
    pub fn mentions(&self, id: &str) -> bool {
        self.impressions.contains_key(id) || self.clicks.contains_key(id) || self.today.contains_key(id) || self.not_interested.contains_key(id)
    }

    /// Drops everything kept about one item.
    pub fn forget_item(&mut self, id: &str) {
        self.impressions.remove(id);
        self.clicks.remove(id);
        self.today.remove(id);
        self.not_interested.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_hides_then_fades() {
        let s = Suppression { at_ms: 0, reason: None };
        assert_eq!(s.penalty(29 * DAY_MS), None);
        let start = s.penalty(30 * DAY_MS).unwrap();
        let later = s.penalty(60 * DAY_MS).unwrap();
        assert!((start - 1.0).abs() < 1e-9 && (later - 0.5).abs() < 1e-9);
    }

    #[test]
    fn daily_impressions_reset_each_day() {
        let mut f = FeedbackState::default();
        f.impression("a", 10);
        f.impression("a", 20);
        assert_eq!(f.impressions_today("a", 30), 2);
        assert_eq!(f.impressions_today("a", DAY_MS + 5), 0);
        f.impression("a", DAY_MS + 5);
        assert_eq!((f.impressions_today("a", DAY_MS + 6), f.impressions["a"]), (1, 3));
    }
}
