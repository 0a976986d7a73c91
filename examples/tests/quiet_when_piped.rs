//! Long CLI work shows progress on a terminal only: piped, `pack build` writes
//! its result line to stdout and nothing at all to stderr (no spinner frames,
//! no escape codes), so scripts and logs read clean output.

use std::process::Command;

const MIZAN: &str = env!("CARGO_BIN_EXE_mizan");

#[test]
fn pack_build_prints_no_progress_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let catalog: String = (0..40).map(|i| format!("{i},Item {i},c{},,,,\n", i % 4)).collect();
    std::fs::write(path("catalog.csv"), format!("id,title,categories,tags,sensitive,available_from_ms,available_until_ms\n{catalog}")).unwrap();
    let log: String = (0..400).map(|n| format!("u{},{},{}\n", n / 10, (n * 7) % 40, 1_780_000_000_000i64 + n * 60_000)).collect();
    std::fs::write(path("interactions.csv"), format!("user,item,timestamp_ms\n{log}")).unwrap();
    let run = |args: &[&str]| Command::new(MIZAN).args(args).current_dir(dir.path()).output().unwrap();
    assert!(run(&["pack", "keygen", "--out", "k.pk8", "--public-key-out", "k.pub"]).status.success());
    let build = run(&[
        "pack",
        "build",
        "--catalog",
        "catalog.csv",
        "--interactions",
        "interactions.csv",
        "--key",
        "k.pk8",
        "--version",
        "1",
        "--built-at-ms",
        "1",
        "--model",
        "cooccurrence",
        "--out",
        "shop.pack",
    ]);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    assert!(String::from_utf8_lossy(&build.stdout).starts_with("wrote shop.pack"));
    assert!(build.stderr.is_empty(), "stderr when piped: {:?}", String::from_utf8_lossy(&build.stderr));
}
