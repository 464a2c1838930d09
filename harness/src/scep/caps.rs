//! GetCACaps (RFC 8894 §3.5.2): the keywords a server advertises and the request algorithms a
//! client chooses from them.

use super::client::RequestOptions;
use super::{ContentCipher, DigestAlg};

/// A server's capabilities, as read from its GetCACaps answer (one keyword a line, any case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaCaps {
    /// `POSTPKIOperation`: PKIOperation may be POSTed.
    pub post_pki_operation: bool,
    /// `SHA-1`.
    pub sha1: bool,
    /// `SHA-256`.
    pub sha256: bool,
    /// `SHA-512`.
    pub sha512: bool,
    /// `AES` (AES-128-CBC).
    pub aes: bool,
    /// `DES3`.
    pub des3: bool,
    /// `Renewal`.
    pub renewal: bool,
    /// `SCEPStandard`: implies AES, SHA-256 and POSTPKIOperation.
    pub scep_standard: bool,
    /// Keywords this reader does not know, as sent.
    pub other: Vec<String>,
}

impl CaCaps {
    /// Reads a GetCACaps body. Unknown keywords are kept in [`CaCaps::other`], never an error.
    pub fn parse(body: &str) -> CaCaps {
        let mut caps = CaCaps::default();
        for word in body.lines().map(str::trim).filter(|w| !w.is_empty()) {
            match word.to_ascii_uppercase().as_str() {
                "POSTPKIOPERATION" => caps.post_pki_operation = true,
                "SHA-1" => caps.sha1 = true,
                "SHA-256" => caps.sha256 = true,
                "SHA-512" => caps.sha512 = true,
                "AES" => caps.aes = true,
                "DES3" => caps.des3 = true,
                "RENEWAL" => caps.renewal = true,
                "SCEPSTANDARD" => caps.scep_standard = true,
                _ => caps.other.push(word.to_string()),
            }
        }
        caps
    }

    /// Whether PKIOperation may be POSTed (else it goes as a GET with a base64 message).
    pub fn post(&self) -> bool {
        self.post_pki_operation || self.scep_standard
    }

    /// The strongest request algorithms the server advertises: SHA-512, SHA-256 or SHA-1 (the
    /// fallback: MD5 is not implemented), and AES-128, 3DES or single DES (the fallback).
    pub fn request_options(&self) -> RequestOptions {
        let digest = if self.sha512 {
            DigestAlg::Sha512
        } else if self.sha256 || self.scep_standard {
            DigestAlg::Sha256
        } else {
            DigestAlg::Sha1
        };
        let cipher = if self.aes || self.scep_standard {
            ContentCipher::Aes128Cbc
        } else if self.des3 {
            ContentCipher::Des3Cbc
        } else {
            ContentCipher::DesCbc
        };
        RequestOptions { cipher, digest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micromdm_and_ndes_caps_choose_what_they_advertise() {
        // micromdm scepserver 2.1.0's answer, byte for byte (no final newline).
        let micromdm =
            CaCaps::parse("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation");
        assert!(micromdm.post() && micromdm.renewal);
        assert_eq!(micromdm.request_options(), RequestOptions::default());
        let modern = CaCaps::parse(crate::fakes::ndes::Capabilities::Rfc8894.answer());
        assert_eq!(modern.request_options().cipher, ContentCipher::Aes128Cbc);
        assert_eq!(modern.request_options().digest, DigestAlg::Sha512);
        assert!(modern.post());
        // A Windows NDES advertises no AES: a client picks triple DES.
        let ndes = CaCaps::parse(crate::fakes::ndes::Capabilities::Ndes.answer());
        assert_eq!(ndes.request_options().cipher, ContentCipher::Des3Cbc);
        assert!(ndes.post() && ndes.renewal);
    }

    #[test]
    fn older_servers_get_what_they_advertise() {
        let des3 = CaCaps::parse("GetNextCACert\r\nDES3\r\nsha-1\r\n");
        assert!(!des3.post());
        assert_eq!(
            des3.request_options(),
            RequestOptions {
                cipher: ContentCipher::Des3Cbc,
                digest: DigestAlg::Sha1
            }
        );
        assert_eq!(des3.other, vec!["GetNextCACert".to_string()]);
        let nothing = CaCaps::parse("");
        assert_eq!(nothing.request_options(), RequestOptions::micromdm());
        let strong = CaCaps::parse("SHA-512\nSHA-256\nAES\nPOSTPKIOperation");
        assert_eq!(strong.request_options().digest, DigestAlg::Sha512);
    }
}
