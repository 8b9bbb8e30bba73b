//! API tokens: `rst_<id>_<secret>`, 16 hex digits of public id and 64 of secret from the
//! operating system's randomness. Only the id and an argon2id hash of the secret are stored,
//! so a stolen database yields no usable token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no randomness available for a new token: {0}")]
    Random(String),
    #[error("cannot hash the token: {0}")]
    Hash(String),
}

/// A freshly made token: `token` is shown to the user once and never stored.
pub struct NewToken {
    pub token: String,
    pub token_id: String,
    pub hash: String,
}

fn random_hex(n: usize) -> Result<String, TokenError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(hex::encode(b))
}

pub fn generate() -> Result<NewToken, TokenError> {
    let token_id = random_hex(8)?;
    let secret = random_hex(32)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| TokenError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| TokenError::Hash(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| TokenError::Hash(e.to_string()))?
        .to_string();
    Ok(NewToken {
        token: format!("rst_{token_id}_{secret}"),
        token_id,
        hash,
    })
}

/// The public id and the secret of a well-formed token.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.trim().strip_prefix("rst_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_of(id, 16) && hex_of(secret, 64)).then_some((id, secret))
}

/// A hash no secret matches in practice, made once per process from fresh randomness: what an
/// unknown token id is checked against, so that it costs exactly what a wrong secret costs.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        generate()
            .map(|t| t.hash)
            // Without randomness no token can be issued either; a fixed well-formed hash
            // still costs one argon2 run.
            .unwrap_or_else(|_| {
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0Z1hX2hQmWq7m8y1mWq3yZl0mT3gN1u3m6v9y8rj0QI".into()
            })
    })
}

/// Verifies `secret` against the stored hash of its token id, or against a dummy hash when
/// the id is unknown, so that both failures cost one argon2 verification: the time of a
/// refusal says nothing about whether the id exists.
pub fn verify_known_or_dummy(secret: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(h) => verify(secret, h),
        None => {
            let _ = verify(secret, dummy_hash());
            false
        }
    }
}

/// Counts argon2 verifications, for the test that an unknown id costs one.
pub static VERIFICATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether `secret` matches the stored argon2id `hash`; a malformed hash matches nothing.
pub fn verify(secret: &str, hash: &str) -> bool {
    VERIFICATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text: no panic, and only the documented shape is accepted.
        #[test]
        fn split_accepts_only_the_documented_shape(s in ".{0,120}") {
            if let Some((id, secret)) = split(&s) {
                prop_assert_eq!(id.len(), 16);
                prop_assert_eq!(secret.len(), 64);
            }
        }

        /// Every well-formed token splits back into its parts, whatever surrounding spaces.
        #[test]
        fn well_formed_tokens_split(id in "[0-9a-f]{16}", secret in "[0-9a-f]{64}", pad in " {0,3}") {
            let t = format!("{pad}rst_{id}_{secret}{pad}");
            prop_assert_eq!(split(&t), Some((id.as_str(), secret.as_str())));
        }
    }

    #[test]
    fn a_token_verifies_against_its_hash_only() {
        let t = generate().unwrap();
        let (id, secret) = split(&t.token).unwrap();
        assert_eq!(id, t.token_id);
        assert!(t.hash.starts_with("$argon2id$"));
        assert!(!t.hash.contains(secret));
        assert!(verify(secret, &t.hash));
        let other = generate().unwrap();
        let (_, s2) = split(&other.token).unwrap();
        assert!(!verify(s2, &t.hash));
        assert!(!verify(secret, "not a hash"));
        let before = VERIFICATIONS.load(std::sync::atomic::Ordering::Relaxed);
        assert!(!verify_known_or_dummy(secret, None));
        // The dummy hash is made once (one argon2 hashing) and then verified against.
        assert!(VERIFICATIONS.load(std::sync::atomic::Ordering::Relaxed) > before);
        for bad in [
            "",
            "rst_",
            "rst_12_34",
            "bearer x",
            &t.token.replace("rst_", "rsx_"),
        ] {
            assert!(split(bad).is_none(), "{bad}");
        }
    }
}
