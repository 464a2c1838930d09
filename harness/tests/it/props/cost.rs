//! What faults cost in real time, and how the lowering keeps that cost small: the connector's
//! timeout in generated worlds, and the share of costly faults kept as drawn.

use harness_runner::contract::fault::{FaultTarget, KindName, NdesOp};

/// The connector's limit of one HTTP call in generated worlds (real time). A `hang` costs
/// this once per attempt (so [`Cost`] keeps hangs few), but a healthy call slower than this —
/// a loaded machine — changes the stream (the timeout decides it), and the determinism and
/// exactly-once invariants then fail: 100 ms and 250 ms both did, about once in a few hundred
/// worlds at a load average of 6 to 9 on two cores, and 500 ms did once four worlds ran at a
/// time on two cores (CI, a world whose determinism run differed in one code). 2 s is the
/// scenarios' own default, chosen for the same reason; the four lanes absorb what the longer
/// hangs cost.
pub const TIMEOUT_MS: u32 = 2000;

/// What a fault costs in real time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Nothing to speak of.
    Cheap,
    /// A `hang` for the next calls: one connector timeout per call it holds.
    Timeout,
    /// A `hang` until healed: one connector timeout on every attempt at every call until a
    /// `heal`.
    TimeoutPerCall,
    /// A `hang` on an NDES operation a device calls: the device waits out its own patience
    /// (the runner's HTTP client waits for NDES to exhaust the connector's retries, plus 2 s),
    /// seconds per enrollment it strikes.
    Seconds,
}

/// Share of [`Cost::Seconds`] faults kept (the others are dropped).
pub const KEEP_SECONDS_PERCENT: u8 = 7;
/// Share of [`Cost::TimeoutPerCall`] faults kept until healed (the others strike once).
pub const KEEP_UNTIMED_HANG_PERCENT: u8 = 25;

impl Cost {
    /// The cost of a fault of `kind` on `target` for `times` calls (`None`: until healed).
    pub fn of(target: FaultTarget, kind: KindName, times: Option<u32>) -> Cost {
        match (kind, target, times) {
            (KindName::Hang, FaultTarget::Ndes(NdesOp::GetCaCert | NdesOp::PkiOperation), _) => {
                Cost::Seconds
            }
            (KindName::Hang, _, None) => Cost::TimeoutPerCall,
            (KindName::Hang, _, Some(_)) => Cost::Timeout,
            _ => Cost::Cheap,
        }
    }
}
