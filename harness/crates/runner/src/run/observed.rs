//! The policy seam as the harness sees it: wraps the connector's policy module and records
//! every request NDES asked about, what the connector decided and how NDES said issuance
//! ended, for the conformance rules (`scep.verify`, `scep.decision`, `scep.notify`).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::check::conformance::{
    EnrollmentRecord, IssueOutcome, NotifiedCertificate, PolicyDecision,
};
use crate::contract::policy::{Decision, Issued, PolicyFuture, PolicyModule};

/// Most enrollments remembered; a scenario stands for far fewer.
const MAX_ENROLLMENTS: usize = 100_000;

/// A policy module that records what passes through it.
pub struct Observed {
    inner: Arc<dyn PolicyModule>,
    log: Mutex<Log>,
}

/// The enrollments, and where each transaction's is.
#[derive(Default)]
struct Log {
    records: Vec<EnrollmentRecord>,
    at: std::collections::HashMap<String, usize>,
}

impl Observed {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn PolicyModule>) -> Arc<Observed> {
        Arc::new(Observed {
            inner,
            log: Mutex::new(Log::default()),
        })
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every enrollment so far, in the order NDES asked about them.
    pub fn enrollments(&self) -> Vec<EnrollmentRecord> {
        self.log().records.clone()
    }

    /// The subject common name of transaction `transaction_id`'s request, if NDES asked about it.
    pub fn subject_of(&self, transaction_id: &str) -> Option<String> {
        let log = self.log();
        let i = *log.at.get(transaction_id)?;
        log.records.get(i).and_then(|e| e.subject_cn.clone())
    }

    fn entry(&self, transaction_id: &str, csr_der: &[u8]) -> Option<usize> {
        let mut log = self.log();
        if let Some(i) = log.at.get(transaction_id) {
            return Some(*i);
        }
        if log.records.len() >= MAX_ENROLLMENTS {
            return None;
        }
        let i = log.records.len();
        log.at.insert(transaction_id.to_string(), i);
        log.records.push(EnrollmentRecord {
            transaction_id: transaction_id.to_string(),
            subject_cn: crate::pki::read_csr(csr_der)
                .ok()
                .and_then(|c| c.common_name),
            decision: None,
            outcome: None,
            issued: None,
        });
        Some(i)
    }
}

impl PolicyModule for Observed {
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision> {
        Box::pin(async move {
            let at = self.entry(transaction_id, csr_der);
            let decision = self.inner.verify(transaction_id, csr_der).await;
            if let Some(i) = at {
                if let Some(e) = self.log().records.get_mut(i) {
                    e.decision = Some(match decision {
                        Decision::Issue { .. } => PolicyDecision::Issue,
                        Decision::Refuse { .. } => PolicyDecision::Refuse,
                    });
                }
            }
            decision
        })
    }

    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()> {
        Box::pin(async move {
            if let Some(i) = self.entry(transaction_id, csr_der) {
                if let Some(e) = self.log().records.get_mut(i) {
                    let (name, issued) = match &outcome {
                        Issued::Issued {
                            thumbprint,
                            serial_number,
                            ..
                        } => (
                            IssueOutcome::Issued,
                            Some(NotifiedCertificate {
                                thumbprint: thumbprint.clone(),
                                serial_number: serial_number.clone(),
                            }),
                        ),
                        Issued::CaDenied { .. } => (IssueOutcome::CaDenied, None),
                        Issued::CaFailed { .. } => (IssueOutcome::CaFailed, None),
                    };
                    e.outcome = Some(name);
                    e.issued = issued;
                }
            }
            self.inner.notify(transaction_id, csr_der, outcome).await
        })
    }
}
