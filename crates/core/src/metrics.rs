//! The server's metrics in Prometheus's text format (`GET /metrics`): one [`Registry`] per server
//! (tests run many servers in one process) and the handles each layer records its events with.
//! The layers call the methods here, so only this crate names the `prometheus` crate.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Buckets of request and run durations, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Buckets of job durations and outbox lags, in seconds.
const SLOW_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// The metric handles of one server.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    runs: IntCounterVec,
    run_duration: HistogramVec,
    property_reads: IntCounterVec,
    queued: IntGaugeVec,
    jobs_queued: IntGaugeVec,
    jobs: IntCounterVec,
    job_duration: HistogramVec,
    telegram_sends: IntCounterVec,
    telegram_rate_limited: IntCounter,
    telegram_lag: Histogram,
    db_connections: IntGaugeVec,
}

/// A pool's connections at one moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
            let metric = HistogramVec::new(opts, labels).expect("a valid histogram");
            registry.register(Box::new(metric.clone())).expect("a metric registered once");
            metric
        };
        Self {
            http_requests: counter(
                "botyard_http_requests_total",
                "HTTP requests answered, by dialect, route template and status.",
                &["dialect", "route", "status"],
            ),
            http_duration: histogram(
                "botyard_http_request_duration_seconds",
                "Time to answer an HTTP request, by dialect and route template.",
                &["dialect", "route"],
                LATENCY_BUCKETS,
            ),
            runs: counter(
                "botyard_runs_total",
                "Runs of bot code, by bot kind and outcome.",
                &["kind", "outcome"],
            ),
            run_duration: histogram(
                "botyard_run_duration_seconds",
                "Time of a run in the sandbox (with any wait for an executor), the dialog engine or the remote bot.",
                &["kind"],
                LATENCY_BUCKETS,
            ),
            property_reads: counter(
                "botyard_property_reads_total",
                "Properties BJS runs read from the database: read ahead, with other runs', because the code names them (before_run), or when the script asks (during_run, its executor waiting).",
                &["when"],
            ),
            queued: gauge(
                "botyard_runtime_queued",
                "Incoming messages and runs waiting in this node's per-chat queues.",
                &["node"],
            ),
            jobs_queued: gauge(
                "botyard_jobs_queued",
                "Jobs enqueued and not yet claimed, by kind.",
                &["kind"],
            ),
            jobs: counter(
                "botyard_jobs_total",
                "Job attempts this node ended, by kind and outcome.",
                &["kind", "outcome"],
            ),
            job_duration: histogram(
                "botyard_job_duration_seconds",
                "Time a job attempt took on this node, by kind.",
                &["kind"],
                SLOW_BUCKETS,
            ),
            telegram_sends: counter(
                "botyard_telegram_sends_total",
                "Telegram Bot API calls of the outbox, by outcome (ok, rate_limited, refused, error).",
                &["outcome"],
            ),
            telegram_rate_limited: {
                let metric = IntCounter::new(
                    "botyard_telegram_429_total",
                    "429 answers (Too Many Requests) from Telegram to the outbox.",
                )
                .expect("a valid counter");
                registry.register(Box::new(metric.clone())).expect("a metric registered once");
                metric
            },
            telegram_lag: {
                let opts = HistogramOpts::new(
                    "botyard_telegram_outbox_lag_seconds",
                    "Time from an outbox row's enqueueing to its successful send.",
                )
                .buckets(SLOW_BUCKETS.to_vec());
                let metric = Histogram::with_opts(opts).expect("a valid histogram");
                registry.register(Box::new(metric.clone())).expect("a metric registered once");
                metric
            },
            db_connections: gauge(
                "botyard_db_connections",
                "Database connections per pool (read, write; one pool on PostgreSQL) and state (in_use, idle, max).",
                &["pool", "state"],
            ),
            registry,
        }
    }

    /// An HTTP request answered.
    pub fn http_request(&self, dialect: &str, route: &str, status: u16, took: Duration) {
        self.http_requests.with_label_values(&[dialect, route, status.to_string().as_str()]).inc();
        self.http_duration.with_label_values(&[dialect, route]).observe(took.as_secs_f64());
    }

    /// A run ended; `took` is `None` for runs that did not execute (skipped).
    pub fn run(&self, kind: &str, outcome: &str, took: Option<Duration>) {
        self.runs.with_label_values(&[kind, outcome]).inc();
        if let Some(took) = took {
            self.run_duration.with_label_values(&[kind]).observe(took.as_secs_f64());
        }
    }

    /// `count` properties read for runs, `when` being `before_run` or `during_run`.
    pub fn property_reads(&self, when: &str, count: usize) {
        self.property_reads.with_label_values(&[when]).inc_by(count as u64);
    }

    /// What waits in a node's per-chat queues.
    pub fn set_queued(&self, node: &str, waiting: usize) {
        self.queued.with_label_values(&[node]).set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// The jobs waiting, by kind (every kind given; kinds absent from `counts` are set to 0).
    pub fn set_jobs_queued<'a>(&self, kinds: impl IntoIterator<Item = &'a str>, counts: &[(String, u64)]) {
        for kind in kinds {
            let n = counts.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
            self.jobs_queued.with_label_values(&[kind]).set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// A job attempt ended.
    pub fn job(&self, kind: &str, outcome: &str, took: Duration) {
        self.jobs.with_label_values(&[kind, outcome]).inc();
        self.job_duration.with_label_values(&[kind]).observe(took.as_secs_f64());
    }

    /// A Bot API call of the outbox ended; `lag` is the time since the row was enqueued, for
    /// successful sends.
    pub fn telegram_send(&self, outcome: &str, lag: Option<Duration>) {
        self.telegram_sends.with_label_values(&[outcome]).inc();
        if outcome == "rate_limited" {
            self.telegram_rate_limited.inc();
        }
        if let Some(lag) = lag {
            self.telegram_lag.observe(lag.as_secs_f64());
        }
    }

    /// A database pool's connections now.
    pub fn set_pool(&self, pool: &str, usage: PoolUse) {
        let set = |state: &str, n: u64| {
            self.db_connections.with_label_values(&[pool, state]).set(i64::try_from(n).unwrap_or(i64::MAX));
        };
        set("in_use", usage.in_use);
        set("idle", usage.idle);
        set("max", usage.max);
    }

    /// Every metric in Prometheus's text format.
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "could not encode the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
