//! Workload identity federation (SEP-1933): a CI job, a pod or a VM signs in with the JWT
//! its platform issues it (a Kubernetes projected service account token, a CI system's
//! OIDC token), presented at the token endpoint as an RFC 7523 authorization grant.
//!
//! The JWT is read from its source for each token request and never kept: the grant
//! records only where it comes from. There is no refresh token; when the access token
//! expires, the source is read again and the grant asked for again. Nothing about the
//! JWT is printed or logged, not even in an error: a malformed one is described by its
//! shape alone.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where the workload's JWT comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A file the platform keeps current (Kubernetes rotates projected tokens in place).
    File(PathBuf),
    /// An environment variable of the process that needs the token.
    Env(String),
    /// A command that prints the JWT, run by the shell (`sh -c`).
    Command(String),
}

impl Source {
    /// The source with a file's path made absolute: the renewal may run in a proxy whose
    /// working directory is its client's, not the one `login` ran in.
    pub fn absolute(self) -> Self {
        match self {
            Source::File(path) => Source::File(std::path::absolute(&path).unwrap_or(path)),
            other => other,
        }
    }
}

/// The forms `--workload` takes, for messages.
pub const FORMS: &str = "`file:PATH`, `env:NAME` or `command:CMD`";

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("a workload token source is {FORMS}"))?;
        if rest.is_empty() {
            return Err(format!(
                "`{kind}:` names nothing; a workload token source is {FORMS}"
            ));
        }
        match kind {
            "file" => Ok(Source::File(PathBuf::from(rest))),
            "env" => Ok(Source::Env(rest.to_owned())),
            "command" => Ok(Source::Command(rest.to_owned())),
            _ => Err(format!(
                "`{kind}` is not a kind of workload token source; a source is {FORMS}"
            )),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => write!(f, "file:{}", path.display()),
            Source::Env(name) => write!(f, "env:{name}"),
            Source::Command(cmd) => write!(f, "command:{cmd}"),
        }
    }
}

/// The longest JWT taken from a source. Platform tokens are a few kilobytes.
const LIMIT: u64 = 64 << 10;

/// How long a command has to print its JWT (a CI system's token request included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the workload's JWT from `source`, checked to have a JWT's shape.
pub async fn assertion(source: &Source) -> Result<Secret> {
    read_jwt(source, "workload token").await
}

/// Reads a JWT (`what` says which, for errors) from `source`, checked to have a JWT's
/// shape: a workload's token, or an ID token a company's own tool hands out.
pub async fn read_jwt(source: &Source, what: &str) -> Result<Secret> {
    let source_text = source.to_string();
    let shown = crate::escape::controls(&source_text);
    let kind = what;
    let what = || format!("cannot read the {kind} from `{shown}`");
    let text = match source {
        Source::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || crate::files::read_string_capped(&path, LIMIT))
                .await
                .expect("a capped read does not panic")
                .map_err(|source| Error::Io {
                    what: what(),
                    source,
                })?
        }
        Source::Env(name) => match std::env::var(name) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => {
                return Err(Error::Other(format!(
                    "{}: the variable is not set in this process's environment",
                    what()
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Error::Other(format!("{}: the value is not text", what())));
            }
        },
        Source::Command(cmd) => run(cmd).await.map_err(|e| match e {
            Ran::Io(source) => Error::Io {
                what: what(),
                source,
            },
            Ran::Failed(why) => Error::Other(format!("{}: {why}", what())),
        })?,
    };
    let jwt = text.trim();
    if let Some(why) = not_a_jwt(jwt) {
        return Err(Error::Other(format!("{}: {why}", what())));
    }
    Ok(Secret::new(jwt))
}

enum Ran {
    Io(std::io::Error),
    Failed(String),
}

/// Runs `cmd` with the shell, stdin closed and stderr passed through (it is the
/// person's own command, and its complaints are for them), and returns what it printed.
async fn run(cmd: &str) -> std::result::Result<String, Ran> {
    use tokio::io::AsyncReadExt as _;
    let mut child = shell(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(Ran::Io)?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let work = async {
        let mut out = Vec::new();
        (&mut stdout)
            .take(LIMIT + 1)
            .read_to_end(&mut out)
            .await
            .map_err(Ran::Io)?;
        if out.len() as u64 > LIMIT {
            return Err(Ran::Failed(format!(
                "the command printed more than {} KiB",
                LIMIT >> 10
            )));
        }
        let status = child.wait().await.map_err(Ran::Io)?;
        if !status.success() {
            return Err(Ran::Failed(format!("the command failed ({status})")));
        }
        String::from_utf8(out).map_err(|_| Ran::Failed("the command printed no text".into()))
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(Ran::Failed(format!(
            "the command printed no token within {} s",
            COMMAND_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(unix)]
fn shell(cmd: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c").arg(cmd);
    c
}

#[cfg(windows)]
fn shell(cmd: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("cmd");
    // cmd.exe parses its own command line and does not undo the quoting Rust would add
    // to an argument (`\"`), so the command goes on as the person wrote it.
    c.raw_arg("/C").raw_arg(cmd);
    c
}

/// Why `s` is not a compact JWS (three base64url parts), said without any of it.
fn not_a_jwt(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 {
        return Some(format!(
            "it is not a JWT ({} dot-separated parts, not 3)",
            parts.len()
        ));
    }
    let base64url = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !parts.iter().all(|p| base64url(p)) {
        return Some("it is not a JWT (a part is not base64url)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_they_are_written() {
        for s in [
            "file:/var/run/secrets/token",
            "env:CI_JOB_JWT",
            "command:gh-oidc --aud x",
        ] {
            let source: Source = s.parse().unwrap();
            assert_eq!(source.to_string(), s);
        }
        assert_eq!(
            "command:a:b".parse::<Source>().unwrap(),
            Source::Command("a:b".into())
        );
        for bad in ["/path/without/kind", "file:", "url:https://x", ""] {
            let e = bad.parse::<Source>().unwrap_err();
            assert!(e.contains("file:PATH"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_malformed_token_is_described_without_its_text() {
        assert_eq!(not_a_jwt("aGVhZA.Ym9keQ.c2ln"), None);
        for bad in [
            "",
            "secret-value",
            "a.b",
            "a.b.c.d",
            "a..c",
            "a.b c.d",
            "a.b+/.c",
        ] {
            let why = not_a_jwt(bad).unwrap_or_else(|| panic!("{bad} passed"));
            assert!(bad.is_empty() || !why.contains(bad), "{why}");
        }
    }

    #[tokio::test]
    async fn each_source_gives_its_token_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "aGVhZA.Ym9keQ.c2ln\n").unwrap();
        let got = assertion(&Source::File(file)).await.unwrap();
        assert_eq!(got.expose(), "aGVhZA.Ym9keQ.c2ln");
        #[cfg(unix)]
        command_sources().await;
        let e = assertion(&Source::Env("MCPAUTH_TEST_SURELY_UNSET_VARIABLE".into()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not set"), "{e}");
    }

    /// Through `sh -c`, so only where there is one.
    #[cfg(unix)]
    async fn command_sources() {
        let got = assertion(&Source::Command("printf ' a.b.c\\n'".into()))
            .await
            .unwrap();
        assert_eq!(got.expose(), "a.b.c");
        // The command's text is in the message; what it printed is not.
        let e = assertion(&Source::Command("echo $((40 + 2))-printed".into()))
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("42-printed"), "{e}");
        let e = assertion(&Source::Command("exit 3".into()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("failed"), "{e}");
    }
}
