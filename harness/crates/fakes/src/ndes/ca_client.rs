//! NDES's side of the CA: it submits each allowed request to the fake CA over HTTP, as a real
//! NDES submits to its CA, and classifies the answer for the policy module.

use der::Decode;
use x509_cert::Certificate;

use crate::contract::ca::{ca_paths, ErrorBody, IssueRequest, IssueResponse};
use crate::pki::{b64, unb64};
use crate::transport::TransportError;

use super::Core;

/// The CA's answer to an issue request.
pub(super) enum CaAnswer {
    Issued(Box<(IssueResponse, Certificate)>),
    Denied(String),
    Failed(String),
}

/// Asks the CA to issue `csr` with `template`. Reasons name what happened, never an address.
pub(super) async fn issue(core: &Core, template: &str, csr: &[u8]) -> CaAnswer {
    let url = format!(
        "{}{}",
        core.config.ca_url.trim_end_matches('/'),
        ca_paths::ISSUE
    );
    let req = IssueRequest {
        template: template.to_string(),
        csr: b64(csr),
    };
    let timeout = core.config.timeout;
    let resp = match core.http.post(&url).json(&req).send().await {
        Ok(r) => r,
        Err(e) => {
            return CaAnswer::Failed(format!("the CA: {}", TransportError::classify(&e, timeout)))
        }
    };
    let code = resp.status();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return CaAnswer::Failed(format!(
                "the CA's answer: {}",
                TransportError::classify(&e, timeout)
            ))
        }
    };
    if code.is_success() {
        let issued: IssueResponse = match serde_json::from_slice(&body) {
            Ok(i) => i,
            Err(_) => return CaAnswer::Failed("the CA's answer: malformed answer".into()),
        };
        let cert = unb64(&issued.certificate)
            .map_err(|e| e.to_string())
            .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()));
        match cert {
            Ok(c) => CaAnswer::Issued(Box::new((issued, c))),
            Err(e) => CaAnswer::Failed(format!("malformed certificate from the CA: {e}")),
        }
    } else if code.is_client_error() {
        let reason = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => format!("{}: {}", e.error, e.message),
            Err(_) => format!("HTTP {}", code.as_u16()),
        };
        CaAnswer::Denied(reason)
    } else {
        let reason = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => format!("HTTP {}: {}: {}", code.as_u16(), e.error, e.message),
            Err(_) => format!("HTTP {}", code.as_u16()),
        };
        CaAnswer::Failed(reason)
    }
}

/// Whether the CA issued the certificate with `serial` and it is still valid — how NDES
/// accepts the signer of a RenewalReq. `Err` says why not, for the record.
pub(super) async fn still_valid(core: &Core, serial: &str) -> Result<(), String> {
    let url = format!(
        "{}{}/{serial}",
        core.config.ca_url.trim_end_matches('/'),
        ca_paths::STATUS
    );
    let resp = core.http.get(&url).send().await.map_err(|e| {
        format!(
            "the CA: {}",
            TransportError::classify(&e, core.config.timeout)
        )
    })?;
    let code = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| {
        format!(
            "the CA's answer: {}",
            TransportError::classify(&e, core.config.timeout)
        )
    })?;
    match code {
        200 => match serde_json::from_slice::<crate::contract::ca::StatusResponse>(&body) {
            Ok(s) if s.status == "valid" => Ok(()),
            Ok(s) => Err(format!("the signer certificate {serial} is {}", s.status)),
            Err(_) => Err("the CA's status answer: malformed answer".into()),
        },
        404 => Err(format!(
            "the CA never issued a certificate with serial {serial}"
        )),
        other => Err(format!("the CA's status answer: HTTP {other}")),
    }
}
