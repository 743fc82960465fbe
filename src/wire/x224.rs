//! X.224 class 0 TPDUs as RDP uses them (ITU-T X.224 §13; MS-RDPBCGR 2.2.1.1 Connection Request,
//! 2.2.1.2 Connection Confirm), carried in TPKT.
//!
//! The length indicator (LI) counts the TPDU header after itself. In RDP's Connection Request and Confirm
//! the cookie / routing token and the negotiation structures sit inside that header's variable part.

use std::fmt;

use nom::number::streaming::{be_u16, u8 as byte};
use nom::Parser;

use super::rdp_neg::{
    encode_correlation_info, encode_neg_request, parse_correlation_info, parse_neg_data,
    parse_neg_request, CorrelationInfo, NegData, NegRequest, NegRequestFlags, SecurityProtocols,
    TYPE_RDP_CORRELATION_INFO, TYPE_RDP_NEG_REQ,
};
use super::tpkt::{encode_tpkt, parse_tpkt};
use super::{bounded, fail, write_named, WireError, WireResult};

/// TPDU code (X.224 §13.2.2.2): the high nibble is the TPDU type; for CR and CC the low nibble is the
/// credit (0 in class 0). Open: an unknown code survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TpduCode(pub u8);

impl TpduCode {
    /// CR: Connection Request.
    pub const CONNECTION_REQUEST: Self = Self(0xE0);
    /// CC: Connection Confirm.
    pub const CONNECTION_CONFIRM: Self = Self(0xD0);
    /// DR: Disconnect Request.
    pub const DISCONNECT_REQUEST: Self = Self(0x80);
    /// DT: Data.
    pub const DATA: Self = Self(0xF0);
    /// ER: TPDU Error.
    pub const ERROR: Self = Self(0x70);

    /// The TPDU type (high nibble).
    pub const fn kind(self) -> u8 {
        self.0 & 0xF0
    }

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.kind() {
            0xE0 => "CR",
            0xD0 => "CC",
            0x80 => "DR",
            0xF0 => "DT",
            0x70 => "ER",
            0xC0 => "DC",
            0x60 => "AK",
            0x10 => "ED",
            0x20 => "EA",
            0x50 => "RJ",
            _ => return None,
        })
    }
}

impl fmt::Display for TpduCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// The text line a client may put first in the Connection Request's variable part
/// (MS-RDPBCGR 2.2.1.1 cookie / routingToken), without its CR LF terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLine<'a> {
    /// `Cookie: mstshash=IDENTIFIER`: the value after `mstshash=`.
    Cookie(&'a [u8]),
    /// `Cookie: msts=...` (the load-balancing routing token), the whole line.
    RoutingToken(&'a [u8]),
    /// Any other CR LF-terminated line: neither a cookie nor a routing token, so not what the
    /// specification allows there.
    Unknown(&'a [u8]),
    /// A line that has no CR LF before the end of the TPDU: cut short.
    Unterminated(&'a [u8]),
}

/// MS-RDPBCGR 2.2.1.1 Client X.224 Connection Request PDU (TPDU part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest<'a> {
    pub code: TpduCode,
    pub dst_ref: u16,
    pub src_ref: u16,
    pub class_option: u8,
    pub token: Option<TokenLine<'a>>,
    /// RDP_NEG_REQ; `None` for a legacy client that offers standard RDP security only (see
    /// [`ConnectionRequest::neg_error`]: a structure that is there but unreadable is not that).
    pub neg_request: Option<NegRequest>,
    /// Why a negotiation structure after the token line could not be read (a wrong type, 0 or 3, or a
    /// structure cut short), when it could not; its bytes are in `trailing`.
    pub neg_error: Option<WireError>,
    pub correlation_info: Option<CorrelationInfo<'a>>,
    /// Bytes of the variable part or user data that follow what could be read.
    pub trailing: &'a [u8],
}

impl ConnectionRequest<'_> {
    /// What the client offers: its RDP_NEG_REQ, or standard RDP security when it sent none.
    pub fn requested_protocols(&self) -> SecurityProtocols {
        self.neg_request
            .map_or(SecurityProtocols::RDP, |r| r.requested_protocols)
    }
}

/// MS-RDPBCGR 2.2.1.2 Server X.224 Connection Confirm PDU (TPDU part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfirm<'a> {
    pub code: TpduCode,
    pub dst_ref: u16,
    pub src_ref: u16,
    pub class_option: u8,
    /// RDP_NEG_RSP or RDP_NEG_FAILURE; `None` when the server sent neither (pre-negotiation server).
    pub neg_data: Option<NegData>,
    /// Why the bytes after the fixed part could not be read as rdpNegData, when they could not.
    pub neg_error: Option<WireError>,
    /// Bytes after what could be read.
    pub trailing: &'a [u8],
}

/// X.224 §13.5 Disconnect Request TPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectRequest<'a> {
    pub dst_ref: u16,
    pub src_ref: u16,
    pub reason: DisconnectReason,
    pub variable: &'a [u8],
    pub user_data: &'a [u8],
}

/// X.224 §13.5.3 d) disconnect reason; open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisconnectReason(pub u8);

impl DisconnectReason {
    pub const NOT_SPECIFIED: Self = Self(0);
    pub const CONGESTION: Self = Self(1);
    pub const SESSION_ENTITY_NOT_ATTACHED: Self = Self(2);
    pub const ADDRESS_UNKNOWN: Self = Self(3);

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "reason not specified",
            1 => "congestion at TSAP",
            2 => "session entity not attached to TSAP",
            3 => "address unknown",
            128 => "normal disconnect initiated by session entity",
            129 => "remote transport entity congestion",
            130 => "connection negotiation failed",
            131 => "duplicate source reference",
            132 => "mismatched references",
            133 => "protocol error",
            135 => "reference overflow",
            136 => "connection request refused on this network connection",
            138 => "header or parameter length invalid",
            _ => return None,
        })
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

/// X.224 §13.12 TPDU Error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorTpdu<'a> {
    pub dst_ref: u16,
    /// Reject cause: 0 not specified, 1 invalid parameter code, 2 invalid TPDU type, 3 invalid parameter value.
    pub reject_cause: u8,
    /// Parameters, usually 0xC1 "invalid TPDU" quoting the rejected header.
    pub variable: &'a [u8],
}

/// X.224 §13.7 Data TPDU (class 0): what MCS and everything after it ride in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTpdu<'a> {
    /// The length indicator as sent: 2 in class 0 (code, then TPDU-NR/EOT); see [`DataTpdu::length_ok`].
    pub length_indicator: u8,
    /// The EOT bit of the second header byte (end of TSDU).
    pub eot: bool,
    /// Header bytes past the two class 0 defines (none when well formed).
    pub extra_header: &'a [u8],
    pub user_data: &'a [u8],
}

impl DataTpdu<'_> {
    /// True when the length indicator is 2, as X.224 §13.7.1 requires in class 0.
    pub fn length_ok(&self) -> bool {
        self.length_indicator == DATA_TPDU_LI
    }
}

/// The length indicator of a class 0 Data TPDU (X.224 §13.7.1).
pub const DATA_TPDU_LI: u8 = 2;

/// One X.224 TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tpdu<'a> {
    ConnectionRequest(ConnectionRequest<'a>),
    ConnectionConfirm(ConnectionConfirm<'a>),
    DisconnectRequest(DisconnectRequest<'a>),
    Data(DataTpdu<'a>),
    Error(ErrorTpdu<'a>),
    /// A TPDU type RDP does not use, kept whole.
    Other {
        code: TpduCode,
        header: &'a [u8],
        user_data: &'a [u8],
    },
}

impl Tpdu<'_> {
    pub fn code(&self) -> TpduCode {
        match self {
            Tpdu::ConnectionRequest(cr) => cr.code,
            Tpdu::ConnectionConfirm(cc) => cc.code,
            Tpdu::DisconnectRequest(_) => TpduCode::DISCONNECT_REQUEST,
            Tpdu::Data(_) => TpduCode::DATA,
            Tpdu::Error(_) => TpduCode::ERROR,
            Tpdu::Other { code, .. } => *code,
        }
    }
}

/// Parses one whole TPKT packet and the X.224 TPDU in it (streaming: `Incomplete` until the TPKT is whole).
pub fn parse_x224_packet(i: &[u8]) -> WireResult<'_, Tpdu<'_>> {
    let (rest, tpkt) = parse_tpkt(i)?;
    let (_, tpdu) = parse_tpdu(tpkt.payload)?;
    Ok((rest, tpdu))
}

/// Parses a TPDU from the complete payload of one TPKT packet.
pub fn parse_tpdu(payload: &[u8]) -> WireResult<'_, Tpdu<'_>> {
    let (after_li, li) = bounded("X.224", payload, byte)?;
    let Some((header, user_data)) = after_li.split_at_checked(usize::from(li)) else {
        return fail(WireError::BadLength {
            pdu: "X.224",
            field: "length indicator",
            got: li.into(),
            expected: "no more than the bytes the TPKT carries",
        });
    };
    let code = TpduCode(*header.first().ok_or(nom::Err::Error(WireError::BadLength {
        pdu: "X.224",
        field: "length indicator",
        got: 0,
        expected: "at least 1, the TPDU code",
    }))?);
    let tpdu = match code.kind() {
        0xE0 => Tpdu::ConnectionRequest(connection_request(code, header, user_data)?),
        0xD0 => Tpdu::ConnectionConfirm(connection_confirm(code, header, user_data)?),
        0x80 => {
            let (variable, (_, dst_ref, src_ref, reason)) =
                bounded("X.224 Disconnect Request", header, |i| {
                    (byte, be_u16, be_u16, byte).parse(i)
                })?;
            Tpdu::DisconnectRequest(DisconnectRequest {
                dst_ref,
                src_ref,
                reason: DisconnectReason(reason),
                variable,
                user_data,
            })
        }
        0xF0 => {
            let (extra_header, (_, eot)) =
                bounded("X.224 Data", header, |i| (byte, byte).parse(i))?;
            Tpdu::Data(DataTpdu {
                length_indicator: li,
                eot: eot & 0x80 != 0,
                extra_header,
                user_data,
            })
        }
        0x70 => {
            let (variable, (_, dst_ref, reject_cause)) =
                bounded("X.224 TPDU Error", header, |i| {
                    (byte, be_u16, byte).parse(i)
                })?;
            Tpdu::Error(ErrorTpdu {
                dst_ref,
                reject_cause,
                variable,
            })
        }
        _ => Tpdu::Other {
            code,
            header,
            user_data,
        },
    };
    Ok((&[], tpdu))
}

/// The fixed part shared by CR and CC (X.224 §13.3.1, §13.4.1): code, DST-REF, SRC-REF, class/option.
fn fixed_part<'a>(pdu: &'static str, header: &'a [u8]) -> WireResult<'a, (u8, u16, u16, u8)> {
    bounded(pdu, header, |i| (byte, be_u16, be_u16, byte).parse(i))
}

fn connection_request<'a>(
    code: TpduCode,
    header: &'a [u8],
    user_data: &'a [u8],
) -> Result<ConnectionRequest<'a>, nom::Err<WireError>> {
    const PDU: &str = "X.224 Connection Request";
    let (mut variable, (_, dst_ref, src_ref, class_option)) = fixed_part(PDU, header)?;
    let mut cr = ConnectionRequest {
        code,
        dst_ref,
        src_ref,
        class_option,
        token: None,
        neg_request: None,
        neg_error: None,
        correlation_info: None,
        trailing: &[],
    };
    // RDP puts everything in the variable part; a few clients put it in the user data instead.
    if variable.is_empty() {
        variable = user_data;
    } else if !user_data.is_empty() {
        cr.trailing = user_data;
    }
    // A token line is text; the negotiation structures start with a small type byte (1, 6, or a wrong
    // one such as 0 or 3), never with a printable character.
    if variable.first().is_some_and(|b| !is_structure_type(*b)) {
        let (rest, token) = token_line(variable);
        cr.token = Some(token);
        variable = rest;
    }
    // RDP_NEG_REQ, then RDP_NEG_CORRELATION_INFO. A bad structure must not hide the request itself: its
    // error is kept beside the outer facts and its bytes, from its first, are the trailing bytes.
    while let Some(&ty) = variable.first().filter(|b| is_structure_type(**b)) {
        let parsed = match ty {
            TYPE_RDP_NEG_REQ if cr.neg_request.is_none() && cr.correlation_info.is_none() => {
                bounded("RDP_NEG_REQ", variable, parse_neg_request).map(|(rest, req)| {
                    cr.neg_request = Some(req);
                    rest
                })
            }
            TYPE_RDP_CORRELATION_INFO if cr.correlation_info.is_none() => bounded(
                "RDP_NEG_CORRELATION_INFO",
                variable,
                parse_correlation_info,
            )
            .map(|(rest, info)| {
                cr.correlation_info = Some(info);
                rest
            }),
            _ => Err(nom::Err::Error(WireError::BadValue {
                pdu: "RDP_NEG_REQ",
                field: "type",
                got: ty.into(),
                expected: "0x01 TYPE_RDP_NEG_REQ, then 0x06 TYPE_RDP_CORRELATION_INFO",
            })),
        };
        match parsed {
            Ok(rest) => variable = rest,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                cr.neg_error = Some(e);
                break;
            }
            // `bounded` never asks for more; were it to, the structure is cut short all the same.
            Err(nom::Err::Incomplete(_)) => {
                cr.neg_error = Some(WireError::Truncated {
                    pdu: "RDP_NEG_REQ",
                    kind: nom::error::ErrorKind::Eof,
                });
                break;
            }
        }
    }
    if !variable.is_empty() {
        cr.trailing = variable;
    }
    Ok(cr)
}

/// Whether a byte can start a negotiation structure rather than a token line (types are small numbers;
/// a token line starts with a printable character).
fn is_structure_type(b: u8) -> bool {
    b < 0x20
}

const COOKIE_PREFIX: &[u8] = b"Cookie: mstshash=";
const ROUTING_TOKEN_PREFIX: &[u8] = b"Cookie: msts=";

/// Splits the cookie or routing token line (up to and including CR LF) off the variable part.
fn token_line(i: &[u8]) -> (&[u8], TokenLine<'_>) {
    let end = i.windows(2).position(|w| w == b"\r\n");
    match end.and_then(|end| Some((i.get(..end)?, i.get(end + 2..)?))) {
        Some((line, rest)) => match line.strip_prefix(COOKIE_PREFIX) {
            Some(value) => (rest, TokenLine::Cookie(value)),
            None if line.starts_with(ROUTING_TOKEN_PREFIX) => (rest, TokenLine::RoutingToken(line)),
            None => (rest, TokenLine::Unknown(line)),
        },
        None => (&[], TokenLine::Unterminated(i)),
    }
}

fn connection_confirm<'a>(
    code: TpduCode,
    header: &'a [u8],
    user_data: &'a [u8],
) -> Result<ConnectionConfirm<'a>, nom::Err<WireError>> {
    let (variable, (_, dst_ref, src_ref, class_option)) =
        fixed_part("X.224 Connection Confirm", header)?;
    let mut cc = ConnectionConfirm {
        code,
        dst_ref,
        src_ref,
        class_option,
        neg_data: None,
        neg_error: None,
        trailing: user_data,
    };
    if variable.is_empty() {
        return Ok(cc);
    }
    // A bad rdpNegData must not hide the confirm itself: keep the error beside the outer facts.
    match bounded("rdpNegData", variable, parse_neg_data) {
        Ok((rest, data)) => {
            cc.neg_data = Some(data);
            if !rest.is_empty() {
                cc.trailing = rest;
            }
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            cc.neg_error = Some(e);
            cc.trailing = variable;
        }
        Err(nom::Err::Incomplete(_)) => {}
    }
    Ok(cc)
}

/// What the prober puts in its Connection Request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionRequestSpec<'a> {
    /// `Cookie: mstshash=` value; `None` sends no cookie.
    pub cookie: Option<&'a str>,
    /// RDP_NEG_REQ; `None` sends none, as a legacy client does.
    pub requested_protocols: Option<SecurityProtocols>,
    pub flags: NegRequestFlags,
    pub correlation_id: Option<[u8; 16]>,
}

/// Encodes a whole TPKT + X.224 Connection Request (MS-RDPBCGR 2.2.1.1).
pub fn encode_connection_request(spec: &ConnectionRequestSpec<'_>) -> Result<Vec<u8>, WireError> {
    let mut tpdu = vec![0, TpduCode::CONNECTION_REQUEST.0, 0, 0, 0, 0, 0];
    if let Some(cookie) = spec.cookie {
        tpdu.extend_from_slice(COOKIE_PREFIX);
        tpdu.extend_from_slice(cookie.as_bytes());
        tpdu.extend_from_slice(b"\r\n");
    }
    if let Some(requested) = spec.requested_protocols {
        let mut flags = spec.flags;
        if spec.correlation_id.is_some() {
            flags.0 |= NegRequestFlags::CORRELATION_INFO_PRESENT.0;
        }
        encode_neg_request(flags, requested, &mut tpdu);
        if let Some(id) = &spec.correlation_id {
            encode_correlation_info(id, &mut tpdu);
        }
    }
    encode_tpdu_with_li(tpdu)
}

/// Encodes a whole TPKT + X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2), as a server sends it.
/// Test servers use it to play any answer, well formed or not.
pub fn encode_connection_confirm(neg_data: Option<&NegData>) -> Result<Vec<u8>, WireError> {
    let mut tpdu = vec![0, TpduCode::CONNECTION_CONFIRM.0, 0, 0, 0x12, 0x34, 0];
    if let Some(data) = neg_data {
        super::rdp_neg::encode_neg_data(data, &mut tpdu);
    }
    encode_tpdu_with_li(tpdu)
}

/// Encodes a whole TPKT + X.224 Data TPDU carrying `user_data`.
pub fn encode_data(user_data: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut tpdu = vec![2, TpduCode::DATA.0, 0x80];
    tpdu.extend_from_slice(user_data);
    let mut out = Vec::with_capacity(tpdu.len() + 4);
    encode_tpkt(&tpdu, &mut out)?;
    Ok(out)
}

/// Fills in the length indicator (first byte) of a TPDU whose whole content is header, and wraps it.
fn encode_tpdu_with_li(mut tpdu: Vec<u8>) -> Result<Vec<u8>, WireError> {
    let li = u8::try_from(tpdu.len().saturating_sub(1)).map_err(|_| WireError::BadLength {
        pdu: "X.224",
        field: "length indicator",
        got: u64::try_from(tpdu.len()).unwrap_or(u64::MAX),
        expected: "at most 254: shorten the cookie",
    })?;
    if let Some(first) = tpdu.first_mut() {
        *first = li;
    }
    let mut out = Vec::with_capacity(tpdu.len() + 4);
    encode_tpkt(&tpdu, &mut out)?;
    Ok(out)
}

/// Returns the bytes of `i` after the X.224 Data TPDU header: convenience for MCS parsing in a TPKT stream.
pub fn data_user_data(i: &[u8]) -> WireResult<'_, &[u8]> {
    let (rest, tpdu) = parse_x224_packet(i)?;
    match tpdu {
        Tpdu::Data(dt) => Ok((rest, dt.user_data)),
        other => fail(WireError::BadValue {
            pdu: "X.224",
            field: "TPDU code",
            got: other.code().0.into(),
            expected: "0xf0 DT",
        }),
    }
}
