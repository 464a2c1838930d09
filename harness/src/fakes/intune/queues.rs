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

use super::store::{Pending, Store};
use super::Refusal;

/// Hands out up to `max` queued requests that `keep` selects, oldest first; they stay queued
/// until a final result is recorded.
fn hand_out<T: Clone>(queue: &mut [Pending<T>], max: u32, keep: impl Fn(&T) -> bool) -> Vec<T> {
    queue
        .iter_mut()
        .filter(|p| keep(&p.request))
        .take(max as usize)
        .map(|p| {
            p.handouts = p.handouts.saturating_add(1);
            p.request.clone()
        })
        .collect()
}

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
fn judge<R: Uploaded>(
    store: &Store,
    queue: Queue,
    r: &R,
    queued: &HashSet<String>,
    seen: &HashSet<&str>,
    echo_mismatch: Option<String>,
) -> (UploadVerdict, Option<String>) {
    let id = r.id();
    let code = r.error_code().filter(|c| *c != CaRequestErrorCode::None);
    let message = r.error_message().filter(|m| !m.trim().is_empty());
    if !queued.contains(id) {
        (
            UploadVerdict::RefusedUnknown,
            Some(format!("no request `{id}` was ever queued")),
        )
    } else if store.final_results.contains(&(queue, id.to_string())) || seen.contains(id) {
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

impl Store {
    /// `downloadCARequests`.
    pub fn download_pkcs(
        &mut self,
        p: &CaRequestDownloadParameters,
    ) -> Result<Vec<CaRequest>, Refusal> {
        check_max("maxMessages", p.max_messages, MAX_MESSAGES)?;
        let issuer = p.issuer_name.clone();
        let kind = p.request_type.clone();
        Ok(hand_out(&mut self.pkcs, p.max_messages, |r: &CaRequest| {
            kind.as_deref().is_none_or(|k| k == r.request_type)
                && issuer.as_deref().is_none_or(|i| {
                    serde_json::from_str::<PkcsParameters>(&r.parameters)
                        .map(|params| params.ca_name == i)
                        .unwrap_or(true)
                })
        }))
    }

    /// `downloadRevocationRequests`.
    pub fn download_revocations(
        &mut self,
        p: &RevocationDownloadParameters,
    ) -> Result<Vec<RevocationRequest>, Refusal> {
        check_max("maxRequests", p.max_requests, MAX_REQUESTS)?;
        let issuer = p.issuer_name.clone();
        Ok(hand_out(
            &mut self.revocations,
            p.max_requests,
            |r: &RevocationRequest| {
                issuer
                    .as_deref()
                    .is_none_or(|i| r.issuer_name.as_deref() == Some(i))
            },
        ))
    }

    /// `uploadCARequestResults`.
    pub fn upload_pkcs(&mut self, results: Vec<CaRequestResult>) -> Result<(), Refusal> {
        let echoes: Vec<Option<String>> = results
            .iter()
            .map(|r| {
                let queued = self.pkcs.iter().find(|p| p.request.request_id == r.request_id)?;
                let q = &queued.request;
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
        let queued: HashSet<String> = self.queued_pkcs.iter().map(|(id, _)| id.clone()).collect();
        let ids = results.iter().map(|r| r.request_id.clone()).collect();
        self.upload(Queue::Pkcs, &results, &queued, echoes, ids)
    }

    /// `uploadRevocationResults`.
    pub fn upload_revocations(&mut self, results: Vec<RevocationResult>) -> Result<(), Refusal> {
        let queued: HashSet<String> = self
            .queued_revocations
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let echoes = vec![None; results.len()];
        let ids = results.iter().map(|r| r.request_context.clone()).collect();
        self.upload(Queue::Revocation, &results, &queued, echoes, ids)
    }

    fn upload<R: Uploaded>(
        &mut self,
        queue: Queue,
        results: &[R],
        queued: &HashSet<String>,
        echoes: Vec<Option<String>>,
        ids: Vec<String>,
    ) -> Result<(), Refusal> {
        if results.is_empty() {
            return Err(Refusal::bad_request(
                "`results` is empty: upload at least one result",
            ));
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut verdicts = Vec::with_capacity(results.len());
        for (r, echo) in results.iter().zip(echoes) {
            let judged = judge(self, queue, r, queued, &seen, echo);
            seen.insert(r.id());
            verdicts.push(judged);
        }
        let refusal = verdicts
            .iter()
            .find_map(|(v, why)| why.clone().map(|w| (*v, w)));
        for ((r, (verdict, _)), id) in results.iter().zip(&verdicts).zip(ids) {
            let verdict = match (&refusal, verdict.recorded()) {
                (Some(_), true) => UploadVerdict::RefusedWithBatch,
                _ => *verdict,
            };
            let entry = self.ledger.entry((queue, id.clone())).or_default();
            match verdict {
                UploadVerdict::Recorded => entry.recorded = entry.recorded.saturating_add(1),
                UploadVerdict::Requeued => entry.requeued = entry.requeued.saturating_add(1),
                UploadVerdict::RefusedDuplicate => {
                    entry.duplicates = entry.duplicates.saturating_add(1)
                }
                UploadVerdict::RefusedContradictory => {
                    entry.contradictory = entry.contradictory.saturating_add(1)
                }
                UploadVerdict::RefusedUnknown => {
                    self.ledger.remove(&(queue, id.clone()));
                    self.unknown_uploads = self.unknown_uploads.saturating_add(1);
                    if self.unknown_examples.len() < 10 {
                        self.unknown_examples.push(id.clone());
                    }
                }
                UploadVerdict::RefusedWithBatch | UploadVerdict::Faulted => {}
            }
            self.uploads.push(UploadAttempt {
                queue,
                request_id: id.clone(),
                succeeded: r.succeeded(),
                error_code: r.error_code(),
                verdict,
            });
            if verdict == UploadVerdict::Recorded {
                self.final_results.insert((queue, id.clone()));
                match queue {
                    Queue::Pkcs => self.pkcs.retain(|p| p.request.request_id != id),
                    Queue::Revocation => {
                        self.revocations.retain(|p| p.request.request_context != id)
                    }
                }
            }
        }
        match refusal {
            None => Ok(()),
            Some((UploadVerdict::RefusedUnknown, why)) => Err(Refusal::new(404, "NotFound", why)),
            Some((UploadVerdict::RefusedDuplicate, why)) => Err(Refusal::new(409, "Conflict", why)),
            Some((_, why)) => Err(Refusal::bad_request(why)),
        }
    }

    /// Records that a fault answered an upload: nothing was read, nothing kept.
    pub fn upload_faulted(&mut self, queue: Queue) {
        self.uploads.push(UploadAttempt {
            queue,
            request_id: String::new(),
            succeeded: false,
            error_code: None,
            verdict: UploadVerdict::Faulted,
        });
    }
}
