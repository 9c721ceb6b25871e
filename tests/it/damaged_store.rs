//! A damaged or unwritable store (issue 14, hole 10): found before any sign-in starts,
//! and told apart from a healthy one by `status` and `doctor`, never by printing a secret.
//! Tests run as root, for whom no mode bit refuses a write, so "unwritable" is a file
//! where a directory must be.

use crate::support::{Fixture, Knobs, TestEnv};

fn file_store_env(fx: &Fixture) -> TestEnv {
    let mut env = TestEnv::new();
    env.env("MCPAUTH_STORE", "file");
    env.add_server("demo", &fx.mcp_url());
    env
}

#[test]
fn login_finds_a_damaged_store_before_the_browser() {
    // Symptom: with an empty or truncated `secrets.json`, or no writable data directory,
    // `login` failed only after the browser sign-in and a new client registration.
    type Damage = fn(&std::path::Path);
    let cases: [(&str, Damage, &str); 4] = [
        (
            "an empty secrets file",
            |data| std::fs::write(data.join("secrets.json"), "").unwrap(),
            "secrets.json",
        ),
        (
            "a truncated secrets file",
            |data| std::fs::write(data.join("secrets.json"), r#"{"grant:ab12": "{\"acc"#).unwrap(),
            "secrets.json",
        ),
        (
            "a file where the lock directory goes",
            |data| std::fs::write(data.join("locks"), "").unwrap(),
            "locks",
        ),
        (
            "a file where the data directory goes",
            |data| {
                std::fs::remove_dir_all(data).unwrap();
                std::fs::write(data, "").unwrap();
            },
            "data",
        ),
    ];
    for (what, damage, named) in cases {
        let fx = Fixture::start(Knobs::default());
        let env = file_store_env(&fx);
        let data = env.home().join("data");
        std::fs::create_dir_all(&data).unwrap();
        damage(&data);
        let out = env.run(&["login", "demo"]);
        assert_eq!(out.code, Some(1), "{what}: {out:?}");
        assert!(
            out.stderr.contains("the store cannot keep a grant")
                && out.stderr.contains(&format!(
                    "{}",
                    data.parent().unwrap().join("data").display()
                ))
                && out.stderr.contains(named),
            "{what}: the error names the file: {}",
            out.stderr
        );
        assert_eq!(fx.counters().registrations, 0, "{what}: no registration");
        assert_eq!(fx.counters().authorize_requests, 0, "{what}: no sign-in");
        assert!(env.browser_page().is_none(), "{what}: no browser");
    }
}

#[test]
fn status_and_doctor_tell_a_damaged_secrets_file_from_a_healthy_one() {
    // Symptom: `status` and `doctor` called a grant valid while its secrets file was
    // truncated or empty.
    let fx = Fixture::start(Knobs::default());
    let env = file_store_env(&fx);
    let out = env.run(&["login", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let secrets_file = env.home().join("data").join("secrets.json");
    let healthy = std::fs::read(&secrets_file).unwrap();

    let out = env.run(&["status", "--json"]);
    assert!(out.stdout.contains(r#""state": "valid""#), "{out:?}");
    let out = env.run(&["doctor", "demo"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("✓ store"), "{}", out.stdout);

    for (what, damaged) in [
        ("truncated", healthy[..healthy.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ] {
        std::fs::write(&secrets_file, &damaged).unwrap();
        let status = env.run(&["status", "--json"]);
        assert_eq!(status.code, Some(0), "{what}: {status:?}");
        assert!(
            status.stdout.contains(r#""state": "store_damaged""#),
            "{what}: {}",
            status.stdout
        );
        assert!(
            status.stderr.contains(&secrets_file.display().to_string())
                && status.stderr.contains("move it away and log in again"),
            "{what}: names the file and the way out: {}",
            status.stderr
        );
        let doctor = env.run(&["doctor", "demo"]);
        assert_eq!(doctor.code, Some(1), "{what}: {doctor:?}");
        assert!(
            doctor.stdout.contains("✗ store") && doctor.stdout.contains("secrets.json"),
            "{what}: {}",
            doctor.stdout
        );
        assert!(
            doctor.stdout.contains("✗ grant"),
            "{what}: {}",
            doctor.stdout
        );
        for out in [&status, &doctor] {
            out.assert_no_secret(&fx.secrets_seen());
        }
    }
}

// Symptom guarded: every file mcpauth reads was read whole, so a store file or a config
// that never ends (here `/dev/zero`) took all the memory there is.
#[cfg(unix)]
#[test]
fn endless_store_and_config_files_are_refused_not_read_whole() {
    let fx = Fixture::start(Knobs::default());
    let env = file_store_env(&fx);
    assert_eq!(env.run(&["login", "demo"]).code, Some(0));
    let data = env.home().join("data");
    let index = data.join("grants.json");
    let kept = data.join("grants.json.kept");
    std::fs::rename(&index, &kept).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &index).unwrap();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("grants.json"), "{}", out.stderr);
    assert!(out.stderr.contains("more than 64 MiB"), "{}", out.stderr);
    std::fs::remove_file(&index).unwrap();
    std::fs::rename(&kept, &index).unwrap();

    let config = env.project().join(".mcp.json");
    let config_kept = env.project().join("mcp.json.kept");
    std::fs::rename(&config, &config_kept).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &config).unwrap();
    let out = env.run(&["token", "demo"]);
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains(".mcp.json"), "{}", out.stderr);
    assert!(out.stderr.contains("more than 64 MiB"), "{}", out.stderr);

    // Nothing was lost: with the files back, the grant works.
    std::fs::remove_file(&config).unwrap();
    std::fs::rename(&config_kept, &config).unwrap();
    let out = env.run(&["token", "demo"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(fx.access_token_valid(out.stdout.trim()));
}
