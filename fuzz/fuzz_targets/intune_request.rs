//! The fake Intune's request handling, in-process: every route's JSON body parsed as the fake
//! parses it (`ValidateBody`, `UploadCaRequestResults`, `UploadRevocationResults`,
//! `crp::Notify`, `admin::MintChallenge`, …) and acted on — challenges opened, CSRs read,
//! uploads judged against the queues — from the same fixed state for every input. Every
//! answer the fake gives is a JSON document (or empty).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("intune_request"),
    |data: &[u8]| {
        for (path, status, body) in connector_harness_fuzz::intune::world().run(data) {
            assert!(status != 0, "{path}: the call did not complete: {}", String::from_utf8_lossy(&body));
            if !body.is_empty() {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
                    "{path} answered {status} with a body that is not JSON: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }
);
