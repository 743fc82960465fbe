//! `rdpdiag decode` (pasted bytes) and `rdpdiag explain` (pasted codes).

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use rdpdiag::decode::hexinput::parse_hex_input;
use rdpdiag::decode::{decode, Layer, Verdict};
use rdpdiag::report::exit;

use super::fail;
use super::output::{io_error_words, Stdout};

pub(super) fn run_decode(args: &[String], layer: Layer) -> ExitCode {
    let (source, text) = if args.is_empty() {
        if io::stdin().is_terminal() {
            eprintln!("rdpdiag: decode: reading hex from standard input (end with Ctrl-D)");
        }
        let mut text = String::new();
        if let Err(e) = io::stdin().read_to_string(&mut text) {
            return fail("decode: standard input", io_error_words(&e));
        }
        ("standard input", text)
    } else {
        ("arguments", args.join(" "))
    };
    let bytes = match parse_hex_input(&text) {
        Ok(b) => b,
        Err(e) => return fail(&format!("decode: {source}"), e),
    };
    let mut out = Stdout::new(&rdpdiag::report::Style::default());
    match decode(&bytes, layer, &mut out).and_then(|v| out.flush().map(|()| v)) {
        Ok(Verdict::Clean) => ExitCode::from(exit::OK),
        Ok(Verdict::Problems) => ExitCode::from(exit::PROBLEM),
        Err(e) => fail("decode: standard output", io_error_words(&e)),
    }
}

/// Words of a pasted text that are written as codes: hex (`0x7`), or a constant's name
/// (`ERRINFO_…`, `STATUS_…`, `SSL_NOT_ALLOWED_BY_SERVER`: capitals, digits and underscores with at
/// least one underscore). Plain decimal numbers are not: in a sentence they are as often times or counts.
fn code_like_words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"' | '\''))
        .map(|w| w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| {
            let hex = w
                .strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()));
            let name = w.contains('_')
                && w.chars().any(|c| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            hex || name
        })
        .collect()
}

pub(super) fn run_explain(codes: &[String], json: bool) -> ExitCode {
    let joined = codes.join(" ");
    let explanations = rdpdiag::explain::explain(&joined);
    // Each word that is written as a code and means nothing on its own is named, whether it came as an
    // argument of its own or inside a sentence; with several single-word arguments, any such argument.
    let mut unknown: Vec<&str> =
        if codes.len() > 1 && codes.iter().all(|c| !c.contains(char::is_whitespace)) {
            codes
                .iter()
                .map(String::as_str)
                .filter(|c| rdpdiag::explain::explain(c).is_empty())
                .collect()
        } else {
            code_like_words(&joined)
                .into_iter()
                .filter(|w| rdpdiag::explain::explain(w).is_empty())
                .collect()
        };
    if explanations.is_empty() && unknown.is_empty() {
        unknown.push(joined.as_str());
    }
    unknown.dedup();
    let mut out = Stdout::new(&rdpdiag::report::Style::default());
    let written = if json {
        explanations.iter().try_for_each(|e| {
            serde_json::to_writer(&mut out, e).map_err(io::Error::other)?;
            out.write_all(b"\n")
        })
    } else if explanations.is_empty() {
        Ok(())
    } else {
        rdpdiag::explain::write_text(&explanations, &mut out)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        return fail("explain: standard output", io_error_words(&e));
    }
    for u in &unknown {
        let u = rdpdiag::report::escape::escape_control(u);
        eprintln!("rdpdiag: explain: unknown code '{u}': not a disconnect reason, extended reason, errorInfo, RDP_NEG failure, NTSTATUS, TLS alert or Windows event id that rdpdiag knows");
    }
    if unknown.is_empty() {
        ExitCode::from(exit::OK)
    } else {
        ExitCode::from(exit::PROBLEM)
    }
}

#[cfg(test)]
mod tests {
    use super::code_like_words;

    #[test]
    fn finds_the_words_written_as_codes() {
        assert_eq!(
            code_like_words("error code 0x904, extended error code 0x999."),
            vec!["0x904", "0x999"]
        );
        assert_eq!(
            code_like_words("got ERRINFO_SERVER_DENIED_CONNECTION at 10:32 (2308 ms)"),
            vec!["ERRINFO_SERVER_DENIED_CONNECTION"]
        );
        assert!(code_like_words("0x zz Hello_world").is_empty());
    }
}
