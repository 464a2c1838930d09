//! The Intune service's wire contract, as the fake serves it and a connector calls it.
//!
//! Shapes follow Microsoft's public reference client (`microsoft/Intune-Resource-Access`,
//! `src/CsrValidation`, C# and Java): every call is a `POST` of a camelCase JSON body to
//! `<service endpoint>/<url suffix>`, where the endpoint comes from service discovery, with an
//! `Authorization: Bearer` token, a fresh `client-request-id` GUID and the service's
//! `api-version` ([`transport`]). One module per service:
//! - [`scep`]: `ScepRequestValidationFEService` — validate a SCEP request, notify its outcome;
//! - [`revocation`]: `PkiConnectorFEService` — download revocation requests, upload results;
//! - [`pkcs`]: `StatelessPkiConnectorService` — PKCS requests (no public specification: our
//!   model, following the reference client's 2020 draft of the same API);
//! - [`crp`]: the legacy policy module's Certificate Registration Point calls;
//! - [`registration`]: the connector's own registration service (harness extension);
//! - [`admin`]: the harness's controls of the fake (not part of any real service);
//! - [`judged`]: what the fake records of the SCEP validation API's callers (transport
//!   findings in judge mode, every `ScepActions` call).
//!
//! Error answers are OData error documents ([`ODataError`]).

pub mod admin;
pub mod crp;
mod error_code;
pub mod judged;
pub mod pkcs;
pub mod registration;
pub mod revocation;
pub mod scep;
pub mod transport;

use serde::{Deserialize, Serialize};

pub use error_code::{CaRequestErrorCode, ScepErrorCode, UnknownCode};

/// An Intune service, as discovery names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// `ScepRequestValidationFEService` (api-version 2018-02-20).
    ScepValidation,
    /// `PkiConnectorFEService` (api-version 5019-05-05, as the reference client spells it).
    Revocation,
    /// `StatelessPkiConnectorService` (api-version 2018-02-20).
    Pkcs,
    /// `CertificateRegistrationSvc`, the legacy policy module's service (no api-version;
    /// authenticated by a client certificate; harness model).
    CertificateRegistration,
    /// `ConnectorRegistrationService` (api-version 2023-06-01; harness extension).
    ConnectorRegistration,
}

impl Service {
    /// Every service discovery lists.
    pub const ALL: [Service; 5] = [
        Service::ScepValidation,
        Service::Revocation,
        Service::Pkcs,
        Service::CertificateRegistration,
        Service::ConnectorRegistration,
    ];

    /// The service's name in discovery (compared case-insensitively by clients).
    pub fn name(self) -> &'static str {
        match self {
            Service::ScepValidation => "ScepRequestValidationFEService",
            Service::Revocation => "PkiConnectorFEService",
            Service::Pkcs => "StatelessPkiConnectorService",
            Service::CertificateRegistration => "CertificateRegistrationSvc",
            Service::ConnectorRegistration => "ConnectorRegistrationService",
        }
    }

    /// The `api-version` header value the service requires (none for the legacy
    /// Certificate Registration Point).
    pub fn api_version(self) -> Option<&'static str> {
        match self {
            Service::ScepValidation | Service::Pkcs => Some("2018-02-20"),
            Service::Revocation => Some("5019-05-05"),
            Service::CertificateRegistration => None,
            Service::ConnectorRegistration => Some("2023-06-01"),
        }
    }

    /// Looks a service up by name, as clients do (case-insensitively).
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// The path of service discovery on the fake (Microsoft Graph's form): `GET` answers
/// [`Discovery`].
pub const DISCOVERY_PATH: &str =
    "/v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints";

/// Discovery's answer: where each service lives.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// One entry per service.
    pub value: Vec<ServiceEndpoint>,
}

/// One service's endpoint. Graph names it `providerName`, the older AAD Graph `serviceName`;
/// the fake writes both so either kind of client finds it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEndpoint {
    /// Service name (Graph form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// Service name (AAD Graph form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Base URI; calls go to `<uri>/<url suffix>`.
    pub uri: String,
}

impl ServiceEndpoint {
    /// The name under either spelling.
    pub fn name(&self) -> Option<&str> {
        self.provider_name
            .as_deref()
            .or(self.service_name.as_deref())
    }
}

/// Every error answer of the Intune fake: an OData error document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    /// The error.
    pub error: ODataErrorBody,
}

/// The body of an [`ODataError`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ODataErrorBody {
    /// Machine-readable code (`Unauthorized`, `BadRequest`, `Conflict`, …).
    pub code: String,
    /// Text for people.
    pub message: String,
}

impl ODataError {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ODataError {
        ODataError {
            error: ODataErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// An OData answer wrapping one value (`{"@odata.context": …, "value": …}`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ODataValue<T> {
    /// The metadata URL the service adds.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// The value.
    pub value: T,
}
