//! What the open APIs know of a scenario's marketplace: its orders as query-order answers
//! them, its instances as the usage rules see them, and — for products whose software uses
//! License codes — one code per purchase. Published before every batch of deliveries (a
//! merchant may query an order as soon as its newInstance arrives) and after every batch
//! (an instance is named by the id the merchant returned).
//!
//! Instance times are wall times: the merchant reports usage on its own clock, so an
//! instance "starts" when its order was placed, in wall time.

use std::collections::HashMap;

use crate::marketplace::lifecycle::{
    FreezeReason, Instance, InstanceState, Order, OrderKind, OrderState,
};
use crate::marketplace::{Marketplace, OrderId};
use crate::open_api::Book;
use crate::open_api::book::{
    IdentityClient, IdentityTenant, InstanceEntry, LicenseEntry, OrderEntry, Scope, State,
};
use crate::open_api::server::wall_now;
use crate::protocol::identity::UserInfo;
use crate::protocol::open_api::license::LicenseStatus;
use crate::protocol::open_api::order::{BuyerInfo, OrderInfo, OrderLine, OrderType, ProductInfo};
use crate::protocol::open_api::usage::InstanceView;
use crate::protocol::{BillingMode, UnixMillis};

pub(crate) use crate::marketplace::lifecycle::license_code;

/// Publishes one scenario's marketplace to the book.
#[derive(Debug)]
pub(crate) struct Publisher {
    book: Book,
    scope: Scope,
    licenses: bool,
    /// When each order was placed, in wall time.
    placed: HashMap<OrderId, UnixMillis>,
    /// When each instance stopped being active (frozen or released), in wall time.
    stopped: HashMap<String, UnixMillis>,
}

impl Publisher {
    pub(crate) fn new(book: Book, scope: Scope, licenses: bool) -> Self {
        Self {
            book,
            scope,
            licenses,
            placed: HashMap::new(),
            stopped: HashMap::new(),
        }
    }

    /// The book.
    pub(crate) fn book(&self) -> &Book {
        &self.book
    }

    /// The run's scope.
    pub(crate) fn scope(&self) -> Scope {
        self.scope
    }

    /// Brings the book up to date with the marketplace.
    pub(crate) fn sync(&mut self, engine: &Marketplace) {
        let now = wall_now();
        for order in engine.orders() {
            self.placed.entry(order.id.clone()).or_insert(now);
        }
        let mut state = self.book.lock();
        for order in engine.orders() {
            let info = order_info(engine, order);
            state.orders.insert(
                order.id.0.clone(),
                OrderEntry {
                    scope: self.scope,
                    info,
                },
            );
        }
        for (_, instance) in engine.all_instances() {
            let placed = self.placed.get(&instance.order).copied().unwrap_or(now);
            // Usage times have whole seconds: the start is the second the order was placed in.
            let started = UnixMillis(placed.0 - placed.0.rem_euclid(1000));
            if let Some(id) = &instance.merchant_id {
                let stop_package = engine
                    .all_instances()
                    .find(|(_, p)| {
                        p.stop_when_used_up
                            && p.serves.map(|s| engine.instance(s).merchant_id.as_ref())
                                == Some(Some(id))
                    })
                    .and_then(|(_, p)| {
                        let since = self.placed.get(&p.order).copied().unwrap_or(now);
                        p.merchant_id.clone().map(|m| (m, since))
                    });
                let closed = match instance.state {
                    InstanceState::Frozen(_) | InstanceState::Released => {
                        Some(*self.stopped.entry(id.clone()).or_insert(now))
                    }
                    _ => {
                        self.stopped.remove(id);
                        None
                    }
                };
                let opened = !matches!(
                    instance.state,
                    InstanceState::Pending | InstanceState::Provisioning | InstanceState::Failed
                );
                let view = InstanceView {
                    on_demand: instance.billing == BillingMode::OnDemand,
                    started,
                    closed,
                    usable: opened,
                    stop_package,
                };
                let usage = state.instances.get(id).map_or(0.0, |e| e.usage);
                state.instances.insert(
                    id.clone(),
                    InstanceEntry {
                        scope: self.scope,
                        view,
                        usage,
                        quota: instance.quota.map(f64::from),
                    },
                );
            }
            if self.licenses {
                self.publish_license(&mut state.licenses, engine, instance);
            }
        }
        self.publish_identity(&mut state, engine);
        // Online-License applications: the events the merchant may upload a License for.
        for call in engine.calls() {
            if let Some(event) = call.template.event_id() {
                state.events.insert(event.to_owned(), self.scope);
            }
        }
        drop(state);
        self.book.notify();
    }

    /// The identity centre knows each enterprise's OAuth client and its authorised users,
    /// as the marketplace has them (spec V2 §3.9).
    fn publish_identity(&self, state: &mut State, engine: &Marketplace) {
        for (_, enterprise) in engine.enterprises() {
            state.identity.clients.insert(
                enterprise.client_id.clone(),
                IdentityClient {
                    scope: self.scope,
                    secret: enterprise.client_secret.clone(),
                    tenant: enterprise.tenant_id.clone(),
                    app_id: enterprise.app_id.clone(),
                },
            );
            let org_name = |code: &str| {
                enterprise
                    .orgs
                    .iter()
                    .find(|o| o.org_code == code)
                    .map_or_else(String::new, |o| o.org_name.clone())
            };
            let users = enterprise
                .users
                .iter()
                .filter(|u| u.enable == "true")
                .map(|u| {
                    let id = format!("{}-{}", enterprise.tenant_code, u.user_name);
                    let info = UserInfo {
                        id: id.clone(),
                        user_name: u.user_name.clone(),
                        name: u.name.clone(),
                        email: u.email.clone().unwrap_or_default(),
                        mobile: u.mobile.clone().unwrap_or_default(),
                        role: u.role.clone(),
                        organization_name: org_name(&u.org_code),
                        organization_code: u.org_code.clone(),
                        user_id: id,
                        project_name: enterprise.name.clone(),
                        tenant: enterprise.tenant_id.clone(),
                    };
                    (u.user_name.clone(), info)
                })
                .collect();
            state.identity.tenants.insert(
                enterprise.tenant_id.clone(),
                IdentityTenant {
                    scope: self.scope,
                    name: enterprise.name.clone(),
                    users,
                },
            );
        }
    }

    fn publish_license(
        &self,
        licenses: &mut std::collections::BTreeMap<String, LicenseEntry>,
        engine: &Marketplace,
        instance: &Instance,
    ) {
        let code = license_code(&instance.order);
        let delivered = engine
            .order(&instance.order)
            .is_some_and(|o| o.state == OrderState::Opened);
        let status = match instance.state {
            InstanceState::Released => LicenseStatus::Released,
            InstanceState::Frozen(FreezeReason::Expired) => LicenseStatus::Expired,
            _ => LicenseStatus::Alive,
        };
        let activated = licenses.get(&code).and_then(|l| l.activated);
        licenses.insert(
            code,
            LicenseEntry {
                scope: self.scope,
                order_id: instance.order.0.clone(),
                delivered,
                activated,
                status,
                expire_time: instance.expire_at.map(UnixMillis::to_compact_seconds),
            },
        );
    }
}

/// An order as query-order answers it.
fn order_info(engine: &Marketplace, order: &Order) -> OrderInfo {
    let subject: Vec<&Instance> = match order.subject {
        Some(instance) => vec![engine.instance(instance)],
        None => engine
            .instances_of(&order.id)
            .iter()
            .map(|r| engine.instance(*r))
            .collect(),
    };
    let trial = subject.iter().any(|i| i.trial) && order.kind == OrderKind::Purchase;
    let order_type = match order.kind {
        OrderKind::Purchase if trial => OrderType::Trial,
        OrderKind::Purchase => OrderType::New,
        OrderKind::Renewal => OrderType::Renew,
        OrderKind::TrialToFormal => OrderType::TrialToFormal,
        OrderKind::RenewalRefund | OrderKind::Unsubscribe => OrderType::Unsubscribe,
        OrderKind::Upgrade => OrderType::Change,
    };
    let order_line = subject
        .iter()
        .enumerate()
        .map(|(n, instance)| OrderLine {
            order_line_id: if order.subject.is_some() {
                format!("{}-{:06}", order.id.0, n + 1)
            } else {
                instance.order_line.clone()
            },
            charging_mode: instance.billing.order_api_name().to_owned(),
            period_type: None,
            period_number: None,
            product_info: vec![ProductInfo {
                sku_code: instance.sku_code.clone(),
                product_id: instance.product_id.clone(),
            }],
            expire_time: instance.expire_at.map(UnixMillis::to_compact_seconds),
            trial_flag: instance.trial.then(|| "1".to_owned()),
        })
        .collect();
    let buyer = engine.buyer();
    OrderInfo {
        order_id: order.id.0.clone(),
        order_type,
        create_time: order.placed_at.to_compact_seconds(),
        order_line,
        buyer_info: Some(BuyerInfo {
            customer_id: buyer.customer_id.clone(),
            customer_name: buyer.customer_name.clone(),
        }),
        extend_params: Vec::new(),
    }
}
