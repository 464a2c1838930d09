//! The PKCS and revocation queues: hand requests out, record what is uploaded for them. An
//! upload is recorded all together or not at all: a result for an id never queued, for a
//! request that already has its final result, or one that contradicts itself refuses the whole
//! upload, and every attempt lands in the ledger the exactly-once check reads.

use std::collections::HashSet;

use crate::contract::intune::admin::{Queue, UploadAttempt, UploadVerdict};
use crate::contract::intune::pkcs::{
    CaRequest, CaRequestDownloadParameters, CaRequestResult, PkcsParameters, MAX_MESSAGES,
};
use crate::contract::intune::revocation::{
    RevocationDownloadParameters, RevocationRequest, RevocationResult, MAX_REQUESTS,
};
use crate::contract::intune::CaRequestErrorCode;

use super::ledger::RequestQueue;
use super::store::{Bounded, Store};
use super::Refusal;

fn check_max(name: &str, max: u32, limit: u32) -> Result<(), Refusal> {
    if (1..=limit).contains(&max) {
        Ok(())
    } else {
        Err(Refusal::bad_request(format!(
            "{name} {max} is not in 1–{limit}"
        )))
    }
}

/// What the uploads of both queues have in common.
trait Uploaded {
    fn id(&self) -> &str;
    fn succeeded(&self) -> bool;
    fn error_code(&self) -> Option<CaRequestErrorCode>;
    fn error_message(&self) -> Option<&str>;
}

impl Uploaded for CaRequestResult {
    fn id(&self) -> &str {
        &self.request_id
    }
    fn succeeded(&self) -> bool {
        self.succeeded
    }
    fn error_code(&self) -> Option<CaRequestErrorCode> {
        self.error_code
    }
    fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }
}

impl Uploaded for RevocationResult {
    fn id(&self) -> &str {
        &self.request_context
    }
    fn succeeded(&self) -> bool {
        self.succeeded
    }
    fn error_code(&self) -> Option<CaRequestErrorCode> {
        self.error_code
    }
    fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }
}

/// Why a single result is refused, if it is.
fn judge<R: Uploaded, T: Clone>(
    queue: &RequestQueue<T>,
    r: &R,
    seen: &HashSet<&str>,
    echo_mismatch: Option<String>,
) -> (UploadVerdict, Option<String>) {
    let id = r.id();
    let code = r.error_code().filter(|c| *c != CaRequestErrorCode::None);
    let message = r.error_message().filter(|m| !m.trim().is_empty());
    if !queue.was_queued(id) {
        (
            UploadVerdict::RefusedUnknown,
            Some(format!("no request `{id}` was ever queued")),
        )
    } else if queue.is_final(id) || seen.contains(id) {
        (
            UploadVerdict::RefusedDuplicate,
            Some(format!("request `{id}` already has its result")),
        )
    } else if r.succeeded() && (code.is_some() || message.is_some()) {
        (
            UploadVerdict::RefusedContradictory,
            Some(format!(
                "the result for `{id}` says it succeeded but carries an error code or message"
            )),
        )
    } else if let Some(why) = echo_mismatch {
        (UploadVerdict::RefusedContradictory, Some(why))
    } else if !r.succeeded() && code.is_some_and(CaRequestErrorCode::is_retryable) {
        (UploadVerdict::Requeued, None)
    } else {
        (UploadVerdict::Recorded, None)
    }
}

/// Where every upload attempt is noted, beside the queue's own ledger.
struct UploadLog<'a> {
    uploads: &'a mut Bounded<UploadAttempt>,
    unknown_uploads: &'a mut u64,
    unknown_examples: &'a mut Vec<String>,
}

impl Store {
    /// Queues a PKCS request (its id drawn or given by the caller).
    pub(super) fn enqueue_pkcs(&mut self, request: CaRequest) -> Result<(), String> {
        let issuer = serde_json::from_str::<PkcsParameters>(&request.parameters)
            .ok()
            .map(|p| p.ca_name);
        let (id, device) = (request.request_id.clone(), request.device_id.clone());
        self.pkcs.push(&id, &device, request, issuer)
    }

    /// Queues a revocation of `serial`.
    pub(super) fn enqueue_revocation(
        &mut self,
        request: RevocationRequest,
        serial: &str,
    ) -> Result<(), String> {
        let id = request.request_context.clone();
        let issuer = request.issuer_name.clone();
        self.revocations.push(&id, serial, request, issuer)
    }

    /// `downloadCARequests`.
    pub(super) fn download_pkcs(
        &mut self,
        p: &CaRequestDownloadParameters,
    ) -> Result<Vec<CaRequest>, Refusal> {
        check_max("maxMessages", p.max_messages, MAX_MESSAGES)?;
        let issuer = p.issuer_name.as_deref();
        let kind = p.request_type.as_deref();
        Ok(self.pkcs.hand_out(p.max_messages, |w| {
            kind.is_none_or(|k| k == w.request.request_type)
                && issuer.is_none_or(|i| w.issuer.as_deref().is_none_or(|mine| mine == i))
        }))
    }

    /// `downloadRevocationRequests`.
    pub(super) fn download_revocations(
        &mut self,
        p: &RevocationDownloadParameters,
    ) -> Result<Vec<RevocationRequest>, Refusal> {
        check_max("maxRequests", p.max_requests, MAX_REQUESTS)?;
        let issuer = p.issuer_name.as_deref();
        Ok(self.revocations.hand_out(p.max_requests, |w| {
            issuer.is_none_or(|i| w.issuer.as_deref() == Some(i))
        }))
    }

    /// `uploadCARequestResults`.
    pub(super) fn upload_pkcs(&mut self, results: Vec<CaRequestResult>) -> Result<(), Refusal> {
        let echoes: Vec<Option<String>> = results
            .iter()
            .map(|r| {
                let q = self.pkcs.waiting(&r.request_id)?;
                let differs = q.tenant_id != r.tenant_id
                    || q.device_id != r.device_id
                    || q.user_id != r.user_id
                    || q.request_type != r.request_type;
                differs.then(|| {
                    format!(
                        "the result for `{}` does not echo the request's tenantId, deviceId, userId and requestType",
                        r.request_id
                    )
                })
            })
            .collect();
        let Store {
            pkcs,
            uploads,
            unknown_uploads,
            unknown_examples,
            ..
        } = self;
        let log = UploadLog {
            uploads,
            unknown_uploads,
            unknown_examples,
        };
        upload(Queue::Pkcs, pkcs, log, &results, echoes)
    }

    /// `uploadRevocationResults`.
    pub(super) fn upload_revocations(
        &mut self,
        results: Vec<RevocationResult>,
    ) -> Result<(), Refusal> {
        let echoes = vec![None; results.len()];
        let Store {
            revocations,
            uploads,
            unknown_uploads,
            unknown_examples,
            ..
        } = self;
        let log = UploadLog {
            uploads,
            unknown_uploads,
            unknown_examples,
        };
        upload(Queue::Revocation, revocations, log, &results, echoes)
    }

    /// Records that a fault answered an upload: nothing was read, nothing kept.
    pub(super) fn upload_faulted(&mut self, queue: Queue) {
        self.uploads.push(UploadAttempt {
            queue,
            request_id: String::new(),
            succeeded: false,
            error_code: None,
            verdict: UploadVerdict::Faulted,
        });
    }
}

/// Records an upload all together or not at all.
fn upload<R: Uploaded, T: Clone>(
    kind: Queue,
    queue: &mut RequestQueue<T>,
    log: UploadLog<'_>,
    results: &[R],
    echoes: Vec<Option<String>>,
) -> Result<(), Refusal> {
    if results.is_empty() {
        return Err(Refusal::bad_request(
            "`results` is empty: upload at least one result",
        ));
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut verdicts = Vec::with_capacity(results.len());
    for (r, echo) in results.iter().zip(echoes) {
        let judged = judge(queue, r, &seen, echo);
        seen.insert(r.id());
        verdicts.push(judged);
    }
    let refusal = verdicts
        .iter()
        .find_map(|(v, why)| why.clone().map(|w| (*v, w)));
    for (r, (verdict, _)) in results.iter().zip(&verdicts) {
        let id = r.id();
        let verdict = match (&refusal, verdict.recorded()) {
            (Some(_), true) => UploadVerdict::RefusedWithBatch,
            _ => *verdict,
        };
        match verdict {
            UploadVerdict::Recorded => {
                queue.count(id, |c| c.recorded = c.recorded.saturating_add(1))
            }
            UploadVerdict::Requeued => {
                queue.count(id, |c| c.requeued = c.requeued.saturating_add(1))
            }
            UploadVerdict::RefusedDuplicate => {
                queue.count(id, |c| c.duplicates = c.duplicates.saturating_add(1))
            }
            UploadVerdict::RefusedContradictory => {
                queue.count(id, |c| c.contradictory = c.contradictory.saturating_add(1))
            }
            UploadVerdict::RefusedUnknown => {
                *log.unknown_uploads = log.unknown_uploads.saturating_add(1);
                if log.unknown_examples.len() < 10 {
                    log.unknown_examples.push(id.to_string());
                }
            }
            UploadVerdict::RefusedWithBatch | UploadVerdict::Faulted => {}
        }
        log.uploads.push(UploadAttempt {
            queue: kind,
            request_id: id.to_string(),
            succeeded: r.succeeded(),
            error_code: r.error_code(),
            verdict,
        });
        if verdict == UploadVerdict::Recorded {
            queue.finish(id);
        }
    }
    match refusal {
        None => Ok(()),
        Some((UploadVerdict::RefusedUnknown, why)) => Err(Refusal::new(404, "NotFound", why)),
        Some((UploadVerdict::RefusedDuplicate, why)) => Err(Refusal::new(409, "Conflict", why)),
        Some((_, why)) => Err(Refusal::bad_request(why)),
    }
}
