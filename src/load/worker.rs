//! One load worker: the buyer's purchase renumbered for each order, sent with its resends,
//! every answer judged by the console rules.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::checks::CheckId;
use crate::conformance::console_check;
use crate::load::answered::AnsweredOrders;
use crate::load::{ConsoleFailures, Plan};
use crate::marketplace::classify::classify;
use crate::marketplace::ids::Ids;
use crate::marketplace::lifecycle::{Instance, OrderLine};
use crate::marketplace::requests::{self, Buyer};
use crate::marketplace::settings::Settings;
use crate::protocol::Request;
use crate::protocol::v1::query_memo::QueryMemo;
use crate::transport::http1::Connection;
use crate::transport::wire::{self, Wire, WireForm, wall_clock};
use crate::transport::{Client, Sent, join_all};

/// What every worker shares.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) client: Client,
    pub(crate) plan: Plan,
    pub(crate) next: AtomicUsize,
    pub(crate) seed: u64,
}

/// One worker's tally.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) console: BTreeMap<CheckId, ConsoleFailures>,
    pub(crate) answered: AnsweredOrders,
}

impl Tally {
    /// Judges an answer as the console does: its latency, every console check it broke (once
    /// each, with the first message), and the instanceId it named.
    fn judge(&mut self, settings: &Settings, request: &Request, sent: &Sent) {
        self.latencies.push(sent.elapsed);
        let judgement = classify(&sent.transport, &settings.context(request.activity()));
        if let Some(instance) = judgement.answer.as_ref().and_then(|a| a.instance_id()) {
            self.answered.named(instance);
        }
        let mut broken: Vec<CheckId> = Vec::new();
        for finding in &judgement.findings {
            let Some(check) = console_check(finding.rule()) else {
                continue;
            };
            if broken.contains(&check) {
                continue;
            }
            broken.push(check);
            self.console
                .entry(check)
                .or_insert_with(|| ConsoleFailures {
                    count: 0,
                    example: finding.message(),
                })
                .count += 1;
        }
    }
}

/// Signs a worker's requests as production sends them, each body's key order another; what
/// did not change since the worker's last request is not encoded again ([`QueryMemo`]).
struct Signer<'a> {
    settings: &'a Settings,
    sequence: AtomicUsize,
    /// Locked only while one request is signed (never across an await): uncontended.
    memo: Mutex<QueryMemo>,
}

impl Signer<'_> {
    fn sign(&self, request: &Request) -> Wire {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let form = WireForm::of(self.settings, sequence, 1);
        let key = &self.settings.access_key;
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        wire::sign_repeated(&mut memo, request, key, wall_clock(), form)
    }
}

async fn send(signer: &Signer<'_>, connection: &mut Connection, request: &Request) -> Sent {
    connection.send(&signer.sign(request)).await
}

/// Reads the answer to a released request, or reports why it never left.
async fn finished(
    connection: &mut Connection,
    released: Result<(), crate::marketplace::Transport>,
    started: std::time::Instant,
) -> Sent {
    match released {
        Ok(()) => connection.finish(started).await,
        Err(transport) => Sent {
            transport,
            elapsed: started.elapsed(),
        },
    }
}

/// Sends two requests so that they arrive together: both written up to their last byte, then
/// both released — a retry overlapping a slow original, what breaks check-then-insert.
async fn send_pair(
    signer: &Signer<'_>,
    (a, b): (&mut Connection, &mut Connection),
    requests: (&Request, &Request),
) -> (Sent, Sent) {
    let (wire_a, wire_b) = (signer.sign(requests.0), signer.sign(requests.1));
    let started = std::time::Instant::now();
    let (staged_a, staged_b) = tokio::join!(a.stage(&wire_a), b.stage(&wire_b));
    let released_a = match staged_a {
        Ok(()) => a.release().await.map(|_| ()),
        Err(transport) => Err(transport),
    };
    let released_b = match staged_b {
        Ok(()) => b.release().await.map(|_| ()),
        Err(transport) => Err(transport),
    };
    tokio::join!(
        finished(a, released_a, started),
        finished(b, released_b, started)
    )
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
    let line = OrderLine {
        line: format!("{order}-000001"),
        order,
        product_id: settings.catalog.product_id.clone(),
        sku_code: settings.catalog.sku_code.clone(),
    };
    let expire_at = settings
        .billing
        .has_expiry()
        .then(|| wall_clock().plus_months(1));
    let instance = Instance::pending(line, settings.billing, expire_at);
    requests::new_instance(settings, ids, &buyer, &instance)
}

/// Makes `request` (the buyer's purchase) a new order under fresh ids; returns the orderId.
pub fn renumber(request: &mut Request, ids: &mut Ids) -> String {
    let order = ids.order_id().0;
    // The order's one line (`orderLineId`, V2), written without `format!`'s reallocations.
    let mut line = String::with_capacity(order.len() + 7);
    line.push_str(&order);
    line.push_str("-000001");
    requests::renumber(request, &order, &line, ids);
    order
}

/// The connections of one worker: one for the original, one for the overlapping resend, one
/// for each later resend.
struct Connections {
    first: Connection,
    racing: Option<Connection>,
    later: Vec<Connection>,
}

/// One order's copies: the original and the first resend go out together (a retry
/// overlapping a slow original, what breaks check-then-insert merchants); the remaining
/// resends follow together once both are answered (a retry storm after the fact).
pub(crate) async fn run(shared: Arc<Shared>, index: u64) -> Tally {
    let (plan, settings, client) = (&shared.plan, &shared.settings, &shared.client);
    // About this worker's share: the workers take orders from one counter as they go.
    let orders = plan.orders.div_ceil(plan.concurrency.max(1));
    let mut tally = Tally {
        latencies: Vec::with_capacity(orders * (1 + plan.resends)),
        console: BTreeMap::new(),
        answered: AnsweredOrders::with_capacity(orders),
    };
    let mut ids = Ids::new(shared.seed ^ (index.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let mut request = purchase(settings, &mut ids);
    let signer = Signer {
        settings,
        sequence: AtomicUsize::new(0),
        memo: Mutex::new(QueryMemo::default()),
    };
    let mut connections = Connections {
        first: client.connection(),
        racing: (plan.resends > 0).then(|| client.connection()),
        later: (1..plan.resends).map(|_| client.connection()).collect(),
    };
    while shared.next.fetch_add(1, Ordering::Relaxed) < plan.orders {
        // Every order, the first included, is the buyer's purchase under fresh ids.
        tally.answered.order(&renumber(&mut request, &mut ids));
        match &mut connections.racing {
            None => {
                let sent = send(&signer, &mut connections.first, &request).await;
                tally.judge(settings, &request, &sent);
            }
            Some(racing) => {
                let resend = requests::with_new_business_id(&request, &mut ids);
                let pair = (&mut connections.first, racing);
                let (original, copy) = send_pair(&signer, pair, (&request, &resend)).await;
                tally.judge(settings, &request, &original);
                tally.judge(settings, &resend, &copy);
            }
        }
        if connections.later.is_empty() {
            continue;
        }
        let resends: Vec<Request> = connections
            .later
            .iter()
            .map(|_| requests::with_new_business_id(&request, &mut ids))
            .collect();
        let sent = join_sends(&signer, &mut connections.later, &resends).await;
        for (resend, sent) in resends.iter().zip(&sent) {
            tally.judge(settings, resend, sent);
        }
    }
    tally
}

/// Sends each request on its own connection, all at once.
async fn join_sends(
    signer: &Signer<'_>,
    connections: &mut [Connection],
    requests: &[Request],
) -> Vec<Sent> {
    let sends = connections
        .iter_mut()
        .zip(requests)
        .map(|(connection, request)| send(signer, connection, request));
    join_all(sends).await
}
