//! Who may call the fake Intune, and how the transport of a call is judged: the bearer token
//! (any non-empty one, or — when the service is given the identity platform's
//! [`TokenKeys`] — one that platform issued for the right audience and that has not expired on
//! the scenario clock: the Intune API for the SCEP validation service, Microsoft Graph for
//! discovery), then `client-request-id` and `api-version`.
//!
//! On `ScepRequestValidationFEService` in [`TransportMode::Judge`] a missing or non-GUID
//! `client-request-id` and a missing or wrong `api-version` are recorded as a
//! [`TransportFinding`] and the call is answered as the service would; in
//! [`TransportMode::Strict`] (the default), and on every other service, they are refused with
//! 400, as they always were. A token is never judged: a bad one is 401.

use axum::http::HeaderMap;

use super::http::header;
use super::{Inner, Refusal};
use crate::contract::identity::Resource;
use crate::contract::intune::judged::{TransportFinding, TransportMode, TransportRule};
use crate::contract::intune::{transport, Service};
use crate::sim::format_time;

/// Whether `s` is a GUID in its 8-4-4-4-12 hex form.
pub(super) fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header(headers, transport::AUTHORIZATION)
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
}

fn unauthorized(message: String) -> Refusal {
    Refusal::new(401, "Unauthorized", message)
}

impl Inner {
    /// The bearer token rule for a call to `audience`'s API; `what` names the token in the
    /// refusal.
    pub(super) fn check_bearer(
        &self,
        headers: &HeaderMap,
        audience: Resource,
        what: &str,
    ) -> Result<(), Refusal> {
        let Some(token) = bearer(headers) else {
            return Err(unauthorized(format!(
                "send `Authorization: Bearer <token>` (an AAD token for {what})"
            )));
        };
        let Some(keys) = &self.tokens else {
            return Ok(());
        };
        let now = self.clock.now().unix_timestamp();
        keys.verify(token, audience, now)
            .map(|_| ())
            .map_err(|e| unauthorized(format!("{e}; get a token for {what}")))
    }

    /// The transport rules (see the module documentation); `Ok` carries the activity id.
    pub(super) fn check_transport(
        &self,
        headers: &HeaderMap,
        service: Service,
        path: &str,
    ) -> Result<String, Refusal> {
        if service != Service::CertificateRegistration {
            self.check_bearer(headers, Resource::Intune, "the Intune resource")?;
        }
        let judged =
            service == Service::ScepValidation && self.transport_mode == TransportMode::Judge;
        let id = header(headers, transport::CLIENT_REQUEST_ID);
        let id_rule = match id {
            None => Some(TransportRule::ClientRequestIdMissing),
            Some(v) if !is_guid(v) => Some(TransportRule::ClientRequestIdNotGuid),
            Some(_) => None,
        };
        if let Some(rule) = id_rule {
            if !judged {
                return Err(Refusal::bad_request(format!(
                    "send a `client-request-id` header holding a fresh GUID per call (got `{}`)",
                    id.unwrap_or_default()
                )));
            }
            self.finding(path, rule, id);
        }
        if let Some(want) = service.api_version() {
            let got = header(headers, transport::API_VERSION);
            let rule = match got {
                None => Some(TransportRule::ApiVersionMissing),
                Some(v) if v != want => Some(TransportRule::ApiVersionWrong),
                Some(_) => None,
            };
            if let Some(rule) = rule {
                if !judged {
                    return Err(Refusal::bad_request(format!(
                        "{} requires the header `api-version: {want}` (got `{}`)",
                        service.name(),
                        got.unwrap_or_default()
                    )));
                }
                self.finding(path, rule, got);
            }
        }
        Ok(id.unwrap_or_default().to_string())
    }

    fn finding(&self, path: &str, rule: TransportRule, got: Option<&str>) {
        let finding = TransportFinding {
            at: format_time(self.clock.now()),
            path: path.chars().take(200).collect(),
            rule,
            got: got.map(|g| g.chars().take(64).collect()),
        };
        self.store().transport_findings.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::is_guid;

    #[test]
    fn guids_in_their_usual_form_only() {
        assert!(is_guid("5f0f8b8e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"));
        assert!(!is_guid("5f0f8b8e1c2d4e3f8a9b0c1d2e3f4a5b"));
        assert!(!is_guid("31B73087838AC0F7136DF156CF0B45B4"));
        assert!(!is_guid(""));
    }
}
