//! Flows not decided yet: a SYN seen, or data that may follow a proxy handshake. Their first bytes (or
//! the port) decide whether they are RDP; until then a few segments are held.

use std::net::SocketAddr;

use super::rdp::RdpFlow;
use super::{is_rdp_port, start_session, FinishedFlow, Flow, FlowKey, FlowTable};
use super::{MAX_HELD_SEGMENTS, MAX_SNIFF_SEGMENTS, SNIFF_BYTES};
use crate::replay::packet::{TcpFlags, TcpSegment};
use crate::replay::reasm::{Delivery, Reassembler};
use crate::session::{Session, Timestamp, TransportFact};

/// A segment of an undecided flow, kept to be fed to the flow once it is found to be RDP.
#[derive(Debug, Clone)]
pub(super) struct HeldSegment {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    flags: TcpFlags,
    payload: Vec<u8>,
    ts: i64,
    packet: u64,
}

impl HeldSegment {
    fn of(seg: &TcpSegment<'_>, ts: i64, packet: u64) -> Self {
        Self {
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            flags: seg.flags,
            payload: seg.payload.to_vec(),
            ts,
            packet,
        }
    }

    fn segment(&self) -> TcpSegment<'_> {
        TcpSegment {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: 0,
            flags: self.flags,
            window: 0,
            payload: &self.payload,
        }
    }
}

/// The first bytes of the stream that starts at sequence number `start`, from the held segments sent by
/// `src`, as far as they are contiguous (at most [`SNIFF_BYTES`]).
fn stream_prefix(held: &[HeldSegment], src: SocketAddr, start: u32) -> Vec<u8> {
    let mut prefix = Vec::new();
    while prefix.len() < SNIFF_BYTES {
        let at = start.wrapping_add(u32::try_from(prefix.len()).unwrap_or(0));
        let more = held.iter().filter(|h| h.src == src).find_map(|h| {
            let skip = usize::try_from(at.wrapping_sub(h.seq)).ok()?;
            h.payload.get(skip..).filter(|rest| !rest.is_empty())
        });
        match more {
            Some(bytes) => {
                let want = SNIFF_BYTES - prefix.len();
                prefix.extend_from_slice(bytes.get(..want).unwrap_or(bytes));
            }
            None => break,
        }
    }
    prefix
}

/// A flow whose content has not decided yet (SYN seen, or data that may follow a proxy handshake).
#[derive(Debug)]
pub(super) struct Undecided {
    pub(super) client: SocketAddr,
    pub(super) server: SocketAddr,
    pub(super) first_syn: Option<(i64, u64)>,
    pub(super) syns: u32,
    pub(super) syn_ack: Option<(i64, u64)>,
    /// Initial sequence numbers from the SYN and the SYN/ACK, to start reassembly at the right place.
    pub(super) isn: (Option<u32>, Option<u32>),
    pub(super) sniffed: u32,
    /// Payload segments held until a stream's first bytes decide (tiny or out-of-order segments).
    pub(super) held: Vec<HeldSegment>,
    /// The server a proxy handshake on this flow asked for.
    pub(super) tunnel: Option<String>,
    /// Opened by a SYN and nothing else seen yet: counted pending for its client (scan detection).
    pub(super) pending: bool,
    pub(super) last: i64,
}

impl Undecided {
    pub(super) fn new(client: SocketAddr, server: SocketAddr, first_syn: Option<(i64, u64)>, ts: i64) -> Self {
        Self {
            client,
            server,
            first_syn,
            syns: 0,
            syn_ack: None,
            isn: (None, None),
            sniffed: 0,
            held: Vec::new(),
            tunnel: None,
            pending: first_syn.is_some(),
            last: ts,
        }
    }
}

/// Does this payload start with a TPKT + X.224 Connection Request (client) or Confirm (server)?
pub fn starts_rdp(payload: &[u8], code: u8) -> bool {
    matches!(payload, [3, 0, hi, lo, li, c, ..] if (u16::from(*hi) << 8 | u16::from(*lo)) >= 11 && *li >= 6 && c & 0xF0 == code)
}

/// The first bytes a client sends to a SOCKS 4/5 or HTTP proxy before the tunnelled protocol.
fn looks_like_proxy_handshake(p: &[u8]) -> bool {
    matches!(p.first(), Some(4 | 5)) || p.starts_with(b"CONNECT ")
}

/// The server a client asks a proxy to reach: a SOCKS 4/4a CONNECT (`04 01 port ip user 00 [host 00]`),
/// a SOCKS 5 CONNECT request (RFC 1928 §4: `05 01 00 atyp addr port`) or an HTTP `CONNECT host:port`
/// (RFC 9110 §9.3.6). A host name is taken only when it is a plain DNS name or address literal.
pub fn proxy_target(p: &[u8]) -> Option<String> {
    let port = |hi: u8, lo: u8| u16::from_be_bytes([hi, lo]);
    match p {
        [4, 1, ph, pl, 0, 0, 0, d, rest @ ..] if *d != 0 => {
            // SOCKS 4a: the host name follows the user id.
            let user_end = rest.iter().position(|&b| b == 0)?;
            let host = rest.get(user_end + 1..)?;
            let host = host.get(..host.iter().position(|&b| b == 0)?)?;
            Some(format!("{}:{}", host_name(host)?, port(*ph, *pl)))
        }
        [4, 1, ph, pl, a, b, c, d, ..] => Some(
            SocketAddr::from(([*a, *b, *c, *d], port(*ph, *pl))).to_string(),
        ),
        [5, 1, 0, 1, a, b, c, d, ph, pl, ..] => Some(
            SocketAddr::from(([*a, *b, *c, *d], port(*ph, *pl))).to_string(),
        ),
        [5, 1, 0, 3, len, rest @ ..] => {
            let len = usize::from(*len);
            let host = host_name(rest.get(..len)?)?;
            let [ph, pl] = *rest.get(len..len + 2)? else {
                return None;
            };
            Some(format!("{host}:{}", port(ph, pl)))
        }
        [5, 1, 0, 4, rest @ ..] => {
            let ip: [u8; 16] = rest.get(..16)?.try_into().ok()?;
            let [ph, pl] = *rest.get(16..18)? else {
                return None;
            };
            Some(SocketAddr::from((ip, port(ph, pl))).to_string())
        }
        _ => {
            let rest = p.strip_prefix(b"CONNECT ")?;
            let target = rest.get(..rest.iter().position(|&b| b == b' ')?)?;
            host_name(target).map(str::to_string)
        }
    }
}

/// A host name, address literal or `host:port` made of the characters those may hold (never control
/// characters: it is printed), at most 255 bytes.
fn host_name(b: &[u8]) -> Option<&str> {
    let ok = !b.is_empty()
        && b.len() <= 255
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b".-_:[]".contains(c));
    ok.then(|| std::str::from_utf8(b).ok()).flatten()
}

impl FlowTable {
    pub(super) fn undecided(
        &mut self,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        ts: i64,
        packet: u64,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        let syn = seg.flags.contains(TcpFlags::SYN);
        let ack = seg.flags.contains(TcpFlags::ACK);
        let rst = seg.flags.contains(TcpFlags::RST);
        let fin = seg.flags.contains(TcpFlags::FIN);
        let Some(Flow::Undecided(undecided)) = self.flows.remove(&key) else {
            return;
        };
        let Undecided {
            client,
            server,
            mut first_syn,
            mut syns,
            mut syn_ack,
            mut isn,
            mut sniffed,
            mut held,
            mut tunnel,
            mut pending,
            ..
        } = *undecided;
        let from_client = seg.src == client;
        let known_port = is_rdp_port(&self.opts.ports, server.port());
        let keep = |first_syn, syns, syn_ack, isn, sniffed, held, tunnel, pending| {
            Flow::Undecided(Box::new(Undecided {
                client,
                server,
                first_syn,
                syns,
                syn_ack,
                isn,
                sniffed,
                held,
                tunnel,
                pending,
                last: ts,
            }))
        };
        // Anything but the client's SYN again settles a pending attempt.
        if pending && !(syn && !ack && from_client) {
            self.scan.settled(client.ip());
            pending = false;
        }
        if syn && !ack && from_client {
            syns += 1;
            first_syn.get_or_insert((ts, packet));
            isn.0.get_or_insert(seg.seq);
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held, tunnel.take(), pending));
            return;
        }
        if syn && ack && !from_client {
            syn_ack.get_or_insert((ts, packet));
            isn.1.get_or_insert(seg.seq);
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held, tunnel.take(), pending));
            return;
        }
        if rst && !from_client && syn_ack.is_none() && seg.payload.is_empty() && first_syn.is_some()
        {
            // RST in answer to the SYN: refused.
            self.mark_ignored(key, ts);
            let mut session = Session::new();
            start_session(&mut session, first_syn);
            session.on_transport(Timestamp(ts), Some(packet), TransportFact::Refused);
            if !known_port {
                self.stats.ignored_flows += 1;
            }
            self.failed_attempt(FinishedFlow::new(client, server, session.finish()), true, out);
            return;
        }
        if self.missing(packet) > 0 && !known_port && seg.payload.len() < SNIFF_BYTES {
            // Its first bytes were cut off by the snapshot length: it cannot be told RDP by content.
            self.mark_ignored(key, ts);
            self.stats.ignored_flows += 1;
            self.stats.cut_unclassified += 1;
            return;
        }
        if seg.payload.is_empty() {
            // A FIN or RST behind held segments belongs with them, should the flow turn out to be RDP.
            if !held.is_empty() && (fin || rst) && held.len() < MAX_HELD_SEGMENTS {
                held.push(HeldSegment::of(seg, ts, packet));
            }
            self.flows
                .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held, tunnel.take(), pending));
            return;
        }
        // With the stream's start known (its SYN seen) and no proxy handshake, the stream's first bytes
        // decide, whatever segments they came in and in whatever order; otherwise this segment does.
        let stream_start = if from_client { isn.0 } else { isn.1 };
        let first_bytes = match stream_start {
            Some(start) if sniffed == 0 => {
                held.push(HeldSegment::of(seg, ts, packet));
                let prefix = stream_prefix(&held, seg.src, start.wrapping_add(1));
                if prefix.len() < SNIFF_BYTES && !known_port {
                    if held.len() < MAX_HELD_SEGMENTS {
                        self.flows
                            .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held, tunnel.take(), pending));
                    } else {
                        // Never silent (invariant 5): a flow given up for this limit is said in the summary.
                        self.mark_ignored(key, ts);
                        self.stats.ignored_flows += 1;
                        self.stats.held_limit_hits += 1;
                    }
                    return;
                }
                prefix
            }
            _ => seg.payload.to_vec(),
        };
        let is_rdp = known_port
            || if from_client {
                starts_rdp(&first_bytes, 0xE0)
            } else {
                starts_rdp(&first_bytes, 0xD0)
            };
        if !is_rdp {
            // A proxy handshake (SOCKS 4/5, HTTP CONNECT) may come first: search a few more client segments.
            // The RDP stream then starts at the segment that starts it: nothing held is needed.
            held.clear();
            let proxied = sniffed > 0 || (from_client && looks_like_proxy_handshake(&first_bytes));
            if from_client && proxied {
                sniffed += 1;
                tunnel = tunnel.or_else(|| proxy_target(seg.payload));
            }
            if proxied && sniffed < MAX_SNIFF_SEGMENTS {
                self.flows
                    .insert(key, keep(first_syn, syns, syn_ack, isn, sniffed, held, tunnel.take(), pending));
            } else {
                self.mark_ignored(key, ts);
                self.stats.ignored_flows += 1;
            }
            return;
        }
        if self.rdp_active >= self.opts.max_rdp_flows {
            self.stats.evicted_for_limit += 1;
            self.note(format!("more than {} RDP connections were being set up at once: later ones were not analysed (--max-rdp-flows)", self.opts.max_rdp_flows));
            self.mark_ignored(key, ts);
            return;
        }
        // This flow is RDP: its session starts with what the TCP handshake showed.
        let mut session = Session::new();
        start_session(&mut session, first_syn);
        if let Some((t, p)) = syn_ack {
            session.on_transport(Timestamp(t), Some(p), TransportFact::Connected);
        }
        let mut to_server = Reassembler::with_limit(self.opts.max_buffered_bytes);
        let mut to_client = Reassembler::with_limit(self.opts.max_buffered_bytes);
        // Start both streams at their SYNs, so data that overtook a segment is not taken for a fresh start;
        // behind a proxy handshake the RDP stream starts here instead.
        if sniffed == 0 {
            let mut nothing = |_: Delivery<'_>| {};
            if let (Some(seq), Some((t, p))) = (isn.0, first_syn) {
                to_server.segment(seq, true, false, &[], p, t, &mut nothing);
            }
            if let (Some(seq), Some((t, p))) = (isn.1, syn_ack) {
                to_client.segment(seq, true, false, &[], p, t, &mut nothing);
            }
        }
        let flow = RdpFlow {
            client,
            server,
            session,
            to_server,
            to_client,
            first_syn,
            connected: syn_ack.is_some() || first_syn.is_none(),
            fins: 0,
            tunnel: tunnel.take(),
        };
        self.flows.insert(key, Flow::Rdp(Box::new(flow), ts));
        self.rdp_active += 1;
        self.stats.rdp_flows += 1;
        if held.is_empty() {
            self.rdp(key, seg, ts, packet, out);
            return;
        }
        // The held segments (and this one, last) go through the flow as if it had been RDP from the start.
        if held.last().is_none_or(|h| h.packet != packet) {
            held.push(HeldSegment::of(seg, ts, packet));
        }
        for h in &held {
            if matches!(self.flows.get(&key), Some(Flow::Rdp(..))) {
                self.rdp(key, &h.segment(), h.ts, h.packet, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::proxy_target;

    #[test]
    fn proxy_requests_name_their_target() {
        let socks5 = [5, 1, 0, 1, 10, 0, 0, 1, 0x0d, 0x3d];
        assert_eq!(proxy_target(&socks5).as_deref(), Some("10.0.0.1:3389"));
        let socks5_name = b"\x05\x01\x00\x03\x07rdp.lan\x0d\x3d";
        assert_eq!(proxy_target(socks5_name).as_deref(), Some("rdp.lan:3389"));
        let socks4 = [4, 1, 0x0d, 0x3d, 192, 168, 1, 9, b'u', 0];
        assert_eq!(proxy_target(&socks4).as_deref(), Some("192.168.1.9:3389"));
        let socks4a = b"\x04\x01\x0d\x3d\x00\x00\x00\x01u\x00host-1\x00";
        assert_eq!(proxy_target(socks4a).as_deref(), Some("host-1:3389"));
        let http = b"CONNECT rdp.example:3389 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(proxy_target(http).as_deref(), Some("rdp.example:3389"));
        // A SOCKS 5 greeting names nothing; a name with a control character is not taken.
        assert_eq!(proxy_target(&[5, 1, 0]), None);
        assert_eq!(proxy_target(b"CONNECT \x1b[2J:3389 HTTP/1.1\r\n"), None);
        assert_eq!(proxy_target(b"\x05\x01\x00\x03\x09rdp"), None);
    }
}
