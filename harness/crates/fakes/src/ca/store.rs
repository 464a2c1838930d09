//! The CA's one store: the certificates it issued (with their revocation state), the serials it
//! has handed out, its journal of calls and its CRL counter. The journal and the certificates
//! are bounded: beyond [`super::CaConfig::history`] the oldest are forgotten and counted.

use std::collections::{HashMap, HashSet, VecDeque};

use time::OffsetDateTime;

use crate::contract::ca::CaJournalEntry;

/// A certificate the CA issued, with its revocation state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCert {
    /// Serial, upper-case hex.
    pub serial: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Subject common name.
    pub subject_cn: Option<String>,
    /// Template it was issued from.
    pub template: String,
    /// SHA-256 of the PKCS#10 request it was issued for, upper-case hex: two certificates for
    /// one request mean a caller submitted it twice.
    pub request_digest: String,
    /// Expiry.
    pub not_after: OffsetDateTime,
    /// Whether it has been revoked.
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Revocation reason code.
    pub reason: Option<u8>,
}

pub(super) struct Record {
    pub serial_bytes: Vec<u8>,
    pub cert: IssuedCert,
}

pub(super) struct Store {
    pub issued: VecDeque<Record>,
    /// Serials drawn, including those of certificates still being signed.
    pub serials: HashSet<Vec<u8>>,
    /// Times each request was issued (by the first 8 bytes of its SHA-256), never forgotten:
    /// the serial of its next issuance is drawn after that many, so a serial cannot come
    /// back once the certificate that carried it left the history.
    pub issuances: HashMap<u64, u32>,
    pub journal: VecDeque<CaJournalEntry>,
    pub crl_number: u64,
    /// Most journal entries and certificates kept.
    pub history: usize,
    /// Journal entries forgotten because of the bound.
    pub journal_dropped: u64,
    /// Certificates forgotten because of the bound.
    pub issued_dropped: u64,
}

impl Store {
    pub(super) fn new(history: usize) -> Store {
        Store {
            issued: VecDeque::new(),
            serials: HashSet::new(),
            issuances: HashMap::new(),
            journal: VecDeque::new(),
            crl_number: 0,
            history: history.max(1),
            journal_dropped: 0,
            issued_dropped: 0,
        }
    }

    /// Journals one call, forgetting the oldest beyond the bound.
    pub(super) fn log(&mut self, entry: CaJournalEntry) {
        if self.journal.len() >= self.history {
            self.journal.pop_front();
            self.journal_dropped = self.journal_dropped.saturating_add(1);
        }
        self.journal.push_back(entry);
    }

    /// Keeps an issued certificate, forgetting the oldest beyond the bound (its serial too).
    pub(super) fn keep(&mut self, record: Record) {
        if self.issued.len() >= self.history {
            if let Some(old) = self.issued.pop_front() {
                self.serials.remove(&old.serial_bytes);
            }
            self.issued_dropped = self.issued_dropped.saturating_add(1);
        }
        self.issued.push_back(record);
    }

    pub(super) fn find_mut(&mut self, serial: &str) -> Option<&mut Record> {
        self.issued.iter_mut().find(|r| r.cert.serial == serial)
    }

    pub(super) fn find(&self, serial: &str) -> Option<&Record> {
        self.issued.iter().find(|r| r.cert.serial == serial)
    }
}
