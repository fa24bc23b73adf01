//! The scenario, its `applies:` and its steps: exactly one action per step, an `as:` name
//! checked for uniqueness, and a `check:` that names a real check.

use std::path::Path;

use crate::checks::CheckId;
use crate::marketplace::kind::ProductType;
use crate::protocol::open_api::OpenApiUse;
use crate::protocol::{BillingMode, Protocol};
use crate::scenario::format::decode::{Capture, Decoded, Decoder, Obj};
use crate::scenario::format::diagnostics::did_you_mean;
use crate::scenario::format::model::{Applicability, Faults, Location, Scenario, Step};
use crate::scenario::format::schema::{self, Kind};
use crate::scenario::format::yaml::{Node, NodeKind};

impl Decoder<'_> {
    pub(super) fn scenario(&mut self, root: &Node, file: &str) -> Decoded<Scenario> {
        let shape = &schema::SCENARIO;
        let obj = self.object(root, shape)?;
        let name = self
            .required(&obj, root, shape, "name")
            .and_then(|n| self.text(n, "the name"));
        let description = self.opt(obj.get("description"), |d, n| d.text(n, "the description"));
        let tags = self.opt(obj.get("tags"), |d, n| {
            d.list(n, "tags", |d, item| d.text(item, "a tag"))
        });
        let applies = self.opt(obj.get("applies"), Self::applies);
        let steps = self
            .required(&obj, root, shape, "steps")
            .and_then(|n| self.steps(n));
        Ok(Scenario {
            file: Path::new(file).to_owned(),
            name: name?,
            description: description?,
            tags: tags?.unwrap_or_default(),
            applies: applies?.unwrap_or_default(),
            steps: steps?,
        })
    }

    fn steps(&mut self, node: &Node) -> Decoded<Vec<Step>> {
        let NodeKind::Sequence(items) = &node.kind else {
            return Err(self.wrong(node, &Kind::List(&Kind::Text), "`steps`"));
        };
        if items.is_empty() {
            return Err(self.problem(
                node,
                "a scenario needs at least one step",
                "empty",
                Some("add a step such as `- purchase: {}`".into()),
            ));
        }
        let steps: Vec<Decoded<Step>> = items.iter().map(|item| self.step(item)).collect();
        steps.into_iter().collect()
    }

    fn applies(&mut self, node: &Node) -> Decoded<Applicability> {
        let obj = self.object(node, &schema::APPLIES)?;
        let protocols = self.opt(obj.get("protocols"), |d, n| {
            d.list(n, "a protocol", |d, item| {
                let name = d.choice(item, schema::PROTOCOLS, "the protocol")?;
                name.parse::<Protocol>()
                    .map_err(|_| d.wrong(item, &Kind::Choice(schema::PROTOCOLS), "the protocol"))
            })
        });
        let billing = self.opt(obj.get("billing"), |d, n| {
            d.list(n, "a billing mode", |d, item| {
                let name = d.choice(item, schema::BILLING, "the billing mode")?;
                name.parse::<BillingMode>()
                    .map_err(|_| d.wrong(item, &Kind::Choice(schema::BILLING), "the billing mode"))
            })
        });
        let requires = self.opt(obj.get("requires"), |d, n| {
            d.list(n, "an interface", Self::activity)
        });
        let products = self.opt(obj.get("products"), |d, n| {
            d.list(n, "a product type", |d, item| {
                let name = d.choice(item, schema::PRODUCTS_TYPES, "the product type")?;
                name.parse::<ProductType>().map_err(|_| {
                    d.wrong(
                        item,
                        &Kind::Choice(schema::PRODUCTS_TYPES),
                        "the product type",
                    )
                })
            })
        });
        let calls = self.opt(obj.get("calls"), |d, n| {
            d.list(n, "an open API", |d, item| {
                let name = d.choice(item, schema::OPEN_APIS, "the open API")?;
                name.parse::<OpenApiUse>()
                    .map_err(|_| d.wrong(item, &Kind::Choice(schema::OPEN_APIS), "the open API"))
            })
        });
        Ok(Applicability {
            protocols: protocols?.unwrap_or_default(),
            billing: billing?.unwrap_or_default(),
            requires: requires?.unwrap_or_default(),
            calls: calls?.unwrap_or_default(),
            products: products?.unwrap_or_default(),
        })
    }

    /// Registers a step's `as:` name (even when the step has problems, so that later
    /// references to it do not add errors of their own).
    fn capture(
        &mut self,
        node: Option<&Node>,
        at: Location,
        (has_instance, has_enterprise): (bool, bool),
    ) -> Decoded<Option<String>> {
        let Some(node) = node else { return Ok(None) };
        let name = self.text(node, "the step name")?;
        if let Some(previous) = self.captures.get(&name) {
            let line = previous.line;
            return Err(self.problem(
                node,
                format!("`{name}` already names the step at line {line}"),
                "duplicate name",
                Some("pick another name".into()),
            ));
        }
        let capture = Capture {
            line: at.line,
            has_instance,
            has_enterprise,
        };
        self.captures.insert(name.clone(), capture);
        Ok(Some(name))
    }

    /// The step's one action key, or the problem with it.
    fn action_key<'n>(&mut self, obj: &Obj<'n>, node: &'n Node) -> Decoded<&'n str> {
        let actions: Vec<&str> = obj
            .entries
            .iter()
            .map(|(k, _, _)| *k)
            .filter(|k| schema::action_keys().any(|a| a == *k))
            .collect();
        match actions.as_slice() {
            [one] => Ok(one),
            [] => {
                let at_key = obj.entries.first().map_or(node, |(_, key, _)| *key);
                let actions = schema::action_keys().collect::<Vec<_>>().join(", ");
                Err(self.problem(
                    at_key,
                    "this step has no action",
                    "a step does one thing",
                    Some(format!("add one of: {actions}")),
                ))
            }
            [first, second, ..] => {
                let second_node = obj.key_node(second).unwrap_or(node);
                Err(self.problem(
                    second_node,
                    format!("this step has two actions, `{first}` and `{second}`"),
                    "second action",
                    Some("split it into two steps".into()),
                ))
            }
        }
    }

    fn step(&mut self, node: &Node) -> Decoded<Step> {
        let obj = self.object(node, &schema::STEP)?;
        let at = Self::location(node);
        let action_key = self.action_key(&obj, node);
        let key = action_key.as_ref().ok().copied();
        // Steps about one instance stand for it (a renewal's `as:` names the instance and
        // the renewal order).
        let has_instance = matches!(
            key,
            Some(
                "purchase"
                    | "bind-enterprise"
                    | "renew"
                    | "convert-trial"
                    | "refund-renewal"
                    | "upgrade"
                    | "unsubscribe"
                    | "apply-license"
            )
        );
        let has_enterprise = matches!(
            key,
            Some("apply-credential" | "bind-enterprise" | "kit-sync")
        );
        let action = action_key.and_then(|key| self.action(key, obj.get(key).unwrap_or(node)));
        let faults = self.opt(obj.get("faults"), Self::faults);
        let check = self.opt(obj.get("check"), Self::check_id);
        let expect = self.opt(obj.get("expect"), |d, n| d.expect(n, action.as_ref().ok()));
        let capture = self.capture(obj.get("as"), at, (has_instance, has_enterprise));
        let (subject, expect) = expect?.unwrap_or_default();
        Ok(Step {
            at,
            action: action?,
            capture: capture?,
            faults: faults?.unwrap_or_else(|| Faults {
                copies: 1,
                ..Faults::default()
            }),
            expect,
            subject,
            check: check?,
        })
    }

    fn check_id(&mut self, node: &Node) -> Decoded<CheckId> {
        let text = self.text(node, "the check")?;
        if let Some(check) = CheckId::parse(&text) {
            return Ok(check);
        }
        let help = did_you_mean(&text, CheckId::ALL.iter().map(|c| c.id())).map_or_else(
            || "`kgsim checks` lists the check ids".to_owned(),
            |close| format!("did you mean `{close}`?"),
        );
        let message = format!("unknown check `{text}`");
        Err(self.problem(node, message, "not a check id", Some(help)))
    }
}
