//! A child process for the crash and fault tests: it works on a store until it
//! is killed (or a write fails), printing what the engine acknowledged.
//!
//! `crash_child <mode> <dir> <trial>` with mode
//! - `append`: record batches forever, printing `A <batch>` after each acknowledged batch;
//! - `compact`: the same, and every third batch forget the batch two before it
//!   (a full log rewrite), printing `FORGETTING <batch>` before and `F <batch>`
//!   once the forget returned;
//! - `hold`: open the store, print `OPEN`, and wait to be killed;
//! - `rotate:<last>`: record batches, and after every fifth print `ROTATING <n>`,
//!   re-key the store to key byte 8 + n and print `ROTATED <n>`; after rotation
//!   `<last>`, wait to be killed (a late kill then cannot find a later key in force);
//! - `fill`: limit file size (RLIMIT_FSIZE) and record until a write fails, then print `ERR`.

use std::io::Write;
use std::sync::Arc;

use mizan::{Engine, EngineConfig, Event, EventKind, ForgetRequest, Retention, StaticKey, SyncPolicy, PERSONALISATION};

/// Events per batch.
const BATCH: u32 = 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, dir, trial) = (args[1].as_str(), &args[2], args[3].parse::<u32>().expect("trial number"));
    let (mode, last_rotation) = match mode.split_once(':') {
        Some((mode, last)) => (mode, Some(last.parse::<u32>().expect("last rotation"))),
        None => (mode, None),
    };
    if mode == "fill" {
        limit_file_size(64 * 1024);
    }
    let mut config = EngineConfig::new(dir, vec![]);
    config.retention = Retention { max_age_days: None, max_log_bytes: None };
    if trial % 2 == 1 {
        config.sync = SyncPolicy::GroupCommit { max_bytes: 4_096, max_delay_ms: 5 };
    }
    // A rotating child resumes under the key its last rotation left in force.
    let key = std::env::var("MIZAN_CHILD_KEY").ok().and_then(|k| k.parse().ok()).unwrap_or(7u8);
    let engine = Engine::open(config, Arc::new(StaticKey(vec![key; 32]))).expect("open");
    let mut out = std::io::stdout().lock();
    if mode == "hold" {
        writeln!(out, "OPEN").and_then(|_| out.flush()).expect("stdout");
        std::thread::sleep(std::time::Duration::from_secs(30));
        return;
    }
    engine.set_consent(PERSONALISATION, true, "v1", false).expect("consent");
    let now = mizan::engine::now_ms();
    for batch in 0u32.. {
        let events: Vec<Event> = (0..BATCH)
            .map(|j| Event::new(EventKind::View, item_id(trial, batch, j), now - 1_000_000 + i64::from(batch)))
            .collect();
        match engine.record(&events) {
            Ok(_) => writeln!(out, "A {batch}").and_then(|_| out.flush()).expect("stdout"),
            Err(e) => {
                writeln!(out, "ERR {}", kind(&e)).and_then(|_| out.flush()).expect("stdout");
                return;
            }
        }
        if mode == "rotate" && batch % 5 == 4 {
            let n = batch / 5;
            writeln!(out, "ROTATING {n}").and_then(|_| out.flush()).expect("stdout");
            engine.rotate_key(&StaticKey(vec![8 + n as u8; 32])).expect("rotate");
            writeln!(out, "ROTATED {n}").and_then(|_| out.flush()).expect("stdout");
            if last_rotation == Some(n) {
                std::thread::sleep(std::time::Duration::from_secs(30));
                return;
            }
        }
        if mode == "compact" && batch % 3 == 2 {
            let forget = ForgetRequest { item_ids: (0..BATCH).map(|j| item_id(trial, batch - 2, j)).collect(), ..Default::default() };
            writeln!(out, "FORGETTING {}", batch - 2).and_then(|_| out.flush()).expect("stdout");
            engine.forget(&forget).expect("forget");
            writeln!(out, "F {}", batch - 2).and_then(|_| out.flush()).expect("stdout");
        }
    }
}

/// The item id of event `j` of `batch` in `trial`.
fn item_id(trial: u32, batch: u32, j: u32) -> String {
    format!("t{trial}-b{batch}-e{j}")
}

fn kind(e: &mizan::Error) -> &'static str {
    match e {
        mizan::Error::Io { .. } => "Io",
        _ => "Other",
    }
}

fn limit_file_size(bytes: u64) {
    // SAFETY: plain libc calls on this process only; ignoring SIGXFSZ turns an
    // oversized write into an EFBIG error instead of killing the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0, "setrlimit");
    }
}
