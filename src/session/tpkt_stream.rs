//! The TPKT half of the session: X.224 negotiation and, under standard RDP security, MCS in the clear.

use super::phase::{Phase, Signal};
use super::timeline::{CertEntry, CertSource, Direction, Event};
use super::{describe_foreign, Mode, Session};
use crate::wire::cert::summarize_certificate;
use crate::wire::mcs::{
    parse_mcs, parse_slow_path, CertificateChain, ClientDataBlock, Mcs, ServerDataBlock,
    ServerSecurityData,
};
use crate::wire::rdp_neg::NegData;
use crate::wire::tpkt::{parse_tpkt_header, tpkt_frame, Frame, TPKT_VERSION};
use crate::wire::x224::{parse_x224_packet, TokenLine, Tpdu};
use crate::wire::WireError;

impl Session {
    /// Handles the TPKT packet at the head of `rest`; returns the bytes used, or `None` to wait for more.
    pub(super) fn tpkt_pdu(&mut self, dir: Direction, rest: &[u8]) -> Option<usize> {
        match tpkt_frame(rest) {
            Ok(Frame::Need(_)) => None,
            Ok(Frame::Ready(n)) => {
                let pdu = rest.get(..n)?;
                self.on_tpkt(dir, pdu);
                Some(n)
            }
            Err(e) => {
                self.broken(dir, rest, "TPKT", &e);
                Some(rest.len())
            }
        }
    }

    /// Bytes that break their framing: `not-rdp` when nothing sensible came from that side yet and the
    /// bytes are not TPKT at all, else malformed. A TPKT version 3 header is TPKT: what breaks inside it
    /// (an X.224 length indicator past the packet, a TPKT length below its header) is a malformed PDU,
    /// named by the field.
    pub(super) fn broken(&mut self, dir: Direction, bytes: &[u8], pdu: &str, e: &WireError) {
        let first_from_side = !self.timeline.entries.iter().any(|en| {
            en.dir == Some(dir)
                && !matches!(
                    en.event,
                    Event::TcpSyn
                        | Event::TcpConnected { .. }
                        | Event::Fin
                        | Event::Rst
                        | Event::CaptureGap { .. }
                )
        });
        let tpkt = bytes.first() == Some(&TPKT_VERSION);
        if first_from_side && !tpkt {
            let first_bytes = hex::encode(bytes.get(..16).unwrap_or(bytes));
            self.push(
                Some(dir),
                Event::NotRdp {
                    first_bytes,
                    looks_like: describe_foreign(bytes),
                },
            );
        } else {
            let error = match parse_tpkt_header(bytes) {
                Ok((_, h)) if pdu != "TPKT" => format!(
                    "{e} (inside a well-formed TPKT header: version {}, length {})",
                    h.version, h.length
                ),
                _ => e.to_string(),
            };
            self.push(
                Some(dir),
                Event::Malformed {
                    pdu: pdu.to_string(),
                    error,
                },
            );
        }
        self.signal(Signal::Broken);
        self.stream_mut(dir).mode = Some(Mode::Skip);
    }

    fn unexpected(&mut self, dir: Direction, expected: &str, got: String) {
        self.push(
            Some(dir),
            Event::Unexpected {
                expected: expected.to_string(),
                got,
            },
        );
    }

    fn on_tpkt(&mut self, dir: Direction, pdu: &[u8]) {
        let tpdu = match parse_x224_packet(pdu) {
            Ok((_, tpdu)) => tpdu,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                return self.broken(dir, pdu, e.pdu(), &e)
            }
            Err(nom::Err::Incomplete(_)) => {
                let e = WireError::Truncated {
                    pdu: "X.224",
                    kind: nom::error::ErrorKind::Eof,
                };
                return self.broken(dir, pdu, "X.224", &e);
            }
        };
        match (dir, tpdu) {
            (Direction::ClientToServer, Tpdu::ConnectionRequest(cr)) => {
                // A negotiation structure that is there but unreadable (wrong type, cut short) makes
                // the request malformed, not a legacy client's (and the TPKT and CR are RDP: not not-rdp).
                if let Some(e) = cr.neg_error {
                    let (pdu, error) = (e.pdu().to_string(), e.to_string());
                    self.push(Some(dir), Event::Malformed { pdu, error });
                    self.signal(Signal::Broken);
                    self.stream_mut(dir).mode = Some(Mode::Skip);
                    return;
                }
                let (cookie, routing_token) = match cr.token {
                    Some(TokenLine::Cookie(c)) => {
                        (Some(String::from_utf8_lossy(c).into_owned()), None)
                    }
                    Some(
                        TokenLine::RoutingToken(t)
                        | TokenLine::Unknown(t)
                        | TokenLine::Unterminated(t),
                    ) => {
                        (None, Some(String::from_utf8_lossy(t).into_owned()))
                    }
                    None => (None, None),
                };
                let requested = cr.requested_protocols();
                self.push(
                    Some(dir),
                    Event::ConnectionRequest {
                        cookie,
                        routing_token,
                        requested_protocols: cr.neg_request.map(|r| r.requested_protocols.0),
                        requested: requested.to_string(),
                        neg_flags: cr.neg_request.map(|r| r.flags.0),
                        correlation_id: cr.correlation_info.map(|c| hex::encode(c.correlation_id)),
                    },
                );
                self.last_request_at = Some(self.now);
                self.signal(Signal::Request(requested));
            }
            // RDP speaks X.224 class 0 only (MS-RDPBCGR 2.2.1.2: classOptions 0): another class does not fit.
            (Direction::ServerToClient, Tpdu::ConnectionConfirm(cc)) if cc.class_option >> 4 != 0 => {
                let e = WireError::BadValue {
                    pdu: "X.224 Connection Confirm",
                    field: "class",
                    got: (cc.class_option >> 4).into(),
                    expected: "0 (RDP uses X.224 class 0)",
                };
                self.broken(dir, pdu, e.pdu(), &e);
            }
            (Direction::ServerToClient, Tpdu::ConnectionConfirm(cc)) => {
                match (cc.neg_data, cc.neg_error) {
                    (Some(NegData::Response(r)), _) => {
                        self.push(
                            Some(dir),
                            Event::ConnectionConfirm {
                                selected_protocol: Some(r.selected_protocol.0),
                                selected: r.selected_protocol.to_string(),
                                neg_flags: Some(r.flags.0),
                                well_formed: r.length_ok(),
                            },
                        );
                        self.signal(Signal::Confirm(r.selected_protocol));
                        if matches!(self.phase, Phase::TlsHandshake { .. }) {
                            self.switch_to_tls();
                        }
                    }
                    (Some(NegData::Failure(f)), _) => {
                        let name = f.failure_code.to_string();
                        self.push(
                            Some(dir),
                            Event::NegotiationFailure {
                                failure_code: f.failure_code.0,
                                name,
                            },
                        );
                        self.signal(Signal::Refusal);
                    }
                    (None, Some(e)) => {
                        let selected = "unreadable".to_string();
                        self.push(
                            Some(dir),
                            Event::ConnectionConfirm {
                                selected_protocol: None,
                                selected,
                                neg_flags: None,
                                well_formed: false,
                            },
                        );
                        self.push(
                            Some(dir),
                            Event::Malformed {
                                pdu: e.pdu().to_string(),
                                error: e.to_string(),
                            },
                        );
                        self.signal(Signal::Broken);
                        self.stream_mut(dir).mode = Some(Mode::Skip);
                    }
                    (None, None) => {
                        let selected = "none (no RDP_NEG_RSP: standard RDP security)".to_string();
                        self.push(
                            Some(dir),
                            Event::ConnectionConfirm {
                                selected_protocol: None,
                                selected,
                                neg_flags: None,
                                well_formed: true,
                            },
                        );
                        self.signal(Signal::LegacyConfirm);
                    }
                }
            }
            (_, Tpdu::DisconnectRequest(dr)) => {
                self.push(
                    Some(dir),
                    Event::X224Disconnect {
                        reason: dr.reason.0,
                        name: dr.reason.to_string(),
                    },
                );
                self.signal(Signal::Refusal);
            }
            (_, Tpdu::Error(er)) => {
                self.push(
                    Some(dir),
                    Event::X224Error {
                        reject_cause: er.reject_cause,
                    },
                );
                self.signal(Signal::Refusal);
            }
            (_, Tpdu::Data(dt)) => self.on_mcs(dir, dt.user_data),
            (_, other) => {
                let expected = match dir {
                    Direction::ClientToServer => "an X.224 Connection Request or Data TPDU",
                    Direction::ServerToClient => "an X.224 Connection Confirm or Data TPDU",
                };
                self.unexpected(dir, expected, format!("X.224 TPDU code {}", other.code()));
            }
        }
    }

    fn on_mcs(&mut self, dir: Direction, data: &[u8]) {
        let following = self.following_standard();
        if following && !self.standard_within_bounds() {
            return;
        }
        let mcs = match parse_mcs(data) {
            Ok((_, mcs)) => mcs,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                self.push(
                    Some(dir),
                    Event::Malformed {
                        pdu: e.pdu().to_string(),
                        error: e.to_string(),
                    },
                );
                return;
            }
            Err(nom::Err::Incomplete(_)) => {
                self.push(
                    Some(dir),
                    Event::Malformed {
                        pdu: "MCS".to_string(),
                        error: "PDU longer than its X.224 Data TPDU".to_string(),
                    },
                );
                return;
            }
        };
        match mcs {
            Mcs::ConnectInitial(ci) => {
                let core = ci.conference.blocks.iter().find_map(|b| match b {
                    ClientDataBlock::Core(core) => Some(core),
                    _ => None,
                });
                self.push(
                    Some(dir),
                    Event::McsConnectInitial {
                        client_name: core.map(|c| c.client_name()),
                        client_build: core.map(|c| c.client_build),
                    },
                );
            }
            Mcs::ConnectResponse(cr) => {
                let security = cr.conference.as_ref().and_then(|conf| {
                    conf.blocks.iter().find_map(|b| match b {
                        ServerDataBlock::Security(sec) => Some(sec),
                        _ => None,
                    })
                });
                self.push(
                    Some(dir),
                    Event::McsConnectResponse {
                        result: cr.result.0,
                        encryption_method: security.map(|s| s.encryption_method.0),
                        encryption_method_name: security.map(|s| s.encryption_method.to_string()),
                        encryption_level: security.map(|s| s.encryption_level.0),
                        encryption_level_name: security.map(|s| s.encryption_level.to_string()),
                        server_cert: security.and_then(describe_server_cert),
                    },
                );
                if let Some(chain) = security.and_then(x509_chain) {
                    self.push(
                        Some(dir),
                        Event::TlsCertificate {
                            source: CertSource::StandardSecurity,
                            chain,
                        },
                    );
                }
                if cr.result.is_success() {
                    self.standard_connected(
                        security.map(|s| s.encryption_level.0),
                        security.map(|s| s.encryption_method.0),
                    );
                    self.signal(Signal::McsConnected);
                } else {
                    self.signal(Signal::Refusal);
                }
            }
            Mcs::DisconnectProviderUltimatum { reason } => {
                self.push(
                    Some(dir),
                    Event::McsDisconnectUltimatum {
                        reason: reason.0,
                        name: reason.to_string(),
                    },
                );
                self.signal(Signal::Refusal);
            }
            Mcs::SendData { user_data, .. } if following => {
                self.on_standard_send_data(dir, user_data)
            }
            Mcs::SendData {
                indication: true,
                user_data,
                ..
            } => {
                // Standard RDP security carries a security header; Enhanced security never reaches here in the clear.
                let error_info = parse_slow_path(user_data, true)
                    .ok()
                    .and_then(|(_, sp)| sp.error_info());
                match error_info {
                    Some(info) => self.push(
                        Some(dir),
                        Event::SetErrorInfo {
                            error_info: info.0,
                            name: info.to_string(),
                        },
                    ),
                    None => self.push_or_extend(
                        dir,
                        Event::StandardSecurityData {
                            records: 1,
                            bytes: len_u64(user_data),
                        },
                    ),
                }
            }
            _ => self.push_or_extend(
                dir,
                Event::StandardSecurityData {
                    records: 1,
                    bytes: len_u64(data),
                },
            ),
        }
    }
}

fn len_u64(b: &[u8]) -> u64 {
    u64::try_from(b.len()).unwrap_or(u64::MAX)
}

fn describe_server_cert(sec: &ServerSecurityData<'_>) -> Option<String> {
    let cert = sec.server_certificate.as_ref()?;
    let kind = match &cert.chain {
        CertificateChain::Proprietary(p) => match &p.public_key {
            Some(key) => format!("proprietary, RSA {} bits", key.bitlen),
            None => "proprietary".to_string(),
        },
        CertificateChain::X509(chain) => format!("X.509 chain of {}", chain.certificates.len()),
        CertificateChain::Unknown(_) => {
            format!("unknown chain version {:#x}", cert.chain_version())
        }
    };
    let lifetime = if cert.temporary() {
        "temporary"
    } else {
        "permanent"
    };
    Some(format!("{kind}, {lifetime}"))
}

fn x509_chain(sec: &ServerSecurityData<'_>) -> Option<Vec<CertEntry>> {
    match &sec.server_certificate.as_ref()?.chain {
        CertificateChain::X509(chain) => Some(
            chain
                .certificates
                .iter()
                .map(|der| cert_entry(der))
                .collect(),
        ),
        _ => None,
    }
}

/// Summarises one DER certificate for the timeline, keeping why it could not be read.
///
/// A pure function of the bytes, memoised per thread: a server shows the same certificate in every
/// connection (a client retrying, many clients), and the summary's self-signature check is the costliest
/// step of a replay. The memo is bounded ([`MEMO_ENTRIES`] certificates of at most [`MEMO_MAX_DER`] bytes;
/// full, it starts over), so hostile captures cannot grow it.
pub fn cert_entry(der: &[u8]) -> CertEntry {
    if der.len() > MEMO_MAX_DER {
        return summarize_entry(der);
    }
    CERT_MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some(entry) = memo.get(der) {
            return entry.clone();
        }
        let entry = summarize_entry(der);
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(der.to_vec(), entry.clone());
        entry
    })
}

/// How many certificate summaries [`cert_entry`] keeps per thread.
pub const MEMO_ENTRIES: usize = 64;
/// Certificates longer than this are summarised every time, never kept.
pub const MEMO_MAX_DER: usize = 16 * 1024;

thread_local! {
    static CERT_MEMO: std::cell::RefCell<foldhash::HashMap<Vec<u8>, CertEntry>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
}

fn summarize_entry(der: &[u8]) -> CertEntry {
    match summarize_certificate(der) {
        Ok(summary) => CertEntry::Parsed(Box::new(summary)),
        Err(e) => CertEntry::Unreadable {
            error: e.to_string(),
            der_len: der.len(),
        },
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;

    #[test]
    fn the_memo_answers_as_the_summary_does_and_stays_bounded() {
        let der = include_bytes!("../../fixtures/wire/certs/ndpi-office-win10-vm.der");
        assert!(matches!(summarize_entry(der), CertEntry::Parsed(_)));
        assert_eq!(cert_entry(der), summarize_entry(der));
        assert_eq!(cert_entry(der), summarize_entry(der));
        for n in 0..u16::try_from(3 * MEMO_ENTRIES).unwrap_or(u16::MAX) {
            let [hi, lo] = n.to_be_bytes();
            let junk = [0x30, 0x03, 0x02, 0x01, lo, hi];
            assert_eq!(cert_entry(&junk), summarize_entry(&junk));
            CERT_MEMO.with(|m| assert!(m.borrow().len() <= MEMO_ENTRIES));
        }
    }
}
