//! Test PKI material: RSA-2048 keys (PKCS#8) and certificates for the test root CA, the issuing
//! CA, the NDES RA pair, the connector's registration certificate and the DigiCert-style RA
//! client-authentication certificate, plus a small pool of device keys.
//!
//! Every subject says TEST ONLY. The files live in the workspace's `fixtures/` folder and are
//! compiled in; [`generate`] writes them afresh (`cargo xtask gen-fixtures`). Generation is
//! seeded, so regenerating gives the same bytes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber, PKCS_RSA_SHA256,
};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;

use crate::pki::RsaKey;
use crate::sim::Rng;

/// A certificate with its private key, both PEM.
#[derive(Clone, Copy, Debug)]
pub struct Identity {
    /// File stem in `fixtures/`.
    pub name: &'static str,
    /// Certificate, PEM.
    pub cert_pem: &'static str,
    /// PKCS#8 private key, PEM.
    pub key_pem: &'static str,
}

/// Errors turning fixture PEM into usable keys and certificates.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The PEM did not decode.
    #[error("fixture {name}: {why}")]
    Decode {
        /// Fixture name.
        name: String,
        /// What failed.
        why: String,
    },
    /// Writing the files failed.
    #[error("writing fixtures: {0}")]
    Io(#[from] std::io::Error),
}

impl Identity {
    /// The private key (signing and decryption on the fast backend), parsed once per process.
    pub fn rsa_key(&self) -> Result<RsaKey, FixtureError> {
        parsed(self.name, self.key_pem)
    }

    /// The private key for rcgen (RSA PKCS#1 v1.5 with SHA-256).
    pub fn rcgen_key(&self) -> Result<KeyPair, FixtureError> {
        KeyPair::from_pem_and_sign_algo(self.key_pem, &PKCS_RSA_SHA256).map_err(|e| {
            FixtureError::Decode {
                name: self.name.into(),
                why: e.to_string(),
            }
        })
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> Result<Vec<u8>, FixtureError> {
        pem_to_der(self.cert_pem).map_err(|why| FixtureError::Decode {
            name: self.name.into(),
            why,
        })
    }

    /// The certificate, parsed.
    pub fn certificate(&self) -> Result<x509_cert::Certificate, FixtureError> {
        use der::Decode;
        let der = self.cert_der()?;
        x509_cert::Certificate::from_der(&der).map_err(|e| FixtureError::Decode {
            name: self.name.into(),
            why: e.to_string(),
        })
    }
}

/// Decodes the first PEM block of `pem`.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let (_, der) = der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| e.to_string())?;
    Ok(der)
}

macro_rules! identity {
    ($name:literal) => {
        Identity {
            name: $name,
            cert_pem: include_str!(concat!("../../../../fixtures/", $name, ".pem")),
            key_pem: include_str!(concat!("../../../../fixtures/", $name, ".key")),
        }
    };
}

/// The self-signed test root CA.
pub const ROOT_CA: Identity = identity!("root-ca");
/// The issuing CA (signed by the root) that the fake CA issues with.
pub const ISSUING_CA: Identity = identity!("issuing-ca");
/// NDES RA signing certificate (digitalSignature), issued by the issuing CA.
pub const RA_SIGNING: Identity = identity!("ra-signing");
/// NDES RA encryption certificate (keyEncipherment), issued by the issuing CA.
pub const RA_ENCRYPTION: Identity = identity!("ra-encryption");
/// The connector's registration certificate (clientAuth), issued by the root.
pub const CONNECTOR: Identity = identity!("connector");
/// The DigiCert-style RA client-authentication certificate, issued by the issuing CA.
pub const DIGICERT_RA: Identity = identity!("digicert-ra");
/// The fake NDES's certificates by role, as GetCACert answers them (RA signing, RA
/// encryption, issuing CA): what a device that enrolled before remembers.
pub fn ndes_ra() -> Result<crate::scep::RaCerts, FixtureError> {
    let (signer, encryption) = (RA_SIGNING.certificate()?, RA_ENCRYPTION.certificate()?);
    Ok(crate::scep::RaCerts {
        all: vec![
            signer.clone(),
            encryption.clone(),
            ISSUING_CA.certificate()?,
        ],
        encryption,
        signer,
    })
}

/// The name the issuing CA goes by, as a connector configures it (a scenario's default).
pub const CA_NAME: &str = "TEST-ISSUING-CA";
/// The CA template PKCS user certificates are issued with (a scenario's default).
pub const USER_TEMPLATE: &str = "IntuneUser";
/// The CA template device certificates, SCEP ones included, are issued with (a scenario's
/// default).
pub const DEVICE_TEMPLATE: &str = "IntuneDevice";

/// Device keys, reused round-robin by simulated devices (RSA key generation is too slow to do
/// per device).
pub const DEVICE_KEYS: [&str; 4] = [
    include_str!("../../../../fixtures/device-0.key"),
    include_str!("../../../../fixtures/device-1.key"),
    include_str!("../../../../fixtures/device-2.key"),
    include_str!("../../../../fixtures/device-3.key"),
];

/// The device key for device number `n` (keys are reused round-robin), parsed once per
/// process.
pub fn device_key(n: usize) -> Result<RsaKey, FixtureError> {
    const NAMES: [&str; DEVICE_KEYS.len()] = ["device-0", "device-1", "device-2", "device-3"];
    let k = n % DEVICE_KEYS.len();
    parsed(NAMES[k], DEVICE_KEYS[k])
}

/// The fixture key `name`, parsed from `pem` the first time it is asked for.
fn parsed(name: &'static str, pem: &'static str) -> Result<RsaKey, FixtureError> {
    static KEYS: OnceLock<Mutex<HashMap<&'static str, RsaKey>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Mutex::default);
    let cached = keys
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .cloned();
    if let Some(key) = cached {
        return Ok(key);
    }
    let key = RsaKey::from_pem(pem).map_err(|e| FixtureError::Decode {
        name: name.into(),
        why: e.to_string(),
    })?;
    keys.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name, key.clone());
    Ok(key)
}

/// Seed of the fixture generator: the same seed regenerates the same files.
pub const FIXTURE_SEED: u64 = 0x7E57_0A1F;

struct Spec {
    name: &'static str,
    cn: &'static str,
    ca: bool,
    usages: &'static [KeyUsagePurpose],
    ekus: &'static [ExtendedKeyUsagePurpose],
    serial: u8,
}

fn params(spec: &Spec) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, spec.cn);
    dn.push(DnType::OrganizationName, "TEST ONLY Connector Harness");
    p.distinguished_name = dn;
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2050, 1, 1);
    p.serial_number = Some(SerialNumber::from_slice(&[0x10, spec.serial]));
    p.is_ca = if spec.ca {
        IsCa::Ca(BasicConstraints::Unconstrained)
    } else {
        IsCa::ExplicitNoCa
    };
    p.key_usages = spec.usages.to_vec();
    p.extended_key_usages = spec.ekus.to_vec();
    p.use_authority_key_identifier_extension = !spec.ca || spec.name != "root-ca";
    p
}

/// A fresh key from the seeded `rng`. Key generation stays on RustCrypto: it is what makes
/// regeneration reproduce the same files, and it runs only in `gen-fixtures`.
fn new_key(rng: &mut Rng, name: &str) -> Result<(String, KeyPair), FixtureError> {
    let key = RsaPrivateKey::new(rng, 2048).map_err(|e| FixtureError::Decode {
        name: name.into(),
        why: e.to_string(),
    })?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| FixtureError::Decode {
            name: name.into(),
            why: e.to_string(),
        })?
        .to_string();
    let pair = KeyPair::from_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).map_err(|e| {
        FixtureError::Decode {
            name: name.into(),
            why: e.to_string(),
        }
    })?;
    Ok((pem, pair))
}

/// Writes every fixture file into `dir`. Deterministic: keys come from [`FIXTURE_SEED`].
pub fn generate(dir: &Path) -> Result<Vec<String>, FixtureError> {
    use KeyUsagePurpose as K;
    std::fs::create_dir_all(dir)?;
    let root = Rng::new(FIXTURE_SEED);
    let mut written = Vec::new();
    let mut write = |file: String, text: &str| -> Result<(), FixtureError> {
        std::fs::write(dir.join(&file), text)?;
        written.push(file);
        Ok(())
    };
    let enc = |e: rcgen::Error, n: &str| FixtureError::Decode {
        name: n.into(),
        why: e.to_string(),
    };

    let root_spec = Spec {
        name: "root-ca",
        cn: "TEST ONLY Connector Harness Root CA",
        ca: true,
        usages: &[K::KeyCertSign, K::CrlSign],
        ekus: &[],
        serial: 1,
    };
    let (root_pem, root_key) = new_key(&mut root.fork("root-ca"), "root-ca")?;
    let root_params = params(&root_spec);
    let root_cert = root_params
        .self_signed(&root_key)
        .map_err(|e| enc(e, "root-ca"))?;
    write("root-ca.key".into(), &root_pem)?;
    write("root-ca.pem".into(), &root_cert.pem())?;
    let root_issuer = Issuer::from_params(&root_params, &root_key);

    let issuing_spec = Spec {
        name: "issuing-ca",
        cn: "TEST ONLY Contoso Issuing CA",
        ca: true,
        usages: &[K::KeyCertSign, K::CrlSign, K::DigitalSignature],
        ekus: &[],
        serial: 2,
    };
    let (issuing_pem, issuing_key) = new_key(&mut root.fork("issuing-ca"), "issuing-ca")?;
    let issuing_params = params(&issuing_spec);
    let issuing_cert = issuing_params
        .signed_by(&issuing_key, &root_issuer)
        .map_err(|e| enc(e, "issuing-ca"))?;
    write("issuing-ca.key".into(), &issuing_pem)?;
    write("issuing-ca.pem".into(), &issuing_cert.pem())?;
    let issuing_issuer = Issuer::from_params(&issuing_params, &issuing_key);

    let leaves = [
        (
            Spec {
                name: "ra-signing",
                cn: "TEST ONLY NDES RA Signing (Exchange Enrollment Agent)",
                ca: false,
                usages: &[K::DigitalSignature],
                ekus: &[],
                serial: 3,
            },
            false,
        ),
        (
            Spec {
                name: "ra-encryption",
                cn: "TEST ONLY NDES RA Encryption (CEP Encryption)",
                ca: false,
                usages: &[K::KeyEncipherment],
                ekus: &[],
                serial: 4,
            },
            false,
        ),
        (
            Spec {
                name: "connector",
                cn: "TEST ONLY Intune Connector Registration",
                ca: false,
                usages: &[K::DigitalSignature, K::KeyEncipherment],
                ekus: &[ExtendedKeyUsagePurpose::ClientAuth],
                serial: 5,
            },
            true,
        ),
        (
            Spec {
                name: "digicert-ra",
                cn: "TEST ONLY DigiCert RA Client Authentication",
                ca: false,
                usages: &[K::DigitalSignature],
                ekus: &[ExtendedKeyUsagePurpose::ClientAuth],
                serial: 6,
            },
            false,
        ),
    ];
    for (spec, by_root) in &leaves {
        let (pem, key) = new_key(&mut root.fork(spec.name), spec.name)?;
        let issuer = if *by_root {
            &root_issuer
        } else {
            &issuing_issuer
        };
        let cert = params(spec)
            .signed_by(&key, issuer)
            .map_err(|e| enc(e, spec.name))?;
        write(format!("{}.key", spec.name), &pem)?;
        write(format!("{}.pem", spec.name), &cert.pem())?;
    }
    for n in 0..DEVICE_KEYS.len() {
        let name = format!("device-{n}");
        let (pem, _) = new_key(&mut root.fork(&name), &name)?;
        write(format!("{name}.key"), &pem)?;
    }
    Ok(written)
}
