//! The device simulator's part in a run: a device fetches NDES's certificates, builds a real
//! PKIOperation (or a deliberately broken one) with the harness's SCEP client, posts it, and
//! the answer is classified for the scenario.

use std::fmt;

use der::Decode;
use x509_cert::Certificate;

use crate::fixtures;
use crate::scenario::model::MessageShape;
use crate::scep::client::{self, malformed, CertRepOutcome, Device, RequestOptions, SentRequest};
use crate::scep::{MessageType, PkiMessage, PkiStatus, RaCerts};

use super::world::World;

/// What a device got from NDES.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrollment {
    /// CertRep SUCCESS with a certificate.
    Issued {
        /// Serial, upper-case hex.
        serial: String,
    },
    /// CertRep FAILURE.
    Rejected {
        /// The failInfo NDES gave.
        fail_info: String,
    },
    /// No CertRep: an HTTP error, a timeout, or an answer the client could not read.
    Error {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Enrollment::Issued { serial } => write!(f, "a certificate (serial {serial})"),
            Enrollment::Rejected { fail_info } => write!(f, "a CertRep FAILURE ({fail_info})"),
            Enrollment::Error { reason } => write!(f, "no CertRep ({reason})"),
        }
    }
}

/// An enrollment ready to send: the device, its PKIOperation body, and what the device needs
/// to read the answer. Preparing touches the device's own RNG fork and asks NDES for its
/// certificates; sending touches neither, so enrollments prepared in order may be sent in any.
pub struct Prepared {
    me: Device,
    body: Vec<u8>,
    /// The request as built, for a well-formed message (a broken one cannot be matched to its
    /// answer).
    sent: Option<SentRequest>,
    /// The certificate the answer must be signed by (GetCACert's RA signer).
    signer: Certificate,
}

/// What preparing an enrollment came to: a request to send, or already the outcome (NDES's
/// certificates could not be fetched).
pub enum Ready {
    /// Send it with [`send`].
    Send(Box<Prepared>),
    /// No request: this is the outcome.
    Done(Enrollment),
}

/// Enrolls `device` (the `n`-th enrollment of the run) with the certificate request `request`
/// describes, building its message as `shape` says. `Err` means the harness itself could not
/// build the request.
pub async fn enroll(
    world: &World,
    device: &str,
    n: usize,
    request: &crate::csr::CsrSpec,
    shape: MessageShape,
) -> Result<Enrollment, String> {
    match prepare(world, device, n, request, shape).await? {
        Ready::Send(p) => Ok(send(world, *p).await),
        Ready::Done(outcome) => Ok(outcome),
    }
}

/// Prepares `device`'s enrollment (the `n`-th of the run): its key, CSR and self-signed
/// certificate, NDES's certificates, and the PKIOperation message built as `shape` says.
pub async fn prepare(
    world: &World,
    device: &str,
    n: usize,
    request: &crate::csr::CsrSpec,
    shape: MessageShape,
) -> Result<Ready, String> {
    let mut rng = world.rng.fork(&format!("device/{n}/{device}"));
    let key = fixtures::device_key(n % fixtures::DEVICE_KEYS.len()).map_err(|e| e.to_string())?;
    let csr = request.build(&key).map_err(|e| e.to_string())?;
    let me = Device::self_signed(key, device, &mut rng).map_err(|e| e.to_string())?;
    let url = world.ndes.url();
    let cached = fixtures::ndes_ra().map_err(|e| e.to_string())?;
    let chosen = ca_certs(world, &url).await.and_then(|certs| {
        RaCerts::select_or(certs, &cached).map_err(|e| format!("GetCACert: {e}"))
    });
    let ra = match chosen {
        Ok(ra) => ra,
        // What NDES answered is the device's problem, not the harness's.
        Err(reason) => return Ok(Ready::Done(Enrollment::Error { reason })),
    };
    let ra_encryption = ra.encryption;
    let opts = RequestOptions::default();
    let e = |e: crate::scep::ScepError| e.to_string();
    let (body, sent): (Vec<u8>, Option<SentRequest>) = match shape {
        MessageShape::Valid => {
            let sent =
                client::build_pkcs_req(&me, &csr, &ra_encryption, &opts, &mut rng).map_err(e)?;
            (sent.message.clone(), Some(sent))
        }
        MessageShape::Truncated => {
            let sent =
                client::build_pkcs_req(&me, &csr, &ra_encryption, &opts, &mut rng).map_err(e)?;
            (malformed::truncated(&sent.message), None)
        }
        MessageShape::WrongContentType => (
            malformed::wrong_content_type(&csr, &ra_encryption, &opts, &mut rng).map_err(e)?,
            None,
        ),
        MessageShape::BadSignature => {
            let sent =
                malformed::bad_signature(&me, &csr, &ra_encryption, &opts, &mut rng).map_err(e)?;
            (sent.message.clone(), None)
        }
        MessageShape::OtherRecipient => {
            let other = fixtures::DIGICERT_RA
                .certificate()
                .map_err(|e| e.to_string())?;
            let sent =
                malformed::for_other_recipient(&me, &csr, &other, &opts, &mut rng).map_err(e)?;
            (sent.message.clone(), None)
        }
    };
    Ok(Ready::Send(Box::new(Prepared {
        me,
        body,
        sent,
        signer: ra.signer,
    })))
}

/// Posts a prepared PKIOperation to NDES and classifies the answer.
pub async fn send(world: &World, prepared: Prepared) -> Enrollment {
    let Prepared {
        me,
        body,
        sent,
        signer,
    } = prepared;
    let url = world.ndes.url();
    let answer = world
        .http
        .post(format!("{url}?operation=PKIOperation"))
        .header("content-type", "application/x-pki-message")
        .body(body)
        .send()
        .await;
    let resp = match answer {
        Ok(r) => r,
        Err(err) if err.is_timeout() => {
            return Enrollment::Error {
                reason: "no answer in time".into(),
            }
        }
        Err(_) => {
            return Enrollment::Error {
                reason: "connection failed".into(),
            }
        }
    };
    let status = resp.status().as_u16();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => {
            return Enrollment::Error {
                reason: "answer cut short".into(),
            }
        }
    };
    if status != 200 {
        return Enrollment::Error {
            reason: format!("HTTP {status}"),
        };
    }
    // Reading the answer is RSA work: off the runtime's threads, so that the answers of
    // requests in flight at once are read in parallel.
    tokio::task::spawn_blocking(move || read_answer(&bytes, &me, sent, &signer))
        .await
        .unwrap_or_else(|e| Enrollment::Error {
            reason: format!("reading the answer failed: {e}"),
        })
}

/// Classifies NDES's answer `bytes` to the request `sent` (`None`: a broken one) of `me`.
fn read_answer(
    bytes: &[u8],
    me: &Device,
    sent: Option<SentRequest>,
    signer: &Certificate,
) -> Enrollment {
    match sent {
        Some(sent) => match client::read_cert_rep(bytes, me, &sent, Some(signer)) {
            Ok(CertRepOutcome::Success {
                certificate_der, ..
            }) => match Certificate::from_der(&certificate_der) {
                Ok(cert) => Enrollment::Issued {
                    serial: crate::pki::serial_hex(&cert),
                },
                Err(err) => Enrollment::Error {
                    reason: format!("issued certificate does not parse: {err}"),
                },
            },
            Ok(CertRepOutcome::Failure(fi)) => Enrollment::Rejected {
                fail_info: fi.to_string(),
            },
            Ok(CertRepOutcome::Pending) => Enrollment::Error {
                reason: "PENDING".into(),
            },
            Err(err) => Enrollment::Error {
                reason: format!("unreadable CertRep: {err}"),
            },
        },
        // A broken request cannot be matched to its answer; read the status only.
        None => match PkiMessage::parse(bytes) {
            Ok(m)
                if m.message_type == MessageType::CertRep
                    && m.pki_status == Some(PkiStatus::Failure) =>
            {
                Enrollment::Rejected {
                    fail_info: m.fail_info.map(|f| format!("{f:?}")).unwrap_or_default(),
                }
            }
            Ok(_) => Enrollment::Error {
                reason: "unexpected answer to a broken request".into(),
            },
            Err(err) => Enrollment::Error {
                reason: format!("unreadable answer: {err}"),
            },
        },
    }
}

async fn ca_certs(world: &World, url: &str) -> Result<Vec<Certificate>, String> {
    let resp = world
        .http
        .get(format!("{url}?operation=GetCACert&message=ca"))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "GetCACert: no answer in time".to_string()
            } else {
                "GetCACert: connection failed".to_string()
            }
        })?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("GetCACert: HTTP {status}"));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|_| "GetCACert: answer cut short".to_string())?;
    crate::scep::parse_ca_certs(&bytes).map_err(|e| format!("GetCACert: {e}"))
}
