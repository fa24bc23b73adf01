//! A step's `faults:`: what the marketplace side does wrong on purpose.

use crate::scenario::format::decode::{Decoded, Decoder, STALE_BY};
use crate::scenario::format::model::{Attempts, Faults};
use crate::scenario::format::schema::{self, Kind};
use crate::scenario::format::yaml::{Node, NodeKind};
use crate::transport::wire::{Edit, Tamper};

impl Decoder<'_> {
    pub(super) fn faults(&mut self, node: &Node) -> Decoded<Faults> {
        let obj = self.object(node, &schema::FAULTS)?;
        let drop_response = self.opt(obj.get("drop-response"), |d, n| {
            d.attempts(n, "drop-response")
        });
        let fail_before_send = self.opt(obj.get("fail-before-send"), |d, n| {
            d.attempts(n, "fail-before-send")
        });
        let tamper = self.opt(obj.get("tamper"), |d, n| {
            Ok(match d.choice(n, schema::TAMPERS, "the tamper")? {
                "signature" => Tamper::Signature,
                "missing-signature" => Tamper::MissingSignature,
                "parameter" => Tamper::Parameter,
                "replayed-nonce" => Tamper::ReplayedNonce,
                _ => Tamper::StaleTimestamp(STALE_BY),
            })
        });
        let edit = self.opt(obj.get("edit"), Self::edit);
        let delay = self.opt(obj.get("delay"), |d, n| d.duration(n, "the delay"));
        let copies = self.opt(obj.get("copies"), |d, n| {
            d.integer(n, &schema::COPIES, "copies")
        });
        let rounds = self.opt(obj.get("rounds"), |d, n| {
            d.integer(n, &schema::ROUNDS, "rounds")
        });
        Ok(Faults {
            drop_response: drop_response?.unwrap_or_default(),
            fail_before_send: fail_before_send?.unwrap_or_default(),
            tamper: tamper?,
            edit: edit?.unwrap_or_default(),
            delay: delay?.unwrap_or_default(),
            copies: copies?.unwrap_or(1),
            rounds: rounds?.unwrap_or(1),
        })
    }

    fn attempts(&mut self, node: &Node, what: &str) -> Decoded<Attempts> {
        if node.scalar() == Some("all") {
            return Ok(Attempts::All);
        }
        let list = self.list(node, what, |d, item| {
            d.integer(item, &schema::ATTEMPT, "an attempt number")
        })?;
        Ok(Attempts::Only(list))
    }

    fn edit(&mut self, node: &Node) -> Decoded<Edit> {
        let obj = self.object(node, &schema::EDIT)?;
        let set = self.opt(obj.get("set"), |d, set| {
            let NodeKind::Mapping(entries) = &set.kind else {
                return Err(d.wrong(set, &Kind::TextMap, "`set`"));
            };
            let pairs: Vec<Decoded<(String, String)>> = entries
                .iter()
                .map(|(k, v)| {
                    let name = d.text(k, "a parameter name");
                    let value = d.text(v, "a parameter value");
                    Ok((name?, value?))
                })
                .collect();
            pairs.into_iter().collect()
        });
        let remove = self.opt(obj.get("remove"), |d, n| {
            d.list(n, "a parameter name", |d, item| {
                d.text(item, "a parameter name")
            })
        });
        Ok(Edit {
            set: set?.unwrap_or_default(),
            remove: remove?.unwrap_or_default(),
        })
    }
}
