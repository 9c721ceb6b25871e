//! No secret (token, refresh token, client secret, code, verifier, initial access token)
//! in any output or log at any verbosity, nor in the index or the config dirs.

use crate::support::{AuthMethod, Endpoint, Fixture, Knobs, TestEnv};

#[test]
fn no_secret_in_any_output_at_any_verbosity() {
    let fx = Fixture::start(Knobs {
        initial_access_token: Some("iat-never-shown-7f3a".into()),
        registration_auth_method: Some(AuthMethod::ClientSecretBasic),
        access_token_ttl: std::time::Duration::from_secs(2),
        ..Knobs::default()
    });
    let mut env = TestEnv::new();
    env.env("MCPAUTH_LOG", "trace");
    env.add_server("demo", &fx.mcp_url());

    let mut outputs = Vec::new();
    for verbosity in [&[][..], &["-v"][..], &["-vv"][..]] {
        let mut args = vec!["login", "demo", "--initial-access-token"];
        args.extend_from_slice(verbosity);
        let out = env.run_with_stdin(&args, "iat-never-shown-7f3a\n");
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        outputs.push(out);
        std::thread::sleep(std::time::Duration::from_millis(2300));
        // A refresh, a status and a failing call, at this verbosity.
        let mut t = vec!["token", "demo"];
        t.extend_from_slice(verbosity);
        let tok = env.run(&t);
        assert_eq!(tok.code, Some(0), "{}", tok.stderr);
        // `token` prints the access token on stdout by design: only its stderr counts.
        outputs.push(crate::support::RunOutput {
            stdout: String::new(),
            ..tok
        });
        let mut s = vec!["status"];
        s.extend_from_slice(verbosity);
        outputs.push(env.run(&s));
    }
    outputs.push(env.run(&["logout", "demo", "-vv"]));
    outputs.push(env.run(&["token", "demo", "-vv"]));

    // The PKCE verifiers and codes the fixture saw are among its secrets.
    let secrets = fx.secrets_seen();
    assert!(
        secrets.len() >= 10,
        "the fixture should have seen tokens, codes, verifiers and secrets"
    );
    assert!(!fx.requests_to(Endpoint::Token).is_empty());
    for out in &outputs {
        out.assert_no_secret(&secrets);
    }
    // Nor in the index, the logs, or anything else under MCPAUTH_HOME: the secrets are
    // in the keychain.
    for entry in walk(&env.home()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds a secret",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
