//! `rdpdiag decode` for TPKT + X.224 and the negotiation structures they carry.

use std::io;

use super::fields::{preview, report_error, Printer};
use crate::report::escape::escape_bytes;
use crate::wire::rdp_neg::{NegData, NegRequest, CORRELATION_INFO_LEN};
use crate::wire::tpkt::parse_tpkt;
use crate::wire::x224::{parse_tpdu, TokenLine, Tpdu, DATA_TPDU_LI};

pub(super) fn decode_tpkt(
    i: &[u8],
    offset: usize,
    p: &mut Printer<'_>,
) -> io::Result<Option<usize>> {
    let (rest, tpkt) = match parse_tpkt(i) {
        Ok(v) => v,
        Err(e) => return report_error(p, offset, "TPKT", &e),
    };
    let used = i.len() - rest.len();
    p.line(format_args!(
        "@{offset} TPKT version {}, length {}",
        tpkt.header.version, tpkt.header.length
    ))?;
    match parse_tpdu(tpkt.payload) {
        Ok((_, tpdu)) => write_tpdu(&tpdu, p)?,
        // The TPKT is whole: go on with the next one.
        Err(e) => {
            report_error(p, offset + 4, "X.224", &e)?;
        }
    }
    Ok(Some(used))
}

fn write_tpdu(tpdu: &Tpdu<'_>, p: &mut Printer<'_>) -> io::Result<()> {
    match tpdu {
        Tpdu::ConnectionRequest(cr) => {
            p.line(format_args!(
                "  X.224 Connection Request (CR {:#04x}) dst-ref {:#06x} src-ref {:#06x} class {:#04x}",
                cr.code.0, cr.dst_ref, cr.src_ref, cr.class_option
            ))?;
            match cr.token {
                Some(TokenLine::Cookie(c)) => {
                    p.line(format_args!("    cookie: mstshash={}", escape_bytes(c)))?
                }
                Some(TokenLine::RoutingToken(t)) => {
                    p.line(format_args!("    routing token: {}", escape_bytes(t)))?
                }
                Some(TokenLine::Unknown(t)) => p.problem(format_args!(
                    "    unknown token line (neither Cookie: mstshash= nor Cookie: msts=): {}",
                    escape_bytes(t)
                ))?,
                Some(TokenLine::Unterminated(t)) => p.problem(format_args!(
                    "    token line cut short (no CR LF before the end of the TPDU): {}",
                    escape_bytes(t)
                ))?,
                None => p.line(format_args!("    no cookie or routing token"))?,
            }
            match (&cr.neg_request, &cr.neg_error) {
                (Some(req), _) => write_neg_request(req, p)?,
                (None, Some(_)) => {}
                (None, None) => p.line(format_args!(
                    "    no RDP_NEG_REQ: a legacy client, standard RDP security only"
                ))?,
            }
            if let Some(c) = &cr.correlation_info {
                p.line(format_args!(
                    "    RDP_NEG_CORRELATION_INFO flags {:#04x} length {} correlationId {}",
                    c.flags,
                    c.length,
                    hex::encode(c.correlation_id)
                ))?;
                if !c.length_ok() {
                    p.problem(format_args!(
                        "      malformed: the length must be {CORRELATION_INFO_LEN}"
                    ))?;
                }
            }
            if let Some(e) = &cr.neg_error {
                p.problem(format_args!("    malformed negotiation structure: {e}"))?;
            }
            write_trailing(cr.trailing, p)
        }
        Tpdu::ConnectionConfirm(cc) => {
            p.line(format_args!(
                "  X.224 Connection Confirm (CC {:#04x}) dst-ref {:#06x} src-ref {:#06x} class {:#04x}",
                cc.code.0, cc.dst_ref, cc.src_ref, cc.class_option
            ))?;
            match (&cc.neg_data, &cc.neg_error) {
                (Some(NegData::Response(r)), _) => {
                    p.line(format_args!(
                        "    RDP_NEG_RSP flags {:#04x} length {}",
                        r.flags.0, r.length
                    ))?;
                    length_note(r.length_ok(), p)?;
                    p.line(format_args!(
                        "      selectedProtocol {} ({:#010x})",
                        r.selected_protocol, r.selected_protocol.0
                    ))?;
                }
                (Some(NegData::Failure(f)), _) => {
                    p.line(format_args!(
                        "    RDP_NEG_FAILURE flags {:#04x} length {}",
                        f.flags, f.length
                    ))?;
                    length_note(f.length_ok(), p)?;
                    p.line(format_args!(
                        "      failureCode {} ({:#010x})",
                        f.failure_code, f.failure_code.0
                    ))?;
                    if let Some(meaning) = f.failure_code.meaning() {
                        p.line(format_args!("      meaning: {meaning}"))?;
                    }
                }
                (None, Some(e)) => {
                    p.problem(format_args!("    malformed rdpNegData: {e}"))?
                }
                (None, None) => p.line(format_args!(
                    "    no rdpNegData: the server does not negotiate (standard RDP security)"
                ))?,
            }
            write_trailing(cc.trailing, p)
        }
        Tpdu::DisconnectRequest(dr) => {
            p.line(format_args!(
                "  X.224 Disconnect Request (DR) dst-ref {:#06x} src-ref {:#06x} reason {}",
                dr.dst_ref, dr.src_ref, dr.reason
            ))?;
            if dr.user_data.is_empty() {
                return Ok(());
            }
            p.line(format_args!(
                "    user data {} bytes: {}",
                dr.user_data.len(),
                preview(dr.user_data)
            ))
        }
        Tpdu::Error(er) => p.line(format_args!(
            "  X.224 TPDU Error (ER) dst-ref {:#06x} reject cause {} parameters {}",
            er.dst_ref,
            er.reject_cause,
            hex::encode(er.variable)
        )),
        Tpdu::Data(dt) => {
            p.line(format_args!(
                "  X.224 Data (DT) EOT {} user data {} bytes",
                dt.eot,
                dt.user_data.len()
            ))?;
            if !dt.length_ok() {
                p.problem(format_args!(
                    "    malformed: length indicator {}, class 0 says {DATA_TPDU_LI}{}",
                    dt.length_indicator,
                    if dt.extra_header.is_empty() {
                        String::new()
                    } else {
                        format!(" (extra header bytes {})", preview(dt.extra_header))
                    }
                ))?;
            }
            super::mcs::write_mcs(dt.user_data, p)
        }
        Tpdu::Other {
            code,
            header,
            user_data,
        } => p.line(format_args!(
            "  X.224 TPDU {code} header {} user data {} bytes",
            hex::encode(header),
            user_data.len()
        )),
    }
}

fn write_neg_request(req: &NegRequest, p: &mut Printer<'_>) -> io::Result<()> {
    p.line(format_args!(
        "    RDP_NEG_REQ flags {:#04x} length {}",
        req.flags.0, req.length
    ))?;
    length_note(req.length_ok(), p)?;
    p.line(format_args!(
        "      requestedProtocols {} ({:#010x})",
        req.requested_protocols, req.requested_protocols.0
    ))
}

fn length_note(ok: bool, p: &mut Printer<'_>) -> io::Result<()> {
    if ok {
        return Ok(());
    }
    p.problem(format_args!(
        "      malformed: the length must be 8"
    ))
}

fn write_trailing(trailing: &[u8], p: &mut Printer<'_>) -> io::Result<()> {
    if trailing.is_empty() {
        return Ok(());
    }
    p.problem(format_args!(
        "    {} trailing bytes the PDU does not account for: {}",
        trailing.len(),
        preview(trailing)
    ))
}
