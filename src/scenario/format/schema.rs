//! The scenario format, declared once: every object, its keys, what each holds and what it
//! means. The loader checks keys against these tables (unknown keys are errors, with a
//! did-you-mean) and `kgsim schema` turns them into a JSON Schema for editors.

use serde_json::{Value, json};

use crate::checks::CheckId;
use crate::marketplace::Span;

/// The longest stretch of virtual time a step may cover or delay (100 years): anything longer
/// is a typo, and would run the clock past what a date can hold.
pub(crate) const MAX_SPAN: Span = Span::days(36_525);

/// What a key holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Free text.
    Text,
    /// A whole number from `min` to `max`.
    Integer {
        /// The minimum.
        min: u32,
        /// The maximum.
        max: u32,
    },
    /// `true` or `false`.
    Boolean,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A virtual-time duration: `3h`, `30m`, `90s`, `15d`, `1d12h`.
    Duration,
    /// A subscription period: `1 month`, `1 year`, `7 days`.
    Period,
    /// A duration or a period.
    DurationOrPeriod,
    /// The `as:` name of an earlier step.
    Ref,
    /// A list.
    List(&'static Kind),
    /// `all`, or a list of these.
    AllOr(&'static Kind),
    /// An object.
    Object(&'static Shape),
    /// A mapping of free names to text.
    TextMap,
    /// A result code in quotes, a list of them, or `rejected`.
    ResultCodes,
    /// A check id (`kgsim checks`).
    Check,
}

/// A key of an object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// The key.
    pub(crate) name: &'static str,
    /// What it holds.
    pub(crate) kind: Kind,
    /// Whether it must be present.
    pub(crate) required: bool,
    /// What it means.
    pub(crate) doc: &'static str,
}

const fn key(name: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key {
        name,
        kind,
        required: false,
        doc,
    }
}

const fn required(name: &'static str, kind: Kind, doc: &'static str) -> Key {
    Key {
        name,
        kind,
        required: true,
        doc,
    }
}

/// An object of the format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Its name in messages (`scenario`, `step`, `faults`, …).
    pub(crate) name: &'static str,
    /// What it is.
    pub(crate) doc: &'static str,
    /// Its keys.
    pub(crate) keys: &'static [Key],
}

impl Shape {
    /// The key named `name`.
    pub(crate) fn key(&self, name: &str) -> Option<&'static Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The names of every key.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> {
        self.keys.iter().map(|k| k.name)
    }
}

/// Protocol names.
pub(crate) const PROTOCOLS: &[&str] = &["v1", "v2"];
/// Billing mode names.
pub(crate) const BILLING: &[&str] = &["period", "one-time", "on-demand", "package"];
/// Activity names, protocol-neutral.
pub(crate) const ACTIVITIES: &[&str] = &[
    "new-instance",
    "refresh-instance",
    "expire-instance",
    "release-instance",
    "upgrade",
    "instance-status",
    "query-instance",
    "change-instance-check",
    "tenant-sync",
    "application-sync",
    "auth-sync",
    "single-org-sync",
    "all-org-sync",
    "refresh-license-code",
    "update-license-code-status",
    "release-license-code",
    "get-license-async",
    "order-notify",
];
/// Product types.
pub(crate) const PRODUCTS_TYPES: &[&str] = &["saas", "license-code", "online-license"];
/// The Kit syncs.
pub(crate) const KIT_SYNCS: &[&str] = &[
    "tenant-sync",
    "application-sync",
    "auth-sync",
    "single-org-sync",
    "all-org-sync",
];
/// Kit `flag` values.
pub(crate) const KIT_FLAGS: &[&str] = &["add", "modify", "delete", "cancel"];
/// How a login goes.
pub(crate) const LOGIN_VIA: &[&str] = &["oauth2", "cas"];
/// `authorize-users.users`: at most 500 per sync, several syncs per step.
pub(crate) static USERS: Kind = Kind::Integer { min: 1, max: 5_000 };
/// Tamper kinds.
pub(crate) const TAMPERS: &[&str] = &[
    "signature",
    "missing-signature",
    "parameter",
    "stale-timestamp",
    "replayed-nonce",
];
/// Order states.
pub(crate) const ORDER_STATES: &[&str] =
    &["pending", "provisioning", "opened", "failed", "refunded"];
/// Instance states.
pub(crate) const INSTANCE_STATES: &[&str] = &[
    "pending",
    "provisioning",
    "active",
    "frozen",
    "suspended",
    "in-arrears",
    "stopped",
    "released",
    "failed",
];

static TEXT: Kind = Kind::Text;
static REF: Kind = Kind::Ref;
/// An attempt number.
pub(crate) static ATTEMPT: Kind = Kind::Integer {
    min: 1,
    max: 10_000,
};
/// `faults.copies`: identical copies sent at once.
pub(crate) static COPIES: Kind = Kind::Integer { min: 1, max: 1_000 };
/// `purchase.quota`: a stop-when-used-up package's quota.
pub(crate) static QUOTA: Kind = Kind::Integer {
    min: 1,
    max: 1_000_000,
};
/// `faults.rounds`: how many times a step with copies is repeated.
pub(crate) static ROUNDS: Kind = Kind::Integer { min: 1, max: 50 };
/// `purchase.products`: on-demand billing items of one order.
pub(crate) static PRODUCTS: Kind = Kind::Integer { min: 1, max: 100 };
/// `query.unknown`: ids never issued added to a batch (a batch holds at most 100 ids).
pub(crate) static UNKNOWN_IDS: Kind = Kind::Integer { min: 0, max: 100 };
/// `debug.variant`.
pub(crate) static VARIANT: Kind = Kind::Integer { min: 0, max: 100 };
/// `debug.repeat`.
pub(crate) static REPEAT: Kind = Kind::Integer { min: 1, max: 100 };
/// Counts in expectations (`instances`, `attempts`, `listed`).
pub(crate) static COUNT: Kind = Kind::Integer {
    min: 0,
    max: 100_000,
};
/// A virtual-time duration (delays, attempt times): at most 100 years.
pub(crate) static DURATION: Kind = Kind::Duration;
static PROTOCOL: Kind = Kind::Choice(PROTOCOLS);
static BILLING_MODE: Kind = Kind::Choice(BILLING);
static ACTIVITY: Kind = Kind::Choice(ACTIVITIES);
static PRODUCT_TYPE: Kind = Kind::Choice(PRODUCTS_TYPES);

/// `applies:`.
pub(crate) static APPLIES: Shape = Shape {
    name: "applies",
    doc: "Which products the scenario applies to; an absent list means all.",
    keys: &[
        key("protocols", Kind::List(&PROTOCOL), "Protocols: v1, v2."),
        key(
            "billing",
            Kind::List(&BILLING_MODE),
            "Billing modes: period, one-time, on-demand, package.",
        ),
        key(
            "requires",
            Kind::List(&ACTIVITY),
            "Interfaces the product must implement (its kind's, or optional ones it declares).",
        ),
        key(
            "calls",
            Kind::List(&OPEN_API),
            "Open APIs the product's systems call (the profile's `open-apis`): query-order, usage-push, license.",
        ),
        key(
            "products",
            Kind::List(&PRODUCT_TYPE),
            "Product types: saas, license-code, online-license; absent means those bought through newInstance (saas, online-license).",
        ),
    ],
};

/// The open APIs a product may call.
pub(crate) const OPEN_APIS: &[&str] = &["query-order", "usage-push", "license"];
static OPEN_API: Kind = Kind::Choice(OPEN_APIS);
/// `await.within`: at most ten minutes of wall time.
pub(crate) static WITHIN_MAX_MS: i64 = 600_000;
/// `await.usage.records`.
pub(crate) static RECORDS: Kind = Kind::Integer { min: 1, max: 1000 };

/// `await:`.
pub(crate) static AWAIT: Shape = Shape {
    name: "await",
    doc: "Wait (wall time; virtual time held) for the merchant to call an open API: exactly one of query-order, usage, license-activate, license-upload.",
    keys: &[
        key(
            "query-order",
            Kind::Ref,
            "Query-order for this purchase's order.",
        ),
        key(
            "usage",
            Kind::Object(&AWAIT_USAGE),
            "Usage records accepted for this purchase's instance.",
        ),
        key(
            "license-activate",
            Kind::Ref,
            "Activation of this purchase's License code.",
        ),
        key(
            "license-upload",
            Kind::Ref,
            "The License this `apply-license` step asked for, uploaded for its event.",
        ),
        key(
            "within",
            Kind::Duration,
            "How long to wait at most (wall time; default 30s, at most 10m).",
        ),
    ],
};

/// `await.usage:`.
pub(crate) static AWAIT_USAGE: Shape = Shape {
    name: "usage",
    doc: "Usage records for a purchase's instance.",
    keys: &[
        required("instance", Kind::Ref, "The purchase."),
        key(
            "records",
            RECORDS,
            "At least this many accepted records (default 1).",
        ),
    ],
};

/// An object with no keys (`apply-credential: {}`).
pub(crate) static EMPTY: Shape = Shape {
    name: "options",
    doc: "No options.",
    keys: &[],
};

/// `purchase:`.
pub(crate) static PURCHASE: Shape = Shape {
    name: "purchase",
    doc: "The buyer pays a new order: newInstance for each billing item.",
    keys: &[
        key(
            "billing",
            Kind::Choice(BILLING),
            "Billing mode; the profile's when absent.",
        ),
        key(
            "period",
            Kind::Period,
            "Subscription period for period and package billing (default 1 month).",
        ),
        key(
            "trial",
            Kind::Boolean,
            "A trial (trialFlag 1) for the profile's trial period.",
        ),
        key(
            "products",
            PRODUCTS,
            "On-demand billing items, one instance each (default 1).",
        ),
        key(
            "package-for",
            Kind::Ref,
            "A package (billing: package) paying for the usage of this earlier on-demand purchase.",
        ),
        key(
            "stop-when-used-up",
            Kind::Boolean,
            "A package that stops its on-demand instance when the quota is used up (用完即停).",
        ),
        key(
            "quota",
            QUOTA,
            "The package's quota: usage pushed against it (relate_pkg_instance) up to this amount stops its instance.",
        ),
    ],
};

/// `renew:` and `convert-trial:`.
pub(crate) static RENEW: Shape = Shape {
    name: "renew",
    doc: "A renewal (or trial conversion) order for an instance.",
    keys: &[
        required("instance", Kind::Ref, "The `as:` name of the purchase."),
        key("period", Kind::Period, "For how long (default 1 month)."),
    ],
};

/// `query:`.
pub(crate) static QUERY: Shape = Shape {
    name: "query",
    doc: "queryInstance for a batch of instances.",
    keys: &[
        key(
            "instances",
            Kind::List(&REF),
            "Instances of earlier purchases.",
        ),
        key(
            "unknown",
            UNKNOWN_IDS,
            "How many ids the merchant never issued to add (at most 100 ids per batch).",
        ),
    ],
};

/// `debug:`.
pub(crate) static DEBUG: Shape = Shape {
    name: "debug",
    doc: "The console debug page's cases: testFlag=1 and the page's default values.",
    keys: &[
        key(
            "activities",
            Kind::AllOr(&ACTIVITY),
            "`all` (every activity of the protocol) or a list, sent in that order.",
        ),
        key(
            "variant",
            VARIANT,
            "One case per activity; every variant the page requires when absent.",
        ),
        key(
            "repeat",
            REPEAT,
            "How many times the whole set is sent (default 1).",
        ),
        key(
            "reversed",
            Kind::Boolean,
            "Send the activities in reverse order (the page imposes none).",
        ),
    ],
};

/// `send:`.
pub(crate) static SEND: Shape = Shape {
    name: "send",
    doc: "One request outside the lifecycle, sent once.",
    keys: &[
        required("activity", Kind::Choice(ACTIVITIES), "The activity."),
        key(
            "instance",
            Kind::Ref,
            "An earlier purchase, or `unknown` for an id the merchant never issued.",
        ),
    ],
};

/// The enterprise a Kit step is about.
const ENTERPRISE: Key = required(
    "enterprise",
    Kind::Ref,
    "The step that announced the enterprise.",
);

/// `authorize-users:`.
pub(crate) static AUTHORIZE: Shape = Shape {
    name: "authorize-users",
    doc: "联营: the enterprise's admin authorises users to the app (authSync, at most 500 users each).",
    keys: &[
        ENTERPRISE,
        key("users", USERS, "How many users (default 1)."),
        key(
            "flag",
            Kind::Choice(KIT_FLAGS),
            "add (new users, the default), modify, delete or cancel (the first N users).",
        ),
    ],
};

/// `change-department:`.
pub(crate) static DEPARTMENT: Shape = Shape {
    name: "change-department",
    doc: "联营: a department is created, renamed or deleted (singleOrgSync).",
    keys: &[
        ENTERPRISE,
        key(
            "flag",
            Kind::Choice(KIT_FLAGS),
            "add (the default), modify or delete.",
        ),
    ],
};

/// `kit-sync:`.
pub(crate) static KIT_SYNC: Shape = Shape {
    name: "kit-sync",
    doc: "联营: one Kit sync with a flag, about an enterprise as it stands.",
    keys: &[
        required("interface", Kind::Choice(KIT_SYNCS), "Which sync."),
        key(
            "enterprise",
            Kind::Ref,
            "The step that announced the enterprise; absent: one never announced (a delete before any add).",
        ),
        key(
            "flag",
            Kind::Choice(KIT_FLAGS),
            "add (the default), modify, delete, cancel (authSync).",
        ),
    ],
};

/// `login:`.
pub(crate) static LOGIN: Shape = Shape {
    name: "login",
    doc: "联营: a user of the enterprise logs in to the merchant through kgsim's identity centre; the step waits for the merchant to exchange the code (or ticket).",
    keys: &[
        ENTERPRISE,
        key(
            "via",
            Kind::Choice(LOGIN_VIA),
            "oauth2 (the default: code, token, userinfo) or cas (ticket, serviceValidate).",
        ),
        key(
            "within",
            Kind::Duration,
            "How long to wait for the merchant at most (wall time; default 30s, at most 10m).",
        ),
    ],
};

/// `apply-license:`.
pub(crate) static APPLY_LICENSE: Shape = Shape {
    name: "apply-license",
    doc: "Online License: the buyer applies for a License for a device (getLicenseAsync).",
    keys: &[
        required("instance", Kind::Ref, "The purchase."),
        key(
            "fingerprint",
            Kind::Boolean,
            "Whether a device fingerprint is sent (default true).",
        ),
    ],
};

/// `faults.edit:`.
pub(crate) static EDIT: Shape = Shape {
    name: "edit",
    doc: "Changes made to the request before it is signed.",
    keys: &[
        key(
            "set",
            Kind::TextMap,
            "Parameters (V1) or body fields (V2) to set.",
        ),
        key(
            "remove",
            Kind::List(&TEXT),
            "Parameters or fields to leave out.",
        ),
    ],
};

/// `faults:`.
pub(crate) static FAULTS: Shape = Shape {
    name: "faults",
    doc: "What the marketplace side does wrong on purpose.",
    keys: &[
        key(
            "drop-response",
            Kind::AllOr(&ATTEMPT),
            "Attempts whose answer is lost: the merchant did the work, the marketplace saw a timeout.",
        ),
        key(
            "fail-before-send",
            Kind::AllOr(&ATTEMPT),
            "Attempts that never leave the marketplace.",
        ),
        key(
            "tamper",
            Kind::Choice(TAMPERS),
            "Change every attempt after signing: signature, missing-signature, parameter, stale-timestamp; or replayed-nonce: send the signed request twice, the second with the first's nonce, timestamp and signature, and judge the second.",
        ),
        key(
            "edit",
            Kind::Object(&EDIT),
            "Change every attempt before signing.",
        ),
        key(
            "delay",
            Kind::Duration,
            "Virtual delay before the first attempt.",
        ),
        key(
            "copies",
            COPIES,
            "Identical copies sent at once (purchase, resend, send), over connections opened beforehand and completed together.",
        ),
        key(
            "rounds",
            ROUNDS,
            "Repeat the step's action this many times (a fresh order each time for a purchase), so that a race its copies can reveal is caught every run.",
        ),
    ],
};

/// `expect:`.
pub(crate) static EXPECT: Shape = Shape {
    name: "expect",
    doc: "What the step expects. Order, instance and attempt expectations concern the step's own purchase or instance, or `of:`.",
    keys: &[
        key(
            "of",
            Kind::Ref,
            "The earlier step whose order, instance and calls the expectations concern.",
        ),
        key(
            "result",
            Kind::ResultCodes,
            "The result code of the final attempt of every call: \"000000\", a list, or `rejected` (anything but 000000).",
        ),
        key(
            "same-instance-as",
            Kind::Ref,
            "Every instanceId returned equals that of this earlier purchase.",
        ),
        key(
            "different-instance-from",
            Kind::Ref,
            "No instanceId returned equals one of this earlier purchase.",
        ),
        key(
            "same-app-info-as",
            Kind::Ref,
            "The decrypted appInfo credentials equal this earlier purchase's.",
        ),
        key(
            "instances",
            COUNT,
            "How many distinct instanceIds the step's calls returned.",
        ),
        key(
            "order",
            Kind::Choice(ORDER_STATES),
            "The order's state in the simulated marketplace.",
        ),
        key(
            "instance",
            Kind::Choice(INSTANCE_STATES),
            "The instance's state in the simulated marketplace.",
        ),
        key("attempts", COUNT, "How many attempts the first call made."),
        key(
            "attempt-times",
            Kind::List(&DURATION),
            "When those attempts were due, after the first (e.g. [0s, 1h, 2h]).",
        ),
        key(
            "settled-after",
            Kind::Duration,
            "How long after it was placed the order opened or failed.",
        ),
        key(
            "listed",
            COUNT,
            "How many instances a queryInstance answer listed.",
        ),
    ],
};

/// A step: exactly one action key, plus the common keys.
pub(crate) static STEP: Shape = Shape {
    name: "step",
    doc: "One step: exactly one action, with optional faults and expectations.",
    keys: &[
        key(
            "purchase",
            Kind::Object(&PURCHASE),
            "Action: the buyer pays a new order.",
        ),
        key(
            "resend",
            Kind::Ref,
            "Action: re-send the calls of an earlier step, once each.",
        ),
        key(
            "await",
            Kind::Object(&AWAIT),
            "Action: wait for the merchant to call an open API (query-order, usage, license-activate).",
        ),
        key(
            "enter-license",
            Kind::Ref,
            "Action: the buyer enters the purchase's License code into the merchant's software.",
        ),
        key("renew", Kind::Object(&RENEW), "Action: a renewal order."),
        key(
            "convert-trial",
            Kind::Object(&RENEW),
            "Action: a trial converts to a paid subscription.",
        ),
        key(
            "refund-renewal",
            Kind::Ref,
            "Action: the latest, unstarted renewal is refunded.",
        ),
        key("upgrade", Kind::Ref, "Action: an upgrade order."),
        key("freeze", Kind::Ref, "Action: freeze for a violation."),
        key(
            "unfreeze",
            Kind::Ref,
            "Action: the violation is lifted: unfreeze.",
        ),
        key(
            "arrears",
            Kind::Ref,
            "Action: on-demand arrears: freeze (after grace), release after retention unless paid.",
        ),
        key(
            "recharge",
            Kind::Ref,
            "Action: the buyer pays arrears or renews a used-up quota: unfreeze.",
        ),
        key(
            "exhaust-quota",
            Kind::Ref,
            "Action: a stop-when-used-up package's quota runs out: its on-demand instance stops.",
        ),
        key("expire", Kind::Ref, "Action: the period ends now."),
        key(
            "unsubscribe",
            Kind::Ref,
            "Action: the buyer unsubscribes; the instance is released.",
        ),
        key(
            "query",
            Kind::Object(&QUERY),
            "Action: queryInstance for a batch.",
        ),
        key(
            "change-check",
            Kind::Ref,
            "Action: changeInstanceCheck (V2).",
        ),
        key(
            "debug",
            Kind::Object(&DEBUG),
            "Action: the console debug page's cases.",
        ),
        key(
            "send",
            Kind::Object(&SEND),
            "Action: one request outside the lifecycle.",
        ),
        key(
            "restart",
            Kind::Ref,
            "Action: manually restart the failed calls of an earlier step.",
        ),
        key(
            "advance",
            Kind::DurationOrPeriod,
            "Action: move the virtual clock (`3h`, `15d`, `1 month`).",
        ),
        key(
            "apply-credential",
            Kind::Object(&EMPTY),
            "Action: 联营: the seller applies for an app credential; its own enterprise is announced.",
        ),
        key(
            "bind-enterprise",
            Kind::Ref,
            "Action: 联营: a buyer binds this purchase to its enterprise (tenantSync, applicationSync, allOrgSync).",
        ),
        key(
            "authorize-users",
            Kind::Object(&AUTHORIZE),
            "Action: 联营: users are authorised to the app (authSync).",
        ),
        key(
            "change-department",
            Kind::Object(&DEPARTMENT),
            "Action: 联营: a department changes (singleOrgSync).",
        ),
        key(
            "kit-sync",
            Kind::Object(&KIT_SYNC),
            "Action: 联营: one Kit sync with a flag.",
        ),
        key(
            "login",
            Kind::Object(&LOGIN),
            "Action: 联营: a user logs in through the identity centre; waits for the merchant's exchange.",
        ),
        key(
            "apply-license",
            Kind::Object(&APPLY_LICENSE),
            "Action: online License: the buyer applies for a License (getLicenseAsync).",
        ),
        key("as", Kind::Text, "A name later steps refer to this one by."),
        key("faults", Kind::Object(&FAULTS), "Marketplace-side faults."),
        key("expect", Kind::Object(&EXPECT), "Expectations."),
        key(
            "check",
            Kind::Check,
            "The check id the expectations report under (see `kgsim checks`).",
        ),
    ],
};

/// The action keys of a step (the keys of [`STEP`] documented as actions).
pub(crate) fn action_keys() -> impl Iterator<Item = &'static str> {
    STEP.keys
        .iter()
        .filter(|k| k.doc.starts_with("Action:"))
        .map(|k| k.name)
}

static STEP_KIND: Kind = Kind::Object(&STEP);

/// A whole scenario file.
pub(crate) static SCENARIO: Shape = Shape {
    name: "scenario",
    doc: "A kgsim conformance scenario.",
    keys: &[
        required("name", Kind::Text, "A short name."),
        key(
            "description",
            Kind::Text,
            "What the scenario demonstrates and why KooGallery requires it.",
        ),
        key(
            "tags",
            Kind::List(&TEXT),
            "Tags; `listing` marks what the console requires for the billing mode.",
        ),
        key(
            "applies",
            Kind::Object(&APPLIES),
            "Which products it applies to.",
        ),
        required("steps", Kind::List(&STEP_KIND), "The steps, in order."),
    ],
};

/// The JSON Schema (draft 2020-12) of the scenario format.
pub(crate) fn json_schema() -> Value {
    let mut schema = object_schema(&SCENARIO);
    if let Value::Object(map) = &mut schema {
        map.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        map.insert(
            "$id".into(),
            json!("https://kgsim.dev/schema/scenario.json"),
        );
        map.insert("title".into(), json!("kgsim scenario"));
    }
    schema
}

fn object_schema(shape: &Shape) -> Value {
    let properties: serde_json::Map<String, Value> = shape
        .keys
        .iter()
        .map(|k| {
            let mut value = kind_schema(&k.kind);
            if let Value::Object(map) = &mut value {
                map.insert("description".into(), json!(k.doc));
            }
            (k.name.to_owned(), value)
        })
        .collect();
    let required: Vec<&str> = shape
        .keys
        .iter()
        .filter(|k| k.required)
        .map(|k| k.name)
        .collect();
    let mut schema = json!({
        "type": "object",
        "description": shape.doc,
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if std::ptr::eq(shape, &STEP) {
        // Exactly one action per step.
        let one_of: Vec<Value> = action_keys()
            .map(|name| json!({"required": [name]}))
            .collect();
        schema["oneOf"] = json!(one_of);
    }
    schema
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Text | Kind::Ref => json!({"type": "string"}),
        Kind::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Choice(words) => json!({"enum": words}),
        Kind::Duration => json!({"type": "string", "pattern": DURATION_PATTERN}),
        Kind::Period => json!({"type": "string", "pattern": PERIOD_PATTERN}),
        Kind::DurationOrPeriod => {
            json!({"type": "string", "anyOf": [{"pattern": DURATION_PATTERN}, {"pattern": PERIOD_PATTERN}]})
        }
        Kind::List(item) => json!({"type": "array", "items": kind_schema(item)}),
        Kind::AllOr(item) => {
            json!({"anyOf": [{"const": "all"}, {"type": "array", "items": kind_schema(item)}]})
        }
        Kind::Object(shape) => object_schema(shape),
        Kind::TextMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Kind::Check => {
            let ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.id()).collect();
            json!({"enum": ids})
        }
        Kind::ResultCodes => json!({"anyOf": [
            {"type": "string", "pattern": "^[0-9]{6}$"},
            {"const": "rejected"},
            {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{6}$"}},
        ]}),
    }
}

const DURATION_PATTERN: &str = "^([0-9]+(ms|s|m|h|d|w))+$";
const PERIOD_PATTERN: &str = "^[1-9][0-9]* (day|days|month|months|year|years)$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_lists_each_action_once() {
        let keys: Vec<&str> = action_keys().collect();
        let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(keys.len(), unique.len());
        assert_eq!(keys.len(), 28, "{keys:?}");
    }

    #[test]
    fn the_schema_forbids_unknown_keys_everywhere() {
        fn walk(value: &Value, objects: &mut usize) {
            if value.get("type") == Some(&json!("object")) && value.get("properties").is_some() {
                assert_eq!(value["additionalProperties"], json!(false), "{value}");
                *objects += 1;
            }
            match value {
                Value::Object(map) => map.values().for_each(|v| walk(v, objects)),
                Value::Array(items) => items.iter().for_each(|v| walk(v, objects)),
                _ => {}
            }
        }
        let mut objects = 0;
        walk(&json_schema(), &mut objects);
        assert!(objects >= 10, "{objects}");
    }
}
