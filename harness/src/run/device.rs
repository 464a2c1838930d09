//! The device simulator's part in a run: a device enrolls over SCEP against the world's NDES
//! with the harness's own SCEP client, and the result is classified for the scenario.

use std::fmt;

use crate::scenario::model::MessageShape;

use super::world::World;

/// What a device got from NDES.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrollment {
    /// CertRep SUCCESS with a certificate.
    Issued {
        /// Serial, upper-case hex.
        serial: String,
    },
    /// CertRep FAILURE.
    Rejected {
        /// The failInfo NDES gave.
        fail_info: String,
    },
    /// No CertRep: an HTTP error, a timeout, or an answer the client could not read.
    Error {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Enrollment::Issued { serial } => write!(f, "a certificate (serial {serial})"),
            Enrollment::Rejected { fail_info } => write!(f, "a CertRep FAILURE ({fail_info})"),
            Enrollment::Error { reason } => write!(f, "no CertRep ({reason})"),
        }
    }
}

/// Enrolls `device` (the `n`-th enrollment of the run) with `challenge`, building its message
/// as `shape` says.
pub async fn enroll(world: &World, device: &str, n: usize, challenge: Option<&str>, shape: MessageShape) -> Result<Enrollment, String> {
    let _ = (world, device, n, challenge, shape);
    Err("SCEP client not wired yet".into())
}
