//! rdpdiag: where, and why, an RDP connection failed to set up its secure channel.
//!
//! The layers (the README's "Layout" section draws them): `wire` (pure parsers), `session` (one
//! observer per connection, a timeline of stages), `diagnose` (the cause catalogue and rules as data),
//! `report` (text and JSON), and the commands and drivers over them: `explain`, `decode`, `probe`,
//! `replay`, `capture`.
#![forbid(unsafe_code)]

/// The lints every layer that reads untrusted bytes keeps (STYLE rule 11), declared once here and
/// applied to each such layer as a whole: no `unwrap`/`expect`/`panic`, no indexing, no truncating casts.
macro_rules! hostile_input_layer {
    ($(#[$meta:meta])* $vis:vis mod $name:ident;) => {
        $(#[$meta])*
        #[deny(
            clippy::unwrap_used,
            clippy::expect_used,
            clippy::panic,
            clippy::indexing_slicing,
            clippy::cast_possible_truncation
        )]
        $vis mod $name;
    };
}

hostile_input_layer! { pub mod capture; }
hostile_input_layer! { pub mod decode; }
hostile_input_layer! { pub mod diagnose; }
hostile_input_layer! { pub mod explain; }
hostile_input_layer! { pub mod replay; }
hostile_input_layer! { pub mod serve; }
hostile_input_layer! { pub mod session; }
hostile_input_layer! { pub mod wire; }

pub mod probe;
pub mod report;

/// One entry point per parser for the cargo-fuzz targets and the fuzz replay test; not shipped API
/// (built only with the `fuzzing` feature, which `fuzz/` and the tests turn on).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz_targets;
