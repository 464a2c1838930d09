//! Detail fields: the named values an event carries besides its id and code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::CatalogError;

macro_rules! details {
    ($( $(#[$doc:meta])* $variant:ident => $key:literal, $xml:literal; )*) => {
        /// A named detail field of an event, in the order events print them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Detail {
            $( $(#[$doc])* $variant, )*
        }

        impl Detail {
            /// Every detail field, in print order.
            pub const ALL: &'static [Detail] = &[$(Detail::$variant),*];

            /// The snake_case key used in YAML, JSON and scenario files.
            pub fn key(self) -> &'static str {
                match self { $(Detail::$variant => $key,)* }
            }

            /// The `Data Name` used in Windows event XML.
            pub fn xml_name(self) -> &'static str {
                match self { $(Detail::$variant => $xml,)* }
            }

            /// Looks a field up by its XML `Data Name`.
            pub fn from_xml_name(name: &str) -> Option<Detail> {
                match name { $($xml => Some(Detail::$variant),)* _ => None }
            }
        }

        impl FromStr for Detail {
            type Err = CatalogError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($key => Ok(Detail::$variant),)* _ => Err(CatalogError::UnknownDetail(s.to_string())) }
            }
        }
    };
}

details! {
    /// Intune device id the request belongs to.
    DeviceId => "device_id", "DeviceId";
    /// Intune user id the request belongs to.
    UserId => "user_id", "UserId";
    /// Name of the certification authority involved.
    CaName => "ca_name", "CaName";
    /// Certificate template name.
    TemplateName => "template_name", "TemplateName";
    /// SHA-1 thumbprint of a certificate, upper-case hex.
    Thumbprint => "thumbprint", "Thumbprint";
    /// Certificate serial number, upper-case hex.
    SerialNumber => "serial_number", "SerialNumber";
    /// SCEP transaction id.
    TransactionId => "transaction_id", "TransactionId";
    /// Intune request id (PKCS) or request context (revocation).
    RequestId => "request_id", "RequestId";
    /// Which kind of Intune request: `pkcs` or `revoke`.
    RequestKind => "request_kind", "RequestKind";
    /// How many requests a download returned.
    RequestCount => "request_count", "RequestCount";
    /// Where an upload stopped (or `recorded`).
    UploadState => "upload_state", "UploadState";
    /// Where a download stopped (or `downloaded`).
    DownloadState => "download_state", "DownloadState";
    /// Expiry of a certificate (RFC 3339, scenario time).
    NotAfter => "not_after", "NotAfter";
    /// How many attempts the operation took.
    Attempts => "attempts", "Attempts";
    /// The peer's answer or the local cause, in a stable short form.
    Reason => "reason", "Reason";
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Detail {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
