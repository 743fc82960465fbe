//! TLS: the handshake (no version or cipher in common, a server that gives up) and the symptom of a
//! client that hangs up after seeing the server.

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::{Close, Closing, Facts};
use crate::diagnose::rules::{closing_words, credssp_flights, Hit, SOCKET_CLOSED};
use crate::diagnose::{Confidence, Severity};
use crate::session::{Direction, Event, Stage};

fn alert_rule(
    f: &Facts<'_>,
    descriptions: &[u8],
    from: Option<Direction>,
    confidence: Confidence,
) -> Option<Hit> {
    let (i, e) = f.first(
        |e| matches!(e, Event::TlsAlert { description, .. } if descriptions.contains(description)),
    )?;
    if from.is_some_and(|d| e.dir != Some(d)) || f.established.is_some_and(|est| est < i) {
        return None;
    }
    let Event::TlsAlert { name, .. } = &e.event else {
        return None;
    };
    let who = e.dir.map_or("a side", |d| d.who());
    let mut ev = Vec::new();
    if let Some((ch, ce)) = f.client_hello.and_then(|c| Some((c, f.entry(c)?))) {
        if let Event::TlsClientHello {
            max_version,
            supported_versions,
            cipher_suites,
            ..
        } = &ce.event
        {
            ev.push((
                ch,
                format!(
                    "ClientHello offers up to {max_version} ({} versions listed, {} cipher suites)",
                    supported_versions.len(),
                    cipher_suites.len()
                ),
            ));
        }
    }
    if let Some((sh, se)) = f.server_hello.and_then(|s| Some((s, f.entry(s)?))) {
        if let Event::TlsServerHello {
            version_name,
            cipher_suite_name,
            ..
        } = &se.event
        {
            ev.push((
                sh,
                format!("ServerHello chose {version_name} with {cipher_suite_name}"),
            ));
        }
    }
    ev.push((i, format!("the {who} sent the fatal alert {name}")));
    Hit::new(confidence, format!("{name} from the {who}"), ev)
}

fn tls_version_mismatch(f: &Facts<'_>) -> Option<Hit> {
    alert_rule(f, &[70, 86], None, Confidence::Certain).or_else(|| legacy_version_refused(f))
}

/// The ServerHello, when it chose TLS 1.1 or older (RFC 8996 deprecates both): its entry and the version's name.
fn legacy_server_hello<'a>(f: &Facts<'a>) -> Option<(usize, &'a str)> {
    let sh = f.server_hello?;
    match &f.entry(sh)?.event {
        Event::TlsServerHello {
            version,
            version_name,
            ..
        } if *version <= 0x0302 => Some((sh, version_name.as_str())),
        _ => None,
    }
}

/// The server chose TLS 1.1 or older and the client hung up at once, before any handshake message of
/// its own (a fatal alert of whatever code, or a close): the client refuses the version.
fn legacy_version_refused(f: &Facts<'_>) -> Option<Hit> {
    if f.client_is_probe {
        return None;
    }
    let (sh, version_name) = legacy_server_hello(f)?;
    let c = f.failed_close()?;
    let answered = f.between(sh, c.entry).any(|e| {
        e.dir == Some(Direction::ClientToServer)
            && !matches!(e.event, Event::Fin | Event::Rst | Event::TlsAlert { .. })
    });
    if c.dir != Direction::ClientToServer || c.entry < sh || answered {
        return None;
    }
    let gap = f.gap_us(sh, c.entry).unwrap_or(0);
    let how = match &f.entry(c.entry)?.event {
        Event::TlsAlert { name, .. } => format!("the client sent the fatal alert {name}"),
        _ => closing_words(&c).to_string(),
    };
    Hit::new(
        Confidence::Likely,
        format!("the server chose {version_name}, and the client hung up at once"),
        vec![
            (sh, format!("ServerHello chose {version_name}")),
            (
                c.entry,
                format!("{how} {} later, without answering the ServerHello", ms(gap)),
            ),
        ],
    )
}

fn tls_no_shared_cipher(f: &Facts<'_>) -> Option<Hit> {
    let hit = alert_rule(
        f,
        &[40, 71],
        Some(Direction::ServerToClient),
        Confidence::Likely,
    )?;
    // After its ServerHello the server had already chosen a suite: the alert is about something else.
    let alert = hit.evidence.last()?.0;
    f.server_hello.is_none_or(|sh| alert < sh).then_some(hit)
}


fn tls_server_abort(f: &Facts<'_>) -> Option<Hit> {
    let ch = f.client_hello?;
    if f.server_hello.is_some_and(|sh| sh > ch) {
        return None;
    }
    let c = f.failed_close()?;
    if c.dir != Direction::ServerToClient || c.entry < ch {
        return None;
    }
    let gap = f.gap_us(ch, c.entry).unwrap_or(0);
    let ev = vec![
        (ch, "TLS ClientHello sent".to_string()),
        (
            c.entry,
            format!(
                "{} {} later, with no ServerHello",
                closing_words(&c),
                ms(gap)
            ),
        ),
    ];
    match c.how {
        Close::Fin | Close::Rst => Hit::new(
            Confidence::Likely,
            format!(
                "{} after the ClientHello, no ServerHello and no alert",
                ms(gap)
            ),
            ev,
        ),
        // The server dropped TLS and sent an RDP disconnect in the clear (xrdp when it cannot load its
        // certificate or key): a hang-up, with words.
        Close::Disconnect => {
            let words = match &f.entry(c.entry)?.event {
                Event::McsDisconnectUltimatum { name, .. } => {
                    format!("an MCS Disconnect Provider Ultimatum ({name})")
                }
                Event::X224Disconnect { name, .. } => {
                    format!("an X.224 Disconnect Request ({name})")
                }
                _ => return None,
            };
            let ev = vec![
                (ch, "TLS ClientHello sent".to_string()),
                (
                    c.entry,
                    format!(
                        "the server answered {} later with {words} in the clear, no ServerHello",
                        ms(gap)
                    ),
                ),
            ];
            Hit::new(
                Confidence::Likely,
                format!(
                    "{} after the ClientHello the server gave up TLS: {words} in the clear, no ServerHello and no alert",
                    ms(gap)
                ),
                ev,
            )
        }
        // An alert with a description the version and cipher rules do not claim.
        Close::FatalAlert => {
            let e = f.entry(c.entry)?;
            match &e.event {
                Event::TlsAlert {
                    description, name, ..
                } if ![40, 70, 71, 86].contains(description) => Hit::new(
                    Confidence::Possible,
                    format!("the server refused the ClientHello with {name}"),
                    ev,
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The client ended the connection after the server's side of the TLS handshake and before it sent
/// anything of its own inside TLS (or, in CredSSP, before it sent credentials): it rejected the server.
/// Returns the close and whether it came mid-CredSSP.
fn client_rejection(f: &Facts<'_>) -> Option<(Closing, bool)> {
    if f.client_is_probe {
        return None;
    }
    let sh = f.server_hello?;
    let c = f.failed_close()?;
    if c.dir != Direction::ClientToServer || c.entry < sh {
        return None;
    }
    let app_data_before_close = |from: usize| {
        f.between(from, c.entry).any(|e| {
            e.dir == Some(Direction::ClientToServer)
                && matches!(e.event, Event::TlsApplicationData { .. })
        })
    };
    let Some(done) = f.tls_done else {
        return Some((c, false));
    };
    if !app_data_before_close(done) {
        return Some((c, false));
    }
    // Mid-CredSSP: the client stopped after the server proved its key, without sending credentials.
    let (client, server) = credssp_flights(f, c.entry);
    (c.stage == Stage::CredSsp && server >= 1 && client <= 2).then_some((c, true))
}

fn client_aborted_after_handshake(f: &Facts<'_>) -> Option<Hit> {
    let (c, mid_credssp) = client_rejection(f)?;
    // The last thing the server sent before the client gave up.
    let (last_srv, ls) = f.last_before(c.entry, |e| e.dir == Some(Direction::ServerToClient))?;
    let what = match &ls.event {
        Event::TlsServerHelloDone => "ServerHelloDone (its certificate)",
        Event::TlsCertificate { .. } => "certificate",
        Event::TlsEncryptedHandshake { .. } | Event::TlsChangeCipherSpec => "Finished",
        Event::TlsApplicationData { .. } if ls.stage == Stage::CredSsp => "CredSSP answer",
        // TLS 1.3: NewSessionTicket and other post-handshake records, encrypted.
        Event::TlsApplicationData { .. } => "encrypted records after the handshake",
        Event::TlsServerHello { .. } => "ServerHello",
        _ => "last message",
    };
    let gap = f.gap_us(last_srv, c.entry).unwrap_or(0);
    let mut ev = vec![
        (last_srv, format!("the server sent its {what}")),
        (c.entry, format!("{} {} later", closing_words(&c), ms(gap))),
    ];
    if let Some(chain) = f.chains.last() {
        if let Some(leaf) = chain.leaf() {
            ev.push((
                chain.entry,
                format!(
                    "the server's certificate: {} (issuer {})",
                    leaf.subject, leaf.issuer
                ),
            ));
        }
    }
    let (confidence, detail) = if mid_credssp {
        (Confidence::Likely, format!("the client stopped during CredSSP, {} after the server's {what}, without sending credentials", ms(gap)))
    } else {
        (
            Confidence::Certain,
            format!(
                "the client ended the connection {} after the server's {what}",
                ms(gap)
            ),
        )
    };
    Hit::new(confidence, detail, ev)
}

fn tls_legacy_version(f: &Facts<'_>) -> Option<Hit> {
    if let Some((i, _)) = f.first_from(Direction::ServerToClient, |e| {
        matches!(e, Event::Sslv2Hello { server: true })
    }) {
        return Hit::new(
            Confidence::Certain,
            "the server speaks SSLv2",
            vec![(
                i,
                "SSLv2 SERVER-HELLO: a protocol broken since 1996 (RFC 6176)".to_string(),
            )],
        );
    }
    let (sh, version_name) = legacy_server_hello(f)?;
    Hit::new(
        Confidence::Certain,
        format!("the server chose {version_name}"),
        vec![(
            sh,
            format!("ServerHello chose {version_name}, deprecated (RFC 8996)"),
        )],
    )
}

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::TlsVersionMismatch, stage: CauseStage::Tls, rank: 40, title: "No TLS version in common", remedy: "Enable TLS 1.2 on the server (SChannel protocols), or the version the client requires.", host_checks: &[c::TLS_PROTOCOLS, c::SCHANNEL_CRED, c::SCHANNEL_ALERT], explains: SOCKET_CLOSED, lookalikes: &[CauseId::TlsServerAbort], symptoms: &[CauseId::ClientAbortedAfterHandshake], named_by_alerts: &[70, 86], severity: Severity::Failure, check: tls_version_mismatch },
    Cause { id: CauseId::TlsNoSharedCipher, stage: CauseStage::Tls, rank: 41, title: "No TLS cipher suite in common", remedy: "Align cipher suite order and FIPS policy on both sides.", host_checks: &[c::SCHANNEL_CIPHER, c::CIPHER_POLICY], explains: SOCKET_CLOSED, lookalikes: &[CauseId::TlsServerAbort], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tls_no_shared_cipher },
    Cause { id: CauseId::TlsServerAbort, stage: CauseStage::Tls, rank: 42, title: "Server aborted the TLS handshake", remedy: "The server cannot use its certificate or key (expired or corrupt self-signed certificate, a key or hash its policy refuses, a key that does not match, a key it cannot open). Delete the RDP self-signed certificate and restart TermService, or assign a valid certificate; check the MachineKeys permissions.", host_checks: &[c::SCHANNEL_KEY, c::SCHANNEL_CRED, c::TS_1057, c::TS_1058, c::RDP_CERT_STORE, c::MACHINE_KEYS], explains: SOCKET_CLOSED, lookalikes: &[CauseId::TlsNoSharedCipher, CauseId::TlsVersionMismatch], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tls_server_abort },
    Cause { id: CauseId::ClientAbortedAfterHandshake, stage: CauseStage::Tls, rank: 59, title: "Client rejected the server", remedy: "The client rejected the server after seeing it, most often its certificate (untrusted, expired, wrong name) or a certificate prompt, and nothing on the wire says which (TLS 1.3 encrypts the certificate): probe the server (`rdpdiag probe HOST`) to see the certificate, and check the client's trust settings.", host_checks: &[c::CLIENT_CERT_TRUST, c::RDP_CERT_STORE, c::CLIENT_LOG], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CredsspVersionMismatch], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: client_aborted_after_handshake },
    Cause { id: CauseId::TlsLegacyVersion, stage: CauseStage::Tls, rank: 45, title: "Deprecated TLS version", remedy: "Enable TLS 1.2 (and 1.3) on the server and disable TLS 1.0/1.1.", host_checks: &[c::TLS_PROTOCOLS], explains: &[], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Advisory, check: tls_legacy_version },
];
