//! SCEP challenges as the fake Intune mints them: opaque tokens, base64 of
//! `version ‖ nonce ‖ AES-256-GCM(id ‖ issued ‖ expires)` under a key only this service holds.
//!
//! Reading a presented challenge fails the way the real service's error codes say: not base64
//! (`ChallengeDecodingError`), not a token's shape (`ChallengeDeserializationError`), not
//! minted under this key (`ChallengeDecryptionError`), issued in the future
//! (`ChallengeInvalidTimestamp`), past its expiry (`ChallengeExpired`).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;

use crate::contract::intune::ScepErrorCode;
use crate::sim::Rng;

const VERSION: u8 = 1;
const NONCE: usize = 12;
const PLAIN: usize = 24;
const TAG: usize = 16;
const TOKEN: usize = 1 + NONCE + PLAIN + TAG;

/// What a token says, once opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Claims {
    /// The challenge record's id.
    pub id: u64,
    /// Issued at, Unix milliseconds of scenario time.
    pub issued_ms: i64,
    /// Expires at, Unix milliseconds of scenario time.
    pub expires_ms: i64,
}

/// Mints and opens tokens under one key.
pub(super) struct Minter {
    cipher: Aes256Gcm,
}

impl Minter {
    /// A minter whose key comes from `rng` (a fork of the scenario seed).
    pub(super) fn new(rng: &mut Rng) -> Minter {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(rng, &mut key);
        Minter {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// The token for `claims`, with a nonce drawn from `rng`.
    pub(super) fn mint(&self, claims: Claims, rng: &mut Rng) -> String {
        let nonce = rng.bytes(NONCE);
        let mut plain = Vec::with_capacity(PLAIN);
        plain.extend_from_slice(&claims.id.to_be_bytes());
        plain.extend_from_slice(&claims.issued_ms.to_be_bytes());
        plain.extend_from_slice(&claims.expires_ms.to_be_bytes());
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .unwrap_or_default();
        let mut token = Vec::with_capacity(TOKEN);
        token.push(VERSION);
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(token)
    }

    /// Opens a presented challenge at scenario time `now_ms`.
    pub(super) fn open(
        &self,
        presented: &str,
        now_ms: i64,
    ) -> Result<Claims, (ScepErrorCode, String)> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(presented.trim())
            .map_err(|e| {
                (
                    ScepErrorCode::ChallengeDecodingError,
                    format!("the challenge is not base64: {e}"),
                )
            })?;
        if bytes.len() != TOKEN || bytes[0] != VERSION {
            return Err((
                ScepErrorCode::ChallengeDeserializationError,
                format!(
                    "the challenge is {} bytes; a challenge of this service is {TOKEN} bytes of version {VERSION}",
                    bytes.len()
                ),
            ));
        }
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&bytes[1..1 + NONCE]), &bytes[1 + NONCE..])
            .map_err(|_| {
                (
                    ScepErrorCode::ChallengeDecryptionError,
                    "the challenge was not issued by this service".to_string(),
                )
            })?;
        let word = |i: usize| -> [u8; 8] {
            let mut w = [0u8; 8];
            w.copy_from_slice(&plain[i * 8..i * 8 + 8]);
            w
        };
        let claims = Claims {
            id: u64::from_be_bytes(word(0)),
            issued_ms: i64::from_be_bytes(word(1)),
            expires_ms: i64::from_be_bytes(word(2)),
        };
        if claims.issued_ms > now_ms {
            return Err((
                ScepErrorCode::ChallengeInvalidTimestamp,
                "the challenge was issued in the future".into(),
            ));
        }
        if now_ms > claims.expires_ms {
            let minutes = (claims.expires_ms.saturating_sub(claims.issued_ms)) / 60_000;
            return Err((
                ScepErrorCode::ChallengeExpired,
                format!("the challenge expired (challengeExpInterval={minutes})"),
            ));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_code() {
        let mut rng = Rng::new(7);
        let minter = Minter::new(&mut rng.fork("key"));
        let claims = Claims {
            id: 42,
            issued_ms: 1_000,
            expires_ms: 61_000,
        };
        let token = minter.mint(claims, &mut rng);
        assert!(token.len() < 100, "fits a challengePassword: {token}");
        assert_eq!(minter.open(&token, 1_000), Ok(claims));
        let code = |t: &str, now| minter.open(t, now).map_err(|e| e.0);
        assert_eq!(code(&token, 61_001), Err(ScepErrorCode::ChallengeExpired));
        assert_eq!(
            code(&token, 999),
            Err(ScepErrorCode::ChallengeInvalidTimestamp)
        );
        assert_eq!(
            code("not base64 !", 0),
            Err(ScepErrorCode::ChallengeDecodingError)
        );
        assert_eq!(
            code("AAAA", 0),
            Err(ScepErrorCode::ChallengeDeserializationError)
        );
        let other = Minter::new(&mut Rng::new(8)).mint(claims, &mut rng);
        assert_eq!(
            code(&other, 1_000),
            Err(ScepErrorCode::ChallengeDecryptionError)
        );
        let mut tampered = base64::engine::general_purpose::STANDARD
            .decode(&token)
            .expect("b64");
        tampered[20] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
        assert_eq!(
            code(&tampered, 1_000),
            Err(ScepErrorCode::ChallengeDecryptionError)
        );
    }
}
