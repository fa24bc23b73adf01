//! The `login` step: a user of a 联营 enterprise logs in to the merchant through kgsim's
//! identity centre, as a browser would (spec: koogallery-v2-kit-license.md §3.9).
//!
//! 1. The user has a session at the identity centre; the browser asks `authorize` for the
//!    app's client with the merchant's callback as `redirect_uri` (CAS: a ticket is issued
//!    for the callback as `service`).
//! 2. The browser follows the redirect to the merchant's callback with `code` and `tenant`
//!    (or `ticket`), on the run's client: timeouts, caps, no redirects followed.
//! 3. The step waits (wall time, bounded) for the merchant to exchange the code at the token
//!    endpoint and read userinfo (or validate the ticket), as an `await` does.
//!
//! The browser's own requests never enter the merchant's call log: only what the merchant
//! calls is judged.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::marketplace::Span;
use crate::marketplace::Transport;
use crate::open_api::ops::identity::{authorize, issue_ticket, open_session};
use crate::open_api::server::wall_now;
use crate::protocol::identity::SCOPE;
use crate::scenario::format::model::{AwaitedCall, LoginVia, Ref};
use crate::scenario::result::{AwaitFact, AwaitOutcome, StepRun};
use crate::scenario::run::awaiting::settled;
use crate::scenario::run::state::Run;
use crate::transport::TargetUrl;
use crate::transport::wire::{Destination, Method, Wire};

/// `application/x-www-form-urlencoded`-style escaping for a query value.
fn escaped(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where the browser is sent, and what the merchant must exchange.
struct Redirect {
    location: String,
    grant: String,
}

impl Run<'_> {
    /// The user who logs in and the enterprise's tenant and client, published.
    fn login_subject(&mut self, enterprise: &Ref) -> Result<(String, String, String), String> {
        let reference = self
            .captures
            .get(&enterprise.name)
            .and_then(|c| c.enterprise)
            .ok_or_else(|| format!("`{}` announced no enterprise", enterprise.name))?;
        let entry = self.engine.enterprise(reference);
        let user =
            entry.users.iter().find(|u| u.enable == "true").ok_or(
                "no user is authorised to the app yet: add an `authorize-users` step first",
            )?;
        let subject = (
            entry.tenant_id.clone(),
            entry.client_id.clone(),
            user.user_name.clone(),
        );
        if let Some(publisher) = self.publisher.as_mut() {
            publisher.sync(&self.engine);
        }
        Ok(subject)
    }

    /// Step 1: the identity centre's redirect to the merchant's callback.
    fn identity_redirect(
        &self,
        via: LoginVia,
        callback: &str,
        (tenant, client_id, user): (&str, &str, &str),
    ) -> Result<Redirect, String> {
        let publisher = self.publisher.as_ref().ok_or("no identity centre")?;
        let mut state = publisher.book().lock();
        let now = wall_now();
        match via {
            LoginVia::OAuth2 => {
                let cookie = open_session(&mut state, tenant, user);
                let state_param: u64 = rand::random();
                let query = format!(
                    "response_type=code&client_id={}&redirect_uri={}&scope={SCOPE}&state={state_param}",
                    escaped(client_id),
                    escaped(callback)
                );
                let outcome = authorize(&mut state, &query, Some(&cookie), now);
                let location = outcome
                    .location
                    .ok_or("the identity centre issued no redirect")?;
                let grant = outcome
                    .subjects
                    .into_iter()
                    .find(|s| s != tenant)
                    .ok_or("the identity centre issued no code")?;
                Ok(Redirect { location, grant })
            }
            LoginVia::Cas => {
                let separator = if callback.contains('?') { '&' } else { '?' };
                let service = format!("{callback}{separator}tenant={}", escaped(tenant));
                let ticket = issue_ticket(&mut state, &service, tenant, user, now);
                Ok(Redirect {
                    location: format!("{service}&ticket={ticket}"),
                    grant: ticket,
                })
            }
        }
    }

    /// Step 2: the browser follows the redirect; `Some(why)` when the callback could not be
    /// reached or answered with an error.
    async fn follow(&self, location: &str) -> Option<String> {
        let target = match TargetUrl::parse(location) {
            Ok(target) => target,
            Err(e) => return Some(format!("the login callback is not a usable address: {e}")),
        };
        let client = self.context.client.retargeted(target);
        let wire = Wire {
            method: Method::Get,
            query: String::new(),
            headers: vec![("Accept".into(), "text/html,application/json".into())],
            body: None,
            content_type: None,
            to: Destination::Production,
        };
        match client.send(&wire).await.transport {
            Transport::Answered(answer) if answer.status < 400 => None,
            Transport::Answered(answer) => Some(format!(
                "the login callback answered HTTP {}",
                answer.status
            )),
            Transport::Unreachable(why) | Transport::Broken(why) => {
                Some(format!("the login callback did not answer: {why}"))
            }
            _ => Some("the login callback did not answer in time".to_owned()),
        }
    }

    /// Runs a `login` step.
    pub(crate) async fn login(
        &mut self,
        index: usize,
        enterprise: &Ref,
        via: LoginVia,
        within: Span,
    ) -> StepRun {
        let Some(callback) = self.context.login_url.clone() else {
            let why = "no login callback: pass --login-url URL (the merchant's OAuth redirect_uri)";
            return self.empty_step(index, Some(why.into()));
        };
        if self.publisher.is_none() {
            let why = "the identity centre is served with the open APIs: set KGSIM_OPENAPI_AK and KGSIM_OPENAPI_SK";
            return self.empty_step(index, Some(why.into()));
        }
        let subject = match self.login_subject(enterprise) {
            Ok(subject) => subject,
            Err(why) => return self.empty_step(index, Some(why)),
        };
        let (tenant, client_id, user) = subject;
        let redirect = match self.identity_redirect(via, &callback, (&tenant, &client_id, &user)) {
            Ok(redirect) => redirect,
            Err(why) => return self.empty_step(index, Some(why)),
        };
        let note = self.follow(&redirect.location).await;
        let call = AwaitedCall::Login {
            enterprise: enterprise.clone(),
            via,
        };
        let subjects = BTreeSet::from([redirect.grant]);
        let Some(publisher) = &self.publisher else {
            return self.empty_step(index, None);
        };
        let (book, scope) = (publisher.book().clone(), publisher.scope());
        let within = self
            .context
            .open_api
            .as_ref()
            .and_then(|link| link.await_within)
            .unwrap_or(within);
        // A callback that refused the browser will not exchange anything later.
        let wait = if note.is_some() {
            Duration::ZERO
        } else {
            Duration::from_millis(u64::try_from(within.as_millis()).unwrap_or(0))
        };
        let deadline = tokio::time::Instant::now() + wait;
        book.wait_for(deadline, |state| {
            settled(state, scope, &call, &subjects).stop
        })
        .await;
        let settlement = settled(&book.lock(), scope, &call, &subjects);
        let came = settlement.came;
        let mut step = self.empty_step(index, None);
        step.merchant_calls = self.unreported_calls(scope, &call, &subjects, settlement.upto);
        step.awaited = Some(AwaitOutcome {
            facts: userinfo_fact(&call, &step.merchant_calls, came),
            call,
            came,
            within,
            note,
        });
        step
    }
}

/// OAuth 2.0: once the code was exchanged, whether the merchant read the user with the token.
fn userinfo_fact(
    call: &AwaitedCall,
    calls: &[crate::open_api::MerchantCall],
    exchanged: bool,
) -> Vec<AwaitFact> {
    use crate::protocol::open_api::Endpoint;
    let AwaitedCall::Login {
        via: LoginVia::OAuth2,
        ..
    } = call
    else {
        return Vec::new();
    };
    if !exchanged {
        return Vec::new();
    }
    let read = calls.iter().any(|c| {
        c.endpoint == Some(Endpoint::OAuthUserInfo) && c.status == 200 && c.findings.is_empty()
    });
    let refused = calls
        .iter()
        .any(|c| c.endpoint == Some(Endpoint::OAuthUserInfo) && !c.findings.is_empty());
    if refused {
        // The refusal's own finding says what was wrong.
        return Vec::new();
    }
    vec![AwaitFact {
        check: crate::checks::CheckId::SsoUserinfo,
        passed: read,
        message: if read {
            "the merchant read the user with the access token".into()
        } else {
            "the merchant exchanged the code but never read the user: GET {domainName}/api/v1/oauth2/userinfo with `Authorization: Bearer <access_token>`".into()
        },
        expected: "a userinfo call with the access token".into(),
        got: if read { "the call" } else { "none" }.into(),
    }]
}
