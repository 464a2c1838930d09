//! The identity platform's wire contract (Microsoft Entra ID, formerly Azure AD), as the fake
//! serves it and a SCEP gateway calls it: the OAuth 2.0 client-credentials grant at both token
//! endpoints, their answers and their error document.
//!
//! | endpoint | form fields | answer |
//! |---|---|---|
//! | `POST /{tenant}/oauth2/v2.0/token` (v2) | `grant_type=client_credentials`, `client_id`, `client_secret`, `scope=<resource>/.default` | [`TokenAnswerV2`] |
//! | `POST /{tenant}/oauth2/token` (v1) | `grant_type=client_credentials`, `client_id`, `client_secret`, `resource=<resource>` | [`TokenAnswerV1`] |
//!
//! Every refusal is an [`AadError`] (`{"error", "error_description", "error_codes", …}`).
//! A gateway asks for two audiences: Microsoft Graph (service discovery) and the Intune API
//! (SCEP validation); [`Resource`] names them.

use serde::{Deserialize, Serialize};

/// The v2 token path of `tenant`.
pub fn token_v2_path(tenant: &str) -> String {
    format!("/{tenant}/oauth2/v2.0/token")
}

/// The v1 token path of `tenant`.
pub fn token_v1_path(tenant: &str) -> String {
    format!("/{tenant}/oauth2/token")
}

/// The only grant a gateway uses.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A resource (audience) the identity platform issues tokens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// The Intune API, `https://api.manage.microsoft.com/` (SCEP validation).
    Intune,
    /// Microsoft Graph, `https://graph.microsoft.com/` (service discovery).
    Graph,
}

impl Resource {
    /// Both resources.
    pub const ALL: [Resource; 2] = [Resource::Intune, Resource::Graph];

    /// The resource URI, as a v1 `resource` field and a token's `aud` carry it.
    pub fn uri(self) -> &'static str {
        match self {
            Resource::Intune => "https://api.manage.microsoft.com/",
            Resource::Graph => "https://graph.microsoft.com/",
        }
    }

    /// The v2 scope a client asks for: `<resource>/.default`.
    pub fn scope(self) -> String {
        format!("{}.default", self.uri())
    }

    /// The resource a v1 `resource` field names (trailing `/` optional, case-insensitive).
    pub fn from_resource(value: &str) -> Option<Resource> {
        let v = value.trim().trim_end_matches('/');
        Resource::ALL
            .into_iter()
            .find(|r| r.uri().trim_end_matches('/').eq_ignore_ascii_case(v))
    }

    /// The resource a v2 `scope` names: `<resource>/.default`, also with the doubled slash
    /// clients write when they append `/.default` to a URI ending in `/`.
    pub fn from_scope(scope: &str) -> Option<Resource> {
        let s = scope.split_whitespace().next()?;
        let base = s.strip_suffix(".default")?.trim_end_matches('/');
        Resource::from_resource(base)
    }
}

/// The v2 endpoint's answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswerV2 {
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the token lives.
    pub expires_in: u64,
    /// Seconds the token lives in an outage (the same here).
    pub ext_expires_in: u64,
    /// The token.
    pub access_token: String,
}

/// The v1 endpoint's answer: its numbers are strings, as the real v1 endpoint writes them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswerV1 {
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the token lives.
    pub expires_in: String,
    /// Seconds the token lives in an outage.
    pub ext_expires_in: String,
    /// Expiry, Unix seconds (scenario time).
    pub expires_on: String,
    /// Not valid before, Unix seconds (scenario time).
    pub not_before: String,
    /// The resource the token is for.
    pub resource: String,
    /// The token.
    pub access_token: String,
}

/// The OAuth 2.0 error codes the fake answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AadErrorCode {
    /// A required field is missing, or the tenant is unknown.
    InvalidRequest,
    /// The client's secret is wrong (AADSTS7000215).
    InvalidClient,
    /// The application is not registered in the tenant (AADSTS700016).
    UnauthorizedClient,
    /// A grant other than client credentials (AADSTS70003).
    UnsupportedGrantType,
    /// A v2 scope that names no known resource (AADSTS70011).
    InvalidScope,
    /// A v1 resource that is not known (AADSTS500011).
    InvalidResource,
    /// The service failed (a `status` fault).
    ServerError,
    /// The service is busy or down for a while (a `status: 503` fault).
    TemporarilyUnavailable,
}

impl AadErrorCode {
    /// The wire spelling.
    pub fn name(self) -> &'static str {
        match self {
            AadErrorCode::InvalidRequest => "invalid_request",
            AadErrorCode::InvalidClient => "invalid_client",
            AadErrorCode::UnauthorizedClient => "unauthorized_client",
            AadErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            AadErrorCode::InvalidScope => "invalid_scope",
            AadErrorCode::InvalidResource => "invalid_resource",
            AadErrorCode::ServerError => "server_error",
            AadErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The AADSTS number Entra ID puts in `error_codes` for this case.
    pub fn aadsts(self) -> u32 {
        match self {
            AadErrorCode::InvalidRequest => 900_144,
            AadErrorCode::InvalidClient => 7_000_215,
            AadErrorCode::UnauthorizedClient => 700_016,
            AadErrorCode::UnsupportedGrantType => 70_003,
            AadErrorCode::InvalidScope => 70_011,
            AadErrorCode::InvalidResource => 500_011,
            AadErrorCode::ServerError => 90_033,
            AadErrorCode::TemporarilyUnavailable => 90_033,
        }
    }
}

/// Every refusal of the token endpoints.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    /// The OAuth 2.0 error code.
    pub error: AadErrorCode,
    /// `AADSTS<n>: <text>` for people.
    pub error_description: String,
    /// The AADSTS numbers.
    pub error_codes: Vec<u32>,
    /// When (scenario time, `YYYY-MM-DD hh:mm:ssZ`).
    pub timestamp: String,
    /// A GUID per answer (drawn from the seed).
    pub trace_id: String,
    /// A GUID per answer (drawn from the seed).
    pub correlation_id: String,
}

/// The claims of a token the fake issues (its middle part, base64url JSON).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// Audience: the resource URI.
    pub aud: String,
    /// Issuer: `https://sts.windows.net/<tenant>/`.
    pub iss: String,
    /// Tenant GUID.
    pub tid: String,
    /// The client (application) id the token was issued to.
    pub appid: String,
    /// Application roles granted (Intune's `scep_challenge_provider`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issued at, Unix seconds (scenario time).
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// A token id (drawn from the seed).
    pub uti: String,
}

/// The role Intune's SCEP validation API wants in an application token.
pub const SCEP_ROLE: &str = "scep_challenge_provider";

/// The issuer a tenant's tokens name.
pub fn issuer(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_resources_name_the_same_audience() {
        for r in Resource::ALL {
            assert_eq!(Resource::from_scope(&r.scope()), Some(r));
            assert_eq!(Resource::from_resource(r.uri()), Some(r));
        }
        assert_eq!(
            Resource::from_scope("https://api.manage.microsoft.com//.default"),
            Some(Resource::Intune)
        );
        assert_eq!(
            Resource::from_resource("https://graph.microsoft.com"),
            Some(Resource::Graph)
        );
        assert_eq!(Resource::from_scope("https://graph.microsoft.com/"), None);
        assert_eq!(Resource::from_resource("https://example.com/"), None);
    }
}
