//! `--rate N`: new connections per second across all targets, as a token bucket every connection
//! takes a token from before it starts (`conn::connect`). One bucket per process, installed by the
//! runner for the length of a run; without one, connections start at once.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

/// Tokens a bucket holds at most: a short burst (a twentieth of a second's worth, at least one) is
/// allowed, the rest is spread evenly.
fn burst(rate: f64) -> f64 {
    (rate / 20.0).max(1.0)
}

/// A token bucket, kept as the time its next token is free (GCRA): no task, no timer of its own.
#[derive(Debug)]
pub struct Bucket {
    interval: Duration,
    /// The burst, as time: how far ahead of `now` the next free token may lie before a caller waits.
    tolerance: Duration,
    next: Mutex<Option<Instant>>,
}

impl Bucket {
    /// A bucket giving `rate` tokens per second (`rate` > 0).
    pub fn new(rate: f64) -> Self {
        let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(1));
        let tolerance = interval.mul_f64(burst(rate) - 1.0);
        Self {
            interval,
            tolerance,
            next: Mutex::new(None),
        }
    }

    /// When the caller may start: reserves a token and returns its time (now, or later).
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The next token's theoretical time; a caller may start up to `tolerance` before it.
        let tat = next.map_or(now, |t| t.max(now));
        let at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        *next = Some(tat + self.interval);
        at
    }

    /// Waits for a token.
    pub async fn take(&self) {
        let at = self.reserve(Instant::now());
        tokio::time::sleep_until(at).await;
    }
}

static GATE: RwLock<Option<Arc<Bucket>>> = RwLock::new(None);

/// Installs a bucket of `rate` connections per second until the returned guard is dropped.
pub fn install(rate: f64) -> Installed {
    let bucket = Arc::new(Bucket::new(rate));
    if let Ok(mut g) = GATE.write() {
        *g = Some(bucket);
    }
    Installed(())
}

/// Removes the bucket when dropped.
#[derive(Debug)]
pub struct Installed(());

impl Drop for Installed {
    fn drop(&mut self) {
        if let Ok(mut g) = GATE.write() {
            *g = None;
        }
    }
}

/// Waits for a token when a rate is set (every connection calls this before it starts).
pub async fn admit() {
    let bucket = GATE.read().ok().and_then(|g| g.clone());
    if let Some(b) = bucket {
        b.take().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_after_a_short_burst() {
        let b = Bucket::new(100.0);
        let t0 = Instant::now();
        let starts: Vec<Duration> = (0..30).map(|_| b.reserve(t0) - t0).collect();
        // 100/s: a burst of 5, then one every 10 ms.
        assert!(starts[..5].iter().all(Duration::is_zero), "{starts:?}");
        assert_eq!(starts[5], Duration::from_millis(10));
        assert_eq!(starts[29], Duration::from_millis(250));
        // Idle time refills the bucket, up to the burst only.
        let later = t0 + Duration::from_secs(10);
        let again: Vec<Duration> = (0..6).map(|_| b.reserve(later) - later).collect();
        assert!(again[..5].iter().all(Duration::is_zero), "{again:?}");
        assert_eq!(again[5], Duration::from_millis(10));
    }

    #[test]
    fn slow_rates_wait_whole_intervals() {
        let b = Bucket::new(2.0);
        let t0 = Instant::now();
        let starts: Vec<Duration> = (0..3).map(|_| b.reserve(t0) - t0).collect();
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_millis(500),
                Duration::from_millis(1000)
            ]
        );
    }
}
