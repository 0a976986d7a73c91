//! How an engine is opened: where, which pack keys to trust, durability, and the
//! data-minimisation policy (retention and timestamp coarsening).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::store::{StoreOptions, SyncPolicy};

/// Retention limits, enforced when the store is opened and as events are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Events older than this many days are deleted.
    pub max_age_days: Option<u32>,
    /// When the log outgrows this many bytes, the oldest events are deleted
    /// until it is back under three quarters of it.
    pub max_log_bytes: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_age_days: Some(365), max_log_bytes: Some(64 << 20) }
    }
}

/// How an engine is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Directory that holds this user's store (created if missing).
    pub data_dir: PathBuf,
    /// Raw 32-byte Ed25519 public keys whose catalogue packs are accepted.
    pub trusted_pack_keys: Vec<Vec<u8>>,
    /// How far in the future an event timestamp may lie, in ms (device clock skew).
    pub max_clock_skew_ms: i64,
    /// Durability of appends.
    pub sync: SyncPolicy,
    /// Retention limits.
    pub retention: Retention,
    /// Stored timestamps are rounded down to a multiple of this (e.g. 3,600,000 for the hour).
    pub timestamp_granularity_ms: Option<i64>,
    /// Consent purposes the app uses besides the built-in ones.
    pub declared_purposes: Vec<String>,
    /// Score every catalogue item instead of the candidates that can reach the
    /// list (the reference ranking, for evaluation; its cost grows with the
    /// catalogue).
    pub full_scan: bool,
    /// Whether [`crate::Engine::debug_snapshot`] answers (off by default: a
    /// host turns it on in debug builds only).
    pub debug_api: bool,
}

impl EngineConfig {
    /// A config with the defaults: 5-minute clock skew, a sync per batch, one year and
    /// 64 MiB of retention, millisecond timestamps.
    pub fn new(data_dir: impl Into<PathBuf>, trusted_pack_keys: Vec<Vec<u8>>) -> Self {
        EngineConfig {
            data_dir: data_dir.into(),
            trusted_pack_keys,
            max_clock_skew_ms: 5 * 60_000,
            sync: SyncPolicy::EveryBatch,
            retention: Retention::default(),
            timestamp_granularity_ms: None,
            declared_purposes: Vec::new(),
            full_scan: false,
            debug_api: false,
        }
    }

    pub(crate) fn store_options(&self) -> StoreOptions {
        StoreOptions { sync: self.sync, ..StoreOptions::default() }
    }
}
