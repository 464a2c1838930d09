//! Reading and writing the registration store directory ([`crate::contract::store`]), as the
//! service does at start, at renewal, and when its policy module needs its certificates.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use der::Decode;
use time::OffsetDateTime;

use crate::contract::store::{
    Settings, CRP_ENCRYPTION_CERT, PARTIAL, REGISTRATION_CERT, REGISTRATION_KEY, SETTINGS,
    SIGNING_CERT,
};
use crate::pki::{self, RsaKey};

/// A registration certificate as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Expiry.
    pub not_after: OffsetDateTime,
}

impl StoredCertificate {
    /// Reads thumbprint and expiry from DER.
    pub fn from_der(der: Vec<u8>) -> Result<StoredCertificate, String> {
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| e.to_string())?;
        let secs = cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs();
        let not_after = i64::try_from(secs)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or("certificate expiry out of range")?;
        Ok(StoredCertificate {
            thumbprint: pki::thumbprint(&der),
            der,
            not_after,
        })
    }
}

/// What reading the registration certificate gave.
#[derive(Debug)]
pub(crate) enum Found {
    /// A certificate with its matching key.
    Usable {
        cert: StoredCertificate,
        key: RsaKey,
        /// The configured thumbprint names another certificate.
        thumbprint_mismatch: bool,
        /// The first read failed and a second one (after completing an interrupted write)
        /// worked.
        recovered: bool,
    },
    /// The certificate is there, its key is not (or does not match).
    NoKey(StoredCertificate, String),
    /// No registration certificate.
    Missing,
    /// Every read failed.
    Unreadable,
}

/// The store at one directory.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    dir: PathBuf,
}

fn cert_pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap_or_default()
}

fn read_pem_cert(path: &Path) -> io::Result<Vec<u8>> {
    let text = fs::read_to_string(path)?;
    crate::fixtures::pem_to_der(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl Store {
    pub(crate) fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn settings(&self) -> Settings {
        fs::read(self.path(SETTINGS))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Reads the registration certificate and its key, as the service does at start: a
    /// failed read is tried once more after completing a renewal that was interrupted.
    pub(crate) fn registration(&self) -> Found {
        let path = self.path(REGISTRATION_CERT);
        let (der, recovered) = match read_pem_cert(&path) {
            Ok(der) => (der, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Missing,
            Err(_) => {
                let partial = self.path(&format!("{REGISTRATION_CERT}{PARTIAL}"));
                let retried = fs::rename(&partial, &path).and_then(|()| read_pem_cert(&path));
                match retried {
                    Ok(der) => (der, true),
                    Err(_) => return Found::Unreadable,
                }
            }
        };
        let cert = match StoredCertificate::from_der(der) {
            Ok(c) => c,
            Err(_) => return Found::Unreadable,
        };
        let key = match fs::read_to_string(self.path(REGISTRATION_KEY)) {
            Ok(pem) => match RsaKey::from_pem(&pem) {
                Ok(k) => k,
                Err(e) => {
                    return Found::NoKey(cert, format!("the private key does not parse: {e}"))
                }
            },
            Err(_) => return Found::NoKey(cert, "the private key is not in the store".into()),
        };
        if !key_matches(&cert, &key) {
            return Found::NoKey(cert, "the private key is not the certificate's".into());
        }
        let thumbprint_mismatch = self
            .settings()
            .thumbprint
            .is_some_and(|t| !t.eq_ignore_ascii_case(&cert.thumbprint));
        Found::Usable {
            cert,
            key,
            thumbprint_mismatch,
            recovered,
        }
    }

    /// Replaces the registration certificate (written aside, then renamed into place) and
    /// points the settings at it.
    pub(crate) fn replace_registration(&self, cert: &StoredCertificate) -> io::Result<()> {
        let path = self.path(REGISTRATION_CERT);
        let partial = self.path(&format!("{REGISTRATION_CERT}{PARTIAL}"));
        fs::write(&partial, cert_pem(&cert.der))?;
        fs::rename(&partial, &path)?;
        let settings = Settings {
            thumbprint: Some(cert.thumbprint.clone()),
        };
        fs::write(
            self.path(SETTINGS),
            serde_json::to_vec_pretty(&settings).unwrap_or_default(),
        )
    }

    /// The policy module's SCEP signing certificate, if the store has it.
    pub(crate) fn signing_certificate(&self) -> Option<Vec<u8>> {
        read_pem_cert(&self.path(SIGNING_CERT)).ok()
    }

    /// Keeps a downloaded signing certificate.
    pub(crate) fn put_signing_certificate(&self, der: &[u8]) -> io::Result<()> {
        fs::write(self.path(SIGNING_CERT), cert_pem(der))
    }

    /// Whether the CRP encryption certificate is in the store (and reads as a certificate).
    pub(crate) fn has_crp_encryption_certificate(&self) -> bool {
        read_pem_cert(&self.path(CRP_ENCRYPTION_CERT))
            .ok()
            .is_some_and(|der| x509_cert::Certificate::from_der(&der).is_ok())
    }
}

fn key_matches(cert: &StoredCertificate, key: &RsaKey) -> bool {
    let Ok(parsed) = x509_cert::Certificate::from_der(&cert.der) else {
        return false;
    };
    der::Encode::to_der(&parsed.tbs_certificate.subject_public_key_info)
        .is_ok_and(|spki| spki == key.spki_der())
}
