//! Damaged stores: a real store's files (manifest, log segment, state,
//! snapshot, saved pack) with the input XORed into one of them, or cut short.
//! Opening gives a working engine (whatever is readable, the damage reported)
//! or a typed error, and the store can always be destroyed; never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mizan::catalog::public_key;
use mizan::{Engine, EngineConfig, Event, EventKind, Feedback, RecommendRequest, StaticKey, PERSONALISATION};
use ring::signature::Ed25519KeyPair;

const NOW: i64 = 1_780_000_000_000;

fn config(dir: &std::path::Path, trusted: &[u8]) -> EngineConfig {
    EngineConfig::new(dir, vec![trusted.to_vec()])
}

/// The files of a store with a pack, events, feedback and a snapshot, and the pack's key.
fn template() -> &'static (Vec<(String, Vec<u8>)>, Vec<u8>) {
    static TEMPLATE: OnceLock<(Vec<(String, Vec<u8>)>, Vec<u8>)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let signer = Ed25519KeyPair::from_seed_unchecked(&[5; 32]).expect("seed");
        let trusted = public_key(&signer);
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(config(dir.path(), &trusted), Arc::new(StaticKey(vec![1; 32]))).expect("opens");
        engine.set_consent(PERSONALISATION, true, "v1", false).expect("consent");
        engine.load_catalog(&mizan::packer::synthetic_pack(30, 0, 0).sign(&signer)).expect("pack");
        for batch in 0..3i64 {
            let events: Vec<Event> = (0..5).map(|k| Event::new(EventKind::View, ((batch * 5 + k) % 40).to_string(), NOW - 60_000 * (20 - batch * 5 - k))).collect();
            engine.record(&events).expect("record");
        }
        engine.feedback(&Feedback { not_interested: vec!["3".into()], timestamp_ms: Some(NOW), ..Feedback::default() }).expect("feedback");
        engine.close().expect("close");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .filter(|e| e.file_name() != "LOCK")
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read")))
            .collect();
        files.sort();
        (files, trusted)
    })
}

fuzz_target!(|data: &[u8]| {
    let (files, trusted) = template();
    let Some((&choice, rest)) = data.split_first() else { return };
    let Some((&mode, damage)) = rest.split_first() else { return };
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("temp dir");
    let target = choice as usize % files.len();
    for (n, (name, bytes)) in files.iter().enumerate() {
        let mut bytes = bytes.clone();
        if n == target {
            if mode % 4 == 0 {
                bytes.truncate(damage.len() % (bytes.len() + 1));
            } else {
                let start = usize::from(mode) * 7 % bytes.len().max(1);
                for (b, d) in bytes.iter_mut().skip(start).zip(damage) {
                    *b ^= d;
                }
            }
        }
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    if let Ok(engine) = Engine::open(config(dir.path(), trusted), Arc::new(StaticKey(vec![1; 32]))) {
        let _ = engine.inspect();
        let _ = engine.export_user_data();
        let _ = engine.recommend(&RecommendRequest { now_ms: Some(NOW), ..RecommendRequest::default() });
        let _ = engine.record(&[Event::new(EventKind::View, "7", NOW)]);
        let _ = engine.close();
    }
    Engine::destroy(dir.path()).expect("a damaged store can always be erased");
});
