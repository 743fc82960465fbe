//! Golden frames (hand-built and cut from real captures), truncation at every byte, fragment
//! reassembly through the decoder for IPv4 and IPv6, and no-panic properties.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use proptest::prelude::*;

use super::*;

/// Hex with whitespace allowed, so golden frames can be written one field per line.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A TCP segment's fields, owned: src, dst, seq, ack, flags, window, payload.
type Seg = (SocketAddr, SocketAddr, u32, u32, TcpFlags, u16, Vec<u8>);

/// Decodes with a fresh decoder and returns the TCP segment as owned parts.
fn tcp_of(link: LinkType, frame: &[u8]) -> Seg {
    let mut d = Decoder::new();
    match d.decode(link, frame, 0) {
        Ok(Decoded::Tcp(t)) => (
            t.src,
            t.dst,
            t.seq,
            t.ack,
            t.flags,
            t.window,
            t.payload.to_vec(),
        ),
        other => panic!("expected TCP, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------------
// Hand-built packets shared by the link-layer goldens.

/// IPv4 carrying TCP 10.0.0.1:49152 → 10.0.0.2:3389, PSH|ACK, with an X.224 Connection Request.
fn ipv4_tcp() -> Vec<u8> {
    h(concat!(
        "45",             // ipv4: version 4, IHL 5 words
        "00",             // DSCP/ECN
        "0033",           // total length 51
        "1234",           // identification
        "4000",           // flags DF, fragment offset 0
        "40",             // TTL 64
        "06",             // protocol 6 (TCP)
        "0000",           // header checksum (not verified)
        "0a000001",       // source 10.0.0.1
        "0a000002",       // destination 10.0.0.2
        "c000",           // tcp: source port 49152
        "0d3d",           // destination port 3389
        "01020304",       // sequence number
        "0a0b0c0d",       // acknowledgment number
        "50",             // data offset 5 words
        "18",             // flags PSH|ACK
        "2000",           // window 8192
        "0000",           // checksum (not verified)
        "0000",           // urgent pointer
        "0300000b",       // payload: TPKT, length 11
        "06e00000000000", // X.224 Connection Request
    ))
}

/// The same TCP segment over IPv6, 2001:db8::1 → 2001:db8::2.
fn ipv6_tcp() -> Vec<u8> {
    h(concat!(
        "60000000",                         // ipv6: version 6, traffic class 0, flow label 0
        "001f",                             // payload length 31
        "06",                               // next header 6 (TCP)
        "40",                               // hop limit 64
        "20010db8000000000000000000000001", // source 2001:db8::1
        "20010db8000000000000000000000002", // destination 2001:db8::2
        "c000",                             // tcp: source port 49152
        "0d3d",                             // destination port 3389
        "01020304",                         // sequence number
        "0a0b0c0d",                         // acknowledgment number
        "50",                               // data offset 5 words
        "18",                               // flags PSH|ACK
        "2000",                             // window 8192
        "0000",                             // checksum
        "0000",                             // urgent pointer
        "0300000b",                         // payload: TPKT, length 11
        "06e00000000000",                   // X.224 Connection Request
    ))
}

const X224_CR: &[u8] = &[3, 0, 0, 11, 6, 0xe0, 0, 0, 0, 0, 0];

fn check_v4_golden(link: LinkType, frame: &[u8]) {
    assert_eq!(
        tcp_of(link, frame),
        (
            sa("10.0.0.1:49152"),
            sa("10.0.0.2:3389"),
            0x0102_0304,
            0x0a0b_0c0d,
            TcpFlags::PSH | TcpFlags::ACK,
            0x2000,
            X224_CR.to_vec()
        ),
        "{}",
        link.name()
    );
}

fn check_v6_golden(link: LinkType, frame: &[u8]) {
    assert_eq!(
        tcp_of(link, frame),
        (
            sa("[2001:db8::1]:49152"),
            sa("[2001:db8::2]:3389"),
            0x0102_0304,
            0x0a0b_0c0d,
            TcpFlags::PSH | TcpFlags::ACK,
            0x2000,
            X224_CR.to_vec()
        ),
        "{}",
        link.name()
    );
}

fn ethernet_qinq() -> Vec<u8> {
    cat(&[
        &h(concat!(
            "020000000002", // ethernet: destination
            "020000000001", // source
            "88a8",         // TPID 802.1ad (QinQ, service tag)
            "0064",         // TCI: PCP 0, VLAN 100
            "8100",         // TPID 802.1Q (customer tag)
            "00c8",         // TCI: PCP 0, VLAN 200
            "0800",         // EtherType IPv4
        )),
        &ipv4_tcp(),
    ])
}

fn ethernet_9100_v6() -> Vec<u8> {
    cat(&[
        &h(concat!(
            "020000000002", // ethernet: destination
            "020000000001", // source
            "9100",         // TPID 0x9100 (pre-standard QinQ)
            "a00a",         // TCI: PCP 5, VLAN 10
            "86dd",         // EtherType IPv6
        )),
        &ipv6_tcp(),
    ])
}

fn sll_v4() -> Vec<u8> {
    cat(&[
        &h(concat!(
            "0000",             // linux_sll: packet type 0 (to us)
            "0001",             // ARPHRD_ETHER
            "0006",             // link-layer address length 6
            "0200000000010000", // address, padded to 8
            "0800",             // protocol IPv4
        )),
        &ipv4_tcp(),
    ])
}

fn sll2_v6() -> Vec<u8> {
    cat(&[
        &h(concat!(
            "86dd",             // linux_sll2: protocol IPv6
            "0000",             // reserved
            "00000002",         // interface index 2
            "0001",             // ARPHRD_ETHER
            "04",               // packet type 4 (outgoing)
            "06",               // link-layer address length 6
            "0200000000010000", // address, padded to 8
        )),
        &ipv6_tcp(),
    ])
}

#[test]
fn every_link_type_reaches_tcp() {
    let eth_v4 = cat(&[
        &h(concat!(
            "020000000002", // ethernet: destination
            "020000000001", // source
            "0800",         // EtherType IPv4
        )),
        &ipv4_tcp(),
    ]);
    check_v4_golden(LinkType::Ethernet, &eth_v4);
    check_v4_golden(LinkType::Ethernet, &ethernet_qinq());
    check_v6_golden(LinkType::Ethernet, &ethernet_9100_v6());
    check_v4_golden(LinkType::LinuxSll, &sll_v4());
    check_v6_golden(LinkType::LinuxSll2, &sll2_v6());
    // null: AF_INET written by a little-endian host.
    check_v4_golden(LinkType::Null, &cat(&[&h("02000000"), &ipv4_tcp()]));
    // null: AF_INET6 (Darwin, 30) written by a big-endian host.
    check_v6_golden(LinkType::Null, &cat(&[&h("0000001e"), &ipv6_tcp()]));
    // null: AF_INET6 (FreeBSD, 28), little-endian.
    check_v6_golden(LinkType::Null, &cat(&[&h("1c000000"), &ipv6_tcp()]));
    // loop: network byte order, AF_INET and AF_INET6 (OpenBSD, 24).
    check_v4_golden(LinkType::Loop, &cat(&[&h("00000002"), &ipv4_tcp()]));
    check_v6_golden(LinkType::Loop, &cat(&[&h("00000018"), &ipv6_tcp()]));
    // raw: the version nibble decides.
    check_v4_golden(LinkType::Raw, &ipv4_tcp());
    check_v6_golden(LinkType::Raw, &ipv6_tcp());
    check_v4_golden(LinkType::Ipv4, &ipv4_tcp());
    check_v6_golden(LinkType::Ipv6, &ipv6_tcp());
}

#[test]
fn link_types_by_dlt() {
    for link in LinkType::ALL {
        assert_eq!(LinkType::from_dlt(link.dlt()), Some(link));
    }
    assert_eq!(LinkType::from_dlt(12), Some(LinkType::Raw));
    assert_eq!(LinkType::from_dlt(14), Some(LinkType::Raw));
    assert_eq!(LinkType::from_dlt(105), None); // 802.11
    assert_eq!(LinkType::LinuxSll2.name(), "linux_sll2");
}

#[test]
fn vlan_tags_are_peeled_and_bounded() {
    assert_eq!(
        network_layer(LinkType::Ethernet, &ethernet_qinq()).unwrap(),
        Network::Ipv4(&ipv4_tcp())
    );
    let mut frame = h("020000000002 020000000001");
    for _ in 0..=MAX_VLAN_TAGS {
        frame.extend(h("8100 0001"));
    }
    frame.extend(h("0800"));
    frame.extend(ipv4_tcp());
    assert_eq!(
        network_layer(LinkType::Ethernet, &frame),
        Err(PacketError::TooManyVlanTags {
            layer: "ethernet",
            max: MAX_VLAN_TAGS
        })
    );
    // Cut inside a tag.
    let cut = h("020000000002 020000000001 8100 00");
    assert_eq!(
        network_layer(LinkType::Ethernet, &cut)
            .unwrap_err()
            .to_string(),
        "vlan: tag shorter than its header (1 bytes)"
    );
}

/// IPv4 with 8 bytes of options, carrying the shared TCP segment.
fn ipv4_with_options() -> Vec<u8> {
    let header = h(concat!(
        "47",       // ipv4: version 4, IHL 7 words (8 bytes of options)
        "00",       // DSCP/ECN
        "003b",     // total length 59
        "0001",     // identification
        "0000",     // flags 0, fragment offset 0
        "40",       // TTL 64
        "06",       // protocol 6 (TCP)
        "0000",     // header checksum
        "0a000001", // source 10.0.0.1
        "0a000002", // destination 10.0.0.2
        "94040000", // option: Router Alert (RFC 2113)
        "010101",   // options: NOP NOP NOP
        "00",       // option: end of list
    ));
    cat(&[&header, &ipv4_tcp()[20..]])
}

#[test]
fn ipv4_options_are_skipped() {
    let frame = ipv4_with_options();
    check_v4_golden(LinkType::Ipv4, &frame);
    let p = ip::parse_ipv4(&frame).unwrap();
    assert_eq!(p.header_len, 28);
}

/// IPv6 with hop-by-hop and destination options before the shared TCP segment.
fn ipv6_with_options() -> Vec<u8> {
    cat(&[
        &h(concat!(
            "60000000",                         // ipv6: version 6
            "0037",                             // payload length 55 (8 + 16 + 31)
            "00",                               // next header 0 (hop-by-hop options)
            "40",                               // hop limit 64
            "20010db8000000000000000000000001", // source 2001:db8::1
            "20010db8000000000000000000000002", // destination 2001:db8::2
            "3c",                               // hop-by-hop: next header 60 (destination options)
            "00",                               // length 0 (8 bytes)
            "05020000",                         // option: Router Alert (RFC 2711)
            "0100",                             // option: PadN, 0 bytes
            "06",                               // destination options: next header 6 (TCP)
            "01",                               // length 1 (16 bytes)
            "010c000000000000000000000000",     // option: PadN, 12 bytes
        )),
        &ipv6_tcp()[40..],
    ])
}

#[test]
fn ipv6_hop_by_hop_and_destination_options_are_walked() {
    check_v6_golden(LinkType::Ipv6, &ipv6_with_options());
}

#[test]
fn ipv6_ah_esp_and_no_next_header() {
    // AH: length counts 4-byte words minus 2 (RFC 4302 §2.2).
    let ah = cat(&[
        &h(concat!(
            "60000000",                         // ipv6
            "0033",                             // payload length 51 (20 + 31)
            "33",                               // next header 51 (AH)
            "40",                               // hop limit
            "20010db8000000000000000000000001", // source
            "20010db8000000000000000000000002", // destination
            "06",                               // ah: next header TCP
            "03",                               // payload length 3: (3 + 2) × 4 = 20 bytes
            "0000",                             // reserved
            "00000100",                         // SPI
            "00000001",                         // sequence number
            "0000000000000000",                 // ICV, 64 bits
        )),
        &ipv6_tcp()[40..],
    ]);
    check_v6_golden(LinkType::Ipv6, &ah);
    let mut esp = ipv6_tcp();
    esp[6] = 50;
    assert_eq!(
        Decoder::new().decode(LinkType::Ipv6, &esp, 0),
        Ok(Decoded::Other)
    );
    let mut none = ipv6_tcp();
    none[6] = 59;
    assert_eq!(
        Decoder::new().decode(LinkType::Ipv6, &none, 0),
        Ok(Decoded::Other)
    );
    // A chain longer than the bound.
    let mut long = h("60000000 0000 3c 40");
    long.extend([0; 32]);
    for _ in 0..=MAX_IPV6_EXTENSION_HEADERS {
        long.extend(h("3c00 000000000000"));
    }
    let len = u16::try_from(long.len() - 40).unwrap();
    long[4..6].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        Decoder::new().decode(LinkType::Ipv6, &long, 0),
        Err(PacketError::Ipv6TooManyExtensionHeaders(
            MAX_IPV6_EXTENSION_HEADERS
        ))
    );
}

/// ICMP host unreachable from a router, quoting a TCP SYN's IPv4 header and first 8 bytes.
fn icmp_unreachable() -> Vec<u8> {
    h(concat!(
        "45",       // ipv4: version 4, IHL 5
        "c0",       // DSCP CS6
        "0038",     // total length 56
        "0000",     // identification
        "0000",     // flags, offset
        "40",       // TTL
        "01",       // protocol 1 (ICMP)
        "0000",     // checksum
        "0a0000fe", // source 10.0.0.254 (the router)
        "0a000001", // destination 10.0.0.1
        "03",       // icmp: type 3 (destination unreachable)
        "01",       // code 1 (host unreachable)
        "0000",     // checksum
        "00000000", // unused
        "45",       // quoted ipv4: version 4, IHL 5
        "00",       // DSCP/ECN
        "0034",     // total length 52 (only 28 bytes quoted)
        "abcd",     // identification
        "4000",     // DF
        "3f",       // TTL 63
        "06",       // protocol TCP
        "0000",     // checksum
        "0a000001", // source 10.0.0.1
        "0a000002", // destination 10.0.0.2
        "c000",     // quoted tcp: source port 49152
        "0d3d",     // destination port 3389
        "01020304", // sequence number
    ))
}

#[test]
fn icmp_unreachable_quoting_tcp() {
    let frame = icmp_unreachable();
    assert_eq!(
        Decoder::new().decode(LinkType::Raw, &frame, 0),
        Ok(Decoded::IcmpUnreachable(IcmpUnreachable {
            reporter: "10.0.0.254".parse().unwrap(),
            icmp_type: 3,
            code: 1,
            quoted_src: sa("10.0.0.1:49152"),
            quoted_dst: sa("10.0.0.2:3389"),
            quoted_seq: Some(0x0102_0304),
        }))
    );
    // A quote with the ports but not the sequence number.
    let mut short = frame[..frame.len() - 4].to_vec();
    short[3] = 52;
    match Decoder::new().decode(LinkType::Raw, &short, 0) {
        Ok(Decoded::IcmpUnreachable(u)) => assert_eq!(u.quoted_seq, None),
        other => panic!("{other:?}"),
    }
    // Quoting UDP, or not an unreachable (echo request): not ours.
    let mut udp = frame.clone();
    udp[28 + 9] = 17;
    assert_eq!(
        Decoder::new().decode(LinkType::Raw, &udp, 0),
        Ok(Decoded::Other)
    );
    let mut echo = frame.clone();
    echo[20] = 8;
    assert_eq!(
        Decoder::new().decode(LinkType::Raw, &echo, 0),
        Ok(Decoded::Other)
    );
    // A quoted non-first fragment has no TCP header.
    let mut later = frame;
    later[28 + 6..28 + 8].copy_from_slice(&[0x00, 0x10]);
    assert_eq!(
        Decoder::new().decode(LinkType::Raw, &later, 0),
        Ok(Decoded::Other)
    );
}

/// ICMPv6 port unreachable from the destination, quoting the IPv6 header and TCP header of a SYN.
fn icmpv6_unreachable() -> Vec<u8> {
    h(concat!(
        "60000000",                         // ipv6: version 6
        "0044",                             // payload length 68 (8 + 40 + 20)
        "3a",                               // next header 58 (ICMPv6)
        "40",                               // hop limit
        "20010db8000000000000000000000002", // source 2001:db8::2 (the destination host)
        "20010db8000000000000000000000001", // destination 2001:db8::1
        "01",                               // icmpv6: type 1 (destination unreachable)
        "04",                               // code 4 (port unreachable)
        "0000",                             // checksum
        "00000000",                         // unused
        "60000000",                         // quoted ipv6: version 6
        "0028",                             // payload length 40 (20 quoted)
        "06",                               // next header TCP
        "40",                               // hop limit
        "20010db8000000000000000000000001", // source 2001:db8::1
        "20010db8000000000000000000000002", // destination 2001:db8::2
        "c000",                             // quoted tcp: source port 49152
        "0d3d",                             // destination port 3389
        "01020304",                         // sequence number
        "00000000",                         // acknowledgment number
        "5002",                             // data offset 5, SYN
        "2000",                             // window
        "00000000",                         // checksum, urgent pointer
    ))
}

#[test]
fn icmpv6_unreachable_quoting_tcp() {
    let frame = icmpv6_unreachable();
    assert_eq!(
        Decoder::new().decode(LinkType::Ipv6, &frame, 0),
        Ok(Decoded::IcmpUnreachable(IcmpUnreachable {
            reporter: "2001:db8::2".parse().unwrap(),
            icmp_type: 1,
            code: 4,
            quoted_src: sa("[2001:db8::1]:49152"),
            quoted_dst: sa("[2001:db8::2]:3389"),
            quoted_seq: Some(0x0102_0304),
        }))
    );
    // Packet too big (type 2) is not an unreachable.
    let mut too_big = frame;
    too_big[40] = 2;
    assert_eq!(
        Decoder::new().decode(LinkType::Ipv6, &too_big, 0),
        Ok(Decoded::Other)
    );
}

// ---------------------------------------------------------------------------------------------------
// Frames cut from the corpus (`/work/shared/corpus/pcaps/`), one field per line.

/// ndpi__rdp_over_tls.pcap frame 1: SYN in VLAN 77, with CWR|ECE and options.
fn ndpi_rdp_over_tls_1() -> Vec<u8> {
    h(concat!(
        "2cea7f41e0fd", // ethernet: destination
        "34ed1b54c781", // source
        "8100",         // TPID 802.1Q
        "004d",         // TCI: VLAN 77
        "0800",         // EtherType IPv4
        "45",           // ipv4: version 4, IHL 5
        "00",           // DSCP/ECN
        "0034",         // total length 52
        "1805",         // identification
        "4000",         // DF
        "70",           // TTL 112
        "06",           // protocol TCP
        "3990",         // checksum
        "5beeb515",     // source 91.238.181.21
        "591f4f0c",     // destination 89.31.79.12
        "8c30",         // tcp: source port 35888
        "0d3d",         // destination port 3389
        "f7e9429e",     // sequence number 4159259294
        "00000000",     // acknowledgment number
        "80",           // data offset 8 words
        "c2",           // flags CWR|ECE|SYN
        "2000",         // window 8192
        "c12b",         // checksum
        "0000",         // urgent pointer
        "020405b4",     // option MSS 1460
        "01",           // NOP
        "030308",       // window scale 8
        "0101",         // NOP NOP
        "0402",         // SACK permitted
    ))
}

/// ndpi__rdp_over_tls.pcap frame 4: the X.224 Connection Request in VLAN 77.
fn ndpi_rdp_over_tls_4() -> Vec<u8> {
    h(concat!(
        "2cea7f41e0fd34ed1b54c781",  // ethernet: destination, source
        "8100004d",                  // 802.1Q, VLAN 77
        "0800",                      // EtherType IPv4
        "4500005718084000700639 6a", // ipv4: IHL 5, total length 87, DF, TTL 112, TCP
        "5beeb515591f4f0c",          // 91.238.181.21 → 89.31.79.12
        "8c300d3d",                  // tcp: 35888 → 3389
        "f7e9429f",                  // sequence number 4159259295
        "3afe975d",                  // acknowledgment number 989763421
        "5018",                      // data offset 5, PSH|ACK
        "0100",                      // window 256
        "ff3c0000",                  // checksum, urgent pointer
        "0300002f",                  // payload: TPKT, length 47
        "2ae00000000000",            // X.224 Connection Request
        "436f6f6b69653a206d737473686173683d574465706c6f7941640d0a", // Cookie: mstshash=WDeployAd
        "0100080003000000",          // RDP_NEG_REQ: SSL|HYBRID
    ))
}

/// ndpi__rdp2.pcap frame 13: RDP over UDP in VLAN 1308.
fn ndpi_rdp2_13() -> Vec<u8> {
    h(concat!(
        "000000000000000500000008", // ethernet: destination, source
        "8100051c",                 // 802.1Q, VLAN 1308
        "0800",                     // EtherType IPv4
        "45000028ce4f00007d11334f", // ipv4: total length 40, TTL 125, protocol 17 (UDP)
        "0a0825640a640257",         // 10.8.37.100 → 10.100.2.87
        "c9c40d3d00146fcb",         // udp: 51652 → 3389, length 20
        "1097603703ff040400010400", // RDP-UDP
        "000000000000",             // ethernet padding
    ))
}

/// arkime__socks5-rdp.pcap frame 4: three bytes of SOCKS5 greeting, then Ethernet padding.
fn arkime_socks5_rdp_4() -> Vec<u8> {
    h(concat!(
        "000af3319400",     // ethernet: destination
        "80711f82cfc6",     // source
        "0800",             // EtherType IPv4
        "4500002b7ee64000", // ipv4: total length 43, DF
        "7206a039",         // TTL 114, TCP, checksum
        "0a0000030a000002", // 10.0.0.3 → 10.0.0.2
        "08e4a574",         // tcp: 2276 → 42356
        "5ab57567",         // sequence number 1521841511
        "691cc320",         // acknowledgment number 1763492640
        "5018",             // data offset 5, PSH|ACK
        "fdca",             // window 64970
        "189e0000",         // checksum, urgent pointer
        "050100",           // payload: SOCKS5 version 5, 1 method, no auth
        "000000",           // ethernet padding (cut off by the IPv4 total length)
    ))
}

/// ndpi__tcp_scan.pcapng frame 17: SYN to 3389.
fn ndpi_tcp_scan_17() -> Vec<u8> {
    h(concat!(
        "00808f9aaebd283737006dc8", // ethernet: destination, source
        "0800",                     // EtherType IPv4
        "4500002cdfdd0000",         // ipv4: total length 44
        "39061dea",                 // TTL 57, TCP, checksum
        "c0a801b2c0a80102",         // 192.168.1.178 → 192.168.1.2
        "a83b0d3d",                 // tcp: 43067 → 3389
        "f7686e96",                 // sequence number 4150816406
        "00000000",                 // acknowledgment number
        "6002",                     // data offset 6, SYN
        "0400",                     // window 1024
        "f4a90000",                 // checksum, urgent pointer
        "020405b4",                 // option MSS 1460
    ))
}

/// ndpi__tcp_scan.pcapng frame 18: the RST|ACK refusing it.
fn ndpi_tcp_scan_18() -> Vec<u8> {
    h(concat!(
        "283737006dc800808f9aaebd", // ethernet: destination, source
        "0800",                     // EtherType IPv4
        "45000028ed5a4000",         // ipv4: total length 40, DF
        "4006c970",                 // TTL 64, TCP, checksum
        "c0a80102c0a801b2",         // 192.168.1.2 → 192.168.1.178
        "0d3da83b",                 // tcp: 3389 → 43067
        "00000000",                 // sequence number
        "f7686e97",                 // acknowledgment number 4150816407
        "5014",                     // data offset 5, RST|ACK
        "0000",                     // window 0
        "10530000",                 // checksum, urgent pointer
        "000000000000",             // ethernet padding
    ))
}

/// zeek__rdp-to-ssl.pcap frame 4: the X.224 Connection Request.
fn zeek_rdp_to_ssl_4() -> Vec<u8> {
    h(concat!(
        "080027126d890800274a2a0c", // ethernet: destination, source
        "0800",                     // EtherType IPv4
        "450000571d6e4000",         // ipv4: total length 87, DF
        "80065884",                 // TTL 128, TCP, checksum
        "c0a801c8c0a80196",         // 192.168.1.200 → 192.168.1.150
        "c0360d3d",                 // tcp: 49206 → 3389
        "5565d3fe",                 // sequence number 1432736766
        "9b89a66c",                 // acknowledgment number 2609489516
        "5018",                     // data offset 5, PSH|ACK
        "0100",                     // window 256
        "477d0000",                 // checksum, urgent pointer
        "0300002f2ae00000000000",   // payload: TPKT, X.224 Connection Request
        "436f6f6b69653a206d737473686173683d4157414b45434f44490d0a", // Cookie: mstshash=AWAKECODI
        "0100080003000000",         // RDP_NEG_REQ
    ))
}

#[test]
fn corpus_frames() {
    let (src, dst, seq, ack, flags, window, payload) =
        tcp_of(LinkType::Ethernet, &ndpi_rdp_over_tls_1());
    assert_eq!(
        (src, dst, seq, ack, window, payload.len()),
        (
            sa("91.238.181.21:35888"),
            sa("89.31.79.12:3389"),
            4_159_259_294,
            0,
            8192,
            0
        )
    );
    assert_eq!(flags, TcpFlags::CWR | TcpFlags::ECE | TcpFlags::SYN);
    assert_eq!(flags.to_string(), "SYN|ECE|CWR");

    let (src, _, seq, ack, flags, window, payload) =
        tcp_of(LinkType::Ethernet, &ndpi_rdp_over_tls_4());
    assert_eq!(
        (src, seq, ack, flags, window),
        (
            sa("91.238.181.21:35888"),
            4_159_259_295,
            989_763_421,
            TcpFlags(0x18),
            256
        )
    );
    assert_eq!(payload.len(), 47);
    assert!(payload.starts_with(&[3, 0, 0, 0x2f]));

    let rdp2 = ndpi_rdp2_13();
    match Decoder::new().decode(LinkType::Ethernet, &rdp2, 0) {
        // RDP's UDP transport: decoded, for replay::udp to list.
        Ok(Decoded::Udp(u)) => assert!(u.src.port() == 3389 || u.dst.port() == 3389, "{u:?}"),
        other => panic!("{other:?}"),
    }
    match network_layer(LinkType::Ethernet, &rdp2).unwrap() {
        Network::Ipv4(p) => assert_eq!(ip::parse_ipv4(p).unwrap().protocol, 17),
        other => panic!("{other:?}"),
    }

    assert_eq!(
        tcp_of(LinkType::Ethernet, &arkime_socks5_rdp_4()),
        (
            sa("10.0.0.3:2276"),
            sa("10.0.0.2:42356"),
            1_521_841_511,
            1_763_492_640,
            TcpFlags::PSH | TcpFlags::ACK,
            64970,
            vec![5, 1, 0]
        )
    );
    assert_eq!(
        tcp_of(LinkType::Ethernet, &ndpi_tcp_scan_17()),
        (
            sa("192.168.1.178:43067"),
            sa("192.168.1.2:3389"),
            4_150_816_406,
            0,
            TcpFlags::SYN,
            1024,
            vec![]
        )
    );
    assert_eq!(
        tcp_of(LinkType::Ethernet, &ndpi_tcp_scan_18()),
        (
            sa("192.168.1.2:3389"),
            sa("192.168.1.178:43067"),
            0,
            4_150_816_407,
            TcpFlags::RST | TcpFlags::ACK,
            0,
            vec![]
        )
    );
    let (src, dst, seq, ack, _, _, payload) = tcp_of(LinkType::Ethernet, &zeek_rdp_to_ssl_4());
    assert_eq!(
        (src, dst, seq, ack),
        (
            sa("192.168.1.200:49206"),
            sa("192.168.1.150:3389"),
            1_432_736_766,
            2_609_489_516
        )
    );
    assert!(payload.windows(9).any(|w| w == b"AWAKECODI"));
}

#[test]
fn not_ip_is_other() {
    // ndpi__tcp_scan.pcapng frame 1: ARP who-has 192.168.1.151.
    let arp = h(concat!(
        "ffffffffffff",                         // ethernet: destination broadcast
        "00808f9aaebd",                         // source
        "0806",                                 // EtherType ARP
        "000108000604",                         // arp: Ethernet, IPv4, sizes 6 and 4
        "0001",                                 // request
        "00808f9aaebdc0a80102",                 // sender 192.168.1.2
        "000000000000c0a80197",                 // target 192.168.1.151
        "000000000000000000000000000000000000", // ethernet padding
    ));
    let mut d = Decoder::new();
    assert_eq!(d.decode(LinkType::Ethernet, &arp, 0), Ok(Decoded::Other));
    // An 802.3 length field instead of an EtherType.
    assert_eq!(
        d.decode(
            LinkType::Ethernet,
            &h("020000000002 020000000001 0026 aaaa03"),
            0
        ),
        Ok(Decoded::Other)
    );
    // An address family that is not IP.
    assert_eq!(
        d.decode(LinkType::Null, &h("07000000 45"), 0),
        Ok(Decoded::Other)
    );
    // GRE over IPv4 and IPv6: the protocol byte alone decides, even if the rest is short.
    let mut gre = ipv4_tcp();
    gre[9] = 47;
    assert_eq!(d.decode(LinkType::Raw, &gre[..12], 0), Ok(Decoded::Other));
    let mut gre6 = ipv6_tcp();
    gre6[6] = 47;
    assert_eq!(d.decode(LinkType::Raw, &gre6[..8], 0), Ok(Decoded::Other));
    // UDP is decoded: ports from its header, the payload as far as its length says.
    let mut udp = ipv4_tcp();
    udp[9] = 17;
    let ihl = usize::from(udp[0] & 0x0f) * 4;
    udp[ihl + 4] = 0;
    udp[ihl + 5] = 10; // length 10: two payload bytes
    match d.decode(LinkType::Raw, &udp, 0) {
        Ok(Decoded::Udp(u)) => assert_eq!(u.payload.len(), 2, "{u:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_their_layer() {
    let d = &mut Decoder::new();
    let err =
        |d: &mut Decoder, link, frame: &[u8]| d.decode(link, frame, 0).unwrap_err().to_string();
    assert_eq!(
        err(d, LinkType::Ethernet, &[0; 10]),
        "ethernet: frame shorter than its header (10 bytes)"
    );
    let mut v4 = ipv4_tcp();
    v4[0] = 0x44;
    assert_eq!(err(d, LinkType::Ipv4, &v4), "ipv4: header length 4 words");
    v4[0] = 0x65;
    assert_eq!(err(d, LinkType::Ipv4, &v4), "ipv4: version 6");
    let v4 = ipv4_tcp();
    assert_eq!(
        err(d, LinkType::Ipv4, &v4[..40]),
        "ipv4: total length 51 exceeds the 40 bytes captured (truncated capture)"
    );
    let mut v4 = ipv4_tcp();
    v4[32] = 0x30;
    assert_eq!(err(d, LinkType::Ipv4, &v4), "tcp: data offset 3 words");
    v4[32] = 0xf0;
    assert_eq!(
        err(d, LinkType::Ipv4, &v4),
        "tcp: header (60 bytes) runs past the segment (31 bytes)"
    );
    let mut v6 = ipv6_tcp();
    v6[6] = 0;
    v6[41] = 200;
    assert_eq!(
        err(d, LinkType::Ipv6, &v6),
        "ipv6: extension header runs past the packet"
    );
    assert_eq!(err(d, LinkType::Raw, &[0x50, 0, 0]), "raw: version 5");
}

#[test]
fn tso_total_length_zero_means_the_whole_frame() {
    let mut v4 = ipv4_tcp();
    v4[2..4].copy_from_slice(&[0, 0]);
    check_v4_golden(LinkType::Ipv4, &v4);
}

fn goldens() -> Vec<(LinkType, Vec<u8>)> {
    vec![
        (LinkType::Ethernet, ethernet_qinq()),
        (LinkType::Ethernet, ethernet_9100_v6()),
        (LinkType::LinuxSll, sll_v4()),
        (LinkType::LinuxSll2, sll2_v6()),
        (LinkType::Null, cat(&[&h("02000000"), &ipv4_tcp()])),
        (LinkType::Loop, cat(&[&h("00000018"), &ipv6_tcp()])),
        (LinkType::Raw, ipv4_tcp()),
        (LinkType::Ipv4, ipv4_tcp()),
        (LinkType::Ipv6, ipv6_tcp()),
        (LinkType::Ipv4, ipv4_with_options()),
        (LinkType::Ipv6, ipv6_with_options()),
        (LinkType::Raw, icmp_unreachable()),
        (LinkType::Ipv6, icmpv6_unreachable()),
        (LinkType::Ethernet, ndpi_rdp_over_tls_1()),
        (LinkType::Ethernet, ndpi_rdp_over_tls_4()),
        (LinkType::Ethernet, ndpi_rdp2_13()),
        (LinkType::Ethernet, arkime_socks5_rdp_4()),
        (LinkType::Ethernet, ndpi_tcp_scan_17()),
        (LinkType::Ethernet, ndpi_tcp_scan_18()),
        (LinkType::Ethernet, zeek_rdp_to_ssl_4()),
    ]
}

#[test]
fn every_prefix_of_every_golden_frame_is_an_error_or_nothing() {
    let mut checked = 0;
    for (link, frame) in goldens() {
        let whole = format!("{:?}", Decoder::new().decode(link, &frame, 0).unwrap());
        for cut in 0..frame.len() {
            let mut d = Decoder::new();
            match d.decode(link, &frame[..cut], 0) {
                Err(_) | Ok(Decoded::Other | Decoded::FragmentHeld) => {}
                // Only Ethernet padding may be cut and still give the whole packet.
                Ok(d) => assert_eq!(format!("{d:?}"), whole, "{} cut at {cut}", link.name()),
            }
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

/// What the reader's filter relies on: when `peek_tcp4` reads a frame, the decoder reads it as a TCP
/// segment with the same endpoints and flags. Returns whether the peek read it.
fn check_peek(link: LinkType, frame: &[u8]) -> bool {
    let Some(peek) = peek_tcp4(link, frame) else {
        return false;
    };
    match Decoder::new().decode(link, frame, 0) {
        Ok(Decoded::Tcp(t)) => assert_eq!(((t.src, t.dst), t.flags), (peek.addrs(), peek.flags)),
        other => panic!("peek_tcp4 read {peek:?}, the decoder {other:?}"),
    }
    true
}

#[test]
fn peek_reads_unfragmented_ipv4_tcp_as_the_decoder_does() {
    let peeked: Vec<bool> = goldens().iter().map(|(l, f)| check_peek(*l, f)).collect();
    // IPv4 TCP over Ethernet, SLL, Null, raw and with options: read; IPv6, ICMP, UDP: not.
    assert_eq!(
        peeked,
        [
            true, false, true, false, true, false, true, true, false, true, false, false, false,
            true, true, false, true, true, true, true
        ]
    );
    let p = peek_tcp4(LinkType::Ipv4, &ipv4_tcp()).unwrap();
    let t = tcp_of(LinkType::Ipv4, &ipv4_tcp());
    assert_eq!(p.addrs().0, t.0);
    // A fragment (more fragments, or an offset) is left to the decoder and its reassembly.
    for flags_offset in [[0x20, 0x00], [0x00, 0x01]] {
        let mut frag = ipv4_tcp();
        frag[6..8].copy_from_slice(&flags_offset);
        assert!(peek_tcp4(LinkType::Ipv4, &frag).is_none());
    }
}

#[test]
fn every_prefix_of_every_golden_frame_peeks_as_it_decodes() {
    for (link, frame) in goldens() {
        for cut in 0..=frame.len() {
            check_peek(link, &frame[..cut]);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Fragments through the decoder.

fn tcp_segment(payload: &[u8]) -> Vec<u8> {
    cat(&[
        &h(concat!(
            "c000",     // source port 49152
            "0d3d",     // destination port 3389
            "00000001", // sequence number
            "00000000", // acknowledgment number
            "5018",     // data offset 5, PSH|ACK
            "ffff",     // window
            "00000000", // checksum, urgent pointer
        )),
        payload,
    ])
}

fn v4_fragment(id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + data.len()).unwrap();
    let flags_offset = u16::try_from(offset / 8).unwrap() | if more { 0x2000 } else { 0 };
    let mut p = h("45 00 0000 0000 0000 40 06 0000 0a000001 0a000002");
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6..8].copy_from_slice(&flags_offset.to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn v6_fragment(id: u32, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let payload_len = u16::try_from(8 + data.len()).unwrap();
    let mut p = h(concat!(
        "60000000 0000 2c 40",              // ipv6, next header 44 (fragment)
        "20010db8000000000000000000000001", // source
        "20010db8000000000000000000000002", // destination
        "06 00 0000 00000000",              // fragment: next header TCP, offset/M, identification
    ));
    p[4..6].copy_from_slice(&payload_len.to_be_bytes());
    let offset_more = (u16::try_from(offset / 8).unwrap() << 3) | u16::from(more);
    p[42..44].copy_from_slice(&offset_more.to_be_bytes());
    p[44..48].copy_from_slice(&id.to_be_bytes());
    p.extend_from_slice(data);
    p
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    V4,
    V6,
}

fn fragment(v: V, id: u32, offset: usize, more: bool, data: &[u8]) -> (LinkType, Vec<u8>) {
    match v {
        V::V4 => (LinkType::Ipv4, v4_fragment(id as u16, offset, more, data)),
        V::V6 => (LinkType::Ipv6, v6_fragment(id, offset, more, data)),
    }
}

/// What one decode gave, owned: `Some(payload)` for TCP, `None` for held.
fn feed(d: &mut Decoder, (link, frame): &(LinkType, Vec<u8>), ts: i64) -> Option<Vec<u8>> {
    match d.decode(*link, frame, ts) {
        Ok(Decoded::Tcp(t)) => Some(t.payload.to_vec()),
        Ok(Decoded::FragmentHeld | Decoded::FragmentDropped) => None,
        other => panic!("{other:?}"),
    }
}

/// A segment with 40 payload bytes cut in 3 pieces: [0, 24), [24, 48), [48, 60).
fn three_pieces(v: V, id: u32) -> (Vec<u8>, Vec<(LinkType, Vec<u8>)>) {
    let payload: Vec<u8> = (0..40).collect();
    let seg = tcp_segment(&payload);
    let pieces = vec![
        fragment(v, id, 0, true, &seg[..24]),
        fragment(v, id, 24, true, &seg[24..48]),
        fragment(v, id, 48, false, &seg[48..]),
    ];
    (payload, pieces)
}

#[test]
fn fragments_in_order_and_out_of_order() {
    for v in [V::V4, V::V6] {
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
            let (payload, pieces) = three_pieces(v, 7);
            let mut d = Decoder::new();
            assert_eq!(feed(&mut d, &pieces[order[0]], 0), None);
            assert_eq!(feed(&mut d, &pieces[order[1]], 1), None);
            assert_eq!(
                feed(&mut d, &pieces[order[2]], 2),
                Some(payload),
                "{v:?} {order:?}"
            );
            let s = d.stats();
            assert_eq!(
                (s.fragments_held, s.datagrams_reassembled, s.sets_pending),
                (3, 1, 0)
            );
        }
    }
}

#[test]
fn fragments_duplicated_and_overlapping_keep_the_first_bytes() {
    for v in [V::V4, V::V6] {
        let (payload, pieces) = three_pieces(v, 9);
        let seg = tcp_segment(&payload);
        let mut d = Decoder::new();
        assert_eq!(feed(&mut d, &pieces[1], 0), None);
        assert_eq!(feed(&mut d, &pieces[1], 0), None); // duplicate
                                                       // Overlaps [16, 32): its bytes in [24, 32) are already held and are not overwritten.
        let mut forged = seg[16..32].to_vec();
        forged[8..].fill(0xee);
        let overlap = fragment(v, 9, 16, true, &forged);
        assert_eq!(feed(&mut d, &overlap, 0), None);
        assert_eq!(feed(&mut d, &pieces[0], 0), None);
        assert_eq!(feed(&mut d, &pieces[2], 0), Some(payload.clone()), "{v:?}");
        let s = d.stats();
        assert_eq!(s.fragments_overlapping, 3, "{v:?}"); // the duplicate, the forged one, the first piece
        assert_eq!(s.datagrams_reassembled, 1);
    }
}

#[test]
fn missing_fragment_expires() {
    for v in [V::V4, V::V6] {
        let (_, pieces) = three_pieces(v, 11);
        let mut d = Decoder::new();
        assert_eq!(feed(&mut d, &pieces[0], 0), None);
        assert_eq!(feed(&mut d, &pieces[2], 1_000), None);
        assert_eq!(d.stats().sets_pending, 1);
        // Any later packet past the timeout expires it.
        let other = (LinkType::Ipv4, ipv4_tcp());
        assert!(feed(&mut d, &other, FRAGMENT_TIMEOUT_US).is_some());
        assert_eq!(d.stats().sets_pending, 1);
        assert!(feed(&mut d, &other, FRAGMENT_TIMEOUT_US + 1).is_some());
        let s = d.stats();
        assert_eq!(
            (s.sets_expired, s.sets_pending, s.bytes_pending),
            (1, 0, 0),
            "{v:?}"
        );
        // The late piece starts a new set, which cannot complete.
        assert_eq!(feed(&mut d, &pieces[1], FRAGMENT_TIMEOUT_US + 2), None);
        assert_eq!(d.stats().datagrams_reassembled, 0);
    }
}

#[test]
fn fragment_limits_are_counted() {
    for v in [V::V4, V::V6] {
        let mut d = Decoder::new();
        // One set more than allowed: the oldest is dropped.
        for id in 0..=MAX_FRAGMENT_SETS {
            let f = fragment(v, id as u32, 0, true, &[0; 8]);
            assert_eq!(feed(&mut d, &f, id as i64), None);
        }
        let s = d.stats();
        assert_eq!(
            (s.sets_pending, s.sets_dropped_for_limit),
            (MAX_FRAGMENT_SETS, 1)
        );
        // A fragment reaching past the largest datagram.
        let f = fragment(v, 5000, 65_528, false, &[0; 16]);
        assert_eq!(d.decode(f.0, &f.1, 0), Ok(Decoded::FragmentDropped));
        assert_eq!(d.stats().fragments_dropped_for_limit, 1, "{v:?}");
        // Too many pieces in one datagram.
        let mut d = Decoder::new();
        for i in 0..MAX_FRAGMENTS_PER_SET {
            let f = fragment(v, 1, i * 16, true, &[0; 8]);
            assert_eq!(d.decode(f.0, &f.1, 0), Ok(Decoded::FragmentHeld));
        }
        let f = fragment(v, 1, MAX_FRAGMENTS_PER_SET * 16, true, &[0; 8]);
        assert_eq!(d.decode(f.0, &f.1, 0), Ok(Decoded::FragmentDropped));
        let s = d.stats();
        assert_eq!(
            (
                s.sets_pending,
                s.sets_dropped_for_limit,
                s.fragments_dropped_for_limit
            ),
            (0, 1, 1),
            "{v:?}"
        );
    }
}

#[test]
fn fragments_of_other_protocols_are_not_held() {
    let mut gre = v4_fragment(1, 0, true, &[0; 8]);
    gre[9] = 47;
    let mut d = Decoder::new();
    assert_eq!(d.decode(LinkType::Ipv4, &gre, 0), Ok(Decoded::Other));
    let mut gre6 = v6_fragment(1, 0, true, &[0; 8]);
    gre6[40] = 47;
    assert_eq!(d.decode(LinkType::Ipv6, &gre6, 0), Ok(Decoded::Other));
    assert_eq!(d.stats(), DecoderStats::default());
}

#[test]
fn ipv6_atomic_fragment_is_not_held() {
    let seg = tcp_segment(b"abc");
    let atomic = v6_fragment(3, 0, false, &seg);
    let mut d = Decoder::new();
    assert_eq!(
        feed(&mut d, &(LinkType::Ipv6, atomic), 0),
        Some(b"abc".to_vec())
    );
    assert_eq!(d.stats().fragments_held, 0);
}

#[test]
fn ipv4_and_ipv6_sets_with_the_same_id_stay_apart() {
    let (p4, f4) = three_pieces(V::V4, 5);
    let (p6, f6) = three_pieces(V::V6, 5);
    let mut d = Decoder::new();
    for f in [&f4[0], &f6[0], &f4[1], &f6[2]] {
        assert_eq!(feed(&mut d, f, 0), None);
    }
    assert_eq!(feed(&mut d, &f6[1], 0), Some(p6));
    assert_eq!(feed(&mut d, &f4[2], 0), Some(p4));
    assert_eq!(d.stats().datagrams_reassembled, 2);
}

/// A small deterministic shuffle, so a proptest case is reproducible from its seed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (seed >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(link in 0..LinkType::ALL.len(), frame in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut d = Decoder::new();
        let _ = d.decode(LinkType::ALL[link], &frame, 0);
        check_peek(LinkType::ALL[link], &frame);
    }

    #[test]
    fn mutated_goldens_never_panic(which in 0..32usize, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let goldens = goldens();
        let (link, mut frame) = goldens[which % goldens.len()].clone();
        for (at, byte) in edits {
            let at = at % frame.len();
            frame[at] = byte;
        }
        let mut d = Decoder::new();
        let _ = d.decode(link, &frame, 0);
        check_peek(link, &frame);
    }

    /// The header fields the peek reads, set at random in a real frame: it agrees with the decoder.
    #[test]
    fn peek_agrees_with_the_decoder_on_edited_headers(
        vihl in any::<u8>(),
        total in prop_oneof![Just(0u16), 0..80u16, any::<u16>()],
        flags_offset in prop_oneof![Just(0u16), Just(0x4000u16), any::<u16>()],
        protocol in prop_oneof![Just(6u8), any::<u8>()],
        offset in any::<u8>(),
        cut in any::<usize>(),
    ) {
        let mut frame = ipv4_tcp();
        frame[0] = vihl;
        frame[2..4].copy_from_slice(&total.to_be_bytes());
        frame[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        frame[9] = protocol;
        frame[20 + 12] = offset;
        let cut = cut % (frame.len() + 1);
        check_peek(LinkType::Ipv4, &frame[..cut]);
        check_peek(LinkType::Ipv4, &frame);
    }

    /// Any cut into 8-byte-aligned pieces, delivered in any order with duplicates, reassembles to
    /// the original payload.
    #[test]
    fn random_fragmentations_reassemble(
        v6 in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..3000),
        blocks in proptest::collection::vec(1..40usize, 1..64),
        dups in proptest::collection::vec(any::<usize>(), 0..4),
        seed in any::<u64>(),
    ) {
        let v = if v6 { V::V6 } else { V::V4 };
        let seg = tcp_segment(&payload);
        let mut pieces = Vec::new();
        let mut at = 0;
        for b in blocks.iter().cycle() {
            let end = (at + b * 8).min(seg.len());
            pieces.push(fragment(v, 77, at, end < seg.len(), &seg[at..end]));
            at = end;
            if at == seg.len() {
                break;
            }
        }
        prop_assume!(pieces.len() >= 2);
        for i in &dups {
            let dup = pieces[i % pieces.len()].clone();
            pieces.push(dup);
        }
        shuffle(&mut pieces, seed);
        let mut d = Decoder::new();
        let mut delivered = Vec::new();
        for (ts, p) in pieces.iter().enumerate() {
            if let Some(got) = feed(&mut d, p, ts as i64) {
                delivered.push(got);
            }
        }
        prop_assert!(!delivered.is_empty());
        prop_assert_eq!(&delivered[0], &payload);
        prop_assert!(delivered.iter().all(|got| got == &payload));
    }
}

/// Writes `fuzz/seeds/packet/` from the golden frames: `cargo test write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/packet");
    std::fs::create_dir_all(&dir).unwrap();
    let index = |l: LinkType| LinkType::ALL.iter().position(|&x| x == l).unwrap() as u8;
    for (i, (link, frame)) in goldens().into_iter().enumerate() {
        let mut seed = vec![index(link)];
        seed.extend(frame);
        std::fs::write(dir.join(format!("golden_{i:02}_{}", link.name())), seed).unwrap();
    }
    for v in [V::V4, V::V6] {
        let (_, pieces) = three_pieces(v, 1);
        let mut seed = vec![index(pieces[0].0)];
        for (_, f) in [&pieces[2], &pieces[0], &pieces[1]] {
            seed.push(f.len() as u8);
            seed.extend(f);
        }
        std::fs::write(dir.join(format!("fragments_{v:?}").to_lowercase()), seed).unwrap();
    }
}
