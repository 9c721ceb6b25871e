//! The export bundle: everything another host needs to use and refresh some grants
//! without a browser (tokens, the client registration and its secret, the resource,
//! issuer and endpoints), always encrypted with age, to a passphrase (scrypt) or to age
//! and SSH public keys, and ASCII-armored so that it survives a copy and paste.
//!
//! Inside is JSON: `{"format": "mcpauth-bundle", "version": 1, "grants": [...]}`. A
//! reader refuses a version it does not know rather than guess at it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::store::{ClientRecord, GrantRecord, GrantSecrets};

const FORMAT: &str = "mcpauth-bundle";
pub const VERSION: u32 = 1;
/// No bundle of a handful of grants comes near this; a bigger input is not one.
const MAX_SIZE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    pub created_at_ms: i64,
    pub grants: Vec<BundledGrant>,
}

/// One grant with what refreshing it takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct BundledGrant {
    pub grant: GrantRecord,
    pub secrets: GrantSecrets,
    pub client: ClientRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
}

impl Bundle {
    pub fn new(grants: Vec<BundledGrant>) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            created_at_ms: crate::clock::system_now_ms(),
            grants,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("wrong passphrase for this bundle")]
    WrongPassphrase,
    #[error("none of the keys in `{}` can open this bundle: it was encrypted to other keys", .path.display())]
    NoMatchingKey { path: PathBuf },
    #[error(
        "this bundle is encrypted to a key, not a passphrase: give the private key with --identity FILE"
    )]
    NeedsIdentity,
    #[error(
        "this bundle is protected by a passphrase: give it with --passphrase-file FILE, or run on a terminal to be asked"
    )]
    NeedsPassphrase,
    #[error("an empty passphrase protects nothing")]
    EmptyPassphrase,
    #[error("the bundle is damaged (truncated or altered): {detail}")]
    Damaged { detail: String },
    #[error("this is not an mcpauth bundle ({detail})")]
    NotABundle { detail: String },
    #[error(
        "refusing the bundle: the {what} `{}` of `{grant}` is not on the origin of its issuer `{}`, nor in that issuer's metadata; nothing was imported",
        crate::escape::controls(&crate::redact::url(.url)),
        crate::escape::controls(&crate::redact::url(.issuer))
    )]
    ForeignEndpoint {
        grant: String,
        what: &'static str,
        url: String,
        issuer: String,
    },
    #[error(
        "this bundle was made by a newer mcpauth (bundle format {found}; this mcpauth reads format {VERSION}): upgrade mcpauth on this host"
    )]
    NewerFormat { found: u32 },
    #[error("bundle larger than {MAX_SIZE} bytes: not an mcpauth bundle")]
    TooLarge,
    #[error(
        "`{recipient}` is not a recipient: expected an age public key (`age1...`) or an SSH public key (`ssh-ed25519 ...`, `ssh-rsa ...`)"
    )]
    BadRecipient { recipient: String },
    #[error("no recipient in `{}`", .path.display())]
    NoRecipients { path: PathBuf },
    #[error("cannot use `{}` as an identity: {detail}", .path.display())]
    BadIdentity { path: PathBuf, detail: String },
    #[error("cannot read `{}`", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the bundle")]
    Write(#[source] std::io::Error),
}

/// How the bundle is locked.
pub enum Lock {
    Passphrase(SecretString),
    Recipients(Vec<Box<dyn age::Recipient + Send>>),
}

/// How the bundle is opened.
pub enum Key {
    Passphrase(SecretString),
    Identities {
        path: PathBuf,
        identities: Vec<Box<dyn age::Identity>>,
    },
}

/// Encrypts and armors `bundle` into `out`.
pub fn seal(bundle: &Bundle, lock: &Lock, out: impl Write) -> Result<(), BundleError> {
    let plaintext = serde_json::to_vec(bundle).expect("a bundle serializes");
    let encryptor = match lock {
        Lock::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
        Lock::Recipients(rs) => {
            age::Encryptor::with_recipients(rs.iter().map(|r| r.as_ref() as &dyn age::Recipient))
                .map_err(|e| BundleError::Write(std::io::Error::other(e.to_string())))?
        }
    };
    let armored = age::armor::ArmoredWriter::wrap_output(out, age::armor::Format::AsciiArmor)
        .map_err(BundleError::Write)?;
    let mut writer = encryptor.wrap_output(armored).map_err(BundleError::Write)?;
    writer.write_all(&plaintext).map_err(BundleError::Write)?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(BundleError::Write)?;
    Ok(())
}

/// Whether an armored or binary age file is locked with a passphrase; `Err` when it is
/// not an age file at all.
pub fn needs_passphrase(sealed: &[u8]) -> Result<bool, BundleError> {
    looks_sealed(sealed)?;
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(sealed))
        .map_err(header_error)?;
    Ok(decryptor.is_scrypt())
}

/// Decrypts, checks and parses a bundle. Nothing is returned unless all of it is intact.
pub fn open(sealed: &[u8], key: &Key) -> Result<Bundle, BundleError> {
    looks_sealed(sealed)?;
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(sealed))
        .map_err(header_error)?;
    let mut reader = match key {
        Key::Passphrase(p) => {
            if !decryptor.is_scrypt() {
                return Err(BundleError::NeedsIdentity);
            }
            let identity = age::scrypt::Identity::new(p.clone());
            decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .map_err(|e| match e {
                    age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                        BundleError::WrongPassphrase
                    }
                    other => header_error(other),
                })?
        }
        Key::Identities { path, identities } => {
            if decryptor.is_scrypt() {
                return Err(BundleError::NeedsPassphrase);
            }
            decryptor
                .decrypt(identities.iter().map(|i| i.as_ref()))
                .map_err(|e| match e {
                    age::DecryptError::NoMatchingKeys => {
                        BundleError::NoMatchingKey { path: path.clone() }
                    }
                    other => header_error(other),
                })?
        }
    };
    let mut plaintext = Vec::new();
    (&mut reader)
        .take(MAX_SIZE)
        .read_to_end(&mut plaintext)
        .map_err(|e| BundleError::Damaged {
            detail: e.to_string(),
        })?;
    parse(&plaintext)
}

/// An age file begins with its version line, armored or not; anything else is not a
/// damaged bundle but something else altogether.
fn looks_sealed(sealed: &[u8]) -> Result<(), BundleError> {
    let start = sealed.trim_ascii_start();
    if start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || start.starts_with(b"age-encryption.org/")
    {
        return Ok(());
    }
    Err(BundleError::NotABundle {
        detail: "it is not an age-encrypted file".into(),
    })
}

fn header_error(e: age::DecryptError) -> BundleError {
    match e {
        age::DecryptError::InvalidMac | age::DecryptError::DecryptionFailed => {
            BundleError::Damaged {
                detail: "its header does not authenticate".into(),
            }
        }
        age::DecryptError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            BundleError::Damaged {
                detail: "it ends early".into(),
            }
        }
        other => BundleError::NotABundle {
            detail: other.to_string(),
        },
    }
}

/// The decrypted JSON: the format and version are checked before the rest is read, so a
/// newer bundle says so instead of failing on a field it does not know.
fn parse(plaintext: &[u8]) -> Result<Bundle, BundleError> {
    #[derive(Deserialize)]
    struct Head {
        format: String,
        version: u32,
    }
    // serde's messages could quote a token: keep only the position.
    let position = |e: serde_json::Error| BundleError::NotABundle {
        detail: format!(
            "unexpected content at line {}, column {}",
            e.line(),
            e.column()
        ),
    };
    let head: Head = serde_json::from_slice(plaintext).map_err(position)?;
    if head.format != FORMAT {
        return Err(BundleError::NotABundle {
            detail: format!("its format is `{}`", head.format),
        });
    }
    if head.version > VERSION {
        return Err(BundleError::NewerFormat {
            found: head.version,
        });
    }
    serde_json::from_slice(plaintext).map_err(position)
}

/// Reads a sealed bundle from a file or stdin (`-`), at most [`MAX_SIZE`] bytes.
pub fn read_sealed(input: Option<&Path>) -> Result<Vec<u8>, BundleError> {
    let mut data = Vec::new();
    let (result, path) = match input {
        Some(path) if path != Path::new("-") => (
            std::fs::File::open(path).and_then(|f| f.take(MAX_SIZE + 1).read_to_end(&mut data)),
            path.to_path_buf(),
        ),
        _ => (
            std::io::stdin()
                .lock()
                .take(MAX_SIZE + 1)
                .read_to_end(&mut data),
            PathBuf::from("(stdin)"),
        ),
    };
    result.map_err(|source| BundleError::Read { path, source })?;
    if data.len() as u64 > MAX_SIZE {
        return Err(BundleError::TooLarge);
    }
    Ok(data)
}

/// A passphrase or recipients file: small, and text.
fn read_small(path: &Path) -> Result<String, BundleError> {
    crate::files::read_string_capped(path, crate::files::SMALL_LIMIT).map_err(|source| {
        BundleError::Read {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The first line of a passphrase file.
pub fn passphrase_from_file(path: &Path) -> Result<SecretString, BundleError> {
    let text = read_small(path)?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(BundleError::EmptyPassphrase);
    }
    Ok(SecretString::from(line.to_owned()))
}

/// `age1...`, or an SSH public key line (`ssh-ed25519 AAAA... comment`).
pub fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>, BundleError> {
    let text = text.trim();
    let bad = || BundleError::BadRecipient {
        recipient: text.chars().take(60).collect(),
    };
    if text.starts_with("age1") {
        return text
            .parse::<age::x25519::Recipient>()
            .map(|r| Box::new(r) as _)
            .map_err(|_| bad());
    }
    text.parse::<age::ssh::Recipient>()
        .map(|r| Box::new(r) as _)
        .map_err(|_| bad())
}

/// Every recipient in a file: one per line; blank lines and `#` comments are skipped,
/// so an `authorized_keys` file or a `.pub` file works.
pub fn recipients_from_file(
    path: &Path,
) -> Result<Vec<Box<dyn age::Recipient + Send>>, BundleError> {
    let text = read_small(path)?;
    let recipients = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_recipient)
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err(BundleError::NoRecipients {
            path: path.to_path_buf(),
        });
    }
    Ok(recipients)
}

/// An age identity file (`AGE-SECRET-KEY-1...` lines) or an unencrypted SSH private key.
pub fn identities_from_file(path: &Path) -> Result<Key, BundleError> {
    let data = crate::files::read_capped(path, crate::files::SMALL_LIMIT).map_err(|source| {
        BundleError::Read {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let bad = |detail: String| BundleError::BadIdentity {
        path: path.to_path_buf(),
        detail,
    };
    let identities: Vec<Box<dyn age::Identity>> = if data.starts_with(b"-----BEGIN") {
        match age::ssh::Identity::from_buffer(&data[..], Some(path.display().to_string()))
            .map_err(|e| bad(e.to_string()))?
        {
            age::ssh::Identity::Unencrypted(key) => {
                vec![Box::new(age::ssh::Identity::Unencrypted(key))]
            }
            age::ssh::Identity::Encrypted(_) => {
                return Err(bad(
                    "the SSH key is protected by a passphrase, which mcpauth cannot ask for; \
                     use an age key (age-keygen) or an SSH key without one"
                        .into(),
                ));
            }
            age::ssh::Identity::Unsupported(_) => {
                return Err(bad("this kind of SSH key is not supported".into()));
            }
        }
    } else {
        age::IdentityFile::from_buffer(std::io::BufReader::new(&data[..]))
            .and_then(|f| {
                f.into_identities()
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .map_err(|e| bad(e.to_string()))?
    };
    if identities.is_empty() {
        return Err(bad("it holds no key".into()));
    }
    Ok(Key::Identities {
        path: path.to_path_buf(),
        identities,
    })
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::store::{
        ClientOrigin, ClientRecord, GrantKey, GrantRecord, GrantSecrets, StoreKind,
    };
    use proptest::prelude::*;

    fn sample(alias: &str, scopes: Vec<String>) -> Bundle {
        let key = GrantKey {
            resource: "https://mcp.example.com/mcp".into(),
            issuer: "https://as.example.com".into(),
            client_id: "c1".into(),
            account: None,
        };
        Bundle::new(vec![BundledGrant {
            grant: GrantRecord {
                id: key.id(),
                key,
                aliases: vec![alias.to_owned()],
                server_url: None,
                send_resource: true,
                scope_on_refresh: false,
                store: StoreKind::Memory,
                token_endpoint: "https://as.example.com/token".into(),
                revocation_endpoint: None,
                auth_method: "none".into(),
                scopes,
                extra_params: Default::default(),
                expires_at_ms: Some(1),
                obtained_at_ms: 0,
                refreshed_at_ms: None,
                has_refresh_token: true,
                needs_login: false,
                client_credentials: false,
                workload: None,
                identity_provider: None,
                through_idp: None,
                dpop: false,
            },
            secrets: GrantSecrets {
                access_token: Secret::new("at"),
                refresh_token: Some(Secret::new("rt")),
                id_token: None,
                dpop_key: None,
                expires_at_ms: Some(1),
            },
            client: ClientRecord {
                issuer: "https://as.example.com".into(),
                client_id: "c1".into(),
                auth_method: "none".into(),
                origin: ClientOrigin::Dynamic,
                redirect_uris: vec![],
                has_secret: false,
                store: StoreKind::Memory,
                registered_at: 0,
                secret_expires_at: None,
            },
            client_secret: None,
        }])
    }

    fn identity() -> (age::x25519::Identity, Key) {
        let id = age::x25519::Identity::generate();
        let key = Key::Identities {
            path: "test".into(),
            identities: vec![Box::new(id.clone())],
        };
        (id, key)
    }

    fn sealed(bundle: &Bundle, id: &age::x25519::Identity) -> Vec<u8> {
        let mut out = Vec::new();
        seal(
            bundle,
            &Lock::Recipients(vec![Box::new(id.to_public())]),
            &mut out,
        )
        .unwrap();
        out
    }

    fn same(a: &Bundle, b: &Bundle) -> bool {
        serde_json::to_value(a).unwrap() == serde_json::to_value(b).unwrap()
    }

    proptest! {
        #![proptest_config(crate::props::config(128))]

        #[test]
        fn any_bytes_are_refused_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            armored in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let (_, key) = identity();
            let _ = needs_passphrase(&bytes);
            prop_assert!(open(&bytes, &key).is_err());
            let mut looks = b"-----BEGIN AGE ENCRYPTED FILE-----\n".to_vec();
            looks.extend_from_slice(&armored);
            let _ = needs_passphrase(&looks);
            prop_assert!(open(&looks, &key).is_err());
            let _ = parse(&bytes);
        }

        #[test]
        fn a_bundle_opens_as_sealed(alias in any::<String>(), scopes in proptest::collection::vec(any::<String>(), 0..4)) {
            let (id, key) = identity();
            let bundle = sample(&alias, scopes);
            let opened = open(&sealed(&bundle, &id), &key).unwrap();
            prop_assert!(same(&opened, &bundle));
        }

        #[test]
        fn a_changed_byte_is_refused_or_changes_nothing(at in any::<usize>(), to in any::<u8>()) {
            let (id, key) = identity();
            let bundle = sample("demo", vec!["read".into()]);
            let mut bytes = sealed(&bundle, &id);
            let at = at % bytes.len();
            bytes[at] = to;
            // Armor may forgive a changed line end; authenticated encryption forgives
            // nothing else.
            if let Ok(opened) = open(&bytes, &key) {
                prop_assert!(same(&opened, &bundle));
            }
        }
    }
}
