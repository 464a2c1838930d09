//! A GetCACert answer as a SCEP client reads it: one DER certificate or a certs-only
//! SignedData, BER accepted (`scep::parse_ca_certs`, `scep::certs_only`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("scep_ca_certs"),
    |data: &[u8]| {
        let _ = harness_runner::scep::parse_ca_certs(data);
        let _ = harness_runner::scep::certs_only(data);
    }
);
