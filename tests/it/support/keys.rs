//! Throwaway key pairs for `private_key_jwt` clients: mcpauth gets the private half in a
//! file, the fake verifies assertions with the public half.

use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

/// A fresh P-256 key pair as (PKCS#8 private key PEM, SPKI public key PEM).
pub fn p256_pair() -> (String, String) {
    use rand::RngCore;
    // A uniformly random 32-byte scalar is a valid key but for a chance of about 2^-128.
    let key = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(k) = p256::SecretKey::from_slice(&bytes) {
            break k;
        }
    };
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .expect("a P-256 key encodes as PKCS#8")
        .to_string();
    let public = key
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("a P-256 public key encodes as SPKI");
    (private, public)
}
