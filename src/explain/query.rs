//! Reading what users paste: one code ([`explain`]) or a sentence holding several ([`explain_text`]).

use super::{
    disconnect_reason, extended_reason, negotiation_failure, nt_status, tls_alert, windows_event,
    CodeKind, Explanation,
};
use crate::wire::credssp::NtStatus;
use crate::wire::rdp_neg::FailureCode;
use crate::wire::tls::AlertDescription;

/// Every interpretation of one code, most likely first: for a number, the client's disconnect reason,
/// then the extended reason / errorInfo, the negotiation failure code, the CredSSP status, the Windows
/// event id (decimal input only), and a TLS alert description only when nothing else matched. A name
/// resolves in whichever table holds it (ASCII case-insensitive). Text with several words, such as
/// "error code 0x904, extended error code 0x7" or "0x904 0x7", goes to [`explain_text`].
/// An unknown code gives an empty list.
pub fn explain(query: &str) -> Vec<Explanation> {
    let query = query.trim();
    if query.split_whitespace().nth(1).is_some() {
        return explain_text(query);
    }
    let token = query.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    match parse_code(token) {
        Some(Code::Number { value, decimal }) => interpret_number(value, decimal, false),
        Some(Code::Name(name)) => interpret_name(name),
        None => Vec::new(),
    }
}

/// Every code in a pasted sentence, in order, each with the interpretation its surroundings call for:
/// after "extended" the extended reason, after "event" an event id, after "alert" a TLS alert, after
/// "status" a CredSSP status, after "reason", "code" or "error" the client's disconnect reason; a bare
/// code right after a disconnect reason ("0x904 0x7") is the extended reason. Where the words say
/// nothing, every interpretation is kept. Hex codes and names always count; a plain decimal number
/// counts only after such a word (so timestamps do not), or when the text is nothing but codes.
pub fn explain_text(text: &str) -> Vec<Explanation> {
    let tokens = tokenize(text);
    let only_codes = tokens.iter().all(|token| {
        matches!(parse_code(token), Some(Code::Number { .. })) || !interpret_name(token).is_empty()
    });
    let mut out: Vec<Explanation> = Vec::new();
    let mut context: Vec<String> = Vec::new();
    let mut previous: Option<CodeKind> = None;
    for token in tokens {
        let hint = Hint::from_words(&context);
        let found = match parse_code(token) {
            Some(Code::Number { value, decimal }) => {
                if decimal && !only_codes && hint.is_none() && !context.iter().any(|w| w == "id") {
                    Vec::new()
                } else {
                    interpret_number(value, decimal, hint == Some(Hint::Alert))
                }
            }
            Some(Code::Name(name)) => interpret_name(name),
            None => Vec::new(),
        };
        if found.is_empty() {
            context.push(token.to_ascii_lowercase());
            continue;
        }
        let preferred = match hint {
            Some(hint) => Some(hint),
            None if previous == Some(CodeKind::DisconnectReason) => Some(Hint::Extended),
            None => None,
        };
        let chosen = choose(found, preferred);
        previous = chosen.first().map(|e| e.kind);
        for explanation in chosen {
            if !out
                .iter()
                .any(|e| e.kind == explanation.kind && e.value == explanation.value)
            {
                out.push(explanation);
            }
        }
        context.clear();
    }
    out
}

/// A code as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code<'a> {
    /// `decimal` is false for `0x…` and for bare 8-digit hex such as `C000006D`.
    Number {
        value: u64,
        decimal: bool,
    },
    Name(&'a str),
}

fn parse_code(token: &str) -> Option<Code<'_>> {
    if token.is_empty() {
        return None;
    }
    if let Some(hex) = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
    {
        return u64::from_str_radix(hex, 16).ok().map(|value| Code::Number {
            value,
            decimal: false,
        });
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return token.parse().ok().map(|value| Code::Number {
            value,
            decimal: true,
        });
    }
    if let Some(digits) = token.strip_prefix('-') {
        // NTSTATUS as a signed 32-bit integer, as some tools print it: -1073741715 is 0xC000006D
        return digits
            .parse::<i32>()
            .ok()
            .and_then(|magnitude| magnitude.checked_neg())
            .map(|signed| Code::Number {
                value: u64::from(u32::from_ne_bytes(signed.to_ne_bytes())),
                decimal: false,
            });
    }
    if token.len() == 8
        && token.bytes().all(|b| b.is_ascii_hexdigit())
        && token.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return u64::from_str_radix(token, 16)
            .ok()
            .map(|value| Code::Number {
                value,
                decimal: false,
            });
    }
    if token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && token.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return Some(Code::Name(token));
    }
    None
}

fn interpret_number(value: u64, decimal: bool, with_tls: bool) -> Vec<Explanation> {
    let mut out = Vec::new();
    if let Ok(value) = u32::try_from(value) {
        out.extend(disconnect_reason(value));
        out.extend(extended_reason(value));
        if FailureCode(value).name().is_some() {
            out.push(negotiation_failure(FailureCode(value)));
        }
        out.extend(nt_status(NtStatus(value)));
        if decimal {
            out.extend(windows_event(value));
        }
    }
    if out.is_empty() || with_tls {
        if let Ok(value) = u8::try_from(value) {
            out.extend(tls_alert(AlertDescription(value)));
        }
    }
    out
}

fn interpret_name(name: &str) -> Vec<Explanation> {
    let mut out = Vec::new();
    if let Ok(id) = name.parse::<crate::diagnose::CauseId>() {
        out.extend(super::cause(id));
    }
    if let Some(entry) = super::disconnect_reason::lookup_name(name) {
        out.extend(disconnect_reason(entry.value));
    }
    if let Some(value) = extended_reason::value_of_name(name) {
        out.extend(extended_reason(value));
    }
    if let Some(code) = FailureCode::ALL
        .iter()
        .find(|code| code.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    {
        out.push(negotiation_failure(*code));
    }
    if let Some(status) = NtStatus::ALL
        .iter()
        .find(|status| status.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    {
        out.extend(nt_status(*status));
    }
    if let Some(alert) = super::tls_alert::lookup_name(name) {
        out.extend(tls_alert(alert));
    }
    out
}

/// What the words before a code say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Extended,
    Event,
    Alert,
    Status,
    Negotiation,
    Disconnect,
}

impl Hint {
    /// The first word class that appears, in this order of strength.
    fn from_words(words: &[String]) -> Option<Self> {
        let has = |wanted: &[&str]| words.iter().any(|w| wanted.contains(&w.as_str()));
        if has(&["extended", "extendeddisconnectreason", "errorinfo"]) {
            Some(Hint::Extended)
        } else if has(&["event", "eventid"]) {
            Some(Hint::Event)
        } else if has(&["alert"]) {
            Some(Hint::Alert)
        } else if has(&["status", "ntstatus", "errorcode"]) {
            Some(Hint::Status)
        } else if has(&["failurecode", "rdp_neg_failure", "negotiation"]) {
            Some(Hint::Negotiation)
        } else if has(&["reason", "code", "error", "disconnect", "discreason"]) {
            Some(Hint::Disconnect)
        } else {
            None
        }
    }

    fn matches(self, kind: CodeKind) -> bool {
        match self {
            Hint::Extended => kind == CodeKind::ExtendedReason,
            Hint::Event => matches!(kind, CodeKind::SchannelEvent | CodeKind::TermServiceEvent),
            Hint::Alert => kind == CodeKind::TlsAlert,
            Hint::Status => kind == CodeKind::NtStatus,
            Hint::Negotiation => kind == CodeKind::NegotiationFailure,
            Hint::Disconnect => kind == CodeKind::DisconnectReason,
        }
    }
}

/// The interpretations the hint asks for, when there are any; else all, with a TLS alert only when it
/// is the sole interpretation.
fn choose(found: Vec<Explanation>, hint: Option<Hint>) -> Vec<Explanation> {
    if let Some(hint) = hint {
        if found.iter().any(|e| hint.matches(e.kind)) {
            return found.into_iter().filter(|e| hint.matches(e.kind)).collect();
        }
    }
    if found.iter().any(|e| e.kind != CodeKind::TlsAlert) {
        found
            .into_iter()
            .filter(|e| e.kind != CodeKind::TlsAlert)
            .collect()
    } else {
        found
    }
}

/// Runs of ASCII letters, digits and `_`, with a leading `-` kept when it starts a number.
fn tokenize(text: &str) -> Vec<&str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        let minus_starts_number = c == '-'
            && start.is_none()
            && text
                .get(at + 1..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|next| next.is_ascii_digit());
        match (start, is_word(c) || minus_starts_number) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                tokens.extend(text.get(from..at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        tokens.extend(text.get(from..));
    }
    tokens
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_users_type() {
        assert_eq!(
            parse_code("0x904"),
            Some(Code::Number {
                value: 0x904,
                decimal: false
            })
        );
        assert_eq!(
            parse_code("2308"),
            Some(Code::Number {
                value: 2308,
                decimal: true
            })
        );
        assert_eq!(
            parse_code("C000006D"),
            Some(Code::Number {
                value: 0xC000_006D,
                decimal: false
            })
        );
        assert_eq!(
            parse_code("-1073741715"),
            Some(Code::Number {
                value: 0xC000_006D,
                decimal: false
            })
        );
        assert_eq!(
            parse_code("protocol_version"),
            Some(Code::Name("protocol_version"))
        );
        assert_eq!(parse_code("0xZZ"), None);
        assert_eq!(parse_code(""), None);
    }

    #[test]
    fn tokenizes_sentences() {
        assert_eq!(
            tokenize("error code 0x904, extended error code 0x7."),
            ["error", "code", "0x904", "extended", "error", "code", "0x7"]
        );
        assert_eq!(tokenize("status -1073741715"), ["status", "-1073741715"]);
        assert_eq!(tokenize("a-b"), ["a", "b"]);
    }
}
