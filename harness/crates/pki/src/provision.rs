//! Provisioning a connector's registration store directory ([`crate::contract::store`]) the
//! way a scenario's setup describes it: every condition is made real in the files, so the
//! connector under test — ours or a vendor's — finds it by reading them.

use std::fs;
use std::io;
use std::path::Path;

use der::pem::LineEnding;
use time::OffsetDateTime;

use crate::contract::store::{
    Settings, CRP_ENCRYPTION_CERT, PARTIAL, REGISTRATION_CERT, REGISTRATION_KEY, SETTINGS,
    SIGNING_CERT,
};
use crate::fixtures::{CONNECTOR, ISSUING_CA, RA_ENCRYPTION};
use crate::pki;

/// What the store holds at the start of a run.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StoreCondition {
    /// A valid certificate whose thumbprint matches the configuration.
    Present,
    /// A valid certificate already inside its renewal window.
    NearExpiry,
    /// A certificate that has expired.
    Expired,
    /// No registration certificate at all.
    Missing,
    /// The configured thumbprint matches nothing; the certificate is found by subject.
    ThumbprintMismatch,
    /// The certificate is there without its private key.
    NoPrivateKey,
    /// The certificate file cannot be read at all (it is a directory).
    Unreadable,
    /// A renewal was interrupted: the certificate file is empty beside a complete `.tmp`, so
    /// the first read fails and the connector completes the renewal.
    Flaky,
}

/// A store to provision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSetup {
    /// The registration certificate's condition.
    pub condition: StoreCondition,
    /// Its validity.
    pub not_before: OffsetDateTime,
    /// Its expiry.
    pub not_after: OffsetDateTime,
    /// Whether the policy module's SCEP signing certificate is already there.
    pub signing_certificate: bool,
    /// Whether the CRP encryption certificate is there.
    pub crp_encryption_certificate: bool,
}

/// A provisioning failure.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// Writing the directory failed.
    #[error("writing the registration store {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The certificate could not be made.
    #[error("registration certificate: {0}")]
    Certificate(String),
}

/// A registration certificate for the connector's fixture key, issued by the test issuing CA,
/// valid from `not_before` to `not_after` (scenario time), as DER. The same validity gives the
/// same bytes.
pub fn registration_certificate(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Vec<u8>, ProvisionError> {
    let err = |e: &dyn std::fmt::Display| ProvisionError::Certificate(e.to_string());
    let issuer_key = ISSUING_CA.rcgen_key().map_err(|e| err(&e))?;
    let issuer_der = ISSUING_CA.cert_der().map_err(|e| err(&e))?;
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&issuer_der.into(), issuer_key).map_err(|e| err(&e))?;
    let key = CONNECTOR.rcgen_key().map_err(|e| err(&e))?;
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        "TEST ONLY Intune Connector Registration",
    );
    dn.push(
        rcgen::DnType::OrganizationName,
        "TEST ONLY Connector Harness",
    );
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    // The serial follows from the validity, so the same scenario yields the same bytes.
    let serial = (not_after.unix_timestamp() as u64).to_be_bytes();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(
        &[&[0x20], &serial[..]].concat(),
    ));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).map_err(|e| err(&e))?;
    Ok(cert.der().to_vec())
}

/// Certificate DER as PEM.
pub fn cert_pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", LineEnding::LF, der).unwrap_or_default()
}

/// Puts the SCEP signing certificate in the store (`Some`) or takes it away (`None`).
pub fn set_signing_certificate(dir: &Path, der: Option<&[u8]>) -> Result<(), ProvisionError> {
    match der {
        Some(der) => write(dir, SIGNING_CERT, cert_pem(der).as_bytes()),
        None => remove(dir, SIGNING_CERT),
    }
}

/// Puts the CRP encryption certificate in the store, or takes it away.
pub fn set_crp_encryption_certificate(dir: &Path, present: bool) -> Result<(), ProvisionError> {
    if present {
        write(dir, CRP_ENCRYPTION_CERT, RA_ENCRYPTION.cert_pem.as_bytes())
    } else {
        remove(dir, CRP_ENCRYPTION_CERT)
    }
}

fn remove(dir: &Path, name: &str) -> Result<(), ProvisionError> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(ProvisionError::Io {
            path: path.display().to_string(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ProvisionError> {
    let path = dir.join(name);
    fs::write(&path, bytes).map_err(|source| ProvisionError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Writes the store `setup` describes into `dir` (which must exist and be empty).
/// `signing_der` is the SCEP signing certificate Intune hands out.
pub fn provision(dir: &Path, setup: &StoreSetup, signing_der: &[u8]) -> Result<(), ProvisionError> {
    let cert = registration_certificate(setup.not_before, setup.not_after)?;
    let pem = cert_pem(&cert);
    let thumbprint = pki::thumbprint(&cert);
    let configured = match setup.condition {
        // A thumbprint of nothing in the store: the certificate of a previous registration.
        StoreCondition::ThumbprintMismatch => "0000000000000000000000000000000000000000".into(),
        _ => thumbprint,
    };
    let settings = Settings {
        thumbprint: Some(configured),
    };
    let settings = serde_json::to_vec_pretty(&settings).unwrap_or_default();
    write(dir, SETTINGS, &settings)?;
    match setup.condition {
        StoreCondition::Missing => {}
        StoreCondition::Unreadable => {
            let path = dir.join(REGISTRATION_CERT);
            fs::create_dir(&path).map_err(|source| ProvisionError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        StoreCondition::Flaky => {
            write(dir, REGISTRATION_CERT, b"")?;
            write(
                dir,
                &format!("{REGISTRATION_CERT}{PARTIAL}"),
                pem.as_bytes(),
            )?;
        }
        _ => write(dir, REGISTRATION_CERT, pem.as_bytes())?,
    }
    if !matches!(
        setup.condition,
        StoreCondition::Missing | StoreCondition::NoPrivateKey
    ) {
        write(dir, REGISTRATION_KEY, CONNECTOR.key_pem.as_bytes())?;
    }
    if setup.signing_certificate {
        write(dir, SIGNING_CERT, cert_pem(signing_der).as_bytes())?;
    }
    if setup.crp_encryption_certificate {
        write(dir, CRP_ENCRYPTION_CERT, RA_ENCRYPTION.cert_pem.as_bytes())?;
    }
    Ok(())
}
