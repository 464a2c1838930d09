//! Connector events: the nineteen event ids of the seed table, their level, meaning and details.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::detail::Detail;
use super::{CatalogError, DiagnosticCode};

/// Windows event level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// Level 2.
    Error,
    /// Level 3.
    Warning,
    /// Level 4 (Informational).
    Information,
}

impl Level {
    /// The numeric `System/Level` Windows writes.
    pub fn windows_value(self) -> u8 {
        match self {
            Level::Error => 2,
            Level::Warning => 3,
            Level::Information => 4,
        }
    }

    /// Inverse of [`Level::windows_value`].
    pub fn from_windows_value(v: u8) -> Option<Level> {
        match v {
            2 => Some(Level::Error),
            3 => Some(Level::Warning),
            4 => Some(Level::Information),
            _ => None,
        }
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Information => "Information",
        }
    }
}

/// An event the connector writes to its event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventId {
    /// 10010
    StartedConnectorService,
    /// 10020
    StoppedConnectorService,
    /// 10100
    CertificateRenewalSuccess,
    /// 10102
    CertificateRenewalFailure,
    /// 10301
    RetrieveCertificateWarning,
    /// 10302
    RetrieveCertificateError,
    /// 20100
    PkcsCertIssueSuccess,
    /// 20102
    PkcsCertIssueFailure,
    /// 20200
    RevokeCertSuccess,
    /// 20202
    RevokeCertFailure,
    /// 20300
    UploadSuccess,
    /// 20302
    UploadFailure,
    /// 20400
    DownloadSuccess,
    /// 20402
    DownloadFailure,
    /// 20500
    CrpVerifyMetricSuccess,
    /// 20501
    CrpVerifyMetricWarning,
    /// 20502
    CrpVerifyMetricFailure,
    /// 20600
    CrpNotifyMetricSuccess,
    /// 20602
    CrpNotifyMetricFailure,
}

/// Static facts about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The event.
    pub event: EventId,
    /// Windows event id.
    pub id: u16,
    /// Name exactly as the seed table spells it.
    pub name: &'static str,
    /// Level.
    pub level: Level,
    /// What the event means, in our own words.
    pub description: &'static str,
    /// Detail fields this event may carry.
    pub details: &'static [Detail],
    /// Diagnostic codes this event may carry (the allowed pairs).
    pub codes: &'static [DiagnosticCode],
}

use Detail as D;
use DiagnosticCode as C;

const REQUEST: &[Detail] = &[
    D::DeviceId,
    D::UserId,
    D::CaName,
    D::TemplateName,
    D::Thumbprint,
    D::RequestId,
    D::Attempts,
    D::Reason,
];
const REVOKE: &[Detail] = &[
    D::DeviceId,
    D::UserId,
    D::CaName,
    D::SerialNumber,
    D::RequestId,
    D::Attempts,
    D::Reason,
];
const TRANSFER_UP: &[Detail] = &[
    D::RequestKind,
    D::RequestId,
    D::DeviceId,
    D::UserId,
    D::UploadState,
    D::Attempts,
    D::Reason,
];
const TRANSFER_DOWN: &[Detail] = &[
    D::RequestKind,
    D::RequestCount,
    D::DownloadState,
    D::Attempts,
    D::Reason,
];
const CRP: &[Detail] = &[
    D::DeviceId,
    D::UserId,
    D::TransactionId,
    D::Thumbprint,
    D::SerialNumber,
    D::CaName,
    D::Attempts,
    D::Reason,
];
const REGISTRATION: &[Detail] = &[D::Thumbprint, D::NotAfter, D::Attempts, D::Reason];
const SERVICE: &[Detail] = &[D::Attempts, D::Reason];

/// The nineteen events, in table order.
pub const EVENTS: [EventSpec; 19] = [
    EventSpec { event: EventId::StartedConnectorService, id: 10010, name: "StartedConnectorService", level: Level::Information,
        description: "The connector service started.", details: SERVICE, codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::StoppedConnectorService, id: 10020, name: "StoppedConnectorService", level: Level::Information,
        description: "The connector service stopped.", details: SERVICE, codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::CertificateRenewalSuccess, id: 10100, name: "CertificateRenewal_Success", level: Level::Information,
        description: "The connector renewed its registration certificate.", details: REGISTRATION, codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::CertificateRenewalFailure, id: 10102, name: "CertificateRenewal_Failure", level: Level::Error,
        description: "The connector could not renew its registration certificate; reinstall (re-enroll) the connector.", details: REGISTRATION,
        codes: &[C::Success, C::CertificateExpired, C::UnknownError] },
    EventSpec { event: EventId::RetrieveCertificateWarning, id: 10301, name: "RetrieveCertificate_Warning", level: Level::Warning,
        description: "Reading the registration certificate raised a warning; the diagnostic code and details say which.", details: REGISTRATION,
        codes: &[C::Success, C::CertThumbprintNotFound, C::UnknownError] },
    EventSpec { event: EventId::RetrieveCertificateError, id: 10302, name: "RetrieveCertificate_Error", level: Level::Error,
        description: "The connector could not read its registration certificate from the local store; the details name the thumbprint.", details: REGISTRATION,
        codes: &[C::Success, C::CertificateNotFound, C::UnknownError] },
    EventSpec { event: EventId::PkcsCertIssueSuccess, id: 20100, name: "PkcsCertIssue_Success", level: Level::Information,
        description: "A PKCS certificate was issued; the details name device, user, CA, template and thumbprint.", details: REQUEST,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::PkcsCertIssueFailure, id: 20102, name: "PkcsCertIssue_Failure", level: Level::Error,
        description: "A PKCS certificate could not be issued; the details name device, user, CA and template.", details: REQUEST,
        codes: &[C::Success, C::PkcsIssueCaUnavailable, C::SymantecClientAuthCertNotFound, C::UnknownError] },
    EventSpec { event: EventId::RevokeCertSuccess, id: 20200, name: "RevokeCert_Success", level: Level::Information,
        description: "A certificate was revoked; the details name device, user, CA and serial number.", details: REVOKE,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::RevokeCertFailure, id: 20202, name: "RevokeCert_Failure", level: Level::Error,
        description: "A certificate could not be revoked; the details name device, user, CA and serial number.", details: REVOKE,
        codes: &[C::Success, C::RevokeCertAccessDenied, C::UnknownError] },
    EventSpec { event: EventId::UploadSuccess, id: 20300, name: "Upload_Success", level: Level::Information,
        description: "A certificate request or revocation result was uploaded to Intune.", details: TRANSFER_UP,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::UploadFailure, id: 20302, name: "Upload_Failure", level: Level::Error,
        description: "A certificate request or revocation result could not be uploaded; the upload state says where it stopped.", details: TRANSFER_UP,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::DownloadSuccess, id: 20400, name: "Download_Success", level: Level::Information,
        description: "Requests to sign, fetch or revoke certificates were downloaded from Intune.", details: TRANSFER_DOWN,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::DownloadFailure, id: 20402, name: "Download_Failure", level: Level::Error,
        description: "Requests to sign, fetch or revoke certificates could not be downloaded; the download state says where it stopped.", details: TRANSFER_DOWN,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::CrpVerifyMetricSuccess, id: 20500, name: "CRPVerifyMetric_Success", level: Level::Information,
        description: "The certificate registration point verified a device's SCEP challenge.", details: CRP,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::CrpVerifyMetricWarning, id: 20501, name: "CRPVerifyMetric_Warning", level: Level::Warning,
        description: "The certificate registration point completed verification but refused the request.", details: CRP,
        codes: &[C::Success, C::CrpScepChallengeExpired, C::UnknownError] },
    EventSpec { event: EventId::CrpVerifyMetricFailure, id: 20502, name: "CRPVerifyMetric_Failure", level: Level::Error,
        description: "The certificate registration point failed to verify a device's SCEP challenge; the details name the device.", details: CRP,
        codes: &[C::Success, C::CrpScepCertNotFound, C::CrpScepSigningCertNotFound, C::CrpScepDeserializeFailed, C::UnknownError] },
    EventSpec { event: EventId::CrpNotifyMetricSuccess, id: 20600, name: "CRPNotifyMetric_Success", level: Level::Information,
        description: "The certificate registration point finished notifying Intune and the certificate went to the device.", details: CRP,
        codes: &[C::Success, C::UnknownError] },
    EventSpec { event: EventId::CrpNotifyMetricFailure, id: 20602, name: "CRPNotifyMetric_Failure", level: Level::Error,
        description: "The certificate registration point could not finish the notification; check the link between NDES and the CA.", details: CRP,
        codes: &[C::Success, C::UnknownError] },
];

impl EventId {
    /// Every event, in table order.
    pub fn all() -> impl Iterator<Item = EventId> {
        EVENTS.iter().map(|e| e.event)
    }

    /// Static facts about this event.
    pub fn spec(self) -> &'static EventSpec {
        // EVENTS is ordered like the enum; the index is the discriminant.
        &EVENTS[self as usize]
    }

    /// Windows event id.
    pub fn id(self) -> u16 {
        self.spec().id
    }

    /// Name as the seed spells it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Level.
    pub fn level(self) -> Level {
        self.spec().level
    }

    /// Whether `code` is allowed on this event.
    pub fn allows(self, code: DiagnosticCode) -> bool {
        self.spec().codes.contains(&code)
    }

    /// Whether `detail` may appear on this event.
    pub fn carries(self, detail: Detail) -> bool {
        self.spec().details.contains(&detail)
    }

    /// Looks an event up by its Windows id.
    /// One of the policy module's verify events (20500, 20501, 20502).
    pub fn is_crp_verify(self) -> bool {
        matches!(
            self,
            EventId::CrpVerifyMetricSuccess
                | EventId::CrpVerifyMetricWarning
                | EventId::CrpVerifyMetricFailure
        )
    }

    /// One of the policy module's notify events (20600, 20602).
    pub fn is_crp_notify(self) -> bool {
        matches!(
            self,
            EventId::CrpNotifyMetricSuccess | EventId::CrpNotifyMetricFailure
        )
    }

    /// The details this event must carry under the conformance contract (`details.required`,
    /// docs/conformance.md): those that name what it is about. The rest of [`EventId::carries`]
    /// is optional.
    pub fn required_details(self) -> &'static [Detail] {
        use Detail as D;
        use EventId as E;
        match self {
            E::PkcsCertIssueSuccess => &[
                D::DeviceId,
                D::UserId,
                D::CaName,
                D::TemplateName,
                D::Thumbprint,
                D::RequestId,
            ],
            E::PkcsCertIssueFailure => &[
                D::DeviceId,
                D::UserId,
                D::CaName,
                D::TemplateName,
                D::RequestId,
            ],
            E::RevokeCertSuccess | E::RevokeCertFailure => {
                &[D::SerialNumber, D::CaName, D::RequestId]
            }
            E::UploadSuccess | E::UploadFailure => &[D::RequestKind, D::RequestId],
            E::DownloadSuccess => &[D::RequestKind, D::RequestCount],
            E::DownloadFailure => &[D::RequestKind],
            E::CrpVerifyMetricSuccess
            | E::CrpVerifyMetricFailure
            | E::CrpVerifyMetricWarning
            | E::CrpNotifyMetricSuccess
            | E::CrpNotifyMetricFailure => &[D::TransactionId],
            E::CertificateRenewalSuccess => &[D::Thumbprint, D::NotAfter],
            _ => &[],
        }
    }

    /// The catalog event with this number, if any.
    pub fn from_id(id: u16) -> Option<EventId> {
        EVENTS.iter().find(|e| e.id == id).map(|e| e.event)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EventId {
    type Err = CatalogError;

    /// Accepts the numeric id (`20102`) or the name (`PkcsCertIssue_Failure`, any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(n) = t.parse::<u16>() {
            return EventId::from_id(n).ok_or_else(|| CatalogError::UnknownEvent(t.to_string()));
        }
        EVENTS
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(t))
            .map(|e| e.event)
            .ok_or_else(|| CatalogError::UnknownEvent(t.to_string()))
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = super::NameOrNumber::deserialize(d)?;
        raw.as_text().parse().map_err(serde::de::Error::custom)
    }
}
