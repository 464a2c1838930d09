//! The fake Intune's one store: the two queues and what was uploaded for each request, the
//! challenges it minted, the SCEP transactions it validated, and a bounded history of calls.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::contract::intune::admin::{CallRecord, LedgerEntry, Queue, UploadAttempt};
use crate::contract::intune::pkcs::CaRequest;
use crate::contract::intune::revocation::RevocationRequest;
use crate::sim::Rng;

use super::profile::ScepProfile;

/// A history that keeps the most recent `cap` entries and counts the rest.
#[derive(Debug)]
pub(super) struct Bounded<T> {
    items: VecDeque<T>,
    cap: usize,
    pub dropped: u64,
}

impl<T: Clone> Bounded<T> {
    pub fn new(cap: usize) -> Bounded<T> {
        Bounded {
            items: VecDeque::new(),
            cap,
            dropped: 0,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() >= self.cap {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(item);
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

/// A queued request and how often it was handed out.
pub(super) struct Pending<T> {
    pub request: T,
    pub handouts: u32,
}

/// One queued request's upload ledger.
#[derive(Clone, Debug, Default)]
pub(super) struct Ledger {
    pub recorded: u32,
    pub requeued: u32,
    pub duplicates: u32,
    pub contradictory: u32,
}

/// A minted challenge.
pub(super) struct ChallengeRecord {
    pub device: String,
    pub user: String,
    pub profile: String,
    pub used: bool,
}

/// A SCEP transaction Intune validated.
pub(super) struct Transaction {
    pub notified: bool,
}

/// Bounds on what the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    /// Calls kept in the call history.
    pub calls: usize,
    /// Upload attempts kept.
    pub uploads: usize,
    /// Challenges kept (the oldest are forgotten first).
    pub challenges: usize,
    /// Validated transactions kept.
    pub transactions: usize,
}

impl Default for History {
    fn default() -> History {
        History {
            calls: 1_000,
            uploads: 10_000,
            challenges: 100_000,
            transactions: 100_000,
        }
    }
}

pub(super) struct Store {
    pub tenant_id: String,
    pub request_ids: Rng,
    pub contexts: Rng,
    pub challenge_rng: Rng,
    pub serials: Rng,
    pub pkcs: Vec<Pending<CaRequest>>,
    pub revocations: Vec<Pending<RevocationRequest>>,
    pub queued_pkcs: Vec<(String, String)>,
    pub queued_revocations: Vec<(String, String)>,
    pub ledger: HashMap<(Queue, String), Ledger>,
    pub final_results: HashSet<(Queue, String)>,
    pub unknown_uploads: u64,
    pub unknown_examples: Vec<String>,
    pub uploads: Bounded<UploadAttempt>,
    pub challenges: HashMap<u64, ChallengeRecord>,
    pub challenge_order: VecDeque<u64>,
    pub next_challenge: u64,
    pub transactions: HashMap<String, Transaction>,
    pub transaction_order: VecDeque<String>,
    pub notifications: Bounded<(String, String)>,
    pub calls: Bounded<CallRecord>,
    pub profiles: Vec<ScepProfile>,
    pub retired_devices: HashSet<String>,
    pub retired_users: HashSet<String>,
    pub history: History,
}

impl Store {
    pub fn new(
        tenant_id: String,
        rng: &Rng,
        profiles: Vec<ScepProfile>,
        history: History,
    ) -> Store {
        Store {
            tenant_id,
            request_ids: rng.fork("intune.request-ids"),
            contexts: rng.fork("intune.revocation-contexts"),
            challenge_rng: rng.fork("intune.challenges"),
            serials: rng.fork("intune.serials"),
            pkcs: Vec::new(),
            revocations: Vec::new(),
            queued_pkcs: Vec::new(),
            queued_revocations: Vec::new(),
            ledger: HashMap::new(),
            final_results: HashSet::new(),
            unknown_uploads: 0,
            unknown_examples: Vec::new(),
            uploads: Bounded::new(history.uploads),
            challenges: HashMap::new(),
            challenge_order: VecDeque::new(),
            next_challenge: 1,
            transactions: HashMap::new(),
            transaction_order: VecDeque::new(),
            notifications: Bounded::new(history.uploads),
            calls: Bounded::new(history.calls),
            profiles,
            retired_devices: HashSet::new(),
            retired_users: HashSet::new(),
            history,
        }
    }

    /// Keeps a challenge, forgetting the oldest beyond the bound.
    pub fn keep_challenge(&mut self, id: u64, record: ChallengeRecord) {
        self.challenges.insert(id, record);
        self.challenge_order.push_back(id);
        while self.challenge_order.len() > self.history.challenges {
            if let Some(old) = self.challenge_order.pop_front() {
                self.challenges.remove(&old);
            }
        }
    }

    /// Keeps a validated transaction, forgetting the oldest beyond the bound.
    pub fn keep_transaction(&mut self, id: String) {
        if self
            .transactions
            .insert(id.clone(), Transaction { notified: false })
            .is_none()
        {
            self.transaction_order.push_back(id);
        }
        while self.transaction_order.len() > self.history.transactions {
            if let Some(old) = self.transaction_order.pop_front() {
                self.transactions.remove(&old);
            }
        }
    }

    /// The ledger in queue order.
    pub fn ledger_entries(&self) -> Vec<LedgerEntry> {
        let pending_pkcs: HashSet<&str> = self
            .pkcs
            .iter()
            .map(|p| p.request.request_id.as_str())
            .collect();
        let pending_rev: HashSet<&str> = self
            .revocations
            .iter()
            .map(|p| p.request.request_context.as_str())
            .collect();
        let entry = |queue: Queue, id: &str, pending: bool| {
            let l = self
                .ledger
                .get(&(queue, id.to_string()))
                .cloned()
                .unwrap_or_default();
            LedgerEntry {
                queue,
                request_id: id.to_string(),
                recorded: l.recorded,
                requeued: l.requeued,
                duplicates: l.duplicates,
                contradictory: l.contradictory,
                pending,
            }
        };
        self.queued_pkcs
            .iter()
            .map(|(id, _)| entry(Queue::Pkcs, id, pending_pkcs.contains(id.as_str())))
            .chain(
                self.queued_revocations
                    .iter()
                    .map(|(id, _)| entry(Queue::Revocation, id, pending_rev.contains(id.as_str()))),
            )
            .collect()
    }
}
