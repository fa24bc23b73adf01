//! Load: many distinct purchases at once, each optionally resent, every request signed and
//! every answer judged in full (console rules, `Body-Sign`, decryption) — so that a merchant
//! learns whether its endpoint survives a sales-festival burst without losing idempotency,
//! not merely how fast it answers.
//!
//! Workers are spread over OS threads, each with its own single-threaded runtime, as `wrk`
//! does; each worker owns its connections and buyer, and takes the next order from a shared
//! counter. Signing uses the wall clock (as every kgsim request does); the figures are
//! wall-clock requests per second and latencies.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::marketplace::classify::classify;
use crate::marketplace::ids::Ids;
use crate::marketplace::lifecycle::{Instance, InstanceState};
use crate::marketplace::requests::{self, Buyer};
use crate::marketplace::settings::Settings;
use crate::protocol::Request;
use crate::scenario::http::{Sent, Target, TargetError};
use crate::scenario::http1::{Connection, Endpoint};
use crate::scenario::model::Edit;
use crate::scenario::wire::{self, Wire, wall_clock};

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Distinct orders (one newInstance each).
    pub orders: usize,
    /// Copies of each order with new businessIds: the first overlaps the original, the rest
    /// follow together once both are answered.
    pub resends: usize,
    /// Orders in flight at once.
    pub concurrency: usize,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Requests sent.
    pub requests: usize,
    /// Wall time of the whole load.
    pub wall: Duration,
    /// Latency of every request, sorted.
    pub latencies: Vec<Duration>,
    /// Console rules broken, by check id, with counts.
    pub console_failures: BTreeMap<&'static str, usize>,
    /// Idempotency failures: an order answered with several instances, or orders sharing one.
    pub idempotency_failures: Vec<String>,
}

impl Outcome {
    /// Requests per second over the whole load.
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at a percentile (0–100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }

    /// Whether every answer conformed.
    pub fn conformant(&self) -> bool {
        self.console_failures.is_empty() && self.idempotency_failures.is_empty()
    }
}

/// How load reaches the merchant: the lean HTTP/1.1 connection for plain `http://`
/// addresses, the full client (TLS) for the rest.
#[derive(Debug, Clone)]
pub enum Client {
    /// One [`Connection`] per request in flight.
    Lean {
        /// Where to connect.
        endpoint: Endpoint,
        /// Per-exchange timeout.
        timeout: Duration,
        /// Body cap.
        body_cap: usize,
    },
    /// The reqwest-based client the scenario runner uses.
    Full(Target),
}

impl Client {
    /// The client for a production address.
    pub fn for_url(url: &str, timeout: Duration, body_cap: usize) -> Result<Self, TargetError> {
        Ok(match Endpoint::parse(url) {
            Some(endpoint) => Self::Lean {
                endpoint,
                timeout,
                body_cap,
            },
            None => Self::Full(Target::new(url, timeout, body_cap)?),
        })
    }

    /// A short description for the report.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Lean { .. } => "keep-alive HTTP/1.1 connections",
            Self::Full(_) => "pooled client with TLS",
        }
    }

    fn channel(&self) -> Channel {
        match self {
            Self::Lean {
                endpoint,
                timeout,
                body_cap,
            } => Channel::Lean(Box::new(Connection::new(
                endpoint.clone(),
                *timeout,
                *body_cap,
            ))),
            // Each worker runs on its thread's runtime, so it gets a pool of its own: a pooled
            // connection opened on another thread's runtime dies with that runtime.
            Self::Full(target) => {
                Channel::Full(target.with_own_pool().unwrap_or_else(|_| target.clone()))
            }
        }
    }
}

/// One request's way to the merchant.
enum Channel {
    Lean(Box<Connection>),
    Full(Target),
}

impl Channel {
    async fn send(&mut self, wire: &Wire) -> Sent {
        match self {
            Self::Lean(connection) => connection.send(wire).await,
            Self::Full(target) => target.send(wire).await,
        }
    }
}

/// One worker's tally.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    console: BTreeMap<&'static str, usize>,
    instances_by_order: Vec<(String, Vec<String>)>,
}

impl Tally {
    fn record(&mut self, (latency, rule, instance): Judged, answered: &mut Vec<String>) {
        self.latencies.push(latency);
        if let Some(rule) = rule {
            *self.console.entry(rule).or_default() += 1;
        }
        answered.extend(instance);
    }
}

struct Shared {
    settings: Settings,
    client: Client,
    plan: Plan,
    next: AtomicUsize,
    seed: u64,
}

/// The latency, the first console rule broken and the instanceId answered.
type Judged = (Duration, Option<&'static str>, Option<String>);

/// Signs one request at the wall clock, sends it and judges the answer.
async fn send(settings: &Settings, channel: &mut Channel, request: &Request) -> Judged {
    let wire = wire::sign_now(request, &settings.access_key, &Edit::default(), None);
    let sent = channel.send(&wire).await;
    let judgement = classify(&sent.transport, &settings.context(request.activity()));
    let instance = judgement
        .answer
        .as_ref()
        .and_then(|a| a.instance_id())
        .map(str::to_owned);
    let rule = judgement
        .findings
        .first()
        .map(|f| crate::conformance::console_check(f.rule()));
    (sent.elapsed, rule, instance)
}

/// A newInstance by a fresh buyer: what a load worker renumbers for each of its orders (its
/// contacts encrypted once), and the request `--print-request` and the benchmarks show.
pub fn purchase(settings: &Settings, ids: &mut Ids) -> Request {
    let buyer = Buyer {
        customer_id: ids.customer_id(),
        customer_name: "kgsim-load".into(),
        mobile_phone: "13800000000".into(),
        email: "load@buyer.example.com".into(),
    };
    let order = ids.order_id();
    let instance = Instance {
        order_line: format!("{order}-000001"),
        order,
        product_id: settings.catalog.product_id.clone(),
        sku_code: settings.catalog.sku_code.clone(),
        billing: settings.billing,
        trial: false,
        merchant_id: None,
        state: InstanceState::Pending,
        expire_at: settings
            .billing
            .has_expiry()
            .then(|| wall_clock().plus_months(1)),
        renewals: Vec::new(),
        upgrades: Vec::new(),
    };
    requests::new_instance(settings, ids, &buyer, &instance)
}

/// One order's copies: the original and the first resend go out together (a retry
/// overlapping a slow original, what breaks check-then-insert merchants); the remaining
/// resends follow together once both are answered (a retry storm after the fact).
async fn worker(shared: Arc<Shared>, index: u64) -> Tally {
    let mut tally = Tally::default();
    let mut ids = Ids::new(shared.seed ^ (index.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let mut request = purchase(&shared.settings, &mut ids);
    let settings = &shared.settings;
    let mut channel = shared.client.channel();
    let mut racing = (shared.plan.resends > 0).then(|| shared.client.channel());
    let mut later: Vec<Channel> = (1..shared.plan.resends)
        .map(|_| shared.client.channel())
        .collect();
    while shared.next.fetch_add(1, Ordering::Relaxed) < shared.plan.orders {
        // Every order, the first included, is the buyer's purchase under fresh ids.
        let order = ids.order_id().0;
        requests::renumber(&mut request, &order, &format!("{order}-000001"), &mut ids);
        let mut answered = Vec::new();
        match &mut racing {
            None => tally.record(send(settings, &mut channel, &request).await, &mut answered),
            Some(racing) => {
                let resend = requests::with_new_business_id(&request, &mut ids);
                let (original, copy) = tokio::join!(
                    send(settings, &mut channel, &request),
                    send(settings, racing, &resend)
                );
                tally.record(original, &mut answered);
                tally.record(copy, &mut answered);
            }
        }
        let mut resends = tokio::task::JoinSet::new();
        while let Some(mut channel) = later.pop() {
            let (shared, request) = (
                shared.clone(),
                requests::with_new_business_id(&request, &mut ids),
            );
            resends.spawn(async move {
                let judged = send(&shared.settings, &mut channel, &request).await;
                (channel, judged)
            });
        }
        while let Some(joined) = resends.join_next().await {
            if let Ok((channel, judged)) = joined {
                later.push(channel);
                tally.record(judged, &mut answered);
            }
        }
        tally.instances_by_order.push((order, answered));
    }
    tally
}

/// Runs one thread's share of the workers on its own single-threaded runtime.
fn run_thread(shared: &Arc<Shared>, thread: usize, threads: usize) -> std::io::Result<Vec<Tally>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async {
        let mut workers = tokio::task::JoinSet::new();
        for index in (thread..shared.plan.concurrency.max(1)).step_by(threads) {
            workers.spawn(worker(shared.clone(), index as u64));
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
pub async fn run(
    settings: Settings,
    client: Client,
    plan: Plan,
    seed: u64,
    threads: usize,
) -> std::io::Result<Outcome> {
    let shared = Arc::new(Shared {
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
    let mut outcome = Outcome {
        wall: started.elapsed(),
        ..Outcome::default()
    };
    let mut owner: HashMap<String, String> = HashMap::with_capacity(plan.orders);
    for tally in tallies {
        outcome.latencies.extend(tally.latencies);
        for (rule, count) in tally.console {
            *outcome.console_failures.entry(rule).or_default() += count;
        }
        for (order, mut ids) in tally.instances_by_order {
            ids.sort();
            ids.dedup();
            if ids.len() > 1 {
                outcome
                    .idempotency_failures
                    .push(format!("order {order} got {} instances", ids.len()));
            }
            for id in ids {
                if let Some(other) = owner.insert(id.clone(), order.clone()) {
                    outcome
                        .idempotency_failures
                        .push(format!("orders {other} and {order} share instance {id}"));
                }
            }
        }
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

    async fn load(protocol: Protocol, faults: &[Fault], plan: Plan) -> Outcome {
        let url = merchant(protocol, faults).await;
        let client = Client::for_url(&url, Duration::from_secs(10), 1 << 20).unwrap();
        assert!(
            matches!(client, Client::Lean { .. }),
            "plain http goes through the lean client"
        );
        let settings = Settings::new(protocol, AccessKey::new(KEY));
        run(settings, client, plan, 7, 2).await.unwrap()
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
    async fn the_full_client_reaches_the_same_verdicts() {
        let url = merchant(Protocol::V1, &[Fault::NonIdempotentNew]).await;
        let client = Client::Full(Target::new(&url, Duration::from_secs(10), 1 << 20).unwrap());
        let settings = Settings::new(Protocol::V1, AccessKey::new(KEY));
        let outcome = run(settings, client, PLAN, 7, 2).await.unwrap();
        assert_eq!(outcome.requests, 120);
        assert_eq!(outcome.idempotency_failures.len(), 40, "{outcome:?}");
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
        assert_eq!(
            outcome.console_failures.get("console.body-sign"),
            Some(&120),
            "{outcome:?}"
        );
        assert!(!outcome.conformant());
    }
}
