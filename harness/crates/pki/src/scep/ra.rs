//! Choosing, among the certificates of a GetCACert answer, the one a client encrypts its
//! request to and the one that must have signed the CertRep (as sscep's `guess_ca_certs` does).
//!
//! - One certificate (micromdm: its CA, which is also its RA): it serves both, whatever its
//!   key usage says.
//! - Several (NDES: RA signing, RA encryption, issuing CA): among those that issued no other
//!   certificate of the answer, the one with keyEncipherment encrypts and the one with
//!   digitalSignature signs (a certificate without a keyUsage extension may do either).

use der::Decode;
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::Certificate;

use super::ScepError;

/// keyUsage (2.5.29.15).
const KEY_USAGE: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.29.15");

/// The server's certificates, by role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaCerts {
    /// Requests are enveloped to this one (keyEncipherment).
    pub encryption: Certificate,
    /// CertReps must be signed by this one (digitalSignature).
    pub signer: Certificate,
    /// Every certificate of the answer, in order.
    pub all: Vec<Certificate>,
}

/// The keyUsage of `cert`; `None` when it has no such extension (any use allowed).
fn key_usage(cert: &Certificate) -> Result<Option<KeyUsage>, ScepError> {
    let Some(ext) = cert
        .tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == KEY_USAGE))
    else {
        return Ok(None);
    };
    KeyUsage::from_der(ext.extn_value.as_bytes())
        .map(Some)
        .map_err(super::decode_err("keyUsage extension"))
}

impl RaCerts {
    /// Chooses the roles among a GetCACert answer.
    pub fn select(certs: Vec<Certificate>) -> Result<RaCerts, ScepError> {
        let none = || ScepError::Decode {
            what: "GetCACert answer",
            why: "it holds no certificate".into(),
        };
        if certs.len() == 1 {
            let only = certs.first().cloned().ok_or_else(none)?;
            return Ok(RaCerts {
                encryption: only.clone(),
                signer: only,
                all: certs,
            });
        }
        let issued_another = |c: &Certificate| {
            certs.iter().any(|o| {
                o != c && o.tbs_certificate.issuer == c.tbs_certificate.subject
                    // a self-signed root issued itself only
                    && o.tbs_certificate.issuer != o.tbs_certificate.subject
            })
        };
        let leaves: Vec<&Certificate> = certs.iter().filter(|c| !issued_another(c)).collect();
        let mut encryption = None;
        let mut signer = None;
        for cert in &leaves {
            let usage = key_usage(cert)?;
            if encryption.is_none() && usage.as_ref().is_none_or(KeyUsage::key_encipherment) {
                encryption = Some((*cert).clone());
            }
            if signer.is_none() && usage.as_ref().is_none_or(KeyUsage::digital_signature) {
                signer = Some((*cert).clone());
            }
        }
        let missing = |usage: &str| ScepError::Decode {
            what: "GetCACert answer",
            why: format!(
                "none of its {} certificates that issued no other has {usage}",
                leaves.len()
            ),
        };
        Ok(RaCerts {
            encryption: encryption.ok_or_else(|| missing("keyEncipherment"))?,
            signer: signer.ok_or_else(|| missing("digitalSignature"))?,
            all: certs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{ISSUING_CA, RA_ENCRYPTION, RA_SIGNING, ROOT_CA};

    #[test]
    fn ndes_answer_picks_the_ra_pair_by_key_usage() {
        let signing = RA_SIGNING.certificate().unwrap();
        let encryption = RA_ENCRYPTION.certificate().unwrap();
        let ca = ISSUING_CA.certificate().unwrap();
        // Order must not matter.
        for certs in [
            vec![signing.clone(), encryption.clone(), ca.clone()],
            vec![ca.clone(), encryption.clone(), signing.clone()],
        ] {
            let ra = RaCerts::select(certs).unwrap();
            assert_eq!(ra.encryption, encryption);
            assert_eq!(ra.signer, signing);
        }
    }

    #[test]
    fn one_certificate_serves_both_roles() {
        // The issuing CA alone (keyCertSign, cRLSign, digitalSignature), as micromdm answers
        // with its CA whose keyUsage has neither role.
        let ca = ISSUING_CA.certificate().unwrap();
        let ra = RaCerts::select(vec![ca.clone()]).unwrap();
        assert_eq!((ra.encryption, ra.signer), (ca.clone(), ca));
    }

    #[test]
    fn a_missing_role_is_an_error_that_names_it() {
        let ca = ISSUING_CA.certificate().unwrap();
        let signing = RA_SIGNING.certificate().unwrap();
        let err = RaCerts::select(vec![signing, ca]).unwrap_err().to_string();
        assert!(err.contains("keyEncipherment"), "{err}");
        let root = ROOT_CA.certificate().unwrap();
        let encryption = RA_ENCRYPTION.certificate().unwrap();
        let err = RaCerts::select(vec![encryption, root])
            .unwrap_err()
            .to_string();
        assert!(err.contains("digitalSignature"), "{err}");
        assert!(RaCerts::select(vec![]).is_err());
    }
}
