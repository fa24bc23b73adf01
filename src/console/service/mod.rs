//! The console's state and everything that changes it: products, buyer actions, the clock,
//! restarts, debug cases and dial tests.
//!
//! Each product is changed under its own lock, so a merchant that hangs stalls only its own
//! product; the database writer, the clock and the dial schedule sit under short locks of
//! their own, never held while a merchant answers. A change is applied to the product's
//! engine and written — journal entry, read-model rows, recorded attempts — in one
//! transaction; every delivery that falls due is performed at once through
//! [`crate::deliver`] ([`settle`]), and its answer journalled before the next change.

mod debug_form;
mod dial;
mod explorations;
mod open_api;
mod reproduce;
mod runs;
mod settle;
mod time;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::broadcast;

use crate::console::clock::ConsoleClock;
use crate::console::journal::{BuyerAction, Entry, KitAction};
use crate::console::live::{Applied, ApplyError, Live, LiveError};
use crate::console::product::{ProductSpec, SpecError};
use crate::console::store::{AttemptRow, StoreError, Writer, fingerprint};
use crate::marketplace::settings::InterfaceKeys;
use crate::open_api::Book;
use crate::protocol::{AccessKey, UnixMillis};
use crate::transport::wire;
use dial::next_dial_slot;

pub(crate) use debug_form::{DebugForm, FormField};
pub(crate) use dial::{DebugOutcome, DialOutcome};
pub(crate) use explorations::ExploreProgress;
pub(crate) use reproduce::ReproduceOutcome;
pub(crate) use runs::{RunEvent, product_of_scope};
pub(crate) use settle::AttemptOutcome;

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
    /// The product request is not valid.
    #[error("invalid product")]
    Spec(#[from] SpecError),
    /// The marketplace does not allow it in the current state.
    #[error(transparent)]
    Refused(#[from] ApplyError),
    /// Something could not be written as JSON (a kgsim bug).
    #[error("could not encode {0}")]
    Encode(&'static str, #[source] serde_json::Error),
}

impl ConsoleError {
    /// The message with every cause after it (`invalid product: billing: …`), for the
    /// API's and the pages' error bodies.
    pub fn full_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }
}

/// One product under its lock: changes to it are serialised, changes to others are not.
pub(crate) type ProductLock = Arc<tokio::sync::Mutex<Live>>;

/// The console's state. Shared (`Arc<Service>`) by every handler and the ticker; each method
/// takes the locks it needs.
pub struct Service {
    writer: Arc<Mutex<Writer>>,
    clock: Mutex<ConsoleClock>,
    products: RwLock<BTreeMap<i64, ProductLock>>,
    key: AccessKey,
    keys: InterfaceKeys,
    /// Where the identity centre is served (the open APIs' base URL), as tenantSync announces.
    identity: String,
    events: broadcast::Sender<AttemptOutcome>,
    /// The next scheduled dial test (Unix ms); its lock also keeps two ticks from running the
    /// same slot.
    next_dial: tokio::sync::Mutex<i64>,
    book: Option<Book>,
    /// Suite runs in progress.
    runs: runs::LiveRuns,
    /// Explorations in progress.
    explorations: explorations::LiveExplorations,
}

impl Service {
    /// Loads every product and replays its journal; returns warnings for the operator (a
    /// changed access key, notices resumed).
    /// With `book` (and the base URL it is served at), the open APIs and the identity centre
    /// answer from the products' state, and the merchant's calls are recorded as they come.
    pub(crate) fn open(
        writer: Writer,
        key: AccessKey,
        keys: InterfaceKeys,
        book: Option<(String, Book)>,
    ) -> Result<(Self, Vec<String>), ConsoleError> {
        let (identity, book) = match book {
            Some((base_url, book)) => (Some(base_url), Some(book)),
            None => (None, None),
        };
        let mut warnings = key_warnings(&writer, &key, &keys)?;
        let interrupted = writer.interrupt_suite_runs()?;
        if interrupted > 0 {
            warnings.push(format!(
                "{interrupted} suite run(s) were cut short when the console stopped: they are shown as interrupted"
            ));
        }
        let interrupted = writer.interrupt_explorations(None)?;
        if interrupted > 0 {
            warnings.push(format!(
                "{interrupted} exploration(s) were cut short when the console stopped: they are shown as interrupted"
            ));
        }
        let clock = match writer.meta("clock")? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => ConsoleClock::default(),
        };
        let now = clock.now(wire::wall_clock());
        let next_dial = match writer.meta("dial.next")? {
            Some(text) => text.parse().unwrap_or_else(|_| next_dial_slot(now)),
            None => next_dial_slot(now),
        };
        let identity = identity.unwrap_or_else(|| crate::open_api::IDENTITY_UNSERVED.to_owned());
        let mut products = BTreeMap::new();
        let mut writer = writer;
        for row in writer.products()? {
            let mut live = Live::new(row, &key, &keys, &identity, book.as_ref())?;
            let journal = writer.journal(live.id())?;
            live.replay(&journal)?;
            if !live.pending.is_empty() {
                warnings.push(format!(
                    "product {}: {} attempt(s) were in flight when the console stopped; sending them again",
                    live.id(),
                    live.pending.len()
                ));
            }
            let changes = live.changes();
            writer.commit(live.id(), None, &changes, &[])?;
            live.publish();
            products.insert(live.id(), Arc::new(tokio::sync::Mutex::new(live)));
        }
        let writer = Arc::new(Mutex::new(writer));
        if let Some(book) = &book {
            open_api::record_calls_as_they_come(book, &writer);
        }
        let service = Self {
            writer,
            clock: Mutex::new(clock),
            products: RwLock::new(products),
            key,
            keys,
            identity,
            events: broadcast::channel(256).0,
            next_dial: tokio::sync::Mutex::new(next_dial),
            book,
            runs: runs::LiveRuns::default(),
            explorations: explorations::LiveExplorations::default(),
        };
        Ok((service, warnings))
    }

    /// Now, on the console's clock.
    pub(crate) fn now(&self) -> UnixMillis {
        self.clock().now(wire::wall_clock())
    }

    /// The clock's settings.
    pub(crate) fn clock(&self) -> ConsoleClock {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live call log: every recorded attempt as it happens (for new subscribers).
    pub(crate) fn events(&self) -> broadcast::Sender<AttemptOutcome> {
        self.events.clone()
    }

    /// The products' ids.
    pub(crate) fn product_ids(&self) -> Vec<i64> {
        self.products_read().keys().copied().collect()
    }

    fn products_read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i64, ProductLock>> {
        self.products.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The database writer, for one short transaction (never held across an await).
    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A product's lock.
    pub(crate) fn product(&self, product: i64) -> Result<ProductLock, ConsoleError> {
        self.products_read()
            .get(&product)
            .cloned()
            .ok_or_else(|| ConsoleError::NotFound(format!("there is no product {product}")))
    }

    /// The journal as a scenario's steps, for "export as scenario".
    pub(crate) async fn export(&self, product: i64) -> Result<String, ConsoleError> {
        let lock = self.product(product)?;
        let live = lock.lock().await;
        let journal = self.writer().journal(product)?;
        Ok(crate::console::export::scenario(&live, &journal))
    }

    /// Adds a product; returns its id.
    pub(crate) fn create_product(&self, spec: &ProductSpec) -> Result<i64, ConsoleError> {
        spec.resolve(&self.key, &self.keys, &self.identity)?;
        let text =
            serde_json::to_string(&spec).map_err(|e| ConsoleError::Encode("the product", e))?;
        let seed = i64::from_ne_bytes(rand::random::<[u8; 8]>());
        let row = {
            let writer = self.writer();
            let id = writer.insert_product(&spec.display_name(), &text, self.now().0, seed)?;
            writer
                .product(id)?
                .ok_or_else(|| ConsoleError::NotFound(format!("product {id}")))?
        };
        let mut live = Live::new(
            row,
            &self.key,
            &self.keys,
            &self.identity,
            self.book.as_ref(),
        )?;
        live.publish();
        let id = live.id();
        self.products
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::new(tokio::sync::Mutex::new(live)));
        Ok(id)
    }

    /// The buyer pays a new order; returns the order, its first instance's number and the
    /// instanceId the merchant returned (once its newInstance was accepted).
    pub(crate) async fn purchase(
        &self,
        product: i64,
        trial: bool,
    ) -> Result<(String, i64, Option<String>, Vec<AttemptOutcome>), ConsoleError> {
        let lock = self.product(product)?;
        let mut live = lock.lock().await;
        self.settle(&mut live).await?;
        let applied = self.record(&mut live, &Entry::Purchase { trial }, &[])?;
        let outcomes = self.settle(&mut live).await?;
        let (order, instances) = applied.order.unwrap_or_default();
        let first = instances.first().copied();
        let instance_id = first.and_then(|i| live.engine.instance(i).merchant_id.clone());
        Ok((
            order,
            first.map_or(-1, |i| i.0 as i64),
            instance_id,
            outcomes,
        ))
    }

    /// A buyer (or violation) action on an instance.
    pub(crate) async fn act(
        &self,
        product: i64,
        instance: usize,
        action: BuyerAction,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.change(product, &Entry::Act { instance, action }).await
    }

    /// 联营: something that makes the marketplace sync the Kit.
    pub(crate) async fn kit(
        &self,
        product: i64,
        action: KitAction,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.change(product, &Entry::Kit { action }).await
    }

    /// The seller restarts a notice whose retries ran out.
    pub(crate) async fn restart(
        &self,
        product: i64,
        call: usize,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        self.change(product, &Entry::Restart { call }).await
    }

    /// A command on a product: what was due is delivered first (so the command happens at
    /// now), then the command, then what it caused.
    async fn change(
        &self,
        product: i64,
        entry: &Entry,
    ) -> Result<Vec<AttemptOutcome>, ConsoleError> {
        let lock = self.product(product)?;
        let mut live = lock.lock().await;
        self.settle(&mut live).await?;
        self.record(&mut live, entry, &[])?;
        self.settle(&mut live).await
    }

    /// Applies an entry and writes it with the rows it changed, in one transaction.
    fn record(
        &self,
        live: &mut Live,
        entry: &Entry,
        attempts: &[AttemptRow],
    ) -> Result<Applied, ConsoleError> {
        let applied = live.apply(entry)?;
        let changes = live.changes();
        self.journal(live.id(), entry, &changes, attempts)?;
        Ok(applied)
    }

    /// Writes a journal entry already applied to the engine, with the rows it changed.
    fn journal(
        &self,
        product: i64,
        entry: &Entry,
        changes: &crate::console::store::Changes,
        attempts: &[AttemptRow],
    ) -> Result<(), ConsoleError> {
        let text =
            serde_json::to_string(entry).map_err(|e| ConsoleError::Encode("a journal entry", e))?;
        self.writer()
            .commit(product, Some(&text), changes, attempts)?;
        Ok(())
    }
}

/// Warns when a key differs from the one the database was used with; remembers the new
/// fingerprints.
fn key_warnings(
    writer: &Writer,
    key: &AccessKey,
    keys: &InterfaceKeys,
) -> Result<Vec<String>, ConsoleError> {
    let mut warnings = Vec::new();
    let named = [
        ("key.fingerprint", "access key", Some(key)),
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
    Ok(warnings)
}
