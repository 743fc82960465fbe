//! Checks over the setup under standard RDP security after the MCS connect (MS-RDPBCGR 1.3.1.1): the
//! session follows the client's Security Exchange and Client Info PDUs to the server's first licensing
//! or Demand Active PDU, and only then calls the channel up. A server that hangs up in between refused
//! the client there.

use super::duration_text as ms;
use super::facts::{Close, Facts};
use super::rules::Hit;
use super::Confidence;
use crate::session::{Direction, Event, StandardPdu};

/// `server-disconnected` under standard RDP security: after a successful MCS Connect Response, and
/// before any licensing or Demand Active PDU, the server ended the connection (Disconnect Provider
/// Ultimatum, FIN, RST) before the client did. Certain once the client has sent its Security Exchange or
/// Client Info PDU (the server answered them by hanging up), likely during the channel connection.
pub fn server_disconnected(f: &Facts<'_>) -> Option<Hit> {
    let (mcs, _) = f.first(|e| matches!(e, Event::McsConnectResponse { result: 0, .. }))?;
    let close = f.failed_close()?;
    if close.dir != Direction::ServerToClient || close.entry < mcs {
        return None;
    }
    let how = match (&f.entry(close.entry)?.event, close.how) {
        (Event::McsDisconnectUltimatum { name, .. }, _) => {
            format!("sent an MCS Disconnect Provider Ultimatum ({name})")
        }
        (Event::X224Disconnect { name, .. }, _) => {
            format!("sent an X.224 Disconnect Request ({name})")
        }
        (_, Close::Fin) => "closed the connection (FIN)".to_string(),
        (_, Close::Rst) => "reset the connection (RST)".to_string(),
        _ => return None,
    };
    // The client's last step before it: its Client Info, its Security Exchange, or the MCS connect.
    let landmark = f.last_before(close.entry, |e| {
        e.dir == Some(Direction::ClientToServer)
            && matches!(
                e.event,
                Event::StandardSecurityPdu {
                    pdu: StandardPdu::ClientInfo | StandardPdu::SecurityExchange,
                    ..
                }
            )
    });
    let (after, since, confidence) = match landmark {
        Some((i, e)) => {
            let what = match &e.event {
                Event::StandardSecurityPdu { pdu, .. } => pdu.label(),
                _ => return None,
            };
            (
                format!("the client's {what}"),
                i,
                Confidence::Certain,
            )
        }
        None => ("the MCS connect response".to_string(), mcs, Confidence::Likely),
    };
    let delay = f.gap_us(since, close.entry).map_or(String::new(), |us| format!(" {}", ms(us)));
    let words = format!(
        "the server {how}{delay} after {after}, before any licensing or Demand Active PDU"
    );
    let mut evidence = vec![(since, format!("{after} ({})", stage_words(f, since)))];
    // What the server said on its way out, when it can be read.
    if let Some((i, e)) = f.last_before(close.entry, |e| {
        e.dir == Some(Direction::ServerToClient) && matches!(e.event, Event::SetErrorInfo { .. })
    }) {
        if let Event::SetErrorInfo { error_info, name } = &e.event {
            evidence.push((i, format!("the server sent Set Error Info {name} ({error_info:#x})")));
        }
    }
    // An encrypted server PDU between the client's last step and the close may have said why (a Set
    // Error Info PDU looks like this), but its content cannot be read.
    if let Some((i, e)) = f.last_before(close.entry, |e| {
        e.dir == Some(Direction::ServerToClient)
            && matches!(e.event, Event::StandardSecurityData { .. })
    }) {
        if let (true, Event::StandardSecurityData { bytes, .. }) = (i > since, &e.event) {
            evidence.push((
                i,
                format!("the server sent {bytes} bytes before it that cannot be read (encrypted): perhaps a Set Error Info PDU"),
            ));
        }
    }
    evidence.push((close.entry, words.clone()));
    // The transport close that follows an ultimatum.
    if let Some((i, _)) = f.after(close.entry).find(|(_, e)| {
        e.dir == Some(Direction::ServerToClient) && matches!(e.event, Event::Fin | Event::Rst)
    }) {
        if close.how == Close::Disconnect {
            let word = match f.entry(i).map(|e| &e.event) {
                Some(Event::Rst) => "RST",
                _ => "FIN",
            };
            evidence.push((i, format!("then the server's {word}")));
        }
    }
    Some(Hit {
        confidence,
        severity: None,
        detail: Some(words),
        evidence,
    })
}

/// A few words on what the entry at `i` carried, for the evidence line.
fn stage_words(f: &Facts<'_>, i: usize) -> &'static str {
    match f.entry(i).map(|e| &e.event) {
        Some(Event::StandardSecurityPdu {
            encrypted: true, ..
        }) => "content encrypted, known by its security header flags",
        Some(Event::StandardSecurityPdu { .. }) => "known by its security header flags",
        _ => "standard RDP security, in the clear",
    }
}
