//! Flows known to be RDP: both directions reassembled and fed into the flow's session.

use std::net::SocketAddr;

use super::{FinishedFlow, Flow, FlowKey, FlowStats, FlowTable};
use crate::replay::packet::{TcpFlags, TcpSegment};
use crate::replay::reasm::{Delivery, Reassembler};
use crate::session::{Direction, Session, Timestamp, TransportFact};

#[derive(Debug)]
pub(super) struct RdpFlow {
    pub(super) client: SocketAddr,
    pub(super) server: SocketAddr,
    pub(super) session: Session,
    pub(super) to_server: Reassembler,
    pub(super) to_client: Reassembler,
    pub(super) first_syn: Option<(i64, u64)>,
    pub(super) connected: bool,
    pub(super) fins: u8,
    /// The server a proxy handshake before the RDP stream asked for.
    pub(super) tunnel: Option<String>,
}

impl FlowTable {
    pub(super) fn rdp(
        &mut self,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let syn = seg.flags.contains(TcpFlags::SYN);
        let rst = seg.flags.contains(TcpFlags::RST);
        let fin = seg.flags.contains(TcpFlags::FIN);
        let missing = self.missing(packet);
        let Some(Flow::Rdp(flow, last)) = self.flows.get_mut(&key) else {
            return;
        };
        *last = ts;
        let dir = if seg.src == flow.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        if syn && dir == Direction::ServerToClient && !flow.connected {
            flow.connected = true;
            flow.session
                .on_transport(Timestamp(ts), Some(packet), TransportFact::Connected);
        }
        let stats = &mut self.stats;
        let RdpFlow {
            session,
            to_server,
            to_client,
            fins,
            ..
        } = &mut **flow;
        let (reasm, other) = match dir {
            Direction::ClientToServer => (to_server, to_client),
            Direction::ServerToClient => (to_client, to_server),
        };
        let mut fin_seen = false;
        {
            let mut deliver = |d: Delivery<'_>| deliver_to(session, stats, dir, &mut fin_seen, d);
            if missing == 0 {
                reasm.segment(seg.seq, syn, fin, seg.payload, packet, ts, &mut deliver);
            } else {
                // Cut by the snapshot length: the bytes kept, a gap for the rest, then the FIN after them.
                reasm.segment(seg.seq, syn, false, seg.payload, packet, ts, &mut deliver);
                let kept = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
                let after = seg.seq.wrapping_add(u32::from(syn)).wrapping_add(kept);
                reasm.lost(after, missing, packet, ts, &mut deliver);
                if fin {
                    let at = after.wrapping_add(missing);
                    reasm.segment(at, false, true, &[], packet, ts, &mut deliver);
                }
            }
            if rst {
                reasm.flush(packet, ts, &mut deliver);
            }
        }
        if rst {
            // The connection is over: what the other side sent behind a hole is delivered after a gap
            // for the hole, not dropped unseen.
            let mut other_fin = false;
            other.flush(packet, ts, &mut |d| {
                deliver_to(session, stats, dir.other(), &mut other_fin, d)
            });
        }
        if rst {
            session.on_transport(Timestamp(ts), Some(packet), TransportFact::Rst(dir));
        }
        if fin_seen {
            *fins += 1;
        }
        if rst || *fins >= 2 || session.is_established() {
            self.finish(key, false, out);
        }
    }
}

pub(super) fn deliver_to(
    session: &mut Session,
    stats: &mut FlowStats,
    dir: Direction,
    fin_seen: &mut bool,
    d: Delivery<'_>,
) {
    match d {
        Delivery::Data {
            bytes,
            packet,
            ts_us,
        } => session.on_bytes(Timestamp(ts_us), dir, Some(packet), bytes),
        Delivery::Gap {
            bytes,
            packet,
            ts_us,
        } => {
            stats.gaps += 1;
            stats.gap_bytes += bytes;
            session.on_transport(
                Timestamp(ts_us),
                Some(packet),
                TransportFact::Gap { dir, bytes },
            );
        }
        Delivery::Conflict { .. } => stats.conflicts += 1,
        Delivery::Fin { packet, ts_us } => {
            *fin_seen = true;
            session.on_transport(Timestamp(ts_us), Some(packet), TransportFact::Fin(dir));
        }
    }
}
