//! The consent ledger: per-purpose grants and withdrawals, with policy version
//! and time, kept as an append-only history.

use serde::{Deserialize, Serialize};

use crate::error::{Error, InvalidReason, Result};

/// The purpose that gates recording events and personalised ranking.
pub const PERSONALISATION: &str = "personalisation";
/// Keep search queries as readable words (otherwise only keyed hashes of them).
pub const SEARCH_TERMS: &str = "search_terms";
/// Let sensitive categories (health, religion, …) shape the profile. They are
/// never cited in explanations either way.
pub const SENSITIVE_PROFILING: &str = "sensitive_profiling";
/// The purposes every engine knows; apps declare any others in `EngineConfig`.
pub const BUILT_IN_PURPOSES: [&str; 3] = [PERSONALISATION, SEARCH_TERMS, SENSITIVE_PROFILING];
/// Longest purpose name or policy version accepted.
const MAX_LABEL_LEN: usize = 64;

/// One grant or withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The purpose, e.g. [`PERSONALISATION`] or one the app declares.
    pub purpose: String,
    /// Whether consent was granted (true) or withdrawn (false).
    pub granted: bool,
    /// The version of the privacy policy the user saw.
    pub policy_version: String,
    /// When the decision was recorded, in ms since the Unix epoch.
    pub at_ms: i64,
}

/// Every consent decision ever recorded in this store, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentLedger {
    history: Vec<ConsentRecord>,
}

impl ConsentLedger {
    /// Records a decision after checking the labels.
    pub fn record(&mut self, record: ConsentRecord) -> Result<()> {
        for (label, field) in [(&record.purpose, "purpose"), (&record.policy_version, "policy_version")] {
            if label.trim().is_empty() {
                return Err(Error::InvalidRequest(InvalidReason::Missing(field)));
            }
            if label.len() > MAX_LABEL_LEN || label.chars().any(char::is_control) {
                return Err(Error::InvalidRequest(InvalidReason::TooLong(field)));
            }
        }
        self.history.push(record);
        Ok(())
    }

    /// Withdraws every purpose whose latest decision is a grant, under the
    /// policy version it was granted under.
    pub fn withdraw_all(&mut self, at_ms: i64) {
        for granted in self.current().into_iter().filter(|r| r.granted) {
            self.history.push(ConsentRecord { granted: false, at_ms, ..granted });
        }
    }

    /// Whether the latest decision for `purpose` is a grant.
    pub fn is_granted(&self, purpose: &str) -> bool {
        self.latest(purpose).is_some_and(|r| r.granted)
    }

    /// The latest decision for `purpose`, if any.
    pub fn latest(&self, purpose: &str) -> Option<&ConsentRecord> {
        self.history.iter().rev().find(|r| r.purpose == purpose)
    }

    /// The latest decision for every purpose ever mentioned, sorted by purpose.
    pub fn current(&self) -> Vec<ConsentRecord> {
        let mut purposes: Vec<&str> = self.history.iter().map(|r| r.purpose.as_str()).collect();
        purposes.sort_unstable();
        purposes.dedup();
        purposes.into_iter().filter_map(|p| self.latest(p).cloned()).collect()
    }

    /// The full history, oldest first.
    pub fn history(&self) -> &[ConsentRecord] {
        &self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(purpose: &str, granted: bool, at_ms: i64) -> ConsentRecord {
        ConsentRecord { purpose: purpose.into(), granted, policy_version: "v1".into(), at_ms }
    }

    #[test]
    fn latest_decision_wins_per_purpose() {
        let mut ledger = ConsentLedger::default();
        assert!(!ledger.is_granted(PERSONALISATION));
        ledger.record(rec(PERSONALISATION, true, 1)).unwrap();
        ledger.record(rec("marketing", true, 2)).unwrap();
        ledger.record(rec(PERSONALISATION, false, 3)).unwrap();
        assert!(!ledger.is_granted(PERSONALISATION));
        assert!(ledger.is_granted("marketing"));
        assert_eq!(ledger.history().len(), 3);
        assert_eq!(ledger.current().len(), 2);
    }

    #[test]
    fn refuses_empty_labels() {
        let mut ledger = ConsentLedger::default();
        assert!(ledger.record(rec("", true, 1)).is_err());
        assert!(ledger.history().is_empty());
    }
}
