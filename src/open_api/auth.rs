//! Who is calling: API Gateway `SDK-HMAC-SHA256` for every open API but the new usage push,
//! which carries its own `signature`/`ts`/`nonce` (spec: koogallery-v2-kit-license.md §6.4,
//! §7.2). A refusal answers as the gateway does and says which step of the merchant's signer
//! differs.

use crate::checks::CheckId;
use crate::open_api::book::CallFinding;
use crate::open_api::ops::Received;
use crate::protocol::open_api::GatewayError;
use crate::protocol::secret::AccessKey;
use crate::protocol::verdict::Verdict;
use crate::protocol::{UnixMillis, apigw, usage_push};

/// The keys the open APIs check calls with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The merchant's AK (`KGSIM_OPENAPI_AK`).
    pub app_key: String,
    /// Its SK (`KGSIM_OPENAPI_SK`).
    pub app_secret: AccessKey,
    /// The key bound to 基础接口, which signs usage pushes (`KGSIM_ACCESS_KEY`).
    pub usage_key: AccessKey,
}

/// A refused call: the gateway's answer and the finding.
pub(crate) struct Refusal {
    /// What the gateway answers.
    pub(crate) error: GatewayError,
    /// What the report says.
    pub(crate) finding: CallFinding,
}

fn refuse(error: GatewayError, message: String) -> Refusal {
    Refusal {
        error,
        finding: CallFinding {
            check: CheckId::OpenApiSignature,
            message,
        },
    }
}

/// Checks an APIGW-signed call; `url` is the full URL the merchant signed.
pub(crate) fn check_apigw(
    keys: &Keys,
    received: &Received,
    url: &str,
    now: UnixMillis,
) -> Result<(), Refusal> {
    let headers = received.header_pairs();
    let Some(authorization) = received.header("authorization") else {
        return Err(refuse(
            GatewayError::MissingAuthorization,
            "no Authorization header: open-API calls are signed SDK-HMAC-SHA256 with the AK/SK (spec §6.4)".into(),
        ));
    };
    if let Some(problem) = apigw::date_problem(&headers, now) {
        return Err(refuse(GatewayError::DateSkew, problem));
    }
    let request = apigw::Request {
        method: &received.method,
        url,
        headers: &headers,
        body: &received.body,
    };
    match apigw::diagnose(&keys.app_key, &keys.app_secret, &request, authorization) {
        Ok(Verdict::Valid) => Ok(()),
        Ok(Verdict::Invalid(mismatch)) => {
            let cause = mismatch.cause.map_or_else(
                || "no common mistake reproduces it: check the SK, the signed headers' values and the body bytes".to_owned(),
                |c| c.to_string(),
            );
            Err(refuse(
                GatewayError::IncorrectSignature,
                format!(
                    "the SDK-HMAC-SHA256 signature does not match; {cause}; `kgsim verify apigw --request FILE` with the request as sent shows every step"
                ),
            ))
        }
        Err(apigw::Unverifiable::OtherAppKey(ak)) => Err(refuse(
            GatewayError::UnknownAppKey,
            format!("signed with app key `{ak}`, not the merchant's"),
        )),
        Err(other) => Err(refuse(GatewayError::IncorrectSignature, other.to_string())),
    }
}

/// Checks a new usage push's `signature`, `ts` and `nonce` (MKT.0102 when they fail).
pub(crate) fn check_usage_signature(keys: &Keys, received: &Received) -> Result<(), CallFinding> {
    let finding = |message: String| CallFinding {
        check: CheckId::OpenApiSignature,
        message,
    };
    let (Some(signature), Some(ts), Some(nonce)) = (
        received.header("signature"),
        received.header("ts"),
        received.header("nonce"),
    ) else {
        return Err(finding(
            "a usage push carries the headers signature, ts and nonce (spec §7.2)".into(),
        ));
    };
    if usage_push::canonical_body(&received.body).is_err() {
        return Err(finding(
            "the body is not JSON, so it cannot be signed".into(),
        ));
    }
    if usage_push::verify(&keys.usage_key, ts, nonce, &received.body, signature) {
        return Ok(());
    }
    let raw = String::from_utf8_lossy(&received.body);
    let hint = if usage_push::signature(&keys.usage_key, ts, nonce, &raw) == signature {
        "the body was signed as sent: sort its keys at every depth first"
    } else {
        "check the key (the one bound to 基础接口) and the message `ts={ts}&nonce={nonce}&body={sorted body}`; `kgsim sign usage` shows the expected value"
    };
    Err(finding(format!(
        "the usage signature does not match; {hint}"
    )))
}
