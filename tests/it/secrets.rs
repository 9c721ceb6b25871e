//! No secret (token, refresh token, client secret, code, verifier, initial access token)
//! in any output or log at any verbosity, nor in the index or the config dirs.

use crate::support::{AuthMethod, Endpoint, Fixture, Knobs, TestEnv};

#[test]
fn no_secret_in_any_output_at_any_verbosity() {
    let fx = Fixture::start(Knobs {
        initial_access_token: Some("iat-never-shown-7f3a".into()),
        registration_auth_method: Some(AuthMethod::ClientSecretBasic),
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
        crate::refresh::let_expire(&env);
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

/// The PEM's base64 body lines: the key in any encoding a request or a log might give it.
fn pem_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_key_header_value_or_variable_value_in_any_output_or_foreign_request() {
    // Symptom guarded: the private key PEM, configured header values and `${VAR}` values
    // are as secret as tokens, and may reach only the server they are configured for.
    use crate::support::Side;
    let fx = Fixture::start(Knobs {
        registration_endpoint: false,
        ..Knobs::default()
    });
    let (private, public) = crate::support::keys::p256_pair();
    fx.add_jwt_client("jwt-app", &public);
    let literal = "hdr-literal-value-5521";
    let from_var = "var-expanded-value-8830";
    let mut env = TestEnv::new();
    env.env("MCPAUTH_LOG", "trace");
    env.env("TEAM_TOKEN", from_var);
    env.add_server_entry(
        "demo",
        serde_json::json!({
            "type": "http",
            "url": fx.mcp_url(),
            "headers": { "X-Api-Key": literal, "X-Team": "Team ${TEAM_TOKEN}" },
            "oauth": { "clientId": "jwt-app" },
        }),
    );
    let key = env.home().join("client-key.pem");
    std::fs::write(&key, &private).unwrap();
    let key = key.to_str().unwrap().to_owned();

    let mut outputs = Vec::new();
    for verbosity in [&[][..], &["-v"][..], &["-vv"][..]] {
        let out = env.run(&joined(
            &[
                "login",
                "demo",
                "--client-id",
                "jwt-app",
                "--client-key-file",
                &key,
            ],
            verbosity,
        ));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        outputs.push(out);
        crate::refresh::let_expire(&env);
        // `token` and `headers` print the access token on stdout by design.
        for args in [&["token", "demo"][..], &["headers", "demo"]] {
            let out = env.run(&joined(args, verbosity));
            assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
            outputs.push(crate::support::RunOutput {
                stdout: String::new(),
                ..out
            });
        }
        outputs.push(env.run(&joined(&["status"], verbosity)));
        outputs.push(env.run(&joined(&["doctor", "demo"], verbosity)));
        let proxy = env.run_with_stdin(
            &joined(&["proxy", "demo", "--login", "never"], verbosity),
            concat!(
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
                "\n",
                r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
                "\n"
            ),
        );
        assert!(proxy.stdout.contains(r#""id":2"#), "{proxy:?}");
        outputs.push(proxy);
    }
    outputs.push(env.run(&["logout", "demo", "-vv"]));

    let mut secret: Vec<String> = pem_lines(&private);
    secret.push(literal.into());
    secret.push(from_var.into());
    for out in &outputs {
        out.assert_no_secret(&secret);
        out.assert_no_secret(&fx.secrets_seen());
    }
    // The headers went to the MCP server (their own origin), and nothing of them, nor of
    // the key, to the authorization server; the key went nowhere at all.
    let requests = fx.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.side == Side::Resource && r.header("x-api-key").as_deref() == Some(literal)),
        "the configured header is sent to its server"
    );
    for r in &requests {
        let raw = format!("{:?}", r.request);
        let forbidden: Vec<&String> = match r.side {
            Side::Authorization => secret.iter().collect(),
            Side::Resource => secret.iter().take(secret.len() - 2).collect(),
        };
        for s in forbidden {
            assert!(
                !raw.contains(s.as_str()),
                "`{}…` went to the {:?} side ({:?})",
                &s[..6],
                r.side,
                r.endpoint
            );
        }
    }
}

fn joined<'a>(args: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [args, more].concat()
}
