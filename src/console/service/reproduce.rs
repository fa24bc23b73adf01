//! Reproducing a production request against a product: the paste read back, signed with the
//! product's local key, sent to its production address and judged like any attempt. The
//! product's marketplace is not touched (no order, no instance, no journal entry): only its
//! settings and client are used, under its own lock.

use crate::console::service::debug_form::{case_request, edits_between};
use crate::console::service::{ConsoleError, Service};
use crate::console::vocab::AttemptVerdict;
use crate::reproduce::{self, paste};

/// How a reproduced request went.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReproduceOutcome {
    /// The attempt as judged.
    pub(crate) attempt: ReproducedAttempt,
    /// The debug case it was saved as, when asked: the interface's first case with every
    /// parameter as the paste has it, replayed by the dial tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) saved_case: Option<i64>,
}

/// One reproduced attempt.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReproducedAttempt {
    /// `accepted` or `rejected`.
    pub(crate) verdict: &'static str,
    /// The first console check broken, when rejected.
    pub(crate) check_id: Option<&'static str>,
    /// What it said.
    pub(crate) message: Option<String>,
    /// What was sent and what came back.
    pub(crate) exchange: ReproducedExchange,
}

/// The reproduced exchange.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReproducedExchange {
    /// The activity sent (its wire name).
    pub(crate) activity: &'static str,
    /// The answer's HTTP status, when there was an answer.
    pub(crate) status: Option<u16>,
    /// The answer's body (cut at 4 KiB), when there was one.
    pub(crate) body: Option<String>,
}

impl Service {
    /// Reproduces `text` (a V1 URL, a V2 URL and body, or a curl command) against a
    /// product, and saves it as a debug case when `save`; a paste that cannot be read, or is
    /// of the other protocol, is `Invalid`.
    pub(crate) async fn reproduce(
        &self,
        product: i64,
        text: &str,
        save: bool,
    ) -> Result<ReproduceOutcome, ConsoleError> {
        let lock = self.product(product)?;
        let live = lock.lock().await;
        let settings = live.engine.settings().clone();
        let invalid = |e: reproduce::PasteError| ConsoleError::Invalid(e.to_string());
        let pasted = paste::read(text).map_err(invalid)?;
        let protocol = reproduce::protocol_of(&pasted).map_err(invalid)?;
        if protocol != settings.protocol {
            return Err(ConsoleError::Invalid(format!(
                "the request is a {protocol} request and product {product} is {}",
                settings.protocol
            )));
        }
        let request = reproduce::request_of(&pasted, protocol).map_err(invalid)?;
        let client = live.client.clone();
        drop(live);
        let reproduced = reproduce::send(&request, &settings, &client).await;
        let saved_case = if save {
            Some(self.save_reproduced(product, &request, &settings, reproduced.accepted)?)
        } else {
            None
        };
        let (status, body) = match reproduced.answer {
            Some((status, body)) => (Some(status), Some(body)),
            None => (None, None),
        };
        Ok(ReproduceOutcome {
            attempt: ReproducedAttempt {
                verdict: if reproduced.accepted {
                    "accepted"
                } else {
                    "rejected"
                },
                check_id: reproduced.failed.as_ref().map(|(check, _)| check.id()),
                message: reproduced.failed.map(|(_, message)| message),
                exchange: ReproducedExchange {
                    activity: reproduced.activity,
                    status,
                    body,
                },
            },
            saved_case,
        })
    }

    /// Saves a reproduced request as a debug case: the interface's case 0 with the edits
    /// that make it the pasted request.
    fn save_reproduced(
        &self,
        product: i64,
        request: &crate::protocol::Request,
        settings: &crate::marketplace::Settings,
        accepted: bool,
    ) -> Result<i64, ConsoleError> {
        let activity = request.activity();
        let case = case_request(settings, activity, 0, self.now())?;
        let edits = edits_between(&case, request);
        let verdict = if accepted {
            AttemptVerdict::Accepted
        } else {
            AttemptVerdict::Rejected
        };
        self.save_case(product, (activity.slug(), 0), &edits, verdict)
    }
}
