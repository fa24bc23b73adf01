//! The action of a step: `purchase`, `renew`, `query`, `debug`, `send`, `advance`, and the
//! actions that name an earlier step.

use crate::marketplace::Span;
use crate::protocol::{Activity, Period};
use crate::scenario::format::decode::{Decoded, Decoder};
use crate::scenario::format::model::{
    Action, Advance, Awaited, AwaitedCall, DebugCases, KitFlag, LoginVia, Ref,
};
use crate::scenario::format::schema::{self, Kind, MAX_SPAN, Shape};
use crate::scenario::format::yaml::Node;

impl Decoder<'_> {
    pub(super) fn action(&mut self, name: &str, node: &Node) -> Decoded<Action> {
        let instance = |d: &mut Self| d.reference(node, "the instance", true);
        Ok(match name {
            "purchase" => self.purchase(node)?,
            "resend" => Action::Resend(self.reference(node, "the step to re-send", false)?),
            "await" => Action::Await(self.awaited(node)?),
            "enter-license" => Action::EnterLicense(instance(self)?),
            "restart" => Action::Restart(self.reference(node, "the step to restart", false)?),
            "renew" => {
                let (instance, period) = self.instance_and_period(node, &schema::RENEW)?;
                Action::Renew { instance, period }
            }
            "convert-trial" => {
                let (instance, period) = self.instance_and_period(node, &schema::RENEW)?;
                Action::ConvertTrial { instance, period }
            }
            "refund-renewal" => Action::RefundRenewal(instance(self)?),
            "upgrade" => Action::Upgrade(instance(self)?),
            "freeze" => Action::Freeze(instance(self)?),
            "unfreeze" => Action::Unfreeze(instance(self)?),
            "arrears" => Action::Arrears(instance(self)?),
            "recharge" => Action::Recharge(instance(self)?),
            "exhaust-quota" => Action::ExhaustQuota(instance(self)?),
            "expire" => Action::Expire(instance(self)?),
            "unsubscribe" => Action::Unsubscribe(instance(self)?),
            "change-check" => Action::ChangeCheck(instance(self)?),
            "query" => self.query(node)?,
            "debug" => Action::Debug(self.debug(node)?),
            "send" => self.send(node)?,
            "advance" => Action::Advance(self.advance(node)?),
            "apply-credential" => {
                self.object(node, &schema::EMPTY)?;
                Action::ApplyCredential
            }
            "bind-enterprise" => Action::BindEnterprise(instance(self)?),
            "authorize-users" => self.authorize_users(node)?,
            "change-department" => self.change_department(node)?,
            "kit-sync" => self.kit_sync(node)?,
            "login" => self.login(node)?,
            "apply-license" => self.apply_license(node)?,
            other => {
                let message = format!("`{other}` is not an action");
                return Err(self.problem(node, message, "here", None));
            }
        })
    }

    fn purchase(&mut self, node: &Node) -> Decoded<Action> {
        let obj = self.object(node, &schema::PURCHASE)?;
        let billing = self.opt(obj.get("billing"), |d, n| {
            let name = d.choice(n, schema::BILLING, "the billing mode")?;
            name.parse()
                .map_err(|_| d.wrong(n, &Kind::Choice(schema::BILLING), "the billing mode"))
        });
        let period = self.opt(obj.get("period"), |d, n| d.period(n, "the period"));
        let trial = self.opt(obj.get("trial"), |d, n| d.boolean(n, "trial"));
        let products = self.opt(obj.get("products"), |d, n| {
            d.integer(n, &schema::PRODUCTS, "products")
        });
        let package_for = self.opt(obj.get("package-for"), |d, n| {
            d.reference(n, "the on-demand purchase", true)
        });
        let stop = self.opt(obj.get("stop-when-used-up"), |d, n| {
            d.boolean(n, "stop-when-used-up")
        });
        let quota = self.opt(obj.get("quota"), |d, n| {
            d.integer(n, &schema::QUOTA, "quota")
        });
        Ok(Action::Purchase {
            billing: billing?,
            period: period?,
            trial: trial?.unwrap_or(false),
            products: products?.unwrap_or(1),
            package_for: package_for?,
            stop_when_used_up: stop?.unwrap_or(false),
            quota: quota?,
        })
    }

    fn instance_and_period(
        &mut self,
        node: &Node,
        shape: &'static Shape,
    ) -> Decoded<(Ref, Option<Period>)> {
        let obj = self.object(node, shape)?;
        let instance = self
            .required(&obj, node, shape, "instance")
            .and_then(|n| self.reference(n, "the instance", true));
        let period = self.opt(obj.get("period"), |d, n| d.period(n, "the period"));
        Ok((instance?, period?))
    }

    /// `await: {query-order: NAME | usage: {instance, records} | license-activate: NAME, within}`.
    fn awaited(&mut self, node: &Node) -> Decoded<Awaited> {
        let obj = self.object(node, &schema::AWAIT)?;
        let query = self.opt(obj.get("query-order"), |d, n| {
            d.reference(n, "the purchase", true)
        });
        let usage = self.opt(obj.get("usage"), |d, n| {
            let usage = d.object(n, &schema::AWAIT_USAGE)?;
            let instance = usage
                .get("instance")
                .map(|i| d.reference(i, "the purchase", true))
                .transpose();
            let records = d.opt(usage.get("records"), |d, r| match r.scalar() {
                Some(text) if text.starts_with(">=") => text[2..]
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| d.wrong(r, &schema::RECORDS, "records")),
                _ => d.integer(r, &schema::RECORDS, "records"),
            });
            match instance? {
                Some(instance) => Ok(AwaitedCall::Usage {
                    instance,
                    records: records?.unwrap_or(1),
                }),
                None => Err(d.problem(n, "`usage` needs `instance: NAME`", "here", None)),
            }
        });
        let license = self.opt(obj.get("license-activate"), |d, n| {
            d.reference(n, "the purchase", true)
        });
        let upload = self.opt(obj.get("license-upload"), |d, n| {
            d.reference(n, "the apply-license step", false)
        });
        let within = self.opt(obj.get("within"), |d, n| d.duration(n, "within"));
        let calls: Vec<AwaitedCall> = [
            query?.map(AwaitedCall::QueryOrder),
            usage?,
            license?.map(AwaitedCall::LicenseActivate),
            upload?.map(AwaitedCall::LicenseUpload),
        ]
        .into_iter()
        .flatten()
        .collect();
        let within = self.within(node, within?)?;
        match <[AwaitedCall; 1]>::try_from(calls) {
            Ok([call]) => Ok(Awaited { call, within }),
            Err(_) => Err(self.problem(
                node,
                "`await` names exactly one of query-order, usage, license-activate, license-upload",
                "here",
                None,
            )),
        }
    }

    /// A wait's `within`: 30s by default, at most 10m.
    fn within(&mut self, node: &Node, within: Option<Span>) -> Decoded<Span> {
        let within = within.unwrap_or(Span::seconds(30));
        if within.as_millis() > schema::WITHIN_MAX_MS || within.as_millis() <= 0 {
            return Err(self.problem(
                node,
                "`within` must be more than 0s and at most 10m",
                "here",
                Some("a wait holds the whole run; 30s is the default".into()),
            ));
        }
        Ok(within)
    }

    /// The required `enterprise:` of a Kit step.
    fn enterprise_key(
        &mut self,
        obj: &super::Obj<'_>,
        node: &Node,
        shape: &'static Shape,
    ) -> Decoded<Ref> {
        self.required(obj, node, shape, "enterprise")
            .and_then(|n| self.enterprise_reference(n))
    }

    fn kit_flag(&mut self, node: Option<&Node>) -> Decoded<KitFlag> {
        let flag = self.opt(node, |d, n| {
            let name = d.choice(n, schema::KIT_FLAGS, "the flag")?;
            name.parse()
                .map_err(|_| d.wrong(n, &Kind::Choice(schema::KIT_FLAGS), "the flag"))
        });
        Ok(flag?.unwrap_or_default())
    }

    fn authorize_users(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::AUTHORIZE;
        let obj = self.object(node, shape)?;
        let enterprise = self.enterprise_key(&obj, node, shape);
        let users = self.opt(obj.get("users"), |d, n| {
            d.integer(n, &schema::USERS, "users")
        });
        let flag = self.kit_flag(obj.get("flag"));
        Ok(Action::AuthorizeUsers {
            enterprise: enterprise?,
            users: users?.unwrap_or(1),
            flag: flag?,
        })
    }

    fn change_department(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::DEPARTMENT;
        let obj = self.object(node, shape)?;
        let enterprise = self.enterprise_key(&obj, node, shape);
        let flag = self.kit_flag(obj.get("flag"));
        Ok(Action::ChangeDepartment {
            enterprise: enterprise?,
            flag: flag?,
        })
    }

    fn kit_sync(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::KIT_SYNC;
        let obj = self.object(node, shape)?;
        let interface = self.required(&obj, node, shape, "interface").and_then(|n| {
            let name = self.choice(n, schema::KIT_SYNCS, "the sync")?;
            name.parse::<Activity>()
                .map_err(|_| self.wrong(n, &Kind::Choice(schema::KIT_SYNCS), "the sync"))
        });
        let enterprise = self.opt(obj.get("enterprise"), |d, n| d.enterprise_reference(n));
        let flag = self.kit_flag(obj.get("flag"));
        Ok(Action::KitSync {
            interface: interface?,
            enterprise: enterprise?,
            flag: flag?,
        })
    }

    fn login(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::LOGIN;
        let obj = self.object(node, shape)?;
        let enterprise = self.enterprise_key(&obj, node, shape);
        let via = self.opt(obj.get("via"), |d, n| {
            let via = d.choice(n, schema::LOGIN_VIA, "how the login goes")?;
            Ok(if via == "cas" {
                LoginVia::Cas
            } else {
                LoginVia::OAuth2
            })
        });
        let within = self.opt(obj.get("within"), |d, n| d.duration(n, "within"));
        let within = within.and_then(|w| self.within(node, w));
        Ok(Action::Login {
            enterprise: enterprise?,
            via: via?.unwrap_or_default(),
            within: within?,
        })
    }

    fn apply_license(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::APPLY_LICENSE;
        let obj = self.object(node, shape)?;
        let instance = self
            .required(&obj, node, shape, "instance")
            .and_then(|n| self.reference(n, "the purchase", true));
        let fingerprint = self.opt(obj.get("fingerprint"), |d, n| d.boolean(n, "fingerprint"));
        Ok(Action::ApplyLicense {
            instance: instance?,
            fingerprint: fingerprint?.unwrap_or(true),
        })
    }

    fn query(&mut self, node: &Node) -> Decoded<Action> {
        let obj = self.object(node, &schema::QUERY)?;
        let instances = self.opt(obj.get("instances"), |d, n| {
            d.list(n, "an instance", |d, item| {
                d.reference(item, "the instance", true)
            })
        });
        let unknown = self.opt(obj.get("unknown"), |d, n| {
            d.integer(n, &schema::UNKNOWN_IDS, "unknown")
        });
        let (instances, unknown) = (instances?.unwrap_or_default(), unknown?.unwrap_or(0));
        if instances.is_empty() && unknown == 0 {
            return Err(self.problem(
                node,
                "this query names no instance",
                "empty batch",
                Some("add `instances: [NAME]` or `unknown: 1`".into()),
            ));
        }
        Ok(Action::Query { instances, unknown })
    }

    fn debug(&mut self, node: &Node) -> Decoded<DebugCases> {
        let obj = self.object(node, &schema::DEBUG)?;
        let activities = self.opt(obj.get("activities"), |d, n| match n.scalar() {
            Some("all") => Ok(None),
            _ => d.list(n, "an activity", Self::activity).map(Some),
        });
        let variant = self.opt(obj.get("variant"), |d, n| {
            d.integer(n, &schema::VARIANT, "variant")
        });
        let repeat = self.opt(obj.get("repeat"), |d, n| {
            d.integer(n, &schema::REPEAT, "repeat")
        });
        let reversed = self.opt(obj.get("reversed"), |d, n| d.boolean(n, "reversed"));
        Ok(DebugCases {
            activities: activities?.flatten(),
            variant: variant?.map(|v| v as usize),
            repeat: repeat?.unwrap_or(1),
            reversed: reversed?.unwrap_or(false),
        })
    }

    fn send(&mut self, node: &Node) -> Decoded<Action> {
        let shape = &schema::SEND;
        let obj = self.object(node, shape)?;
        let activity = self
            .required(&obj, node, shape, "activity")
            .and_then(|n| self.activity(n));
        let instance = self.opt(obj.get("instance"), |d, n| match n.scalar() {
            Some("unknown") => Ok(None),
            _ => d.reference(n, "the instance", true).map(Some),
        });
        Ok(Action::Send {
            activity: activity?,
            instance: instance?.flatten(),
        })
    }

    fn advance(&mut self, node: &Node) -> Decoded<Advance> {
        let text = node.scalar().unwrap_or_default();
        if let Ok(period) = text.parse::<Period>() {
            if super::period_within_bounds(period) {
                return Ok(Advance::Period(period));
            }
        } else if let Ok(span) = text.parse::<Span>()
            && span <= MAX_SPAN
        {
            return Ok(Advance::Span(span));
        }
        Err(self.wrong(node, &Kind::DurationOrPeriod, "`advance`"))
    }

    pub(super) fn activity(&mut self, node: &Node) -> Decoded<Activity> {
        let kind = Kind::Choice(schema::ACTIVITIES);
        let slug = self.choice(node, schema::ACTIVITIES, "the activity")?;
        Activity::ALL
            .iter()
            .copied()
            .find(|a| a.slug() == slug)
            .ok_or_else(|| self.wrong(node, &kind, "the activity"))
    }
}
