//! `rdpdiag decode` for the MCS PDU inside an X.224 Data TPDU.

use std::io::{self, Write};

use super::fields::preview;
use crate::wire::mcs::{parse_mcs, CertificateChain, Mcs, ServerDataBlock};

/// The MCS PDU carried by an X.224 Data TPDU, as far as connection setup needs it.
pub(super) fn write_mcs(data: &[u8], out: &mut dyn Write) -> io::Result<()> {
    let mcs = match parse_mcs(data) {
        Ok((_, m)) => m,
        Err(_) => return writeln!(out, "    {}", preview(data)),
    };
    match mcs {
        Mcs::ConnectInitial(ci) => {
            let core = ci.conference.core();
            let name = core.map(|c| c.client_name()).unwrap_or_default();
            writeln!(
                out,
                "    MCS Connect-Initial: client {name}, build {}",
                core.map_or(0, |c| c.client_build)
            )
        }
        Mcs::ConnectResponse(cr) => {
            writeln!(out, "    MCS Connect-Response: result {}", cr.result)?;
            let security = cr.conference.as_ref().and_then(|c| {
                c.blocks.iter().find_map(|b| match b {
                    ServerDataBlock::Security(s) => Some(s),
                    _ => None,
                })
            });
            if let Some(s) = security {
                writeln!(
                    out,
                    "      encryption {} level {}",
                    s.encryption_method, s.encryption_level
                )?;
                if let Some(cert) = &s.server_certificate {
                    let kind = match &cert.chain {
                        CertificateChain::Proprietary(_) => "proprietary".to_string(),
                        CertificateChain::X509(c) => {
                            format!("X.509 chain of {}", c.certificates.len())
                        }
                        CertificateChain::Unknown(_) => "unknown".to_string(),
                    };
                    writeln!(
                        out,
                        "      server certificate {kind}{}",
                        if cert.temporary() { ", temporary" } else { "" }
                    )?;
                }
            }
            Ok(())
        }
        Mcs::DisconnectProviderUltimatum { reason } => {
            writeln!(out, "    MCS Disconnect Provider Ultimatum ({reason})")
        }
        Mcs::AttachUserConfirm { result, .. } => {
            writeln!(out, "    MCS Attach User Confirm: result {result}")
        }
        Mcs::ChannelJoinConfirm {
            result, channel_id, ..
        } => writeln!(
            out,
            "    MCS Channel Join Confirm: result {result}, channel {channel_id:?}"
        ),
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
            writeln!(
                out,
                "    MCS {kind} on channel {channel_id}, {} bytes: {}",
                user_data.len(),
                preview(user_data)
            )
        }
        Mcs::Other { pdu_type, .. } => writeln!(out, "    MCS {pdu_type}: {}", preview(data)),
    }
}

