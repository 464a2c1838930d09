//! The rules of the conformance contract, each with its id, what it requires and where the
//! requirement comes from, and the typed finding a broken rule gives. `docs/conformance.md`
//! is these rules written for people; `tests/it` keeps the two in step.

use std::fmt;

use serde::{Serialize, Serializer};

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The seed's table of events and codes (Microsoft's troubleshooting page).
    Seed,
    /// Microsoft's documentation or reference client.
    MicrosoftDocs,
    /// How the real service behaves (Intune's answers, NDES, the CA).
    RealService,
    /// The harness's own contract: what the checker needs to tie an event to the world, or
    /// what a scenario's author wrote.
    Harness,
}

impl Source {
    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Seed => "the seed's event table",
            Source::MicrosoftDocs => "Microsoft's documentation",
            Source::RealService => "the real service's behaviour",
            Source::Harness => "the harness's contract",
        }
    }
}

macro_rules! rules {
    ($( $variant:ident => $id:literal, $source:ident, $text:literal; )*) => {
        /// One rule of the contract.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $( #[doc = $text] $variant, )*
        }

        impl Rule {
            /// Every rule, in the order `docs/conformance.md` lists them.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The rule's id, as findings and the docs name it.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// Where the rule comes from.
            pub fn source(self) -> Source {
                match self { $(Rule::$variant => Source::$source,)* }
            }

            /// What the rule requires, in one sentence.
            pub fn text(self) -> &'static str {
                match self { $(Rule::$variant => $text,)* }
            }
        }
    };
}

rules! {
    CatalogPair => "catalog.pair", Seed,
        "Every event is one of the catalog's 19 and carries one of the codes the seed allows it (the 48 pairs).";
    CatalogDetail => "catalog.detail", Harness,
        "An event carries only the details the catalog lists for it.";
    CatalogRecord => "catalog.record", Seed,
        "A logged record is readable: a known event id and level, a readable code.";
    DetailRequired => "details.required", Seed,
        "An event carries the details that name what it is about (see the table of required details).";
    DetailValue => "details.value", Harness,
        "A detail with a fixed vocabulary uses it (request_kind, download_state, upload_state), attempts is a whole number from 1, thumbprints are 40 hex digits.";
    LifecycleStart => "lifecycle.start", Seed,
        "Each `start` step writes one StartedConnectorService, and no event comes before the first `start` step.";
    LifecycleStop => "lifecycle.stop", Seed,
        "Each `stop` step writes one StoppedConnectorService, the last event of that step; nothing follows it until the next `start`.";
    RequestKnown => "request.known", RealService,
        "An event's request_id names a request Intune queued, of the kind the event is about.";
    PkcsValues => "pkcs.values", Seed,
        "A PKCS issue event names the request's device, user and template as Intune queued them, and the CA's name.";
    PkcsThumbprint => "pkcs.thumbprint", Seed,
        "PkcsCertIssue_Success's thumbprint is the certificate the CA issued for that request's CSR.";
    RequestOrder => "request.order", Harness,
        "Per PKCS or revocation request: a Download_Success of its kind before any event about it, and its issue or revoke event before its upload event.";
    UploadTruthful => "upload.truthful", RealService,
        "Upload_Success names a result Intune recorded, and every result Intune recorded has an Upload_Success as the last upload event of its request.";
    RevokeValues => "revoke.values", Seed,
        "A revocation event names the serial number Intune asked to revoke under that request, and the CA's name.";
    RevokeTruthful => "revoke.truthful", RealService,
        "RevokeCert_Success only for a serial the CA revoked, and a serial the CA revoked has a RevokeCert_Success.";
    ScepVerify => "scep.verify", Seed,
        "Every SCEP request the policy module was asked about has exactly one verify event (20500/20501/20502) naming its transaction_id, and 20500 only when the request was allowed.";
    ScepDecision => "scep.decision", RealService,
        "The policy module allows a request only when Intune's validation answered Success for it.";
    ScepOrder => "scep.order", Harness,
        "Per SCEP transaction: its verify event before its notify event.";
    ScepNotify => "scep.notify", MicrosoftDocs,
        "After NDES says a request was issued, the connector writes a notify event naming it; 20600 only once Intune accepted the success notification; no success notification otherwise.";
    ScepValues => "scep.values", Seed,
        "A SCEP event's device_id is the device the challenge was minted for or the request's subject; its user_id is the challenge's; a notify event's thumbprint and serial are the issued certificate's.";
    RenewalValues => "registration.renewal", Seed,
        "CertificateRenewal_Success names the certificate Intune issued in the renewal (thumbprint and expiry).";
    ExactlyOnce => "intune.exactly-once", RealService,
        "Every request Intune queued gets one final result: none uploaded twice, none contradicting itself, none for an unknown id, none lost when the scenario expects `drained`; the CA issues once per request.";
    ExpectSequence => "expect.sequence", Harness,
        "The scenario's `expect.sequence` events appear, in order (`reason` matches when it names the expected word).";
    ExpectAbsent => "expect.absent", Harness,
        "The scenario's `expect.absent` events do not appear.";
    Protocol => "protocol", Harness,
        "The connector speaks the connector-under-test protocol (docs/vendor-contract.md): one reply per request, of the request's type, nothing after shutdown_ok.";
    Harness => "harness", Harness,
        "The world could be set up and every step carried out (a failure here is the harness's or the setup's, not the connector's contract).";
    Snapshot => "exact.snapshot", Harness,
        "At the exact level only: the stream is byte-identical to the recorded snapshot.";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One broken rule: which, about which event, what was expected and what came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Where it comes from.
    pub source: Source,
    /// The event it is about, by sequence number (record id in a log), if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// What the contract expected.
    pub expected: String,
    /// What came.
    pub found: String,
}

impl Violation {
    /// A finding of `rule` about event `seq`.
    pub fn new(
        rule: Rule,
        seq: Option<u64>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Violation {
        Violation {
            rule,
            source: rule.source(),
            seq,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] ", self.rule)?;
        if let Some(seq) = self.seq {
            write!(f, "event #{seq}: ")?;
        }
        write!(
            f,
            "expected {}; found {} (rule source: {})",
            self.expected,
            self.found,
            self.source.name()
        )
    }
}
