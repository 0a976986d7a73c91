//! The small public error type, converted from the core error in one place.
//! Messages carry no personal data (no item ids, no query text, no keys).

/// Errors the bindings raise to Kotlin and Swift.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MizanError {
    /// An event, request or argument was refused; nothing was stored.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong (never the offending value itself).
        reason: String,
    },
    /// The item is not in the loaded catalogue.
    #[error("unknown item: {reason}")]
    UnknownItem {
        /// What happened, for logs and crash reports (never the id itself).
        reason: String,
    },
    /// No catalogue pack is loaded yet.
    #[error("no catalogue: {reason}")]
    NoCatalog {
        /// What happened, for logs and crash reports.
        reason: String,
    },
    /// A catalogue pack was refused; the previous pack stays in use.
    #[error("catalogue pack refused: {reason}")]
    PackRejected {
        /// Why it was refused.
        reason: String,
    },
    /// The key does not open this store; nothing was changed.
    #[error("wrong key: {reason}")]
    WrongKey {
        /// What happened, for logs and crash reports.
        reason: String,
    },
    /// The host key provider failed or returned unusable key material.
    #[error("key provider failed: {reason}")]
    KeyUnavailable {
        /// What went wrong.
        reason: String,
    },
    /// Another engine instance has this store open.
    #[error("store locked: {reason}")]
    StoreLocked {
        /// What happened, for logs and crash reports.
        reason: String,
    },
    /// A storage operation failed; earlier data is intact.
    #[error("storage failure: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// The engine was closed or erased.
    #[error("closed: {reason}")]
    Closed {
        /// What happened, for logs and crash reports.
        reason: String,
    },
    /// The debug API is off.
    #[error("debug API disabled: {reason}")]
    DebugDisabled {
        /// What happened, for logs and crash reports.
        reason: String,
    },
}

impl From<mizan::Error> for MizanError {
    fn from(e: mizan::Error) -> Self {
        use mizan::Error as E;
        match e {
            E::InvalidEvent { .. } | E::InvalidRequest(_) => MizanError::InvalidInput { reason: e.to_string() },
            // Every variant carries a message, so that no exception reaches a
            // crash report with an empty one.
            E::UnknownItem => MizanError::UnknownItem { reason: e.to_string() },
            E::NoCatalog => MizanError::NoCatalog { reason: e.to_string() },
            E::PackRejected(p) => MizanError::PackRejected { reason: p.to_string() },
            E::WrongKey => MizanError::WrongKey { reason: e.to_string() },
            E::KeyProvider(reason) => MizanError::KeyUnavailable { reason },
            E::StoreLocked => MizanError::StoreLocked { reason: e.to_string() },
            E::Corrupt(_) | E::Io { .. } => MizanError::Storage { reason: e.to_string() },
            E::Closed => MizanError::Closed { reason: e.to_string() },
            E::DebugDisabled => MizanError::DebugDisabled { reason: e.to_string() },
        }
    }
}

/// The error a host key provider raises.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyProviderError {
    /// The key is not available (e.g. the device is locked or the key was deleted).
    #[error("key unavailable: {reason}")]
    Unavailable {
        /// Host-supplied description; must not contain key material.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyProviderError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyProviderError::Unavailable { reason: e.reason }
    }
}
