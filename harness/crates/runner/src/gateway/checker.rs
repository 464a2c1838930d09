//! The gateway checker: judges what the fake Intune recorded of the gateway's `ScepActions`
//! calls ([`ScepCall`], in arrival order) against what each device received, rule by rule
//! ([`GatewayRule`]). A call belongs to a device when it carries the device's request
//! (`certificateRequest`) or its SCEP transactionID. The verdict reads only recorded order and
//! contents, never wall time, so the same run gives the same findings.

use std::collections::BTreeMap;

use super::devices::{DeviceResult, Received};
use super::finding::{GatewayFinding, GatewayRule};
use crate::contract::intune::judged::{ScepCall, ScepOp};

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn hex_of(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase()
        .trim_start_matches('0')
        .to_string()
}

fn accepted(c: &ScepCall) -> bool {
    (200..300).contains(&c.status) && c.code.as_deref() == Some("Success")
}

/// The expiry a notification names, as Unix seconds (ISO 8601 with any offset and any number of
/// fraction digits).
fn expiry_secs(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Every finding for `devices` given Intune's record `calls`, in device order, then rule order.
pub fn check(calls: &[ScepCall], devices: &[DeviceResult]) -> Vec<GatewayFinding> {
    let mut out = Vec::new();
    for d in devices {
        device_rules(calls, d, &mut out);
    }
    request_id_rules(calls, devices, &mut out);
    out
}

fn owner<'a>(c: &ScepCall, devices: &'a [DeviceResult]) -> Option<&'a DeviceResult> {
    devices.iter().find(|d| {
        c.request_thumbprint.as_deref() == Some(d.csr_thumbprint.as_str())
            || c.transaction_id.as_deref() == Some(d.transaction_id.as_str())
    })
}

fn device_rules(calls: &[ScepCall], d: &DeviceResult, out: &mut Vec<GatewayFinding>) {
    let mut find = |rule, detail: String| {
        out.push(GatewayFinding {
            rule,
            device: d.plan.device.clone(),
            detail,
        })
    };
    let mine: Vec<&ScepCall> = calls
        .iter()
        .filter(|c| {
            c.request_thumbprint.as_deref() == Some(d.csr_thumbprint.as_str())
                || c.transaction_id.as_deref() == Some(d.transaction_id.as_str())
        })
        .collect();
    for c in &mine {
        if c.transaction_id.as_deref() != Some(d.transaction_id.as_str()) {
            find(
                GatewayRule::TransactionIdNotScep,
                format!(
                    "{:?} #{} carried transactionId `{}`; the request's SCEP transactionID is `{}`",
                    c.op,
                    c.seq,
                    c.transaction_id.as_deref().unwrap_or_default(),
                    d.transaction_id
                ),
            );
            break;
        }
    }
    let by = |op| mine.iter().copied().filter(move |c| c.op == op);
    let validated_before =
        |seq: u64| by(ScepOp::ValidateRequest).any(|c| c.seq < seq && accepted(c));
    let validated_ever = by(ScepOp::ValidateRequest).any(accepted);
    for f in by(ScepOp::FailureNotification) {
        if !validated_before(f.seq) {
            find(
                GatewayRule::FailureNotificationAfterRefusal,
                format!(
                    "failureNotification #{} for a request that did not pass validation",
                    f.seq
                ),
            );
        }
        if f.h_result == Some(0) {
            find(
                GatewayRule::FailureNotificationZeroHResult,
                format!("failureNotification #{} has hResult 0", f.seq),
            );
        }
        let len = f
            .error_description
            .as_deref()
            .map_or(0, |s| s.chars().count());
        if !(1..=255).contains(&len) {
            find(
                GatewayRule::FailureNotificationBadDescription,
                format!(
                    "failureNotification #{} has an errorDescription of {len} characters",
                    f.seq
                ),
            );
        }
    }
    if let Some(n) = d.calls_before_issuance {
        if !validated_before(n) && !matches!(d.received, Received::Certificate { .. }) {
            find(
                GatewayRule::IssuedWithoutValidation,
                "the CA issued a certificate before validateRequest answered Success".into(),
            );
        }
    }
    let Received::Certificate {
        thumbprint,
        serial_number,
        not_after,
    } = &d.received
    else {
        return;
    };
    let issued_at = d.calls_before_issuance.unwrap_or(d.calls_before_answer);
    if !validated_before(issued_at.min(d.calls_before_answer)) {
        find(
            GatewayRule::IssuedWithoutValidation,
            if validated_ever {
                "the device got a certificate before validateRequest answered Success".into()
            } else {
                "the device got a certificate; no validateRequest for it answered Success".into()
            },
        );
    }
    let Some(n) = by(ScepOp::SuccessNotification).next_back() else {
        find(
            GatewayRule::CertificateWithoutSuccessNotification,
            format!("certificate {thumbprint} was never notified"),
        );
        return;
    };
    if !(200..300).contains(&n.status) {
        find(
            GatewayRule::CertificateAfterFailedSuccessNotification,
            format!(
                "successNotification #{} failed with HTTP {}",
                n.seq, n.status
            ),
        );
    } else if !accepted(n) {
        find(
            GatewayRule::CertificateAfterRefusedSuccessNotification,
            format!(
                "successNotification #{} was answered `{}`",
                n.seq,
                n.code.as_deref().unwrap_or_default()
            ),
        );
    }
    if n.seq >= d.calls_before_answer {
        find(
            GatewayRule::SuccessNotificationAfterCertRep,
            format!(
                "successNotification #{} reached Intune after the CertRep",
                n.seq
            ),
        );
    }
    let mut wrong = Vec::new();
    if n.thumbprint.as_deref().map(hex_of) != Some(hex_of(thumbprint)) {
        wrong.push(format!(
            "thumbprint {:?} (issued {thumbprint})",
            n.thumbprint
        ));
    }
    if n.serial_number.as_deref().map(hex_of) != Some(hex_of(serial_number)) {
        wrong.push(format!(
            "serial {:?} (issued {serial_number})",
            n.serial_number
        ));
    }
    if n.expires.as_deref().and_then(expiry_secs) != Some(*not_after) {
        wrong.push(format!(
            "expiry {:?} (issued notAfter {not_after})",
            n.expires
        ));
    }
    if !wrong.is_empty() {
        find(
            GatewayRule::NotificationCertificateMismatch,
            format!("successNotification #{}: {}", n.seq, wrong.join("; ")),
        );
    }
}

fn request_id_rules(calls: &[ScepCall], devices: &[DeviceResult], out: &mut Vec<GatewayFinding>) {
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for c in calls {
        let device = owner(c, devices)
            .map(|d| d.plan.device.clone())
            .unwrap_or_default();
        match c.client_request_id.as_deref() {
            Some(id) if is_guid(id) => {
                if let Some(first) = seen.insert(id, c.seq) {
                    out.push(GatewayFinding {
                        rule: GatewayRule::ClientRequestIdReused,
                        device,
                        detail: format!(
                            "{:?} #{} reused client-request-id {id} of call #{first}",
                            c.op, c.seq
                        ),
                    });
                }
            }
            other => out.push(GatewayFinding {
                rule: GatewayRule::ClientRequestIdNotGuid,
                device,
                detail: format!("{:?} #{} sent client-request-id {other:?}", c.op, c.seq),
            }),
        }
    }
}
