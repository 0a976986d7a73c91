//! Mizan: an on-device personalisation engine.
//!
//! The person's behaviour log stays on the device, encrypted; a small model is
//! learned from it on the device; recommendations are ranked on the device and
//! each carries its reasons. Population-level knowledge arrives in a signed
//! catalogue pack built off-device by [`packer`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use mizan::{Engine, EngineConfig, Event, EventKind, RecommendRequest, StaticKey, PERSONALISATION};
//!
//! # fn main() -> Result<(), mizan::Error> {
//! # let (pack_bytes, trusted_key): (Vec<u8>, Vec<u8>) = (vec![], vec![]);
//! let engine = Engine::open(EngineConfig::new("/data/mizan", vec![trusted_key]), Arc::new(StaticKey(vec![7; 32])))?;
//! engine.set_consent(PERSONALISATION, true, "policy-2026-01", false)?;
//! engine.load_catalog(&pack_bytes)?;
//! engine.record(&[Event::new(EventKind::View, "sku-42", 1_780_000_000_000)])?;
//! for rec in engine.recommend(&RecommendRequest::default())?.items {
//!     println!("{} — {}", rec.title, rec.reasons[0].text);
//! }
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod config;
pub mod consent;
pub mod crypto;
pub mod debug;
pub mod engine;
pub mod error;
pub mod events;
pub mod evidence;
pub mod export;
mod exploration;
pub mod feedback;
pub mod inspect;
mod kernels;
mod link_cache;
pub mod model;
pub mod network;
pub mod online;
#[cfg(feature = "packer")]
pub mod packer;
pub mod rank;
pub mod repurchase;
pub mod store;
pub mod timing;

#[cfg(test)]
mod io_fault_tests;

pub use catalog::{Catalog, CatalogPack, Category, Coverage, Item, PackMeta, SensitiveCategory};
pub use config::{EngineConfig, Retention};
pub use consent::{ConsentRecord, PERSONALISATION, SEARCH_TERMS, SENSITIVE_PROFILING};
pub use crypto::{KeyProvider, StaticKey};
pub use debug::{DebugOptions, DebugSnapshot};
pub use engine::{Engine, Feedback, ForgetRequest, RecommendRequest, Recommendations, RecordOutcome, Shortfall, ShortfallReason};
pub use error::{Error, InvalidReason, PackError, Result};
pub use events::{Event, EventKind};
pub use feedback::NotInterestedReason;
pub use inspect::InspectReport;
pub use rank::{Reason, ReasonKind, RecommendMode, Recommendation};
pub use store::SyncPolicy;
pub use timing::{BestTime, BestTimeRequest, QuietHours};
