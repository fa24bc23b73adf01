//! License 2.0: activate (once), heartbeat (status following the marketplace),
//! software-usage-info (spec: koogallery-v2-kit-license.md §4.3).

use serde_json::{Value, json};

use crate::checks::CheckId;
use crate::open_api::book::{LicenseEntry, State};
use crate::open_api::ops::Reply;
use crate::protocol::UnixMillis;
use crate::protocol::open_api::license::{
    ActivateV1, ActivateV2, HeartbeatV1, HeartbeatV2, LicenseCode, LicenseInfo, SoftwareUsage,
};

/// The most codes a batch may hold.
const MAX_BATCH: usize = 100;

fn refused(code: LicenseCode, check: CheckId, message: String) -> Reply {
    Reply::envelope(code.answer()).finding(check, message)
}

/// Why a code cannot be activated, if it cannot.
fn activation_refusal(state: &State, code: &str) -> Option<(LicenseCode, CheckId, String)> {
    let Some(entry) = state.licenses.get(code) else {
        return Some((
            LicenseCode::NotExist,
            CheckId::OpenApiLicenseCode,
            format!("`{code}` is not a License code the marketplace issued"),
        ));
    };
    if !entry.delivered {
        return Some((
            LicenseCode::NotReceived,
            CheckId::OpenApiLicenseCode,
            format!("`{code}` was activated before the buyer received it"),
        ));
    }
    entry.activated.is_some().then(|| {
        (
            LicenseCode::IllegalState,
            CheckId::OpenApiLicenseActivateOnce,
            format!("`{code}` is already activated; activate a code once, then use heartbeat"),
        )
    })
}

fn code_info(code: &str, entry: &LicenseEntry) -> Value {
    json!({
        "status": entry.status,
        "expire_time": entry.expire_time,
        "product_id": "kgsim-license-product",
        "order_id": entry.order_id,
        "amount": 1,
        "license": code,
    })
}

/// A License API body: not JSON is 95000004, JSON without the documented fields 95000001
/// (spec V2 §4.3 "Error codes").
fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Reply>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let why = format!("the body is not readable JSON ({e})");
        Box::new(refused(
            LicenseCode::NotReadable,
            CheckId::OpenApiRequest,
            why,
        ))
    })?;
    serde_json::from_value(value).map_err(|e| {
        let why = format!("the body does not have the documented fields ({e})");
        Box::new(refused(
            LicenseCode::ParamInvalid,
            CheckId::OpenApiRequest,
            why,
        ))
    })
}

/// `POST …/v1/license/activate`.
pub(crate) fn activate_v1(state: &mut State, body: &[u8], now: UnixMillis) -> Reply {
    let request: ActivateV1 = match read(body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let code = request.license.clone();
    if let Some(problem) = field_problem(&request.license, request.real_effect_time.as_deref()) {
        return refused(LicenseCode::ParamInvalid, CheckId::OpenApiRequest, problem).about([code]);
    }
    if let Some((answer, check, message)) = activation_refusal(state, &code) {
        return refused(answer, check, message).about([code]);
    }
    let Some(entry) = state.licenses.get_mut(&code) else {
        return Reply::envelope(LicenseCode::Internal.answer());
    };
    entry.activated = Some(now);
    let info = code_info(&code, entry).to_string();
    let mut outcome = Reply::envelope(LicenseCode::Success.answer()).about([code]);
    outcome.body["data"] = json!({ "license_code_info": info });
    outcome
}

/// `POST …/v2/license/activate`: every code of the batch, or none.
pub(crate) fn activate_v2(state: &mut State, body: &[u8], now: UnixMillis) -> Reply {
    let request: ActivateV2 = match read(body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let codes = request.license_list;
    if codes.is_empty() || codes.len() > MAX_BATCH {
        return refused(
            LicenseCode::ParamInvalid,
            CheckId::OpenApiRequest,
            format!("license_list holds {} codes; 1 to {MAX_BATCH}", codes.len()),
        )
        .about(codes);
    }
    let mut outcome = Reply::envelope(LicenseCode::Success.answer()).about(codes.clone());
    for code in &codes {
        if let Some((_, check, message)) = activation_refusal(state, code) {
            outcome = outcome.finding(check, message);
        }
    }
    if !outcome.findings.is_empty() {
        let mut refused = Reply::envelope(LicenseCode::InvalidInBatch.answer()).about(codes);
        refused.findings = outcome.findings;
        return refused;
    }
    for code in &codes {
        if let Some(entry) = state.licenses.get_mut(code) {
            entry.activated = Some(now);
        }
    }
    outcome
}

fn field_problem(license: &str, effect: Option<&str>) -> Option<String> {
    if license.is_empty() || license.chars().count() > 64 {
        return Some("`license` is mandatory, at most 64 characters".into());
    }
    effect
        .filter(|t| UnixMillis::parse_compact(t).is_err() || t.len() != 14)
        .map(|t| format!("`real_effect_time` `{t}` is not yyyyMMddHHmmss"))
}

fn info(code: &str, entry: &LicenseEntry) -> LicenseInfo {
    LicenseInfo {
        license_code: code.to_owned(),
        status: entry.status,
        activate_time: entry
            .activated
            .map(UnixMillis::to_compact_seconds)
            .unwrap_or_default(),
        expire_time: entry.expire_time.clone(),
    }
}

/// Why a code cannot be checked, if it cannot.
fn heartbeat_refusal(state: &State, code: &str) -> Option<(LicenseCode, String)> {
    match state.licenses.get(code) {
        None => Some((
            LicenseCode::NotExist,
            format!("heartbeat for `{code}`, which the marketplace never issued"),
        )),
        Some(entry) if entry.activated.is_none() => Some((
            LicenseCode::NotActivated,
            format!("heartbeat for `{code}` before it was activated"),
        )),
        Some(_) => None,
    }
}

/// `POST …/v1/license/heartbeat`.
pub(crate) fn heartbeat_v1(state: &State, body: &[u8]) -> Reply {
    let request: HeartbeatV1 = match read(body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let code = request.license;
    if let Some((answer, message)) = heartbeat_refusal(state, &code) {
        return refused(answer, CheckId::OpenApiLicenseCode, message).about([code]);
    }
    let Some(entry) = state.licenses.get(&code) else {
        return Reply::envelope(LicenseCode::Internal.answer());
    };
    let mut outcome = Reply::envelope(LicenseCode::Success.answer()).about([code.clone()]);
    outcome.body["data"] = serde_json::to_value(info(&code, entry)).unwrap_or_default();
    outcome
}

/// `POST …/v2/license/heartbeat`.
pub(crate) fn heartbeat_v2(state: &State, body: &[u8]) -> Reply {
    let request: HeartbeatV2 = match read(body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let codes = request.license_list;
    let mut outcome = Reply::envelope(LicenseCode::Success.answer()).about(codes.clone());
    let mut infos = Vec::new();
    for code in &codes {
        match (heartbeat_refusal(state, code), state.licenses.get(code)) {
            (Some((_, message)), _) => {
                outcome = outcome.finding(CheckId::OpenApiLicenseCode, message);
            }
            (None, Some(entry)) => infos.push(info(code, entry)),
            (None, None) => {}
        }
    }
    if !outcome.findings.is_empty() {
        let findings = std::mem::take(&mut outcome.findings);
        outcome = Reply::envelope(LicenseCode::InvalidInBatch.answer()).about(codes);
        outcome.findings = findings;
        return outcome;
    }
    outcome.body["data"] = serde_json::to_value(infos).unwrap_or_default();
    outcome
}

/// `POST …/v2/license/software-usage-info`.
pub(crate) fn software_usage(state: &State, body: &[u8]) -> Reply {
    let request: SoftwareUsage = match read(body) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let codes: Vec<String> = request
        .usage_info
        .iter()
        .map(|u| u.license.clone())
        .collect();
    let mut failures = Vec::new();
    if request.usage_info.is_empty() || request.usage_info.len() > MAX_BATCH {
        failures.push(format!(
            "usage_info holds {} entries; 1 to {MAX_BATCH}",
            request.usage_info.len()
        ));
    }
    for entry in &request.usage_info {
        if let Some((_, message)) = heartbeat_refusal(state, &entry.license) {
            failures.push(message);
        }
        let data = &entry.software_usage_info;
        if data.is_empty() || data.len() > MAX_BATCH {
            failures.push(format!(
                "`{}`: software_usage_Info holds {} entries; 1 to {MAX_BATCH}",
                entry.license,
                data.len()
            ));
        }
        if data
            .iter()
            .any(|d| d.id.is_some() == d.active_num.is_some())
        {
            failures.push(format!(
                "`{}`: each software_usage_Info entry holds exactly one of id or active_num",
                entry.license
            ));
        }
    }
    if failures.is_empty() {
        return Reply::envelope(LicenseCode::Success.answer()).about(codes);
    }
    let mut outcome = Reply::envelope(LicenseCode::InvalidParameter.answer()).about(codes);
    outcome.body["data"] = json!({ "check_fail_list": failures });
    for message in failures {
        outcome = outcome.finding(CheckId::OpenApiRequest, message);
    }
    outcome
}
