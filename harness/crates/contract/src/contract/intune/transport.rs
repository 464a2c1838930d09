//! The headers every Intune service call carries, as the reference client sends them, and what
//! the fake requires of them.
//!
//! | header | the fake's rule | when broken |
//! |---|---|---|
//! | `Authorization: Bearer <token>` | present, scheme `Bearer`, token not empty | 401 `Unauthorized` with `WWW-Authenticate: Bearer` |
//! | `client-request-id` | a GUID, fresh per call | 400 `BadRequest` |
//! | `api-version` | the service's version ([`super::Service::api_version`]) | 400 `BadRequest` |
//! | `UserAgent` | recorded, not required | — |
//!
//! `UserAgent` ("provider name and version") is sent by the Java client only; Microsoft's C#
//! client omits it, so a service that required it would refuse Microsoft's own sample.

/// Bearer token header.
pub const AUTHORIZATION: &str = "authorization";
/// Activity id header: a GUID per call, for log correlation.
pub const CLIENT_REQUEST_ID: &str = "client-request-id";
/// Service version header.
pub const API_VERSION: &str = "api-version";
/// Caller's provider name and version (the Java client's spelling).
pub const USER_AGENT: &str = "UserAgent";
/// Header carrying the caller's client-authentication certificate (base64 DER), standing in for
/// TLS client authentication: the legacy policy module presents its SCEP signing certificate
/// to the Certificate Registration Point this way.
pub const CLIENT_CERT: &str = "x-client-certificate";
