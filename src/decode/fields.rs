//! What every layer of `decode` prints the same way: a short hex preview and a parse error.

use std::io::{self, Write};

use crate::wire::WireError;

pub(crate) fn preview(bytes: &[u8]) -> String {
    let shown = bytes.get(..16).unwrap_or(bytes);
    let ellipsis = if bytes.len() > shown.len() { "…" } else { "" };
    format!("{}{ellipsis}", hex::encode(shown))
}

pub(crate) fn report_error(
    out: &mut dyn Write,
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
            writeln!(out, "@{offset}: {what} is cut short: needs {more}")?;
        }
        // The error names its PDU already ("TLS record: legacy_record_version ..."): say it once.
        nom::Err::Error(e) | nom::Err::Failure(e) if e.pdu() == what => {
            writeln!(out, "@{offset}: {e}")?
        }
        nom::Err::Error(e) | nom::Err::Failure(e) => writeln!(out, "@{offset}: {what}: {e}")?,
    }
    Ok(None)
}
