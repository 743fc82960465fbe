//! rdpdiag: where, and why, an RDP connection failed to set up its secure channel.
//!
//! The crate is layered as `../shared/design/ARCHITECTURE.md` describes: `wire` (pure parsers),
//! `session` (one observer per connection, a timeline of stages), `diagnose` (rules as data),
//! `report` (text and JSON), `explain` (what a disconnect code means), and the drivers.
#![forbid(unsafe_code)]

pub mod capture;
pub mod decode;
mod decode_tls;
pub mod diagnose;
pub mod explain;
pub mod fuzz_targets;
pub mod hexinput;
pub mod probe;
pub mod replay;
pub mod report;
pub mod session;
pub mod wire;
