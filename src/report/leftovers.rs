//! The merchant's open-API calls no `await` step reported — what it did around the awaited
//! flows (a usage push for a package, say) — shown as one more entry of the report when any
//! of them broke a rule. Each rule appears once per API, described by its rationale, so that
//! two runs of the same merchant read the same however many calls it made.

use std::collections::BTreeMap;

use crate::checks::CheckId;
use crate::open_api::MerchantCall;
use crate::protocol::open_api::{Endpoint, answer_code};
use crate::report::model::{CheckReport, ScenarioReport, Status};
use crate::scenario::result::ScenarioRun;

/// The file name the entry is reported under; it names no scenario file, so no snapshot.
pub(crate) const FILE: &str = "(open APIs)";

/// A finding's message with the ids it quotes shown as the scenarios' transcripts show them
/// (`order-1 of purchase/on-demand.yaml`), so that two runs read the same; anything else it
/// quotes (a field name, an id the merchant made up) is shown as it is. Ids are not secrets.
fn with_aliases(message: &str, aliases: &[(String, String)]) -> String {
    let mut out = String::new();
    for (index, part) in message.split('`').enumerate() {
        if index % 2 == 0 {
            out.push_str(part);
            continue;
        }
        let shown = aliases
            .iter()
            .find(|(original, _)| original == part)
            .map_or(part, |(_, alias)| alias.as_str());
        out.push('`');
        out.push_str(shown);
        out.push('`');
    }
    out
}

/// The ids of the run's scenarios, each with the name its transcript gives it and the
/// scenario's file.
fn run_aliases(runs: &[ScenarioRun]) -> Vec<(String, String)> {
    runs.iter()
        .flat_map(|run| {
            let file = run.scenario.file.display().to_string();
            crate::report::aliases::learn(run)
                .into_iter()
                .map(move |(original, alias)| (original, format!("{alias} of {file}")))
        })
        .collect()
}

/// The entry for the calls outside awaited steps that broke a rule, if any did.
pub(crate) fn report(calls: &[MerchantCall], runs: &[ScenarioRun]) -> Option<ScenarioReport> {
    let aliases = run_aliases(runs);
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
                    (got, with_aliases(&finding.message, &aliases))
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
        incomplete: false,
        virtual_ms: 0,
        wall_ms: 0,
        steps: Vec::new(),
        outcomes,
        snapshot: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_ids_are_aliased_never_elided() {
        let aliases = vec![(
            "CS1234567890ORDER".to_owned(),
            "order-1 of scenarios/purchase/on-demand.yaml".to_owned(),
        )];
        let message = "`resource_id` `CS1234567890ORDER` names no instance; `abc` unknown";
        assert_eq!(
            with_aliases(message, &aliases),
            "`resource_id` `order-1 of scenarios/purchase/on-demand.yaml` names no instance; `abc` unknown"
        );
    }
}
