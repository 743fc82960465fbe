//! Standard RDP security followed through (MS-RDPBCGR 1.3.1.1): after the MCS Connect Response come the
//! channel connection, the client's Security Exchange PDU (2.2.1.10) and Client Info PDU (2.2.1.11), and
//! then the server's first licensing PDU (2.2.1.12) or Demand Active PDU (2.2.1.13.1). Only then is the
//! channel up: a server that hangs up before it has refused the client.
//!
//! Above encryption level NONE the content of these PDUs is RC4 (or 3DES) ciphertext whose keys we never
//! see, but the Basic Security Header's flags (2.2.8.1.1.2.1) travel in the clear: the PDUs are known by
//! them, and an encrypted server PDU after the Client Info that is not a licensing PDU by its size (a
//! Demand Active carries the server's capability sets, hundreds of bytes). Following is bounded: at most
//! [`MAX_STANDARD_PDUS`] PDUs and [`STANDARD_FOLLOW_US`] of capture time after the MCS connect.

use super::phase::{Phase, Signal, StandardStep};
use super::timeline::{Direction, Event, StandardPdu, Timestamp};
use super::{Mode, Session};
use crate::wire::mcs::{
    parse_slow_path, ErrorInfo, SecurityFlags, ShareControlHeader, SlowPathContent,
};

/// The most MCS PDUs followed after the MCS Connect Response while waiting for licensing or Demand
/// Active: room for the channel connection of a client with all 31 static channels (erect domain,
/// attach user, a join request and confirm for each channel, the user and the I/O channel: 71 PDUs),
/// the security exchange, the Client Info and some auto-detection.
pub const MAX_STANDARD_PDUS: u32 = 100;
/// How long (capture or probe time) after the MCS Connect Response the setup is followed.
pub const STANDARD_FOLLOW_US: i64 = 10_000_000;
/// The least Send Data user data an encrypted server PDU after the Client Info needs to be taken for the
/// Demand Active PDU (security header, MAC, Share Control and the capability sets). A Set Error Info PDU
/// (about 34 bytes encrypted) stays below it.
pub const DEMAND_ACTIVE_MIN_BYTES: usize = 128;

/// `pduType`'s protocol version bits (MS-RDPBCGR 2.2.8.1.1.1.1: TS_PROTOCOL_VERSION, 0x10).
const TS_PROTOCOL_VERSION: u16 = 0x0010;
/// Flags that make a server PDU something other than the Demand Active (or a Share Control PDU at all).
const NOT_DEMAND_ACTIVE: u16 = SecurityFlags::SEC_EXCHANGE_PKT
    | SecurityFlags::SEC_TRANSPORT_REQ
    | SecurityFlags::RDP_SEC_TRANSPORT_RSP
    | SecurityFlags::SEC_INFO_PKT
    | SecurityFlags::SEC_LICENSE_PKT
    | SecurityFlags::SEC_REDIRECTION_PKT
    | SecurityFlags::SEC_AUTODETECT_REQ
    | SecurityFlags::SEC_AUTODETECT_RSP
    | SecurityFlags::SEC_HEARTBEAT;

/// What the session keeps while following standard RDP security.
#[derive(Debug, Default)]
pub(super) struct StandardTrack {
    /// Encryption level and method above NONE (MCS Connect Response): every PDU carries a security
    /// header. At NONE only the security exchange, Client Info and licensing PDUs do.
    pub(super) headers: bool,
    /// When the MCS Connect Response arrived.
    pub(super) connected_at: Option<Timestamp>,
    /// MCS PDUs seen since.
    pub(super) pdus: u32,
    /// A bound was hit: nothing more is followed.
    pub(super) gave_up: bool,
}

/// What one Send Data PDU is, as far as the follow-through cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Landmark {
        pdu: StandardPdu,
        flags: Option<SecurityFlags>,
        encrypted: bool,
        inferred: bool,
        license_msg: Option<u8>,
    },
    ErrorInfo(ErrorInfo),
    Other,
}

/// MS-RDPBCGR 2.2.1.12.1.1 Licensing Preamble `bMsgType`.
pub fn license_msg_name(msg: u8) -> Option<&'static str> {
    Some(match msg {
        0x01 => "LICENSE_REQUEST",
        0x02 => "PLATFORM_CHALLENGE",
        0x03 => "NEW_LICENSE",
        0x04 => "UPGRADE_LICENSE",
        0x12 => "LICENSE_INFO",
        0x13 => "NEW_LICENSE_REQUEST",
        0x15 => "PLATFORM_CHALLENGE_RESPONSE",
        0xFF => "ERROR_ALERT",
        _ => return None,
    })
}

impl Session {
    /// True while the session follows standard RDP security between the MCS connect and the channel.
    pub(super) fn following_standard(&self) -> bool {
        matches!(self.phase, Phase::StandardSecurity { step } if step != StandardStep::Connect)
            && !self.standard.gave_up
    }

    /// The MCS Connect Response under standard RDP security was successful.
    pub(super) fn standard_connected(&mut self, level: Option<u32>, method: Option<u32>) {
        self.standard.headers = level.is_some_and(|l| l > 0) && method.is_some_and(|m| m > 0);
        self.standard.connected_at = Some(self.now);
        self.standard.pdus = 0;
    }

    /// Counts one MCS PDU after the connect, and stops following at a bound. Returns false once stopped.
    pub(super) fn standard_within_bounds(&mut self) -> bool {
        if !self.following_standard() {
            return false;
        }
        self.standard.pdus = self.standard.pdus.saturating_add(1);
        let waited = self
            .standard
            .connected_at
            .map_or(0, |at| self.now.micros_since(at));
        let why = if self.standard.pdus > MAX_STANDARD_PDUS {
            format!("{MAX_STANDARD_PDUS} PDUs")
        } else if waited > STANDARD_FOLLOW_US {
            format!("{} s", STANDARD_FOLLOW_US / 1_000_000)
        } else {
            return true;
        };
        self.standard.gave_up = true;
        self.push(
            None,
            Event::LimitHit {
                what: format!(
                    "standard RDP security followed for {why} after the MCS connect without a licensing or Demand Active PDU: the rest is not parsed"
                ),
            },
        );
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let stream = self.stream_mut(dir);
            stream.mode = Some(Mode::Skip);
            stream.buf.clear();
        }
        false
    }

    /// The user data of one Send Data Request (client) or Indication (server) after the MCS connect.
    pub(super) fn on_standard_send_data(&mut self, dir: Direction, user_data: &[u8]) {
        let bytes = u64::try_from(user_data.len()).unwrap_or(u64::MAX);
        match self.classify_standard(dir, user_data) {
            Kind::Landmark {
                pdu,
                flags,
                encrypted,
                inferred,
                license_msg,
            } => {
                self.push(
                    Some(dir),
                    Event::StandardSecurityPdu {
                        pdu,
                        security_flags: flags.map(|f| f.0),
                        security_flags_name: flags.map(|f| f.to_string()),
                        bytes,
                        encrypted,
                        inferred,
                        license_msg,
                        license_msg_name: license_msg
                            .map(|m| license_msg_name(m).map_or(format!("{m:#04x}"), str::to_string)),
                    },
                );
                self.signal(match pdu {
                    StandardPdu::SecurityExchange => Signal::SecurityExchange,
                    StandardPdu::ClientInfo => Signal::ClientInfo,
                    StandardPdu::Licensing | StandardPdu::DemandActive => Signal::ServerSetup,
                });
            }
            Kind::ErrorInfo(info) => self.push(
                Some(dir),
                Event::SetErrorInfo {
                    error_info: info.0,
                    name: info.to_string(),
                },
            ),
            Kind::Other => self.push_or_extend(
                dir,
                Event::StandardSecurityData { records: 1, bytes },
            ),
        }
    }

    fn classify_standard(&self, dir: Direction, data: &[u8]) -> Kind {
        // Without encryption the PDUs after the Client Info carry no security header (2.2.1.13.1
        // securityHeader): a Share Control PDU whose totalLength is the whole user data.
        if !self.standard.headers {
            if let Some(kind) = share_control(data, false) {
                return kind;
            }
        }
        let Some(flags) = data
            .get(..2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(|b| SecurityFlags(u16::from_le_bytes(b)))
        else {
            return Kind::Other;
        };
        let encrypted = flags.contains(SecurityFlags::SEC_ENCRYPT);
        let landmark = |pdu, inferred, license_msg| Kind::Landmark {
            pdu,
            flags: Some(flags),
            encrypted,
            inferred,
            license_msg,
        };
        let after_client_info = self.phase
            == Phase::StandardSecurity {
                step: StandardStep::ClientInfo,
            };
        match dir {
            Direction::ClientToServer if flags.contains(SecurityFlags::SEC_EXCHANGE_PKT) => {
                landmark(StandardPdu::SecurityExchange, false, None)
            }
            Direction::ClientToServer if flags.contains(SecurityFlags::SEC_INFO_PKT) => {
                landmark(StandardPdu::ClientInfo, false, None)
            }
            // The Licensing Preamble follows the 4-byte Basic Security Header when it is in the clear.
            Direction::ServerToClient if flags.contains(SecurityFlags::SEC_LICENSE_PKT) => {
                let msg = if encrypted { None } else { data.get(4).copied() };
                landmark(StandardPdu::Licensing, false, msg)
            }
            Direction::ServerToClient
                if encrypted
                    && after_client_info
                    && flags.0 & NOT_DEMAND_ACTIVE == 0
                    && data.len() >= DEMAND_ACTIVE_MIN_BYTES =>
            {
                landmark(StandardPdu::DemandActive, true, None)
            }
            _ if !encrypted => share_control(data, true).unwrap_or(Kind::Other),
            _ => Kind::Other,
        }
    }
}

/// A Share Control PDU that fills `data` exactly (after a Basic Security Header when `header`), with
/// the protocol version in its pduType: a Demand Active, a Set Error Info, or another.
fn share_control(data: &[u8], header: bool) -> Option<Kind> {
    let (rest, pdu) = parse_slow_path(data, header).ok()?;
    let SlowPathContent::ShareControl { header: sc, .. } = pdu.content else {
        return None;
    };
    let whole = usize::from(sc.total_length).saturating_add(if header { 4 } else { 0 }) == data.len();
    if !rest.is_empty() || !whole || sc.pdu_type & 0xFFF0 != TS_PROTOCOL_VERSION {
        return None;
    }
    Some(if sc.kind() == ShareControlHeader::PDUTYPE_DEMANDACTIVEPDU {
        Kind::Landmark {
            pdu: StandardPdu::DemandActive,
            flags: pdu.security.map(|s| s.flags),
            encrypted: false,
            inferred: false,
            license_msg: None,
        }
    } else if let Some(info) = pdu.error_info() {
        Kind::ErrorInfo(info)
    } else {
        Kind::Other
    })
}
