//! Every file mcpauth writes is 0600 and every directory 0700 whatever the umask, and
//! none is written through a symlink someone planted where mcpauth writes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::cli::run_bounded;
use crate::support::{Fixture, Knobs, RunOutput, TestEnv};

/// `mcpauth ARGS` as `env` runs it, under `umask 000`.
fn with_umask_000(env: &TestEnv, args: &[&str]) -> RunOutput {
    let inner = env.command(args);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    run_bounded(cmd, None::<&str>, Duration::from_secs(60))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&p, out);
        }
    }
}

/// A server, and a project that keeps its secrets in the file store.
fn file_store() -> (Fixture, TestEnv) {
    let fx = Fixture::start(Knobs::default());
    let mut env = TestEnv::new();
    env.env("MCPAUTH_STORE", "file");
    env.add_server("demo", &fx.mcp_url());
    (fx, env)
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_file_mcpauth_writes_is_private_under_umask_000() {
    // Symptom guarded: a file created without an explicit mode takes the umask's, and a
    // host that starts mcpauth with `umask 000` would leave it world-readable.
    let (_fx, env) = file_store();
    let bundle = env.project().join("demo.bundle");
    let passphrase = env.project().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    let runs: [&[&str]; 5] = [
        &["login", "demo"],
        &["token", "demo"],
        &["status"],
        &["doctor", "demo"],
        &[
            "export",
            "demo",
            "--copy",
            "--passphrase-file",
            passphrase.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ],
    ];
    for (i, args) in runs.iter().enumerate() {
        if i == 1 {
            // Past expiry: `token` refreshes, which reserves a recovery file and locks.
            env.let_time_pass(Duration::from_secs(3600));
        }
        let out = with_umask_000(&env, args);
        assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
    }
    let mut written = Vec::new();
    walk(&env.home(), &mut written);
    assert!(
        written.iter().any(|p| p.ends_with("secrets.json"))
            && written.iter().any(|p| p.ends_with("grants.json")),
        "{written:?}"
    );
    written.push(bundle);
    for p in &written {
        let meta = std::fs::symlink_metadata(p).unwrap();
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        assert!(!meta.file_type().is_symlink(), "{}", p.display());
        assert_eq!(mode(p), want, "{} is {:o}", p.display(), mode(p));
    }
}

#[test]
fn nothing_is_written_through_a_symlink_planted_where_mcpauth_writes() {
    // Symptom guarded: a lock or store file opened without no-follow semantics creates or
    // overwrites the planted link's target.
    let (fx, env) = file_store();
    let outside = tempfile::tempdir().unwrap();
    let data = env.home().join("data");
    std::fs::create_dir_all(data.join("locks")).unwrap();
    std::fs::create_dir_all(data.join("recovery")).unwrap();
    for dir in [&data, &data.join("locks"), &data.join("recovery")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let planted = [
        "grants.json",
        "secrets.json",
        "write-probe",
        "confirmed-pins.json",
        "locks/index.lock",
        "locks/secrets.lock",
    ];
    for (i, name) in planted.iter().enumerate() {
        std::os::unix::fs::symlink(outside.path().join(format!("target-{i}")), data.join(name))
            .unwrap();
    }
    let outs = [with_umask_000(&env, &["login", "demo"])];
    let mut created = Vec::new();
    walk(outside.path(), &mut created);
    assert!(
        created.is_empty(),
        "written through a link: {created:?}\n{outs:?}"
    );
    // The lock links stop the login with a message that names them (before the browser);
    // the store files were replaced by renames, never written through.
    assert_eq!(outs[0].code, Some(1), "{:?}", outs[0]);
    assert!(
        outs[0]
            .stderr
            .contains("refusing to write through the symlink")
            && outs[0].stderr.contains("index.lock"),
        "{}",
        outs[0].stderr
    );
    assert_eq!(fx.counters().authorize_requests, 0);

    // With the lock links gone, the rest is replaced, not followed.
    for name in ["locks/index.lock", "locks/secrets.lock"] {
        std::fs::remove_file(data.join(name)).unwrap();
    }
    let out = with_umask_000(&env, &["login", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    // Past expiry: a refresh, with its locks and recovery file.
    env.let_time_pass(Duration::from_secs(3600));
    let out = with_umask_000(&env, &["token", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut created = Vec::new();
    walk(outside.path(), &mut created);
    assert!(created.is_empty(), "written through a link: {created:?}");
    for name in ["grants.json", "secrets.json"] {
        let meta = std::fs::symlink_metadata(data.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is mcpauth's own file now");
    }
}
