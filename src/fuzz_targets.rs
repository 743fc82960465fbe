//! One function per parser entry point, shared by the cargo-fuzz targets (`fuzz/`), the no-panic
//! property tests and the replay of fuzz artifacts and seeds (`tests/fuzz_replay.rs`). Each feeds the
//! bytes to its parser and checks what must hold for any input: no panic, and what is left over is a
//! suffix of the input.

use crate::wire;

/// A fuzz entry point: takes any bytes, panics only when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name its cargo-fuzz binary, seed folder and artifact folder carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("tpkt", tpkt),
    ("x224", x224),
    ("rdp_neg", rdp_neg),
    ("decode", decode),
    ("hexinput", hexinput),
    ("escape", escape),
    ("packet", packet),
    ("reasm", reasm),
    ("flows", flows),
    ("tls_record", tls_record),
    ("tls_handshake", tls_handshake),
    ("sslv2", sslv2),
    ("cert", cert),
    ("credssp", credssp),
    ("ntlm", ntlm),
    ("early_auth", early_auth),
    ("mcs", mcs),
    ("rdpeudp", rdpeudp),
    ("capture_file", capture_file),
];

/// Asserts that a parser's leftover is the tail of its input (fuzzing wants a panic when it is not).
#[allow(clippy::panic)]
fn check_rest<T>(input: &[u8], r: &wire::WireResult<'_, T>) {
    if let Ok((rest, _)) = r {
        if !input.ends_with(rest) || rest.len() > input.len() {
            panic!("parser returned a rest that is not a suffix of its input");
        }
    }
}

pub fn tpkt(data: &[u8]) {
    check_rest(data, &wire::tpkt::parse_tpkt(data));
    let _ = wire::tpkt::tpkt_frame(data);
}

pub fn x224(data: &[u8]) {
    check_rest(data, &wire::x224::parse_x224_packet(data));
    let _ = wire::x224::parse_tpdu(data);
}

pub fn rdp_neg(data: &[u8]) {
    check_rest(data, &wire::rdp_neg::parse_neg_request(data));
    check_rest(data, &wire::rdp_neg::parse_neg_data(data));
    check_rest(data, &wire::rdp_neg::parse_correlation_info(data));
}

/// The whole `decode` command on raw bytes, read from each layer. Its output must never carry a byte
/// from the wire raw: no control character but the newlines that end its lines, no bidi override.
#[allow(clippy::panic)]
pub fn decode(data: &[u8]) {
    use crate::decode::Layer;
    for layer in [Layer::Auto, Layer::Tpkt, Layer::Tls] {
        let mut out = Vec::new();
        if crate::decode::decode(data, layer, &mut out).is_err() {
            panic!("decode failed to write to memory");
        }
        let Ok(text) = std::str::from_utf8(&out) else {
            panic!("decode wrote bytes that are not UTF-8");
        };
        if let Some(c) = text
            .chars()
            .find(|&c| c != '\n' && crate::report::escape::is_unsafe_char(c))
        {
            panic!("decode printed U+{:04X} raw", u32::from(c));
        }
    }
}

pub fn hexinput(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = crate::decode::hexinput::parse_hex_input(&text) {
        escape(e.to_string().as_bytes());
    }
}

/// The escaper: nothing unsafe comes out, clean text comes out unchanged, and escaping is idempotent
/// on its own output.
#[allow(clippy::panic)]
pub fn escape(data: &[u8]) {
    use crate::report::escape::{escape_control, is_unsafe_char};
    let text = String::from_utf8_lossy(data);
    let escaped = escape_control(&text);
    if escaped.chars().any(is_unsafe_char) {
        panic!("escape_control left an unsafe character");
    }
    if !text.chars().any(is_unsafe_char) && escaped != text {
        panic!("escape_control changed clean text");
    }
    if escape_control(&escaped) != escaped {
        panic!("escape_control is not idempotent on its output");
    }
}

/// Packet decoding. The first byte picks the link type, the rest is one frame, decoded three times by
/// one decoder (the same fragment again, then after the fragment timeout). The rest is also read as a
/// sequence of frames, each prefixed by a one-byte length, fed to a second decoder with timestamps a
/// quarter of the timeout apart, so fragments meet, complete and expire.
pub fn packet(data: &[u8]) {
    use crate::replay::packet::{Decoder, LinkType, FRAGMENT_TIMEOUT_US};
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = LinkType::ALL[usize::from(pick) % LinkType::ALL.len()];
    let mut d = Decoder::new();
    for ts in [0, 1, FRAGMENT_TIMEOUT_US + 2] {
        decode_packet(&mut d, link, frame, ts);
    }
    let mut d = Decoder::new();
    let mut rest = frame;
    let mut ts = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let (one, tail) = tail.split_at(usize::from(len).min(tail.len()));
        decode_packet(&mut d, link, one, ts);
        rest = tail;
        ts += FRAGMENT_TIMEOUT_US / 4;
    }
}

/// Decodes one frame and checks what must hold for any input: a TCP payload is no longer than its frame
/// or a reassembled datagram, reassembly stays within its limits, and a frame `peek_tcp4` reads decodes
/// to the segment it read.
#[allow(clippy::panic)]
fn decode_packet(
    d: &mut crate::replay::packet::Decoder,
    link: crate::replay::packet::LinkType,
    frame: &[u8],
    ts: i64,
) {
    use crate::replay::packet::{peek_tcp4, Decoded, MAX_FRAGMENT_BYTES, MAX_FRAGMENT_SETS};
    let peek = peek_tcp4(link, frame);
    let decoded = d.decode(link, frame, ts);
    if let Ok(Decoded::Tcp(t)) = &decoded {
        if t.payload.len() > frame.len().max(MAX_FRAGMENT_BYTES) {
            panic!("a TCP payload longer than its frame and than any datagram");
        }
    }
    // The reader's filter drops packets on a peek alone: the decoder must read the same segment.
    if let Some(p) = peek {
        match &decoded {
            Ok(Decoded::Tcp(t)) if ((t.src, t.dst), t.flags) == (p.addrs(), p.flags) => {}
            other => panic!("peek_tcp4 read {p:?}, the decoder {other:?}"),
        }
    }
    let s = d.stats();
    if s.sets_pending > MAX_FRAGMENT_SETS
        || s.bytes_pending > MAX_FRAGMENT_SETS * MAX_FRAGMENT_BYTES
    {
        panic!("fragment reassembly past its limits");
    }
}

/// The flow table behind the read-ahead filter (`replay::pipeline`), without threads: every segment goes
/// at once to a plain table, and through an `IgnoredFilter` to a second table that sees it only after a
/// lag taken from the input, the filter learning that table's marks as late as that. Both tables must
/// report the same connections, in the same order, with the same counters. The input is 4 bytes a
/// segment: endpoints and payload kind, TCP flags, a time step (255: past the idle timeout), and the
/// sequence step and the lag.
#[allow(clippy::panic)]
pub fn flows(data: &[u8]) {
    use crate::replay::flows::{FinishedFlow, FlowOptions, FlowTable, IgnoredFilter, Sorted};
    use crate::replay::packet::{TcpFlags, TcpSegment};
    use std::collections::VecDeque;
    use std::net::SocketAddr;

    enum Late {
        Seg(TcpSegment<'static>, i64, u64),
        Tick(i64),
    }
    const PAYLOADS: [&[u8]; 8] = [
        b"",
        // Connection Request (SSL|HYBRID) and Confirm (SSL), MS-RDPBCGR 4.1.1 / 4.1.2 shapes.
        b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00",
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00",
        b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x03\x00",
        b"\x05\x01\x00",
        b"\x15\x03\x03\x00\x02\x02\x28",
    ];
    let endpoints: [SocketAddr; 6] = [
        SocketAddr::from(([10, 0, 0, 1], 40000)),
        SocketAddr::from(([10, 0, 0, 2], 40001)),
        SocketAddr::from(([10, 0, 0, 1], 40002)),
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 40003)),
        SocketAddr::from(([10, 0, 0, 9], 3389)),
        SocketAddr::from(([10, 0, 0, 9], 8080)),
    ];
    let opts = FlowOptions {
        idle_timeout_us: 5_000_000,
        syn_timeout_us: 1_000_000,
        ..FlowOptions::default()
    };
    let mut plain = FlowTable::new(opts.clone());
    let mut lagging = FlowTable::new(opts.clone());
    lagging.keep_marks();
    let mut filter = IgnoredFilter::new(&opts);
    let (mut want, mut got): (Vec<FinishedFlow>, Vec<FinishedFlow>) = (Vec::new(), Vec::new());
    let mut queue: VecDeque<(Late, u64)> = VecDeque::new();
    let mut seqs = [0u32; 12];
    let (mut ts, mut number) = (1_000_000i64, 0u64);
    let deliver = |queue: &mut VecDeque<(Late, u64)>,
                   keep: usize,
                   lagging: &mut FlowTable,
                   filter: &mut IgnoredFilter,
                   got: &mut Vec<FinishedFlow>| {
        while queue.len() > keep {
            let Some((late, n)) = queue.pop_front() else {
                break;
            };
            match late {
                Late::Seg(seg, ts, n) => lagging.segment(&seg, ts, n, &mut |f| got.push(f)),
                Late::Tick(ts) => lagging.tick(ts, &mut |f| got.push(f)),
            }
            filter.learn(&lagging.take_marks(), n);
        }
    };
    for chunk in data.chunks_exact(4) {
        let [what, flags, step, lag] = [chunk[0], chunk[1], chunk[2], chunk[3]];
        number += 1;
        ts += if step == 255 {
            6_000_000
        } else {
            i64::from(step) * 10_000
        };
        let client = usize::from(what & 3);
        let server = 4 + usize::from(what >> 2 & 1);
        let to_server = what & 8 == 0;
        let payload = PAYLOADS[usize::from(what >> 5)];
        let (src, dst) = if to_server {
            (endpoints[client], endpoints[server])
        } else {
            (endpoints[server], endpoints[client])
        };
        let slot = ((client * 2 + server - 4) * 2 + usize::from(!to_server)) % 12;
        let seq = match lag & 3 {
            1 => seqs[slot].wrapping_sub(u32::try_from(payload.len()).unwrap_or(0)),
            2 => seqs[slot].wrapping_add(1000),
            _ => seqs[slot],
        };
        let flags = TcpFlags(flags & 0x1f);
        seqs[slot] = seq
            .wrapping_add(u32::try_from(payload.len()).unwrap_or(0))
            .wrapping_add(u32::from(
                flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::FIN),
            ));
        let seg = TcpSegment {
            src,
            dst,
            seq,
            ack: 0,
            flags,
            window: 0,
            payload,
        };
        plain.segment(&seg, ts, number, &mut |f| want.push(f));
        match filter.sort(&seg, ts, number) {
            Sorted::Needed => queue.push_back((Late::Seg(seg, ts, number), number)),
            Sorted::Tick => queue.push_back((Late::Tick(ts), number)),
            Sorted::Dropped => {}
        }
        deliver(
            &mut queue,
            usize::from(lag >> 2),
            &mut lagging,
            &mut filter,
            &mut got,
        );
    }
    deliver(&mut queue, 0, &mut lagging, &mut filter, &mut got);
    plain.end(ts, &mut |f| want.push(f));
    lagging.end(ts, &mut |f| got.push(f));
    let mut lagging_stats = lagging.stats.clone();
    lagging_stats.tcp_segments += filter.dropped;
    if lagging_stats != plain.stats || got.len() != want.len() {
        panic!(
            "the filtered table differs: {lagging_stats:?} vs {:?}",
            plain.stats
        );
    }
    for (g, w) in got.iter().zip(&want) {
        if (g.client, g.server) != (w.client, w.server) || g.observation != w.observation {
            panic!("the filtered table reports differently:\n{g:?}\n{w:?}");
        }
    }
}

/// TCP reassembly of one direction. The input is a limit byte, then segments: a flags byte (bit 0 SYN,
/// bit 1 FIN, bit 2 payload taken from the input instead of the stream, bit 3 flush first, bit 4 absolute
/// seq), the seq (4 bytes LE when absolute, else 2 bytes LE, signed, from a base just below the 2^32
/// wrap), a length byte, and for bit 2 that many payload bytes. Unless bit 2 was ever used, every payload
/// byte is a function of its sequence number, so every delivered byte can be checked. Checks: the stream
/// offset advances by exactly the Data and Gap sizes, never backwards; nothing after Fin; Fin once; no
/// Conflict and the right bytes while the input is consistent; held bytes within the limit; the stats
/// agree; nothing held after flush.
#[allow(clippy::panic)]
pub fn reasm(data: &[u8]) {
    use crate::replay::reasm::{Delivery, Reassembler};

    /// The byte every consistent segment carries at sequence number `seq`.
    fn stream_byte(seq: u32) -> u8 {
        seq.wrapping_mul(0x9E37_79B1).to_be_bytes()[0]
    }
    enum Got {
        Data(Vec<u8>),
        Gap(u64),
        Conflict,
        Fin,
    }
    #[derive(Default)]
    struct Check {
        offset: u64,
        data: u64,
        gaps: u64,
        conflicts: u64,
        fin: bool,
        consistent: bool,
    }
    impl Check {
        fn absorb(&mut self, got: Vec<Got>, r: &Reassembler, limit: usize) {
            let start = r.start_seq();
            for g in got {
                // A differing retransmission may still be reported after the Fin; nothing else may.
                if self.fin && !matches!(g, Got::Conflict) {
                    panic!("delivery after Fin");
                }
                match g {
                    Got::Data(bytes) => {
                        if bytes.is_empty() {
                            panic!("empty Data");
                        }
                        if self.consistent {
                            let start =
                                start.unwrap_or_else(|| panic!("Data before the stream started"));
                            for (i, &b) in bytes.iter().enumerate() {
                                let seq = start.wrapping_add((self.offset + i as u64) as u32);
                                if b != stream_byte(seq) {
                                    panic!(
                                        "wrong byte delivered at offset {}",
                                        self.offset + i as u64
                                    );
                                }
                            }
                        }
                        self.offset += bytes.len() as u64;
                        self.data += bytes.len() as u64;
                    }
                    Got::Gap(n) => {
                        if n == 0 {
                            panic!("empty Gap");
                        }
                        self.offset += n;
                        self.gaps += n;
                    }
                    Got::Conflict => {
                        if self.consistent {
                            panic!("Conflict on consistent input");
                        }
                        self.conflicts += 1;
                    }
                    Got::Fin => self.fin = true,
                }
            }
            let s = r.stats();
            if r.offset() != self.offset {
                panic!(
                    "stream offset {} but deliveries add up to {}",
                    r.offset(),
                    self.offset
                );
            }
            if (s.bytes_delivered, s.gap_bytes, s.conflicts)
                != (self.data, self.gaps, self.conflicts)
            {
                panic!("stats disagree with deliveries");
            }
            if r.buffered_bytes() > limit {
                panic!("{} bytes held over a limit of {limit}", r.buffered_bytes());
            }
        }
    }

    let Some((&limit, mut rest)) = data.split_first() else {
        return;
    };
    let limit = usize::from(limit);
    let mut r = Reassembler::with_limit(limit);
    let mut check = Check {
        consistent: true,
        ..Check::default()
    };
    const BASE: u32 = 0xFFFF_FF00;
    let mut packet = 0u64;
    let mut payload = Vec::new();
    while let Some((&flags, tail)) = rest.split_first() {
        rest = tail;
        packet += 1;
        let (syn, fin, raw, flush, absolute) = (
            flags & 1 != 0,
            flags & 2 != 0,
            flags & 4 != 0,
            flags & 8 != 0,
            flags & 16 != 0,
        );
        let mut got = Vec::new();
        let mut record = |d: Delivery<'_>| {
            got.push(match d {
                Delivery::Data { bytes, .. } => Got::Data(bytes.to_vec()),
                Delivery::Gap { bytes, .. } => Got::Gap(bytes),
                Delivery::Conflict { .. } => Got::Conflict,
                Delivery::Fin { .. } => Got::Fin,
            })
        };
        let seq = if absolute {
            let Some((b, tail)) = rest.split_first_chunk::<4>() else {
                break;
            };
            rest = tail;
            u32::from_le_bytes(*b)
        } else {
            let Some((b, tail)) = rest.split_first_chunk::<2>() else {
                break;
            };
            rest = tail;
            BASE.wrapping_add(i32::from(i16::from_le_bytes(*b)) as u32)
        };
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        rest = tail;
        let len = usize::from(len);
        payload.clear();
        if raw {
            let take = len.min(rest.len());
            payload.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            check.consistent = false;
        } else {
            let first = seq.wrapping_add(u32::from(syn));
            payload.extend((0..len as u32).map(|i| stream_byte(first.wrapping_add(i))));
        }
        if flush {
            r.flush(packet, 0, &mut record);
            if r.buffered_bytes() != 0 {
                panic!("bytes held after flush");
            }
        }
        r.segment(seq, syn, fin, &payload, packet, 0, &mut record);
        check.absorb(got, &r, limit);
    }
    let mut got = Vec::new();
    r.flush(packet + 1, 0, &mut |d| {
        got.push(match d {
            Delivery::Data { bytes, .. } => Got::Data(bytes.to_vec()),
            Delivery::Gap { bytes, .. } => Got::Gap(bytes),
            Delivery::Conflict { .. } => Got::Conflict,
            Delivery::Fin { .. } => Got::Fin,
        })
    });
    check.absorb(got, &r, limit);
    if r.buffered_bytes() != 0 {
        panic!("bytes held after flush");
    }
}

pub fn tls_record(data: &[u8]) {
    let r = wire::tls::parse_tls_record(data);
    check_rest(data, &r);
    let _ = wire::tls::tls_frame(data);
    let fragment = match r {
        Ok((_, record)) => record.fragment,
        Err(_) => data,
    };
    check_rest(fragment, &wire::tls::parse_alert(fragment));
    check_rest(fragment, &wire::tls::parse_change_cipher_spec(fragment));
}

pub fn tls_handshake(data: &[u8]) {
    let mut stream = data;
    loop {
        let r = wire::tls::parse_handshake(stream);
        check_rest(stream, &r);
        match r {
            Ok((rest, _)) if rest.len() < stream.len() => stream = rest,
            _ => break,
        }
    }
    check_rest(data, &wire::tls::parse_client_hello(data));
    check_rest(data, &wire::tls::parse_server_hello(data));
    check_rest(data, &wire::tls::parse_certificate(data));
    check_rest(data, &wire::tls::parse_certificate_request(data));
}

pub fn sslv2(data: &[u8]) {
    check_rest(data, &wire::tls::parse_sslv2(data));
}

pub fn cert(data: &[u8]) {
    if let Ok(summary) = wire::cert::summarize_certificate(data) {
        let _ = summary.validity_at(0);
        let _ = summary.matches_name("a.example");
        let _ = summary.weak_key();
        let _ = summary.weak_signature();
        let _ = summary.server_auth_allowed();
    }
}

pub fn credssp(data: &[u8]) {
    let r = wire::credssp::parse_ts_request(data);
    check_rest(data, &r);
    if let Ok((_, request)) = r {
        let encoded = wire::credssp::encode_ts_request(&request);
        match wire::credssp::parse_ts_request(&encoded) {
            Ok((rest, again)) if rest.is_empty() && again == request => {}
            Ok((rest, again)) => panic!(
                "TSRequest changed in an encode/parse round trip: {request:?} became {again:?} \
                 ({} bytes left over)",
                rest.len()
            ),
            Err(e) => panic!("an encoded TSRequest does not parse: {e:?} ({request:?})"),
        }
    }
}

pub fn ntlm(data: &[u8]) {
    check_rest(data, &wire::ntlm::parse_ntlm_message_type(data));
    check_rest(data, &wire::ntlm::parse_challenge(data));
    check_rest(data, &wire::ntlm::parse_negotiate(data));
}

pub fn early_auth(data: &[u8]) {
    check_rest(data, &wire::early_auth::parse_early_auth_result(data));
}

pub fn mcs(data: &[u8]) {
    check_rest(data, &wire::mcs::parse_mcs(data));
    for security_header_present in [false, true] {
        check_rest(
            data,
            &wire::mcs::parse_slow_path(data, security_header_present),
        );
        check_rest(
            data,
            &wire::mcs::parse_set_error_info(data, security_header_present),
        );
    }
}

/// MS-RDPEUDP SYN and SYN+ACK datagrams (`wire::rdpeudp`), and the UDP transport tally of the replay
/// fed with them as datagrams on port 3389.
pub fn rdpeudp(data: &[u8]) {
    if let Ok((rest, syn)) = wire::rdpeudp::parse_syn_datagram(data) {
        check_rest(data, &Ok((rest, ())));
        let _ = syn.header.flags.to_string();
        let _ = syn.synex.map(|x| x.version.to_string());
    }
    let mut tally = crate::replay::udp::UdpTransports::default();
    let (a, b) = (
        std::net::SocketAddr::from(([10, 0, 0, 1], 50000)),
        std::net::SocketAddr::from(([10, 0, 0, 2], 3389)),
    );
    for (n, chunk) in data.chunks(64).enumerate() {
        let (src, dst) = if n % 2 == 0 { (a, b) } else { (b, a) };
        let d = crate::replay::packet::UdpDatagram {
            src,
            dst,
            payload: chunk,
        };
        tally.datagram(&d, n as u64, |p| p == 3389);
    }
    let _ = tally.notes();
}

/// A whole capture file (pcap or pcapng, as `replay FILE` reads it) from hostile bytes, analysed both
/// ways the replay reads: as a file (read ahead on a second thread) and as a pipe (packet by packet).
/// Every connection it reports carries a verdict; nothing panics or hangs.
///
/// Inputs without a capture's magic number are refused by the reader's first four bytes (a unit test of
/// the reader covers that); they are skipped here, since setting the reader up (a 1 MiB buffer) is most of
/// the cost of such an input in unoptimised test builds.
pub fn capture_file(data: &[u8]) {
    use crate::replay::{replay_reader, ReplayOptions, Source};
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1], // pcap, microseconds, little-endian
        [0xa1, 0xb2, 0xc3, 0xd4], // the same, big-endian
        [0x4d, 0x3c, 0xb2, 0xa1], // pcap, nanoseconds, little-endian
        [0xa1, 0xb2, 0x3c, 0x4d], // the same, big-endian
        [0x0a, 0x0d, 0x0d, 0x0a], // pcapng section header block
    ];
    if !data.get(..4).is_some_and(|m| MAGICS.iter().any(|k| k == m)) {
        return;
    }
    let opts = ReplayOptions::default();
    for name in ["fuzz.pcap", "-"] {
        let source = Source::File(name.to_string());
        let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
        let _ = replay_reader(&source, input, &opts, &mut |r| {
            let _ = r.diagnosis.verdict_id();
            true
        });
    }
}
