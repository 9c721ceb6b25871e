//! FastMCP's client (PyPI `fastmcp`, tests/peers/fastmcp_host.py) as the host, straight
//! to the SDK's 2025-era server and through `mcpauth proxy`: it must see the same. FastMCP
//! probes with `server/discover` before it initializes, and `touch` and `roots` reach it
//! only over the session's own GET stream. Needs tests/peers/.venv (tests/run makes it).

use std::process::Stdio;

use serde_json::Value;

use crate::proxy_fake::WAIT;
use crate::proxy_peers::{peers_dir, sdk_server};

/// Runs the FastMCP host with `args`; its JSON report. Fails on a non-zero exit.
async fn fastmcp_host(args: &[&str], home: &std::path::Path) -> Value {
    let python = peers_dir().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "FastMCP is not installed: run tests/run, which makes tests/peers/.venv"
    );
    let run = tokio::process::Command::new(python)
        .arg(peers_dir().join("fastmcp_host.py"))
        .args(args)
        .env("MCPAUTH_HOME", home)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 3, run)
        .await
        .expect("the FastMCP host did not finish in time")
        .expect("start the FastMCP host");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the FastMCP host failed ({}):\n{stderr}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the FastMCP host printed no report ({e}):\n{stdout}\n{stderr}"))
}

#[tokio::test]
async fn fastmcp_gets_logs_resource_updates_and_roots_through_the_proxy_as_directly() {
    let server = sdk_server(&[]).await;
    let home = tempfile::tempdir().unwrap();
    let url = server.url.to_string();
    let direct = fastmcp_host(&[&url], home.path()).await;
    let proxied = fastmcp_host(
        &[
            "--",
            env!("CARGO_BIN_EXE_mcpauth"),
            "proxy",
            &url,
            "--login",
            "never",
        ],
        home.path(),
    )
    .await;
    let expected = serde_json::json!({
        "touch": "touched",
        "roots": "file:///tmp/mcpauth-fastmcp-root",
        "logs": ["touched"],
        "updated": ["test://note"],
    });
    assert_eq!(direct, expected, "FastMCP straight to the server");
    assert_eq!(proxied, expected, "FastMCP through mcpauth proxy");
}
