//! Signed tree heads: an Ed25519 signature over (tree size, timestamp, root hash).

use crate::merkle::Hash;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Domain separation for what Rastro signs, so a signature can never be replayed as another
/// kind of message.
const CONTEXT: &str = "rastro-sth-v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    pub tree_size: u64,
    pub timestamp_ms: i64,
    /// Hex SHA-256 root.
    pub root_hash: String,
    /// Hex Ed25519 public key of the node.
    pub public_key: String,
    /// Hex Ed25519 signature over [`SignedTreeHead::message`].
    pub signature: String,
}

impl SignedTreeHead {
    /// The exact bytes signed.
    pub fn message(tree_size: u64, timestamp_ms: i64, root: &Hash) -> Vec<u8> {
        format!(
            "{CONTEXT}\n{tree_size}\n{timestamp_ms}\n{}\n",
            hex::encode(root)
        )
        .into_bytes()
    }

    pub fn root(&self) -> Option<Hash> {
        hex::decode(&self.root_hash).ok()?.try_into().ok()
    }

    /// Checks the signature with the head's own public key, or with `trusted` when given
    /// (a partner should pin the node's key rather than trust the one in the file).
    pub fn verify_signature(&self, trusted: Option<&str>) -> Result<(), String> {
        let key_hex = trusted.unwrap_or(&self.public_key);
        let key: [u8; 32] = hex::decode(key_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("public key is not 32 hex bytes")?;
        let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("bad public key: {e}"))?;
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("signature is not 64 hex bytes")?;
        let root = self.root().ok_or("root hash is not 32 hex bytes")?;
        key.verify(
            &Self::message(self.tree_size, self.timestamp_ms, &root),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| "signature does not verify".to_string())
    }
}

/// Holds the node's signing key.
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// From a 32-byte secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        Signer {
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, tree_size: u64, timestamp_ms: i64, root: &Hash) -> SignedTreeHead {
        let sig = self
            .key
            .sign(&SignedTreeHead::message(tree_size, timestamp_ms, root));
        SignedTreeHead {
            tree_size,
            timestamp_ms,
            root_hash: hex::encode(root),
            public_key: self.public_key_hex(),
            signature: hex::encode(sig.to_bytes()),
        }
    }
}
