//! uniffi bindings for Mizan: a thin exported object over [`mizan::Engine`].
//! Every method converts its arguments, calls the core, and converts the result
//! and error; no logic lives here.

mod error;
mod logging;
mod types;

use std::sync::Arc;

pub use error::{KeyProviderError, MizanError};
pub use logging::{set_logger, LogLevel, Logger};
pub use types::*;

uniffi::setup_scaffolding!();

/// The purpose name that gates recording and personalised ranking.
#[uniffi::export]
pub fn personalisation_purpose() -> String {
    mizan::PERSONALISATION.to_string()
}

/// The purpose name that lets query words be kept readable (otherwise only keyed hashes).
#[uniffi::export]
pub fn search_terms_purpose() -> String {
    mizan::SEARCH_TERMS.to_string()
}

/// The purpose name that lets sensitive categories shape the profile.
#[uniffi::export]
pub fn sensitive_profiling_purpose() -> String {
    mizan::SENSITIVE_PROFILING.to_string()
}

/// Erases the store in `data_dir` without opening it, for a store that cannot
/// be opened (its key is lost, or its files are damaged beyond recovery).
/// Fails with `StoreLocked` while an engine has the store open.
#[uniffi::export]
pub fn destroy_store(data_dir: String) -> Result<(), MizanError> {
    Ok(mizan::Engine::destroy(data_dir)?)
}

/// Supplies the store's secret key material (at least 32 bytes, the same every
/// time). Implement it in Kotlin over Android Keystore or in Swift over the Keychain.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    /// Returns the key material for this store.
    fn key_material(&self) -> Result<Vec<u8>, KeyProviderError>;
}

/// Adapts a host key provider to the core trait.
struct HostKey(Arc<dyn KeyProvider>);

impl mizan::KeyProvider for HostKey {
    fn key_material(&self) -> Result<Vec<u8>, String> {
        self.0.key_material().map_err(|e| e.to_string())
    }
}

/// The on-device personalisation engine for one user. Thread-safe; call from a
/// background thread.
#[derive(uniffi::Object)]
pub struct Engine {
    core: mizan::Engine,
}

type Res<T> = Result<T, MizanError>;

#[uniffi::export]
impl Engine {
    /// Opens (or creates) the encrypted store in `config.data_dir`.
    #[uniffi::constructor]
    pub fn open(config: EngineConfig, key_provider: Arc<dyn KeyProvider>) -> Res<Arc<Self>> {
        let core = mizan::Engine::open(config.try_into()?, Arc::new(HostKey(key_provider)))?;
        Ok(Arc::new(Engine { core }))
    }

    /// Records a consent decision; withdrawing personalisation stops collection at
    /// once, and `erase_on_withdraw` also deletes stored events.
    pub fn set_consent(&self, purpose: String, granted: bool, policy_version: String, erase_on_withdraw: bool) -> Res<()> {
        Ok(self.core.set_consent(&purpose, granted, &policy_version, erase_on_withdraw)?)
    }

    /// The latest consent decision per purpose.
    pub fn consents(&self) -> Res<Vec<ConsentRecord>> {
        Ok(self.core.consents()?.into_iter().map(Into::into).collect())
    }

    /// Verifies and loads a signed catalogue pack.
    pub fn load_catalog(&self, signed_pack: Vec<u8>) -> Res<PackInfo> {
        Ok(self.core.load_catalog(&signed_pack)?.into())
    }

    /// Validates and stores a batch of events (all or nothing).
    pub fn record(&self, events: Vec<Event>) -> Res<RecordOutcome> {
        let events: Vec<mizan::Event> = events.into_iter().map(Into::into).collect();
        Ok(self.core.record(&events)?.into())
    }

    /// Syncs everything recorded so far (needed only with group commit).
    pub fn flush(&self) -> Res<()> {
        Ok(self.core.flush()?)
    }

    /// Forgets matching events; returns how many were removed.
    pub fn forget(&self, request: ForgetRequest) -> Res<i64> {
        Ok(types::to_host(self.core.forget(&request.into())?))
    }

    /// Re-encrypts the store under the key material of `new_key_provider`.
    pub fn rotate_key(&self, new_key_provider: Arc<dyn KeyProvider>) -> Res<()> {
        Ok(self.core.rotate_key(&HostKey(new_key_provider))?)
    }

    /// When the person is most likely to respond, with a confidence.
    pub fn best_time(&self, request: BestTimeRequest) -> Res<BestTime> {
        Ok(self.core.best_time(&request.try_into()?)?.into())
    }

    /// Ranks items, each with its reasons.
    pub fn recommend(&self, request: RecommendRequest) -> Res<Recommendations> {
        Ok(self.core.recommend(&request.try_into()?)?.into())
    }

    /// Explains the score of any catalogue item.
    pub fn explain(&self, item_id: String, now_ms: Option<i64>) -> Res<Recommendation> {
        Ok(self.core.explain(&item_id, now_ms)?.into())
    }

    /// Takes in impressions, clicks and "not interested".
    pub fn feedback(&self, feedback: Feedback) -> Res<()> {
        Ok(self.core.feedback(&feedback.into())?)
    }

    /// The developer debug snapshot.
    pub fn inspect(&self) -> Res<InspectReport> {
        Ok(self.core.inspect()?.into())
    }

    /// The model inspector's snapshot, as JSON for `mizan inspect`. Raises
    /// `DebugDisabled` unless `EngineConfig.debugApi` is set.
    pub fn debug_snapshot(&self, options: DebugOptions) -> Res<String> {
        Ok(self.core.debug_snapshot_json(&options.try_into()?)?)
    }

    /// Everything stored and inferred about the person, as JSON.
    pub fn export_user_data(&self) -> Res<String> {
        Ok(self.core.export_user_data()?)
    }

    /// Crypto-shreds and deletes everything, then closes the engine.
    pub fn erase_all(&self) -> Res<()> {
        Ok(self.core.erase_all()?)
    }

    /// Closes the engine and releases the store lock; later calls raise `Closed`.
    /// (Named `shutdown` because Kotlin's `AutoCloseable.close()` already frees
    /// the native handle.)
    pub fn shutdown(&self) -> Res<()> {
        Ok(self.core.close()?)
    }
}
