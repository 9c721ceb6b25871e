//! DPoP (RFC 9449, MCP SEP-1932): tokens bound to a key pair that never leaves this
//! machine's store, proven with a fresh signed proof on every request that uses them.
//!
//! Each grant gets its own ES256 key when its authorization server advertises
//! `dpop_signing_alg_values_supported`; the private key is kept with the grant's
//! secrets. A proof names the request's method and URL (without query or fragment),
//! when it was made, a unique id, and for a resource request the hash of the access
//! token (`ath`). A server may demand a nonce of its own (`DPoP-Nonce`); the latest one
//! from each origin is remembered for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use sha2::Digest as _;
use url::Url;

use super::OauthError;
use crate::secret::Secret;

/// The only algorithm mcpauth signs proofs with, and the one servers must take.
pub const ALG: &str = "ES256";

/// The header a proof travels in, and the one a server's nonce comes back in.
pub const PROOF_HEADER: &str = "DPoP";
pub const NONCE_HEADER: &str = "DPoP-Nonce";

/// A grant's proof-of-possession key.
#[derive(Clone)]
pub struct DpopKey {
    pem: Secret,
    encoding: Arc<EncodingKey>,
    jwk: Arc<Jwk>,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey(..)")
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    jti: String,
    htm: &'a str,
    htu: String,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

impl DpopKey {
    /// A new P-256 key from the system's random source.
    pub fn generate() -> Result<Self, OauthError> {
        use p256::pkcs8::EncodePrivateKey as _;
        use rand::RngCore as _;
        // A random 32-byte string is a valid scalar but for odds of about 2^-128; the
        // loop is for form's sake and ends by the second turn.
        for _ in 0..4 {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let Ok(key) = p256::SecretKey::from_slice(&bytes) else {
                continue;
            };
            let pem = key
                .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
                .map_err(|e| OauthError::Dpop(format!("cannot encode a new DPoP key: {e}")))?;
            return Self::from_pem(&Secret::new(pem.as_str()));
        }
        Err(OauthError::Dpop("cannot make a DPoP key".into()))
    }

    /// The key kept with a grant.
    pub fn from_pem(pem: &Secret) -> Result<Self, OauthError> {
        let bad = |e: jsonwebtoken::errors::Error| {
            OauthError::Dpop(format!("the grant's DPoP key is unreadable ({e})"))
        };
        let encoding = EncodingKey::from_ec_pem(pem.expose().as_bytes()).map_err(bad)?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(bad)?;
        Ok(Self {
            pem: pem.clone(),
            encoding: Arc::new(encoding),
            jwk: Arc::new(jwk),
        })
    }

    /// The PKCS#8 PEM to keep with the grant.
    pub fn pem(&self) -> &Secret {
        &self.pem
    }

    /// A proof for one request: `method` to `url`, made at `now_secs`, carrying the hash
    /// of `access_token` for a resource request and the server's `nonce` when it has one.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&Secret>,
        nonce: Option<&str>,
        now_secs: i64,
    ) -> Result<Secret, OauthError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some((*self.jwk).clone());
        let mut jti = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut jti);
        let claims = Claims {
            jti: b64(jti),
            htm: method,
            htu: htu(url),
            iat: now_secs,
            ath: access_token.map(|t| b64(sha2::Sha256::digest(t.expose().as_bytes()))),
            nonce,
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map(Secret::new)
            .map_err(|e| OauthError::Dpop(format!("cannot sign a DPoP proof ({e})")))
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A proof's `htu`: the URL without its query and fragment (RFC 9449 §4.2).
pub fn htu(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// Whether a sign-in binds its tokens to a key: the authorization server takes ES256
/// proofs, and the MCP server takes DPoP-bound tokens (its resource metadata names DPoP
/// algorithms or requires bound tokens, or its challenge offers the DPoP scheme). An
/// authorization server alone is not enough: many (oidc-provider by default) offer DPoP
/// to every client, in front of servers that take only bearer tokens.
pub fn wanted(d: &super::discovery::Discovery) -> bool {
    let es256 = |algs: &Option<Vec<String>>| {
        algs.as_ref()
            .is_some_and(|a| a.iter().any(|alg| alg == ALG))
    };
    let server_takes_them = d.resource_metadata.as_ref().is_some_and(|m| {
        es256(&m.dpop_signing_alg_values_supported)
            || m.dpop_bound_access_tokens_required == Some(true)
    }) || d.challenge.as_ref().is_some_and(|c| c.dpop);
    es256(&d.metadata.dpop_signing_alg_values_supported) && server_takes_them
}

/// The latest nonce each origin handed out, for the life of the process. Nonces belong
/// to a server, not to a grant: every grant sending to that origin uses the same one.
fn nonces() -> &'static Mutex<HashMap<String, String>> {
    static NONCES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    NONCES.get_or_init(Default::default)
}

/// The nonce to put in a proof for `url`, if its origin gave one.
pub fn nonce_for(url: &Url) -> Option<String> {
    nonces()
        .lock()
        .expect("nonce lock")
        .get(&url.origin().ascii_serialization())
        .cloned()
}

/// Keeps the nonce an answer from `url` carried. Returns whether it is new.
pub fn remember_nonce(url: &Url, headers: &reqwest::header::HeaderMap) -> bool {
    let Some(nonce) = headers
        .get(NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        // A nonce is a short token (RFC 9449 §8.1): anything else is not kept.
        .filter(|n| !n.is_empty() && n.len() <= 512 && n.bytes().all(|b| b.is_ascii_graphic()))
    else {
        return false;
    };
    let mut map = nonces().lock().expect("nonce lock");
    let origin = url.origin().ascii_serialization();
    if map.get(&origin).map(String::as_str) == Some(nonce) {
        return false;
    }
    map.insert(origin, nonce.to_owned());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_proof_names_the_request_and_shows_only_the_public_key() {
        let key = DpopKey::generate().unwrap();
        let again = DpopKey::from_pem(key.pem()).unwrap();
        let url = Url::parse("https://mcp.example.com/mcp?session=1#frag").unwrap();
        let token = Secret::new("the-access-token");
        let proof = again
            .proof("POST", &url, Some(&token), Some("n-1"), 1_700_000_000)
            .unwrap();
        let header = part(proof.expose(), 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert!(header["jwk"].get("d").is_none(), "{header}");
        let claims = part(proof.expose(), 1);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://mcp.example.com/mcp");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nonce"], "n-1");
        // RFC 9449 §4.2: base64url of the SHA-256 of the token's ASCII.
        assert_eq!(
            claims["ath"],
            b64(sha2::Sha256::digest(b"the-access-token"))
        );
        let other = again
            .proof("POST", &url, None, None, 1_700_000_000)
            .unwrap();
        assert_ne!(part(other.expose(), 1)["jti"], claims["jti"]);
        assert!(part(other.expose(), 1).get("ath").is_none());
        // The same key makes the same public half: a kept key is the same key.
        assert_eq!(part(other.expose(), 0)["jwk"], header["jwk"]);
    }

    #[test]
    fn a_nonce_is_kept_per_origin_and_only_when_it_looks_like_one() {
        let a = Url::parse("http://127.0.0.1:1/one").unwrap();
        let b = Url::parse("http://127.0.0.1:2/two").unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(NONCE_HEADER, "abc".parse().unwrap());
        assert!(remember_nonce(&a, &headers));
        assert!(!remember_nonce(&a, &headers), "the same nonce is not new");
        assert_eq!(nonce_for(&a).as_deref(), Some("abc"));
        assert_eq!(nonce_for(&b), None);
        headers.insert(NONCE_HEADER, "has space".parse().unwrap());
        assert!(!remember_nonce(&b, &headers));
        assert_eq!(nonce_for(&b), None);
    }
}
