//! X.224: the server's answer to the Connection Request (silence, a hang-up, something not RDP, a
//! broken reply).

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::{Close, Facts};
use crate::diagnose::rules::{closing_words, Hit, SOCKET_CLOSED};
use crate::diagnose::{Confidence, Severity};
use crate::session::{Direction, Event};

fn not_rdp(f: &Facts<'_>) -> Option<Hit> {
    // Only the server's answer decides: a client that is not RDP is not a server problem.
    let (i, e) = f.first_from(Direction::ServerToClient, |e| {
        matches!(e, Event::NotRdp { .. })
    })?;
    let Event::NotRdp {
        first_bytes,
        looks_like,
    } = &e.event
    else {
        return None;
    };
    let text = format!("the server sent {looks_like}, not TPKT/X.224 (first bytes {first_bytes})");
    Hit::new(
        Confidence::Certain,
        format!("the server speaks {looks_like}"),
        vec![(i, text)],
    )
}

fn malformed_reply(f: &Facts<'_>) -> Option<Hit> {
    let before_established = |i: usize| f.established.is_none_or(|est| i < est);
    let (i, e) = f.timeline.entries.iter().enumerate().find(|(i, e)| {
        before_established(*i)
            && match (e.dir, &e.event) {
                (Some(Direction::ServerToClient), ev) => matches!(
                    ev,
                    Event::ConnectionConfirm {
                        well_formed: false,
                        ..
                    } | Event::Malformed { .. }
                        | Event::Unexpected { .. }
                ),
                // A client PDU that breaks its structure: a broken client, or a middlebox rewriting it.
                (Some(Direction::ClientToServer), ev) => matches!(ev, Event::Malformed { .. }),
                _ => false,
            }
    })?;
    let who = e.dir.map_or("a side", |d| d.who());
    let text = match &e.event {
        Event::ConnectionConfirm { .. } => {
            "the Connection Confirm's RDP_NEG_RSP length field is not 8".to_string()
        }
        Event::Malformed { pdu, error } => {
            format!("the {who}'s {pdu} breaks its own structure: {error}")
        }
        Event::Unexpected { expected, got } => {
            format!("expected {expected} from the {who}, got {got}")
        }
        _ => return None,
    };
    Hit::new(Confidence::Certain, text.clone(), vec![(i, text)])
}

fn server_silent(f: &Facts<'_>) -> Option<Hit> {
    // In a capture there are no timeouts: a client that gives up after seconds of silence says the same.
    let Some((t, te)) = f.first(|e| matches!(e, Event::Timeout { .. })) else {
        return gave_up_waiting(f);
    };
    let Event::Timeout { waited_us } = te.event else {
        return None;
    };
    // The last thing the client sent before the timeout, and nothing from the server since.
    let (last, le) = f.last_before(t, |e| e.dir == Some(Direction::ClientToServer))?;
    if f.sent_after(last, Direction::ServerToClient)
        && f.between(last, t)
            .any(|e| e.dir == Some(Direction::ServerToClient))
    {
        return None;
    }
    if matches!(le.event, Event::TcpSyn) {
        return None;
    }
    let after = awaited(&le.event).unwrap_or("the client's last message");
    Hit::new(
        Confidence::Likely,
        format!("no answer to {after} in {}", ms(waited_us)),
        vec![
            (last, format!("{after} sent")),
            (t, format!("nothing from the server for {}", ms(waited_us))),
        ],
    )
}

/// The message whose answer a silent server owed, in words.
fn awaited(event: &Event) -> Option<&'static str> {
    match event {
        Event::ConnectionRequest { .. } => Some("the Connection Request"),
        Event::TlsClientHello { .. } => Some("the TLS ClientHello"),
        _ => None,
    }
}

/// The client closed after waiting at least `SILENCE_US` for an answer that never came.
fn gave_up_waiting(f: &Facts<'_>) -> Option<Hit> {
    const SILENCE_US: i64 = 2_000_000;
    let c = f.failed_close()?;
    if c.dir != Direction::ClientToServer {
        return None;
    }
    let (last, le) = f.last_before(c.entry, |e| {
        e.dir.is_some() && !matches!(e.event, Event::Fin | Event::Rst)
    })?;
    if le.dir != Some(Direction::ClientToServer) || f.gap_us(last, c.entry)? < SILENCE_US {
        return None;
    }
    let after = awaited(&le.event)?;
    let waited = f.gap_us(last, c.entry)?;
    Hit::new(
        Confidence::Likely,
        format!("no answer to {after} in {}", ms(waited)),
        vec![
            (last, format!("{after} sent")),
            (
                c.entry,
                format!("{} after {} of silence", closing_words(&c), ms(waited)),
            ),
        ],
    )
}

fn close_after_request(f: &Facts<'_>, how: Close) -> Option<Hit> {
    let req = f.request?;
    let c = f.failed_close()?;
    if f.sent_after(req, Direction::ServerToClient)
        || c.dir != Direction::ServerToClient
        || c.how != how
        || c.entry < req
    {
        return None;
    }
    let gap = f.gap_us(req, c.entry).unwrap_or(0);
    Hit::new(
        Confidence::Certain,
        format!("{} after the Connection Request", ms(gap)),
        vec![
            (req, "Connection Request sent".to_string()),
            (
                c.entry,
                format!(
                    "{} {} later, without a Connection Confirm",
                    closing_words(&c),
                    ms(gap)
                ),
            ),
        ],
    )
}

fn server_reset_after_request(f: &Facts<'_>) -> Option<Hit> {
    close_after_request(f, Close::Rst)
}

fn server_closed_after_request(f: &Facts<'_>) -> Option<Hit> {
    close_after_request(f, Close::Fin)
}

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::ServerSilent, stage: CauseStage::X224, rank: 20, title: "The server never answered", remedy: "The listener accepted TCP but never answered: it is hung, or a middlebox swallows the traffic. Restart Remote Desktop Services; capture on the server side.", host_checks: &[c::LISTENER, c::MIDDLEBOX], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: server_silent },
    Cause { id: CauseId::ServerClosedAfterRequest, stage: CauseStage::X224, rank: 21, title: "Server closed the connection after the Connection Request", remedy: "The listener rejects this client: connection limit, IP restriction or an overloaded server.", host_checks: &[c::CONNECTION_LIMITS, c::SERVER_LOG], explains: SOCKET_CLOSED, lookalikes: &[CauseId::ServerResetAfterRequest], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: server_closed_after_request },
    Cause { id: CauseId::ServerResetAfterRequest, stage: CauseStage::X224, rank: 22, title: "Server reset the connection after the Connection Request", remedy: "The listener rejects this client (connection limit, IP restriction, overload), or an IPS/firewall resets RDP.", host_checks: &[c::CONNECTION_LIMITS, c::IPS_RESETS], explains: SOCKET_CLOSED, lookalikes: &[CauseId::ServerClosedAfterRequest], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: server_reset_after_request },
    Cause { id: CauseId::NotRdp, stage: CauseStage::X224, rank: 23, title: "Not an RDP server", remedy: "Another service answers on this port, or the port is wrong: point the client at the RDP listener.", host_checks: &[c::PORT_OWNER, c::LISTENER], explains: SOCKET_CLOSED, lookalikes: &[CauseId::MalformedReply], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: not_rdp },
    Cause { id: CauseId::MalformedReply, stage: CauseStage::X224, rank: 24, title: "Malformed reply", remedy: "The server (or a middlebox rewriting traffic) sends broken PDUs: capture next to the server to see which one.", host_checks: &[c::MIDDLEBOX], explains: SOCKET_CLOSED, lookalikes: &[CauseId::NotRdp], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: malformed_reply },
];
