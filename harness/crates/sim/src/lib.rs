//! The simulation core: the scenario clock, the seeded random source, and how a failed HTTP call is
//! described. Nothing that reaches the event stream reads the wall clock or an unseeded generator.

#![warn(missing_docs, unreachable_pub)]

pub mod sim;
pub mod transport;
