//! The engine's error type. Messages never contain personal data: no item ids,
//! no query text, no key material — only what kind of thing went wrong.

use std::fmt;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An event in a batch failed validation; the whole batch was refused.
    #[error("event {index} of the batch is invalid: {reason}")]
    InvalidEvent {
        /// Position of the first offending event in the batch.
        index: usize,
        /// What is wrong with it.
        reason: InvalidReason,
    },
    /// A request (recommend, consent, forget…) was malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(InvalidReason),
    /// The item id is not in the loaded catalogue.
    #[error("the item is not in the loaded catalogue")]
    UnknownItem,
    /// An operation needs a catalogue pack and none is loaded.
    #[error("no catalogue pack is loaded")]
    NoCatalog,
    /// A catalogue pack failed verification; the previous pack stays in use.
    #[error("catalogue pack refused: {0}")]
    PackRejected(#[from] PackError),
    /// The key supplied by the key provider does not open this store. Nothing was changed.
    #[error("the supplied key does not open this store")]
    WrongKey,
    /// The host's key provider failed or returned unusable key material.
    #[error("key provider failed: {0}")]
    KeyProvider(String),
    /// Another engine instance (this or another process) has the store open.
    #[error("the store is already open in another engine instance")]
    StoreLocked,
    /// A stored file is damaged beyond what recovery can repair.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// An operating-system I/O operation failed; earlier data is intact.
    #[error("i/o failure while {op}: {source}")]
    Io {
        /// What the engine was doing.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The engine was closed (or erased) and can no longer be used.
    #[error("the engine is closed")]
    Closed,
    /// The debug API is off: the host did not enable it (`EngineConfig::debug_api`),
    /// or the library was built without the `debug-api` feature.
    #[error("the debug API is disabled")]
    DebugDisabled,
}

impl Error {
    /// Wraps an I/O error with a description of the operation that failed.
    pub(crate) fn io(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Io { op, source }
    }
}

/// Why an event or request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidReason {
    /// The event kind is not one Mizan knows.
    UnknownKind,
    /// The item id is empty (only search events may omit it).
    EmptyItemId,
    /// The item id is longer than [`crate::events::MAX_ID_LEN`] bytes or has control characters.
    MalformedItemId,
    /// A numeric field is NaN or infinite.
    NotFinite(&'static str),
    /// A numeric field is negative where it cannot be.
    Negative(&'static str),
    /// A numeric field is out of its allowed range.
    OutOfRange(&'static str),
    /// A required field is missing for this event kind.
    Missing(&'static str),
    /// A field that this event kind does not use was supplied.
    Unexpected(&'static str),
    /// The timestamp lies further in the future than the allowed clock skew.
    FutureTimestamp,
    /// The timestamp is before 2000-01-01.
    AncientTimestamp,
    /// A text field is longer than allowed.
    TooLong(&'static str),
    /// A batch or list is larger than allowed.
    TooMany(&'static str),
    /// A consent purpose that is neither built in nor declared by the app.
    UnknownPurpose,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKind => write!(f, "unknown event kind"),
            Self::EmptyItemId => write!(f, "empty item id"),
            Self::MalformedItemId => write!(f, "item id too long or has control characters"),
            Self::NotFinite(field) => write!(f, "{field} is NaN or infinite"),
            Self::Negative(field) => write!(f, "{field} is negative"),
            Self::OutOfRange(field) => write!(f, "{field} is out of range"),
            Self::Missing(field) => write!(f, "{field} is required for this kind"),
            Self::Unexpected(field) => write!(f, "{field} is not used by this kind"),
            Self::FutureTimestamp => write!(f, "timestamp is too far in the future"),
            Self::AncientTimestamp => write!(f, "timestamp is before the year 2000"),
            Self::TooLong(field) => write!(f, "{field} is too long"),
            Self::TooMany(field) => write!(f, "too many {field}"),
            Self::UnknownPurpose => write!(f, "the purpose is neither built in nor declared in the engine config"),
        }
    }
}

/// Why a catalogue pack was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The bytes do not start with the pack magic.
    #[error("not a Mizan pack")]
    NotAPack,
    /// The pack format version is not supported by this engine.
    #[error("unsupported pack format version {0}")]
    UnsupportedVersion(u16),
    /// The pack is shorter than its header says (truncated) or has trailing bytes.
    #[error("pack length does not match its header")]
    Truncated,
    /// The signature does not verify under any trusted key (tampered or wrong signer).
    #[error("signature does not verify under any trusted key")]
    BadSignature,
    /// The signed payload could not be decoded or is internally inconsistent.
    #[error("pack contents are malformed: {0}")]
    Malformed(&'static str),
    /// The engine was configured without any trusted pack key.
    #[error("no trusted pack key is configured")]
    NoTrustedKey,
    /// The pack is older than one this store has already used (a rollback, e.g.
    /// a replayed or swapped-in older pack).
    #[error("pack version {offered} is older than version {used}, which this store has used")]
    Rollback {
        /// The version offered.
        offered: u64,
        /// The newest version this store has used.
        used: u64,
    },
}
