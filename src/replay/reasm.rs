//! TCP reassembly for one direction of one connection: segments in (any order, any duplication),
//! in-order bytes out, with every hole that is given up on reported as a capture gap.
//!
//! Pure and bounded: no I/O, no clock (the driver passes each segment's packet number and time), at most
//! [`MAX_BUFFERED_BYTES`] (or [`Reassembler::with_limit`]) bytes and [`MAX_BUFFERED_SEGMENTS`] pieces held
//! behind a hole. When a limit is hit the oldest hole is given up on: a [`Delivery::Gap`] for it, then what
//! follows it (ARCHITECTURE.md invariant 5: never silent).
//!
//! Sequence numbers (RFC 9293 3.4) are 32-bit and wrap; internally every byte has a 64-bit stream offset
//! counted from the first byte after the SYN (or from the first data segment seen, when the capture
//! started mid-stream). A segment's place is found from its distance to the next expected sequence number,
//! so a stream longer than 4 GiB keeps working as long as no segment is more than
//! [`MAX_SEQ_DISTANCE`] away from where the stream is.

use std::collections::BTreeMap;

/// The most out-of-order bytes held per direction by default ([`Reassembler::with_limit`] overrides).
pub const MAX_BUFFERED_BYTES: usize = 256 * 1024;
/// The most held pieces (out-of-order segments, or parts of them) per direction.
pub const MAX_BUFFERED_SEGMENTS: usize = 1024;
/// How many of the most recently delivered bytes are kept to check retransmissions against.
pub const RECENT_BYTES: usize = 4096;
/// A segment whose sequence number is further than this from the next expected one, either way, is
/// dropped unbuffered (a different connection reusing the ports, or corruption).
pub const MAX_SEQ_DISTANCE: i64 = 1 << 30;

/// What the reassembler hands on, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// In-order bytes; `packet` and `ts_us` are those of the segment that carried them (the segment that
    /// completed them when delivery was held back).
    Data {
        bytes: &'a [u8],
        packet: u64,
        ts_us: i64,
    },
    /// Bytes that never arrived: the stream skips them (a capture gap).
    Gap { bytes: u64, packet: u64, ts_us: i64 },
    /// A retransmission whose bytes differ from what was already delivered/held at the same sequence
    /// numbers (evidence of tampering or a broken stack); the first copy wins. `offset` is the stream offset
    /// of the first differing byte, `len` runs to the last differing byte of that overlap.
    Conflict {
        offset: u64,
        len: usize,
        packet: u64,
    },
    /// FIN reached in sequence (all bytes before it delivered).
    Fin { packet: u64, ts_us: i64 },
}

/// Counters for one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReasmStats {
    /// Every segment given to [`Reassembler::segment`], pure ACKs included.
    pub segments: u64,
    /// Bytes handed on as [`Delivery::Data`].
    pub bytes_delivered: u64,
    /// Bytes that arrived again: before the next expected byte, or over bytes already held.
    pub retransmitted_bytes: u64,
    /// Segments that arrived ahead of a hole and were held.
    pub out_of_order_segments: u64,
    /// Holes given up on ([`Delivery::Gap`]) and the bytes they skipped.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// [`Delivery::Conflict`]s reported.
    pub conflicts: u64,
    /// Times a buffer limit forced a hole to be given up on before the end.
    pub limit_hits: u64,
    /// Segments dropped for being more than [`MAX_SEQ_DISTANCE`] away.
    pub far_away_segments: u64,
    /// One-byte keep-alive probes (sequence number one before the next expected byte), not compared.
    pub keepalives: u64,
    /// Bytes at or beyond the FIN's sequence number, dropped.
    pub after_fin_bytes: u64,
    /// The most bytes held behind a hole at any time.
    pub peak_buffered_bytes: u64,
}

/// Reassembles one direction of one TCP connection.
#[derive(Debug, Clone)]
pub struct Reassembler {
    max_bytes: usize,
    /// The sequence number of stream offset 0, once the stream has started.
    base: Option<u32>,
    /// Stream offset of the next byte to hand on: everything before it was delivered or skipped as a gap.
    next: u64,
    /// Held bytes by stream offset: non-overlapping, all at or after `next`.
    held: BTreeMap<u64, Vec<u8>>,
    held_bytes: usize,
    /// Stream offset of the FIN, once seen; `fin_done` once delivered.
    fin_at: Option<u64>,
    fin_done: bool,
    /// Ring of the last delivered bytes, indexed by stream offset modulo its length (allocated once, on the
    /// first delivery); the last `recent_len` bytes before `next` are valid.
    recent: Vec<u8>,
    recent_len: usize,
    stats: ReasmStats,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new()
    }
}

impl Reassembler {
    pub fn new() -> Self {
        Self::with_limit(MAX_BUFFERED_BYTES)
    }

    /// A reassembler holding at most `max_bytes` out-of-order bytes.
    pub fn with_limit(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            base: None,
            next: 0,
            held: BTreeMap::new(),
            held_bytes: 0,
            fin_at: None,
            fin_done: false,
            recent: Vec::new(),
            recent_len: 0,
            stats: ReasmStats::default(),
        }
    }

    /// One segment of this direction. `syn`/`fin` flags as seen; SYN consumes one sequence number, FIN too.
    /// Calls `out` for everything that becomes deliverable, in order.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        packet: u64,
        ts_us: i64,
        out: &mut dyn FnMut(Delivery<'_>),
    ) {
        self.stats.segments += 1;
        if payload.is_empty() && !syn && !fin {
            return; // a pure ACK: nothing to place
        }
        // The first SYN fixes the stream's start; without one the first segment does (mid-stream pickup).
        let base = *self
            .base
            .get_or_insert(if syn { seq.wrapping_add(1) } else { seq });
        // Distance from the next expected sequence number, in (-2^31, 2^31): wrap-around is free here.
        let rel = i64::from(seq.wrapping_sub(base).wrapping_sub(low32(self.next)) as i32);
        if rel.abs() > MAX_SEQ_DISTANCE {
            self.stats.far_away_segments += 1;
            return;
        }
        let next = i64::try_from(self.next).unwrap_or(i64::MAX);
        let mut start = next + rel + i64::from(syn);
        let mut end = start + i64::try_from(payload.len()).unwrap_or(i64::MAX);
        let mut data = payload;

        if !syn && !fin && payload.len() == 1 && start == next - 1 {
            self.stats.keepalives += 1;
            return;
        }
        if fin {
            self.note_fin(end);
        }
        // Nothing is taken at or beyond the FIN.
        if let Some(fin_at) = self.fin_at.and_then(|f| i64::try_from(f).ok()) {
            if end > fin_at {
                let cut = (end - fin_at).min(end - start);
                self.stats.after_fin_bytes += cut.unsigned_abs();
                end -= cut;
                data = data.get(..idx(end - start)).unwrap_or_default();
            }
        }
        // Old bytes: checked against what was delivered, then dropped.
        if start < next && start < end {
            let old_end = end.min(next);
            let old = data.get(..idx(old_end - start)).unwrap_or_default();
            self.stats.retransmitted_bytes += (old_end - start).unsigned_abs();
            self.check_old(start, old, packet, out);
            data = data.get(idx(old_end - start)..).unwrap_or_default();
            start = old_end;
        }
        if start < end {
            let (start, end) = (start.unsigned_abs(), end.unsigned_abs());
            let clear_ahead = self.held.keys().next().is_none_or(|&k| k >= end);
            if start == self.next && clear_ahead {
                // The fast path: exactly the next bytes, nothing held in their way.
                self.deliver(data, packet, ts_us, out);
            } else {
                if start > self.next {
                    self.stats.out_of_order_segments += 1;
                }
                self.hold(start, data, packet, out);
            }
        }
        self.drain(packet, ts_us, out);
        self.enforce_limits(packet, ts_us, out);
        self.fin_if_due(packet, ts_us, out);
    }

    /// `len` bytes from sequence number `seq` were on the wire but not in the capture (cut by its
    /// snapshot length): when they are the next bytes of the stream they are skipped at once with a
    /// Gap; out of order, the hole they leave is given up on as any other.
    pub fn lost(
        &mut self,
        seq: u32,
        len: u32,
        packet: u64,
        ts_us: i64,
        out: &mut dyn FnMut(Delivery<'_>),
    ) {
        let Some(base) = self.base else {
            return;
        };
        let rel = i64::from(seq.wrapping_sub(base).wrapping_sub(low32(self.next)) as i32);
        if len == 0 || rel > 0 || rel.abs() > MAX_SEQ_DISTANCE {
            return;
        }
        let end = i64::try_from(self.next).unwrap_or(i64::MAX) + rel + i64::from(len);
        if let Ok(end) = u64::try_from(end) {
            let end = self.fin_at.map_or(end, |f| end.min(f));
            self.gap_to(end, packet, ts_us, out);
            self.drain(packet, ts_us, out);
            self.fin_if_due(packet, ts_us, out);
        }
    }

    /// End of the capture or of the connection (RST, eviction): what is held behind a hole is delivered
    /// after a Gap for the hole; a FIN seen beyond a hole is delivered after a Gap up to it.
    pub fn flush(&mut self, packet: u64, ts_us: i64, out: &mut dyn FnMut(Delivery<'_>)) {
        while let Some(&first) = self.held.keys().next() {
            self.gap_to(first, packet, ts_us, out);
            self.drain(packet, ts_us, out);
        }
        if let Some(fin_at) = self.fin_at {
            if !self.fin_done {
                self.gap_to(fin_at, packet, ts_us, out);
            }
        }
        self.fin_if_due(packet, ts_us, out);
    }

    pub fn stats(&self) -> ReasmStats {
        self.stats
    }

    /// Stream offset of the next byte to hand on: bytes delivered plus bytes skipped as gaps.
    pub fn offset(&self) -> u64 {
        self.next
    }

    /// Bytes held behind a hole right now.
    pub fn buffered_bytes(&self) -> usize {
        self.held_bytes
    }

    /// The sequence number of the stream's first byte, once a segment has started it.
    pub fn start_seq(&self) -> Option<u32> {
        self.base
    }

    /// Hands on `bytes`, which sit exactly at `next`.
    fn deliver(
        &mut self,
        bytes: &[u8],
        packet: u64,
        ts_us: i64,
        out: &mut dyn FnMut(Delivery<'_>),
    ) {
        if bytes.is_empty() {
            return;
        }
        self.remember(bytes);
        let len = bytes.len() as u64;
        self.next += len;
        self.stats.bytes_delivered += len;
        out(Delivery::Data {
            bytes,
            packet,
            ts_us,
        });
    }

    /// Delivers held pieces for as long as they continue the stream.
    fn drain(&mut self, packet: u64, ts_us: i64, out: &mut dyn FnMut(Delivery<'_>)) {
        while let Some(entry) = self.held.first_entry() {
            let at = *entry.key();
            if at > self.next {
                break;
            }
            let bytes = entry.remove();
            self.held_bytes -= bytes.len();
            // Pieces never start before `next`; were one to, its old part is skipped, not re-delivered.
            let skip = idx(i64::try_from(self.next - at).unwrap_or(i64::MAX));
            self.deliver(bytes.get(skip..).unwrap_or_default(), packet, ts_us, out);
        }
    }

    /// Gives up on the oldest holes while more is held than allowed.
    fn enforce_limits(&mut self, packet: u64, ts_us: i64, out: &mut dyn FnMut(Delivery<'_>)) {
        self.stats.peak_buffered_bytes = self.stats.peak_buffered_bytes.max(self.held_bytes as u64);
        while self.held_bytes > self.max_bytes || self.held.len() > MAX_BUFFERED_SEGMENTS {
            let Some(&first) = self.held.keys().next() else {
                break;
            };
            self.stats.limit_hits += 1;
            self.gap_to(first, packet, ts_us, out);
            self.drain(packet, ts_us, out);
        }
    }

    /// Skips the stream forward to `to` with a Gap (nothing when `to` is not ahead).
    fn gap_to(&mut self, to: u64, packet: u64, ts_us: i64, out: &mut dyn FnMut(Delivery<'_>)) {
        if to <= self.next {
            return;
        }
        let bytes = to - self.next;
        self.next = to;
        self.recent_len = 0; // what is remembered no longer ends at `next`
        self.stats.gaps += 1;
        self.stats.gap_bytes += bytes;
        out(Delivery::Gap {
            bytes,
            packet,
            ts_us,
        });
    }

    fn fin_if_due(&mut self, packet: u64, ts_us: i64, out: &mut dyn FnMut(Delivery<'_>)) {
        if !self.fin_done && self.fin_at == Some(self.next) {
            self.fin_done = true;
            out(Delivery::Fin { packet, ts_us });
        }
    }

    /// Records the FIN's place (the first one wins; one before `next` is ignored) and drops held bytes at
    /// or beyond it.
    fn note_fin(&mut self, end: i64) {
        if self.fin_at.is_some() || end < 0 || end.unsigned_abs() < self.next {
            return;
        }
        let fin_at = end.unsigned_abs();
        self.fin_at = Some(fin_at);
        let beyond = self.held.split_off(&fin_at);
        let mut dropped: usize = beyond.values().map(Vec::len).sum();
        if let Some(mut last) = self.held.last_entry() {
            let keep = idx(i64::try_from(fin_at - *last.key()).unwrap_or(i64::MAX));
            let piece = last.get_mut();
            if piece.len() > keep {
                dropped += piece.len() - keep;
                piece.truncate(keep);
            }
        }
        self.held_bytes -= dropped;
        self.stats.after_fin_bytes += dropped as u64;
    }

    /// Holds `data` (at stream offset `start`, at or after `next`) where nothing is held yet; where
    /// something is, the first copy wins and differences are reported.
    fn hold(&mut self, start: u64, data: &[u8], packet: u64, out: &mut dyn FnMut(Delivery<'_>)) {
        let end = start + data.len() as u64;
        let mut fresh: Vec<(u64, u64)> = Vec::new();
        let mut conflicts: Vec<(u64, usize)> = Vec::new();
        let mut duplicated = 0u64;
        let mut cursor = start;
        let straddling = self.held.range(..start).next_back();
        for (&at, piece) in straddling.into_iter().chain(self.held.range(start..end)) {
            let piece_end = at + piece.len() as u64;
            if piece_end <= cursor {
                continue;
            }
            if at > cursor {
                fresh.push((cursor, at));
            }
            let (a, b) = (at.max(cursor), piece_end.min(end));
            duplicated += b - a;
            let held_part = piece.get(span(a - at, b - at)).unwrap_or_default();
            let new_part = data.get(span(a - start, b - start)).unwrap_or_default();
            if let Some((first, len)) = first_difference(held_part, new_part) {
                conflicts.push((a + first as u64, len));
            }
            cursor = piece_end;
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            fresh.push((cursor, end));
        }
        self.stats.retransmitted_bytes += duplicated;
        for (a, b) in fresh {
            let piece = data.get(span(a - start, b - start)).unwrap_or_default();
            self.held_bytes += piece.len();
            self.held.insert(a, piece.to_vec());
        }
        for (offset, len) in conflicts {
            self.stats.conflicts += 1;
            out(Delivery::Conflict {
                offset,
                len,
                packet,
            });
        }
    }

    /// Compares old bytes (at stream offset `start`, ending at or before `next`) with the recently
    /// delivered ones they overlap.
    fn check_old(
        &mut self,
        start: i64,
        old: &[u8],
        packet: u64,
        out: &mut dyn FnMut(Delivery<'_>),
    ) {
        let next = i64::try_from(self.next).unwrap_or(i64::MAX);
        let remembered_from = next - i64::try_from(self.recent_len).unwrap_or(0);
        let from = start.max(remembered_from);
        let old = old.get(idx(from - start)..).unwrap_or_default();
        let ring = self.recent.len() as u64;
        if ring == 0 || old.is_empty() {
            return;
        }
        let from = from.unsigned_abs();
        let mut differing: Option<(u64, u64)> = None;
        for (i, &byte) in old.iter().enumerate() {
            let at = from + i as u64;
            let pos = usize::try_from(at % ring).unwrap_or(0);
            if self.recent.get(pos) != Some(&byte) {
                differing = Some(differing.map_or((at, at), |(a, _)| (a, at)));
            }
        }
        if let Some((first, last)) = differing {
            self.stats.conflicts += 1;
            out(Delivery::Conflict {
                offset: first,
                len: usize::try_from(last - first + 1).unwrap_or(usize::MAX),
                packet,
            });
        }
    }

    /// Keeps the tail of `bytes` (about to be delivered at `next`) in the ring.
    fn remember(&mut self, bytes: &[u8]) {
        // The ring grows with what it must hold, up to RECENT_BYTES: most connections never send
        // that much before they end, and thousands of them may be open at once.
        let want = (self.recent_len + bytes.len()).min(RECENT_BYTES);
        if self.recent.len() < want {
            self.grow_recent(want.next_power_of_two().clamp(64, RECENT_BYTES));
        }
        let size = self.recent.len();
        if size == 0 {
            return;
        }
        let take = bytes.len().min(size);
        let skipped = bytes.len() - take;
        let tail = bytes.get(skipped..).unwrap_or_default();
        let pos = usize::try_from((self.next + skipped as u64) % size as u64).unwrap_or(0);
        let first = take.min(size - pos);
        if let (Some(dst), Some(src)) = (self.recent.get_mut(pos..pos + first), tail.get(..first)) {
            dst.copy_from_slice(src);
        }
        if let (Some(dst), Some(src)) = (self.recent.get_mut(..take - first), tail.get(first..)) {
            dst.copy_from_slice(src);
        }
        self.recent_len = (self.recent_len + bytes.len()).min(size);
    }

    /// Moves the remembered bytes (the `recent_len` before `next`) into a ring of `size` bytes.
    fn grow_recent(&mut self, size: usize) {
        let old = self.recent.len();
        let len = self.recent_len.min(old);
        // The remembered bytes in order: they end at `next`, wrapping around the old ring.
        let mut bytes = Vec::with_capacity(len);
        if old > 0 {
            let from = self.next.saturating_sub(len as u64);
            let start = usize::try_from(from % old as u64).unwrap_or(0);
            let first = len.min(old - start);
            bytes.extend_from_slice(self.recent.get(start..start + first).unwrap_or_default());
            bytes.extend_from_slice(self.recent.get(..len - first).unwrap_or_default());
        }
        let mut ring = vec![0; size];
        let from = self.next.saturating_sub(bytes.len() as u64);
        let start = usize::try_from(from % size as u64).unwrap_or(0);
        let first = bytes.len().min(size - start);
        if let (Some(dst), Some(src)) = (ring.get_mut(start..start + first), bytes.get(..first)) {
            dst.copy_from_slice(src);
        }
        let rest = bytes.len() - first;
        if let (Some(dst), Some(src)) = (ring.get_mut(..rest), bytes.get(first..)) {
            dst.copy_from_slice(src);
        }
        self.recent = ring;
        self.recent_len = bytes.len();
    }
}

/// The low 32 bits of a stream offset: what it adds to the base sequence number.
fn low32(x: u64) -> u32 {
    u32::try_from(x & u64::from(u32::MAX)).unwrap_or(0)
}

/// A non-negative in-slice distance as an index (callers only pass distances inside a slice).
fn idx(x: i64) -> usize {
    usize::try_from(x).unwrap_or(0)
}

/// `a..b` (offsets inside one piece) as a slice range.
fn span(a: u64, b: u64) -> std::ops::Range<usize> {
    usize::try_from(a).unwrap_or(usize::MAX)..usize::try_from(b).unwrap_or(usize::MAX)
}

/// Where two equally long byte runs differ: index of the first differing byte and length up to the last.
fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, usize)> {
    let first = a.iter().zip(b).position(|(x, y)| x != y)?;
    let last = a.iter().zip(b).rposition(|(x, y)| x != y)?;
    Some((first, last - first + 1))
}
