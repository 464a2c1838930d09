//! From the scenario language to the fakes' configuration and the devices' requests: the one
//! place where a scenario's words become the types the fakes and the device simulator use.

use crate::csr::{CsrDigest, CsrSpec, San};
use crate::fakes::ca::{ExtensionPolicy, Template};
use crate::fakes::intune::{SanKind, ScepProfile};
use crate::scenario::model::{
    CsrShape, DigestName, ExtensionsName, ProfileSetup, SanKindName, SanValue, SubjectRule,
    TemplateSetup,
};

/// A CA template.
pub fn template(t: &TemplateSetup) -> Template {
    let base = Template::new(&t.name, 365);
    Template {
        validity: t.validity.get(),
        key_usages: t.key_usage.clone().unwrap_or(base.key_usages.clone()),
        extended_key_usages: t
            .eku
            .as_ref()
            .map(|es| es.iter().map(|e| e.oid()).collect())
            .unwrap_or(base.extended_key_usages.clone()),
        extensions: match t.extensions {
            ExtensionsName::Override => ExtensionPolicy::Override,
            ExtensionsName::Honour => ExtensionPolicy::Honour,
        },
        ..base
    }
}

/// A SCEP profile at Intune.
pub fn profile(p: &ProfileSetup) -> ScepProfile {
    ScepProfile {
        name: p.name.clone(),
        subject_is_device: p.subject == SubjectRule::Device,
        sans: p
            .san
            .iter()
            .map(|k| match k {
                SanKindName::Upn => SanKind::Upn,
                SanKindName::Dns => SanKind::Dns,
                SanKindName::Email => SanKind::Email,
            })
            .collect(),
        key_usage: p.key_usage.clone(),
        key_length: Some(p.key_length as usize),
        extended_key_usage: p
            .eku
            .as_ref()
            .map(|es| es.iter().map(|e| e.oid()).collect()),
    }
}

/// The request `device` of `user` sends, shaped as `shape` says, with `challenge`.
pub fn csr_spec(shape: &CsrShape, device: &str, user: &str, challenge: Option<&str>) -> CsrSpec {
    let fill = |v: &str| v.replace("{device}", device).replace("{user}", user);
    CsrSpec {
        common_name: match shape.subject.as_deref() {
            None | Some("device") => Some(device.to_string()),
            Some("none") => None,
            Some(literal) => Some(fill(literal)),
        },
        challenge: challenge.map(str::to_string),
        sans: shape
            .san
            .iter()
            .map(|s| match s {
                SanValue::Upn(v) => San::Upn(fill(v)),
                SanValue::Dns(v) => San::Dns(fill(v)),
                SanValue::Email(v) => San::Email(fill(v)),
            })
            .collect(),
        key_usage: shape.key_usage.clone(),
        extended_key_usage: shape.eku.iter().map(|e| e.oid()).collect(),
        subject_key_identifier: !shape.san.is_empty() || !shape.key_usage.is_empty(),
        digest: match shape.digest {
            DigestName::Sha1 => CsrDigest::Sha1,
            DigestName::Sha256 => CsrDigest::Sha256,
        },
    }
}
