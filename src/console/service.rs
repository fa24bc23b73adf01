//! The console's state and everything that changes it: products, buyer actions, the clock,
//! restarts, debug cases and dial tests. Each change is applied to the product's engine and
//! written — journal entry, read-model rows, recorded attempts — in one transaction; every
//! delivery that falls due is performed against the merchant at once, its attempts run
//! concurrently, and its answer journalled before the next change.

use std::collections::BTreeMap;

use tokio::sync::broadcast;

use crate::conformance::console_check;
use crate::console::clock::ConsoleClock;
use crate::console::journal::{BuyerAction, Entry, StoredTransport};
use crate::console::live::{Applied, Live, LiveError};
use crate::console::product::ProductSpec;
use crate::console::store::{AttemptRow, MerchantCallRow, StoreError, Writer, fingerprint};
use crate::marketplace::kind::ProductType;
use crate::marketplace::settings::InterfaceKeys;
use crate::marketplace::{CallId, CallState, Delivery, Transport};
use crate::openapi::Book;
use crate::openapi::book::Scope;
use crate::protocol::openapi::Endpoint;
use crate::protocol::{AccessKey, UnixMillis};
use crate::scenario::run::perform::{AttemptFault, Performed, perform};
use crate::scenario::run::publish::Publisher;
use crate::transport::wire::{self, Wire};

/// How far apart the scheduled dial tests run: twice a day (spec: 拨测, "每天两次").
const DIAL_INTERVAL_MS: i64 = 12 * 3_600_000;
/// Consecutive days of failed dial tests after which trading is frozen and the product hidden.
const DIAL_FREEZE_DAYS: usize = 5;
/// Missed dial slots run after a jump of the clock, at most (ten days' worth).
const DIAL_CATCH_UP: usize = 20;
/// Answers kept in the call log are cut at this size.
const ANSWER_KEPT: usize = 64 * 1024;

/// A change the console refuses, or could not make.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A product could not be brought up.
    #[error(transparent)]
    Live(#[from] LiveError),
    /// No such product, order, instance or notice.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The marketplace does not allow it in the current state.
    #[error("{0}")]
    Refused(String),
}

/// How one attempt ended, as the API reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AttemptOutcome {
    /// The product.
    pub product_id: i64,
    /// The notice.
    pub call: i64,
    /// The activity.
    pub activity: String,
    /// 1-based attempt number.
    pub attempt: i64,
    /// accepted, provisioning, rejected.
    pub verdict: String,
    /// The check a rejection reports under.
    pub check_id: Option<String>,
    /// The console's message.
    pub message: Option<String>,
}

/// A debug case's result: what was sent and how it was judged.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DebugOutcome {
    /// The signed request, as a curl command.
    pub curl: String,
    /// How the attempt ended.
    pub outcome: Option<AttemptOutcome>,
    /// The saved case's id, when saved.
    pub case_id: Option<i64>,
}

/// A replay of every saved case.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DialOutcome {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Whether the product's trading is frozen after it.
    pub trading_frozen: bool,
}

/// The open APIs and the identity centre, served on the console's state: each product's
/// orders and instances published to the book they answer from (scope = product id), and the
/// merchant's calls recorded in the database.
struct OpenApiLink {
    book: Book,
    publishers: BTreeMap<i64, Publisher>,
    /// How many of the book's calls are in the database.
    recorded: usize,
}

/// The console's state.
pub struct Service {
    writer: Writer,
    clock: ConsoleClock,
    products: BTreeMap<i64, Live>,
    key: AccessKey,
    keys: InterfaceKeys,
    events: broadcast::Sender<String>,
    next_dial: i64,
    open_api: Option<OpenApiLink>,
}

impl Service {
    /// Loads every product and replays its journal; returns warnings for the operator (a
    /// changed access key, notices resumed).
    /// With `book`, the open APIs answer from the products' state.
    pub fn open(
        writer: Writer,
        key: AccessKey,
        keys: InterfaceKeys,
        book: Option<Book>,
    ) -> Result<(Self, Vec<String>), ConsoleError> {
        let mut warnings = Vec::new();
        let named = [
            ("key.fingerprint", "access key", Some(&key)),
            ("key.kit.fingerprint", "Kit key", keys.kit.as_ref()),
            (
                "key.license-code.fingerprint",
                "License-code key",
                keys.license_code.as_ref(),
            ),
            (
                "key.notify.fingerprint",
                "order-notification key",
                keys.notify.as_ref(),
            ),
        ];
        for (meta, what, key) in named {
            let print = key.map(fingerprint).unwrap_or_default();
            match writer.meta(meta)? {
                Some(kept) if kept != print => warnings.push(format!(
                    "the {what} differs from the one this database was used with (fingerprint {kept:?}, now {print:?}): stored answers are judged again with the new key"
                )),
                _ => {}
            }
            writer.set_meta(meta, &print)?;
        }
        let clock = match writer.meta("clock")? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => ConsoleClock::default(),
        };
        let mut service = Self {
            writer,
            clock,
            products: BTreeMap::new(),
            key,
            keys,
            events: broadcast::channel(256).0,
            next_dial: 0,
            open_api: book.map(|book| OpenApiLink {
                book,
                publishers: BTreeMap::new(),
                recorded: 0,
            }),
        };
        let now = service.now();
        service.next_dial = match service.writer.meta("dial.next")? {
            Some(text) => text.parse().unwrap_or_else(|_| next_dial_slot(now)),
            None => next_dial_slot(now),
        };
        for row in service.writer.products()? {
            let mut live = Live::new(row, &service.key, &service.keys)?;
            let journal = service.writer.journal(live.id())?;
            live.replay(&journal)?;
            if !live.pending.is_empty() {
                warnings.push(format!(
                    "product {}: {} attempt(s) were in flight when the console stopped; sending them again",
                    live.id(),
                    live.pending.len()
                ));
            }
            let changes = live.changes();
            service.writer.commit(live.id(), None, &changes, &[])?;
            let id = live.id();
            service.products.insert(id, live);
            service.publish(id);
        }
        Ok((service, warnings))
    }

    /// Now, on the console's clock.
    pub fn now(&self) -> UnixMillis {
        self.clock.now(wire::wall_clock())
    }

    /// The clock's settings.
    pub fn clock(&self) -> ConsoleClock {
        self.clock
    }

    /// A receiver of every recorded attempt (JSON), for live pages.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }

    /// The sender of the live call log (for new subscribers).
    pub fn events(&self) -> broadcast::Sender<String> {
        self.events.clone()
    }

    /// The products' ids.
    pub fn product_ids(&self) -> Vec<i64> {
        self.products.keys().copied().collect()
    }

    /// The journal as a scenario's steps, for "export as scenario".
    pub fn export(&self, product: i64) -> Result<String, ConsoleError> {
        let live = self.live(product)?;
        let journal = self.writer.journal(product)?;
        Ok(crate::console::export::scenario(live, &journal))
    }

    /// Adds a product; returns its id.
    pub fn create_product(&mut self, spec: &ProductSpec) -> Result<i64, ConsoleError> {
        spec.resolve(&self.key, &self.keys)
            .map_err(|e| ConsoleError::Invalid(e.to_string()))?;
        let text =
            serde_json::to_string(&spec).map_err(|e| ConsoleError::Invalid(e.to_string()))?;
        let seed = i64::from_ne_bytes(rand::random::<[u8; 8]>());
        let id = self
            .writer
            .insert_product(&spec.display_name(), &text, self.now().0, seed)?;
        let row = self
            .writer
            .products()?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ConsoleError::NotFound(format!("product {id}")))?;
        let live = Live::new(row, &self.key, &self.keys)?;
        self.products.insert(id, live);
        self.publish(id);
        Ok(id)
    }

    /// The buyer pays a new order; returns the order, its first instance's number and the
    /// instanceId the merchant returned (once its newInstance was accepted).
    pub async fn purchase(
        &mut self,
        product: i64,
        trial: bool,
    ) -> Result<(String, i64, Option<String>, Vec<AttemptOutcome>), ConsoleError> {
        self.settle(product).await?;
        let applied = self.record(product, &Entry::Purchase { trial }, &[])?;
        let outcomes = self.settle(product).await?;
        let (order, instances) = applied.order.unwrap_or_default();
        let first = instances.first().copied();
        let live = self.live(product)?;
        let instance_id = first.and_then(|i| live.engine.instance(i).merchant_id.clone());
        Ok((
            order,
            first.map_or(-1, |i| i.0 as i64),
            instance_id,
            outcomes,
        ))
    }

    /// A buyer (or violation) action on an instance.
    pub async fn act(
        &mut self,
        product: i64,
        instance: usize,
        action: BuyerAction,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.settle(product).await?;
        self.record(product, &Entry::Act { instance, action }, &[])?;
        self.settle(product).await
    }

    /// The seller restarts a notice whose retries ran out.
    pub async fn restart(
        &mut self,
        product: i64,
        call: usize,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.settle(product).await?;
        self.record(product, &Entry::Restart { call }, &[])?;
        self.settle(product).await
    }

    /// The debug page: one case of an interface, signed and shown as curl; sent and judged
    /// when `send`, and saved as a dial-test case when `save`.
    pub async fn debug(
        &mut self,
        product: i64,
        activity: &str,
        variant: usize,
        send: bool,
        save: bool,
    ) -> Result<DebugOutcome, ConsoleError> {
        if !send {
            return self.preview(product, activity, variant);
        }
        self.settle(product).await?;
        let entry = Entry::DebugCase {
            activity: activity.to_owned(),
            variant,
            replay: false,
        };
        let applied = self.record(product, &entry, &[])?;
        let performed = self.settle_performed(product).await?;
        let call = applied.calls.first().copied();
        let mine = performed
            .iter()
            .find(|(p, _)| Some(p.delivery.call) == call);
        let curl = mine
            .and_then(|(p, _)| Some(curl(p.url.as_deref()?, p.wire.as_ref()?)))
            .unwrap_or_default();
        let outcome = mine.map(|(_, o)| o.clone());
        let case_id = if save {
            let verdict = outcome.as_ref().map_or("rejected", |o| o.verdict.as_str());
            Some(self.writer.save_debug_case(
                product,
                activity,
                variant as i64,
                self.now().0,
                verdict,
            )?)
        } else {
            None
        };
        Ok(DebugOutcome {
            curl,
            outcome,
            case_id,
        })
    }

    /// "生成请求命令": the signed request of a case, without sending it.
    fn preview(
        &self,
        product: i64,
        activity: &str,
        variant: usize,
    ) -> Result<DebugOutcome, ConsoleError> {
        let live = self.live(product)?;
        let parsed = activity
            .parse()
            .map_err(|_| ConsoleError::Invalid(format!("unknown interface {activity}")))?;
        let mut ids = crate::marketplace::ids::Ids::new(rand::random());
        let request = crate::marketplace::requests::debug_request(
            live.engine.settings(),
            &mut ids,
            parsed,
            variant,
            self.now(),
        )
        .ok_or_else(|| {
            ConsoleError::Invalid(format!(
                "{activity} has no debug case {variant} in this protocol"
            ))
        })?;
        let key = live.engine.settings().key_for(parsed.interface_type());
        let wire = wire::sign_now(&request, key, &wire::Edit::default(), None);
        Ok(DebugOutcome {
            curl: curl(&live.client.url_of(&wire), &wire),
            outcome: None,
            case_id: None,
        })
    }

    /// Replays every saved case of a product: a scheduled dial test (`dial`) or the check
    /// the platform runs after a product edit (`replay`, "replay all").
    pub async fn replay_cases(
        &mut self,
        product: i64,
        reason: &str,
        at: UnixMillis,
    ) -> Result<DialOutcome, ConsoleError> {
        self.settle(product).await?;
        let cases = self.writer.debug_cases(product)?;
        let mut calls = Vec::new();
        for (case, activity, variant) in &cases {
            let entry = Entry::DebugCase {
                activity: activity.clone(),
                variant: *variant as usize,
                replay: true,
            };
            let applied = self.record(product, &entry, &[])?;
            calls.push((*case, applied.calls.first().copied()));
        }
        self.settle(product).await?;
        let live = self.live(product)?;
        let verdicts: Vec<(i64, String)> = calls
            .into_iter()
            .map(|(case, call)| {
                let passed =
                    call.is_some_and(|c| live.engine.call(c).state == CallState::Succeeded);
                (
                    case,
                    if passed { "accepted" } else { "rejected" }.to_owned(),
                )
            })
            .collect();
        let failed = verdicts.iter().filter(|(_, v)| v != "accepted").count();
        self.writer
            .record_dial_run(product, at.0, &day_of(at), reason, &verdicts)?;
        let frozen = self.apply_dial_rule(product, reason, failed == 0)?;
        Ok(DialOutcome {
            passed: verdicts.len() - failed,
            failed,
            trading_frozen: frozen,
        })
    }

    /// Five consecutive days with a failed dial test freeze trading and hide the product; a
    /// clean replay of every case (the check after a product edit) lifts it.
    fn apply_dial_rule(
        &mut self,
        product: i64,
        reason: &str,
        clean: bool,
    ) -> Result<bool, ConsoleError> {
        let live = self.live(product)?;
        let mut frozen = live.row.trading_frozen;
        if reason == "dial" {
            let days = self.writer.dial_days(product, DIAL_FREEZE_DAYS as u32)?;
            let consecutive = days.len() == DIAL_FREEZE_DAYS
                && days.iter().all(|(_, failed)| *failed)
                && days.windows(2).all(|w| previous_day(&w[0].0) == w[1].0);
            frozen |= consecutive;
        } else if clean {
            frozen = false;
        }
        if frozen != live.row.trading_frozen {
            self.writer.set_trading_frozen(product, frozen)?;
            if let Some(live) = self.products.get_mut(&product) {
                live.row.trading_frozen = frozen;
            }
        }
        Ok(frozen)
    }

    /// Moves the clock forward by `by` ms and performs what falls due.
    pub async fn advance(&mut self, by: i64) -> Result<(), ConsoleError> {
        self.clock.advance(by);
        self.save_clock()?;
        self.tick().await
    }

    /// Jumps the clock to the next scheduled delivery, expiry or dial test.
    pub async fn next_event(&mut self) -> Result<Option<UnixMillis>, ConsoleError> {
        let mut next: Option<UnixMillis> = None;
        for live in self.products.values_mut() {
            if let Some(due) = live.engine.next_due() {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        let has_cases = self
            .products
            .keys()
            .any(|p| self.writer.debug_cases(*p).is_ok_and(|c| !c.is_empty()));
        if has_cases {
            let dial = UnixMillis(self.next_dial);
            next = Some(next.map_or(dial, |n| n.min(dial)));
        }
        if let Some(to) = next {
            self.clock.advance_to(to, wire::wall_clock());
            self.save_clock()?;
            self.tick().await?;
        }
        Ok(next)
    }

    /// Freezes or thaws the clock.
    pub fn set_frozen(&mut self, frozen: bool) -> Result<(), ConsoleError> {
        self.clock.set_frozen(frozen, wire::wall_clock());
        self.save_clock()
    }

    fn save_clock(&mut self) -> Result<(), ConsoleError> {
        let text = serde_json::to_string(&self.clock).unwrap_or_default();
        self.writer.set_meta("clock", &text)?;
        Ok(())
    }

    /// Brings every product up to now, then runs the dial tests that fell due.
    pub async fn tick(&mut self) -> Result<(), ConsoleError> {
        for product in self.product_ids() {
            if self.has_due(product) {
                self.settle(product).await?;
            }
        }
        self.record_merchant_calls()?;
        let now = self.now().0;
        let mut slots = Vec::new();
        while self.next_dial <= now {
            slots.push(self.next_dial);
            self.next_dial += DIAL_INTERVAL_MS;
        }
        self.writer
            .set_meta("dial.next", &self.next_dial.to_string())?;
        let skip = slots.len().saturating_sub(DIAL_CATCH_UP);
        for slot in slots.into_iter().skip(skip) {
            for product in self.product_ids() {
                if !self.writer.debug_cases(product)?.is_empty() {
                    self.replay_cases(product, "dial", UnixMillis(slot)).await?;
                }
            }
        }
        Ok(())
    }

    fn live(&self, product: i64) -> Result<&Live, ConsoleError> {
        self.products
            .get(&product)
            .ok_or_else(|| ConsoleError::NotFound(format!("there is no product {product}")))
    }

    /// Applies an entry and writes it with the rows it changed, in one transaction.
    fn record(
        &mut self,
        product: i64,
        entry: &Entry,
        attempts: &[AttemptRow],
    ) -> Result<Applied, ConsoleError> {
        let live = self
            .products
            .get_mut(&product)
            .ok_or_else(|| ConsoleError::NotFound(format!("there is no product {product}")))?;
        let applied = live.apply(entry).map_err(ConsoleError::Refused)?;
        let changes = live.changes();
        let text =
            serde_json::to_string(entry).map_err(|e| ConsoleError::Invalid(e.to_string()))?;
        self.writer
            .commit(product, Some(&text), &changes, attempts)?;
        Ok(applied)
    }

    /// Whether anything of a product falls due by now, or was left in flight. The wall-clock
    /// ticker settles only those: a second in which nothing happens writes no journal entry
    /// (a change still moves the engine's clock to now first, so it happens at now).
    fn has_due(&mut self, product: i64) -> bool {
        let now = self.now();
        self.products.get_mut(&product).is_some_and(|live| {
            !live.pending.is_empty() || live.engine.next_due().is_some_and(|due| due <= now)
        })
    }

    /// Performs everything due for a product up to now.
    pub async fn settle(&mut self, product: i64) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        Ok(self
            .settle_performed(product)
            .await?
            .into_iter()
            .map(|(_, outcome)| outcome)
            .collect())
    }

    async fn settle_performed(
        &mut self,
        product: i64,
    ) -> Result<Vec<(Performed, AttemptOutcome)>, ConsoleError> {
        let mut done = Vec::new();
        loop {
            let now = self.now();
            let live = self.live(product)?;
            if live.pending.is_empty() {
                let until = now.max(live.engine.now());
                self.record(product, &Entry::Advance { until: until.0 }, &[])?;
            }
            let live = self.live(product)?;
            if live.pending.is_empty() {
                return Ok(done);
            }
            let batch = live.pending.clone();
            // The merchant may query an order as soon as its newInstance arrives.
            self.publish(product);
            let live = self.live(product)?;
            for performed in perform_batch(live, batch).await {
                let outcome = self.complete(product, &performed)?;
                done.push((performed, outcome));
            }
            self.publish(product);
        }
    }

    /// Brings what the open APIs know of a product up to date.
    fn publish(&mut self, product: i64) {
        let (Some(link), Some(live)) = (self.open_api.as_mut(), self.products.get(&product)) else {
            return;
        };
        let publisher = link.publishers.entry(product).or_insert_with(|| {
            let licensed = live.engine.settings().product != ProductType::Saas;
            Publisher::new(link.book.clone(), product as Scope, licensed)
        });
        publisher.sync(&live.engine);
    }

    /// Writes the merchant's new calls to the open APIs to the database.
    pub fn record_merchant_calls(&mut self) -> Result<(), ConsoleError> {
        let Some(link) = self.open_api.as_mut() else {
            return Ok(());
        };
        let fresh: Vec<MerchantCallRow> = {
            let state = link.book.lock();
            state.calls[link.recorded.min(state.calls.len())..]
                .iter()
                .map(|call| MerchantCallRow {
                    id: 0,
                    product_id: (call.scope != 0).then_some(call.scope as i64),
                    at: call.at.0,
                    endpoint: call.endpoint.as_ref().map_or("unknown", Endpoint::name).to_owned(),
                    request_line: call.request_line.clone(),
                    status: i64::from(call.status),
                    findings: serde_json::to_string(
                        &call
                            .findings
                            .iter()
                            .map(|f| serde_json::json!({"check": f.check.id(), "message": f.message}))
                            .collect::<Vec<_>>(),
                    )
                    .unwrap_or_default(),
                })
                .collect()
        };
        if !fresh.is_empty() {
            self.writer.record_merchant_calls(&fresh)?;
            link.recorded += fresh.len();
        }
        Ok(())
    }

    /// Journals one performed attempt and records it in the call log.
    fn complete(
        &mut self,
        product: i64,
        performed: &Performed,
    ) -> Result<AttemptOutcome, ConsoleError> {
        let transport = performed
            .sent
            .as_ref()
            .map_or(Transport::NotSent, |s| s.transport.clone());
        let delivery = &performed.delivery;
        let judgement = &performed.judgement;
        let verdict = match (judgement.accepted(), judgement.provisioning) {
            (true, false) => "accepted",
            (true, true) => "provisioning",
            (false, _) => "rejected",
        };
        let first = judgement.findings.first();
        let outcome = AttemptOutcome {
            product_id: product,
            call: delivery.call.0 as i64,
            activity: delivery.request.activity().slug().to_owned(),
            attempt: i64::from(delivery.attempt),
            verdict: verdict.to_owned(),
            check_id: first
                .and_then(|f| console_check(f.rule()))
                .map(|c| c.id().to_owned()),
            message: first.map(|f| f.message()),
        };
        let (status, answer) = match &transport {
            Transport::Answered(response) => (
                Some(i64::from(response.status)),
                Some(cut(&String::from_utf8_lossy(&response.body))),
            ),
            other => (None, Some(format!("{other:?}"))),
        };
        let attempt = AttemptRow {
            id: 0,
            product_id: product,
            call: outcome.call,
            number: outcome.attempt,
            at: delivery.due.0,
            activity: outcome.activity.clone(),
            url: performed.url.clone(),
            request: performed
                .wire
                .as_ref()
                .map(|w| w.body.clone().unwrap_or_else(|| w.query.clone())),
            status,
            answer,
            verdict: outcome.verdict.clone(),
            check_id: outcome.check_id.clone(),
            message: outcome.message.clone(),
        };
        let entry = Entry::Complete {
            call: delivery.call.0,
            attempt: delivery.attempt,
            transport: StoredTransport::from(&transport),
        };
        self.record(product, &entry, &[attempt])?;
        let _ = self
            .events
            .send(serde_json::to_string(&outcome).unwrap_or_default());
        Ok(outcome)
    }

    /// Whether a notice's retries ran out (for the restart button).
    pub fn is_exhausted(&self, product: i64, call: usize) -> bool {
        self.live(product).is_ok_and(|live| {
            live.engine
                .calls()
                .get(call)
                .is_some_and(|c| c.state == CallState::Exhausted)
        })
    }
}

/// Performs one batch concurrently; results in delivery order.
async fn perform_batch(live: &Live, batch: Vec<Delivery>) -> Vec<Performed> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, delivery) in batch.into_iter().enumerate() {
        let (view, client) = (live.view.clone(), live.client.clone());
        tasks.spawn(async move {
            let done = perform(&view, &client, delivery, AttemptFault::default()).await;
            (index, done)
        });
    }
    let mut slots: Vec<Option<Performed>> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // A task can only be lost to a bug in kgsim; its delivery stays pending and is sent
        // again on the next settle.
        if let Ok((index, done)) = joined {
            if slots.len() <= index {
                slots.resize(index + 1, None);
            }
            slots[index] = Some(done);
        }
    }
    slots.into_iter().flatten().collect()
}

/// A signed request as a curl command (the debug page's "生成请求命令").
fn curl(url: &str, wire: &Wire) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut parts = vec![format!("curl -X {} {}", wire.method.as_str(), quote(url))];
    for (name, value) in &wire.headers {
        parts.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    if let Some(body) = &wire.body {
        parts.push(format!("-H {}", quote("Content-Type: application/json")));
        parts.push(format!("--data {}", quote(body)));
    }
    parts.join(" \\\n  ")
}

fn cut(text: &str) -> String {
    if text.len() <= ANSWER_KEPT {
        return text.to_owned();
    }
    let mut end = ANSWER_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// The next dial slot after `now`: 00:00 and 12:00 Beijing time (UTC+8).
fn next_dial_slot(now: UnixMillis) -> i64 {
    const SHIFT: i64 = 8 * 3_600_000;
    ((now.0 + SHIFT).div_euclid(DIAL_INTERVAL_MS) + 1) * DIAL_INTERVAL_MS - SHIFT
}

/// The Beijing-time day an instant falls on, `YYYY-MM-DD`.
fn day_of(at: UnixMillis) -> String {
    let mut day = UnixMillis(at.0 + 8 * 3_600_000).to_dashed_seconds();
    day.truncate(10);
    day
}

/// The day before a `YYYY-MM-DD` day.
fn previous_day(day: &str) -> String {
    UnixMillis::parse_compact(&format!("{}000000", day.replace('-', "")))
        .map(|t| day_of(UnixMillis(t.0 - 86_400_000 - 8 * 3_600_000)))
        .unwrap_or_default()
}

/// The id of a call, for the API.
pub fn call_id(call: i64) -> Option<CallId> {
    usize::try_from(call).ok().map(CallId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_slots_are_midnight_and_noon_in_beijing() {
        // 2024-01-01 00:00:00 UTC is 08:00 in Beijing: the next slot is 12:00 Beijing, 04:00 UTC.
        let now = UnixMillis(1_704_067_200_000);
        assert_eq!(next_dial_slot(now), 1_704_067_200_000 + 4 * 3_600_000);
        assert_eq!(day_of(now), "2024-01-01");
        assert_eq!(day_of(UnixMillis(now.0 + 16 * 3_600_000)), "2024-01-02");
        assert_eq!(previous_day("2024-03-01"), "2024-02-29");
        assert_eq!(previous_day("2024-01-01"), "2023-12-31");
    }
}
