//! The reference merchant's in-memory business logic, protocol-neutral: instances, and the
//! idempotency the spec requires (koogallery-saas-v1.md §7, koogallery-v2-kit-license.md
//! §2.1 and §8.1):
//!
//! - newInstance per orderId (on-demand: orderId + productId; V2: orderId + orderLineId);
//! - renewal and upgrade per orderId;
//! - expire, freeze/unfreeze and release per instanceId;
//! - debug calls (`testFlag=1`) succeed in any order, unknown instances included, while real
//!   traffic for an unknown instance gets 000003.

use rand::RngExt as _;

use crate::merchant::faults::{Fault, Faults};
use crate::protocol::ResultCode;

/// The store's tables hash with foldhash (randomly seeded per process) rather than SipHash:
/// under `kgsim load` they hold hundreds of thousands of short ids, and SipHash alone took
/// about 3 % of the merchant's CPU there. The reference merchant is a local test peer, not a
/// server facing hash-flooding.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Generated admin credentials of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) front_end_url: String,
    pub(crate) user_name: String,
    pub(crate) password: String,
}

impl Credentials {
    /// The credentials the merchant issued for an instance: its own front-end URL, the
    /// admin user, the generated password.
    fn issued(instance_id: &str, password: &str) -> Self {
        Self {
            front_end_url: format!("https://app.merchant.example/instances/{instance_id}"),
            user_name: "admin".into(),
            password: password.to_owned(),
        }
    }
}

/// An instance as the merchant keeps it: only what cannot be derived from its id (the
/// front-end URL and the admin user name can), so that a store holding hundreds of
/// thousands of orders under load stays small.
#[derive(Debug, Clone)]
struct Stored {
    /// The generated admin password, held inline (no allocation per instance).
    password: Password,
    on_demand: bool,
    frozen: bool,
    expired: bool,
    released: bool,
    /// V2 asynchronous provisioning: queryInstance answers 000004 this many more times.
    provisioning_polls: u32,
    /// The buyer, for V1 real traffic.
    customer: Option<String>,
    /// Renewals applied (what `third-renewal-refused` counts).
    renewed: u32,
    /// Whether an upgrade was applied (`renewal-after-upgrade-refused`).
    upgraded: bool,
    /// Whether it was ever unfrozen (`second-unfreeze-refused`).
    unfrozen: bool,
    /// Whether it is a converted trial (`expiry-after-conversion-refused`).
    converted: bool,
}

/// What the merchant answers, before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A new (or the same) instance.
    Instance {
        instance_id: String,
        credentials: Credentials,
        /// V2 asynchronous provisioning: answer 000004.
        provisioning: bool,
    },
    /// Instances for queryInstance.
    Listed(Vec<Listed>),
    /// A bare result.
    Code(ResultCode),
}

/// One instance in a queryInstance answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) instance_id: String,
    pub(crate) credentials: Credentials,
    pub(crate) on_demand: bool,
}

/// How a refreshInstance changes the instance.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Refresh {
    /// V1: the renewal unfreezes by itself (V1 §9; V2 sends UNFREEZE after it).
    pub(crate) unfreezes: bool,
    /// V1 `trialToFormal=1`: a trial converted.
    pub(crate) converts: bool,
}

/// A newInstance request, protocol-neutral.
#[derive(Debug, Clone)]
pub(crate) struct Purchase {
    pub(crate) order_id: String,
    /// V1 on-demand: the productId; V2: the orderLineId; otherwise none.
    pub(crate) item: Option<String>,
    pub(crate) business_id: String,
    pub(crate) on_demand: bool,
    pub(crate) debug: bool,
    /// V1: the buyer's customerId (V2 requests carry no buyer).
    pub(crate) customer: Option<String>,
}

/// The merchant's data.
#[derive(Debug, Default)]
pub(crate) struct Store {
    instances: HashMap<String, Stored>,
    purchases: HashMap<(String, Option<String>), String>,
    renewals: HashMap<String, String>,
    upgrades: HashMap<String, String>,
    new_attempts: HashMap<String, u32>,
    /// A buyer's first instance, kept only under `shared-instance-id` (the fault reuses it).
    by_customer: HashMap<String, String>,
    /// Buyers one of whose instances was released (`purchase-after-release-refused`).
    released_customers: HashSet<String>,
}

/// A generated admin password: twelve characters of an alphabet without look-alikes.
#[derive(Debug, Clone, Copy)]
struct Password([u8; 12]);

impl Password {
    fn random() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::rng();
        Self(std::array::from_fn(|_| {
            ALPHABET[rng.random_range(0..ALPHABET.len())]
        }))
    }

    fn as_str(&self) -> &str {
        // Built from an ASCII alphabet only.
        std::str::from_utf8(&self.0).unwrap_or_else(|_| unreachable!("ASCII alphabet"))
    }
}

impl Store {
    fn purchase_key(purchase: &Purchase, faults: &Faults) -> (String, Option<String>) {
        let item = if faults.has(Fault::OnDemandIgnoresProduct) {
            None
        } else {
            purchase.item.clone()
        };
        (purchase.order_id.clone(), item)
    }

    /// Whether an instance was created and not released.
    pub(crate) fn knows(&self, instance_id: &str) -> bool {
        self.instances.get(instance_id).is_some_and(|s| !s.released)
    }

    /// The order (and line) that created an instance.
    pub(crate) fn order_of(&self, instance_id: &str) -> Option<(String, Option<String>)> {
        self.purchases
            .iter()
            .find(|(_, id)| *id == instance_id)
            .map(|(key, _)| key.clone())
    }

    /// The instance an earlier identical purchase created, if any (the "check" half).
    pub(crate) fn existing_purchase(&self, purchase: &Purchase, faults: &Faults) -> Option<String> {
        if faults.has(Fault::NonIdempotentNew) {
            return None;
        }
        self.purchases
            .get(&Self::purchase_key(purchase, faults))
            .cloned()
    }

    /// newInstance: fail-first/fail-always, then the same instance for the same key, else a
    /// new one whose id is the first request's businessId (as the spec recommends).
    pub(crate) fn new_instance(
        &mut self,
        purchase: &Purchase,
        faults: &Faults,
        async_provisioning: bool,
    ) -> Reply {
        if faults.has(Fault::FailAlways) && !purchase.debug {
            return Reply::Code(ResultCode::InternalError);
        }
        if let Some(n) = faults.fail_first().filter(|_| !purchase.debug) {
            let attempts = self
                .new_attempts
                .entry(purchase.order_id.clone())
                .or_default();
            *attempts += 1;
            if *attempts <= n {
                return Reply::Code(ResultCode::InternalError);
            }
        }
        if let Some(existing) = self.existing_purchase(purchase, faults) {
            let frozen = self.instances.get(&existing).is_some_and(|s| s.frozen);
            if !(frozen && faults.has(Fault::ResendAfterFreezeNewInstance)) {
                return self.instance_reply(&existing);
            }
            let mut again = purchase.clone();
            again.business_id = format!("{}-again", purchase.business_id);
            return self.insert_purchase(&again, faults, async_provisioning);
        }
        let released_before = purchase
            .customer
            .as_ref()
            .is_some_and(|c| self.released_customers.contains(c));
        if released_before && !purchase.debug && faults.has(Fault::PurchaseAfterReleaseRefused) {
            return Reply::Code(ResultCode::InternalError);
        }
        self.insert_purchase(purchase, faults, async_provisioning)
    }

    /// The "insert" half, without checking (used directly by the race fault).
    pub(crate) fn insert_purchase(
        &mut self,
        purchase: &Purchase,
        faults: &Faults,
        async_provisioning: bool,
    ) -> Reply {
        // Under shared-instance-id a buyer's later orders reuse its first instanceId. Only
        // that fault reads the buyer table, so only that fault fills it.
        let sharing_buyer = purchase
            .customer
            .as_ref()
            .filter(|_| faults.has(Fault::SharedInstanceId));
        let instance_id = match sharing_buyer {
            Some(customer) => self
                .by_customer
                .entry(customer.clone())
                .or_insert_with(|| purchase.business_id.clone())
                .clone(),
            None => purchase.business_id.clone(),
        };
        self.instances
            .entry(instance_id.clone())
            .or_insert_with(|| Stored {
                password: Password::random(),
                on_demand: purchase.on_demand,
                frozen: false,
                expired: false,
                released: false,
                provisioning_polls: u32::from(async_provisioning),
                customer: purchase.customer.clone().filter(|_| !purchase.debug),
                renewed: 0,
                upgraded: false,
                unfrozen: false,
                converted: false,
            });
        self.purchases
            .insert(Self::purchase_key(purchase, faults), instance_id.clone());
        self.instance_reply(&instance_id)
    }

    fn instance_reply(&self, instance_id: &str) -> Reply {
        let stored = &self.instances[instance_id];
        Reply::Instance {
            instance_id: instance_id.to_owned(),
            credentials: Credentials::issued(instance_id, stored.password.as_str()),
            provisioning: stored.provisioning_polls > 0,
        }
    }

    /// The live instance, `Ok(None)` for an unknown one that should still succeed (debug
    /// traffic, or the unknown-instance-ok fault), or the 000003 reply.
    fn live(
        &mut self,
        instance_id: &str,
        debug: bool,
        faults: &Faults,
    ) -> Result<Option<&mut Stored>, Reply> {
        let known = self.instances.get(instance_id).is_some_and(|s| !s.released);
        if known {
            return Ok(self.instances.get_mut(instance_id));
        }
        let tolerated = if debug {
            !faults.has(Fault::StrictDebug)
        } else {
            faults.has(Fault::UnknownInstanceOk)
        };
        if tolerated {
            Ok(None)
        } else {
            Err(Reply::Code(ResultCode::InstanceNotFound))
        }
    }

    /// refreshInstance: renewal, trial to formal, refund of a renewal period; the same orderId
    /// again succeeds without applying twice.
    pub(crate) fn refresh(
        &mut self,
        order_id: &str,
        instance_id: &str,
        how: Refresh,
        debug: bool,
        faults: &Faults,
    ) -> Reply {
        let repeat = self.renewals.contains_key(order_id);
        let stored = match self.live(instance_id, debug, faults) {
            Ok(Some(stored)) => stored,
            Ok(None) => return Reply::Code(ResultCode::Success),
            Err(reply) => return reply,
        };
        if repeat {
            let failing = faults.has(Fault::RenewNotIdempotent);
            return Reply::Code(if failing {
                ResultCode::InternalError
            } else {
                ResultCode::Success
            });
        }
        if stored.upgraded && faults.has(Fault::RenewalAfterUpgradeRefused) {
            return Reply::Code(ResultCode::InstanceNotFound);
        }
        if stored.renewed >= 2 && faults.has(Fault::ThirdRenewalRefused) {
            return Reply::Code(ResultCode::InternalError);
        }
        stored.renewed += 1;
        stored.converted |= how.converts;
        // V1 unfreezes by refreshInstance alone (V1 §9); V2 follows the renewal with
        // updateInstanceStatus UNFREEZE (V2 §2.4), so there the refresh only extends.
        if how.unfreezes {
            stored.frozen = false;
            stored.expired = false;
        }
        self.renewals
            .insert(order_id.to_owned(), instance_id.to_owned());
        Reply::Code(ResultCode::Success)
    }

    /// expireInstance: freeze, keeping the data; a repeat succeeds.
    pub(crate) fn expire(&mut self, instance_id: &str, debug: bool, faults: &Faults) -> Reply {
        match self.live(instance_id, debug, faults) {
            Ok(Some(stored)) if stored.expired && faults.has(Fault::ExpireNotIdempotent) => {
                Reply::Code(ResultCode::InternalError)
            }
            Ok(Some(stored))
                if stored.converted && faults.has(Fault::ExpiryAfterConversionRefused) =>
            {
                Reply::Code(ResultCode::InternalError)
            }
            Ok(Some(stored)) => {
                stored.expired = true;
                stored.frozen = true;
                Reply::Code(ResultCode::Success)
            }
            Ok(None) => Reply::Code(ResultCode::Success),
            Err(reply) => reply,
        }
    }

    /// releaseInstance: delete; a repeat succeeds (the instance is remembered as released).
    pub(crate) fn release(&mut self, instance_id: &str, debug: bool, faults: &Faults) -> Reply {
        if let Some(stored) = self.instances.get(instance_id).filter(|s| s.released) {
            let _ = stored;
            let failing = faults.has(Fault::ReleaseNotIdempotent);
            return Reply::Code(if failing {
                ResultCode::InstanceNotFound
            } else {
                ResultCode::Success
            });
        }
        match self.live(instance_id, debug, faults) {
            Ok(Some(stored)) => {
                stored.released = true;
                if let Some(customer) = stored.customer.clone() {
                    self.released_customers.insert(customer);
                }
                Reply::Code(ResultCode::Success)
            }
            Ok(None) => Reply::Code(ResultCode::Success),
            Err(reply) => reply,
        }
    }

    /// upgrade: apply once per orderId; a repeat succeeds.
    pub(crate) fn upgrade(
        &mut self,
        order_id: &str,
        instance_id: &str,
        debug: bool,
        faults: &Faults,
    ) -> Reply {
        let repeat = self.upgrades.contains_key(order_id);
        match self.live(instance_id, debug, faults) {
            Ok(Some(_)) if repeat && faults.has(Fault::UpgradeNotIdempotent) => {
                Reply::Code(ResultCode::InternalError)
            }
            Ok(Some(stored)) => {
                stored.upgraded = true;
                self.upgrades
                    .insert(order_id.to_owned(), instance_id.to_owned());
                Reply::Code(ResultCode::Success)
            }
            Ok(None) => Reply::Code(ResultCode::Success),
            Err(reply) => reply,
        }
    }

    /// instanceStatus / updateInstanceStatus: freeze or unfreeze; a repeat succeeds.
    pub(crate) fn set_frozen(
        &mut self,
        instance_id: &str,
        freeze: bool,
        debug: bool,
        faults: &Faults,
    ) -> Reply {
        if !freeze && faults.has(Fault::RefuseUnfreeze) {
            return Reply::Code(ResultCode::InvalidParam);
        }
        match self.live(instance_id, debug, faults) {
            Ok(Some(stored))
                if stored.frozen == freeze && faults.has(Fault::StatusNotIdempotent) =>
            {
                Reply::Code(ResultCode::InternalError)
            }
            Ok(Some(stored))
                if !freeze
                    && stored.frozen
                    && stored.unfrozen
                    && faults.has(Fault::SecondUnfreezeRefused) =>
            {
                Reply::Code(ResultCode::InternalError)
            }
            Ok(Some(stored)) => {
                if !freeze && stored.frozen {
                    stored.unfrozen = true;
                }
                stored.frozen = freeze;
                if !freeze {
                    stored.expired = false;
                }
                Reply::Code(ResultCode::Success)
            }
            Ok(None) => Reply::Code(ResultCode::Success),
            Err(reply) => reply,
        }
    }

    /// queryInstance for a comma-separated batch of at most 100 ids (V1 §4.7, V2 §2.2): the
    /// live instances of the batch; 000003 when real traffic names none that exists; 000004
    /// while one is still provisioning; 000002 for more than 100 ids.
    pub(crate) fn query(&mut self, batch: &str, debug: bool, faults: &Faults) -> Reply {
        let instance_ids: Vec<&str> = batch
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if instance_ids.len() > 100 {
            return Reply::Code(ResultCode::InvalidParam);
        }
        if faults.has(Fault::QueryListsNothing) {
            return Reply::Code(ResultCode::Success);
        }
        let tolerated = if debug {
            !faults.has(Fault::StrictDebug)
        } else {
            faults.has(Fault::UnknownInstanceOk)
        };
        let mut listed = Vec::new();
        for id in instance_ids {
            match self.instances.get_mut(id) {
                Some(stored) if !stored.released => {
                    if stored.provisioning_polls > 0 {
                        stored.provisioning_polls -= 1;
                        return Reply::Code(ResultCode::Processing);
                    }
                    listed.push(Listed {
                        instance_id: id.to_owned(),
                        credentials: Credentials::issued(id, stored.password.as_str()),
                        on_demand: stored.on_demand,
                    });
                }
                // The debug page's instance ids exist nowhere; its answer must still name
                // them (instanceId is mandatory in every entry, V1 §1 FAQ, V2 §8.3).
                _ if debug && tolerated => listed.push(Listed {
                    instance_id: id.to_owned(),
                    credentials: Credentials {
                        front_end_url: "https://app.merchant.example/debug".into(),
                        user_name: "debug".into(),
                        password: "debug-password".into(),
                    },
                    on_demand: false,
                }),
                _ => {}
            }
        }
        if listed.is_empty() && !tolerated {
            return Reply::Code(ResultCode::InstanceNotFound);
        }
        Reply::Listed(listed)
    }

    /// changeInstanceCheck: the reference merchant allows every change of a live instance.
    pub(crate) fn change_check(
        &mut self,
        instance_id: &str,
        debug: bool,
        faults: &Faults,
    ) -> Reply {
        match self.live(instance_id, debug, faults) {
            Ok(_) => Reply::Code(ResultCode::Success),
            Err(reply) => reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_RENEWAL: Refresh = Refresh {
        unfreezes: true,
        converts: false,
    };

    fn purchase(order: &str, item: Option<&str>, business: &str) -> Purchase {
        Purchase {
            order_id: order.into(),
            item: item.map(str::to_owned),
            business_id: business.into(),
            on_demand: item.is_some(),
            debug: false,
            customer: Some("c".into()),
        }
    }

    fn id_of(reply: &Reply) -> &str {
        match reply {
            Reply::Instance { instance_id, .. } => instance_id,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn same_order_same_instance_and_credentials() {
        let mut store = Store::default();
        let a = store.new_instance(&purchase("o1", None, "b1"), &Faults::none(), false);
        let b = store.new_instance(&purchase("o1", None, "b2"), &Faults::none(), false);
        assert_eq!(a, b);
        assert_eq!(id_of(&a), "b1");
        let c = store.new_instance(&purchase("o2", None, "b3"), &Faults::none(), false);
        assert_ne!(id_of(&a), id_of(&c));
    }

    #[test]
    fn on_demand_keys_on_order_and_product() {
        let mut store = Store::default();
        let a = store.new_instance(&purchase("o", Some("p1"), "b1"), &Faults::none(), false);
        let b = store.new_instance(&purchase("o", Some("p2"), "b2"), &Faults::none(), false);
        assert_ne!(id_of(&a), id_of(&b));
        let faulty = Faults::of([Fault::OnDemandIgnoresProduct]);
        let mut store = Store::default();
        let a = store.new_instance(&purchase("o", Some("p1"), "b1"), &faulty, false);
        let b = store.new_instance(&purchase("o", Some("p2"), "b2"), &faulty, false);
        assert_eq!(id_of(&a), id_of(&b));
    }

    #[test]
    fn unknown_instances_get_000003_unless_debug() {
        let mut store = Store::default();
        let none = Faults::none();
        assert_eq!(
            store.expire("nope", false, &none),
            Reply::Code(ResultCode::InstanceNotFound)
        );
        assert_eq!(
            store.expire("nope", true, &none),
            Reply::Code(ResultCode::Success)
        );
        assert_eq!(
            store.query("nope", false, &none),
            Reply::Code(ResultCode::InstanceNotFound)
        );
        assert!(
            matches!(store.query("nope", true, &none), Reply::Listed(l) if l[0].instance_id == "nope"),
            "a debug query names the ids it was asked about"
        );
        assert_eq!(
            store.expire("nope", true, &Faults::of([Fault::StrictDebug])),
            Reply::Code(ResultCode::InstanceNotFound)
        );
        assert_eq!(
            store.expire("nope", false, &Faults::of([Fault::UnknownInstanceOk])),
            Reply::Code(ResultCode::Success)
        );
    }

    #[test]
    fn repeats_succeed_and_release_is_remembered() {
        let mut store = Store::default();
        let none = Faults::none();
        store.new_instance(&purchase("o", None, "i"), &none, false);
        for _ in 0..2 {
            assert_eq!(
                store.expire("i", false, &none),
                Reply::Code(ResultCode::Success)
            );
            assert_eq!(
                store.refresh("r1", "i", V1_RENEWAL, false, &none),
                Reply::Code(ResultCode::Success)
            );
            assert_eq!(
                store.upgrade("u1", "i", false, &none),
                Reply::Code(ResultCode::Success)
            );
            assert_eq!(
                store.set_frozen("i", true, false, &none),
                Reply::Code(ResultCode::Success)
            );
        }
        assert_eq!(
            store.release("i", false, &none),
            Reply::Code(ResultCode::Success)
        );
        assert_eq!(
            store.release("i", false, &none),
            Reply::Code(ResultCode::Success)
        );
        assert_eq!(
            store.refresh("r2", "i", V1_RENEWAL, false, &none),
            Reply::Code(ResultCode::InstanceNotFound)
        );
    }

    #[test]
    fn query_batches_are_capped_at_100_ids() {
        let mut store = Store::default();
        let batch = (0..101)
            .map(|n| format!("i{n}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            store.query(&batch, true, &Faults::none()),
            Reply::Code(ResultCode::InvalidParam)
        );
    }

    #[test]
    fn fail_first_counts_per_order() {
        let mut store = Store::default();
        let faults = Faults::of([Fault::FailFirst(2)]);
        for _ in 0..2 {
            assert_eq!(
                store.new_instance(&purchase("o", None, "b"), &faults, false),
                Reply::Code(ResultCode::InternalError)
            );
        }
        assert!(matches!(
            store.new_instance(&purchase("o", None, "b"), &faults, false),
            Reply::Instance { .. }
        ));
        assert_eq!(
            store.new_instance(&purchase("p", None, "c"), &faults, false),
            Reply::Code(ResultCode::InternalError)
        );
    }

    #[test]
    fn async_provisioning_answers_000004_until_polled() {
        let mut store = Store::default();
        let reply = store.new_instance(&purchase("o", None, "i"), &Faults::none(), true);
        assert!(matches!(
            reply,
            Reply::Instance {
                provisioning: true,
                ..
            }
        ));
        assert_eq!(
            store.query("i", false, &Faults::none()),
            Reply::Code(ResultCode::Processing)
        );
        assert!(
            matches!(store.query("i", false, &Faults::none()), Reply::Listed(l) if l.len() == 1)
        );
    }
}
