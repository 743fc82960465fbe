//! How flows end: finished (reported, a marker left), swept when idle, evicted when the table is full,
//! failed connection attempts (reported, held for a capture without RDP, or counted with a scan), and
//! the end of the capture.

use super::{
    first_time, is_rdp_port, start_session, sweep_due, FinishedFlow, Flow, FlowKey, FlowTable,
    RdpFlow, Undecided, MAX_UNKNOWN_PORT_FAILURES,
};
use super::rdp::deliver_to;
use crate::session::{Direction, Session, Timestamp, TransportFact};

impl FlowTable {
    /// Reports a flow and leaves a marker so its later packets are dropped.
    pub(super) fn finish(&mut self, key: FlowKey, capture_end: bool, out: &mut dyn FnMut(FinishedFlow)) {
        let now = self.now;
        // At the capture's end, and for idle or evicted flows, the marker is removed right after.
        let Some(flow) = self.flows.remove(&key) else {
            return;
        };
        if let Flow::Undecided(u) = &flow {
            if u.pending {
                self.scan.settled(u.client.ip());
            }
        }
        if capture_end {
            self.flows.insert(key, Flow::Ignored(now));
        } else {
            self.mark_ignored(key, now);
        }
        match flow {
            Flow::Rdp(mut f, _) => {
                self.rdp_active = self.rdp_active.saturating_sub(1);
                if capture_end && !f.session.is_established() {
                    let stats = &mut self.stats;
                    let mut ignored = false;
                    let RdpFlow {
                        session,
                        to_server,
                        to_client,
                        ..
                    } = &mut *f;
                    to_server.flush(0, now, &mut |d| {
                        deliver_to(session, stats, Direction::ClientToServer, &mut ignored, d)
                    });
                    to_client.flush(0, now, &mut |d| {
                        deliver_to(session, stats, Direction::ServerToClient, &mut ignored, d)
                    });
                    session.on_transport(Timestamp(now), None, TransportFact::CaptureEnd);
                }
                let mut finished = FinishedFlow::new(f.client, f.server, f.session.finish());
                finished.tunnel = f.tunnel.take();
                out(finished);
            }
            Flow::Undecided(u) if u.syn_ack.is_none() && u.first_syn.is_some() => {
                let Undecided {
                    client,
                    server,
                    first_syn: Some(fs),
                    syns,
                    ..
                } = *u
                else {
                    return;
                };
                // Only SYNs: filtered when the capture went on long enough after the first, else unknown.
                let mut session = Session::new();
                start_session(&mut session, Some(fs));
                let waited = now.saturating_sub(fs.0);
                if waited >= self.opts.syn_timeout_us {
                    session.on_transport(
                        Timestamp(now),
                        None,
                        TransportFact::NoAnswer {
                            syns: syns.max(1),
                            waited_us: waited,
                        },
                    );
                } else if is_rdp_port(&self.opts.ports, server.port()) {
                    session.on_transport(Timestamp(now), None, TransportFact::CaptureEnd);
                } else {
                    // Not RDP's port and not long enough unanswered to call filtered: nothing to say.
                    return;
                }
                self.failed_attempt(FinishedFlow::new(client, server, session.finish()), false, out);
            }
            _ => {}
        }
    }

    /// A TCP connection attempt that failed (refused, unanswered, unreachable) before any payload: on a
    /// port known as RDP it is reported; on any other port it is held (a bounded number) and reported at
    /// the end only if the capture held no recognised RDP.
    /// A scanner's is counted with its scan instead.
    pub(super) fn failed_attempt(
        &mut self,
        mut flow: FinishedFlow,
        refused: bool,
        out: &mut dyn FnMut(FinishedFlow),
    ) {
        if self.scan.failed(flow.client.ip(), refused, self.now) {
            return;
        }
        if is_rdp_port(&self.opts.ports, flow.server.port()) {
            self.stats.rdp_flows += 1;
            out(flow);
            return;
        }
        self.stats.unknown_port_failures += 1;
        if self.unknown_port_failures.len() < MAX_UNKNOWN_PORT_FAILURES {
            flow.unknown_port = true;
            self.unknown_port_failures.push(flow);
        }
    }

    /// Finishes flows idle for too long.
    pub(super) fn sweep(&mut self, now: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.last_sweep = now;
        let idle = self.opts.idle_timeout_us;
        // In the order they started, as at the end: the table's own order is its hasher's, random per run.
        let mut stale: Vec<(i64, FlowKey)> = self
            .flows
            .iter()
            .filter(|(_, f)| now.saturating_sub(f.last_seen()) > idle)
            .map(|(k, f)| (first_time(f), *k))
            .collect();
        stale.sort_unstable();
        for (_, key) in stale {
            self.finish(key, true, out);
            self.flows.remove(&key);
        }
    }

    /// The table is full: drop ignored markers first, then the oldest flows (reported, with a note).
    pub(super) fn make_room(&mut self, out: &mut dyn FnMut(FinishedFlow)) {
        // Markers of ignored and finished flows first, the older half of them: the recent ones still
        // see packets (an established connection's data, its FIN), which would otherwise be picked
        // up again as new flows.
        let mut marks: Vec<i64> = self
            .flows
            .values()
            .filter_map(|f| match f {
                Flow::Ignored(last) => Some(*last),
                _ => None,
            })
            .collect();
        if marks.len() >= self.opts.max_flows / 4 {
            let middle = marks.len() / 2;
            let (_, &mut cut, _) = marks.select_nth_unstable(middle);
            self.flows
                .retain(|_, f| !matches!(f, Flow::Ignored(last) if *last <= cut));
        } else {
            self.flows.retain(|_, f| !matches!(f, Flow::Ignored(_)));
        }
        if self.flows.len() >= self.opts.max_flows {
            let mut by_age: Vec<(i64, FlowKey)> = self
                .flows
                .iter()
                .map(|(k, f)| (f.last_seen(), *k))
                .collect();
            by_age.sort_unstable();
            let drop = by_age.len() / 4 + 1;
            for (_, key) in by_age.into_iter().take(drop) {
                self.finish(key, true, out);
                self.flows.remove(&key);
                self.stats.evicted_for_limit += 1;
            }
            self.note(format!(
                "more than {} flows at once: the oldest were finished early (--max-flows)",
                self.opts.max_flows
            ));
        }
    }

    /// Time passes without packets for the table (a quiet live capture, or segments the reader thread
    /// dropped): flows idle for too long are finished.
    pub fn tick(&mut self, now: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.now = now.max(self.now);
        if sweep_due(self.last_sweep, now) {
            self.sweep(now, out);
        }
    }

    /// End of the capture: every open flow is finished.
    pub fn end(&mut self, ts: i64, out: &mut dyn FnMut(FinishedFlow)) {
        self.now = ts.max(self.now);
        let mut keys_sorted: Vec<(i64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (first_time(f), *k))
            .collect();
        keys_sorted.sort_unstable();
        for (_, key) in keys_sorted {
            self.finish(key, true, out);
        }
        self.flows.clear();
        // No RDP recognised: the failed attempts on other ports are what the capture can tell.
        let held = std::mem::take(&mut self.unknown_port_failures);
        if self.stats.rdp_flows == 0 {
            let listed = held.len();
            for flow in held {
                out(flow);
            }
            let more = self.stats.unknown_port_failures.saturating_sub(listed as u64);
            if more > 0 {
                self.note(format!(
                    "{more} more failed TCP connection attempts to ports not known as RDP were not listed (the first {MAX_UNKNOWN_PORT_FAILURES} were)"
                ));
            }
        }
    }
}
