use super::*;
use crate::crypto::StaticKey;
use crate::events::EventKind;

fn ev(seq: u64) -> StoredEvent {
    StoredEvent {
        seq,
        kind: EventKind::View,
        item_id: format!("item-{seq}"),
        timestamp_ms: 1_700_000_000_000,
        dwell_secs: None,
        rating: None,
        query_tokens: vec![],
    }
}

fn all(store: &mut Store) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    store.read_from(None, |e| out.push(e)).unwrap();
    out
}

fn open(dir: &Path, key: u8) -> Result<Opened> {
    Store::open(dir, &StaticKey(vec![key; 32]), StoreOptions::default())
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn appends_survive_reopen_and_a_wrong_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut opened = open(dir.path(), 3).unwrap();
    assert!(opened.store.append(&[ev(1), ev(2)]).unwrap());
    opened.store.append(&[ev(3)]).unwrap();
    opened.store.save_state(b"state", true).unwrap();
    drop(opened);
    let before = files(dir.path());
    assert!(matches!(open(dir.path(), 4), Err(Error::WrongKey)));
    assert_eq!(files(dir.path()), before);
    let mut reopened = open(dir.path(), 3).unwrap();
    assert_eq!(all(&mut reopened.store), vec![ev(1), ev(2), ev(3)]);
    assert_eq!(reopened.state.as_deref(), Some(&b"state"[..]));
}

#[test]
fn a_second_open_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), 3).unwrap();
    assert!(matches!(open(dir.path(), 3), Err(Error::StoreLocked)));
}

#[test]
fn group_commit_reports_durability_and_flush_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { sync: SyncPolicy::GroupCommit { max_bytes: 1_000, max_delay_ms: 60_000 }, ..Default::default() };
    let mut store = Store::open(dir.path(), &StaticKey(vec![3; 32]), options).unwrap().store;
    assert!(!store.append(&[ev(1)]).unwrap(), "a small batch waits for the group");
    let big: Vec<StoredEvent> = (2..60).map(ev).collect();
    assert!(store.append(&big).unwrap(), "crossing max_bytes syncs");
    assert!(!store.append(&[ev(60)]).unwrap());
    store.flush().unwrap();
    assert_eq!(store.unsynced_bytes, 0);
}

#[test]
fn segments_roll_over_and_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { segment_bytes: 300, ..Default::default() };
    let mut store = Store::open(dir.path(), &StaticKey(vec![3; 32]), options).unwrap().store;
    for i in 0..20 {
        store.append(&[ev(i)]).unwrap();
    }
    assert!(store.segment_count() > 3);
    drop(store);
    let mut store = Store::open(dir.path(), &StaticKey(vec![3; 32]), options).unwrap().store;
    assert_eq!(all(&mut store), (0..20).map(ev).collect::<Vec<_>>());
}

/// A closed store with two one-event records; returns it, its segment and the segment's bytes.
fn two_records() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    store.append(&[ev(1)]).unwrap();
    store.append(&[ev(2)]).unwrap();
    drop(store);
    let seg = segment::path(dir.path(), 1, 1);
    let bytes = fs::read(&seg).unwrap();
    (dir, seg, bytes)
}

#[test]
fn a_torn_tail_is_cut_and_a_corrupt_record_skipped_and_counted() {
    let (dir, seg, mut bytes) = two_records();
    bytes[segment::HEADER_LEN as usize + 20] ^= 0x40; // inside the first record's ciphertext
    bytes.extend_from_slice(&[9, 0, 0]); // a torn tail
    fs::write(&seg, &bytes).unwrap();
    let mut opened = open(dir.path(), 3).unwrap();
    assert_eq!(all(&mut opened.store), vec![ev(2)]);
    assert_eq!(opened.store.recovery().corrupt_records, 1);
    assert_eq!(opened.store.recovery().truncated_bytes, 3);
    assert_eq!(fs::read(&seg).unwrap().len(), bytes.len() - 3);
}

#[test]
fn damage_at_the_end_of_the_last_segment_starts_a_new_one() {
    let (dir, seg, mut bytes) = two_records();
    let first_len = u32::from_le_bytes(bytes[segment::HEADER_LEN as usize..][..4].try_into().unwrap()) as usize;
    bytes[segment::HEADER_LEN as usize + 8 + first_len] ^= 0x01; // the last record's length: nothing after it to resume at
    fs::write(&seg, &bytes).unwrap();
    let mut opened = open(dir.path(), 3).unwrap();
    assert_eq!(opened.store.recovery().damaged_segments, 1);
    assert_eq!(fs::read(&seg).unwrap(), bytes, "damaged bytes are kept, not truncated away");
    opened.store.append(&[ev(3)]).unwrap();
    drop(opened);
    let mut reopened = open(dir.path(), 3).unwrap();
    assert_eq!(all(&mut reopened.store), vec![ev(1), ev(3)]);
}

#[test]
fn rewrite_filters_atomically_and_rotates_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    store.append(&(0..10).map(ev).collect::<Vec<_>>()).unwrap();
    let dropped = store.rewrite(None, b"s1", |e| e.seq % 2 == 0).unwrap();
    assert_eq!(dropped, 5);
    store.append(&[ev(10)]).unwrap();
    assert_eq!(all(&mut store).iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 2, 4, 6, 8, 10]);
    store.rewrite(Some(zeroize::Zeroizing::new(vec![9; 32])), b"s2", |_| true).unwrap();
    assert_eq!(store.generation(), 3);
    drop(store);
    assert!(matches!(open(dir.path(), 3), Err(Error::WrongKey)), "the old key no longer opens the store");
    let mut opened = open(dir.path(), 9).unwrap();
    assert_eq!(opened.state.as_deref(), Some(&b"s2"[..]));
    assert_eq!(all(&mut opened.store).len(), 6);
    let names: Vec<String> = files(dir.path()).into_iter().map(|f| f.0).collect();
    assert!(names.iter().all(|n| !n.starts_with("g00000001") && !n.starts_with("g00000002")), "{names:?}");
}

#[test]
fn leftovers_of_an_interrupted_rewrite_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    store.append(&[ev(1)]).unwrap();
    drop(store);
    fs::write(segment::path(dir.path(), 2, 1), b"half-written next generation").unwrap();
    fs::write(dir.path().join("MANIFEST.tmp"), b"half-written manifest").unwrap();
    let mut opened = open(dir.path(), 3).unwrap();
    assert_eq!(all(&mut opened.store), vec![ev(1)]);
    assert!(!segment::path(dir.path(), 2, 1).exists());
    assert!(!dir.path().join("MANIFEST.tmp").exists());
}

#[test]
fn a_corrupt_snapshot_is_discarded_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    store.append(&[ev(1)]).unwrap();
    let position = store.save_snapshot(b"model").unwrap();
    drop(store);
    let opened = open(dir.path(), 3).unwrap();
    assert_eq!(opened.snapshot, Some(Snapshot { position, payload: b"model".to_vec() }));
    drop(opened);
    let snap = snapshot_path(dir.path(), 1);
    let mut bytes = fs::read(&snap).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&snap, bytes).unwrap();
    let opened = open(dir.path(), 3).unwrap();
    assert!(opened.snapshot.is_none());
    assert!(opened.store.recovery().snapshot_discarded);
}

#[test]
fn erase_removes_every_file_but_foreign_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let mut store = open(&store_dir, 3).unwrap().store;
    store.append(&[ev(1)]).unwrap();
    store.save_state(b"x", true).unwrap();
    store.erase().unwrap();
    assert!(!store_dir.exists());
}

#[test]
fn files_without_a_manifest_are_unreadable_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    store.append(&[ev(1)]).unwrap();
    drop(store);
    fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap(); // as an interrupted erasure leaves it
    let mut opened = open(dir.path(), 3).unwrap();
    assert!(opened.store.recovery().orphaned_files_removed >= 1);
    assert!(all(&mut opened.store).is_empty());
}

/// Issue 20, defects 5 and 10: a flipped bit in a record's length field costs
/// that record only; reading resumes at the next record, which authenticates.
#[test]
fn a_damaged_length_field_costs_one_record_and_reading_resumes_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 3).unwrap().store;
    for batch in 0..3u64 {
        store.append(&(batch * 10..batch * 10 + 10).map(ev).collect::<Vec<_>>()).unwrap();
    }
    store.flush().unwrap();
    drop(store);
    let (name, mut bytes) = files(dir.path()).into_iter().find(|(n, _)| n.ends_with(".seg")).unwrap();
    let first_len = u32::from_le_bytes(bytes[segment::HEADER_LEN as usize..][..4].try_into().unwrap()) as usize;
    let second = segment::HEADER_LEN as usize + 8 + first_len;
    bytes[second + 1] ^= 0x10;
    fs::write(dir.path().join(&name), &bytes).unwrap();

    let mut opened = open(dir.path(), 3).unwrap();
    let seqs: Vec<u64> = all(&mut opened.store).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..10).chain(20..30).collect::<Vec<_>>(), "the first and third records are kept");
    let recovery = opened.store.recovery();
    assert_eq!((recovery.corrupt_records, recovery.damaged_segments), (1, 0), "{recovery:?}");
    opened.store.append(&[ev(30)]).unwrap();
    assert_eq!(all(&mut opened.store).len(), 21, "appends continue after the last good record");
}

/// The appends of [`appends_under_faults`]: 12 batches of 3 events, into
/// segments of 200 bytes, so that appends roll over to new segments.
const BATCHES: u64 = 12;

fn batch(i: u64) -> Vec<StoredEvent> {
    (0..3).map(|k| ev(i * 3 + k)).collect()
}

fn small_segments(sync: SyncPolicy) -> StoreOptions {
    StoreOptions { sync, segment_bytes: 200 }
}

/// Which batches the log holds, in order (each must be whole).
fn batches_in(dir: &Path, options: StoreOptions) -> Vec<u64> {
    let mut opened = vfs::sim::uncounted(|| Store::open(dir, &StaticKey(vec![3; 32]), options)).expect("reopens");
    let events = vfs::sim::uncounted(|| all(&mut opened.store));
    assert_eq!(events.len() % 3, 0, "whole batches only");
    events.chunks(3).map(|c| c[0].seq / 3).collect()
}

/// Appends every batch in a fresh store with call `n` failing by `fault`:
/// returns what each append returned (until the process died, for a crash),
/// and the number of file calls made.
fn appends_under_faults(dir: &Path, options: StoreOptions, n: u64, fault: vfs::sim::Fault, power_loss: bool) -> (Vec<Result<bool>>, u64) {
    use vfs::sim;
    sim::clear();
    let mut opened = sim::uncounted(|| Store::open(dir, &StaticKey(vec![3; 32]), options)).unwrap();
    if power_loss {
        sim::track(dir);
    }
    sim::inject(n, fault);
    let mut results = Vec::new();
    for i in 0..BATCHES {
        let result = opened.store.append(&batch(i));
        if fault == sim::Fault::Crash && sim::calls() > n {
            break;
        }
        results.push(result);
    }
    let calls = sim::calls();
    if fault == sim::Fault::Crash {
        drop(opened);
        if power_loss {
            sim::power_loss();
        }
    }
    sim::clear();
    (results, calls)
}

#[test]
fn a_failed_append_is_undone_and_a_crash_or_power_loss_keeps_every_synced_batch() {
    use vfs::sim::Fault;
    let clean = tempfile::tempdir().unwrap();
    let (_, calls) = appends_under_faults(clean.path(), small_segments(SyncPolicy::EveryBatch), u64::MAX, Fault::Io, false);
    assert!(batches_in(clean.path(), small_segments(SyncPolicy::EveryBatch)).len() == BATCHES as usize);
    let group = SyncPolicy::GroupCommit { max_bytes: 300, max_delay_ms: u64::MAX };
    let mut points = 0;
    for n in 0..calls + 8 {
        for sync in [SyncPolicy::EveryBatch, group] {
            let options = small_segments(sync);
            // A failing call: that append is an error and leaves nothing; the others land.
            for fault in [Fault::Io, Fault::NoSpace] {
                let dir = tempfile::tempdir().unwrap();
                let (results, _) = appends_under_faults(dir.path(), options, n, fault, false);
                let landed: Vec<u64> = (0..BATCHES).filter(|&i| results[i as usize].is_ok()).collect();
                assert!(results.iter().all(|r| r.as_ref().is_ok() || matches!(r, Err(Error::Io { .. }))), "{sync:?}, call {n}: {results:?}");
                assert_eq!(batches_in(dir.path(), options), landed, "{sync:?}, call {n} failing ({fault:?})");
                points += 1;
            }
            // A crash: every batch acknowledged as durable (and those before it)
            // survives power loss; every acknowledged batch survives a kill.
            for power_loss in [false, true] {
                let dir = tempfile::tempdir().unwrap();
                let (results, _) = appends_under_faults(dir.path(), options, n, Fault::Crash, power_loss);
                let acknowledged = results.iter().take_while(|r| r.is_ok()).count() as u64;
                let durable = results.iter().rposition(|r| matches!(r, Ok(true))).map_or(0, |i| i as u64 + 1);
                let found = batches_in(dir.path(), options);
                let at_least = if power_loss { durable } else { acknowledged };
                assert_eq!(found, (0..found.len() as u64).collect::<Vec<_>>(), "{sync:?}, crash at call {n}: not a prefix");
                assert!(
                    (at_least..=acknowledged + 1).contains(&(found.len() as u64)),
                    "{sync:?}, crash at call {n} (power loss: {power_loss}): {} batches kept, {acknowledged} acknowledged, {durable} durable",
                    found.len()
                );
                if sync == SyncPolicy::EveryBatch {
                    assert!(found.len() as u64 >= acknowledged, "every batch acknowledged under EveryBatch survives");
                }
                points += 1;
            }
        }
    }
    assert!(calls > 3 * BATCHES, "appends, syncs and new segments ({calls} calls)");
    eprintln!("append fault points: {points} over {calls} calls");
}
