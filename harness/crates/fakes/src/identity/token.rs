//! The access tokens the fake identity platform issues and the check a resource (the fake
//! Intune) makes of them: JWT-shaped (`header.claims.signature`, each base64url), signed with
//! HMAC-SHA-256 under a key drawn from the scenario seed. The issuer and every resource share
//! one [`TokenKeys`], so a resource can check a token without asking the issuer, as a real
//! resource checks Entra ID's signature with its published keys.
//!
//! A check fails, typed ([`TokenRefusal`]), when the token is not three parts, was not signed
//! with this key, names another tenant or audience, or is not valid at the scenario clock.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::contract::identity::{issuer, Resource, TokenClaims};
use crate::sim::Rng;

/// The longest token the check reads; anything longer is refused unread.
pub const MAX_TOKEN: usize = 8 * 1024;

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256","kid":"harness-test-only"}"#;
const BLOCK: usize = 64;

/// The signing key of one identity platform, shared with the resources that check its tokens.
/// Two are equal when they sign alike (same key, same tenant).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKeys {
    key: Arc<[u8; 32]>,
    tenant: Arc<str>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// No token, or not `header.claims.signature` of base64url JSON.
    #[error("the bearer token is not a token this identity platform issues")]
    Malformed,
    /// Not signed with this platform's key: issued by someone else, or altered.
    #[error("the bearer token was not issued by this tenant's identity platform")]
    UnknownIssuer,
    /// Issued for another tenant.
    #[error("the bearer token is for tenant `{0}`")]
    WrongTenant(String),
    /// Issued for another resource.
    #[error("the bearer token's audience is `{got}`; this API wants `{want}`")]
    WrongAudience {
        /// The token's `aud`.
        got: String,
        /// The audience wanted.
        want: &'static str,
    },
    /// Expired at the scenario clock.
    #[error("the bearer token expired at {0} (Unix seconds, scenario time)")]
    Expired(i64),
    /// Not valid yet at the scenario clock.
    #[error("the bearer token is not valid before {0} (Unix seconds, scenario time)")]
    NotYetValid(i64),
}

fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl TokenKeys {
    /// Keys for `tenant`, drawn from `rng` (a fork of the scenario seed).
    pub fn new(tenant: &str, rng: &mut Rng) -> TokenKeys {
        let mut key = [0u8; 32];
        key.copy_from_slice(&rng.bytes(32));
        TokenKeys {
            key: Arc::new(key),
            tenant: tenant.into(),
        }
    }

    /// The tenant whose tokens these keys sign.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The signed token carrying `claims`.
    pub fn sign(&self, claims: &TokenClaims) -> String {
        let body = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(body)
        );
        let mac = hmac(&self.key, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// Checks `token` for `audience` at `now` (Unix seconds of scenario time).
    pub fn verify(
        &self,
        token: &str,
        audience: Resource,
        now: i64,
    ) -> Result<TokenClaims, TokenRefusal> {
        if token.len() > MAX_TOKEN {
            return Err(TokenRefusal::Malformed);
        }
        let mut parts = token.trim().splitn(3, '.');
        let (Some(header), Some(body), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRefusal::Malformed);
        };
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenRefusal::Malformed)?;
        let signed = &token.trim()[..header.len() + 1 + body.len()];
        if !same(&hmac(&self.key, signed.as_bytes()), &mac) {
            return Err(TokenRefusal::UnknownIssuer);
        }
        let claims: TokenClaims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenRefusal::Malformed)?;
        if claims.tid != *self.tenant || claims.iss != issuer(&self.tenant) {
            return Err(TokenRefusal::WrongTenant(claims.tid));
        }
        if Resource::from_resource(&claims.aud) != Some(audience) {
            return Err(TokenRefusal::WrongAudience {
                got: claims.aud,
                want: audience.uri(),
            });
        }
        if now < claims.nbf {
            return Err(TokenRefusal::NotYetValid(claims.nbf));
        }
        if now >= claims.exp {
            return Err(TokenRefusal::Expired(claims.exp));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: Resource, exp: i64) -> TokenClaims {
        TokenClaims {
            aud: aud.uri().into(),
            iss: issuer("t"),
            tid: "t".into(),
            appid: "app".into(),
            roles: vec![],
            iat: 0,
            nbf: 0,
            exp,
            uti: "u".into(),
        }
    }

    #[test]
    fn a_token_checks_only_under_its_key_audience_and_lifetime() {
        let keys = TokenKeys::new("t", &mut Rng::new(1));
        let other = TokenKeys::new("t", &mut Rng::new(2));
        let token = keys.sign(&claims(Resource::Intune, 100));
        assert!(keys.verify(&token, Resource::Intune, 99).is_ok());
        assert_eq!(
            keys.verify(&token, Resource::Intune, 100),
            Err(TokenRefusal::Expired(100))
        );
        assert!(matches!(
            keys.verify(&token, Resource::Graph, 1),
            Err(TokenRefusal::WrongAudience { .. })
        ));
        assert_eq!(
            other.verify(&token, Resource::Intune, 1),
            Err(TokenRefusal::UnknownIssuer)
        );
        assert_eq!(
            keys.verify("not-a-token", Resource::Intune, 1),
            Err(TokenRefusal::Malformed)
        );
        let mut altered = token.clone();
        altered.insert(token.find('.').unwrap_or(0) + 2, 'A');
        assert!(keys.verify(&altered, Resource::Intune, 1).is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; ours pads the same way (zero-filled block).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac(&key, b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
