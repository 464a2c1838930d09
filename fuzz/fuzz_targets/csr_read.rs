//! A PKCS#10 as the fake Intune and the fake CA read it: `Csr::read` with every extension,
//! its signature check and key id, and `pki::read_csr`.
#![no_main]

use harness_runner::csr::Csr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("csr_read"),
    |data: &[u8]| {
        if let Ok(csr) = Csr::read(data) {
            let _ = csr.verify();
            let _ = csr.key_id();
        }
        let _ = harness_runner::pki::read_csr(data);
    }
);
