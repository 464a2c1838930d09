//! `explain`: what an event, a diagnostic code, an (event, code) pair, or one of Intune's own
//! codes means, what an administrator of a real server checks, and the scenario that
//! reproduces it.

use harness_runner::catalog::{self, CatalogError, DiagnosticCode, EventId, Pair, Term};
use harness_runner::connector::Cause;
use harness_runner::contract::intune::{CaRequestErrorCode, ScepErrorCode};

use crate::style::bold;

/// What `explain` was asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// An event of the catalog.
    Event(EventId),
    /// A diagnostic code of the catalog.
    Code(DiagnosticCode),
    /// An event with a code it may carry.
    Pair(Pair),
    /// Intune's SCEP validation answer (`ChallengeExpired`).
    Intune(ScepErrorCode),
    /// A request result code a connector uploads to Intune (`ConflictError`, `4005`).
    CaResult(CaRequestErrorCode),
}

/// Why a term cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The term names nothing known.
    #[error("`{0}` is not an event (20102, PkcsCertIssue_Failure), a diagnostic code (0x400, 1024, PKCS_Issue_CA_Unavailable), one of Intune's SCEP validation codes (ChallengeExpired) or a request result code (ConflictError, 4005)")]
    Unknown(String),
    /// Two terms that are not one event and one code.
    #[error("`{0} {1}` is not an event and a diagnostic code: give an event and a code, such as `explain 20502 0x409`")]
    NotEventAndCode(String, String),
    /// The event never carries the code.
    #[error("{event} {name} never carries {code} {code_name}; it carries {allowed}")]
    NotAllowed {
        /// Event id.
        event: u16,
        /// Event name.
        name: &'static str,
        /// The code asked about.
        code: DiagnosticCode,
        /// Its name.
        code_name: &'static str,
        /// The codes it does carry.
        allowed: String,
    },
    /// More than two terms.
    #[error("explain takes one term, or an event and a code (`explain 20502 0x409`); got {0}")]
    TooMany(usize),
}

/// Resolves what a person typed: one term, or an event and a code (in either order).
pub fn resolve(terms: &[String]) -> Result<Subject, ExplainError> {
    match terms {
        [one] => resolve_one(one),
        [a, b] => {
            let pair = match (catalog::lookup(a), catalog::lookup(b)) {
                (Ok(Term::Event(event)), Ok(Term::Code(code)))
                | (Ok(Term::Code(code)), Ok(Term::Event(event))) => Pair { event, code },
                _ => return Err(ExplainError::NotEventAndCode(a.clone(), b.clone())),
            };
            if !pair.is_allowed() {
                let allowed: Vec<String> = pair
                    .event
                    .spec()
                    .codes
                    .iter()
                    .map(|c| format!("{} {}", c.hex(), c.name()))
                    .collect();
                return Err(ExplainError::NotAllowed {
                    event: pair.event.id(),
                    name: pair.event.name(),
                    code: pair.code,
                    code_name: pair.code.name(),
                    allowed: allowed.join(", "),
                });
            }
            Ok(Subject::Pair(pair))
        }
        more => Err(ExplainError::TooMany(more.len())),
    }
}

fn resolve_one(term: &str) -> Result<Subject, ExplainError> {
    match catalog::lookup(term) {
        Ok(Term::Event(e)) => return Ok(Subject::Event(e)),
        Ok(Term::Code(c)) => return Ok(Subject::Code(c)),
        Err(CatalogError::UnknownTerm(_)) | Err(_) => {}
    }
    let t = term.trim();
    if let Some(code) = ScepErrorCode::ALL
        .iter()
        .copied()
        .find(|c| c.name().eq_ignore_ascii_case(t))
    {
        return Ok(Subject::Intune(code));
    }
    t.parse::<CaRequestErrorCode>()
        .map(Subject::CaResult)
        .map_err(|_| ExplainError::Unknown(t.to_string()))
}

/// Explains `terms` (one term, or an event and a code) for a person. A term that also (or
/// only) names an event of profile unified-2021 (`4005`, `ScepVerifyFailure`) gets that too,
/// under its profile's name.
pub fn explain(terms: &[String]) -> Result<String, ExplainError> {
    match (explain_legacy(terms), crate::unified::explain_term(terms)) {
        (Ok(text), Some(u)) => Ok(format!(
            "{text}\n{} also names an event of profile unified-2021 (the 2021+ connector's log):\n\n{u}",
            terms.join(" ")
        )),
        (Err(_), Some(u)) => Ok(u),
        (legacy, None) => legacy,
    }
}

fn explain_legacy(terms: &[String]) -> Result<String, ExplainError> {
    Ok(match resolve(terms)? {
        Subject::Event(e) => explain_event(e),
        Subject::Code(c) => explain_code(c),
        Subject::Pair(p) => explain_pair(p),
        Subject::Intune(c) => explain_intune(c),
        Subject::CaResult(c) => explain_ca_result(c),
    })
}

/// The scenario in which the fake Intune gives this answer because of what the device sent or
/// how the world changed (not a fault), and whose expectations demand it (`reason: <code>`).
pub fn intune_scenario(code: ScepErrorCode) -> Option<&'static str> {
    use ScepErrorCode as E;
    Some(match code {
        E::Success => "scep-enroll",
        E::Unknown => "scep-verify-unknown-code",
        E::ChallengeDecryptionError => "scep-challenge-unknown",
        E::ChallengeDecodingError => "scep-challenge-undecodable",
        E::ChallengeExpired => "scep-challenge-expired",
        E::SubjectAltNameMismatch => "scep-profile-san-mismatch",
        E::KeyLengthMismatch => "scep-profile-key-length",
        E::ChallengePasswordMissing
        | E::SubjectNameMissing
        | E::SubjectNameMismatch
        | E::SubjectAltNameMissing
        | E::KeyUsageMismatch
        | E::EnhancedKeyUsageMissing
        | E::EnhancedKeyUsageMismatch
        | E::BadCertificateRequestIdInChallenge
        | E::BadDeviceIdInChallenge
        | E::BadUserIdInChallenge => "scep-intune-refusals",
        E::CertificateRequestDecodingFailed
        | E::ChallengeDeserializationError
        | E::ChallengeInvalidTimestamp
        | E::AadKeyIdentifierListMissing
        | E::RegisteredKeyMismatch
        | E::SigningCertThumbprintMismatch
        | E::ScepProfileNoLongerTargetedToTheClient
        | E::SignatureValidationFailed => return None,
    })
}

fn explain_event(e: EventId) -> String {
    let spec = e.spec();
    let mut s = format!(
        "{} {} ({})\n  {}\n\n",
        bold("Event"),
        spec.id,
        spec.name,
        spec.description
    );
    s += &format!(
        "  Level: {} (Windows level {})\n",
        spec.level.name(),
        spec.level.windows_value()
    );
    s += &format!(
        "  Details: {}\n\n",
        spec.details
            .iter()
            .map(|d| d.key())
            .collect::<Vec<_>>()
            .join(", ")
    );
    s += &format!("  {}\n", bold("Diagnostic codes it may carry:"));
    for c in spec.codes {
        s += &format!("    {} {:<32} {}\n", c.hex(), c.name(), c.message());
    }
    s += &format!(
        "\n  {}\n",
        bold("What makes the reference connector write it:")
    );
    s += &causes(|p| p.event == e);
    s
}

fn explain_code(c: DiagnosticCode) -> String {
    let spec = c.spec();
    let mut s = format!(
        "{} {} ({}, decimal {})\n  {}\n\n",
        bold("Diagnostic code"),
        c.hex(),
        spec.name,
        spec.value,
        spec.message
    );
    s += &format!("  What to do: {}\n\n", spec.remediation);
    s += &format!("  {}\n", bold("Events that carry it:"));
    for e in catalog::events_carrying(c) {
        s += &format!("    {} {:<28} {}\n", e.id(), e.name(), e.level().name());
    }
    s += &format!(
        "\n  {}\n",
        bold("What makes the reference connector write it:")
    );
    s += &causes(|p| p.code == c);
    s
}

fn explain_pair(p: Pair) -> String {
    let event = p.event.spec();
    let code = p.code.spec();
    let mut s = format!(
        "{} {} {} with {} {}\n",
        bold("Event"),
        event.id,
        event.name,
        p.code.hex(),
        code.name
    );
    s += &format!("  The event: {}\n", event.description);
    s += &format!("  The code:  {}\n", code.message);
    s += &format!(
        "  Level: {} (Windows level {})\n\n",
        event.level.name(),
        event.level.windows_value()
    );
    s += &format!(
        "  {}\n",
        bold("What makes the reference connector write it:")
    );
    s += &causes(|q| q == p);
    s
}

fn explain_intune(code: ScepErrorCode) -> String {
    let mut s = format!(
        "{} {}\n  {}\n\n",
        bold("Intune SCEP validation code"),
        code.name(),
        code.description()
    );
    s += "  Intune answers it to `ScepActions/validateRequest` (and the legacy CRP's VerifyRequest)\n  when it judges a device's certificate request.\n\n";
    if let Some(hint) = intune_hint(code) {
        s += &format!("  What to check: {hint}\n\n");
    }
    let cause = Cause::for_validation(code);
    let p = cause.pair();
    s += &format!(
        "  {}\n    {} {} with {} {}: {}\n      What to check: {}\n",
        bold("The reference connector (the NDES policy module) writes:"),
        p.event.id(),
        p.event.name(),
        p.code.hex(),
        p.code.name(),
        cause.description(),
        cause.remedy()
    );
    s += &format!("\n  {}\n", bold("Reproduce:"));
    match intune_scenario(code) {
        Some(scenario) => {
            s += &format!(
                "    cargo xtask run-scenarios --exact {scenario}   (the device's request earns it)\n"
            );
        }
        None => {
            s += "    No scenario earns it from a device's request; a fault makes the fake answer it:\n";
        }
    }
    s += &format!(
        "    in any scenario: - fault: {{target: intune.validate, kind: answer, code: {}}}\n",
        code.name()
    );
    s
}

/// What an administrator checks for one of Intune's answers, beyond the event's general advice.
fn intune_hint(code: ScepErrorCode) -> Option<&'static str> {
    use ScepErrorCode as E;
    Some(match code {
        E::Success => return None,
        E::Unknown => "Intune gave no reason; find the transaction in CertificateRegistrationPoint*.svclog.",
        E::CertificateRequestDecodingFailed | E::SignatureValidationFailed => "The device's PKCS#10 is damaged or not signed by its key: a device-side SCEP client problem, not the server's.",
        E::ChallengePasswordMissing => "The device sent no challenge: its SCEP profile or MDM payload is not Intune's (a static or missing challenge).",
        E::ChallengeDeserializationError | E::ChallengeDecodingError => "The challenge is damaged or not Intune's: check that the SCEP profile sends devices to this NDES, and IIS / HTTP.sys long-URL limits for devices that use GET.",
        E::ChallengeDecryptionError => "Intune did not mint this challenge: a device enrolling with another tenant's or another service's challenge.",
        E::ChallengeInvalidTimestamp => "The challenge claims to be issued in the future: compare the clocks of the device, NDES and the domain.",
        E::ChallengeExpired => "The device took too long between receiving and presenting its challenge; it gets a new one at its next check-in.",
        E::SubjectNameMissing | E::SubjectNameMismatch => "The request's subject is not what the SCEP profile's Subject name format demands: compare the profile in Intune with what the device sends.",
        E::SubjectAltNameMissing | E::SubjectAltNameMismatch => "The request's subject alternative names are not what the SCEP profile's Subject alternative name settings demand (UPN, DNS, e-mail).",
        E::KeyUsageMismatch => "The requested key usage is not the SCEP profile's Key usage setting.",
        E::KeyLengthMismatch => "The device's key is not the SCEP profile's Key size (bits).",
        E::EnhancedKeyUsageMissing | E::EnhancedKeyUsageMismatch => "The requested extended key usages are not the SCEP profile's Extended key usage list.",
        E::AadKeyIdentifierListMissing | E::RegisteredKeyMismatch => "The device's registration in Entra ID does not match its request: re-register the device.",
        E::SigningCertThumbprintMismatch => "The request is signed with a certificate other than the one Intune expects: check the SCEP signing certificate the connector downloaded.",
        E::ScepProfileNoLongerTargetedToTheClient => "The SCEP profile was unassigned from the device or user after the challenge was issued: check the profile's assignments in Intune.",
        E::BadCertificateRequestIdInChallenge => "The challenge was used already or Intune no longer knows its request: a device retrying an old enrollment; it gets a new challenge at its next check-in.",
        E::BadDeviceIdInChallenge | E::BadUserIdInChallenge => "Intune no longer knows the device or user the challenge was issued to (retired, wiped or deleted).",
    })
}

fn explain_ca_result(code: CaRequestErrorCode) -> String {
    let mut s = format!(
        "{} {} ({})\n  {}\n\n",
        bold("Intune request result code (CARequestErrorCode)"),
        code.name(),
        code.value(),
        code.description()
    );
    s += "  A connector uploads it as the result of a PKCS request (`uploadResults`) or a revocation\n  (`uploadRevocationResults`); Microsoft's C# client writes the name, the Java client the\n  number as a string, and the fake Intune reads both.\n\n";
    s += &format!(
        "  Retryable: {}\n",
        if code.is_retryable() {
            "yes: Intune hands the request out again at a later download."
        } else if code == CaRequestErrorCode::None {
            "not applicable: it is the code of a result that succeeded."
        } else {
            "no: the request is finished and is not handed out again."
        }
    );
    s
}

/// The causes whose pair `pick` selects: what each means, what to check, how to reproduce it.
fn causes(pick: impl Fn(Pair) -> bool) -> String {
    let mut s = String::new();
    for c in Cause::ALL.iter().filter(|c| pick(c.pair())) {
        let p = c.pair();
        s += &format!(
            "    {} with {}: {}\n      What to check: {}\n      reproduce: cargo xtask run-scenarios --exact {}\n",
            p.event.id(),
            p.code.hex(),
            c.description(),
            c.remedy(),
            c.scenario()
        );
    }
    s
}
