//! `install.sh`: installs the binary, completions and man pages for a user, twice without
//! harm, and takes all of it away again. Runs in a temporary HOME; the build reuses this
//! test run's own target directory (dev profile), so nothing is built from scratch.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test binary was built into: `<target>/debug/deps/it-...`.
fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_mcpauth"));
    exe.parent()
        .and_then(Path::parent)
        .expect("the binary sits in <target>/<profile>/")
        .to_path_buf()
}

/// rustup and cargo find their toolchains through HOME unless told otherwise.
fn real_dir(var: &str, under_home: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set for the test run"))
            .join(under_home)
    })
}

fn install(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    // A person's shell, not the test runner's environment: cargo, nextest and
    // tests/keyring-session set variables (CARGO_PKG_*, NEXTEST_*, XDG_DATA_HOME) that
    // build scripts watch, and with them install.sh's build recompiled ring and relinked
    // the binary every other test runs, for 40 to 110 s of both cores mid-suite.
    cmd.env_clear();
    for var in ["PATH", "TMPDIR", "RUSTUP_TOOLCHAIN", "RUSTFLAGS"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    let out = cmd
        .arg(root().join("install.sh"))
        .args(args)
        .env("HOME", home)
        .env("MCPAUTH_INSTALL_DIR", home.join("bin"))
        .env("MCPAUTH_BUILD_PROFILE", "dev")
        .env("CARGO_TARGET_DIR", target_dir())
        .env("RUSTUP_HOME", real_dir("RUSTUP_HOME", ".rustup"))
        .env("CARGO_HOME", real_dir("CARGO_HOME", ".cargo"))
        .output()
        .expect("sh runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "install.sh {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn install_twice_then_uninstall_leaves_nothing() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    // zsh's user directory is used only when it exists (it must be on fpath); fish's
    // when fish's config directory does.
    std::fs::create_dir_all(home.join(".local/share/zsh/site-functions")).unwrap();
    std::fs::create_dir_all(home.join(".config/fish")).unwrap();

    let suite_binary = || {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(env!("CARGO_BIN_EXE_mcpauth")).unwrap();
        (m.ino(), m.len())
    };
    let before = suite_binary();
    let first = install(home, &[]);
    assert_eq!(
        suite_binary(),
        before,
        "install.sh's `cargo build` replaced the binary every other test runs: it resolves \
         other features than `cargo build --all-targets` (see the note in Cargo.toml):\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    let bin = home.join("bin/mcpauth");
    let expected = [
        bin.clone(),
        home.join(".local/share/bash-completion/completions/mcpauth"),
        home.join(".local/share/zsh/site-functions/_mcpauth"),
        home.join(".config/fish/completions/mcpauth.fish"),
        home.join(".local/share/man/man1/mcpauth.1"),
        home.join(".local/share/man/man1/mcpauth-login.1"),
    ];
    for path in &expected {
        assert!(path.is_file(), "{} was not installed", path.display());
        assert!(
            said.contains(&format!("installed {}", path.display())),
            "install.sh did not say where {} went:\n{said}",
            path.display()
        );
    }
    assert_eq!(
        std::fs::read(home.join(".local/share/zsh/site-functions/_mcpauth")).unwrap(),
        std::fs::read(root().join("completions/_mcpauth")).unwrap()
    );

    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mcpauth {}", env!("CARGO_PKG_VERSION"))
    );

    // A second run replaces the same files and adds nothing (no stray `.new` files).
    let before = files(home);
    install(home, &[]);
    assert_eq!(files(home), before);

    let gone = install(home, &["--uninstall"]);
    let said = String::from_utf8_lossy(&gone.stdout).into_owned();
    for path in &expected {
        assert!(!path.exists(), "{} is still there", path.display());
        assert!(
            said.contains(&format!("removed {}", path.display())),
            "{said}"
        );
    }
    assert_eq!(
        files(home),
        Vec::<PathBuf>::new(),
        "uninstall left files behind"
    );
    // Uninstalling again is harmless.
    let again = install(home, &["--uninstall"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to remove"));
}

#[test]
fn install_script_is_shellcheck_clean() {
    let out = Command::new("shellcheck")
        .arg(root().join("install.sh"))
        .output()
        .expect("shellcheck is installed (tests/run installs it)");
    assert!(
        out.status.success(),
        "shellcheck install.sh:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A release as the release workflow makes it, served on loopback: the archive for
/// `release` (the binary these tests run, the completions and pages), its `.sha256`,
/// and every request the server got.
struct Release {
    server: crate::support::http::Listener,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Release {
    /// Serves the archive; with `tamper`, one byte of it differs from what the sum says.
    fn serve(tamper: bool) -> Self {
        use crate::support::http::Reply;
        let release = "x86_64-unknown-linux-musl";
        let stage = tempfile::tempdir().unwrap();
        let top = stage.path().join(format!("mcpauth-{release}"));
        std::fs::create_dir_all(&top).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_mcpauth"), top.join("mcpauth")).unwrap();
        for dir in ["completions", "man"] {
            let status = Command::new("cp")
                .arg("-R")
                .arg(root().join(dir))
                .arg(&top)
                .status()
                .unwrap();
            assert!(status.success());
        }
        let archive = format!("mcpauth-{release}.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(stage.path().join(&archive))
            .arg("-C")
            .arg(stage.path())
            .arg(format!("mcpauth-{release}"))
            .status()
            .unwrap();
        assert!(status.success(), "tar failed");
        let mut bytes = std::fs::read(stage.path().join(&archive)).unwrap();
        let sum = Command::new("sha256sum")
            .arg(stage.path().join(&archive))
            .output()
            .unwrap();
        let hex = String::from_utf8_lossy(&sum.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        if tamper {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        }
        let sum_file = format!("{hex}  {archive}\n");
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        let server = crate::support::http::Listener::start(move |req| {
            seen.lock().unwrap().push(req.path.clone());
            if req.path == format!("/v9.9.9/{archive}") {
                Reply::empty(200).body(bytes.clone())
            } else if req.path == format!("/v9.9.9/{archive}.sha256") {
                Reply::text(200, sum_file.clone())
            } else {
                Reply::empty(404)
            }
        });
        Self { server, requests }
    }
}

/// install.sh with `args` as someone without Rust runs it: no cargo on PATH, into
/// `home`.
fn install_sh(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("install.sh"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("MCPAUTH_INSTALL_DIR", home.join("bin"));
    cmd
}

/// install.sh installing the release from `base`.
fn install_release(home: &Path, base: &str) -> Output {
    install_sh(home, &[])
        .env("MCPAUTH_DOWNLOAD_URL", base)
        .output()
        .expect("sh runs")
}

#[test]
fn without_cargo_install_sh_installs_the_release_archive_after_checking_its_sum() {
    assert!(
        !Path::new("/usr/bin/cargo").exists() && !Path::new("/bin/cargo").exists(),
        "this test needs a PATH without cargo"
    );
    let release = Release::serve(false);
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let out = install_release(home, &format!("{}/v9.9.9", release.server.origin()));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(
        *release.requests.lock().unwrap(),
        [
            "/v9.9.9/mcpauth-x86_64-unknown-linux-musl.tar.gz",
            "/v9.9.9/mcpauth-x86_64-unknown-linux-musl.tar.gz.sha256"
        ]
    );
    let bin = home.join("bin/mcpauth");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mcpauth {}", env!("CARGO_PKG_VERSION"))
    );
    for page in [
        home.join(".local/share/man/man1/mcpauth.1"),
        home.join(".local/share/bash-completion/completions/mcpauth"),
    ] {
        assert!(
            page.is_file(),
            "{} was not installed:\n{said}",
            page.display()
        );
    }
    // Nothing of the download is left behind, and uninstall takes it all away.
    let gone = install_sh(home, &["--uninstall"]).output().unwrap();
    assert_eq!(gone.status.code(), Some(0));
    assert_eq!(
        files(home),
        Vec::<PathBuf>::new(),
        "uninstall left files behind"
    );
}

#[test]
fn install_sh_refuses_a_tampered_archive_and_a_download_over_plain_http() {
    let release = Release::serve(true);
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let out = install_release(home, &format!("{}/v9.9.9", release.server.origin()));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("does not match its checksum") && said.contains("nothing was installed"),
        "{said}"
    );
    assert_eq!(
        files(home),
        Vec::<PathBuf>::new(),
        "something was installed"
    );

    // A mirror must be https (plain http only on this machine): refused before any
    // request is made.
    let out = install_release(home, "http://mirror.invalid/mcpauth");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("refusing to download over anything but https"),
        "{said}"
    );
    assert_eq!(files(home), Vec::<PathBuf>::new());
}
