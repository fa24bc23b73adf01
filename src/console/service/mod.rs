//! The console's state and everything that changes it: products, buyer actions, the clock,
//! restarts, debug cases and dial tests. Each change is applied to the product's engine and
//! written — journal entry, read-model rows, recorded attempts — in one transaction; every
//! delivery that falls due is performed against the merchant at once, its attempts run
//! concurrently, and its answer journalled before the next change.

mod dial;
mod open_api;
mod time;

use std::collections::BTreeMap;

use tokio::sync::broadcast;

use crate::conformance::console_check;
use crate::console::clock::ConsoleClock;
use crate::console::journal::{BuyerAction, Entry, KitAction, StoredTransport};
use crate::console::live::{Applied, Live, LiveError};
use crate::console::product::ProductSpec;
use crate::console::store::{AttemptRow, StoreError, Writer, fingerprint};
use crate::marketplace::settings::InterfaceKeys;
use crate::marketplace::{Delivery, Transport};
use crate::openapi::Book;
use crate::protocol::{AccessKey, UnixMillis};
use crate::scenario::run::perform::{Performed, perform_whole};
use crate::transport::wire;
use dial::next_dial_slot;

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

pub use dial::{DebugOutcome, DialOutcome};
use open_api::OpenApiLink;

/// The console's state.
pub struct Service {
    writer: Writer,
    clock: ConsoleClock,
    products: BTreeMap<i64, Live>,
    key: AccessKey,
    keys: InterfaceKeys,
    /// Where the identity centre is served (the open APIs' base URL), as tenantSync announces.
    identity: String,
    events: broadcast::Sender<String>,
    next_dial: i64,
    open_api: Option<OpenApiLink>,
}

impl Service {
    /// Loads every product and replays its journal; returns warnings for the operator (a
    /// changed access key, notices resumed).
    /// With `book` (and the base URL it is served at), the open APIs and the identity centre
    /// answer from the products' state.
    pub fn open(
        writer: Writer,
        key: AccessKey,
        keys: InterfaceKeys,
        book: Option<(String, Book)>,
    ) -> Result<(Self, Vec<String>), ConsoleError> {
        let (identity, book) = match book {
            Some((base_url, book)) => (Some(base_url), Some(book)),
            None => (None, None),
        };
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
            identity: identity.unwrap_or_else(|| crate::openapi::IDENTITY_UNSERVED.to_owned()),
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
            let mut live = Live::new(row, &service.key, &service.keys, &service.identity)?;
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
        spec.resolve(&self.key, &self.keys, &self.identity)
            .map_err(|e| ConsoleError::Invalid(e.to_string()))?;
        let text =
            serde_json::to_string(&spec).map_err(|e| ConsoleError::Invalid(e.to_string()))?;
        let seed = i64::from_ne_bytes(rand::random::<[u8; 8]>());
        let id = self
            .writer
            .insert_product(&spec.display_name(), &text, self.now().0, seed)?;
        let row = self
            .writer
            .product(id)?
            .ok_or_else(|| ConsoleError::NotFound(format!("product {id}")))?;
        let live = Live::new(row, &self.key, &self.keys, &self.identity)?;
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

    /// 联营: something that makes the marketplace sync the Kit.
    pub async fn kit(
        &mut self,
        product: i64,
        action: KitAction,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.settle(product).await?;
        self.record(product, &Entry::Kit { action }, &[])?;
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
            for (performed, received) in perform_batch(live, batch).await {
                let outcome = self.complete(product, &performed, &received)?;
                done.push((performed, outcome));
            }
            self.publish(product);
        }
    }

    /// Journals one performed attempt with its answer as `received` (a replay judges those
    /// bytes again), and records it in the call log with the answer as cut down for display.
    fn complete(
        &mut self,
        product: i64,
        performed: &Performed,
        received: &Transport,
    ) -> Result<AttemptOutcome, ConsoleError> {
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
        // The shown answer is the one `perform` already cut to the report's budget.
        let (status, answer) = match performed.sent.as_ref().map(|s| &s.transport) {
            Some(Transport::Answered(response)) => (
                Some(i64::from(response.status)),
                Some(String::from_utf8_lossy(&response.body).into_owned()),
            ),
            other => (None, other.map(|t| format!("{t:?}"))),
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
            transport: StoredTransport::from(received),
        };
        self.record(product, &entry, &[attempt])?;
        let _ = self
            .events
            .send(serde_json::to_string(&outcome).unwrap_or_default());
        Ok(outcome)
    }
}

/// Performs one batch concurrently; each attempt with its answer as received, in delivery
/// order.
async fn perform_batch(live: &Live, batch: Vec<Delivery>) -> Vec<(Performed, Transport)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, delivery) in batch.into_iter().enumerate() {
        let (view, client) = (live.view.clone(), live.client.clone());
        tasks.spawn(async move { (index, perform_whole(&view, &client, delivery).await) });
    }
    let mut done = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // A task can only be lost to a bug in kgsim; its delivery stays pending and is sent
        // again on the next settle.
        if let Ok(performed) = joined {
            done.push(performed);
        }
    }
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, performed)| performed).collect()
}
