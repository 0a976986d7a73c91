//! The library's log lines, routed to the host: logcat on Android, os_log on
//! Apple platforms, or wherever the app's [`Logger`] sends them. Lines carry
//! counts, versions and error kinds, never item ids, queries or keys.

use std::sync::{Arc, RwLock};

/// Severity of a log line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// A call failed in a way the app should know about.
    Error,
    /// Something was repaired or refused (a torn log tail cut, a pack refused).
    Warn,
    /// Lifecycle: a store opened, a pack loaded.
    Info,
    /// Detail for debugging.
    Debug,
    /// Everything.
    Trace,
}

/// Receives the library's log lines. Implement it in Kotlin over `android.util.Log`
/// or in Swift over `os_log`.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One line: its level, the Rust module it comes from, and the message.
    fn log(&self, level: LogLevel, target: String, message: String);
}

static HOST: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);

/// Forwards the `log` facade to the host's logger.
struct Forward;

impl log::Log for Forward {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let host = HOST.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        if let Some(host) = host {
            host.log(record.level().into(), record.target().to_string(), record.args().to_string());
        }
    }

    fn flush(&self) {}
}

static FORWARD: Forward = Forward;

impl From<log::Level> for LogLevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        }
    }
}

impl From<LogLevel> for log::LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Sends the library's log lines at `max_level` and more severe to `logger`
/// (filtered on the Rust side, so finer lines cost nothing). Calling it again
/// replaces the logger and the level.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, max_level: LogLevel) {
    *HOST.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(logger);
    // Only the first call installs the forwarder; the facade allows one per process.
    let _ = log::set_logger(&FORWARD);
    log::set_max_level(max_level.into());
}
