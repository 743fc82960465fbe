//! `rdpdiag decode` for the MCS PDU inside an X.224 Data TPDU.

use std::io;

use super::fields::{preview, Printer};
use crate::report::escape::escape_control as esc;
use crate::wire::mcs::{parse_mcs, CertificateChain, Mcs, ServerDataBlock};

/// The MCS PDU carried by an X.224 Data TPDU, as far as connection setup needs it; one that does not
/// parse is said to, with why.
pub(super) fn write_mcs(data: &[u8], p: &mut Printer<'_>) -> io::Result<()> {
    let mcs = match parse_mcs(data) {
        Ok((_, m)) => m,
        Err(nom::Err::Incomplete(needed)) => {
            let more = match needed {
                nom::Needed::Size(n) => format!("{n} more bytes"),
                nom::Needed::Unknown => "more bytes".to_string(),
            };
            return p.problem(format_args!(
                "    MCS PDU cut short: the TPDU carries {} bytes, it needs {more}: {}",
                data.len(),
                preview(data)
            ));
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            return p.problem(format_args!(
                "    MCS PDU that does not parse: {e}; {} bytes: {}",
                data.len(),
                preview(data)
            ))
        }
    };
    write_parsed(mcs, data, p)
}

fn write_parsed(mcs: Mcs<'_>, data: &[u8], p: &mut Printer<'_>) -> io::Result<()> {
    match mcs {
        Mcs::ConnectInitial(ci) => {
            let core = ci.conference.core();
            let name = core.map(|c| c.client_name()).unwrap_or_default();
            let name = esc(&name);
            p.line(format_args!("    MCS Connect-Initial: client {name}, build {}",
                core.map_or(0, |c| c.client_build)
            ))
        }
        Mcs::ConnectResponse(cr) => {
            p.line(format_args!("    MCS Connect-Response: result {}", cr.result))?;
            let security = cr.conference.as_ref().and_then(|c| {
                c.blocks.iter().find_map(|b| match b {
                    ServerDataBlock::Security(s) => Some(s),
                    _ => None,
                })
            });
            if let Some(s) = security {
                p.line(format_args!("      encryption {} level {}",
                    s.encryption_method, s.encryption_level
                ))?;
                if let Some(cert) = &s.server_certificate {
                    let kind = match &cert.chain {
                        CertificateChain::Proprietary(_) => "proprietary".to_string(),
                        CertificateChain::X509(c) => {
                            format!("X.509 chain of {}", c.certificates.len())
                        }
                        CertificateChain::Unknown(_) => "unknown".to_string(),
                    };
                    p.line(format_args!("      server certificate {kind}{}",
                        if cert.temporary() { ", temporary" } else { "" }
                    ))?;
                }
            }
            Ok(())
        }
        Mcs::DisconnectProviderUltimatum { reason } => {
            p.line(format_args!("    MCS Disconnect Provider Ultimatum ({reason})"))
        }
        Mcs::AttachUserConfirm { result, .. } => {
            p.line(format_args!("    MCS Attach User Confirm: result {result}"))
        }
        Mcs::ChannelJoinConfirm {
            result, channel_id, ..
        } => p.line(format_args!("    MCS Channel Join Confirm: result {result}, channel {channel_id:?}"
        )),
        Mcs::SendData {
            indication,
            channel_id,
            user_data,
            ..
        } => {
            let kind = if indication {
                "Send Data Indication"
            } else {
                "Send Data Request"
            };
            p.line(format_args!("    MCS {kind} on channel {channel_id}, {} bytes: {}",
                user_data.len(),
                preview(user_data)
            ))
        }
        Mcs::Other { pdu_type, .. } => p.line(format_args!("    MCS {pdu_type}: {}", preview(data))),
    }
}

