//! The ids a scenario run makes up, learnt in order of appearance and aliased so that two
//! runs read the same: instances and orders (`instance#1`, `order#1`), businessIds, the Kit's
//! tenants, apps and clients, online-License events, License codes, the identity-centre
//! domain. Learnt from the requests sent, the merchant's answers, and what the merchant's
//! own open-API calls name.

use serde_json::Value;

use crate::report::fields::{request_fields, response_json};
use crate::scenario::result::ScenarioRun;

/// Fields whose values the marketplace makes up per run, aliased in order of appearance
/// (`tenantId` → `tenant#1`).
const ALIASED: &[(&str, &str)] = &[
    ("license", "license"),
    ("tenantId", "tenant"),
    ("tenantCode", "tenant-code"),
    ("appId", "app"),
    ("clientId", "client"),
    ("eventId", "event"),
];

/// Whether a text is an order id as the marketplace makes them (`CS` + 10 digits + 5
/// letters or digits).
fn is_order_id(text: &str) -> bool {
    text.len() == 17
        && text.starts_with("CS")
        && text[2..12].bytes().all(|b| b.is_ascii_digit())
        && text[12..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// What a run made up, in order of appearance.
#[derive(Default)]
struct Learnt {
    instances: Vec<String>,
    orders: Vec<String>,
    business: Vec<String>,
    aliased: Vec<Vec<String>>,
    domains: Vec<String>,
}

fn note(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

impl Learnt {
    fn aliased(&mut self, name: &str) -> Option<&mut Vec<String>> {
        let index = ALIASED.iter().position(|(n, _)| *n == name)?;
        if self.aliased.len() < ALIASED.len() {
            self.aliased.resize(ALIASED.len(), Vec::new());
        }
        self.aliased.get_mut(index)
    }

    fn request_field(&mut self, name: &str, value: &str) {
        match name {
            "instanceId" => value
                .split(',')
                .for_each(|id| note(&mut self.instances, id.trim())),
            "orderId" => note(&mut self.orders, value),
            // `<orderId>-000001`: learn the order even when the request lost its orderId.
            "orderLineId" => note(
                &mut self.orders,
                value.rsplit_once('-').map_or(value, |(order, _)| order),
            ),
            "businessId" => note(&mut self.business, value),
            "domainName" => note(&mut self.domains, value),
            other => {
                if let Some(list) = self.aliased(other) {
                    note(list, value);
                }
            }
        }
    }

    fn answer(&mut self, body: &Value) {
        if let Some(id) = body.get("instanceId").and_then(Value::as_str) {
            note(&mut self.instances, id);
        }
        for item in body
            .get("info")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = item.get("instanceId").and_then(Value::as_str) {
                note(&mut self.instances, id);
            }
        }
    }

    /// What a merchant's open-API call names: the marketplace's orders and License codes (a
    /// License-code product's purchase makes no exchange at all).
    fn subject(&mut self, subject: &str) {
        if is_order_id(subject) {
            note(&mut self.orders, subject);
        } else if let Some(order) = subject.strip_prefix("PL").filter(|o| is_order_id(o)) {
            note(&mut self.orders, order);
            if let Some(list) = self.aliased("license") {
                note(list, subject);
            }
        }
    }

    /// `(original, alias)`, longest original first so that no alias clips another.
    fn replacements(mut self) -> Vec<(String, String)> {
        self.aliased.resize(ALIASED.len(), Vec::new());
        let numbered = |list: &[String], alias: &str| -> Vec<(String, String)> {
            list.iter()
                .enumerate()
                .map(|(i, v)| (v.clone(), format!("{alias}#{}", i + 1)))
                .collect()
        };
        let mut replacements = numbered(&self.instances, "instance");
        replacements.extend(numbered(&self.orders, "order"));
        replacements.extend(
            self.business
                .iter()
                .filter(|b| !self.instances.contains(b))
                .map(|b| (b.clone(), "[businessId]".to_owned())),
        );
        for ((_, alias), values) in ALIASED.iter().zip(&self.aliased) {
            replacements.extend(numbered(values, alias));
        }
        // tenantSync's domainName is kgsim's identity centre, on a port of the run's.
        replacements.extend(
            self.domains
                .iter()
                .map(|d| (d.clone(), "[identity-centre]".to_owned())),
        );
        replacements.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        replacements
    }
}

/// The replacements of a run: every made-up id with its alias.
pub(crate) fn learn(run: &ScenarioRun) -> Vec<(String, String)> {
    let mut learnt = Learnt::default();
    for exchange in run.steps.iter().flat_map(|s| &s.exchanges) {
        for (name, value) in request_fields(&exchange.performed) {
            learnt.request_field(&name, &value);
        }
        if let Some(body) = response_json(&exchange.performed) {
            learnt.answer(&body);
        }
    }
    for subject in run
        .steps
        .iter()
        .flat_map(|s| &s.merchant_calls)
        .flat_map(|c| &c.subjects)
    {
        learnt.subject(subject);
    }
    learnt.replacements()
}
