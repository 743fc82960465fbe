//! `rdpdiag decode` for TPKT + X.224 and the negotiation structures they carry.

use std::io::{self, Write};

use super::fields::{preview, report_error};
use crate::wire::rdp_neg::{NegData, NegRequest};
use crate::wire::tpkt::parse_tpkt;
use crate::wire::x224::{parse_tpdu, TokenLine, Tpdu};

pub(super) fn decode_tpkt(i: &[u8], offset: usize, out: &mut dyn Write) -> io::Result<Option<usize>> {
    let (rest, tpkt) = match parse_tpkt(i) {
        Ok(v) => v,
        Err(e) => return report_error(out, offset, "TPKT", &e),
    };
    let used = i.len() - rest.len();
    writeln!(
        out,
        "@{offset} TPKT version {}, length {}",
        tpkt.header.version, tpkt.header.length
    )?;
    match parse_tpdu(tpkt.payload) {
        Ok((_, tpdu)) => write_tpdu(&tpdu, out)?,
        Err(e) => return report_error(out, offset + 4, "X.224", &e),
    }
    Ok(Some(used))
}

fn write_tpdu(tpdu: &Tpdu<'_>, out: &mut dyn Write) -> io::Result<()> {
    match tpdu {
        Tpdu::ConnectionRequest(cr) => {
            writeln!(out, "  X.224 Connection Request (CR {:#04x}) dst-ref {:#06x} src-ref {:#06x} class {:#04x}", cr.code.0, cr.dst_ref, cr.src_ref, cr.class_option)?;
            match cr.token {
                Some(TokenLine::Cookie(c)) => {
                    writeln!(out, "    cookie: mstshash={}", String::from_utf8_lossy(c))?
                }
                Some(TokenLine::RoutingToken(t)) => {
                    writeln!(out, "    routing token: {}", String::from_utf8_lossy(t))?
                }
                Some(TokenLine::Unterminated(t)) => writeln!(
                    out,
                    "    token without CR LF: {}",
                    String::from_utf8_lossy(t)
                )?,
                None => writeln!(out, "    no cookie or routing token")?,
            }
            match &cr.neg_request {
                Some(req) => write_neg_request(req, out)?,
                None => writeln!(
                    out,
                    "    no RDP_NEG_REQ: a legacy client, standard RDP security only"
                )?,
            }
            if let Some(c) = &cr.correlation_info {
                writeln!(
                    out,
                    "    RDP_NEG_CORRELATION_INFO flags {:#04x} length {} correlationId {}",
                    c.flags,
                    c.length,
                    hex::encode(c.correlation_id)
                )?;
            }
            write_trailing(cr.trailing, out)
        }
        Tpdu::ConnectionConfirm(cc) => {
            writeln!(out, "  X.224 Connection Confirm (CC {:#04x}) dst-ref {:#06x} src-ref {:#06x} class {:#04x}", cc.code.0, cc.dst_ref, cc.src_ref, cc.class_option)?;
            match (&cc.neg_data, &cc.neg_error) {
                (Some(NegData::Response(r)), _) => {
                    writeln!(
                        out,
                        "    RDP_NEG_RSP flags {:#04x} length {}{}",
                        r.flags.0,
                        r.length,
                        length_note(r.length_ok())
                    )?;
                    writeln!(
                        out,
                        "      selectedProtocol {} ({:#010x})",
                        r.selected_protocol, r.selected_protocol.0
                    )?;
                }
                (Some(NegData::Failure(f)), _) => {
                    writeln!(
                        out,
                        "    RDP_NEG_FAILURE flags {:#04x} length {}{}",
                        f.flags,
                        f.length,
                        length_note(f.length_ok())
                    )?;
                    writeln!(
                        out,
                        "      failureCode {} ({:#010x})",
                        f.failure_code, f.failure_code.0
                    )?;
                    if let Some(meaning) = f.failure_code.meaning() {
                        writeln!(out, "      meaning: {meaning}")?;
                    }
                }
                (None, Some(e)) => writeln!(out, "    rdpNegData unreadable: {e}")?,
                (None, None) => writeln!(
                    out,
                    "    no rdpNegData: the server does not negotiate (standard RDP security)"
                )?,
            }
            write_trailing(cc.trailing, out)
        }
        Tpdu::DisconnectRequest(dr) => {
            writeln!(
                out,
                "  X.224 Disconnect Request (DR) dst-ref {:#06x} src-ref {:#06x} reason {}",
                dr.dst_ref, dr.src_ref, dr.reason
            )?;
            write_trailing(dr.user_data, out)
        }
        Tpdu::Error(er) => writeln!(
            out,
            "  X.224 TPDU Error (ER) dst-ref {:#06x} reject cause {} parameters {}",
            er.dst_ref,
            er.reject_cause,
            hex::encode(er.variable)
        ),
        Tpdu::Data(dt) => {
            writeln!(
                out,
                "  X.224 Data (DT) EOT {} user data {} bytes",
                dt.eot,
                dt.user_data.len()
            )?;
            super::mcs::write_mcs(dt.user_data, out)
        }
        Tpdu::Other {
            code,
            header,
            user_data,
        } => writeln!(
            out,
            "  X.224 TPDU {code} header {} user data {} bytes",
            hex::encode(header),
            user_data.len()
        ),
    }
}

fn write_neg_request(req: &NegRequest, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "    RDP_NEG_REQ flags {:#04x} length {}{}",
        req.flags.0,
        req.length,
        length_note(req.length_ok())
    )?;
    writeln!(
        out,
        "      requestedProtocols {} ({:#010x})",
        req.requested_protocols, req.requested_protocols.0
    )
}

fn length_note(ok: bool) -> &'static str {
    if ok {
        ""
    } else {
        " (malformed: the specification says 8)"
    }
}

fn write_trailing(trailing: &[u8], out: &mut dyn Write) -> io::Result<()> {
    if trailing.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "    {} trailing bytes: {}",
        trailing.len(),
        preview(trailing)
    )
}
