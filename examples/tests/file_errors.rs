//! Every file error of the CLI names the file, so a mistyped path is found at a glance.

use std::process::Command;

const MIZAN: &str = env!("CARGO_BIN_EXE_mizan");

#[test]
fn a_missing_or_unwritable_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| Command::new(MIZAN).args(args).current_dir(dir.path()).output().unwrap();
    assert!(run(&["pack", "demo", "--out", "demo.pack", "--public-key-out", "demo.pub"]).status.success());
    let cases: [&[&str]; 6] = [
        &["pack", "verify", "no-such.pack", "--public-key", "demo.pub"],
        &["pack", "verify", "demo.pack", "--public-key", "no-such.pub"],
        &["pack", "demo", "--out", "no-such-dir/demo.pack", "--public-key-out", "demo.pub"],
        &["pack", "measure", "no-such.pack", "--public-key", "demo.pub"],
        &["inspect", "no-such.json", "--html", "page.html"],
        &["eval", "--data", "no-such-dir", "--out", "results"],
    ];
    for args in cases {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        let missing = args.iter().find(|a| a.starts_with("no-such")).unwrap();
        assert!(stderr.contains(missing), "{args:?}: the error does not name {missing}: {stderr}");
    }
}
