//! The buyer pays a new order: newInstance for each billing item (spec V1 §4.1, V2 §2.1).

use crate::marketplace::engine::{Effect, Marketplace};
use crate::marketplace::events::{Purchase, PurchaseSpec};
use crate::marketplace::lifecycle::{Instance, InstanceRef, OrderKind, OrderLine};
use crate::marketplace::requests;
use crate::protocol::{BillingMode, Period};

impl Marketplace {
    /// The buyer pays: newInstance for each billing item of a new order.
    pub fn purchase(&mut self, spec: &PurchaseSpec) -> Purchase {
        let billing = spec.billing.unwrap_or(self.settings.billing);
        let order = self.place_order(OrderKind::Purchase, None);
        let period = if spec.trial {
            self.settings.trial_period
        } else {
            spec.period.unwrap_or(Period::ONE_MONTH)
        };
        let expire_at = billing.has_expiry().then(|| period.end_from(self.now));
        // On-demand specs with several billing items: one order, one instance per product,
        // keyed on orderId + productId (V1 §4.1).
        let items = if billing.keys_on_product() {
            spec.products.max(1)
        } else {
            1
        };
        let catalog = self.settings.catalog.clone();
        let first = match billing {
            BillingMode::Package => catalog.package_product_id.clone(),
            _ => catalog.product_id.clone(),
        };
        let mut products = std::iter::once(first)
            .chain(catalog.extra_on_demand_products)
            .chain((0..).map(|n| format!("00301-1{n:05}-9--0")));
        let mut purchase = Purchase {
            order: order.clone(),
            instances: Vec::new(),
            calls: Vec::new(),
        };
        for number in 1..=items {
            let line = OrderLine {
                order: order.clone(),
                line: format!("{order}-{number:06}"),
                product_id: products.next().unwrap_or_default(),
                sku_code: catalog.sku_code.clone(),
            };
            let mut instance = Instance::pending(line, billing, expire_at);
            instance.trial = spec.trial;
            instance.serves = spec.package_for;
            instance.stop_when_used_up = spec.stop_when_used_up;
            instance.quota = spec.quota;
            let instance = self.add_instance(instance);
            purchase.instances.push(instance);
            if !self.settings.product.has_new_instance() {
                // License 2.0: the marketplace issues the code itself; nothing is sent and
                // the order opens at once (spec V2 §4.1).
                let code = crate::marketplace::lifecycle::license_code(&order);
                self.open_instance(instance, code);
                continue;
            }
            let request = requests::new_instance(
                &self.settings,
                &mut self.ids,
                &self.buyer,
                &self.instances[instance.0],
            );
            for _ in 0..spec.copies.max(1) {
                let effect = Effect::Purchase { instance };
                let call = self.notify(request.clone(), effect, instance, &spec.options);
                purchase.calls.push(call);
            }
        }
        purchase
    }

    fn add_instance(&mut self, instance: Instance) -> InstanceRef {
        let handle = InstanceRef(self.instances.len());
        self.order_instances
            .entry(instance.order.clone())
            .or_default()
            .push(handle);
        self.instances.push(instance);
        handle
    }
}
