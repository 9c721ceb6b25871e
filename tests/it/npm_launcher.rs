//! The npm packages (packaging/npm): the `mcpauth` launcher and the linux-x64 binary
//! package built from this checkout, packed with `npm pack` and installed from the
//! tarballs into a temporary project as `npm install` would from the registry (offline,
//! with a registry that does not answer). Then `npx mcpauth` runs the binary, and a proxy
//! session through the launcher is byte for byte the session without it: the same stdout,
//! the same requests at the server, the same exit code, SIGTERM handled by the proxy.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::proxy_cli::{Host, echo};
use crate::support::cli::{RunOutput, run_bounded};
use crate::support::{Endpoint, Fixture, Knobs, TestEnv};

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/npm")
}

/// Runs `program args` in `dir` (within two minutes) and insists that it succeeds.
fn run(dir: &Path, program: &str, args: &[&str]) -> RunOutput {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    let out = run_bounded(cmd, None::<&str>, Duration::from_secs(120));
    assert_eq!(
        out.code,
        Some(0),
        "{program} {args:?} failed (tests/run installs npm):\n{}\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// `npm install` of `tarballs` into a new project under `dir`, from nothing but the
/// tarballs: an empty cache, a registry on a port nothing listens on, offline. npm skips
/// the other platforms' optional packages, as it does on a real install.
fn npm_install(dir: &Path, tarballs: &[PathBuf]) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("package.json"), "{\"private\": true}\n").unwrap();
    let mut args = vec![
        "install".to_owned(),
        "--no-audit".to_owned(),
        "--no-fund".to_owned(),
        "--offline".to_owned(),
        "--registry=http://127.0.0.1:9/".to_owned(),
        format!("--cache={}", dir.join("cache").display()),
    ];
    args.extend(tarballs.iter().map(|t| t.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&project, "npm", &args);
    project
}

/// `npm pack` of the launcher into `dir`, and with `binary` of the linux-x64 package
/// holding the binary these tests run; the tarballs' paths.
fn pack(dir: &Path, binary: bool) -> Vec<PathBuf> {
    let packed = |package: &Path| -> PathBuf {
        let out = run(
            dir,
            "npm",
            &[
                "pack",
                "--json",
                "--pack-destination",
                &dir.display().to_string(),
                &package.display().to_string(),
            ],
        );
        let listing: Value = serde_json::from_str(&out.stdout).expect("npm pack --json");
        let file = listing[0]["filename"].as_str().expect("a tarball name");
        dir.join(file)
    };
    let mut tarballs = vec![packed(&packaging().join("mcpauth"))];
    if binary {
        let platform_dir = dir.join("linux-x64");
        run(
            dir,
            "node",
            &[
                &packaging().join("platform.mjs").display().to_string(),
                "linux-x64",
                env!("CARGO_BIN_EXE_mcpauth"),
                &platform_dir.display().to_string(),
            ],
        );
        tarballs.push(packed(&platform_dir));
    }
    tarballs
}

/// `program` with the environment and working directory of `like`.
fn as_env_runs(program: &Path, like: &Command) -> Command {
    let mut cmd = Command::new(program);
    for (key, value) in like.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    if let Some(dir) = like.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}

/// The launcher npm installed, as a command with `env`'s environment and `args`.
fn through_launcher(project: &Path, env: &TestEnv, args: &[&str]) -> Command {
    let mut cmd = as_env_runs(
        &project.join("node_modules/.bin/mcpauth"),
        &env.command(&[]),
    );
    cmd.args(args);
    cmd
}

#[test]
fn npx_mcpauth_runs_the_binary_of_its_platform_package_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let project = npm_install(tmp.path(), &pack(tmp.path(), true));

    // Only this platform's package came with it.
    let scoped: Vec<String> = std::fs::read_dir(project.join("node_modules/@mcpauth"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(scoped, ["linux-x64"]);

    let out = run(&project, "npx", &["--offline", "mcpauth", "--version"]);
    assert_eq!(
        out.stdout.trim(),
        concat!("mcpauth ", env!("CARGO_PKG_VERSION"))
    );

    // The packages are at the crate's version, which the release workflow also checks.
    for manifest in [
        packaging().join("mcpauth/package.json"),
        project.join("node_modules/@mcpauth/linux-x64/package.json"),
    ] {
        let json: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"), "{manifest:?}");
    }

    proxy_session(&project);
    signals(&project);
    installed_entry(&project);
}

/// What `mcpauth install --launcher npx` writes runs as the client runs it: `npx -y
/// mcpauth proxy URL` through npm itself (which finds the installed package here and asks
/// no registry).
fn installed_entry(project: &Path) {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    let config = env.project().join(".mcp.json");
    let servers =
        serde_json::json!({"mcpServers": {"demo": {"type": "http", "url": fx.mcp_url()}}});
    std::fs::write(&config, servers.to_string()).unwrap();
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = env.run(&["install", "claude-code", "--launcher", "npx"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let entry: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let entry = &entry["mcpServers"]["demo"];
    assert_eq!(entry["command"], "npx", "{entry}");

    let mut npx = as_env_runs(Path::new("npx"), &env.command(&[]));
    let args: Vec<&str> = entry["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    npx.args(&args)
        .args(["--login", "never"])
        .current_dir(project)
        .env("npm_config_offline", "true")
        .env("npm_config_registry", "http://127.0.0.1:9/");
    let mut host = Host::spawn(npx);
    assert!(host.initialize().get("result").is_some());
    assert_eq!(
        echo(&mut host, "through npx")["result"]["content"][0]["text"],
        "through npx"
    );
    assert_eq!(host.finish(), Some(0));
}

/// A proxy session through the launcher is the session without it: the same stdout,
/// the same requests at the server, the same exit codes.
fn proxy_session(project: &Path) {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // What a host writes, with spacing, escapes and characters beyond ASCII that a
    // re-encoding anywhere would change.
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bytes","version":"1"}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "\n",
        r#"{ "jsonrpc" : "2.0", "id" : 2, "method" : "tools/call", "params" : {"name":"echo","arguments":{"text":"caf\u00e9 ☃ 😀 \"quoted\" \\ tab\t"}} }"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":"three","method":"ping"}"#,
        "\n",
    );
    let args = ["proxy", "demo", "--login", "never"];
    // The proxy forwards requests as they come and answers as the server does, so the
    // order of answers may differ between two runs; each line's bytes may not.
    let session = |cmd: Command| {
        let before = fx.requests_to(Endpoint::Mcp).len();
        let out = run_bounded(cmd, Some(input), env.timeout);
        let mut bodies: Vec<String> = fx.requests_to(Endpoint::Mcp)[before..]
            .iter()
            .map(|r| r.request.body.clone())
            .collect();
        bodies.sort();
        let mut lines: Vec<String> = out
            .stdout
            .split_inclusive('\n')
            .map(str::to_owned)
            .collect();
        lines.sort();
        (out, lines, bodies)
    };
    let (direct, direct_lines, direct_bodies) = session(env.command(&args));
    let (launched, launched_lines, launched_bodies) =
        session(through_launcher(project, &env, &args));

    assert_eq!(direct.code, Some(0), "{}", direct.stderr);
    assert_eq!(launched.code, direct.code, "{}", launched.stderr);
    assert_eq!(direct_lines.len(), 3, "{}", direct.stdout);
    assert!(direct.stdout.contains("café ☃ 😀"), "{}", direct.stdout);
    assert_eq!(
        launched_lines, direct_lines,
        "stdout through the launcher differs"
    );
    assert_eq!(launched_bodies, direct_bodies, "the server got other bytes");

    // An exit code other than 0 comes through as it is.
    let missing = ["token", "no-such-server"];
    let direct = env.run(&missing);
    let launched = run_bounded(
        through_launcher(project, &env, &missing),
        None::<&str>,
        env.timeout,
    );
    assert_ne!(direct.code, Some(0));
    assert_eq!(launched.code, direct.code, "{}", launched.stderr);
    assert_eq!(launched.stderr, direct.stderr);
}

/// SIGTERM to the launcher stops the proxy as SIGTERM to the binary does.
fn signals(project: &Path) {
    let fx = Fixture::start(Knobs::default());
    let env = TestEnv::new();
    env.add_server("demo", &fx.mcp_url());
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    let args = ["proxy", "demo", "--login", "never"];
    let mut statuses = Vec::new();
    for cmd in [env.command(&args), through_launcher(project, &env, &args)] {
        let deletes = fx
            .requests_to(Endpoint::Mcp)
            .iter()
            .filter(|r| r.request.method == "DELETE")
            .count();
        let mut host = Host::spawn(cmd);
        assert!(host.initialize().get("result").is_some());
        assert_eq!(
            echo(&mut host, "before the signal")["result"]["content"][0]["text"],
            "before the signal"
        );
        // stdin stays open: only the signal can end the session.
        host.terminate();
        let status = host.exit_status();
        // The proxy itself got the signal: it closed its session at the server.
        let after = fx
            .requests_to(Endpoint::Mcp)
            .iter()
            .filter(|r| r.request.method == "DELETE")
            .count();
        assert_eq!(after, deletes + 1, "the session was not closed");
        statuses.push(status.code());
    }
    assert_eq!(statuses[0], Some(0), "the proxy exits 0 on SIGTERM");
    assert_eq!(statuses[1], statuses[0], "the launcher's exit differs");
}

#[test]
fn the_launcher_names_the_package_that_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    // The launcher alone, as with `npm install --omit=optional`.
    let project = npm_install(tmp.path(), &pack(tmp.path(), false));
    let out = Command::new(project.join("node_modules/.bin/mcpauth"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("the package @mcpauth/linux-x64")
            && said.contains("npm install @mcpauth/linux-x64@"),
        "{said}"
    );

    // And on a platform with no binary, it says which there are.
    let launcher = project.join("node_modules/mcpauth/bin/mcpauth.js");
    let out = Command::new("node")
        .arg("-e")
        .arg(format!(
            "Object.defineProperty(process, 'platform', {{ value: 'freebsd' }}); require({:?})",
            launcher.display().to_string()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("no prebuilt binary for freebsd-x64")
            && said.contains("cargo install mcpauth"),
        "{said}"
    );
}
