//! The merchant as a client of the open APIs: every finding the open APIs logged for a call
//! reported with this step counts on its own; an `await` that ended without the call fails
//! `openapi.called` — unless the merchant did call and was refused, which the refusal's
//! finding already says.

use crate::checks::CheckId;
use crate::conformance::attribute::Cause;
use crate::conformance::verdict::CheckVerdict;
use crate::protocol::open_api::Endpoint;
use crate::scenario::format::model::{AwaitedCall, LoginVia, Step};
use crate::scenario::result::StepRun;

/// What kgsim's open APIs answered, in a few words: `401 APIGW.0303`.
fn answered(status: u16, answer: &str) -> String {
    let code = crate::protocol::open_api::answer_code(answer).unwrap_or_default();
    format!("{status} {code}")
}

/// The outcomes of a step's open-API calls and of its `await`; `earlier` is the first
/// failure of an earlier step, which a missing call follows from.
pub(crate) fn judge(step: &Step, run: &StepRun, earlier: Option<&Cause>) -> Vec<CheckVerdict> {
    let mut outcomes: Vec<CheckVerdict> = run
        .merchant_calls
        .iter()
        .flat_map(|call| {
            let name = call
                .endpoint
                .as_ref()
                .map_or("an unknown path", Endpoint::name);
            call.findings.iter().map(move |finding| CheckVerdict {
                check: finding.check,
                passed: false,
                at: step.at,
                message: format!("{name}: {}", finding.message),
                expected: "a call the open APIs accept".to_owned(),
                got: answered(call.status, &call.answer),
                exchange: None,
                consequence_of: None,
            })
        })
        .collect();
    if let Some(awaited) = &run.awaited {
        let what = match &awaited.call {
            AwaitedCall::QueryOrder(r) => format!("query-order for `{}`", r.name),
            AwaitedCall::Usage { instance, records } => {
                format!("{records} usage record(s) accepted for `{}`", instance.name)
            }
            AwaitedCall::LicenseActivate(r) => {
                format!("activation and a heartbeat of `{}`'s License code", r.name)
            }
            AwaitedCall::LicenseUpload(r) => {
                format!("an upload of the License `{}` applied for", r.name)
            }
            AwaitedCall::Login { enterprise, via } => match via {
                LoginVia::OAuth2 => format!(
                    "the exchange of a `{}` user's login code at the token endpoint",
                    enterprise.name
                ),
                LoginVia::Cas => format!(
                    "the validation of a `{}` user's CAS ticket",
                    enterprise.name
                ),
            },
        };
        let check = match &awaited.call {
            AwaitedCall::LicenseUpload(_) => CheckId::LicenseUpload,
            AwaitedCall::Login { .. } => CheckId::SsoExchange,
            _ => step.check.unwrap_or(CheckId::OpenApiCalled),
        };
        let hint = match (&awaited.call, &awaited.note) {
            (_, Some(note)) => note.clone(),
            (AwaitedCall::Login { .. }, None) => "its login callback must POST the code to {domainName}/api/v1/oauth2/token with the tenant's client_id and decrypted client_secret".to_owned(),
            _ => "point its open-API base URL at the one kgsim serves and sign with the AK/SK it was given".to_owned(),
        };
        let first_refusal = outcomes.first().map(|o| Cause {
            check: o.check,
            step: run.index + 1,
            note: Some("the merchant called, and the call was refused"),
        });
        outcomes.push(CheckVerdict {
            check,
            passed: awaited.came,
            at: step.at,
            message: if awaited.came {
                format!("the merchant made {what}")
            } else {
                format!(
                    "the merchant did not make {what} within {}: {hint}",
                    awaited.within
                )
            },
            expected: what,
            got: if awaited.came {
                "the call".to_owned()
            } else {
                format!("nothing within {}", awaited.within)
            },
            exchange: None,
            consequence_of: if awaited.came {
                None
            } else {
                first_refusal.or_else(|| earlier.cloned())
            },
        });
        outcomes.extend(awaited.facts.iter().map(|fact| CheckVerdict {
            check: fact.check,
            passed: fact.passed,
            at: step.at,
            message: fact.message.clone(),
            expected: fact.expected.clone(),
            got: fact.got.clone(),
            exchange: None,
            consequence_of: (!fact.passed).then(|| earlier.cloned()).flatten(),
        }));
    }
    outcomes
}
