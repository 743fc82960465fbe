//! Readable text for explanations. User-facing words (the kind's label, "likely causes", "check") are
//! kept apart from wire names, which appear only as the `name` line.

use std::io::{self, Write};

use super::{CodeKind, Explanation};
use crate::report::escape::escape_control as esc;

/// Writes each explanation as a block: the code and what kind it is, its name and meaning, the likely
/// causes by id with one line each, and the checks. Blocks are separated by a blank line; an empty slice
/// writes "no known code".
pub fn write_text(explanations: &[Explanation], out: &mut dyn Write) -> io::Result<()> {
    if explanations.is_empty() {
        return writeln!(out, "no known code");
    }
    for (at, explanation) in explanations.iter().enumerate() {
        if at > 0 {
            writeln!(out)?;
        }
        let code = explanation
            .value
            .map_or_else(String::new, |value| match explanation.kind {
                CodeKind::TlsAlert | CodeKind::SchannelEvent | CodeKind::TermServiceEvent => {
                    value.to_string()
                }
                CodeKind::NtStatus => format!("0x{value:08X}"),
                _ if value < 10 => format!("0x{value:X}"),
                _ => format!("0x{value:X} ({value})"),
            });
        let code = match explanation.kind {
            CodeKind::Cause => explanation.name.clone(),
            _ => code,
        };
        writeln!(out, "{code} — {}", explanation.kind.label())?;
        if explanation.kind != CodeKind::Cause
            && explanation
                .value
                .is_none_or(|v| format!("{v:#x}") != explanation.name)
        {
            writeln!(out, "  name:    {}", esc(&explanation.name))?;
        }
        writeln!(out, "  meaning: {}", esc(&explanation.meaning))?;
        if !explanation.causes.is_empty() {
            let heading = match explanation.kind {
                CodeKind::Cause => "cause",
                _ => "likely causes",
            };
            writeln!(out, "  {heading}:")?;
            for cause in explanation.causes.iter().filter_map(|id| id.cause()) {
                writeln!(out, "    {}: {}", cause.id, cause.title)?;
                writeln!(out, "      fix: {}", cause.remedy)?;
            }
        }
        if !explanation.checks.is_empty() {
            writeln!(out, "  check:")?;
            for check in &explanation.checks {
                writeln!(out, "    - {check}")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::super::explain;
    use super::*;

    #[test]
    fn renders_0x904() {
        let mut out = Vec::new();
        write_text(&explain("0x904"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("0x904 (2308) — disconnect reason"),
            "{text}"
        );
        assert!(text.contains("  name:    disconnectReasonAtClientWinsockFDCLOSE\n"));
        assert!(text.contains("    tls-server-abort: Server aborted the TLS handshake\n      fix: The server cannot use its certificate or key"));
        assert!(text.contains("  check:\n    - "));
    }

    #[test]
    fn renders_nothing_known() {
        let mut out = Vec::new();
        write_text(&[], &mut out).unwrap();
        assert_eq!(out, b"no known code\n");
    }
}
