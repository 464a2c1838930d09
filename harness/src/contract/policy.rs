//! The interface between the fake NDES and its policy module: the plug-in (Intune's
//! certificate registration point) that NDES asks to verify each SCEP request before issuing,
//! and tells what came of it afterwards. The reference connector implements [`PolicyModule`];
//! [`AllowAll`] is a trivial one for tests.

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

/// Why NDES could not even ask for verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unverified {
    /// The RA encryption certificate is missing: the envelope cannot be opened.
    EncryptionCertMissing,
    /// The RA signing certificate is missing: no answer can be signed.
    SigningCertMissing,
    /// The message could not be decoded, verified or decrypted (the reason says which).
    Undecodable(String),
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

/// The NDES policy module (Intune's certificate registration point plug-in).
pub trait PolicyModule: Send + Sync + 'static {
    /// Decides on a decrypted, signature-checked request: `csr_der` is its PKCS#10.
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision>;
    /// Told when a request could not be verified at all (`transaction_id` when readable).
    fn unverifiable<'a>(
        &'a self,
        transaction_id: Option<&'a str>,
        why: Unverified,
    ) -> PolicyFuture<'a, ()>;
    /// Told what came of a request the policy allowed.
    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()>;
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

    fn unverifiable<'a>(&'a self, _: Option<&'a str>, _: Unverified) -> PolicyFuture<'a, ()> {
        Box::pin(async {})
    }

    fn notify<'a>(&'a self, _: &'a str, _: &'a [u8], _: Issued) -> PolicyFuture<'a, ()> {
        Box::pin(async {})
    }
}
