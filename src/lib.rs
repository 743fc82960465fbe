//! rdpdiag: where, and why, an RDP connection failed to set up its secure channel.
//!
//! The crate is layered as `../shared/design/ARCHITECTURE.md` describes. This version holds the pure
//! wire layer: parsers (and the few encoders the prober needs) for every PDU of RDP connection setup.
#![forbid(unsafe_code)]

pub mod decode;
pub mod diagnose;
pub mod fuzz_targets;
pub mod hexinput;
pub mod replay;
pub mod report;
pub mod session;
pub mod wire;
