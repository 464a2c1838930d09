//! The catalog against a table typed independently from the seed, and against the seed file
//! itself when the shared folder is present.

use std::collections::BTreeSet;
use std::process::Command;

use harness_runner::catalog::{self, DiagnosticCode, EventId, Level, CODES, EVENTS};

const Z: u32 = 0x0000_0000;
const U: u32 = 0x0FFF_FFFF;

/// (id, name, level, codes) written out by hand from the vendor's table.
const EXPECTED_EVENTS: &[(u16, &str, &str, &[u32])] = &[
    (10010, "StartedConnectorService", "Information", &[Z, U]),
    (10020, "StoppedConnectorService", "Information", &[Z, U]),
    (10100, "CertificateRenewal_Success", "Information", &[Z, U]),
    (10102, "CertificateRenewal_Failure", "Error", &[Z, 0x405, U]),
    (10302, "RetrieveCertificate_Error", "Error", &[Z, 0x404, U]),
    (
        10301,
        "RetrieveCertificate_Warning",
        "Warning",
        &[Z, 0x403, U],
    ),
    (20100, "PkcsCertIssue_Success", "Information", &[Z, U]),
    (
        20102,
        "PkcsCertIssue_Failure",
        "Error",
        &[Z, 0x400, 0x401, U],
    ),
    (20200, "RevokeCert_Success", "Information", &[Z, U]),
    (20202, "RevokeCert_Failure", "Error", &[Z, 0x402, U]),
    (20300, "Upload_Success", "Information", &[Z, U]),
    (20302, "Upload_Failure", "Error", &[Z, U]),
    (20400, "Download_Success", "Information", &[Z, U]),
    (20402, "Download_Failure", "Error", &[Z, U]),
    (20500, "CRPVerifyMetric_Success", "Information", &[Z, U]),
    (20501, "CRPVerifyMetric_Warning", "Warning", &[Z, 0x411, U]),
    (
        20502,
        "CRPVerifyMetric_Failure",
        "Error",
        &[Z, 0x408, 0x409, 0x410, U],
    ),
    (20600, "CRPNotifyMetric_Success", "Information", &[Z, U]),
    (20602, "CRPNotifyMetric_Failure", "Error", &[Z, U]),
];

const EXPECTED_CODES: &[(u32, &str)] = &[
    (0x000, "Success"),
    (0x400, "PKCS_Issue_CA_Unavailable"),
    (0x401, "Symantec_ClientAuthCertNotFound"),
    (0x402, "RevokeCert_AccessDenied"),
    (0x403, "CertThumbprint_NotFound"),
    (0x404, "Certificate_NotFound"),
    (0x405, "Certificate_Expired"),
    (0x408, "CRPSCEPCert_NotFound"),
    (0x409, "CRPSCEPSigningCert_NotFound"),
    (0x410, "CRPSCEPDeserialize_Failed"),
    (0x411, "CRPSCEPChallenge_Expired"),
    (0x0FFF_FFFF, "Unknown_Error"),
];

fn expected_pairs() -> BTreeSet<(u16, u32)> {
    EXPECTED_EVENTS
        .iter()
        .flat_map(|(id, _, _, codes)| codes.iter().map(move |c| (*id, *c)))
        .collect()
}

fn catalog_pairs() -> BTreeSet<(u16, u32)> {
    catalog::pairs()
        .iter()
        .map(|p| (p.event.id(), p.code.value()))
        .collect()
}

#[test]
fn events_match_the_independent_table() {
    assert_eq!(EVENTS.len(), EXPECTED_EVENTS.len());
    for (id, name, level, _) in EXPECTED_EVENTS {
        let e = EventId::from_id(*id).unwrap_or_else(|| panic!("event {id} missing"));
        assert_eq!(e.name(), *name);
        assert_eq!(e.level().name(), *level);
        assert_eq!(name.parse::<EventId>().unwrap(), e);
    }
}

#[test]
fn codes_match_the_independent_table() {
    assert_eq!(CODES.len(), EXPECTED_CODES.len());
    for (value, name) in EXPECTED_CODES {
        let c =
            DiagnosticCode::from_value(*value).unwrap_or_else(|| panic!("code {value:#x} missing"));
        assert_eq!(c.name(), *name);
        assert_eq!(format!("0x{value:08X}"), c.to_string());
    }
}

#[test]
fn pairs_match_the_independent_table() {
    assert_eq!(expected_pairs().len(), 48);
    assert_eq!(catalog_pairs(), expected_pairs());
}

#[test]
fn levels_follow_the_name_suffix() {
    for e in EVENTS.iter() {
        let want = if e.name.ends_with("_Failure") || e.name.ends_with("_Error") {
            Level::Error
        } else if e.name.ends_with("_Warning") {
            Level::Warning
        } else {
            Level::Information
        };
        assert_eq!(e.level, want, "{}", e.name);
    }
}

/// Parses the seed's two markdown tables (Portuguese text; only ids, names and codes matter).
#[test]
fn catalog_matches_the_seed_file() {
    let Some(shared) = harness_test_support::shared_dir("seeds") else {
        return;
    };
    let dir = shared.join("seeds");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "txt"))
        .unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let mut pairs = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if let Ok(id) = cells[0].parse::<u16>() {
            let event: EventId = cells[1].parse().unwrap();
            assert_eq!(event.id(), id);
            for code in cells[3].split(',') {
                let c: DiagnosticCode = code.trim().parse().unwrap_or_else(|e| panic!("{e}"));
                pairs.insert((id, c.value()));
            }
        } else if cells[0].starts_with("0x") {
            let c: DiagnosticCode = cells[0].parse().unwrap();
            assert_eq!(
                c.name(),
                cells[1]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .replace("Êxito", "Success")
            );
            codes.insert(c);
        }
    }
    assert_eq!(pairs, catalog_pairs());
    assert_eq!(codes.len(), 12);
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn cli_catalog_json_lists_19_12_48() {
    let (code, out, _) = cli(&["catalog", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 19);
    assert_eq!(v["codes"].as_array().unwrap().len(), 12);
    let pairs: BTreeSet<(u16, u32)> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let code = p["code"]
                .as_str()
                .unwrap()
                .parse::<DiagnosticCode>()
                .unwrap();
            (p["event_id"].as_u64().unwrap() as u16, code.value())
        })
        .collect();
    assert_eq!(pairs, expected_pairs());
    for f in ["table", "markdown"] {
        let (code, out, _) = cli(&["catalog", "--format", f]);
        assert_eq!(code, 0);
        assert!(out.contains("48 allowed pairs"), "{out}");
    }
}

#[test]
fn cli_explain_answers_and_refuses() {
    let (code, out, _) = cli(&["explain", "0x0FFFFFFFF"]);
    assert_eq!(code, 0);
    assert!(out.contains("0x0FFFFFFF (Unknown_Error"), "{out}");
    let (carriers, causes) = out
        .split_once("What makes the reference connector write it:")
        .expect("explain lists the causes after the events");
    assert_eq!(
        carriers.matches("\n    ").count(),
        19,
        "every event carries Unknown_Error: {out}"
    );
    // Each of the 19 pairs with Unknown_Error has a cause and a scenario that reproduces it.
    assert_eq!(
        causes
            .matches("reproduce: cargo xtask run-scenarios --exact ")
            .count(),
        19,
        "{out}"
    );

    let (code, out, _) = cli(&["explain", "1033"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("0x00000409 (CRPSCEPSigningCert_NotFound"),
        "{out}"
    );
    assert!(out.contains("20502 CRPVerifyMetric_Failure"), "{out}");

    let (code, out, _) = cli(&["explain", "20502"]);
    assert_eq!(code, 0);
    assert!(out.contains("CRPVerifyMetric_Failure"), "{out}");
    for c in [
        "0x00000000",
        "0x00000408",
        "0x00000409",
        "0x00000410",
        "0x0FFFFFFF",
    ] {
        assert!(out.contains(c), "{c} in {out}");
    }
    assert!(!out.contains('\x1b'), "NO_COLOR must turn colour off");

    let (code, _, err) = cli(&["explain", "0x00000406"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not an event"), "{err}");
}
