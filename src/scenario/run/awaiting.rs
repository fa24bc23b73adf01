//! The steps that deal with the merchant's own clock: `await` waits (wall time, bounded, the
//! virtual clock held) until the merchant makes the open-API call a flow needs, and reports
//! the calls it made; `enter-license` hands a purchase's License code to the merchant's
//! shipped software, as a buyer typing it in would.
//!
//! The wait is woken by each call the open APIs log, so it never polls. It ends early when a
//! call about the awaited subject was refused: the merchant tried, and the refusal's finding
//! says why.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::checks::CheckId;
use crate::open_api::book::State;
use crate::open_api::{MerchantCall, Scope};
use crate::protocol::open_api::Endpoint;
use crate::scenario::format::model::{Awaited, AwaitedCall, LoginVia, Ref};
use crate::scenario::publish::license_code;
use crate::scenario::result::{AwaitFact, AwaitOutcome, StepFacts, StepRun};
use crate::scenario::run::state::Run;
use crate::transport::stream::Trust;
use crate::transport::wire::{Method, Wire};
use crate::transport::{Client, TargetUrl};

/// Whether a call names one of `subjects`.
fn names(call: &MerchantCall, subjects: &BTreeSet<String>) -> bool {
    call.subjects.iter().any(|s| subjects.contains(s))
}

fn is_activation(call: &MerchantCall) -> bool {
    matches!(
        call.endpoint,
        Some(Endpoint::ActivateV1 | Endpoint::ActivateV2)
    )
}

fn is_heartbeat(call: &MerchantCall) -> bool {
    matches!(
        call.endpoint,
        Some(Endpoint::HeartbeatV1 | Endpoint::HeartbeatV2)
    )
}

fn answered_ok(call: &MerchantCall, endpoint: &Endpoint) -> bool {
    call.endpoint.as_ref() == Some(endpoint) && call.status == 200 && call.findings.is_empty()
}

/// Whether a call is of the kind an await is about (what it reports).
pub(crate) fn of_kind(awaited: &AwaitedCall, call: &MerchantCall) -> bool {
    match awaited {
        AwaitedCall::QueryOrder(_) => call.endpoint == Some(Endpoint::QueryOrder),
        AwaitedCall::Usage { .. } => matches!(
            call.endpoint,
            Some(Endpoint::UsagePush | Endpoint::UsagePushOld)
        ),
        AwaitedCall::LicenseActivate(_) => is_activation(call) || is_heartbeat(call),
        AwaitedCall::LicenseUpload(_) => matches!(call.endpoint, Some(Endpoint::Upload { .. })),
        AwaitedCall::Login { .. } => call.endpoint.as_ref().is_some_and(Endpoint::is_identity),
    }
}

/// How an awaited flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settlement {
    /// Whether the awaited call came.
    pub(crate) came: bool,
    /// Whether waiting can stop: the flow is complete, or a call about the subject was
    /// refused.
    pub(crate) stop: bool,
    /// The log number of the call that completed the flow: later calls of the kind are
    /// timing, reported with the run's leftovers rather than the step.
    pub(crate) upto: Option<usize>,
}

/// Whether `calls` (in log order) hold the awaited call, and whether they complete its flow.
fn complete(awaited: &AwaitedCall, calls: &[&MerchantCall]) -> (bool, bool) {
    let came = match awaited {
        AwaitedCall::QueryOrder(_) => calls
            .iter()
            .any(|c| c.endpoint == Some(Endpoint::QueryOrder)),
        AwaitedCall::Usage { records, .. } => {
            let accepted: usize = calls
                .iter()
                .filter(|c| {
                    matches!(
                        c.endpoint,
                        Some(Endpoint::UsagePush | Endpoint::UsagePushOld)
                    )
                })
                .map(|c| c.records.iter().filter(|r| r.accepted()).count())
                .sum();
            accepted >= *records as usize
        }
        // The software activates, then checks the code: both, in that order.
        AwaitedCall::LicenseActivate(_) => calls
            .iter()
            .position(|c| is_activation(c))
            .is_some_and(|at| calls[at..].iter().any(|c| is_heartbeat(c))),
        // A new upload: the one a resent application makes counts apart from the first.
        AwaitedCall::LicenseUpload(_) => calls.iter().any(|c| {
            !c.reported
                && matches!(c.endpoint, Some(Endpoint::Upload { .. }))
                && c.findings.is_empty()
        }),
        AwaitedCall::Login { via, .. } => {
            let exchanged = |e: Endpoint| calls.iter().any(|c| answered_ok(c, &e));
            match via {
                // The exchange is what the login needs; the flow is complete once the user
                // was read too.
                LoginVia::OAuth2 => {
                    let done = exchanged(Endpoint::OAuthToken);
                    return (done, done && exchanged(Endpoint::OAuthUserInfo));
                }
                LoginVia::Cas => exchanged(Endpoint::CasValidate),
            }
        }
    };
    (came, came)
}

/// How the awaited flow stands in the log.
pub(crate) fn settled(
    state: &State,
    scope: Scope,
    awaited: &AwaitedCall,
    subjects: &BTreeSet<String>,
) -> Settlement {
    let calls: Vec<&MerchantCall> = state
        .calls
        .iter()
        .filter(|c| c.scope == scope && names(c, subjects) && of_kind(awaited, c))
        .collect();
    let refused = calls.iter().any(|c| !c.findings.is_empty());
    for n in 1..=calls.len() {
        let (came, done) = complete(awaited, &calls[..n]);
        if done {
            return Settlement {
                came,
                stop: true,
                upto: Some(calls[n - 1].number),
            };
        }
    }
    Settlement {
        came: complete(awaited, &calls).0,
        stop: refused,
        upto: None,
    }
}

impl Run<'_> {
    /// What an awaited call names: the order, the instances (and for a package, the instance
    /// it pays for), the License code.
    fn subjects_of(&self, reference: &Ref) -> BTreeSet<String> {
        let mut subjects = BTreeSet::new();
        let Some(capture) = self.captures.get(&reference.name) else {
            return subjects;
        };
        // An application names its marketplace event.
        for call in &capture.calls {
            if let Some(event) = self.engine.call(*call).template.event_id() {
                subjects.insert(event.to_owned());
            }
        }
        if let Some(order) = &capture.order {
            subjects.insert(order.0.clone());
            subjects.insert(license_code(order));
        }
        for instance in &capture.instances {
            let entry = self.engine.instance(*instance);
            subjects.extend(entry.merchant_id.clone());
            subjects.insert(license_code(&entry.order));
            if let Some(served) = entry.serves {
                subjects.extend(self.engine.instance(served).merchant_id.clone());
            }
        }
        subjects
    }

    /// Why the merchant cannot be expected to call about a purchase: it never answered with
    /// an instance (the purchase failed, or has not succeeded yet).
    fn nothing_to_wait_for(&self, awaited: &AwaitedCall) -> Option<String> {
        let reference = awaited.subject();
        let capture = self.captures.get(&reference.name)?;
        if let AwaitedCall::LicenseUpload(_) = awaited {
            let accepted = capture.calls.iter().any(|c| {
                self.engine.call(*c).template.event_id().is_some()
                    && self.engine.call(*c).accepted_attempt().is_some()
            });
            return (!accepted).then(|| {
                format!(
                    "`{}` has no License application the merchant accepted: it has nothing to upload",
                    reference.name
                )
            });
        }
        let answered = capture
            .instances
            .iter()
            .any(|i| self.engine.instance(*i).merchant_id.is_some());
        (!answered).then(|| {
            format!(
                "`{}` has no instance the merchant answered with: it has nothing to call about",
                reference.name
            )
        })
    }

    pub(crate) fn empty_step(&self, index: usize, blocked: Option<String>) -> StepRun {
        StepRun {
            index,
            at: self.engine.elapsed(),
            exchanges: Vec::new(),
            facts: StepFacts::default(),
            blocked,
            merchant_calls: Vec::new(),
            awaited: None,
            transitions: Vec::new(),
        }
    }

    /// Waits for the merchant's call, then reports the calls the scenario's run made since the
    /// last report, in a stable order.
    pub(crate) async fn await_step(&mut self, index: usize, awaited: &Awaited) -> StepRun {
        let Some(publisher) = &self.publisher else {
            return self.empty_step(
                index,
                Some("the open APIs are not served in this run".into()),
            );
        };
        let (book, scope) = (publisher.book().clone(), publisher.scope());
        if let Some(why) = self.nothing_to_wait_for(&awaited.call) {
            return self.empty_step(index, Some(why));
        }
        let subjects = self.subjects_of(awaited.call.subject());
        let within = self
            .context
            .open_api
            .as_ref()
            .and_then(|link| link.await_within)
            .unwrap_or(awaited.within);
        let wait = Duration::from_millis(u64::try_from(within.as_millis()).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + wait;
        let arrived = book.wait_for(deadline, |state| {
            settled(state, scope, &awaited.call, &subjects).stop
        });
        // kgsim's own merchant says when it owes nothing: every call it was going to make is
        // then in the book, and what has not come will not.
        match self.context.open_api.as_ref() {
            Some(link) => {
                tokio::select! {
                    _ = arrived => {}
                    _ = tokio::time::timeout_at(deadline, link.merchant_done()) => {}
                }
            }
            None => {
                arrived.await;
            }
        }
        let (settlement, reached) = {
            let state = book.lock();
            let reached = state.calls.iter().filter(|c| c.scope == scope).count();
            (settled(&state, scope, &awaited.call, &subjects), reached)
        };
        let came = settlement.came;
        // The base-URL and AK/SK hint only fits a merchant none of whose calls arrived.
        let note = (!came && reached > 0).then(|| {
            format!(
                "it reached the open APIs {reached} time(s) in this scenario, so its base URL \
                 and AK/SK work: it does not make this call, or names another order or instance \
                 in it"
            )
        });
        let mut step = self.empty_step(index, None);
        step.merchant_calls =
            self.unreported_calls(scope, &awaited.call, &subjects, settlement.upto);
        let facts = match &awaited.call {
            AwaitedCall::LicenseUpload(_) => same_license(&book.lock(), &subjects),
            _ => Vec::new(),
        };
        step.awaited = Some(AwaitOutcome {
            call: awaited.call.clone(),
            came,
            within,
            facts,
            note,
        });
        step
    }

    /// The awaited kind of calls about the subject, not reported yet, up to the one that
    /// completed the flow (the report orders them, once normalised). Other calls stay for a
    /// later await, or for the run's leftovers: what arrives after the awaited call is a
    /// matter of timing, and a report must not be.
    pub(crate) fn unreported_calls(
        &mut self,
        scope: Scope,
        awaited: &AwaitedCall,
        subjects: &BTreeSet<String>,
        upto: Option<usize>,
    ) -> Vec<MerchantCall> {
        self.publisher.as_ref().map_or_else(Vec::new, |p| {
            p.book().take_unreported(scope, |c| {
                of_kind(awaited, c) && names(c, subjects) && upto.is_none_or(|n| c.number <= n)
            })
        })
    }

    /// Hands the purchase's License code to the merchant's software.
    pub(crate) async fn enter_license(&mut self, index: usize, reference: &Ref) -> StepRun {
        let Some(order) = self
            .captures
            .get(&reference.name)
            .and_then(|c| c.order.clone())
        else {
            return self.empty_step(index, Some(format!("`{}` placed no order", reference.name)));
        };
        let Some(url) = self
            .context
            .open_api
            .as_ref()
            .and_then(|link| link.software_url.clone())
        else {
            return self.empty_step(
                index,
                Some("no software address: pass --software-url URL (where your software takes a License code)".into()),
            );
        };
        let body = serde_json::json!({ "license": license_code(&order) }).to_string();
        let blocked = match deliver(&url, body).await {
            Ok(()) => None,
            Err(why) => Some(format!(
                "the software at {url} did not take the code: {why}"
            )),
        };
        self.empty_step(index, blocked)
    }
}

/// Once an event has more than one upload (a resent application), whether they all carry
/// the same License (spec V2 §4.5: the same request yields the same License).
fn same_license(state: &State, events: &BTreeSet<String>) -> Vec<AwaitFact> {
    events
        .iter()
        .filter_map(|event| {
            let uploads = state.uploads.get(event)?;
            if uploads.len() < 2 {
                return None;
            }
            let distinct: BTreeSet<&String> = uploads.iter().collect();
            Some(AwaitFact {
                check: CheckId::LicenseSameLicense,
                passed: distinct.len() == 1,
                message: format!(
                    "{} uploads for event {event} carry {} distinct License(s)",
                    uploads.len(),
                    distinct.len()
                ),
                expected: "the same License every time".into(),
                got: format!("{} distinct", distinct.len()),
            })
        })
        .collect()
}

/// POSTs a License code to the software, with the marketplace client's timeout and caps.
async fn deliver(url: &str, body: String) -> Result<(), String> {
    let target = TargetUrl::parse(url).map_err(|e| e.to_string())?;
    let trust = Trust::new(None).map_err(|e| e.to_string())?;
    let client = Client::new(target, trust, Duration::from_secs(20));
    let wire = Wire {
        method: Method::Post,
        query: String::new(),
        headers: Vec::new(),
        body: Some(body),
        content_type: Some("application/json"),
        to: crate::transport::wire::Destination::Production,
    };
    match client.send(&wire).await.transport {
        crate::marketplace::Transport::Answered(answer) if answer.status < 300 => Ok(()),
        crate::marketplace::Transport::Answered(answer) => Err(format!("HTTP {}", answer.status)),
        _ => Err("no answer".to_owned()),
    }
}
