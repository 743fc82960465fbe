//! Human text: per connection a header, a stage ladder (what happened at each stage, with times), the
//! findings most likely first (evidence, fix, host checks), and optionally the whole timeline.

use std::io::{self, Write};

use super::attempts::Attempt;
use super::escape::escape_control as esc;
use super::{connection_name, ConnectionReport, Summary};
use crate::diagnose::duration_text as ms;
use crate::diagnose::{Confidence, Finding, Outcome, Severity};
use crate::session::{Entry, Event, Stage, Timeline};

/// How text is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ANSI colours (on a terminal, or with `--color always`).
    pub color: bool,
    /// Print every timeline entry after the ladder.
    pub timeline: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
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

fn write_finding(n: usize, f: &Finding, style: &Style, out: &mut dyn Write) -> io::Result<()> {
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
        let packet = e
            .packet
            .map(|p| format!("packet {p}, "))
            .unwrap_or_default();
        let dir = e.dir.map(|d| format!(" {}", d.arrow())).unwrap_or_default();
        writeln!(
            out,
            "     {} {}",
            style.dim(&format!("[{packet}+{}{dir}]", ms(e.t_us))),
            esc(&e.text)
        )?;
    }
    writeln!(out, "     fix: {}", f.remedy)?;
    for c in &f.host_checks {
        writeln!(out, "     check: {}", esc(c))?;
    }
    if !f.lookalikes.is_empty() {
        writeln!(
            out,
            "     looks the same on the wire: {}",
            esc(&f.lookalikes.join(", "))
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
    writeln!(
        out,
        "{}{}  {verdict}",
        style.bold(&esc(&connection_name(r))),
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
            "  {mark} {:<22} {:>9}  {text}",
            stage.label(),
            style.dim(&t)
        )?;
    }
    if d.outcome == Outcome::Established {
        let t = find(tl, |e| matches!(e, Event::Established { .. }))
            .map(|e| ms(e.t_us))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {:<22} {:>9}  secure channel up",
            style.green("✓"),
            "established",
            style.dim(&t)
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
    for (n, f) in d.findings.iter().enumerate() {
        write_finding(n + 1, f, style, out)?;
    }
    if style.timeline {
        writeln!(out, "  timeline:")?;
        for (i, e) in tl.entries.iter().enumerate() {
            let dir = e.dir.map_or("    ", |d| d.arrow());
            let packet = e.packet.map(|p| format!("#{p}")).unwrap_or_default();
            let event = serde_json::to_string(&e.event).unwrap_or_default();
            writeln!(
                out,
                "    {i:>3} {:>10} {packet:>6} {dir}  {}",
                ms(e.t_us),
                esc(&event)
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
    writeln!(
        out,
        "{} {} connection(s): {}",
        style.bold("summary:"),
        s.connections,
        outcomes.join(", ")
    )?;
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
