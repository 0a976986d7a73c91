//! Issue 19 item 7: the library's log lines reach the host's logger through
//! the bindings, filtered by level on the Rust side; recoveries are logged,
//! not only counted; no line carries an item id.

use std::sync::{Arc, Mutex};

use mizan_ffi::{set_logger, Engine, Event, EventKind, KeyProvider, KeyProviderError, LogLevel, Logger};
use mizan_integration_tests::*;

#[derive(Default)]
struct Lines(Mutex<Vec<(LogLevel, String)>>);

impl Logger for Lines {
    fn log(&self, level: LogLevel, target: String, message: String) {
        self.0.lock().unwrap().push((level, format!("{target}: {message}")));
    }
}

struct Key;

impl KeyProvider for Key {
    fn key_material(&self) -> Result<Vec<u8>, KeyProviderError> {
        Ok(vec![4; 32])
    }
}

#[test]
fn recoveries_reach_the_host_logger_at_its_level_without_personal_data() {
    let lines = Arc::new(Lines::default());
    set_logger(lines.clone(), LogLevel::Warn);
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(ffi_config(dir.path()), Arc::new(Key)).unwrap();
    engine.set_consent(mizan::PERSONALISATION.into(), true, "v1".into(), false).unwrap();
    let secret = "secret-item-4711";
    let view = Event { item_id: secret.into(), kind: EventKind::View, timestamp_ms: NOW, dwell_secs: None, rating: None, query: None };
    let search = Event { item_id: String::new(), kind: EventKind::Search, query: Some("secret words".into()), ..view.clone() };
    engine.record(vec![view, search]).unwrap();
    engine.shutdown().unwrap();
    assert!(lines.0.lock().unwrap().iter().all(|(level, _)| *level == LogLevel::Warn || *level == LogLevel::Error), "finer lines are filtered in Rust");

    let segment = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "seg")).unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(&[7, 0, 0]); // a torn tail
    std::fs::write(&segment, bytes).unwrap();
    set_logger(lines.clone(), LogLevel::Info);
    Engine::open(ffi_config(dir.path()), Arc::new(Key)).unwrap().shutdown().unwrap();

    let lines = lines.0.lock().unwrap().clone();
    assert!(lines.iter().any(|(level, line)| *level == LogLevel::Warn && line.contains("recovered at open") && line.contains("truncated_bytes: 3")), "{lines:?}");
    assert!(lines.iter().any(|(level, line)| *level == LogLevel::Info && line.contains("store opened: 2 events")), "{lines:?}");
    assert!(lines.iter().all(|(_, line)| !line.contains(secret) && !line.contains("secret words")), "{lines:?}");
}
