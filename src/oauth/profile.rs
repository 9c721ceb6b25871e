//! What some identity providers need beyond the standard, chosen from the issuer and
//! overridable per server (`oauth.provider`, `oauth.resource`, `oauth.params`).
//!
//! - Microsoft Entra ID refuses the RFC 8707 `resource` parameter beside v2 scopes
//!   (AADSTS9010010), names an API's scopes as `<resource>/.default`, and wants the scope
//!   again on every refresh (AADSTS90014 without it).
//! - Google hands out a refresh token only to an authorization request with
//!   `access_type=offline`, and again only with `prompt=consent`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any authorization server that follows the MCP authorization spec.
    Standard,
    Entra,
    Google,
}

impl Provider {
    /// The provider an issuer belongs to, by its host.
    pub fn for_issuer(issuer: &str) -> Self {
        let host = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        const ENTRA: [&str; 5] = [
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "login.chinacloudapi.cn",
            "login.partner.microsoftonline.cn",
            "sts.windows.net",
        ];
        if ENTRA.contains(&host.as_str()) || host.ends_with(".ciamlogin.com") {
            Provider::Entra
        } else if host == "accounts.google.com" {
            Provider::Google
        } else {
            Provider::Standard
        }
    }

    /// The name a config uses for it (`oauth.provider`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "standard" => Some(Provider::Standard),
            "entra" | "azure" | "microsoft" => Some(Provider::Entra),
            "google" => Some(Provider::Google),
            _ => None,
        }
    }

    /// Whether token and authorization requests carry the RFC 8707 `resource`.
    pub fn sends_resource(self) -> bool {
        self != Provider::Entra
    }

    /// Whether a refresh names the granted scopes again.
    pub fn scope_on_refresh(self) -> bool {
        self == Provider::Entra
    }

    /// Parameters the authorization request needs (the person's own win).
    pub fn authorize_params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Google => &[("access_type", "offline"), ("prompt", "consent")],
            Provider::Standard | Provider::Entra => &[],
        }
    }

    /// Scopes to ask for when neither the person nor the server named any.
    pub fn default_scopes(self, resource: &str) -> Vec<String> {
        match self {
            Provider::Entra => vec![
                format!("{}/.default", resource.trim_end_matches('/')),
                "offline_access".to_owned(),
            ],
            Provider::Standard | Provider::Google => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_told_by_their_issuers_host() {
        for (issuer, provider) in [
            (
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                Provider::Entra,
            ),
            ("https://sts.windows.net/tenant/", Provider::Entra),
            (
                "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0",
                Provider::Entra,
            ),
            ("https://accounts.google.com", Provider::Google),
            ("https://auth.example.com", Provider::Standard),
            (
                "https://login.microsoftonline.com.evil.example",
                Provider::Standard,
            ),
            ("not a url", Provider::Standard),
        ] {
            assert_eq!(Provider::for_issuer(issuer), provider, "{issuer}");
        }
    }

    #[test]
    fn each_provider_gets_what_it_documents() {
        assert!(!Provider::Entra.sends_resource());
        assert!(Provider::Entra.scope_on_refresh());
        assert_eq!(
            Provider::Entra.default_scopes("api://mcp-server/"),
            ["api://mcp-server/.default", "offline_access"]
        );
        assert!(
            Provider::Google
                .authorize_params()
                .contains(&("access_type", "offline"))
        );
        assert!(Provider::Standard.sends_resource());
        assert!(Provider::Standard.authorize_params().is_empty());
    }
}
