//! The fake Intune's one store: the two queues and what was uploaded for each request (each a
//! [`RequestQueue`]), the challenges it minted, the SCEP transactions it validated, and a
//! bounded history of calls.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::contract::intune::admin::{
    CallRecord, LedgerEntry, Queue, RenewalRecord, UploadAttempt, ValidationRecord,
};
use crate::contract::intune::judged::{ScepCall, TransportFinding};
use crate::contract::intune::pkcs::CaRequest;
use crate::contract::intune::revocation::RevocationRequest;
use crate::sim::Rng;

use super::ledger::RequestQueue;
use super::profile::ScepProfile;

/// A history that keeps the most recent `cap` entries and counts the rest.
#[derive(Debug)]
pub(super) struct Bounded<T> {
    items: VecDeque<T>,
    cap: usize,
    pub dropped: u64,
}

impl<T: Clone> Bounded<T> {
    pub(super) fn new(cap: usize) -> Bounded<T> {
        Bounded {
            items: VecDeque::new(),
            cap,
            dropped: 0,
        }
    }

    pub(super) fn push(&mut self, item: T) {
        if self.items.len() >= self.cap {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(item);
    }

    pub(super) fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
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
    /// Used challenges kept (the longest used are forgotten first; a forgotten one is refused
    /// as no longer known, with the same code as one used twice). A challenge not yet used is
    /// live state, not history: it is kept until [`MAX_LIVE_CHALLENGES`] newer ones are minted.
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

/// Most challenges kept at once, used or not: beyond it the oldest minted is forgotten.
pub(super) const MAX_LIVE_CHALLENGES: usize = 100_000;

pub(super) struct Store {
    pub tenant_id: String,
    pub request_ids: Rng,
    pub contexts: Rng,
    pub challenge_rng: Rng,
    pub serials: Rng,
    pub pkcs: RequestQueue<CaRequest>,
    pub revocations: RequestQueue<RevocationRequest>,
    pub unknown_uploads: u64,
    pub unknown_examples: Vec<String>,
    pub uploads: Bounded<UploadAttempt>,
    pub challenges: HashMap<u64, ChallengeRecord>,
    /// Challenge ids in mint order (ids already forgotten among them until compacted).
    pub challenge_order: VecDeque<u64>,
    /// Used challenge ids in order of use.
    pub used_challenges: VecDeque<u64>,
    pub next_challenge: u64,
    pub transactions: HashMap<String, Transaction>,
    pub transaction_order: VecDeque<String>,
    pub notifications: Bounded<(String, String)>,
    pub validations: Bounded<ValidationRecord>,
    pub renewals: Bounded<RenewalRecord>,
    pub calls: Bounded<CallRecord>,
    pub scep_calls: Bounded<ScepCall>,
    pub next_scep_call: u64,
    pub transport_findings: Bounded<TransportFinding>,
    pub profiles: Vec<ScepProfile>,
    pub retired_devices: HashSet<String>,
    pub retired_users: HashSet<String>,
    pub history: History,
}

impl Store {
    pub(super) fn new(
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
            pkcs: RequestQueue::default(),
            revocations: RequestQueue::default(),
            unknown_uploads: 0,
            unknown_examples: Vec::new(),
            uploads: Bounded::new(history.uploads),
            challenges: HashMap::new(),
            challenge_order: VecDeque::new(),
            used_challenges: VecDeque::new(),
            next_challenge: 1,
            transactions: HashMap::new(),
            transaction_order: VecDeque::new(),
            notifications: Bounded::new(history.uploads),
            validations: Bounded::new(history.uploads),
            renewals: Bounded::new(history.uploads),
            calls: Bounded::new(history.calls),
            scep_calls: Bounded::new(history.calls),
            next_scep_call: 0,
            transport_findings: Bounded::new(history.calls),
            profiles,
            retired_devices: HashSet::new(),
            retired_users: HashSet::new(),
            history,
        }
    }

    /// Keeps a newly minted challenge, forgetting the oldest beyond [`MAX_LIVE_CHALLENGES`].
    pub(super) fn keep_challenge(&mut self, id: u64, record: ChallengeRecord) {
        self.challenges.insert(id, record);
        self.challenge_order.push_back(id);
        while self.challenges.len() > MAX_LIVE_CHALLENGES {
            match self.challenge_order.pop_front() {
                Some(old) => {
                    self.challenges.remove(&old);
                }
                None => break,
            }
        }
        // Ids of challenges forgotten after use stay in the order until compacted here, so
        // the order holds at most about twice what the map does.
        if self.challenge_order.len() > 2 * self.challenges.len() + 1024 {
            let kept = &self.challenges;
            self.challenge_order.retain(|id| kept.contains_key(id));
        }
    }

    /// Marks a challenge used, forgetting the longest-used beyond the history's bound.
    pub(super) fn use_challenge(&mut self, id: u64) {
        let Some(record) = self.challenges.get_mut(&id) else {
            return;
        };
        if record.used {
            return;
        }
        record.used = true;
        self.used_challenges.push_back(id);
        while self.used_challenges.len() > self.history.challenges {
            if let Some(old) = self.used_challenges.pop_front() {
                self.challenges.remove(&old);
            }
        }
    }

    /// Keeps a validated transaction, forgetting the oldest beyond the bound.
    pub(super) fn keep_transaction(&mut self, id: String) {
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

    /// The ledger in queue order: PKCS requests, then revocations.
    pub(super) fn ledger_entries(&self) -> Vec<LedgerEntry> {
        let mut entries = self.pkcs.entries(Queue::Pkcs);
        entries.extend(self.revocations.entries(Queue::Revocation));
        entries
    }
}
