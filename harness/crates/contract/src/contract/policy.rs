//! The NDES policy-module interface: the plug-in NDES asks to verify each SCEP request before
//! issuing (Windows' `INDESPolicy::VerifyRequest`) and tells what came of it afterwards
//! (`INDESPolicy::Notify`). Intune's connector is such a module; so is a vendor's.
//!
//! NDES asks only about requests it could read: a message it cannot verify or decrypt is
//! refused by NDES itself and never reaches the policy module.

/// The policy module's decision on one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Issue the certificate with this template.
    Issue {
        /// Certificate template name for the CA.
        template: String,
    },
    /// Do not issue; NDES answers CertRep FAILURE (badRequest).
    Refuse {
        /// Why (for logs).
        reason: String,
    },
}

/// What NDES reports after trying to issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// The CA issued the certificate.
    Issued {
        /// SHA-1 thumbprint, upper-case hex.
        thumbprint: String,
        /// Serial number, upper-case hex.
        serial_number: String,
        /// Expiry, RFC 3339.
        not_after: String,
        /// The issuing CA's name (from the NDES configuration).
        ca_name: String,
    },
    /// The CA refused the request (HTTP 4xx).
    CaDenied {
        /// The CA's message.
        reason: String,
    },
    /// The CA failed (HTTP 5xx, timeout, connection refused, malformed answer).
    CaFailed {
        /// What went wrong.
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
