//! The audit log's key file and signed tree heads, and whole-log verification: the parts of
//! the audit capability that touch the filesystem.

use rastro_audit::{verify_log, SignedTreeHead, Signer, Tree, VerifyReport};
use rastro_store::{Store, StoreError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit key {path}: {err}")]
    Key { path: String, err: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// Where the node's signing key lives by default: next to the database.
pub fn default_key_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".audit-key");
    PathBuf::from(p)
}

/// Loads the Ed25519 key, creating it on first use in a file only its owner can read (0600).
pub fn load_or_create_key(path: &Path) -> Result<Signer, AuditError> {
    let err = |e: String| AuditError::Key {
        path: path.display().to_string(),
        err: e,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| err("not 32 hex bytes".into()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| err(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(err(format!(
                    "permissions {:o} let others read the key; run chmod 600 on it",
                    mode & 0o777
                )));
            }
        }
        return Ok(Signer::from_seed(seed));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| err(format!("no randomness for a new key: {e}")))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| err(e.to_string()))?;
    writeln!(f, "{}", hex::encode(seed)).map_err(|e| err(e.to_string()))?;
    Ok(Signer::from_seed(seed))
}

/// The Merkle tree over the stored leaf hashes.
pub fn tree(store: &Store) -> Result<Tree, AuditError> {
    Ok(Tree::from_leaves(store.audit_leaf_hashes()?))
}

/// Signs the current tree head, stores it, and returns it.
pub fn sign_head(
    store: &mut Store,
    signer: &Signer,
    now_ms: i64,
) -> Result<SignedTreeHead, AuditError> {
    let t = tree(store)?;
    let root = t
        .root(t.len())
        .ok_or_else(|| AuditError::Invalid("empty tree has no root".into()))?;
    let sth = signer.sign(t.len(), now_ms, &root);
    store.audit_put_head(&sth)?;
    Ok(sth)
}

/// Recomputes the whole log from its stored bytes and checks every stored head, and an
/// earlier head a partner kept when given.
pub fn verify(
    store: &Store,
    earlier: Option<&SignedTreeHead>,
    trusted_key: Option<&str>,
) -> Result<VerifyReport, AuditError> {
    let entries = store.audit_entries()?;
    let heads = store.audit_heads()?;
    Ok(verify_log(&entries, &heads, earlier, trusted_key))
}
