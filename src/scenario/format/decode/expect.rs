//! A step's `expect:` and `of:`: what it expects, about which step.

use crate::protocol::ResultCode;
use crate::scenario::format::decode::{Decoded, Decoder};
use crate::scenario::format::diagnostics::did_you_mean;
use crate::scenario::format::model::{Action, Expect, Expectation, Ref, ResultExpectation};
use crate::scenario::format::schema::{self, Kind};
use crate::scenario::format::yaml::{Node, NodeKind};

/// Whether an action has an order or instance of its own for state expectations.
fn has_own_subject(action: Option<&Action>) -> bool {
    matches!(
        action,
        Some(
            Action::Purchase { .. }
                | Action::Renew { .. }
                | Action::ConvertTrial { .. }
                | Action::RefundRenewal(_)
                | Action::Upgrade(_)
                | Action::Freeze(_)
                | Action::Unfreeze(_)
                | Action::Arrears(_)
                | Action::Recharge(_)
                | Action::ExhaustQuota(_)
                | Action::Expire(_)
                | Action::Unsubscribe(_)
        )
    )
}

impl Decoder<'_> {
    pub(super) fn expect(
        &mut self,
        node: &Node,
        action: Option<&Action>,
    ) -> Decoded<(Option<Ref>, Vec<Expectation>)> {
        let obj = self.object(node, &schema::EXPECT)?;
        let subject = self.opt(obj.get("of"), |d, n| d.reference(n, "the subject", false));
        let has_subject = subject.as_ref().is_ok_and(Option::is_some) || has_own_subject(action);
        let mut expectations: Vec<Decoded<Expectation>> = Vec::new();
        for (key, key_node, value) in &obj.entries {
            if *key == "of" {
                continue;
            }
            let at = Self::location(key_node);
            let expect = self.expectation(key, value).and_then(|expect| {
                let needs_subject = matches!(
                    expect,
                    Expect::Order(_) | Expect::Instance(_) | Expect::SettledAfter(_)
                );
                if needs_subject && !has_subject {
                    return Err(self.problem(
                        key_node,
                        format!(
                            "`{key}` needs a subject: this step has no order or instance of its own"
                        ),
                        "no subject",
                        Some(
                            "add `of: NAME` to say which earlier step's order or instance is meant"
                                .into(),
                        ),
                    ));
                }
                Ok(expect)
            });
            expectations.push(expect.map(|expect| Expectation { expect, at }));
        }
        let expectations: Decoded<Vec<Expectation>> = expectations.into_iter().collect();
        Ok((subject?, expectations?))
    }

    fn expectation(&mut self, key: &str, value: &Node) -> Decoded<Expect> {
        let count = |d: &mut Self, what| d.integer(value, &schema::COUNT, what);
        Ok(match key {
            "result" => Expect::Result(self.result_codes(value)?),
            "same-instance-as" => {
                Expect::SameInstance(self.reference(value, "the instance", true)?)
            }
            "different-instance-from" => {
                Expect::DifferentInstance(self.reference(value, "the instance", true)?)
            }
            "same-app-info-as" => {
                Expect::SameAppInfo(self.reference(value, "the instance", true)?)
            }
            "instances" => Expect::DistinctInstances(count(self, "instances")?),
            "order" => Expect::Order(
                self.choice(value, schema::ORDER_STATES, "the order state")?
                    .to_owned(),
            ),
            "instance" => Expect::Instance(
                self.choice(value, schema::INSTANCE_STATES, "the instance state")?
                    .to_owned(),
            ),
            "attempts" => Expect::Attempts(count(self, "attempts")?),
            "attempt-times" => Expect::AttemptTimes(self.list(value, "a time", |d, item| {
                d.duration(item, "an attempt time")
            })?),
            "settled-after" => Expect::SettledAfter(self.duration(value, "settled-after")?),
            "listed" => Expect::Listed(count(self, "listed")?),
            other => {
                let message = format!("`{other}` is not an expectation");
                return Err(self.problem(value, message, "here", None));
            }
        })
    }

    fn result_code(&mut self, node: &Node, what: &str) -> Decoded<ResultCode> {
        let text = node.scalar().unwrap_or_default();
        if let Ok(code) = text.parse::<ResultCode>() {
            return Ok(code);
        }
        let shaped = text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit());
        let reported = self.wrong(node, &Kind::ResultCodes, what);
        let help = if shaped {
            let codes = ResultCode::ALL.iter().map(|c| c.as_str());
            match did_you_mean(text, codes) {
                Some(close) => {
                    format!("`{text}` is not a documented code; did you mean \"{close}\"?")
                }
                None => "documented codes are 000000–000005 and 000100–000107".to_owned(),
            }
        } else {
            "result codes have six digits, written in quotes: \"000000\", \"000001\"".to_owned()
        };
        self.sink.help_last(&help);
        Err(reported)
    }

    fn result_codes(&mut self, node: &Node) -> Decoded<ResultExpectation> {
        match &node.kind {
            NodeKind::Scalar { text, .. } if text == "rejected" => Ok(ResultExpectation::Rejected),
            NodeKind::Sequence(_) => self
                .list(node, "the result", |d, item| {
                    d.result_code(item, "a result code")
                })
                .map(ResultExpectation::OneOf),
            _ => Ok(ResultExpectation::OneOf(vec![
                self.result_code(node, "the result")?,
            ])),
        }
    }
}
