//! Load: many distinct purchases at once, each optionally resent, every request signed and
//! every answer judged in full (console rules, `Body-Sign`, decryption) — so that a merchant
//! learns whether its endpoint survives a sales-festival burst without losing idempotency,
//! not merely how fast it answers.
//!
//! Workers are spread over OS threads, each with its own single-threaded runtime, as `wrk`
//! does; each worker owns its connections (from the same [`Client`] `kgsim run` uses) and
//! buyer, and takes the next order from a shared counter ([`worker`]). Signing uses the wall
//! clock (as every kgsim request does); the figures are wall-clock requests per second and
//! latencies.

mod answered;
mod worker;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

use crate::checks::CheckId;
use crate::marketplace::settings::Settings;
use crate::transport::Client;

pub use worker::{purchase, renumber};

/// Which order each instanceId answered, across workers: one entry per order, hashed with
/// foldhash (as the reference merchant's store is) rather than SipHash.
type Owners<'a> = HashMap<&'a str, &'a str, RandomState>;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Distinct orders (one newInstance each).
    pub(crate) orders: usize,
    /// Copies of each order with new businessIds: the first overlaps the original, the rest
    /// follow together once both are answered.
    pub(crate) resends: usize,
    /// Orders in flight at once.
    pub(crate) concurrency: usize,
}

/// How often a console check failed, and the first reason seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsoleFailures {
    /// How many answers broke it.
    pub(crate) count: usize,
    /// What the first one said.
    pub(crate) example: String,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadResult {
    /// Requests sent.
    pub(crate) requests: usize,
    /// Wall time of the whole load.
    pub(crate) wall: Duration,
    /// Latency of every request, sorted.
    pub(crate) latencies: Vec<Duration>,
    /// Console rules broken, by check: how many answers broke each, and an example.
    pub(crate) console_failures: BTreeMap<CheckId, ConsoleFailures>,
    /// Idempotency failures: an order answered with several instances, or orders sharing one.
    pub(crate) idempotency_failures: Vec<String>,
}

impl LoadResult {
    /// Requests per second over the whole load.
    pub(crate) fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at a percentile (0–100).
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }

    /// Whether every answer conformed.
    pub(crate) fn conformant(&self) -> bool {
        self.console_failures.is_empty() && self.idempotency_failures.is_empty()
    }

    /// Adds one worker's tally; `owner` remembers which order each instance answered, across
    /// workers.
    fn absorb<'a>(&mut self, tally: &'a worker::Tally, owner: &mut Owners<'a>) {
        self.latencies.extend_from_slice(&tally.latencies);
        for (check, failures) in &tally.console {
            let entry = self
                .console_failures
                .entry(*check)
                .or_insert_with(|| ConsoleFailures {
                    count: 0,
                    example: failures.example.clone(),
                });
            entry.count += failures.count;
        }
        for (order, named) in tally.answered.iter() {
            // Each order's ids are distinct already (`AnsweredOrders::named`).
            let count = named.len();
            if count > 1 {
                self.idempotency_failures
                    .push(format!("order {order} got {count} instances"));
            }
            for id in named {
                if let Some(other) = owner.insert(id, order) {
                    self.idempotency_failures
                        .push(format!("orders {other} and {order} share instance {id}"));
                }
            }
        }
    }
}

/// Runs one thread's share of the workers on its own single-threaded runtime.
fn run_thread(
    shared: &Arc<worker::Shared>,
    thread: usize,
    threads: usize,
) -> std::io::Result<Vec<worker::Tally>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async {
        let mut workers = tokio::task::JoinSet::new();
        for index in (thread..shared.plan.concurrency.max(1)).step_by(threads) {
            workers.spawn(worker::run(shared.clone(), index as u64));
        }
        let mut tallies = Vec::new();
        while let Some(joined) = workers.join_next().await {
            // A worker only ends by running out of orders; a panic would be a kgsim bug.
            tallies.extend(joined.ok());
        }
        tallies
    }))
}

/// Runs the load against a target on `threads` OS threads, each with its own
/// single-threaded runtime (as `wrk` does): connections never migrate between threads and
/// no wake-up crosses one.
pub(crate) async fn run(
    settings: Settings,
    client: Client,
    plan: Plan,
    seed: u64,
    threads: usize,
) -> std::io::Result<LoadResult> {
    let shared = Arc::new(worker::Shared {
        settings,
        client,
        plan,
        next: AtomicUsize::new(0),
        seed,
    });
    let threads = threads.clamp(1, plan.concurrency.max(1));
    let started = Instant::now();
    let mut pending = Vec::with_capacity(threads);
    for thread in 0..threads {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let shared = shared.clone();
        std::thread::Builder::new()
            .name(format!("kgsim-load-{thread}"))
            .spawn(move || sender.send(run_thread(&shared, thread, threads)))?;
        pending.push(receiver);
    }
    let mut tallies = Vec::with_capacity(plan.concurrency);
    for receiver in pending {
        match receiver.await {
            Ok(result) => tallies.extend(result?),
            Err(_) => return Err(std::io::Error::other("a load thread stopped early")),
        }
    }
    // The clock stops when the last answer is in; tallying is not part of the load.
    let mut outcome = LoadResult {
        wall: started.elapsed(),
        ..LoadResult::default()
    };
    let mut owner = Owners::with_capacity_and_hasher(plan.orders, RandomState::default());
    for tally in &tallies {
        outcome.absorb(tally, &mut owner);
    }
    outcome.requests = outcome.latencies.len();
    outcome.latencies.sort();
    outcome.idempotency_failures.sort();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchant::{self as reference, Fault, Faults, Merchant, MerchantConfig};
    use crate::protocol::{AccessKey, Protocol};

    const KEY: &str = "load-test-key";

    /// Serves a reference merchant with `faults` on a free port; returns its address.
    async fn merchant(protocol: Protocol, faults: &[Fault]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut config = MerchantConfig::new(protocol, AccessKey::new(KEY));
        config.faults = Faults::of(faults.iter().copied());
        tokio::spawn(reference::serve(
            listener,
            reference::router(Arc::new(Merchant::new(config))),
        ));
        format!("http://{address}/saasproduce")
    }

    fn client(url: &str) -> Client {
        let target = crate::transport::TargetUrl::parse(url).unwrap();
        Client::with_platform_trust(target, Duration::from_secs(10)).unwrap()
    }

    async fn load(protocol: Protocol, faults: &[Fault], plan: Plan) -> LoadResult {
        let url = merchant(protocol, faults).await;
        let settings = Settings::new(protocol, AccessKey::new(KEY));
        run(settings, client(&url), plan, 7, 2).await.unwrap()
    }

    #[test]
    fn a_worker_signs_each_renumbered_purchase_as_a_single_signing_would() {
        use crate::marketplace::ids::Ids;
        use crate::protocol::UnixMillis;
        use crate::protocol::v1::query_memo::QueryMemo;
        use crate::transport::wire::{self, Changes, Edit, WireForm};
        let settings = Settings::new(Protocol::V1, AccessKey::new(KEY));
        let mut ids = Ids::new(3);
        let mut request = purchase(&settings, &mut ids);
        let mut memo = QueryMemo::default();
        for round in 0..4 {
            renumber(&mut request, &mut ids);
            let now = UnixMillis(1_765_000_000_000 + round);
            let key = &settings.access_key;
            let form = WireForm::CANONICAL;
            let unchanged = Changes {
                edit: &Edit::default(),
                tamper: None,
            };
            assert_eq!(
                wire::sign_repeated(&mut memo, &request, key, now, form),
                wire::sign(&request, key, now, "", unchanged, form),
                "order {round}"
            );
        }
    }

    const PLAN: Plan = Plan {
        orders: 40,
        resends: 2,
        concurrency: 4,
    };

    #[tokio::test]
    async fn a_correct_merchant_is_conformant_under_load_in_both_protocols() {
        for protocol in [Protocol::V1, Protocol::V2] {
            let outcome = load(protocol, &[], PLAN).await;
            assert_eq!(outcome.requests, 120, "{protocol}");
            assert!(outcome.conformant(), "{protocol}: {outcome:?}");
            assert!(outcome.percentile(50.0) <= outcome.percentile(100.0));
        }
    }

    #[tokio::test]
    async fn an_order_answered_with_several_instances_is_an_idempotency_failure() {
        let outcome = load(Protocol::V1, &[Fault::NonIdempotentNew], PLAN).await;
        assert_eq!(outcome.idempotency_failures.len(), 40, "{outcome:?}");
        assert!(outcome.idempotency_failures[0].contains("got 3 instances"));
        assert!(
            outcome.console_failures.is_empty(),
            "every answer is well-formed"
        );
    }

    #[tokio::test]
    async fn orders_sharing_an_instance_are_an_idempotency_failure() {
        // Every worker is one buyer; this fault gives all of a buyer's orders one instance.
        let plan = Plan { resends: 0, ..PLAN };
        let outcome = load(Protocol::V1, &[Fault::SharedInstanceId], plan).await;
        assert!(
            outcome
                .idempotency_failures
                .iter()
                .any(|f| f.contains("share instance")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_check_then_insert_race_is_caught_by_the_overlapping_resend() {
        let plan = Plan { resends: 1, ..PLAN };
        let outcome = load(Protocol::V1, &[Fault::RaceNew], plan).await;
        assert_eq!(outcome.idempotency_failures.len(), 40, "{outcome:?}");
        assert!(outcome.idempotency_failures[0].contains("got 2 instances"));
    }

    #[tokio::test]
    async fn a_broken_answer_is_counted_under_its_console_check() {
        let outcome = load(Protocol::V1, &[Fault::BadBodySign], PLAN).await;
        let failures = &outcome.console_failures[&CheckId::ConsoleBodySign];
        assert_eq!(failures.count, 120, "{outcome:?}");
        assert!(failures.example.contains("Body-Sign"), "{failures:?}");
        assert!(!outcome.conformant());
    }
}
