//! SCEP profiles: what Intune demands of a device's request, and the check of a request against
//! one, in the order the real service's error codes suggest (subject, alternative names, key
//! usage, key length, extended key usage).

use crate::contract::intune::ScepErrorCode;
use crate::csr::{Csr, KeyUse, San};

/// Which kind of subject alternative name a profile demands, and what it must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SanKind {
    /// UPN other-name = the user.
    Upn,
    /// dNSName = the device.
    Dns,
    /// rfc822Name = the user.
    Email,
}

/// A SCEP profile, as an Intune admin configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScepProfile {
    /// Its name (a challenge is minted for one profile).
    pub name: String,
    /// The subject must be `CN=<device>`.
    pub subject_is_device: bool,
    /// Alternative names the request must carry.
    pub sans: Vec<SanKind>,
    /// Key usage the request may ask for (a request asking for another is refused).
    pub key_usage: Option<Vec<KeyUse>>,
    /// Key length in bits.
    pub key_length: Option<usize>,
    /// Extended key usages the request must ask for.
    pub extended_key_usage: Option<Vec<der::oid::ObjectIdentifier>>,
}

impl ScepProfile {
    /// `SCEP-Default`: subject `CN=<device>`, 2048-bit keys, nothing else demanded.
    pub fn default_profile() -> ScepProfile {
        ScepProfile {
            name: "SCEP-Default".into(),
            subject_is_device: true,
            sans: Vec::new(),
            key_usage: None,
            key_length: Some(2048),
            extended_key_usage: None,
        }
    }

    /// Checks `csr` for `device` and `user` against the profile.
    pub fn check(
        &self,
        csr: &Csr,
        device: &str,
        user: &str,
    ) -> Result<(), (ScepErrorCode, String)> {
        use ScepErrorCode as E;
        if self.subject_is_device {
            match csr.common_name.as_deref() {
                None => return Err((E::SubjectNameMissing, "the request has no subject common name".into())),
                Some(cn) if cn != device => {
                    return Err((
                        E::SubjectNameMismatch,
                        format!("subject CN `{cn}` is not the device `{device}` the challenge was issued to"),
                    ))
                }
                _ => {}
            }
        }
        for kind in &self.sans {
            let want = match kind {
                SanKind::Upn => San::Upn(user.into()),
                SanKind::Dns => San::Dns(device.into()),
                SanKind::Email => San::Email(user.into()),
            };
            let kind = match kind {
                SanKind::Upn => "UPN",
                SanKind::Dns => "DNS",
                SanKind::Email => "e-mail",
            };
            let same_kind: Vec<&San> = csr
                .sans
                .iter()
                .filter(|s| std::mem::discriminant(*s) == std::mem::discriminant(&want))
                .collect();
            if same_kind.is_empty() {
                return Err((
                    E::SubjectAltNameMissing,
                    format!("the profile demands a {kind} subject alternative name"),
                ));
            }
            if !same_kind.contains(&&want) {
                return Err((
                    E::SubjectAltNameMismatch,
                    format!("the {kind} subject alternative name is not {want}"),
                ));
            }
        }
        if let Some(extra) = self.unexpected_san(csr, device, user) {
            return Err((
                E::SubjectAltNameMismatch,
                format!("the request names {extra}, which the profile does not expect for this device and user"),
            ));
        }
        if let (Some(allowed), Some(asked)) = (&self.key_usage, &csr.key_usage) {
            let mut a = allowed.clone();
            let mut b = asked.clone();
            a.sort();
            b.sort();
            if a != b {
                return Err((
                    E::KeyUsageMismatch,
                    format!(
                        "the request asks for key usage {}; the profile allows {}",
                        names(asked),
                        names(allowed)
                    ),
                ));
            }
        }
        if let Some(bits) = self.key_length {
            if csr.key_bits != bits {
                return Err((
                    E::KeyLengthMismatch,
                    format!(
                        "the key is {} bits; the profile demands {bits}",
                        csr.key_bits
                    ),
                ));
            }
        }
        if let Some(want) = &self.extended_key_usage {
            match &csr.extended_key_usage {
                None => {
                    return Err((
                        E::EnhancedKeyUsageMissing,
                        "the profile demands extended key usages the request does not ask for"
                            .into(),
                    ))
                }
                Some(asked) => {
                    let mut a = asked.clone();
                    let mut b = want.clone();
                    a.sort();
                    b.sort();
                    if a != b {
                        return Err((
                            E::EnhancedKeyUsageMismatch,
                            "the requested extended key usages are not the profile's".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl ScepProfile {
    /// The first alternative name of `csr` the profile does not expect: one naming someone
    /// other than the challenge's `device` and `user` — another user's UPN or e-mail (beside
    /// the right one, or under a profile that demands none), another device's DNS name. The
    /// device's own names (its UPN and e-mail being its user's, its DNS name the device or a
    /// name under it, `phone-1.contoso.test`) are expected whatever the profile demands.
    fn unexpected_san<'c>(&self, csr: &'c Csr, device: &str, user: &str) -> Option<&'c San> {
        let own_dns = |d: &str| {
            let d = d.to_ascii_lowercase();
            let device = device.to_ascii_lowercase();
            d == device
                || d.strip_prefix(&device)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        csr.sans.iter().find(|s| match s {
            San::Upn(u) | San::Email(u) => !u.eq_ignore_ascii_case(user),
            San::Dns(d) => !own_dns(d),
        })
    }
}

/// `digitalSignature, keyEncipherment`, or `none`.
fn names(usages: &[KeyUse]) -> String {
    if usages.is_empty() {
        return "none".into();
    }
    usages
        .iter()
        .map(|u| u.name())
        .collect::<Vec<_>>()
        .join(", ")
}
