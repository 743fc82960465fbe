//! Reads the bytes an engineer pastes: a plain hex stream (`0300001302f080…`, with or without spaces,
//! colons or `0x`), Wireshark's "Copy as Hex + ASCII Dump", `tcpdump -X` / `-xx` output, or `tshark -x`
//! output (whose sections, `Frame (61 bytes):` then `Reassembled TCP (1405 bytes):`, each hold a dump:
//! the reassembled one is taken when there is one, as it holds the whole PDU).

use crate::report::escape::escape_char;

/// Why pasted text is not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexInputError {
    #[error("line {line}: '{}' is not a hex digit", escape_char(*ch))]
    BadDigit { line: usize, ch: char },
    #[error("odd number of hex digits ({0}): a byte is cut in half")]
    OddDigits(usize),
    #[error("no hex bytes found")]
    Empty,
}

/// Turns pasted text into bytes. Offset columns and ASCII columns of dumps are recognised and dropped.
pub fn parse_hex_input(text: &str) -> Result<Vec<u8>, HexInputError> {
    let mut digits = String::new();
    let mut reassembled: Option<String> = None;
    let mut in_reassembled = false;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if is_tcpdump_summary(line) {
            continue;
        }
        if let Some(title) = section_title(line) {
            in_reassembled = title.starts_with("Reassembled");
            if in_reassembled {
                reassembled = Some(String::new());
            }
            continue;
        }
        let sink = match (&mut reassembled, in_reassembled) {
            (Some(r), true) => r,
            _ => &mut digits,
        };
        match dump_line_bytes(line) {
            Some(hex) => sink.push_str(&hex),
            None => plain_digits(line, line_no, sink)?,
        }
    }
    if let Some(r) = reassembled.filter(|r| !r.is_empty()) {
        digits = r;
    }
    if digits.is_empty() {
        return Err(HexInputError::Empty);
    }
    if digits.len() % 2 != 0 {
        return Err(HexInputError::OddDigits(digits.len()));
    }
    hex::decode(&digits).map_err(|_| HexInputError::OddDigits(digits.len()))
}

/// The one-line packet summary tcpdump prints before a `-x`/`-X` dump: it starts with the time
/// (`09:11:05.181421 IP …`, or with `-tttt` the date first).
fn is_tcpdump_summary(line: &str) -> bool {
    let is_time = |w: &str| {
        let (hms, frac) = w.split_once('.').unwrap_or((w, "0"));
        let parts: Vec<&str> = hms.split(':').collect();
        parts.len() == 3
            && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit()))
            && !frac.is_empty()
            && frac.chars().all(|c| c.is_ascii_digit())
    };
    let is_date = |w: &str| {
        w.len() == 10 && w.split('-').count() == 3 && w.chars().all(|c| c.is_ascii_digit() || c == '-')
    };
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(d), Some(t)) if is_date(d) => is_time(t),
        (Some(t), Some(_)) => is_time(t),
        _ => false,
    }
}

/// The title of a `tshark -x` section, `Frame (61 bytes):` or `Reassembled TCP (1405 bytes):`.
fn section_title(line: &str) -> Option<&str> {
    let line = line.trim();
    let (title, count) = line.strip_suffix(" bytes):")?.rsplit_once(" (")?;
    count.chars().all(|c| c.is_ascii_digit()).then_some(title)
}

/// A line of a hex dump: `0000   03 00 00 13 …   ascii` (Wireshark) or `0x0000:  0300 0013 …  ascii` (tcpdump).
/// Returns its hex digits, or `None` when the line is not shaped like a dump line.
fn dump_line_bytes(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let (offset, rest) = trimmed.split_once([' ', '\t'])?;
    let offset = offset
        .strip_prefix("0x")
        .unwrap_or(offset)
        .trim_end_matches(':');
    let is_offset =
        (4..=8).contains(&offset.len()) && offset.chars().all(|c| c.is_ascii_hexdigit());
    // Plain hex streams split into words would also match; a dump's offset is followed by two or more blanks.
    if !is_offset || !(rest.starts_with(' ') || rest.starts_with('\t') || trimmed.contains(':')) {
        return None;
    }
    let mut hex = String::new();
    let body = rest.trim_start();
    // Groups are separated by one blank; the ASCII column starts after two or more.
    for group in body.split("  ").next().unwrap_or("").split(' ') {
        let group_is_hex = !group.is_empty()
            && group.len() % 2 == 0
            && group.chars().all(|c| c.is_ascii_hexdigit());
        if !group_is_hex {
            break;
        }
        hex.push_str(group);
    }
    Some(hex)
}

fn plain_digits(line: &str, line_no: usize, digits: &mut String) -> Result<(), HexInputError> {
    for word in line.split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '-' | ';')) {
        let word = word
            .strip_prefix("0x")
            .or_else(|| word.strip_prefix("0X"))
            .unwrap_or(word);
        if let Some(ch) = word.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(HexInputError::BadDigit { line: line_no, ch });
        }
        digits.push_str(word);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_streams_with_separators() {
        assert_eq!(parse_hex_input("0300000b"), Ok(vec![3, 0, 0, 0x0b]));
        assert_eq!(
            parse_hex_input("03 00 00 0b\n06:d0"),
            Ok(vec![3, 0, 0, 0x0b, 6, 0xd0])
        );
        assert_eq!(parse_hex_input("0x03,0x00"), Ok(vec![3, 0]));
        assert_eq!(parse_hex_input("030"), Err(HexInputError::OddDigits(3)));
        assert_eq!(
            parse_hex_input("03zz"),
            Err(HexInputError::BadDigit { line: 1, ch: 'z' })
        );
        assert_eq!(parse_hex_input("  \n"), Err(HexInputError::Empty));
    }

    #[test]
    fn wireshark_hex_ascii_dump() {
        let dump = "0000   03 00 00 13 0e d0 00 00 12 34 00 02 1f 08 00 08   .........4......\n\
                    0010   00 00 00                                          ...\n";
        let bytes = parse_hex_input(dump).unwrap_or_default();
        assert_eq!(hex::encode(bytes), "030000130ed00000123400021f080008000000");
    }

    #[test]
    fn tshark_x_sections_take_the_reassembled_pdu() {
        let dump = "Frame (61 bytes):\n\
                    0000  00 17 c5 10 15 40 00 50 56 8c fc 10 08 00 45 00   .....@.PV.....E.\n\
                    Reassembled TCP (11 bytes):\n\
                    0000  03 00 00 0b 06 e0 00 00 00 00 00            ...........\n";
        assert_eq!(
            parse_hex_input(dump).map(hex::encode),
            Ok("0300000b06e00000000000".to_string())
        );
        let frame_only = "Frame (4 bytes):\n0000  03 00 00 0b   ....\n";
        assert_eq!(parse_hex_input(frame_only), Ok(vec![3, 0, 0, 0x0b]));
    }

    #[test]
    fn a_bad_digit_is_named_escaped() {
        let e = parse_hex_input("03\u{1b}[2J").map_err(|e| e.to_string());
        assert_eq!(e, Err("line 1: '\\x1b' is not a hex digit".to_string()));
    }

    #[test]
    fn tcpdump_summary_lines_are_skipped() {
        let dump = "09:11:05.181421 IP 172.16.2.185.52494 > 192.168.2.142.ms-wbt-server: Flags [P.], length 19\n\
                    \t0x0000:  0300 0013\n\
                    2019-05-28 09:11:05.181421 IP 10.0.0.1.1 > 10.0.0.2.3389: Flags [P.]\n\
                    \t0x0000:  0ee0\n";
        assert_eq!(parse_hex_input(dump), Ok(vec![3, 0, 0, 0x13, 0x0e, 0xe0]));
        assert!(!is_tcpdump_summary("03 00 00 13"));
        assert!(!is_tcpdump_summary("0000  03 00"));
    }

    #[test]
    fn tcpdump_x_dump() {
        let dump = "\t0x0000:  0300 0013 0ed0 0000 1234 0002 1f08 0008  ...........4....\n\t0x0010:  0000 00                                  ...\n";
        let bytes = parse_hex_input(dump).unwrap_or_default();
        assert_eq!(hex::encode(bytes), "030000130ed00000123400021f080008000000");
    }
}
