//! The release and CI workflows (.github/workflows), read as GitHub would read them, and
//! checked against the rest of the packaging: the five release targets are the npm
//! launcher's platform packages, the archives install.sh, install.ps1, cargo-binstall and
//! the Homebrew formula ask for, and the CI matrix lints and tests on all three systems.

use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    yaml_serde::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"))
}

/// Every `run:` script of a job, joined.
fn scripts(job: &Value) -> String {
    job["steps"]
        .as_array()
        .expect("a job has steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

const TARGETS: [(&str, &str); 5] = [
    ("aarch64-apple-darwin", "darwin-arm64"),
    ("x86_64-apple-darwin", "darwin-x64"),
    ("x86_64-unknown-linux-musl", "linux-x64"),
    ("aarch64-unknown-linux-musl", "linux-arm64"),
    ("x86_64-pc-windows-msvc", "win32-x64"),
];

#[test]
fn the_release_workflow_builds_the_five_targets_every_installer_asks_for() {
    let release = yaml(".github/workflows/release.yml");
    assert!(
        release["on"]["push"]["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "v*")),
        "releases run on v* tags: {}",
        release["on"]
    );
    let jobs = &release["jobs"];
    let mut built: Vec<(String, String)> = jobs["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a build matrix")
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_owned(),
                t["npm"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    built.sort();
    let mut expected: Vec<(String, String)> = TARGETS
        .iter()
        .map(|(t, n)| ((*t).to_owned(), (*n).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(built, expected);

    // The npm launcher's platform packages are exactly the targets' npm names.
    let launcher: Value =
        serde_json::from_str(&read("packaging/npm/mcpauth/package.json")).unwrap();
    let mut packages: Vec<&str> = launcher["optionalDependencies"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.strip_prefix("@mcpauth/").expect("scoped"))
        .collect();
    packages.sort();
    let mut npm: Vec<&str> = TARGETS.iter().map(|(_, n)| *n).collect();
    npm.sort();
    assert_eq!(packages, npm);
    let launcher_js = read("packaging/npm/mcpauth/bin/mcpauth.js");
    for name in &npm {
        assert!(launcher_js.contains(&format!("'{name}'")), "{name}");
    }

    // Each installer asks for an archive the release has.
    let install_sh = read("install.sh");
    let homebrew = read("packaging/homebrew/mcpauth.rb");
    for (target, _) in TARGETS.iter().filter(|(t, _)| !t.contains("windows")) {
        assert!(
            install_sh.contains(&format!("echo {target}")),
            "install.sh: {target}"
        );
        assert!(
            homebrew.contains(&format!("mcpauth-{target}.tar.gz"))
                && homebrew.contains(&format!("@SHA256_{target}@")),
            "the Homebrew formula: {target}"
        );
    }
    assert!(read("packaging/install.ps1").contains("mcpauth-x86_64-pc-windows-msvc.zip"));
    let cargo: toml_edit::DocumentMut = read("Cargo.toml").parse().unwrap();
    let binstall = &cargo["package"]["metadata"]["binstall"];
    assert_eq!(
        binstall["pkg-url"].as_str(),
        Some("{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }")
    );
    assert_eq!(
        binstall["overrides"]["x86_64-pc-windows-msvc"]["pkg-fmt"].as_str(),
        Some("zip")
    );

    // The release publishes what it built, with sums, and the npm packages.
    let all = ["release", "npm"].map(|j| scripts(&jobs[j])).join("\n");
    for word in [
        "SHA256SUMS",
        "gh release create",
        "platform.mjs",
        "npm publish",
    ] {
        assert!(all.contains(word), "the release never runs `{word}`");
    }
    assert!(scripts(&jobs["build"]).contains(".sha256"));
}

#[test]
fn ci_lints_and_tests_on_linux_macos_and_windows_and_runs_the_suite_on_linux() {
    let ci = yaml(".github/workflows/ci.yml");
    let check = &ci["jobs"]["check"];
    let mut systems: Vec<&str> = check["strategy"]["matrix"]["os"]
        .as_array()
        .expect("an OS matrix")
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    systems.sort();
    assert_eq!(systems, ["macos-latest", "ubuntu-latest", "windows-latest"]);
    let run = scripts(check);
    for command in [
        "cargo fmt --check",
        "cargo clippy --all-targets --locked -- -D warnings",
        "cargo build --locked",
        "cargo test --locked --lib --bins",
    ] {
        assert!(run.contains(command), "the matrix never runs `{command}`");
    }
    assert!(scripts(&ci["jobs"]["integration"]).contains(".ci/run"));
}

#[test]
fn the_readme_lists_the_install_commands_per_platform_npx_first() {
    let readme = read("README.md");
    let section = readme
        .split("\n## Install\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has an Install section");
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows.len() > 3, "{section}");
    assert!(
        rows[2].contains("npx -y mcpauth"),
        "npx comes first: {}",
        rows[2]
    );
    for needle in [
        "macOS",
        "Linux",
        "Windows",
        "install.sh",
        "install.ps1",
        "brew install",
    ] {
        assert!(
            section.contains(needle),
            "the Install section never says {needle}"
        );
    }
}
