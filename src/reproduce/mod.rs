//! Reproducing a production request at home: a request from the merchant's logs (see
//! [`paste`]) is read back into the typed request it was, every business field kept, then
//! signed afresh with the local key — a new `timeStamp` (V1) or timestamp and nonce (V2);
//! the logged signature only ever verified in production — sent to the merchant's address and
//! judged as the console judges any attempt.

pub mod paste;

use crate::checks::CheckId;
use crate::conformance::console_check;
use crate::marketplace::classify::{Transport, classify};
use crate::marketplace::settings::Settings;
use crate::protocol::{Protocol, Request, v1, v2};
use crate::transport::Client;
use crate::transport::wire::{Edit, WireForm, sign_now};

pub use paste::PasteError;

/// What kind of request a paste holds, read from it: V1 names its activity in the query,
/// V2 in its JSON body.
pub(crate) fn protocol_of(pasted: &paste::Pasted) -> Result<Protocol, PasteError> {
    let params = paste::query_params(&pasted.url)?;
    if params.iter().any(|(name, _)| name == "activity") {
        return Ok(Protocol::V1);
    }
    match &pasted.body {
        Some(body) if body.contains("\"activity\"") => Ok(Protocol::V2),
        _ => Err(PasteError::NoActivity),
    }
}

/// The typed request a paste holds. V1: the query's parameters (its `authToken` and
/// `timeStamp` are not kept: signing sets them again); V2: the JSON body.
pub(crate) fn request_of(
    pasted: &paste::Pasted,
    protocol: Protocol,
) -> Result<Request, PasteError> {
    match protocol {
        Protocol::V1 => {
            let mut params = paste::query_params(&pasted.url)?;
            // The envelope is read past with placeholders where the log left it out; the
            // request's parameters never carry it (signing writes a fresh one).
            for (name, placeholder) in [
                (v1::auth_token::AUTH_TOKEN, "unsigned"),
                ("timeStamp", "20000101000000000"),
            ] {
                if !params.iter().any(|(n, _)| n == name) {
                    params.push((name.to_owned(), placeholder.to_owned()));
                }
            }
            v1::messages::Request::from_params(&params)
                .map(Request::V1)
                .map_err(|e| PasteError::Invalid {
                    protocol: "V1",
                    why: e.to_string(),
                })
        }
        Protocol::V2 => {
            let body = pasted.body.as_deref().ok_or(PasteError::NoActivity)?;
            let value: serde_json::Value =
                serde_json::from_str(body).map_err(|e| PasteError::BodyNotJson(e.to_string()))?;
            v2::messages::Request::from_body(&value)
                .map(Request::V2)
                .map_err(|e| PasteError::Invalid {
                    protocol: "V2",
                    why: e.to_string(),
                })
        }
    }
}

/// How the merchant took the reproduced request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reproduced {
    /// Whether the console would accept the answer.
    pub(crate) accepted: bool,
    /// The first console check the answer broke, and what it said.
    pub(crate) failed: Option<(CheckId, String)>,
    /// The activity sent.
    pub(crate) activity: &'static str,
    /// The HTTP status and body of the answer (the body cut at 4 KiB), when there was one.
    pub(crate) answer: Option<(u16, String)>,
}

/// Signs `request` now with the settings' key and sends it through `client` (whose target is
/// the merchant's production address), judged as the console judges.
pub(crate) async fn send(request: &Request, settings: &Settings, client: &Client) -> Reproduced {
    let wire = sign_now(
        request,
        &settings.access_key,
        &Edit::default(),
        None,
        WireForm::of(settings, 0, 1),
    );
    let sent = client.send(&wire).await;
    let activity = request
        .activity()
        .wire_name(request.protocol())
        .unwrap_or("?");
    let judgement = classify(&sent.transport, &settings.context(request.activity()));
    let failed = judgement
        .findings
        .iter()
        .find_map(|finding| console_check(finding.rule()).map(|check| (check, finding.message())));
    let answer = match &sent.transport {
        Transport::Answered(response) => {
            let body = String::from_utf8_lossy(&response.body);
            let cut: String = body.chars().take(4096).collect();
            Some((response.status, cut))
        }
        _ => None,
    };
    Reproduced {
        accepted: judgement.accepted(),
        failed,
        activity,
        answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_url_reads_back_without_its_token() {
        let pasted = paste::read(
            "https://m.example.com/produce?activity=refreshInstance&instanceId=i-1&orderId=CS1&productId=p&expireTime=20270101000000&timeStamp=20260101000000000&authToken=bogus%2B%3D&testFlag=0",
        )
        .unwrap();
        assert_eq!(protocol_of(&pasted), Ok(Protocol::V1));
        let request = request_of(&pasted, Protocol::V1).unwrap();
        assert_eq!(
            request.activity(),
            crate::protocol::Activity::RefreshInstance
        );
    }

    #[test]
    fn a_paste_without_an_activity_is_named_as_such() {
        let pasted = paste::read("https://m.example.com/produce?instanceId=1").unwrap();
        assert_eq!(protocol_of(&pasted), Err(PasteError::NoActivity));
        let pasted = paste::read("https://m.example.com/produce?x=1\n{\"activity\": 1").unwrap();
        assert!(matches!(
            request_of(&pasted, Protocol::V2),
            Err(PasteError::BodyNotJson(_))
        ));
    }
}
