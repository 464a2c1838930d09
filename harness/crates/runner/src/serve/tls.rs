//! `serve --tls`: a server certificate for every port, issued at start by the test issuing CA
//! for the bind address (and `localhost`, and any `--tls-name`), and the CA file a client
//! should trust: the test root.
//!
//! TLS is checked by clients against the real clock, not the scenario clock, so the
//! certificate is dated by wall time: valid from a day ago for 90 days. Its key is a fresh
//! ECDSA P-256 key each start (it never reaches the event stream).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::ServeError;
use crate::fakes::server::Tls;
use crate::fakes::signer::Signer;
use crate::fixtures::{ISSUING_CA, ROOT_CA};

/// What `--tls` gives: the servers' configuration and what clients need.
#[derive(Clone, Debug)]
pub struct TlsMaterial {
    /// For [`crate::fakes::server::Server::bind_with_tls`].
    pub tls: Tls,
    /// The CA a client should trust (the test root), PEM.
    pub ca_pem: &'static str,
    /// The names the server certificate carries (IP addresses and DNS names).
    pub names: Vec<String>,
    /// The server certificate, PEM.
    pub certificate_pem: String,
}

fn tls_error(what: &'static str) -> impl Fn(rustls::Error) -> ServeError {
    move |why| ServeError::Tls(format!("{what}: {why}"))
}

/// The names a certificate for `bind` carries: the address itself (loopback for an
/// unspecified address, which clients cannot dial by that name), `localhost`, and `extra`.
pub fn names_for(bind: IpAddr, extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = if bind.is_unspecified() {
        vec![
            Ipv4Addr::LOCALHOST.to_string(),
            Ipv6Addr::LOCALHOST.to_string(),
        ]
    } else {
        vec![bind.to_string()]
    };
    names.push("localhost".into());
    for n in extra {
        let n = n.trim().to_string();
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// Issues the server certificate for `names` (IP addresses or DNS names).
pub fn issue(names: Vec<String>) -> Result<TlsMaterial, ServeError> {
    let signer = Signer::issuing_ca().map_err(|e| ServeError::Tls(e.to_string()))?;
    let key = KeyPair::generate().map_err(|e| ServeError::Tls(format!("server key: {e}")))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "TEST ONLY connector-harness serve");
    params.distinguished_name = dn;
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|_| ServeError::Tls(format!("`{n}` is not a DNS name or IP address"))),
        })
        .collect::<Result<_, _>>()?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now.saturating_sub(time::Duration::days(1));
    params.not_after = now.saturating_add(time::Duration::days(90));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params
        .signed_by(&key, &signer.issuer)
        .map_err(|e| ServeError::Tls(format!("signing the server certificate: {e}")))?;
    let issuing = ISSUING_CA
        .cert_der()
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        CertificateDer::from(issuing),
    ];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error("protocol versions"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(tls_error("server certificate"))?;
    Ok(TlsMaterial {
        tls: Tls::new(config),
        ca_pem: ROOT_CA.cert_pem,
        names,
        certificate_pem: cert.pem(),
    })
}
