//! Human text: per connection a header, a stage ladder (what happened at each stage, with times), the
//! findings most likely first (evidence, fix, host checks), and optionally the whole timeline.

use std::io::{self, Write};

use super::attempts::Attempt;
use super::escape::escape_control as esc;
use super::{connection_name, for_port, server_port, ConnectionReport, Summary};
use crate::diagnose::duration_text as ms;
use crate::diagnose::{Confidence, Evidence, Finding, Outcome, Severity, Verdict};
use crate::session::{ConnectError, Entry, Event, Stage, Timeline};

/// How text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ANSI colours (on a terminal, or with `--color always`); the command line decides, once, with
    /// `anstream`'s rules (`NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM=dumb`).
    pub color: bool,
    /// Print every timeline entry after the ladder.
    pub timeline: bool,
}

const RED: anstyle::Style = anstyle::AnsiColor::Red.on_default();
const GREEN: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const YELLOW: anstyle::Style = anstyle::AnsiColor::Yellow.on_default();
const BOLD: anstyle::Style = anstyle::Style::new().bold();
const DIM: anstyle::Style = anstyle::Style::new().dimmed();

impl Style {
    /// `text` in `paint`, when colour is on. Pad before painting: escapes have no width on a terminal
    /// but count in `format!`'s padding.
    fn paint(&self, paint: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{paint}{text}{paint:#}")
        } else {
            text.to_string()
        }
    }
    pub fn red(&self, t: &str) -> String {
        self.paint(RED, t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint(GREEN, t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint(YELLOW, t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint(BOLD, t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint(DIM, t)
    }
    /// A verdict id: green when healthy, yellow when incomplete, red for a cause.
    pub fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Healthy => self.green(v.as_str()),
            Verdict::Incomplete => self.yellow(v.as_str()),
            Verdict::Cause(_) => self.red(v.as_str()),
        }
    }
}

/// The entries of one stage (by the stage they happened in).
fn in_stage(tl: &Timeline, stage: Stage) -> impl Iterator<Item = &Entry> {
    tl.entries.iter().filter(move |e| e.stage == stage)
}

fn find(tl: &Timeline, pred: impl Fn(&Event) -> bool) -> Option<&Entry> {
    tl.entries.iter().find(|e| pred(&e.event))
}

fn gap(a: Option<&Entry>, b: Option<&Entry>) -> Option<i64> {
    Some(b?.t_us - a?.t_us)
}

/// One line per stage the connection entered.
fn ladder(tl: &Timeline, reached: Stage) -> Vec<(Stage, String)> {
    let mut lines = Vec::new();
    let stages = [
        Stage::Tcp,
        Stage::X224Request,
        Stage::Negotiation,
        Stage::TlsHandshake,
        Stage::CredSsp,
        Stage::SecureChannel,
        Stage::StandardSecurity,
    ];
    for stage in stages {
        if in_stage(tl, stage).next().is_none() && stage != reached {
            continue;
        }
        let text = match stage {
            Stage::Tcp => match find(tl, |e| {
                matches!(
                    e,
                    Event::TcpConnected { .. }
                        | Event::TcpRefused { .. }
                        | Event::TcpNoAnswer { .. }
                        | Event::IcmpUnreachable { .. }
                        | Event::TcpConnectError { .. }
                        | Event::Timeout { .. }
                )
            })
            .map(|e| &e.event)
            {
                Some(Event::TcpConnected { rtt_us: Some(rtt) }) => {
                    format!("connected in {}", ms(*rtt))
                }
                Some(Event::TcpConnected { rtt_us: None }) => "connected".to_string(),
                Some(Event::TcpRefused { .. }) => "refused (RST)".to_string(),
                Some(Event::TcpNoAnswer { syns, waited_us }) => {
                    format!("{syns} SYN(s) unanswered for {}", ms(*waited_us))
                }
                Some(Event::IcmpUnreachable {
                    icmp_type,
                    code,
                    reporter,
                }) => format!("ICMP unreachable {icmp_type}/{code} from {}", esc(reporter)),
                // The probe's view: connect()'s error or its own wait, never a packet it did not see.
                Some(Event::TcpConnectError { error, os_error }) => match error {
                    ConnectError::Refused => {
                        "refused (an RST or an ICMP port unreachable: the network stack does not say which)".to_string()
                    }
                    ConnectError::HostUnreachable => {
                        "host unreachable or administratively prohibited, reported by the network stack".to_string()
                    }
                    ConnectError::NetworkUnreachable => {
                        "network unreachable, reported by the network stack".to_string()
                    }
                    ConnectError::TimedOut | ConnectError::Other => {
                        format!("connection attempt failed: {}", esc(os_error))
                    }
                },
                Some(Event::Timeout { waited_us }) => format!(
                    "no answer to the connection attempt within {:.1} s",
                    *waited_us as f64 / 1e6
                ),
                _ => "SYN sent".to_string(),
            },
            Stage::X224Request => {
                match find(tl, |e| matches!(e, Event::ConnectionRequest { .. })).map(|e| &e.event) {
                    Some(Event::ConnectionRequest {
                        cookie,
                        requested,
                        requested_protocols,
                        ..
                    }) => {
                        let neg = if requested_protocols.is_some() {
                            format!("requests {requested}")
                        } else {
                            "no RDP_NEG_REQ (standard RDP security only)".to_string()
                        };
                        let who = cookie
                            .as_ref()
                            .map(|c| format!(", cookie mstshash={}", esc(c)))
                            .unwrap_or_default();
                        format!("Connection Request: {neg}{who}")
                    }
                    _ => "no Connection Request".to_string(),
                }
            }
            Stage::Negotiation => {
                let req = find(tl, |e| matches!(e, Event::ConnectionRequest { .. }));
                let ans = find(tl, |e| {
                    matches!(
                        e,
                        Event::ConnectionConfirm { .. } | Event::NegotiationFailure { .. }
                    )
                });
                let rtt = gap(req, ans)
                    .map(|g| format!(" ({})", ms(g)))
                    .unwrap_or_default();
                match ans.map(|e| &e.event) {
                    Some(Event::ConnectionConfirm { selected, .. }) => {
                        format!("server selected {}{rtt}", esc(selected))
                    }
                    Some(Event::NegotiationFailure { name, .. }) => {
                        format!("server refused: {}{rtt}", esc(name))
                    }
                    _ => "no Connection Confirm".to_string(),
                }
            }
            Stage::TlsHandshake => {
                let ch = find(tl, |e| matches!(e, Event::TlsClientHello { .. }));
                let sh = find(tl, |e| {
                    matches!(
                        e,
                        Event::TlsServerHello {
                            hello_retry_request: false,
                            ..
                        }
                    )
                });
                let mut parts = Vec::new();
                if let Some(Event::TlsClientHello {
                    max_version, sni, ..
                }) = ch.map(|e| &e.event)
                {
                    parts.push(format!(
                        "client offers up to {}{}",
                        esc(max_version),
                        sni.as_ref()
                            .map(|s| format!(" (SNI {})", esc(s)))
                            .unwrap_or_default()
                    ));
                }
                match sh.map(|e| &e.event) {
                    Some(Event::TlsServerHello {
                        version_name,
                        cipher_suite_name,
                        ..
                    }) => {
                        parts.push(format!(
                            "server chose {} {}{}",
                            esc(version_name),
                            esc(cipher_suite_name),
                            gap(ch, sh)
                                .map(|g| format!(" ({})", ms(g)))
                                .unwrap_or_default()
                        ));
                    }
                    _ if ch.is_some() => parts.push("no ServerHello".to_string()),
                    _ => parts.push("no ClientHello".to_string()),
                }
                if let Some(Event::TlsCertificate { chain, .. }) =
                    find(tl, |e| matches!(e, Event::TlsCertificate { .. })).map(|e| &e.event)
                {
                    if let Some(crate::session::CertEntry::Parsed(leaf)) = chain.first() {
                        parts.push(format!(
                            "certificate {} until {}",
                            esc(&leaf.subject),
                            esc(&leaf.not_after_display)
                        ));
                    }
                }
                if find(tl, |e| matches!(e, Event::TlsHandshakeDone { .. })).is_some() {
                    parts.push("handshake done".to_string());
                }
                parts.join("; ")
            }
            Stage::CredSsp => {
                let (c, s) = in_stage(tl, Stage::CredSsp).fold((0, 0), |(c, s), e| {
                    match (&e.event, e.dir) {
                        (
                            Event::TlsApplicationData { .. },
                            Some(crate::session::Direction::ClientToServer),
                        ) => (c + 1, s),
                        (Event::TlsApplicationData { .. }, Some(_)) => (c, s + 1),
                        _ => (c, s),
                    }
                });
                format!("{c} client and {s} server flights inside TLS (content encrypted)")
            }
            Stage::SecureChannel => "MCS connect inside TLS".to_string(),
            Stage::StandardSecurity => {
                match find(tl, |e| matches!(e, Event::McsConnectResponse { .. })).map(|e| &e.event)
                {
                    Some(Event::McsConnectResponse {
                        encryption_method_name,
                        encryption_level_name,
                        server_cert,
                        ..
                    }) => format!(
                        "MCS connect response: encryption {} level {}{}",
                        esc(encryption_method_name.as_deref().unwrap_or("?")),
                        esc(encryption_level_name.as_deref().unwrap_or("?")),
                        server_cert
                            .as_ref()
                            .map(|c| format!(", server certificate {}", esc(c)))
                            .unwrap_or_default()
                    ),
                    _ => "MCS connect in the clear".to_string(),
                }
            }
            Stage::Established => String::new(),
        };
        lines.push((stage, text));
    }
    lines
}

fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::Certain => "certain",
        Confidence::Likely => "likely",
        Confidence::Possible => "possible",
    }
}

/// Where a piece of evidence was seen, as every report prints it: `[packet 14, +1182.0 ms S->C]`.
pub(super) fn evidence_place(e: &Evidence) -> String {
    let packet = e
        .packet
        .map(|p| format!("packet {p}, "))
        .unwrap_or_default();
    let dir = e.dir.map(|d| format!(" {}", d.arrow())).unwrap_or_default();
    format!("[{packet}+{}{dir}]", ms(e.t_us))
}

pub(super) fn write_finding(
    n: usize,
    f: &Finding,
    port: Option<u16>,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let head = format!(
        "{n}. {} ({}{}): {}",
        f.id,
        confidence_word(f.confidence),
        if f.severity == Severity::Advisory {
            ", advisory"
        } else {
            ""
        },
        esc(&f.title)
    );
    let head = if f.severity == Severity::Advisory {
        style.yellow(&head)
    } else {
        style.bold(&head)
    };
    writeln!(out, "  {head}")?;
    if !f.explains.is_empty() {
        writeln!(out, "     explains: {}", esc(&f.explains.join("; ")))?;
    }
    for e in &f.evidence {
        writeln!(
            out,
            "     {} {}",
            style.dim(&evidence_place(e)),
            esc(&e.text)
        )?;
    }
    writeln!(out, "     fix: {}", for_port(f.remedy, port))?;
    for c in &f.host_checks {
        writeln!(out, "     check: {}", esc(&for_port(c, port)))?;
    }
    if !f.lookalikes.is_empty() {
        writeln!(
            out,
            "     looks the same on the wire: {}",
            f.lookalikes
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

pub fn write_connection_text(
    r: &ConnectionReport,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let d = &r.diagnosis;
    let verdict = match d.outcome {
        Outcome::Established => style.green("ESTABLISHED"),
        Outcome::Failed => style.red(&format!("FAILED at {}", d.stage_reached.label())),
        Outcome::Incomplete => style.yellow(&format!("INCOMPLETE at {}", d.stage_reached.label())),
    };
    let label = r
        .label
        .as_ref()
        .map(|l| format!(" [{l}]"))
        .unwrap_or_default();
    let tunnel = r
        .tunnel
        .as_ref()
        .map(|t| format!(" (a proxy) -> {t}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{}{}{}  {verdict}",
        style.bold(&esc(&connection_name(r))),
        esc(&tunnel),
        esc(&label)
    )?;
    let tl = &r.observation.timeline;
    let steps = ladder(tl, d.stage_reached);
    let last = steps.len().saturating_sub(1);
    for (i, (stage, text)) in steps.iter().enumerate() {
        let failed_here = i == last && d.outcome == Outcome::Failed;
        let mark = if failed_here {
            style.red("✗")
        } else if i == last && d.outcome == Outcome::Incomplete {
            style.yellow("…")
        } else {
            style.green("✓")
        };
        let t = in_stage(tl, *stage)
            .next()
            .map(|e| ms(e.t_us))
            .unwrap_or_default();
        writeln!(
            out,
            "  {mark} {:<22} {}  {text}",
            stage.label(),
            style.dim(&format!("{t:>9}"))
        )?;
    }
    if d.outcome == Outcome::Established {
        let t = find(tl, |e| matches!(e, Event::Established { .. }))
            .map(|e| ms(e.t_us))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {:<22} {}  secure channel up",
            style.green("✓"),
            "established",
            style.dim(&format!("{t:>9}"))
        )?;
    }
    if let Some(close) = tl
        .entries
        .iter()
        .find(|e| matches!(e.event, Event::Fin | Event::Rst) && e.stage != Stage::Established)
    {
        if d.outcome != Outcome::Established {
            let how = if matches!(close.event, Event::Rst) {
                "reset (RST)"
            } else {
                "closed (FIN)"
            };
            let who = close.dir.map_or("a side", |d| d.who());
            writeln!(
                out,
                "    {} {who} {how} at +{}",
                style.dim("end:"),
                ms(close.t_us)
            )?;
        }
    }
    if d.findings.is_empty() && d.outcome != Outcome::Established {
        writeln!(
            out,
            "  no finding: the observation ended before anything went wrong"
        )?;
    }
    let port = server_port(r);
    for (n, f) in d.findings.iter().enumerate() {
        write_finding(n + 1, f, port, style, out)?;
    }
    if style.timeline {
        writeln!(out, "  timeline:")?;
        for (i, e) in tl.entries.iter().enumerate() {
            let dir = e.dir.map_or("    ", |d| d.arrow());
            let packet = e.packet.map(|p| format!("#{p}")).unwrap_or_default();
            writeln!(
                out,
                "    {i:>3} {:>10} {packet:>6} {dir}  {}",
                ms(e.t_us),
                esc(&event_text(&e.event))
            )?;
        }
    }
    if r.observation.dropped_entries > 0 {
        writeln!(
            out,
            "  note: {} later timeline entries were not kept (limit reached)",
            r.observation.dropped_entries
        )?;
    }
    writeln!(out)
}

/// An attempt of several tries: one line for the attempt, one per try.
pub fn write_attempt_text(a: &Attempt, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let n = a.tries.len();
    let how = match a.outcome() {
        Outcome::Established if a.recovered() => style.green(&format!("ESTABLISHED on try {n}")),
        Outcome::Established => style.green("ESTABLISHED"),
        Outcome::Failed => style.red(&format!("FAILED on every try: {}", a.verdict())),
        Outcome::Incomplete => style.yellow(&format!("INCOMPLETE after {n} tries")),
    };
    let fallback = a
        .fallback()
        .map(|f| format!("; offers {}", esc(&f)))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {}  {n} tries in {}{fallback}  {how}",
        style.bold("attempt"),
        style.bold(&esc(&format!("{} -> {}", a.client, a.server))),
        ms(a.span_us()),
    )?;
    let start = a.tries.first().map_or(0, |t| t.start_us);
    for (i, t) in a.tries.iter().enumerate() {
        writeln!(
            out,
            "  try {:<2} {:>9}  {:<24} {:<16} {}",
            i + 1,
            ms(t.start_us.saturating_sub(start)),
            esc(&t.client),
            esc(t.requested.as_deref().unwrap_or("-")),
            t.verdict
        )?;
    }
    writeln!(out)
}

pub fn write_summary_text(s: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let outcomes: Vec<String> = s
        .by_outcome
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let counted = match s.targets {
        Some(n) => format!("{n} target(s) ({} connection(s))", s.connections),
        None => format!("{} connection(s)", s.connections),
    };
    let outcomes = if s.judged() == 0 {
        if s.targets.is_some() {
            "none probed".to_string()
        } else {
            "no RDP connection found".to_string()
        }
    } else {
        outcomes.join(", ")
    };
    writeln!(out, "{} {counted}: {outcomes}", style.bold("summary:"))?;
    let verdicts: Vec<String> = s
        .by_verdict
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !verdicts.is_empty() {
        writeln!(out, "  verdicts: {}", verdicts.join(", "))?;
    }
    let adv: Vec<String> = s
        .advisories
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !adv.is_empty() {
        writeln!(out, "  advisories: {}", adv.join(", "))?;
    }
    if s.attempts_with_retries > 0 {
        writeln!(
            out,
            "  attempts of several tries: {} ({} established after a failed try)",
            s.attempts_with_retries, s.attempts_recovered
        )?;
    }
    for note in &s.notes {
        writeln!(out, "  note: {}", esc(note))?;
    }
    for e in &s.errors {
        writeln!(out, "  {} {e}", style.red("error:"))?;
    }
    if s.interrupted {
        writeln!(
            out,
            "  {} by Ctrl-C: what was seen until then",
            style.yellow("interrupted")
        )?;
    }
    if let Some(m) = &s.expect_mismatches {
        if m.is_empty() {
            writeln!(
                out,
                "  expect: {}",
                style.green("every verdict as expected")
            )?;
        } else {
            for line in m {
                writeln!(out, "  expect: {} {}", style.red("mismatch"), esc(line))?;
            }
        }
    }
    Ok(())
}

/// A timeline event as one line of text: its name, then its fields as `name=value` (lists in `[..]`,
/// nested objects in `{..}`, empty and absent values left out). Strings holding spaces, quotes or control
/// characters are printed quoted and escaped, so wire bytes never reach the terminal raw.
pub fn event_text(event: &Event) -> String {
    let value = match serde_json::to_value(event) {
        Ok(v) => v,
        Err(e) => return format!("(unprintable event: {e})"),
    };
    let Some(fields) = value.as_object() else {
        return value_text(&value);
    };
    let name = fields
        .get("event")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("event");
    let rest = fields_text(fields, |k| k != "event");
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name} {rest}")
    }
}

fn fields_text(
    fields: &serde_json::Map<String, serde_json::Value>,
    keep: impl Fn(&str) -> bool,
) -> String {
    fields
        .iter()
        .filter(|(k, v)| keep(k) && !is_empty_value(v))
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_empty_value(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s)
            if !s.is_empty()
                && !s
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '"') =>
        {
            s.clone()
        }
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        ),
        serde_json::Value::Object(fields) => format!("{{{}}}", fields_text(fields, |_| true)),
        other => other.to_string(),
    }
}
