//! What every layer of `decode` prints the same way: lines, complaints, a short hex preview and a parse
//! error. A complaint (malformed, cut short, not recognised) is remembered, so the command's verdict
//! and exit code follow from what was printed, on every path.

use std::fmt;
use std::io::{self, Write};

use crate::wire::WireError;

/// The output of `decode`, and whether anything printed was a complaint.
pub(crate) struct Printer<'a> {
    out: &'a mut dyn Write,
    problems: bool,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            problems: false,
        }
    }

    /// A line that states a fact.
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        self.out.write_fmt(args)?;
        self.out.write_all(b"\n")
    }

    /// A line that says something is malformed, cut short or not recognised.
    pub(crate) fn problem(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        self.problems = true;
        self.line(args)
    }

    /// Whether any complaint was printed.
    pub(crate) fn had_problems(&self) -> bool {
        self.problems
    }
}

pub(crate) fn preview(bytes: &[u8]) -> String {
    let shown = bytes.get(..16).unwrap_or(bytes);
    let ellipsis = if bytes.len() > shown.len() { "…" } else { "" };
    format!("{}{ellipsis}", hex::encode(shown))
}

/// Says why `what` at `offset` could not be read (a complaint); `None`: nothing of it was used.
pub(crate) fn report_error(
    p: &mut Printer<'_>,
    offset: usize,
    what: &str,
    e: &nom::Err<WireError>,
) -> io::Result<Option<usize>> {
    match e {
        nom::Err::Incomplete(needed) => {
            let more = match needed {
                nom::Needed::Size(n) => format!("{n} more bytes"),
                nom::Needed::Unknown => "more bytes".to_string(),
            };
            p.problem(format_args!("@{offset}: {what} is cut short: needs {more}"))?;
        }
        // The error names its PDU already; say `what` only when it does not.
        nom::Err::Error(e) | nom::Err::Failure(e) if e.pdu().starts_with(what) => {
            p.problem(format_args!("@{offset}: {e}"))?
        }
        nom::Err::Error(e) | nom::Err::Failure(e) => {
            p.problem(format_args!("@{offset}: {what}: {e}"))?
        }
    }
    Ok(None)
}
