//! A company's identity provider (enterprise-managed authorization): which one, and the
//! one sign-in to it that every MCP server the company allows is then exchanged from.
//!
//! The provider comes from `mcpauth idp login --issuer URL`, from `identity-providers.json`
//! in mcpauth's config directory (one file a company can hand out), or from the
//! `MCPAUTH_IDP` variable. Only `idp login` reads them: what it signs in to is stored
//! with the grant, so a proxy that an MCP client starts with a short environment finds
//! the same provider.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::config::{OauthSettings, ServerEntry, Source as ConfigSource, SourceKind, Transport};
use crate::context::{Ctx, env_var};
use crate::error::{Context as _, Error, Result};
use crate::escape::controls;
use crate::grants::Target;
use crate::oauth::discovery;
use crate::oauth::http::check_endpoint;
use crate::secret::Secret;
use crate::store::{GrantKey, GrantRecord, GrantSecrets, IdpSignIn, Index};

use super::{Flow, Metadata, Options, workload};

/// The file of configured identity providers, in mcpauth's config directory.
pub const FILE: &str = "identity-providers.json";

/// Scopes an identity provider sign-in asks for: an ID token, and a refresh token to
/// get the next one without the person.
const DEFAULT_SCOPES: [&str; 2] = ["openid", "offline_access"];

/// One identity provider, as configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    pub issuer: String,
    /// mcpauth's client at the provider; the ID token's audience, which the provider
    /// checks again at each exchange.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub callback_port: Option<u16>,
    /// Where to read ID tokens instead of signing in (`command:...` for a company's own
    /// tool that prints one), written as on the command line.
    #[serde(default, deserialize_with = "source_text")]
    pub id_token: Option<workload::Source>,
}

/// A token source as a person writes it: `file:PATH`, `env:NAME` or `command:CMD`.
fn source_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<workload::Source>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// What `idp login` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub id_token: Option<workload::Source>,
}

/// The configured providers, by name; none when the file does not exist.
fn configured(config_dir: &Path) -> Result<BTreeMap<String, Settings>> {
    let path = config_dir.join(FILE);
    let text = match crate::files::read_string_capped(&path, 1 << 20) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(Error::Io {
                what: format!("cannot read `{}`", path.display()),
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::Other(format!(
            "`{}` is not a map of identity providers (`{{\"NAME\": {{\"issuer\": URL, \"clientId\": ID}}}}`): {}",
            path.display(),
            controls(&e.to_string())
        ))
    })
}

/// The provider `choice` names, with its name: the command line's issuer, a configured
/// name, `MCPAUTH_IDP` (a name or an issuer), else the only configured one.
pub fn settle(ctx: &Ctx, choice: &Choice) -> Result<(String, Settings)> {
    let known = configured(&ctx.home.config_dir)?;
    let named = |name: &str| {
        known.get(name).cloned().ok_or_else(|| {
            let names = known.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>();
            Error::Usage(match names.is_empty() {
                true => format!(
                    "no identity provider is called `{}`: none is configured in `{}`; give --issuer URL",
                    controls(name),
                    ctx.home.config_dir.join(FILE).display()
                ),
                false => format!(
                    "no identity provider is called `{}`; configured: {}",
                    controls(name),
                    names.join(", ")
                ),
            })
        })
    };
    let from_issuer = |issuer: &str, name: Option<&str>| -> Result<(String, Settings)> {
        let url = check_endpoint("identity provider issuer", issuer)?;
        let settings = known
            .values()
            .find(|s| s.issuer == issuer)
            .cloned()
            .unwrap_or(Settings {
                issuer: issuer.to_owned(),
                client_id: env_var("MCPAUTH_IDP_CLIENT_ID"),
                ..Settings::default()
            });
        let name = name
            .map(str::to_owned)
            .or_else(|| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| issuer.to_owned());
        Ok((name, settings))
    };
    let (name, mut settings) = match (&choice.issuer, &choice.name) {
        (Some(issuer), name) => from_issuer(issuer, name.as_deref())?,
        (None, Some(name)) => (name.clone(), named(name)?),
        (None, None) => match env_var("MCPAUTH_IDP").filter(|v| !v.is_empty()) {
            Some(v) if v.starts_with("https://") || v.starts_with("http://") => {
                from_issuer(&v, None)?
            }
            Some(name) => (name.clone(), named(&name)?),
            None if known.len() == 1 => {
                let (name, settings) = known.into_iter().next().expect("one entry");
                (name, settings)
            }
            None => {
                return Err(Error::Usage(format!(
                    "which identity provider? Give --issuer URL or a name{}; a company can configure one in `{}` or with MCPAUTH_IDP",
                    match known.is_empty() {
                        true => String::new(),
                        false => format!(
                            " ({})",
                            known
                                .keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                    ctx.home.config_dir.join(FILE).display()
                )));
            }
        },
    };
    if let Some(id) = &choice.client_id {
        settings.client_id = Some(id.clone());
    }
    if !choice.scopes.is_empty() {
        settings.scopes = Some(choice.scopes.clone());
    }
    if let Some(source) = &choice.id_token {
        settings.id_token = Some(source.clone());
    }
    Ok((name, settings))
}

/// The identity provider as a sign-in target: its issuer stands in for a server, and
/// its requests carry no `resource`.
fn target(name: &str, settings: &Settings) -> Result<Target> {
    let url = check_endpoint("identity provider issuer", &settings.issuer)?;
    let mut scopes = settings
        .scopes
        .clone()
        .unwrap_or_else(|| DEFAULT_SCOPES.map(str::to_owned).to_vec());
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    Ok(Target {
        name: idp_label(name),
        entry: ServerEntry {
            name: idp_label(name),
            source: ConfigSource {
                kind: SourceKind::CommandLine,
                path: Default::default(),
            },
            transport: Transport::Http,
            url: Some(settings.issuer.clone()),
            headers: BTreeMap::new(),
            oauth: OauthSettings {
                client_id: settings.client_id.clone(),
                callback_port: settings.callback_port,
                scopes: Some(scopes),
                resource: Some(false),
                ..OauthSettings::default()
            },
            mcp_remote: None,
        },
        url,
        account: None,
    })
}

/// How an identity provider sign-in is named in messages and `status`, with control
/// characters escaped (the name comes from a file or the command line).
pub fn idp_label(name: &str) -> String {
    format!("idp:{}", controls(name))
}

/// Signs in to the identity provider (or, with an ID token source, checks the source)
/// and stores the sign-in, replacing an earlier one of the same name.
pub async fn log_in(ctx: &Ctx, name: &str, settings: &Settings, opts: &Options) -> Result<()> {
    let target = target(name, settings)?;
    let label = target.name.clone();
    let sign_in = IdpSignIn {
        name: name.to_owned(),
        id_token_source: settings.id_token.clone(),
    };
    let (grant, secrets, client) = match &settings.id_token {
        Some(source) => {
            let id_token = workload::read_jwt(source, "ID token").await?;
            let d = discovery::discover_issuer(ctx.http(), &settings.issuer)
                .await
                .context(|| format!("cannot find out how to reach `{label}`"))?;
            let Some(client_id) = settings.client_id.clone() else {
                return Err(Error::Usage(format!(
                    "an ID token from `{}` is exchanged as mcpauth's client at the provider: give --client-id",
                    controls(&source.to_string())
                )));
            };
            let kind = ctx.blocking(|v| v.default_kind()).await?;
            let key = GrantKey {
                resource: d.resource.clone(),
                issuer: d.issuer.clone(),
                client_id,
                account: None,
            };
            let grant = GrantRecord {
                id: key.id(),
                key,
                aliases: vec![label.clone()],
                server_url: None,
                send_resource: false,
                scope_on_refresh: false,
                store: kind,
                token_endpoint: d.token_endpoint().to_owned(),
                revocation_endpoint: None,
                auth_method: "none".into(),
                scopes: Vec::new(),
                extra_params: BTreeMap::new(),
                expires_at_ms: None,
                obtained_at_ms: ctx.clock.now_ms(),
                refreshed_at_ms: None,
                has_refresh_token: false,
                needs_login: false,
                client_credentials: false,
                workload: None,
                identity_provider: Some(sign_in),
                through_idp: None,
                dpop: false,
            };
            // The source is read again for every exchange; nothing of it is kept.
            drop(id_token);
            let secrets = GrantSecrets {
                access_token: Secret::new(""),
                refresh_token: None,
                id_token: None,
                dpop_key: None,
                expires_at_ms: None,
            };
            (grant, secrets, None)
        }
        None => {
            let opts = Options {
                metadata: Metadata::Issuer(settings.issuer.clone()),
                ..opts.clone()
            };
            if matches!(opts.flow, Flow::ClientCredentials | Flow::Workload(_)) {
                return Err(Error::Usage(
                    "a person signs in to an identity provider: use the browser, --device or --no-browser".into(),
                ));
            }
            let mut obtained = super::obtain(ctx, &target, &opts, &[]).await?;
            let Some(id_token) = obtained.secrets.id_token.clone() else {
                return Err(Error::Other(format!(
                    "`{label}` signed you in but gave no ID token: is `{}` an OpenID provider, and was `openid` asked for?",
                    controls(&settings.issuer)
                )));
            };
            obtained.grant.identity_provider = Some(sign_in);
            obtained.grant.aliases = vec![label.clone()];
            obtained.grant.server_url = None;
            // What matters is the ID token: the sign-in is stale when it is.
            let expiry = super::enterprise::id_token_expiry(&id_token, ctx.clock.now_ms());
            obtained.grant.expires_at_ms = expiry.or(obtained.grant.expires_at_ms);
            obtained.secrets.expires_at_ms = obtained.grant.expires_at_ms;
            let client = obtained.new_client.then(|| {
                let mut c = obtained.client.clone();
                c.store = obtained.grant.store;
                (c, obtained.client_secret.clone())
            });
            (obtained.grant, obtained.secrets, client)
        }
    };
    // One sign-in per provider name: an earlier one (another client, another issuer)
    // goes, with its keychain entry.
    let index = ctx.blocking(|v| v.index()).await?;
    let earlier: Vec<String> = signed_in(&index)
        .filter(|g| {
            g.identity_provider.as_ref().is_some_and(|i| i.name == name) && g.id != grant.id
        })
        .map(|g| g.id.clone())
        .collect();
    if let Some((client, secret)) = client {
        ctx.blocking(move |v| v.save_client(client, secret.as_ref()))
            .await
            .context(|| "cannot store the client registration".to_owned())?;
    }
    let saved = ctx
        .blocking(move |v| v.save_grant(grant, &secrets))
        .await
        .context(|| format!("signed in to `{label}` but cannot store the sign-in"))?;
    // The grants exchanged from it go on, from the new one.
    if !earlier.is_empty() {
        let (gone, now) = (earlier.clone(), saved.id.clone());
        ctx.blocking(move |v| {
            v.update_index(|index| {
                for g in &mut index.grants {
                    if g.through_idp.as_ref().is_some_and(|id| gone.contains(id)) {
                        g.through_idp = Some(now.clone());
                    }
                }
            })
        })
        .await?;
    }
    for id in earlier {
        ctx.blocking(move |v| v.remove_grant(&id)).await?;
    }
    match &saved.identity_provider {
        Some(IdpSignIn {
            id_token_source: Some(source),
            ..
        }) => eprintln!(
            "Signed in to `{label}` with ID tokens from `{}`, read again for every exchange. \
             `mcpauth login SERVER` now signs in to the servers your company allows without a browser.",
            controls(&source.to_string())
        ),
        _ => eprintln!(
            "Signed in to `{label}` through `{}`. `mcpauth login SERVER` now signs in to the \
             servers your company allows without a browser.",
            controls(&saved.key.issuer)
        ),
    }
    Ok(())
}

/// Every identity provider sign-in.
pub fn signed_in(index: &Index) -> impl Iterator<Item = &GrantRecord> {
    index
        .grants
        .iter()
        .filter(|g| g.identity_provider.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_providers_file_is_read_by_name_and_a_bad_one_is_said_plainly() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            configured(dir.path()).unwrap().is_empty(),
            "no file is no provider"
        );

        std::fs::write(
            dir.path().join(FILE),
            r#"{"acme": {"issuer": "https://login.acme.example", "clientId": "mcpauth",
                "idToken": "command:acme-sso print-id-token"}}"#,
        )
        .unwrap();
        let known = configured(dir.path()).unwrap();
        let acme = &known["acme"];
        assert_eq!(acme.issuer, "https://login.acme.example");
        assert_eq!(acme.client_id.as_deref(), Some("mcpauth"));
        assert_eq!(
            acme.id_token,
            Some(workload::Source::Command("acme-sso print-id-token".into()))
        );

        for bad in [
            "not json",
            r#"{"acme": {"issuer": "https://x", "clientSecret": "s3cr3t-value"}}"#,
            r#"["https://x"]"#,
        ] {
            std::fs::write(dir.path().join(FILE), bad).unwrap();
            let e = configured(dir.path()).unwrap_err().to_string();
            assert!(e.contains(FILE) && e.contains("identity providers"), "{e}");
            assert!(!e.contains("s3cr3t-value"), "{e}");
        }
    }
}
