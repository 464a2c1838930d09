//! GetCACaps (RFC 8894 §3.5.2): the keywords a server advertises and the request algorithms a
//! client chooses from them.

use super::client::RequestOptions;
use super::{ContentCipher, DigestAlg};

// One type for the scenario language (`setup.ndes.capabilities`), `serve --capabilities` and the
// fake NDES. Not `Serialize`: the scenario schema would then print a default it never had.
/// What NDES's GetCACaps advertises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CapabilitiesName")]
pub enum Capabilities {
    /// As a Windows NDES answers: no AES, no SCEPStandard; every cipher accepted.
    #[default]
    Ndes,
    /// RFC 8894's modern answer with SCEPStandard; single DES refused.
    Rfc8894,
}

impl Capabilities {
    /// Every value, with the name it is written with.
    pub const ALL: [(Capabilities, &'static str); 2] = [
        (Capabilities::Ndes, "ndes"),
        (Capabilities::Rfc8894, "rfc8894"),
    ];

    /// The GetCACaps body. `Ndes` is a Windows NDES's answer as seen in the wild
    /// (`POSTPKIOperation`, `Renewal`, `SHA-512`, `SHA-256`, `SHA-1`, `DES3`; no AES, no
    /// `SCEPStandard`); `Rfc8894` is the modern answer (`AES`, `POSTPKIOperation`, `Renewal`,
    /// `SCEPStandard`, `SHA-256`, `SHA-512`).
    pub fn answer(self) -> &'static str {
        match self {
            Capabilities::Ndes => {
                "POSTPKIOperation\r\nRenewal\r\nSHA-512\r\nSHA-256\r\nSHA-1\r\nDES3\r\n"
            }
            Capabilities::Rfc8894 => {
                "AES\r\nPOSTPKIOperation\r\nRenewal\r\nSCEPStandard\r\nSHA-256\r\nSHA-512\r\n"
            }
        }
    }

    /// Whether a request's envelope may use `cipher`: NDES still accepts single DES from old
    /// clients; `SCEPStandard` forbids it (badAlg).
    pub fn accepts(self, cipher: ContentCipher) -> bool {
        !(self == Capabilities::Rfc8894 && cipher == ContentCipher::DesCbc)
    }
}

impl std::str::FromStr for Capabilities {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Capabilities::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| {
                format!("`{s}` is not a capabilities answer: expected `ndes` or `rfc8894`")
            })
    }
}

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
        let modern = CaCaps::parse(Capabilities::Rfc8894.answer());
        assert_eq!(modern.request_options().cipher, ContentCipher::Aes128Cbc);
        assert_eq!(modern.request_options().digest, DigestAlg::Sha512);
        assert!(modern.post());
        // A Windows NDES advertises no AES: a client picks triple DES.
        let ndes = CaCaps::parse(Capabilities::Ndes.answer());
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
