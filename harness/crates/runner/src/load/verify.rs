//! After the timed part: every answer checked as a device would — the CertRep's signature by
//! the RA signing certificate, transactionID, recipientNonce = our senderNonce, the envelope
//! opened with the device key, and a certificate over the device key. Only what passes counts
//! as an enrollment.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use der::Decode;
use x509_cert::Certificate;

use super::discover::Server;
use super::prepare::{on_every_core, Prepared};
use super::send::Answer;
use super::LoadError;
use crate::pki::serial_hex;
use crate::scep::{read_cert_rep, CertRepOutcome, ScepError};

/// What one answer turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A verified certificate over the device key.
    Enrolled {
        /// Its serial, upper-case hex.
        serial: String,
    },
    /// A verified CertRep FAILURE with this failInfo.
    Refused(String),
    /// A verified CertRep PENDING.
    Pending,
    /// An HTTP status other than 200.
    Http(u16),
    /// No HTTP answer (timeout, connection).
    Transport(&'static str),
    /// A 200 whose body is not a CertRep that answers our request; the category.
    Invalid(&'static str),
}

/// Verdicts counted.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Latency of each verified enrollment.
    pub enrolled_latencies: Vec<Duration>,
    /// How many verified enrollments carried each serial.
    pub serials: HashMap<String, usize>,
    /// CertRep FAILUREs by failInfo.
    pub refused: BTreeMap<String, usize>,
    /// CertRep PENDINGs.
    pub pending: usize,
    /// HTTP errors by status.
    pub http: BTreeMap<u16, usize>,
    /// Transport errors by kind.
    pub transport: BTreeMap<String, usize>,
    /// Unusable answers by category.
    pub invalid: BTreeMap<String, usize>,
    /// The first unusable answer's error, for people.
    pub first_invalid: Option<String>,
}

fn category(e: &ScepError) -> &'static str {
    match e {
        ScepError::BadSignature(_) | ScepError::DigestMismatch => "bad signature",
        ScepError::Mismatch(_) => "does not answer the request",
        ScepError::Decrypt(_) | ScepError::NotForUs { .. } | ScepError::NoEnvelope => {
            "envelope does not open"
        }
        ScepError::MissingAttribute(_) | ScepError::BadAttribute { .. } => "bad SCEP attribute",
        ScepError::Unsupported { .. } => "unsupported algorithm",
        _ => "does not decode",
    }
}

/// The verdict on answer `n`, with the error behind an `Invalid` one.
fn judge(
    server: &Server,
    prepared: &Prepared,
    n: usize,
    answer: &Answer,
) -> (Verdict, Option<String>) {
    let reply = match &answer.result {
        Err(t) => return (Verdict::Transport(t.kind), None),
        Ok(r) if r.status != 200 => return (Verdict::Http(r.status), None),
        Ok(r) => r,
    };
    let item = &prepared.items[n];
    let device = &prepared.signers[item.signer];
    match read_cert_rep(&reply.body, device, &item.sent, Some(&server.ra.signer)) {
        Ok(CertRepOutcome::Success {
            certificate_der, ..
        }) => match Certificate::from_der(&certificate_der) {
            Ok(cert)
                if cert.tbs_certificate.subject_public_key_info
                    == device.cert.tbs_certificate.subject_public_key_info =>
            {
                (
                    Verdict::Enrolled {
                        serial: serial_hex(&cert),
                    },
                    None,
                )
            }
            Ok(_) => (
                Verdict::Invalid("no certificate over the device key"),
                Some(format!(
                    "{}: no certificate over the device key",
                    item.device_id
                )),
            ),
            Err(e) => (
                Verdict::Invalid("does not decode"),
                Some(format!("{}: issued certificate: {e}", item.device_id)),
            ),
        },
        Ok(CertRepOutcome::Failure(fi)) => (Verdict::Refused(fi.to_string()), None),
        Ok(CertRepOutcome::Pending) => (Verdict::Pending, None),
        Err(e) => (
            Verdict::Invalid(category(&e)),
            Some(format!("{}: {e}", item.device_id)),
        ),
    }
}

/// Judges every answer (on every core) and counts the verdicts.
pub fn verify(
    server: &Server,
    prepared: &Prepared,
    answers: &[Answer],
) -> Result<Tally, LoadError> {
    let verdicts = on_every_core(answers.len(), |n| {
        Ok(judge(server, prepared, n, &answers[n]))
    })?;
    let mut t = Tally::default();
    for (n, (verdict, why)) in verdicts.into_iter().enumerate() {
        match verdict {
            Verdict::Enrolled { serial } => {
                t.enrolled_latencies.push(answers[n].latency);
                *t.serials.entry(serial).or_default() += 1;
            }
            Verdict::Refused(fi) => *t.refused.entry(fi).or_default() += 1,
            Verdict::Pending => t.pending += 1,
            Verdict::Http(s) => *t.http.entry(s).or_default() += 1,
            Verdict::Transport(k) => *t.transport.entry(k.to_string()).or_default() += 1,
            Verdict::Invalid(c) => {
                *t.invalid.entry(c.to_string()).or_default() += 1;
                if t.first_invalid.is_none() {
                    t.first_invalid = why;
                }
            }
        }
    }
    Ok(t)
}
