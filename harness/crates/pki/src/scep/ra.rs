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

/// The first certificate that encrypts and the first that signs, among `certs`.
type Roles = (Option<Certificate>, Option<Certificate>);

/// The roles `certs` fill; with several certificates, only those that issued no other count.
fn roles(certs: &[Certificate]) -> Result<(Roles, usize), ScepError> {
    if let [only] = certs {
        return Ok(((Some(only.clone()), Some(only.clone())), 1));
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
    Ok(((encryption, signer), leaves.len()))
}

impl RaCerts {
    /// Chooses the roles among a GetCACert answer.
    pub fn select(certs: Vec<Certificate>) -> Result<RaCerts, ScepError> {
        if certs.is_empty() {
            return Err(ScepError::Decode {
                what: "GetCACert answer",
                why: "it holds no certificate".into(),
            });
        }
        let ((encryption, signer), leaves) = roles(&certs)?;
        let missing = |usage: &str| ScepError::Decode {
            what: "GetCACert answer",
            why: format!("none of its {leaves} certificates that issued no other has {usage}"),
        };
        Ok(RaCerts {
            encryption: encryption.ok_or_else(|| missing("keyEncipherment"))?,
            signer: signer.ok_or_else(|| missing("digitalSignature"))?,
            all: certs,
        })
    }

    /// What a client that enrolled before does with a GetCACert answer: the roles the answer
    /// fills come from it, a role it lacks from `cached` (the certificates it kept), as a
    /// device enrolled before the server lost a certificate would.
    pub fn select_or(certs: Vec<Certificate>, cached: &RaCerts) -> Result<RaCerts, ScepError> {
        let ((encryption, signer), _) = roles(&certs)?;
        Ok(RaCerts {
            encryption: encryption.unwrap_or_else(|| cached.encryption.clone()),
            signer: signer.unwrap_or_else(|| cached.signer.clone()),
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

    #[test]
    fn a_client_that_enrolled_before_fills_a_missing_role_from_its_cache() {
        let (ca, signing, encryption) = (
            ISSUING_CA.certificate().unwrap(),
            RA_SIGNING.certificate().unwrap(),
            RA_ENCRYPTION.certificate().unwrap(),
        );
        let cached =
            RaCerts::select(vec![signing.clone(), encryption.clone(), ca.clone()]).unwrap();
        let ra = RaCerts::select_or(vec![signing.clone(), ca.clone()], &cached).unwrap();
        assert_eq!((&ra.encryption, &ra.signer), (&encryption, &signing));
        let ra = RaCerts::select_or(vec![encryption.clone(), ca.clone()], &cached).unwrap();
        assert_eq!((&ra.encryption, &ra.signer), (&encryption, &signing));
        assert_eq!(ra.all, vec![encryption, ca]);
    }
}
