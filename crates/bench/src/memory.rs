//! Peak memory of this process during an operation.

use std::time::Duration;

/// Samples the process's resident memory every 5 ms until dropped; the peak is the most seen.
pub struct PeakRss {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Resident memory when sampling started, in KiB.
    before: u64,
}

impl PeakRss {
    pub fn start() -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_kib()));
        let (s, p) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let before = peak.load(Ordering::Relaxed);
        Self { stop, peak, before }
    }

    /// The peak so far and how much above the start it is, in MiB.
    pub fn mib(&self) -> (f64, f64) {
        let peak = self.peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed).max(rss_kib());
        (peak as f64 / 1024.0, peak.saturating_sub(self.before) as f64 / 1024.0)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
