//! The deterministic core: the scenario clock and the seeded random source.
//!
//! Nothing that reaches the event stream may read the wall clock or an unseeded generator;
//! everything takes time from [`Clock`] and randomness from [`Rng`].

mod clock;
mod rng;

pub use clock::{format_time, parse_time, Clock, DEFAULT_EPOCH, END_OF_TIME, START_OF_TIME};
pub use rng::{format_guid, Rng};
