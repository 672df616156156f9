//! The log's Prometheus metrics, served at `GET /metrics` in the text
//! exposition format (OpenMetrics via `prometheus-client`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label of admitted entries: the entry kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// `release`, `certificate` or `revocation`.
    pub kind: String,
}

/// Label of the storage's memory: which part.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartLabel {
    /// `table_readers`, `memtables`, `block_cache`, ...
    pub part: String,
}

/// Label of rejected submissions: the machine code of the error.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The `error.code` the client was sent.
    pub reason: String,
}

/// Label of witness answers: the witness's key name and how it went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WitnessLabel {
    /// The witness's key name.
    pub witness: String,
    /// `cosigned` or `failed` (an error, a refusal, a bad cosignature or
    /// no answer in time).
    pub outcome: String,
}

/// Every metric the log exports. Cheap to clone (handles share state).
#[derive(Clone)]
pub struct Metrics {
    /// Entries in the published tree.
    pub tree_size: Gauge,
    /// Entries in the integrated (durable) tree; `tree_size` follows it once
    /// the witnesses answered.
    pub integrated_size: Gauge,
    /// Witness exchanges, by witness and outcome.
    pub witness_answers: Family<WitnessLabel, Counter>,
    /// Entries sequenced, by kind.
    pub admitted: Family<KindLabel, Counter>,
    /// Submissions refused, by error code.
    pub rejected: Family<ReasonLabel, Counter>,
    /// Submissions answered with an existing entry.
    pub duplicates: Counter,
    /// Bytes of memory the storage holds, by part (read when scraped).
    pub storage_memory: Family<PartLabel, Gauge>,
    /// New entries per committed sequencing round.
    pub batch_size: Histogram,
    /// Seconds from the start of a round to its durable commit.
    pub batch_seconds: Histogram,
    /// Seconds from a submission's arrival to its answer with a proof
    /// against a published checkpoint.
    pub submit_seconds: Histogram,
    /// Sequencing rounds whose storage write failed.
    pub storage_failures: Counter,
    registry: std::sync::Arc<Registry>,
}

impl Metrics {
    /// Creates and registers every metric under the `sigil_log_` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sigil_log");
        let tree_size = Gauge::default();
        let integrated_size = Gauge::default();
        let witness_answers = Family::<WitnessLabel, Counter>::default();
        let admitted = Family::<KindLabel, Counter>::default();
        let rejected = Family::<ReasonLabel, Counter>::default();
        let duplicates = Counter::default();
        let storage_memory = Family::<PartLabel, Gauge>::default();
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let batch_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let submit_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let storage_failures = Counter::default();
        registry.register(
            "tree_size",
            "Entries in the published tree",
            tree_size.clone(),
        );
        registry.register(
            "integrated_size",
            "Entries in the durable tree, published or not yet",
            integrated_size.clone(),
        );
        registry.register(
            "witness_answers",
            "Cosignature requests to witnesses, by witness and outcome",
            witness_answers.clone(),
        );
        registry.register(
            "entries_admitted",
            "Entries sequenced into the log, by kind",
            admitted.clone(),
        );
        registry.register(
            "entries_rejected",
            "Submissions refused, by error code",
            rejected.clone(),
        );
        registry.register(
            "duplicates",
            "Submissions answered with an entry already in the log",
            duplicates.clone(),
        );
        registry.register(
            "storage_memory_bytes",
            "Memory the storage holds, by part (RocksDB: table readers, memtables, block cache)",
            storage_memory.clone(),
        );
        registry.register(
            "batch_size",
            "New entries per committed sequencing round",
            batch_size.clone(),
        );
        registry.register(
            "batch_seconds",
            "Seconds from the start of a sequencing round to its durable commit",
            batch_seconds.clone(),
        );
        registry.register(
            "submit_seconds",
            "Seconds from a submission's arrival to its answer",
            submit_seconds.clone(),
        );
        registry.register(
            "storage_failures",
            "Sequencing rounds whose storage write failed",
            storage_failures.clone(),
        );
        Metrics {
            tree_size,
            integrated_size,
            witness_answers,
            admitted,
            rejected,
            duplicates,
            storage_memory,
            batch_size,
            batch_seconds,
            submit_seconds,
            storage_failures,
            registry: std::sync::Arc::new(registry),
        }
    }

    /// Counts a refused submission under its error code.
    pub fn reject(&self, code: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: code.to_string(),
            })
            .inc();
    }

    /// Records what the storage says it holds in memory, by part.
    pub fn storage_memory(&self, parts: &[(&str, u64)]) {
        for (part, bytes) in parts {
            self.storage_memory
                .get_or_create(&PartLabel {
                    part: (*part).to_owned(),
                })
                .set(i64::try_from(*bytes).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; an error here would be a bug in
        // the encoder, and an empty page is the safe answer.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
