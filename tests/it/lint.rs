//! `tests/lint`, which tests/run (and so `.ci/run`) runs before the suite: it fails on a
//! formatting difference and on any clippy warning, and passes clean code. Tried on a
//! small crate of its own, so the check is quick and independent of this tree's state.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs tests/lint on a one-file crate whose `main.rs` is `source`: its exit code and
/// what it said.
fn lint(dir: &Path, source: &str) -> (Option<i32>, String) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"lint-probe\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"lint-probe\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), source).unwrap();
    let out = Command::new(root().join("tests/lint"))
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("tests/lint runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), said)
}

#[test]
fn the_ci_run_fails_on_a_formatting_or_clippy_warning() {
    let tmp = tempfile::tempdir().unwrap();

    let clean = "fn main() {\n    println!(\"clean\");\n}\n";
    let (code, said) = lint(&tmp.path().join("clean"), clean);
    assert_eq!(code, Some(0), "clean code was refused:\n{said}");

    let misformatted = "fn main() {   println!(\"clean\"); }\n";
    let (code, said) = lint(&tmp.path().join("fmt"), misformatted);
    assert_eq!(code, Some(1), "a formatting difference passed:\n{said}");
    assert!(said.contains("run cargo fmt"), "{said}");

    // Formatted as rustfmt wants, but clippy's `needless_return` warns.
    let warned = "fn answer() -> u32 {\n    return 42;\n}\n\nfn main() {\n    println!(\"{}\", answer());\n}\n";
    let (code, said) = lint(&tmp.path().join("clippy"), warned);
    assert_eq!(code, Some(1), "a clippy warning passed:\n{said}");
    assert!(said.contains("needless_return"), "{said}");

    // And the CI entry point runs it: .ci/run is tests/run, which lints before building.
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l.trim() == "exec tests/run"), "{ci}");
    let run = std::fs::read_to_string(root().join("tests/run")).unwrap();
    let lint_at = run.lines().position(|l| l.trim() == "tests/lint");
    let build_at = run.lines().position(|l| l.starts_with("cargo build"));
    assert!(
        matches!((lint_at, build_at), (Some(l), Some(b)) if l < b),
        "tests/run does not lint before it builds"
    );
}
