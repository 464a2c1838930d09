//! The two code vocabularies of the Intune API: `CARequestErrorCode` (what a connector uploads
//! as a request's result) and the SCEP validation `ErrorCode` (what Intune answers a SCEP
//! server).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A code string or number that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a known code")]
pub struct UnknownCode(pub String);

macro_rules! ca_codes {
    ($( #[doc = $doc:literal] $variant:ident = $value:literal, $retry:literal; )*) => {
        /// `CARequestErrorCode`: the result code of a PKCS or revocation request. On the wire
        /// the reference clients disagree — the C# client sends the name (`"ConflictError"`),
        /// the Java client the number as a string (`"4005"`) — so both are read, and a bare
        /// number too; names are written.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CaRequestErrorCode {
            $( #[doc = $doc] $variant, )*
        }

        impl CaRequestErrorCode {
            /// Every code.
            pub const ALL: &'static [CaRequestErrorCode] = &[$(CaRequestErrorCode::$variant),*];

            /// The numeric value.
            pub fn value(self) -> u32 {
                match self { $(CaRequestErrorCode::$variant => $value,)* }
            }

            /// The name, as the C# client writes it.
            pub fn name(self) -> &'static str {
                match self { $(CaRequestErrorCode::$variant => stringify!($variant),)* }
            }

            /// What the code means.
            pub fn description(self) -> &'static str {
                match self { $(CaRequestErrorCode::$variant => $doc.trim(),)* }
            }

            /// Whether Intune hands the request out again after this result.
            pub fn is_retryable(self) -> bool {
                match self { $(CaRequestErrorCode::$variant => $retry,)* }
            }

            /// The code with this value.
            pub fn from_value(v: u64) -> Option<CaRequestErrorCode> {
                match v { $($value => Some(CaRequestErrorCode::$variant),)* _ => None }
            }
        }
    };
}

ca_codes! {
    /// No error (the only code a succeeded result may carry).
    None = 0, false;
    /// General non-retryable service error.
    NonRetryableServiceException = 4000, false;
    /// Data failed to deserialize.
    DataSerializationError = 4001, false;
    /// The request's parameters are invalid.
    ParameterDataInvalidError = 4002, false;
    /// A cryptography error.
    CryptographyError = 4003, false;
    /// The certificate was not found.
    CertificateNotFoundError = 4004, false;
    /// A conflict, such as revoking an already revoked certificate.
    ConflictError = 4005, false;
    /// Not supported.
    NotSupportedError = 4006, false;
    /// Larger than allowed.
    PayloadTooLargeError = 4007, false;
    /// General retryable service error.
    RetryableServiceException = 4100, true;
    /// The service (the CA) is unavailable.
    ServiceUnavailableException = 4101, true;
    /// The service is too busy.
    ServiceTooBusyException = 4102, true;
    /// Authentication failed.
    AuthenticationException = 4103, true;
}

impl FromStr for CaRequestErrorCode {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(n) = t.parse::<u64>() {
            return CaRequestErrorCode::from_value(n).ok_or_else(|| UnknownCode(s.into()));
        }
        CaRequestErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownCode(s.into()))
    }
}

impl fmt::Display for CaRequestErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

impl Serialize for CaRequestErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for CaRequestErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CaRequestErrorCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CARequestErrorCode name (\"ConflictError\"), or its number (4005 or \"4005\")")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                CaRequestErrorCode::from_value(v)
                    .ok_or_else(|| E::custom(UnknownCode(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(CaRequestErrorCode::from_value)
                    .ok_or_else(|| E::custom(UnknownCode(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

macro_rules! scep_codes {
    ($( #[doc = $doc:literal] $variant:ident; )*) => {
        /// The SCEP validation service's `ErrorCode` (`IntuneScepServiceException.ErrorCode`):
        /// `Success` or why a request is refused. A client must treat a name outside this list
        /// as an error in itself.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ScepErrorCode {
            $( #[doc = $doc] $variant, )*
        }

        impl ScepErrorCode {
            /// Every code, in the reference client's order.
            pub const ALL: &'static [ScepErrorCode] = &[$(ScepErrorCode::$variant),*];

            /// The name on the wire.
            pub fn name(self) -> &'static str {
                match self { $(ScepErrorCode::$variant => stringify!($variant),)* }
            }

            /// What the code means.
            pub fn description(self) -> &'static str {
                match self { $(ScepErrorCode::$variant => $doc.trim(),)* }
            }
        }
    };
}

scep_codes! {
    /// A failure the service does not name.
    Unknown;
    /// Accepted.
    Success;
    /// The PKCS#10 request could not be decoded.
    CertificateRequestDecodingFailed;
    /// The request carries no challengePassword.
    ChallengePasswordMissing;
    /// The challenge's structure could not be read.
    ChallengeDeserializationError;
    /// The challenge could not be decrypted (not minted by this service).
    ChallengeDecryptionError;
    /// The challenge is not in its encoding (not base64).
    ChallengeDecodingError;
    /// The challenge's timestamp is not valid (issued in the future).
    ChallengeInvalidTimestamp;
    /// The challenge has expired.
    ChallengeExpired;
    /// The request has no subject name, and the profile demands one.
    SubjectNameMissing;
    /// The subject name is not the one the profile demands.
    SubjectNameMismatch;
    /// The profile demands subject alternative names the request lacks.
    SubjectAltNameMissing;
    /// A subject alternative name is not the one the profile demands.
    SubjectAltNameMismatch;
    /// The requested key usage is not the profile's.
    KeyUsageMismatch;
    /// The key length is not the profile's.
    KeyLengthMismatch;
    /// The profile demands extended key usages the request lacks.
    EnhancedKeyUsageMissing;
    /// A requested extended key usage is not the profile's.
    EnhancedKeyUsageMismatch;
    /// The device's AAD key identifiers are missing.
    AadKeyIdentifierListMissing;
    /// The key does not match the key registered for the device.
    RegisteredKeyMismatch;
    /// The signing certificate's thumbprint does not match.
    SigningCertThumbprintMismatch;
    /// The SCEP profile is no longer assigned to the device.
    ScepProfileNoLongerTargetedToTheClient;
    /// The request's signature does not verify.
    SignatureValidationFailed;
    /// The certificate request id in the challenge is not known.
    BadCertificateRequestIdInChallenge;
    /// The device id in the challenge is not known.
    BadDeviceIdInChallenge;
    /// The user id in the challenge is not known.
    BadUserIdInChallenge;
}

impl FromStr for ScepErrorCode {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScepErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownCode(s.into()))
    }
}

impl fmt::Display for ScepErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ScepErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ScepErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_codes_read_every_spelling_the_clients_send() {
        for (text, want) in [
            ("\"ConflictError\"", CaRequestErrorCode::ConflictError),
            ("\"4005\"", CaRequestErrorCode::ConflictError),
            ("4005", CaRequestErrorCode::ConflictError),
            ("\"None\"", CaRequestErrorCode::None),
            ("0", CaRequestErrorCode::None),
        ] {
            let got: CaRequestErrorCode = serde_json::from_str(text).expect(text);
            assert_eq!(got, want, "{text}");
        }
        for bad in ["\"4999\"", "4999", "\"Conflict\"", "-1", "true"] {
            assert!(
                serde_json::from_str::<CaRequestErrorCode>(bad).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            serde_json::to_string(&CaRequestErrorCode::ServiceUnavailableException).unwrap(),
            "\"ServiceUnavailableException\""
        );
        let retryable: Vec<u32> = CaRequestErrorCode::ALL
            .iter()
            .filter(|c| c.is_retryable())
            .map(|c| c.value())
            .collect();
        assert_eq!(retryable, [4100, 4101, 4102, 4103]);
    }

    #[test]
    fn scep_codes_are_the_reference_clients_25() {
        assert_eq!(ScepErrorCode::ALL.len(), 25);
        for c in ScepErrorCode::ALL {
            assert_eq!(c.name().parse::<ScepErrorCode>(), Ok(*c));
        }
        assert!("success".parse::<ScepErrorCode>().is_err());
    }
}
