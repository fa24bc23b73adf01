//! The merchant's open-API calls no `await` step reported — what it did around the awaited
//! flows (a usage push for a package, say) — shown as one more entry of the report when any
//! of them broke a rule. Each rule appears once per API, described by its rationale, so that
//! two runs of the same merchant read the same however many calls it made.

use std::collections::BTreeMap;

use crate::checks::CheckId;
use crate::open_api::MerchantCall;
use crate::protocol::open_api::{Endpoint, answer_code};
use crate::report::model::{CheckReport, ScenarioReport, Status};

/// The file name the entry is reported under; it names no scenario file, so no snapshot.
pub(crate) const FILE: &str = "(open APIs)";

/// A finding's message with what it quotes (ids that differ from run to run) elided.
fn without_quoted(message: &str) -> String {
    let mut out = String::new();
    for (index, part) in message.split('`').enumerate() {
        out.push_str(if index % 2 == 1 { "`…`" } else { part });
    }
    out
}

/// The entry for the calls outside awaited steps that broke a rule, if any did.
pub(crate) fn report(calls: &[MerchantCall]) -> Option<ScenarioReport> {
    let mut broken: BTreeMap<(String, CheckId), (String, String)> = BTreeMap::new();
    for call in calls {
        let api = call.endpoint.as_ref().map_or("unknown", Endpoint::name);
        for finding in &call.findings {
            broken
                .entry((api.to_owned(), finding.check))
                .or_insert_with(|| {
                    let got = format!(
                        "{} {}",
                        call.status,
                        answer_code(&call.answer).unwrap_or_default()
                    );
                    (got, without_quoted(&finding.message))
                });
        }
    }
    if broken.is_empty() {
        return None;
    }
    let outcomes = broken
        .into_iter()
        .map(|((api, check), (got, example))| CheckReport {
            check: check.id().to_owned(),
            passed: false,
            file: FILE.to_owned(),
            line: 1,
            message: format!("{api} calls broke the rule: {}", check.rationale()),
            expected: "calls the open APIs accept".to_owned(),
            got,
            exchange: None,
            consequence_of: None,
            advisory: check.advisory(),
            detail: Some(format!("e.g. {example}")),
        })
        .collect();
    Some(ScenarioReport {
        name: "open-API calls outside the awaited steps".to_owned(),
        file: FILE.to_owned(),
        tags: vec!["openapi".to_owned()],
        status: Status::Failed,
        skip_reason: None,
        virtual_ms: 0,
        wall_ms: 0,
        steps: Vec::new(),
        outcomes,
        snapshot: None,
    })
}
