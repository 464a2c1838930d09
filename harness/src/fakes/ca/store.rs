//! The CA's one store: the certificates it issued (with their revocation state), the serials it
//! has handed out, its journal of calls and its CRL counter.

use std::collections::HashSet;

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

#[derive(Default)]
pub(super) struct Store {
    pub issued: Vec<Record>,
    /// Serials drawn, including those of certificates still being signed.
    pub serials: HashSet<Vec<u8>>,
    pub journal: Vec<CaJournalEntry>,
    pub crl_number: u64,
}

impl Store {
    pub fn find_mut(&mut self, serial: &str) -> Option<&mut Record> {
        self.issued.iter_mut().find(|r| r.cert.serial == serial)
    }

    pub fn find(&self, serial: &str) -> Option<&Record> {
        self.issued.iter().find(|r| r.cert.serial == serial)
    }
}
