//! The wire layer: pure, zero-copy nom parsers for every PDU of RDP connection setup, and the few
//! encoders the prober needs.
//!
//! Conventions (see `docs/STYLE.md`):
//! - `parse_*(&[u8]) -> WireResult<'_, T>`: pure, borrowing, no clock, no logging.
//! - `Err(nom::Err::Incomplete(_))` means "need more bytes", never "bad bytes". Every entry point
//!   reports a cut at any layer boundary as `Incomplete`.
//! - Inside a PDU whose length is known, fields are parsed with [`bounded`]: running out of bytes there is
//!   a length error of that PDU, not `Incomplete`. This is the one place the conversion happens.
//! - Protocol values are open newtypes with named constants; an unknown value survives and prints in hex.

pub mod cert;
pub mod credssp;
pub mod early_auth;
pub mod mcs;
pub mod ntlm;
pub mod rdp_neg;
pub mod rdpeudp;
pub mod tls;
pub mod tpkt;
pub mod x224;

use nom::error::{ErrorKind, ParseError};

/// Why bytes could not be parsed. Every variant names the PDU it happened in; no variant allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A field holds a value its structure forbids.
    #[error("{pdu}: {field} is {got:#x}, expected {expected}")]
    BadValue {
        pdu: &'static str,
        field: &'static str,
        got: u64,
        expected: &'static str,
    },
    /// A length field disagrees with the bytes around it.
    #[error("{pdu}: {field} {got} is out of range ({expected})")]
    BadLength {
        pdu: &'static str,
        field: &'static str,
        got: u64,
        expected: &'static str,
    },
    /// A PDU's content ends before one of its fields does.
    #[error("{pdu}: content ends inside a field ({kind:?})")]
    Truncated { pdu: &'static str, kind: ErrorKind },
    /// nom could not parse; `pdu` is filled in by [`in_pdu`] where the caller knows it.
    #[error("{pdu}: malformed ({kind:?})")]
    Malformed { pdu: &'static str, kind: ErrorKind },
}

/// What every parser returns.
pub type WireResult<'a, T> = nom::IResult<&'a [u8], T, WireError>;

const UNNAMED: &str = "input";

impl WireError {
    /// The PDU this error happened in.
    pub fn pdu(&self) -> &'static str {
        match self {
            WireError::BadValue { pdu, .. }
            | WireError::BadLength { pdu, .. }
            | WireError::Truncated { pdu, .. }
            | WireError::Malformed { pdu, .. } => pdu,
        }
    }

    fn named(self, name: &'static str) -> Self {
        match self {
            WireError::Malformed { pdu, kind } if pdu == UNNAMED => {
                WireError::Malformed { pdu: name, kind }
            }
            WireError::Truncated { pdu, kind } if pdu == UNNAMED => {
                WireError::Truncated { pdu: name, kind }
            }
            other => other,
        }
    }
}

impl<'a> ParseError<&'a [u8]> for WireError {
    fn from_error_kind(_input: &'a [u8], kind: ErrorKind) -> Self {
        WireError::Malformed { pdu: UNNAMED, kind }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// Shorthand to fail with a [`WireError`].
pub fn fail<'a, T>(e: WireError) -> WireResult<'a, T> {
    Err(nom::Err::Error(e))
}

/// Names the PDU in unnamed nom errors raised by `r`.
pub fn in_pdu<T>(
    pdu: &'static str,
    r: Result<T, nom::Err<WireError>>,
) -> Result<T, nom::Err<WireError>> {
    r.map_err(|e| e.map(|e| e.named(pdu)))
}

/// Runs `parser` over `body`, the complete content of a PDU whose length is known. Running out of bytes
/// inside it is not "need more": it is a field that overruns the PDU, reported as [`WireError::Truncated`].
pub fn bounded<'a, T>(
    pdu: &'static str,
    body: &'a [u8],
    mut parser: impl FnMut(&'a [u8]) -> WireResult<'a, T>,
) -> WireResult<'a, T> {
    match parser(body) {
        Err(nom::Err::Incomplete(_)) => fail(WireError::Truncated {
            pdu,
            kind: ErrorKind::Eof,
        }),
        other => in_pdu(pdu, other),
    }
}

/// Splits `n` bytes off `i`, or asks for the missing ones.
pub fn take_n(i: &[u8], n: usize) -> WireResult<'_, &[u8]> {
    match (i.get(..n), i.get(n..)) {
        (Some(head), Some(rest)) => Ok((rest, head)),
        _ => Err(nom::Err::Incomplete(nom::Needed::new(
            n.saturating_sub(i.len()),
        ))),
    }
}

/// Writes an open protocol value: its spec name when it has one, else hex.
/// A flag set as its known names joined by `|`, then any bits without a name in hex (`SYN|ACK|0x8000`);
/// no bit at all is `0x0`. Shared by every flag type, so they all read the same way.
pub fn write_flags(
    f: &mut std::fmt::Formatter<'_>,
    bits: u64,
    names: impl IntoIterator<Item = (u64, &'static str)>,
) -> std::fmt::Result {
    let mut rest = bits;
    let mut first = true;
    for (bit, name) in names {
        if bit != 0 && bits & bit == bit {
            f.write_str(if first { "" } else { "|" })?;
            f.write_str(name)?;
            rest &= !bit;
            first = false;
        }
    }
    if rest != 0 || first {
        f.write_str(if first { "" } else { "|" })?;
        write!(f, "{rest:#x}")?;
    }
    Ok(())
}

pub(crate) fn write_named(
    f: &mut std::fmt::Formatter<'_>,
    name: Option<&'static str>,
    value: u64,
) -> std::fmt::Result {
    match name {
        Some(name) => f.write_str(name),
        None => write!(f, "{value:#x}"),
    }
}
