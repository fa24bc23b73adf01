//! A scenario as kgsim runs it: typed, validated, every part remembering the line it came
//! from so that a failed check can point back at it.

use std::path::PathBuf;

use crate::checks::CheckId;
use crate::marketplace::Span;
use crate::protocol::{Activity, BillingMode, Period, Protocol, ResultCode};
use crate::transport::wire::{Edit, Tamper};

/// Where in a scenario file something was written (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub(crate) struct Location {
    /// Line, from 1.
    pub(crate) line: usize,
    /// Column, from 1.
    pub(crate) col: usize,
}

/// A loaded scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it was loaded from (relative as given).
    pub(crate) file: PathBuf,
    /// Its name.
    pub(crate) name: String,
    /// What it demonstrates.
    pub(crate) description: Option<String>,
    /// Tags (`listing` marks what the console requires for the profile's billing mode).
    pub(crate) tags: Vec<String>,
    /// Which products it applies to.
    pub(crate) applies: Applicability,
    /// The steps, in order.
    pub(crate) steps: Vec<Step>,
}

/// Which products a scenario applies to; empty lists mean "all".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Applicability {
    /// Protocols.
    pub(crate) protocols: Vec<Protocol>,
    /// Billing modes.
    pub(crate) billing: Vec<BillingMode>,
    /// Interfaces the product must implement: those of its kind (spec V1 §1, V2 §2.9) and the
    /// optional ones it declares.
    pub(crate) requires: Vec<Activity>,
    /// Open APIs the product's systems must call (the profile's `open-apis`).
    pub(crate) calls: Vec<crate::protocol::open_api::OpenApiUse>,
    /// Product types; empty means those bought through newInstance (SaaS, online License).
    pub(crate) products: Vec<crate::marketplace::kind::ProductType>,
}

/// A name given with `as:` to an earlier step, and where it is referred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ref {
    /// The capture name.
    pub(crate) name: String,
    /// Where the reference is written.
    pub(crate) at: Location,
}

/// How far to move the virtual clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advance {
    /// A fixed span (`3h`, `15d`).
    Span(Span),
    /// Calendar periods (`1 month`, `1 year`).
    Period(Period),
}

/// Which debug cases a `debug` step sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DebugCases {
    /// The activities, in sending order; `None` for `all`: every interface of the product's
    /// kind.
    pub(crate) activities: Option<Vec<Activity>>,
    /// Every variant the page requires (trialFlag values, FREEZE/NORMAL, scenes), or one.
    pub(crate) variant: Option<usize>,
    /// Whether the activities go out in reverse order (the page has no order).
    pub(crate) reversed: bool,
    /// How many times the whole set is sent.
    pub(crate) repeat: u32,
}

/// What a step makes happen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// A purchase.
    Purchase {
        /// Billing mode (the profile's when absent).
        billing: Option<BillingMode>,
        /// Subscription period.
        period: Option<Period>,
        /// A trial.
        trial: bool,
        /// On-demand billing items.
        products: u32,
        /// A package: the earlier on-demand purchase whose usage it pays for.
        package_for: Option<Ref>,
        /// A package that stops its on-demand instance when the quota is used up.
        stop_when_used_up: bool,
        /// Its quota: usage pushed against it (`relate_pkg_instance`) up to this amount.
        quota: Option<u32>,
    },
    /// Re-send the calls of an earlier step.
    Resend(Ref),
    /// Wait (wall time, virtual time held) for the merchant to call an open API.
    Await(Awaited),
    /// The buyer enters a purchase's License code into the merchant's software.
    EnterLicense(Ref),
    /// Renew an instance.
    Renew {
        /// The instance.
        instance: Ref,
        /// For how long.
        period: Option<Period>,
    },
    /// Convert a trial to a paid subscription.
    ConvertTrial {
        /// The instance.
        instance: Ref,
        /// For how long.
        period: Option<Period>,
    },
    /// Refund the latest, unstarted renewal.
    RefundRenewal(Ref),
    /// Upgrade an instance.
    Upgrade(Ref),
    /// Freeze an instance for a violation.
    Freeze(Ref),
    /// Lift the violation: unfreeze.
    Unfreeze(Ref),
    /// On-demand arrears: freeze (after grace), release after retention unless paid.
    Arrears(Ref),
    /// The buyer pays arrears (or a stopped package's usage): unfreeze.
    Recharge(Ref),
    /// A stop-when-used-up package's quota runs out: its on-demand instance stops.
    ExhaustQuota(Ref),
    /// End an instance's period now.
    Expire(Ref),
    /// Unsubscribe: release now.
    Unsubscribe(Ref),
    /// queryInstance for a batch.
    Query {
        /// Instances from earlier steps.
        instances: Vec<Ref>,
        /// How many ids the merchant never issued to add.
        unknown: u32,
    },
    /// changeInstanceCheck (V2).
    ChangeCheck(Ref),
    /// The console debug page's cases.
    Debug(DebugCases),
    /// One request outside the lifecycle, about an earlier instance or an unknown one.
    Send {
        /// The activity.
        activity: Activity,
        /// The instance; `None` means one the merchant never issued.
        instance: Option<Ref>,
    },
    /// Manually restart the failed calls of an earlier step.
    Restart(Ref),
    /// Move the virtual clock, delivering whatever falls due.
    Advance(Advance),
    /// 联营: the seller applies for an app credential; its own enterprise is announced.
    ApplyCredential,
    /// 联营: a buyer binds a purchase to its enterprise.
    BindEnterprise(Ref),
    /// 联营: the admin authorises users (or changes, removes, withdraws them).
    AuthorizeUsers {
        /// The enterprise.
        enterprise: Ref,
        /// How many users.
        users: u32,
        /// What the sync does.
        flag: KitFlag,
    },
    /// 联营: a department is created, renamed or deleted.
    ChangeDepartment {
        /// The enterprise.
        enterprise: Ref,
        /// What the sync does.
        flag: KitFlag,
    },
    /// 联营: one Kit sync with a flag, about an enterprise (or one never announced).
    KitSync {
        /// Which sync.
        interface: Activity,
        /// The enterprise; `None`: one never announced.
        enterprise: Option<Ref>,
        /// What the sync does.
        flag: KitFlag,
    },
    /// 联营: a user of an enterprise logs in to the merchant through the identity centre.
    Login {
        /// The enterprise.
        enterprise: Ref,
        /// OAuth 2.0 or CAS.
        via: LoginVia,
        /// How long to wait for the merchant's exchange at most (wall time).
        within: Span,
    },
    /// Online License: the buyer applies for a License for a device.
    ApplyLicense {
        /// The purchase.
        instance: Ref,
        /// Whether the application carries a device fingerprint.
        fingerprint: bool,
    },
}

pub(crate) use crate::marketplace::kit::KitFlag;

/// How a login goes (spec V2 §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LoginVia {
    /// OAuth 2.0: code, token, userinfo.
    #[default]
    OAuth2,
    /// CAS 3.0: ticket, serviceValidate.
    Cas,
}

/// What an `await` step waits for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Awaited {
    /// The call.
    pub(crate) call: AwaitedCall,
    /// How long to wait at most (wall time).
    pub(crate) within: Span,
}

/// The merchant's call an `await` step waits for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AwaitedCall {
    /// Query-order for an earlier purchase's order.
    QueryOrder(Ref),
    /// Usage records accepted for an earlier purchase's instance: at least this many.
    Usage {
        /// The purchase.
        instance: Ref,
        /// At least this many records.
        records: u32,
    },
    /// Activation of an earlier purchase's License code.
    LicenseActivate(Ref),
    /// The License an `apply-license` step's application asked for, uploaded for its event.
    LicenseUpload(Ref),
    /// A `login` step's exchange of its code or ticket (not written in an `await`).
    Login {
        /// The enterprise whose user logged in.
        enterprise: Ref,
        /// OAuth 2.0 or CAS.
        via: LoginVia,
    },
}

impl AwaitedCall {
    /// The earlier step it concerns.
    pub(crate) fn subject(&self) -> &Ref {
        match self {
            Self::QueryOrder(r) | Self::LicenseActivate(r) | Self::LicenseUpload(r) => r,
            Self::Usage { instance, .. } => instance,
            Self::Login { enterprise, .. } => enterprise,
        }
    }

    /// What it waits for, in a word, for reports.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::QueryOrder(_) => "query-order",
            Self::Usage { .. } => "usage-push",
            Self::LicenseActivate(_) => "license",
            Self::LicenseUpload(_) => "license-upload",
            Self::Login { .. } => "login",
        }
    }
}

impl Action {
    /// The action's key in the YAML (`purchase`, `renew`, …).
    pub(crate) fn keyword(&self) -> &'static str {
        match self {
            Self::Purchase { .. } => "purchase",
            Self::Resend(_) => "resend",
            Self::Await(_) => "await",
            Self::EnterLicense(_) => "enter-license",
            Self::Renew { .. } => "renew",
            Self::ConvertTrial { .. } => "convert-trial",
            Self::RefundRenewal(_) => "refund-renewal",
            Self::Upgrade(_) => "upgrade",
            Self::Freeze(_) => "freeze",
            Self::Unfreeze(_) => "unfreeze",
            Self::Arrears(_) => "arrears",
            Self::Recharge(_) => "recharge",
            Self::ExhaustQuota(_) => "exhaust-quota",
            Self::Expire(_) => "expire",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::Query { .. } => "query",
            Self::ChangeCheck(_) => "change-check",
            Self::Debug(_) => "debug",
            Self::Send { .. } => "send",
            Self::Restart(_) => "restart",
            Self::Advance(_) => "advance",
            Self::ApplyCredential => "apply-credential",
            Self::BindEnterprise(_) => "bind-enterprise",
            Self::AuthorizeUsers { .. } => "authorize-users",
            Self::ChangeDepartment { .. } => "change-department",
            Self::KitSync { .. } => "kit-sync",
            Self::Login { .. } => "login",
            Self::ApplyLicense { .. } => "apply-license",
        }
    }

    /// The earlier steps it acts on.
    pub(crate) fn references(&self) -> Vec<&Ref> {
        match self {
            Self::Purchase { package_for, .. } => package_for.iter().collect(),
            Self::Resend(r)
            | Self::EnterLicense(r)
            | Self::RefundRenewal(r)
            | Self::Upgrade(r)
            | Self::Freeze(r)
            | Self::Unfreeze(r)
            | Self::Arrears(r)
            | Self::Recharge(r)
            | Self::ExhaustQuota(r)
            | Self::Expire(r)
            | Self::Unsubscribe(r)
            | Self::ChangeCheck(r)
            | Self::Restart(r)
            | Self::BindEnterprise(r)
            | Self::Renew { instance: r, .. }
            | Self::ConvertTrial { instance: r, .. }
            | Self::AuthorizeUsers { enterprise: r, .. }
            | Self::ChangeDepartment { enterprise: r, .. }
            | Self::Login { enterprise: r, .. }
            | Self::ApplyLicense { instance: r, .. } => vec![r],
            Self::Await(awaited) => vec![awaited.call.subject()],
            Self::Query { instances, .. } => instances.iter().collect(),
            Self::Send { instance, .. } => instance.iter().collect(),
            Self::KitSync { enterprise, .. } => enterprise.iter().collect(),
            Self::Debug(_) | Self::Advance(_) | Self::ApplyCredential => Vec::new(),
        }
    }
}

/// Which attempts a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Attempts {
    /// None.
    #[default]
    None,
    /// Every attempt.
    All,
    /// These attempt numbers (1-based).
    Only(Vec<u32>),
}

impl Attempts {
    /// Whether attempt `n` (1-based) is included.
    pub(crate) fn includes(&self, n: u32) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Only(list) => list.contains(&n),
        }
    }
}

/// What the marketplace side does wrong on purpose during a step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Faults {
    /// The merchant does the work but the marketplace never sees the answer.
    pub(crate) drop_response: Attempts,
    /// The attempt never leaves the marketplace.
    pub(crate) fail_before_send: Attempts,
    /// Changed after signing, every attempt.
    pub(crate) tamper: Option<Tamper>,
    /// Changed before signing, every attempt.
    pub(crate) edit: Edit,
    /// Virtual delay of the first attempt.
    pub(crate) delay: Span,
    /// Identical copies sent at once.
    pub(crate) copies: u32,
    /// How many times the step's action is performed.
    pub(crate) rounds: u32,
}

/// Acceptable result codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultExpectation {
    /// One of these codes.
    OneOf(Vec<ResultCode>),
    /// Any code but 000000.
    Rejected,
}

/// One thing a step expects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// The result code of the final attempt of every call of the step.
    Result(ResultExpectation),
    /// The instanceId equals that of an earlier step's instance.
    SameInstance(Ref),
    /// The instanceId differs from every instance of an earlier step.
    DifferentInstance(Ref),
    /// The decrypted appInfo credentials equal an earlier step's.
    SameAppInfo(Ref),
    /// How many distinct instanceIds the step's calls returned.
    DistinctInstances(u32),
    /// The subject order's state (`opened`, `refunded`, `failed`, `pending`, `provisioning`).
    Order(String),
    /// The subject instance's state (`active`, `frozen`, `suspended`, `released`, `failed`).
    Instance(String),
    /// How many attempts the subject's first call made.
    Attempts(u32),
    /// When those attempts were due, relative to the first.
    AttemptTimes(Vec<Span>),
    /// When the subject order opened or failed, relative to when it was placed.
    SettledAfter(Span),
    /// How many instances a queryInstance answer listed.
    Listed(u32),
}

impl Expect {}

/// An expectation and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expectation {
    /// What is expected.
    pub(crate) expect: Expect,
    /// Where.
    pub(crate) at: Location,
}

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    /// Where the step starts.
    pub(crate) at: Location,
    /// What it does.
    pub(crate) action: Action,
    /// A name later steps refer to it by.
    pub(crate) capture: Option<String>,
    /// Marketplace-side faults.
    pub(crate) faults: Faults,
    /// What it expects.
    pub(crate) expect: Vec<Expectation>,
    /// The subject of order/instance/attempt expectations, when not the step itself.
    pub(crate) subject: Option<Ref>,
    /// The check the expectations report under, overriding each kind's default.
    pub(crate) check: Option<CheckId>,
}

impl Step {
    /// The names of the earlier steps it needs: those its action acts on, its subject and
    /// those its expectations compare with.
    pub(crate) fn references(&self) -> Vec<&str> {
        self.action
            .references()
            .into_iter()
            .chain(&self.subject)
            .chain(self.expect.iter().filter_map(|e| match &e.expect {
                Expect::SameInstance(r) | Expect::DifferentInstance(r) | Expect::SameAppInfo(r) => {
                    Some(r)
                }
                _ => None,
            }))
            .map(|r| r.name.as_str())
            .collect()
    }

    /// A step that does `action` with no faults, expectations or name (written by code, so
    /// it has no place in a file).
    pub(crate) fn of(action: Action) -> Self {
        Self {
            at: Location::default(),
            action,
            capture: None,
            faults: Faults::default(),
            expect: Vec::new(),
            subject: None,
            check: None,
        }
    }
}
