//! What a gateway under test is configured with — its Entra ID application, where the identity
//! platform and Graph are, which CA bundle to trust — and the two ways the harness hands it
//! over to a gateway command it starts: a JSON file and environment variables.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The gateway's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct GatewayConfig {
    /// Tenant GUID.
    pub tenant_id: String,
    /// The gateway's application (client) id.
    pub client_id: String,
    /// Its client secret (`TEST-ONLY-…`).
    pub client_secret: String,
    /// Base URL of the identity platform: tokens at `<login_url>/<tenant>/oauth2/v2.0/token`
    /// (and `/oauth2/token`).
    pub login_url: String,
    /// Base URL of Microsoft Graph: discovery at
    /// `<graph_url>/v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints`.
    pub graph_url: String,
    /// PEM file of the CA that signs the fakes' HTTPS certificates, when they serve HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
}

/// The environment variables a gateway command is started with, and the file they point at.
pub const ENV_CONFIG: &str = "HARNESS_GATEWAY_CONFIG";
/// Tenant GUID.
pub const ENV_TENANT: &str = "HARNESS_TENANT_ID";
/// Application (client) id.
pub const ENV_CLIENT_ID: &str = "HARNESS_CLIENT_ID";
/// Client secret.
pub const ENV_CLIENT_SECRET: &str = "HARNESS_CLIENT_SECRET";
/// Identity platform base URL.
pub const ENV_LOGIN_URL: &str = "HARNESS_LOGIN_URL";
/// Graph base URL.
pub const ENV_GRAPH_URL: &str = "HARNESS_GRAPH_URL";
/// CA bundle path (set only when there is one).
pub const ENV_CA_BUNDLE: &str = "HARNESS_CA_BUNDLE";

impl GatewayConfig {
    /// The variables (name, value) for a command, `file` being where [`GatewayConfig::write`]
    /// put the JSON.
    pub fn env(&self, file: &Path) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (ENV_CONFIG, file.display().to_string()),
            (ENV_TENANT, self.tenant_id.clone()),
            (ENV_CLIENT_ID, self.client_id.clone()),
            (ENV_CLIENT_SECRET, self.client_secret.clone()),
            (ENV_LOGIN_URL, self.login_url.clone()),
            (ENV_GRAPH_URL, self.graph_url.clone()),
        ];
        if let Some(ca) = &self.ca_bundle {
            env.push((ENV_CA_BUNDLE, ca.display().to_string()));
        }
        env
    }

    /// Writes the configuration as pretty JSON to `file`.
    pub fn write(&self, file: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(file, text)
    }
}
