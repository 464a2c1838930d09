//! The NDES policy-module interface: the plug-in NDES asks to verify each SCEP request before
//! issuing (Windows' `INDESPolicy::VerifyRequest`) and tells what came of it afterwards
//! (`INDESPolicy::Notify`). Intune's connector is such a module; so is a vendor's.
//!
//! NDES asks only about requests it could read: a message it cannot verify or decrypt is
//! refused by NDES itself and never reaches the policy module.

use serde::{Deserialize, Serialize};

// One type for the in-process seam and the connector-under-test protocol's `verify_ok`; its
// doc comments are the protocol schema's descriptions (docs/vendor-contract.schema.json).
/// The policy module's decision.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Decision {
    /// Issue with this template.
    Issue {
        /// Certificate template.
        template: String,
    },
    /// Refuse (NDES answers CertRep FAILURE).
    Refuse {
        /// Why.
        reason: String,
    },
}

// One type for the in-process seam and the protocol's `notify` (tagged by `status` on the wire,
// named `Outcome` in the schema, as it was before the two were merged).
/// What NDES reports after trying to issue.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Outcome")]
pub enum Issued {
    /// The CA issued the certificate.
    Issued {
        /// SHA-1 thumbprint, upper-case hex.
        thumbprint: String,
        /// Serial number, upper-case hex.
        serial_number: String,
        /// Expiry, RFC 3339.
        not_after: String,
        /// The issuing CA's name.
        ca_name: String,
    },
    /// The CA refused.
    CaDenied {
        /// Why.
        reason: String,
    },
    /// The CA failed.
    CaFailed {
        /// Why.
        reason: String,
    },
}

/// A boxed, sendable future returned by [`PolicyModule`] methods.
pub type PolicyFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The NDES policy module.
pub trait PolicyModule: Send + Sync + 'static {
    /// Decides on a decrypted, signature-checked request: `csr_der` is its PKCS#10.
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision>;
    /// Told what came of a request the policy allowed.
    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()>;
    /// Told what came of a request the policy allowed, answering whether NDES may hand an
    /// issued certificate to the device. A SCEP gateway answers `false` when Intune did not
    /// accept its success notification (Intune's rule: no certificate then). The default tells
    /// [`PolicyModule::notify`] and always delivers, as NDES's policy modules do.
    fn conclude<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, Delivery> {
        Box::pin(async move {
            self.notify(transaction_id, csr_der, outcome).await;
            Delivery::Deliver
        })
    }
}

/// Whether NDES hands an issued certificate to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Answer CertRep SUCCESS with the certificate.
    Deliver,
    /// Answer CertRep FAILURE (badRequest) instead.
    Withhold {
        /// Why (for logs).
        reason: String,
    },
}

/// A policy that issues every request with one template and ignores notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowAll {
    /// The template every request is issued with.
    pub template: String,
}

impl AllowAll {
    /// Issues everything with `template`.
    pub fn new(template: impl Into<String>) -> AllowAll {
        AllowAll {
            template: template.into(),
        }
    }
}

impl PolicyModule for AllowAll {
    fn verify<'a>(&'a self, _: &'a str, _: &'a [u8]) -> PolicyFuture<'a, Decision> {
        Box::pin(async move {
            Decision::Issue {
                template: self.template.clone(),
            }
        })
    }

    fn notify<'a>(&'a self, _: &'a str, _: &'a [u8], _: Issued) -> PolicyFuture<'a, ()> {
        Box::pin(async {})
    }
}
