//! Workload identity federation (SEP-1933) against a certified OpenID provider
//! (`oidc-provider`, tests/peers/oidc.mjs) whose jwt-bearer grant trusts a workload
//! platform: it finds the platform's keys through OpenID discovery and verifies each
//! workload JWT. The JWT comes from a file the platform rotates, or from a command that
//! asks the platform for one, as a CI job does; no refresh token exists, and every
//! renewal presents a JWT read anew.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::oidc::Provider;
use crate::proxy_cli::{Host, echo};
use crate::support::TestEnv;
use crate::support::cli::RunOutput;
use crate::support::http::loopback_get;

/// What the platform minted, and which of its JWTs (by `jti`) the provider was shown.
fn stats(provider: &Provider) -> (u64, Vec<String>) {
    let (status, body) = loopback_get(&format!("{}/stats", provider.platform)).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    (
        v["minted"].as_u64().unwrap(),
        serde_json::from_value(v["presented"].clone()).unwrap(),
    )
}

/// A fresh workload JWT from the platform, as its token API hands one out.
fn mint(provider: &Provider) -> String {
    let (status, body) = loopback_get(&format!("{}/token", provider.platform)).unwrap();
    assert_eq!(status, 200, "{body}");
    body.trim().to_owned()
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn ok(out: RunOutput) -> RunOutput {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    out
}

/// Every file under `dir`, read whole.
fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

/// A home with the server `ci`, signed in as `workload-client` from a 0600 file that
/// holds `jwt` and stays for the test to rotate.
struct SignedIn {
    env: TestEnv,
    file: PathBuf,
    login: RunOutput,
    _dir: tempfile::TempDir,
}

fn signed_in_from_a_file(provider: &Provider, jwt: &str) -> SignedIn {
    let env = TestEnv::new();
    env.add_server("ci", &provider.mcp);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    write_private(&file, jwt);
    let source = format!("file:{}", file.display());
    let login = ok(env.run(&[
        "login",
        "ci",
        "--client-id",
        "workload-client",
        "--workload",
        &source,
    ]));
    SignedIn {
        env,
        file,
        login,
        _dir: dir,
    }
}

#[test]
fn a_workload_signs_in_from_a_file_and_a_command_and_each_expiry_reads_a_fresh_jwt() {
    let provider = Provider::start(3600);
    let mut jwts = vec![mint(&provider)];
    let mut outputs = Vec::new();

    // From a file, as Kubernetes mounts a projected service account token.
    let signed_in = signed_in_from_a_file(&provider, &jwts[0]);
    let (env, file, out) = (&signed_in.env, &signed_in.file, signed_in.login);
    assert!(out.stderr.contains("as a workload"), "{}", out.stderr);
    outputs.push(out);
    assert_eq!(stats(&provider), (1, vec!["workload-1".to_owned()]));

    // The MCP server takes the token the provider issued for it.
    let mut host = Host::start(env, &["proxy", "ci", "--login", "never"]);
    assert!(host.initialize().get("result").is_some());
    let answer = echo(&mut host, "from a workload");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        json!("from a workload")
    );
    assert_eq!(host.finish(), Some(0));

    // No refresh token: the grant renews from its source.
    let status = ok(env.run(&["status", "--json"]));
    let rows: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(rows[0]["renewal"], json!("workload"), "{rows}");
    outputs.push(status);

    // The platform rotates the file; once the access token has expired, the next use
    // presents what the file holds then.
    let before = ok(env.run(&["token", "ci"]));
    jwts.push(mint(&provider));
    write_private(file, &jwts[1]);
    env.let_time_pass(Duration::from_secs(2 * 3600));
    let after = ok(env.run(&["token", "ci"]));
    assert_ne!(before.stdout, after.stdout, "the token was not renewed");
    assert_eq!(stats(&provider).1, ["workload-1", "workload-2"]);
    outputs.extend([before, after]);

    // From a command that asks the platform, as a CI job's token request does: every
    // renewal runs it again. Three processes that find the token expired at once run
    // it once between them, under the grant's lock.
    let command = format!("command:curl -sS --max-time 10 {}/token", provider.platform);
    outputs.push(ok(env.run(&[
        "login",
        "ci",
        "--account",
        "job",
        "--client-id",
        "workload-client",
        "--workload",
        &command,
    ])));
    assert_eq!(stats(&provider).0, 3);
    env.let_time_pass(Duration::from_secs(2 * 3600));
    let renewed: Vec<RunOutput> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| env.run(&["token", "ci", "--account", "job"])))
            .collect();
        runs.into_iter().map(|r| ok(r.join().unwrap())).collect()
    });
    assert!(
        renewed.iter().all(|r| r.stdout == renewed[0].stdout),
        "the three processes got different tokens"
    );
    let (minted, presented) = stats(&provider);
    assert_eq!(
        minted,
        4,
        "the command ran {} times for one expiry",
        minted - 3
    );
    assert_eq!(presented.last().map(String::as_str), Some("workload-4"));
    outputs.extend(renewed);

    // No workload JWT appears in any output or in any file mcpauth keeps.
    for out in &outputs {
        out.assert_no_secret(&jwts);
    }
    for (path, bytes) in all_files(&env.home()) {
        let text = String::from_utf8_lossy(&bytes);
        for jwt in &jwts {
            assert!(
                !text.contains(jwt.as_str()),
                "`{}` holds a workload JWT",
                path.display()
            );
        }
    }
}

// Symptom to avoid: a workload whose platform handed out a bad JWT once would be marked
// "needs login" for good, although the next JWT from the same source is fine.
#[test]
fn a_refused_or_malformed_workload_jwt_is_said_plainly_and_the_next_good_one_works() {
    let provider = Provider::start(3600);
    let signed_in = signed_in_from_a_file(&provider, &mint(&provider));
    let (env, file) = (&signed_in.env, &signed_in.file);
    let source = format!("file:{}", file.display());

    // A source that gives nothing fails first, before any request (this server is dead).
    let out = env.run(&[
        "login",
        "http://127.0.0.1:1/mcp",
        "--workload",
        "env:MCPAUTH_TEST_NO_SUCH_WORKLOAD_TOKEN",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("the variable is not set") && !out.stderr.contains("cannot reach"),
        "{}",
        out.stderr
    );

    // oidc-provider wants a client on its token endpoint: without --client-id the login
    // is refused, says what to add, and the grant already held is untouched.
    let out = env.run(&["login", "ci", "--workload", &source]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("add --client-id"), "{}", out.stderr);
    ok(env.run(&["token", "ci"]));

    // Not a JWT at all: said by its shape, not its text.
    write_private(file, "not-a-jwt-but-perhaps-a-secret\n");
    env.let_time_pass(Duration::from_secs(2 * 3600));
    let out = env.run(&["token", "ci"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("is not a JWT"), "{}", out.stderr);
    assert!(out.stderr.contains(&source), "{}", out.stderr);
    out.assert_no_secret(&["not-a-jwt-but-perhaps-a-secret".to_owned()]);

    // A JWT whose signature the provider cannot verify: its refusal, named as such.
    let good = mint(&provider);
    let (head, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    write_private(file, &forged);
    let out = env.run(&["token", "ci"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("refused the workload token"),
        "{}",
        out.stderr
    );
    out.assert_no_secret(&[forged, good.clone()]);

    // The platform's next good JWT works: nothing was marked or lost.
    write_private(file, &good);
    let out = ok(env.run(&["token", "ci"]));
    out.assert_no_secret(&[good]);
    let (_, presented) = stats(&provider);
    assert_eq!(presented.last().map(String::as_str), Some("workload-2"));
}
