//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, the IPv6 extension header chain, and fragment
//! reassembly for both, with bounded memory.
//!
//! Reassembly keeps the first copy of every byte: a fragment that overlaps bytes already held only adds
//! the bytes that were missing, and is counted in [`FragmentStats::fragments_overlapping`]. (RFC 5722
//! asks an IPv6 host to drop such a datagram; an observer that wants to see what the receiver most
//! likely saw does better keeping it, and counting.) Checksums are not verified: captures taken on the
//! sending host carry unfinished checksums when the NIC offloads them.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::packet::PacketError;

/// The most payload bytes one fragmented datagram may reassemble to: the largest IPv4 or (non-jumbo)
/// IPv6 payload. A fragment reaching past it drops its whole set.
pub const MAX_FRAGMENT_BYTES: usize = 65_535;
/// The most datagrams reassembled at once. When a new one starts with all slots taken, the oldest set
/// is dropped. Together with [`MAX_FRAGMENT_BYTES`] this bounds reassembly memory at about 8 MiB.
pub const MAX_FRAGMENT_SETS: usize = 128;
/// The most fragments one datagram may be cut into (a 64 KiB datagram over a 576-byte path takes 117).
pub const MAX_FRAGMENTS_PER_SET: usize = 512;
/// How long an incomplete datagram is kept after its first fragment, in capture time (Linux's
/// `ipfrag_time` default, 30 s).
pub const FRAGMENT_TIMEOUT_US: i64 = 30_000_000;
/// The most IPv6 extension headers walked before the upper-layer header.
pub const MAX_IPV6_EXTENSION_HEADERS: usize = 8;

/// IP protocol numbers this module acts on (IANA "Assigned Internet Protocol Numbers").
pub mod proto {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT_HEADER: u8 = 59;
    pub const DESTINATION_OPTIONS: u8 = 60;
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let b = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn addr4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let b: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

fn addr6(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let b: [u8; 16] = b.get(at..at.checked_add(16)?)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

/// An IPv4 packet (RFC 791 §3.1), trimmed to its total length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub identification: u16,
    /// More Fragments flag.
    pub more_fragments: bool,
    /// Fragment offset, in bytes.
    pub fragment_offset: usize,
    /// Header length in bytes (IHL × 4), options included.
    pub header_len: usize,
    /// What follows the header, up to the total length (link padding cut off).
    pub payload: &'a [u8],
}

impl Ipv4Packet<'_> {
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }
}

/// Parses an IPv4 header and trims the packet to its total length. A total length of 0 (what a capture
/// taken before TCP segmentation offload shows) is read as "the rest of the frame".
pub fn parse_ipv4(packet: &[u8]) -> Result<Ipv4Packet<'_>, PacketError> {
    let layer = "ipv4";
    let short = PacketError::TooShort {
        layer,
        unit: "packet",
        len: packet.len(),
    };
    let (Some(&vihl), Some(total), Some(flags_offset), Some(&protocol), Some(identification)) = (
        packet.first(),
        be16(packet, 2),
        be16(packet, 6),
        packet.get(9),
        be16(packet, 4),
    ) else {
        return Err(short);
    };
    let (Some(src), Some(dst)) = (addr4(packet, 12), addr4(packet, 16)) else {
        return Err(short);
    };
    if vihl >> 4 != 4 {
        return Err(PacketError::BadVersion {
            layer,
            version: vihl >> 4,
        });
    }
    let words = vihl & 0x0f;
    if words < 5 {
        return Err(PacketError::HeaderLength { layer, words });
    }
    let header_len = usize::from(words) * 4;
    if header_len > packet.len() {
        return Err(PacketError::HeaderOverrun {
            layer,
            header: header_len,
            len: packet.len(),
        });
    }
    let total = match usize::from(total) {
        0 => packet.len(),
        t if t < header_len => {
            return Err(PacketError::Ipv4TotalLengthShort {
                total: t,
                header: header_len,
            })
        }
        t => t,
    };
    let Some(payload) = packet.get(header_len..total) else {
        return Err(PacketError::Ipv4Truncated {
            total,
            captured: packet.len(),
        });
    };
    Ok(Ipv4Packet {
        src,
        dst,
        protocol,
        identification,
        more_fragments: flags_offset & 0x2000 != 0,
        fragment_offset: usize::from(flags_offset & 0x1fff) * 8,
        header_len,
        payload,
    })
}

/// The fixed IPv6 header (RFC 8200 §3) and what follows it, trimmed to the payload length. A payload
/// length of 0 (a jumbogram, or a capture taken before segmentation offload) is read as "the rest of
/// the frame".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<'a> {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub payload: &'a [u8],
}

pub const IPV6_HEADER_LEN: usize = 40;

/// Parses the fixed IPv6 header. `quoted`: the packet is quoted inside an ICMPv6 error and may be cut
/// short, so its payload length is not checked against the bytes present.
pub fn parse_ipv6(packet: &[u8], quoted: bool) -> Result<Ipv6Packet<'_>, PacketError> {
    let layer = "ipv6";
    let (Some(&v), Some(payload_len), Some(&next_header), Some(src), Some(dst), Some(rest)) = (
        packet.first(),
        be16(packet, 4),
        packet.get(6),
        addr6(packet, 8),
        addr6(packet, 24),
        packet.get(IPV6_HEADER_LEN..),
    ) else {
        return Err(PacketError::TooShort {
            layer,
            unit: "packet",
            len: packet.len(),
        });
    };
    if v >> 4 != 6 {
        return Err(PacketError::BadVersion {
            layer,
            version: v >> 4,
        });
    }
    let payload = match usize::from(payload_len) {
        0 => rest,
        _ if quoted => rest.get(..usize::from(payload_len)).unwrap_or(rest),
        n => rest.get(..n).ok_or(PacketError::Ipv6Truncated {
            payload: n,
            captured: rest.len(),
        })?,
    };
    Ok(Ipv6Packet {
        src,
        dst,
        next_header,
        payload,
    })
}

/// Where the IPv6 extension header chain leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Chain<'a> {
    /// An upper-layer header (TCP, ICMPv6, UDP, …) and the bytes from it on.
    Upper { protocol: u8, payload: &'a [u8] },
    /// A fragment header (RFC 8200 §4.5) of a real fragment; `data` is its part of the fragmentable part.
    Fragment {
        /// The first header of the fragmentable part.
        next_header: u8,
        /// In bytes.
        offset: usize,
        more: bool,
        identification: u32,
        data: &'a [u8],
    },
    /// ESP (encrypted from here on) or No Next Header: nothing to read.
    Stop,
}

/// Walks extension headers from `next` over `rest`, at most [`MAX_IPV6_EXTENSION_HEADERS`] of them. An
/// atomic fragment (offset 0, no more fragments; RFC 6946) is stepped over like any extension header.
pub fn walk_ipv6(mut next: u8, mut rest: &[u8]) -> Result<Ipv6Chain<'_>, PacketError> {
    let overrun = PacketError::Ipv6ExtensionOverrun;
    for _ in 0..=MAX_IPV6_EXTENSION_HEADERS {
        let len = match next {
            proto::HOP_BY_HOP | proto::ROUTING | proto::DESTINATION_OPTIONS => {
                (usize::from(*rest.get(1).ok_or(overrun.clone())?) + 1) * 8
            }
            // RFC 4302 §2.2: the AH length counts 32-bit words, minus 2.
            proto::AH => (usize::from(*rest.get(1).ok_or(overrun.clone())?) + 2) * 4,
            proto::FRAGMENT => {
                let (Some(&after), Some(offset_more), Some(identification), Some(data)) =
                    (rest.first(), be16(rest, 2), be32(rest, 4), rest.get(8..))
                else {
                    return Err(overrun);
                };
                let offset = usize::from(offset_more >> 3) * 8;
                let more = offset_more & 1 != 0;
                if offset != 0 || more {
                    return Ok(Ipv6Chain::Fragment {
                        next_header: after,
                        offset,
                        more,
                        identification,
                        data,
                    });
                }
                8
            }
            proto::ESP | proto::NO_NEXT_HEADER => return Ok(Ipv6Chain::Stop),
            protocol => {
                return Ok(Ipv6Chain::Upper {
                    protocol,
                    payload: rest,
                })
            }
        };
        let (Some(&after), Some(tail)) = (rest.first(), rest.get(len..)) else {
            return Err(overrun);
        };
        next = after;
        rest = tail;
    }
    Err(PacketError::Ipv6TooManyExtensionHeaders(
        MAX_IPV6_EXTENSION_HEADERS,
    ))
}

/// Which datagram a fragment belongs to: RFC 791 (src, dst, id, protocol); RFC 8200 (src, dst, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragmentKey {
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        identification: u16,
        protocol: u8,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        identification: u32,
    },
}

/// One fragment offered to the [`Reassembler`].
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Where `data` starts in the reassembled payload, in bytes.
    pub offset: usize,
    pub more: bool,
    /// The protocol of the reassembled payload as this fragment names it (IPv4 protocol; IPv6 fragment
    /// header's next header). The first fragment's value is the one used.
    pub first_header: u8,
    pub data: &'a [u8],
}

/// What became of an offered fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Held; the datagram is not complete yet.
    Held,
    /// Not held: a limit was hit (counted in the stats).
    Dropped,
    /// The datagram is complete: [`Reassembler::delivered`] holds its payload, whose first header is this.
    Complete { first_header: u8 },
}

/// What reassembly did so far, so that a hit limit shows in the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentStats {
    /// Fragments taken into a reassembly set.
    pub fragments_held: u64,
    /// Datagrams put back together and delivered.
    pub datagrams_reassembled: u64,
    /// Sets dropped because they stayed incomplete for [`FRAGMENT_TIMEOUT_US`].
    pub sets_expired: u64,
    /// Sets dropped because a limit was hit ([`MAX_FRAGMENT_SETS`], [`MAX_FRAGMENT_BYTES`],
    /// [`MAX_FRAGMENTS_PER_SET`]).
    pub sets_dropped_for_limit: u64,
    /// Fragments not held because a limit was hit.
    pub fragments_dropped_for_limit: u64,
    /// Fragments that overlapped bytes already held, or disagreed with the known end of their datagram
    /// (the bytes held first win).
    pub fragments_overlapping: u64,
    /// Sets incomplete right now (at the end of a capture: datagrams that never completed).
    pub sets_pending: usize,
    /// Bytes held in those sets.
    pub bytes_pending: usize,
}

#[derive(Debug)]
struct FragmentSet {
    key: FragmentKey,
    first_seen_us: i64,
    /// Bytes at their offset; only the `ranges` are meaningful.
    data: Vec<u8>,
    /// Sorted, disjoint, non-adjacent `[start, end)` ranges held.
    ranges: Vec<(usize, usize)>,
    /// The datagram's length, once its last fragment was seen.
    end: Option<usize>,
    first_header: Option<u8>,
    pieces: usize,
}

/// IPv4 and IPv6 fragment reassembly, bounded by the `MAX_FRAGMENT_*` limits and expired after
/// [`FRAGMENT_TIMEOUT_US`].
#[derive(Debug)]
pub struct Reassembler {
    sets: Vec<FragmentSet>,
    /// The capture time at which the oldest set expires.
    next_expiry_us: i64,
    delivered: Vec<u8>,
    stats: FragmentStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler {
            sets: Vec::new(),
            next_expiry_us: i64::MAX,
            delivered: Vec::new(),
            stats: FragmentStats::default(),
        }
    }
}

impl Reassembler {
    /// The payload of the datagram completed by the last [`Offer::Complete`].
    pub fn delivered(&self) -> &[u8] {
        &self.delivered
    }

    pub fn stats(&self) -> FragmentStats {
        FragmentStats {
            sets_pending: self.sets.len(),
            bytes_pending: self.sets.iter().map(|s| s.data.len()).sum(),
            ..self.stats
        }
    }

    /// Drops the sets older than [`FRAGMENT_TIMEOUT_US`] at capture time `now_us`. Costs one comparison
    /// when nothing is due.
    pub fn expire(&mut self, now_us: i64) {
        if self.sets.is_empty() || now_us < self.next_expiry_us {
            return;
        }
        let before = self.sets.len();
        self.sets
            .retain(|s| now_us.saturating_sub(s.first_seen_us) <= FRAGMENT_TIMEOUT_US);
        self.stats.sets_expired += (before - self.sets.len()) as u64;
        self.reschedule();
    }

    fn reschedule(&mut self) {
        self.next_expiry_us = self
            .sets
            .iter()
            .map(|s| s.first_seen_us.saturating_add(FRAGMENT_TIMEOUT_US + 1))
            .min()
            .unwrap_or(i64::MAX);
    }

    fn drop_set(&mut self, index: usize) {
        if index < self.sets.len() {
            self.sets.swap_remove(index);
            self.stats.sets_dropped_for_limit += 1;
            self.reschedule();
        }
    }

    /// Takes one fragment of the datagram `key`, seen at capture time `now_us`.
    pub fn offer(&mut self, key: FragmentKey, fragment: Fragment<'_>, now_us: i64) -> Offer {
        self.expire(now_us);
        let found = self.sets.iter().position(|s| s.key == key);
        let start = fragment.offset;
        let Some(end) = start
            .checked_add(fragment.data.len())
            .filter(|&end| end <= MAX_FRAGMENT_BYTES)
        else {
            if let Some(index) = found {
                self.drop_set(index);
            }
            self.stats.fragments_dropped_for_limit += 1;
            return Offer::Dropped;
        };
        let index = match found {
            Some(index) => index,
            None => {
                if self.sets.len() >= MAX_FRAGMENT_SETS {
                    let oldest = self
                        .sets
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| s.first_seen_us)
                        .map(|(i, _)| i);
                    if let Some(oldest) = oldest {
                        self.drop_set(oldest);
                    }
                }
                self.sets.push(FragmentSet {
                    key,
                    first_seen_us: now_us,
                    data: Vec::new(),
                    ranges: Vec::new(),
                    end: None,
                    first_header: None,
                    pieces: 0,
                });
                self.next_expiry_us = self
                    .next_expiry_us
                    .min(now_us.saturating_add(FRAGMENT_TIMEOUT_US + 1));
                self.sets.len() - 1
            }
        };
        let Some(set) = self.sets.get_mut(index) else {
            return Offer::Dropped;
        };
        set.pieces += 1;
        if set.pieces > MAX_FRAGMENTS_PER_SET {
            self.drop_set(index);
            self.stats.fragments_dropped_for_limit += 1;
            return Offer::Dropped;
        }
        self.stats.fragments_held += 1;
        let mut overlapping = false;
        if !fragment.more {
            match set.end {
                None => {
                    set.end = Some(end);
                    // Bytes already held past the end came from fragments that disagree with this one.
                    if set.ranges.last().is_some_and(|&(_, e)| e > end) {
                        overlapping = true;
                        set.ranges.retain(|&(s, _)| s < end);
                        if let Some(last) = set.ranges.last_mut() {
                            last.1 = last.1.min(end);
                        }
                    }
                    set.data.truncate(end);
                }
                Some(known) => overlapping |= known != end,
            }
        }
        let end = match set.end {
            Some(known) if known < end => {
                overlapping = true;
                known
            }
            _ => end,
        };
        if start < end {
            if set.data.len() < end {
                set.data.resize(end, 0);
            }
            // Copy only the bytes no earlier fragment brought: the first copy wins.
            let mut pos = start;
            for &(a, b) in &set.ranges {
                if b <= pos {
                    continue;
                }
                if a >= end {
                    break;
                }
                if a > pos {
                    copy(&mut set.data, fragment.data, start, pos, a);
                }
                overlapping = true;
                pos = b;
                if pos >= end {
                    break;
                }
            }
            if pos < end {
                copy(&mut set.data, fragment.data, start, pos, end);
            }
            set.ranges.push((start, end));
            set.ranges.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(set.ranges.len());
            for &(a, b) in &set.ranges {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            set.ranges = merged;
        }
        if start == 0 && set.first_header.is_none() {
            set.first_header = Some(fragment.first_header);
        }
        if overlapping {
            self.stats.fragments_overlapping += 1;
        }
        let complete = match (set.end, set.ranges.as_slice(), set.first_header) {
            (Some(end), [(0, e)], Some(first_header)) if *e == end => Some(first_header),
            _ => None,
        };
        match complete {
            Some(first_header) => {
                let set = self.sets.swap_remove(index);
                self.delivered = set.data;
                self.stats.datagrams_reassembled += 1;
                self.reschedule();
                Offer::Complete { first_header }
            }
            None => Offer::Held,
        }
    }
}

/// Copies `data[from - start .. to - start]` (the fragment starts at `start`) to `buf[from..to]`.
fn copy(buf: &mut [u8], data: &[u8], start: usize, from: usize, to: usize) {
    let src = from
        .checked_sub(start)
        .zip(to.checked_sub(start))
        .and_then(|(a, b)| data.get(a..b));
    if let (Some(dst), Some(src)) = (buf.get_mut(from..to), src) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const KEY: FragmentKey = FragmentKey::V4 {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
        identification: 1,
        protocol: proto::TCP,
    };

    fn piece(offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            offset,
            more,
            first_header: proto::TCP,
            data,
        }
    }

    #[test]
    fn a_last_fragment_shorter_than_the_bytes_held_cuts_them() {
        let mut r = Reassembler::default();
        assert_eq!(r.offer(KEY, piece(8, true, &[2; 16]), 0), Offer::Held);
        // The last fragment says the datagram ends at 16: bytes [16, 24) are dropped.
        assert_eq!(r.offer(KEY, piece(8, false, &[3; 8]), 0), Offer::Held);
        assert_eq!(
            r.offer(KEY, piece(0, true, &[1; 8]), 0),
            Offer::Complete {
                first_header: proto::TCP
            }
        );
        assert_eq!(
            r.delivered(),
            &[1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
        );
        assert_eq!(r.stats().fragments_overlapping, 1);
    }

    #[test]
    fn a_second_last_fragment_does_not_move_the_end() {
        let mut r = Reassembler::default();
        assert_eq!(r.offer(KEY, piece(8, false, &[2; 8]), 0), Offer::Held);
        assert_eq!(r.offer(KEY, piece(8, false, &[3; 16]), 0), Offer::Held);
        assert!(matches!(
            r.offer(KEY, piece(0, true, &[1; 8]), 0),
            Offer::Complete { .. }
        ));
        assert_eq!(r.delivered().len(), 16);
        assert_eq!(r.delivered()[8..], [2; 8]);
    }

    #[test]
    fn empty_fragments_do_not_complete_anything() {
        let mut r = Reassembler::default();
        assert_eq!(r.offer(KEY, piece(0, true, &[]), 0), Offer::Held);
        assert_eq!(r.offer(KEY, piece(0, false, &[]), 0), Offer::Held);
        assert_eq!(r.stats().datagrams_reassembled, 0);
        r.expire(FRAGMENT_TIMEOUT_US + 1);
        assert_eq!(r.stats().sets_expired, 1);
    }

    #[test]
    fn timestamps_going_backwards_do_not_expire() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.offer(KEY, piece(0, true, &[1; 8]), 1_000_000),
            Offer::Held
        );
        r.expire(i64::MIN);
        r.expire(0);
        assert_eq!(r.stats().sets_pending, 1);
        r.expire(i64::MAX);
        assert_eq!(r.stats().sets_pending, 0);
    }
}
