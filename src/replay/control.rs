//! What the command line controls while a replay runs: a flag that stops it (Ctrl-C), checked between
//! packets and batches, and a hook told when a live capture has started (`watch`'s first line).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A live capture that has just started: the interface and its link type as libpcap names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveStart<'a> {
    pub interface: &'a str,
    /// `EN10MB`, `LINUX_SLL2`, ...
    pub link_name: &'a str,
    /// `Ethernet`, ...
    pub link_description: &'a str,
}

type StartHook = Arc<dyn Fn(&LiveStart<'_>) + Send + Sync>;

/// Shared between the driver and whoever may stop it; clones share the flag.
#[derive(Clone, Default)]
pub struct Control {
    stop: Arc<AtomicBool>,
    on_live_start: Option<StartHook>,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `hook` once a live capture is open, before its first packet.
    pub fn on_live_start(mut self, hook: impl Fn(&LiveStart<'_>) + Send + Sync + 'static) -> Self {
        self.on_live_start = Some(Arc::new(hook));
        self
    }

    /// Asks the replay to stop: what was read is still finished and reported.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(super) fn live_started(&self, start: &LiveStart<'_>) {
        if let Some(hook) = &self.on_live_start {
            hook(start);
        }
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control")
            .field("stopped", &self.stopped())
            .field("on_live_start", &self.on_live_start.is_some())
            .finish()
    }
}

/// Two controls are equal when they share one flag.
impl PartialEq for Control {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.stop, &other.stop)
    }
}

impl Eq for Control {}
