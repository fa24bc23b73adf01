//! One product while the console runs: its marketplace engine, the client that reaches its
//! production interface, the deliveries handed out and not yet answered, the read-model rows
//! last written and what the open APIs know of it. Journal entries are replayed here at
//! start; live, the commands are applied here and the deliveries go through
//! [`crate::deliver`], whose observer journals what the loop did to the engine.

use std::collections::HashMap;

use crate::console::journal::{BuyerAction, Entry, KitAction};
use crate::console::product::{ProductSpec, SpecError};
use crate::console::store::{EnterpriseRow, InstanceRow, Mirror, NoticeRow, OrderRow, ProductRow};
use crate::deliver::EngineView;
use crate::marketplace::engine::Effect;
use crate::marketplace::kit::{EnterpriseRef, KitFlag};
use crate::marketplace::lifecycle::OrderKind;
use crate::marketplace::settings::InterfaceKeys;
use crate::marketplace::{
    CallId, CallOptions, CallState, Delivery, EngineError, InstanceRef, Marketplace, PurchaseSpec,
};
use crate::open_api::Book;
use crate::protocol::{AccessKey, Activity, UnixMillis};
use crate::scenario::publish::Publisher;
use crate::transport::Client;
use crate::transport::stream::TrustError;

/// What applying a command produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Applied {
    /// The calls it created.
    pub(crate) calls: Vec<CallId>,
    /// A purchase's order and instances.
    pub(crate) order: Option<(String, Vec<InstanceRef>)>,
}

/// A product while the console runs.
pub(crate) struct Live {
    /// Its row.
    pub(crate) row: ProductRow,
    /// How it was created.
    pub(crate) spec: ProductSpec,
    /// Its marketplace.
    pub(crate) engine: Marketplace,
    /// The client reaching its production interface.
    pub(crate) client: Client,
    /// What performing needs of the engine.
    pub(crate) view: EngineView,
    /// Deliveries handed out and not yet answered (after a crash: the ones to resume).
    pub(crate) pending: Vec<Delivery>,
    /// The read-model rows last written.
    pub(crate) mirror: Mirror,
    /// Publishes the product to the open APIs, when they are served (scope = product id).
    pub(crate) publisher: Option<Publisher>,
    /// Each purchase's instances, by the name an exported scenario gives the purchase.
    pub(crate) aliases: HashMap<usize, String>,
    /// The edited debug cases' changes to their requests, by call.
    pub(crate) edits: HashMap<usize, crate::transport::wire::Edit>,
    purchases: usize,
}

/// A product could not be brought up.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Its stored request no longer decodes.
    #[error("product {0}: its stored request does not decode")]
    Stored(i64, #[source] serde_json::Error),
    /// Its stored request no longer resolves.
    #[error("product {0}")]
    Spec(i64, #[source] SpecError),
    /// The platform's trust store could not be loaded.
    #[error("product {0}: TLS")]
    Trust(i64, #[source] TrustError),
    /// A journal entry does not decode (the file was edited, or kgsim changed underneath).
    #[error("product {0}: journal entry {1} does not decode")]
    Journal(i64, i64, #[source] serde_json::Error),
    /// A journal entry does not apply.
    #[error("product {0}: journal entry {1} does not apply")]
    Replay(i64, i64, #[source] ApplyError),
}

/// A command or journal entry the engine does not take in its current state.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The marketplace does not allow it now.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// It names an instance, notice or enterprise the product does not have.
    #[error("there is no {0}")]
    Missing(String),
    /// It names an interface kgsim does not know.
    #[error(transparent)]
    Interface(#[from] crate::slug::UnknownSlug),
    /// The clock moved with deliveries unanswered, or an answer came for one not due.
    #[error("{0}")]
    OutOfOrder(String),
}

impl Live {
    /// A product with a fresh engine, before its journal is replayed.
    /// `domain` is the identity centre the Kit announces.
    pub(crate) fn new(
        row: ProductRow,
        key: &AccessKey,
        keys: &InterfaceKeys,
        domain: &str,
        book: Option<&Book>,
    ) -> Result<Self, LiveError> {
        let spec: ProductSpec =
            serde_json::from_str(&row.spec).map_err(|e| LiveError::Stored(row.id, e))?;
        let resolved = spec
            .resolve(key, keys, domain)
            .map_err(|e| LiveError::Spec(row.id, e))?;
        let client = Client::with_platform_trust(resolved.target, resolved.timeout)
            .map_err(|e| LiveError::Trust(row.id, e))?;
        let client = match resolved.notify {
            Some(notify) => client.with_notify(notify),
            None => client,
        };
        let mut settings = resolved.settings;
        // What the product's requests look like (key orders, names) depends on the product
        // alone, as a scenario's does on the scenario.
        settings.wire.stable_seed = row.seed as u64;
        let engine = Marketplace::new(settings, UnixMillis(row.start_ms), row.seed as u64);
        let publisher = book.map(|book| {
            let licensed = engine.settings().product != crate::marketplace::kind::ProductType::Saas;
            Publisher::new(book.clone(), row.id as crate::open_api::Scope, licensed)
        });
        Ok(Self {
            publisher,
            view: EngineView::of(&engine),
            row,
            spec,
            engine,
            client,
            pending: Vec::new(),
            mirror: Mirror::default(),
            aliases: HashMap::new(),
            edits: HashMap::new(),
            purchases: 0,
        })
    }

    /// The product's id.
    pub(crate) fn id(&self) -> i64 {
        self.row.id
    }

    /// Replays a journal: commands, clock moves and stored answers, no I/O.
    pub(crate) fn replay(&mut self, journal: &[(i64, String)]) -> Result<(), LiveError> {
        for (seq, text) in journal {
            let id = self.row.id;
            let entry: Entry =
                serde_json::from_str(text).map_err(|e| LiveError::Journal(id, *seq, e))?;
            self.apply(&entry)
                .map_err(|e| LiveError::Replay(id, *seq, e))?;
        }
        Ok(())
    }

    /// Applies one journal entry to the engine.
    pub(crate) fn apply(&mut self, entry: &Entry) -> Result<Applied, ApplyError> {
        let options = CallOptions::default();
        let engine = &mut self.engine;
        let mut applied = Applied::default();
        match entry {
            Entry::Purchase { trial } => {
                let purchase = engine.purchase(&PurchaseSpec {
                    trial: *trial,
                    ..PurchaseSpec::default()
                });
                self.purchases += 1;
                for instance in &purchase.instances {
                    self.aliases
                        .insert(instance.0, format!("order{}", self.purchases));
                }
                applied.calls = purchase.calls;
                applied.order = Some((purchase.order.0, purchase.instances));
            }
            Entry::Act { instance, action } => {
                if *instance >= engine.all_instances().count() {
                    return Err(ApplyError::Missing(format!("instance {instance}")));
                }
                applied.calls = act(engine, InstanceRef(*instance), *action, &options)?;
            }
            Entry::Kit { action } => {
                applied.calls = kit(engine, *action, &options)?;
            }
            Entry::Restart { call } => {
                if *call >= engine.calls().len() {
                    return Err(ApplyError::Missing(format!("notice {call}")));
                }
                engine.restart(CallId(*call))?;
                applied.calls = vec![CallId(*call)];
            }
            Entry::DebugCase {
                activity,
                variant,
                edits,
                ..
            } => {
                let activity: Activity = activity.parse()?;
                let call = engine.debug_case(activity, *variant, &options)?;
                if !edits.is_empty() {
                    self.edits.insert(call.0, edits.to_edit());
                }
                applied.calls = vec![call];
            }
            Entry::Advance { until } => {
                if !self.pending.is_empty() {
                    return Err(ApplyError::OutOfOrder(
                        "the clock moved before every delivery was answered".into(),
                    ));
                }
                self.pending = engine.next_batch(UnixMillis(*until));
            }
            Entry::Complete {
                call,
                attempt,
                transport,
            } => {
                let position = self
                    .pending
                    .iter()
                    .position(|d| d.call.0 == *call && d.attempt == *attempt)
                    .ok_or_else(|| {
                        ApplyError::OutOfOrder(format!(
                            "attempt {attempt} of notice {call} was not due"
                        ))
                    })?;
                let delivery = self.pending.remove(position);
                let judgement = self.view.judge(&delivery, &transport.to_transport());
                self.engine.complete(&delivery, &judgement);
            }
        }
        Ok(applied)
    }

    /// Brings what the open APIs know of the product up to date.
    pub(crate) fn publish(&mut self) {
        if let Some(publisher) = self.publisher.as_mut() {
            publisher.sync(&self.engine);
        }
    }

    /// The read-model rows that changed since the last write.
    pub(crate) fn changes(&mut self) -> crate::console::store::Changes {
        changes(self.row.id, &self.engine, &mut self.mirror)
    }
}

/// The read-model rows of a product's engine that changed since `mirror` was last written.
pub(crate) fn changes(
    product: i64,
    engine: &Marketplace,
    mirror: &mut Mirror,
) -> crate::console::store::Changes {
    let orders = engine
        .orders()
        .map(|order| OrderRow {
            product_id: product,
            order_id: order.id.0.clone(),
            kind: order_kind(order.kind).to_owned(),
            status: order.state.slug().to_owned(),
            placed_at: order.placed_at.0,
            settled_at: order.settled_at.map(|t| t.0),
        })
        .collect();
    let licensed = engine.settings().product != crate::marketplace::kind::ProductType::Saas;
    let instances = engine
        .all_instances()
        .map(|(reference, instance)| InstanceRow {
            product_id: product,
            reference: reference.0 as i64,
            order_id: instance.order.0.clone(),
            instance_id: instance.merchant_id.clone(),
            state: instance.state.slug().to_owned(),
            billing: instance.billing.to_string(),
            trial: instance.trial,
            expire_at: instance.expire_at.map(|t| t.0),
            license_code: instance.merchant_id.clone().filter(|_| licensed),
        })
        .collect();
    let notices = engine
        .calls()
        .iter()
        .map(|call| NoticeRow {
            product_id: product,
            call: call.id.0 as i64,
            activity: call.activity().slug().to_owned(),
            order_id: match &call.effect {
                Effect::Order { order, .. } => Some(order.0.clone()),
                _ => call.instance.map(|i| engine.instance(i).order.0.clone()),
            },
            instance_ref: call.instance.map(|i| i.0 as i64),
            state: match call.state {
                CallState::Scheduled => "scheduled",
                CallState::Succeeded => "succeeded",
                CallState::Exhausted => "exhausted",
            }
            .to_owned(),
            attempts: call.attempts.len() as i64,
            first_due: call.first_due.0,
            probe: call.effect == Effect::Probe,
        })
        .collect();
    let enterprises = engine
        .enterprises()
        .map(|(reference, enterprise)| EnterpriseRow {
            product_id: product,
            reference: reference.0 as i64,
            instance_ref: enterprise.instance.map(|i| i.0 as i64),
            tenant_id: enterprise.tenant_id.clone(),
            tenant_code: enterprise.tenant_code.clone(),
            name: enterprise.name.clone(),
            app_id: enterprise.app_id.clone(),
            client_id: enterprise.client_id.clone(),
            users: enterprise.users.len() as i64,
            departments: enterprise.orgs.len() as i64,
        })
        .collect();
    let changes = mirror.changes(orders, instances, notices);
    mirror.with_enterprises(changes, enterprises)
}

/// Performs a buyer action on the engine.
fn act(
    engine: &mut Marketplace,
    instance: InstanceRef,
    action: BuyerAction,
    options: &CallOptions,
) -> Result<Vec<CallId>, EngineError> {
    match action {
        BuyerAction::Renew => engine.renew(instance, None, options),
        BuyerAction::ConvertTrial => engine.convert_trial(instance, None, options),
        BuyerAction::Upgrade => engine.upgrade(instance, options),
        BuyerAction::Unsubscribe => engine.unsubscribe(instance, options),
        BuyerAction::Freeze => engine.suspend(instance, options),
        BuyerAction::Unfreeze => engine.resume(instance, options),
    }
}

/// Performs a 联营 action on the engine.
fn kit(
    engine: &mut Marketplace,
    action: KitAction,
    options: &CallOptions,
) -> Result<Vec<CallId>, ApplyError> {
    let enterprises = engine.enterprises().count();
    let enterprise = |n: usize| {
        (n < enterprises)
            .then_some(EnterpriseRef(n))
            .ok_or_else(|| ApplyError::Missing(format!("enterprise {n}")))
    };
    let calls = match action {
        KitAction::ApplyCredential => engine.apply_credential(options).map(|(_, calls)| calls),
        KitAction::BindEnterprise { instance } => {
            if instance >= engine.all_instances().count() {
                return Err(ApplyError::Missing(format!("instance {instance}")));
            }
            engine
                .bind_enterprise(InstanceRef(instance), options)
                .map(|(_, calls)| calls)
        }
        KitAction::AuthorizeUsers {
            enterprise: n,
            count,
        } => {
            let count = count.clamp(1, 5000);
            engine.authorize_users(enterprise(n)?, count, KitFlag::Add, options)
        }
        KitAction::AddDepartment { enterprise: n } => {
            engine.change_department(enterprise(n)?, KitFlag::Add, options)
        }
    };
    Ok(calls?)
}

/// An order kind's name in the API.
fn order_kind(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Purchase => "purchase",
        OrderKind::Renewal => "renewal",
        OrderKind::TrialToFormal => "trial-to-formal",
        OrderKind::RenewalRefund => "renewal-refund",
        OrderKind::Upgrade => "upgrade",
        OrderKind::Unsubscribe => "unsubscribe",
    }
}
