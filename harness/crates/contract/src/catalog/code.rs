//! Diagnostic codes: the twelve codes of the seed table, their names, messages and remediation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::CatalogError;

/// A diagnostic code carried by a connector event.
///
/// Printed canonically as `0x%08X` (see [`DiagnosticCode::hex`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagnosticCode {
    /// 0x00000000 — the operation reported no specific problem.
    Success,
    /// 0x00000400 — the certification authority is invalid or unreachable.
    PkcsIssueCaUnavailable,
    /// 0x00000401 — the DigiCert (Symantec) RA client-authentication certificate is missing.
    SymantecClientAuthCertNotFound,
    /// 0x00000402 — the connector's account may not revoke at this CA.
    RevokeCertAccessDenied,
    /// 0x00000403 — no certificate matches the configured thumbprint.
    CertThumbprintNotFound,
    /// 0x00000404 — no certificate matches the given input.
    CertificateNotFound,
    /// 0x00000405 — a certificate has expired.
    CertificateExpired,
    /// 0x00000408 — the CRP (NDES RA) encryption certificate was not found.
    CrpScepCertNotFound,
    /// 0x00000409 — the CRP (NDES RA) signing certificate could not be retrieved.
    CrpScepSigningCertNotFound,
    /// 0x00000410 — the SCEP challenge request could not be deserialised.
    CrpScepDeserializeFailed,
    /// 0x00000411 — the SCEP challenge had expired.
    CrpScepChallengeExpired,
    /// 0x0FFFFFFF — an unexpected error on the server side.
    UnknownError,
}

/// Static facts about one diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    /// The code.
    pub code: DiagnosticCode,
    /// Numeric value.
    pub value: u32,
    /// Name exactly as the seed table spells it.
    pub name: &'static str,
    /// What the code means, in our own words.
    pub message: &'static str,
    /// What an administrator should do about it.
    pub remediation: &'static str,
}

/// The twelve diagnostic codes, in table order.
pub const CODES: [CodeSpec; 12] = [
    CodeSpec {
        code: DiagnosticCode::Success,
        value: 0x0000_0000,
        name: "Success",
        message: "No specific problem was reported.",
        remediation: "Nothing to do. On a failure event this code means the peer answered cleanly with a refusal; read the event details for its reason.",
    },
    CodeSpec {
        code: DiagnosticCode::PkcsIssueCaUnavailable,
        value: 0x0000_0400,
        name: "PKCS_Issue_CA_Unavailable",
        message: "The certification authority is not valid or cannot be reached.",
        remediation: "Check that the Certification Authority service runs on the CA named in the event details (certsrv.msc), that the CA name in the Intune certificate profile is right (server\\CA name), and that the connector server reaches it over RPC/DCOM.",
    },
    CodeSpec {
        code: DiagnosticCode::SymantecClientAuthCertNotFound,
        value: 0x0000_0401,
        name: "Symantec_ClientAuthCertNotFound",
        message: "The DigiCert (formerly Symantec) RA client-authentication certificate is not in the local certificate store.",
        remediation: "Import the DigiCert RA client-authentication certificate with its private key into LocalMachine\\My on the connector server (certlm.msc) and configure its thumbprint in the connector's DigiCert settings.",
    },
    CodeSpec {
        code: DiagnosticCode::RevokeCertAccessDenied,
        value: 0x0000_0402,
        name: "RevokeCert_AccessDenied",
        message: "The connector's account is not allowed to revoke certificates at this CA.",
        remediation: "Grant the connector's account Issue and Manage Certificates on the CA named in the event details (certsrv.msc > Properties > Security).",
    },
    CodeSpec {
        code: DiagnosticCode::CertThumbprintNotFound,
        value: 0x0000_0403,
        name: "CertThumbprint_NotFound",
        message: "No certificate in the store matches the configured thumbprint.",
        remediation: "No certificate in LocalMachine\\My matches the configured thumbprint: re-enroll the connector from its setup UI so the thumbprint is written again.",
    },
    CodeSpec {
        code: DiagnosticCode::CertificateNotFound,
        value: 0x0000_0404,
        name: "Certificate_NotFound",
        message: "No certificate matches the given input.",
        remediation: "Enroll the connector from its setup UI (an Intune admin signs in) to put a registration certificate in LocalMachine\\My.",
    },
    CodeSpec {
        code: DiagnosticCode::CertificateExpired,
        value: 0x0000_0405,
        name: "Certificate_Expired",
        message: "A certificate has expired.",
        remediation: "Re-enroll the connector from its setup UI; keep its service running so the next registration certificate renews before it expires.",
    },
    CodeSpec {
        code: DiagnosticCode::CrpScepCertNotFound,
        value: 0x0000_0408,
        name: "CRPSCEPCert_NotFound",
        message: "The certificate registration point's encryption certificate was not found.",
        remediation: "Check the CRP encryption certificate of the NDES / connector configuration in LocalMachine\\My, then re-run the connector's configuration so it is provisioned again.",
    },
    CodeSpec {
        code: DiagnosticCode::CrpScepSigningCertNotFound,
        value: 0x0000_0409,
        name: "CRPSCEPSigningCert_NotFound",
        message: "The signing certificate could not be retrieved.",
        remediation: "Check that the connector service runs and that its certificate download at start succeeds (20400, not 20402). NDESPlugin.log then says \"Signing certificate could not be retrieved\" and the registry value HKLM\\SOFTWARE\\Microsoft\\MicrosoftIntune\\NDESConnector\\SigningCertificate is missing.",
    },
    CodeSpec {
        code: DiagnosticCode::CrpScepDeserializeFailed,
        value: 0x0000_0410,
        name: "CRPSCEPDeserialize_Failed",
        message: "The SCEP challenge request could not be deserialised.",
        remediation: "The device's challenge is damaged or not Intune's: check that the SCEP profile sends devices to this NDES, and that IIS and HTTP.sys long-URL limits (MaxFieldLength, MaxRequestBytes = 65534) are raised for devices that use GET.",
    },
    CodeSpec {
        code: DiagnosticCode::CrpScepChallengeExpired,
        value: 0x0000_0411,
        name: "CRPSCEPChallenge_Expired",
        message: "The request was refused because its SCEP challenge had expired.",
        remediation: "Nothing on the server: the device may retry once the management service hands it a new challenge.",
    },
    CodeSpec {
        code: DiagnosticCode::UnknownError,
        value: 0x0FFF_FFFF,
        name: "Unknown_Error",
        message: "The request could not be completed because of an error on the server side.",
        remediation: "Retry; if it persists, read the event's details for the failing peer and its answer, then that peer's log: NDESConnector*.svclog or NDESPlugin.log for Intune, the CA's Application log for the CA.",
    },
];

impl DiagnosticCode {
    /// Every code, in table order.
    pub fn all() -> impl Iterator<Item = DiagnosticCode> {
        CODES.iter().map(|c| c.code)
    }

    /// Static facts about this code.
    pub fn spec(self) -> &'static CodeSpec {
        // CODES is ordered like the enum; the index is the discriminant.
        &CODES[self as usize]
    }

    /// Numeric value.
    pub fn value(self) -> u32 {
        self.spec().value
    }

    /// Name as the seed table spells it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Human-readable message.
    pub fn message(self) -> &'static str {
        self.spec().message
    }

    /// Canonical `0x%08X` spelling.
    pub fn hex(self) -> String {
        format!("0x{:08X}", self.value())
    }

    /// Looks a code up by numeric value.
    pub fn from_value(value: u32) -> Option<DiagnosticCode> {
        CODES.iter().find(|c| c.value == value).map(|c| c.code)
    }
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.value())
    }
}

impl FromStr for DiagnosticCode {
    type Err = CatalogError;

    /// Accepts `0x400`, `0x00000400`, `1024`, `PKCS_Issue_CA_Unavailable` (any case), and the
    /// seed's nine-digit spelling `0x0FFFFFFFF` of Unknown_Error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let unknown = || CatalogError::UnknownCode(t.to_string());
        if t.is_empty() {
            return Err(unknown());
        }
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            // The seed's codes table writes Unknown_Error with nine digits.
            if hex.eq_ignore_ascii_case("0FFFFFFFF") {
                return Ok(DiagnosticCode::UnknownError);
            }
            let value = u32::from_str_radix(hex, 16).map_err(|_| unknown())?;
            return DiagnosticCode::from_value(value).ok_or_else(unknown);
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            let value: u32 = t.parse().map_err(|_| unknown())?;
            return DiagnosticCode::from_value(value).ok_or_else(unknown);
        }
        CODES
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(t))
            .map(|c| c.code)
            .ok_or_else(unknown)
    }
}

impl Serialize for DiagnosticCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for DiagnosticCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = super::NameOrNumber::deserialize(d)?;
        raw.as_text().parse().map_err(serde::de::Error::custom)
    }
}

impl DiagnosticCode {
    /// Reads an optional code as the file spells it (a `deserialize_with` hook for scenario
    /// files). It asks for the scalar's text rather than its value, because YAML would read an
    /// unquoted `0x0FFFFFFFF` — the seed's nine-digit spelling of Unknown_Error — as the integer
    /// 4294967295 and lose the spelling; serde-saphyr hands a plain scalar's text to a string
    /// request. A format that still answers with a number (JSON) is read as that number.
    pub fn deserialize_as_written<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DiagnosticCode>, D::Error> {
        d.deserialize_str(AsWritten).map(Some)
    }
}

struct AsWritten;

impl serde::de::Visitor<'_> for AsWritten {
    type Value = DiagnosticCode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a diagnostic code: its name, or its value in hex or decimal")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DiagnosticCode, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DiagnosticCode, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DiagnosticCode, E> {
        self.visit_str(&v.to_string())
    }
}
