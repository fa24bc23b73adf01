//! 按需使用量推送 (spec: koogallery-v2-kit-license.md §7.2–7.5): size and age before the
//! records' instances, then each record against the rules; accepted usage accumulates on the
//! on-demand instance.

use std::collections::BTreeSet;

use crate::checks::CheckId;
use crate::open_api::book::{State, UsageRecordEntry};
use crate::open_api::ops::{Reply, parse_json};
use crate::protocol::UnixMillis;
use crate::protocol::open_api::usage::{
    Accepted, MktCode, RecordCode, UsagePush, UsageRecord, check_push, check_record,
};

/// Hourly usage reported later than this after its end is late (§7.5: "if not real-time,
/// within 2 hours").
pub(crate) const LATE_AFTER_MS: i64 = 2 * 3_600_000;

/// Which check a refused record breaks.
fn check_of(code: RecordCode, stop_package: bool) -> CheckId {
    match code {
        RecordCode::NotOnDemand => CheckId::OpenApiPackageInstanceId,
        RecordCode::AbnormalUsage if stop_package => CheckId::OpenApiPackageInstanceId,
        _ => CheckId::OpenApiUsageRecord,
    }
}

/// Answers a push; `new_push` for `…/v1/isv/usage-data`, false for the old path.
///
/// As the page says, record anomalies "不会在接口层进行报错": a push whose envelope holds
/// is answered MKT.0000 whatever its records; each is checked, the abnormal ones are listed
/// with their record code (话单管理) and reported as findings, and a repeated record ("只会处理
/// 第一条") is not counted twice [I:usage-record-errors]. Only the errors the page lists as the
/// API's refuse the push: a malformed envelope (MKT.9002, a record without an instance
/// MKT.9001), more than 1000 records (MKT.9003), a begin older than 21 days (MKT.9004); the
/// signature (MKT.0102) is checked before.
pub(crate) fn answer(state: &mut State, body: &[u8], now: UnixMillis, new_push: bool) -> Reply {
    let push: UsagePush = match parse_json(body) {
        Ok(push) => push,
        Err(why) => {
            return Reply::envelope(MktCode::InvalidEntries.answer())
                .finding(CheckId::OpenApiRequest, why);
        }
    };
    let subjects: BTreeSet<String> = push
        .usage_records
        .iter()
        .flat_map(|r| [r.instance_id.clone(), r.relate_pkg_instance.clone()])
        .flatten()
        .collect();
    if let Some(code) = check_push(&push, now) {
        let check = match code {
            MktCode::InvalidEntries | MktCode::InstanceNotFound => CheckId::OpenApiRequest,
            _ => CheckId::OpenApiUsageRecord,
        };
        let (_, id, message) = code.answer();
        return Reply::envelope(code.answer())
            .finding(
                check,
                format!("{id} {message} ({} records)", push.usage_records.len()),
            )
            .about(subjects);
    }
    let mut outcome = Reply::envelope(MktCode::Success.answer()).about(subjects);
    let mut batch_sns = BTreeSet::new();
    for (index, record) in push.usage_records.iter().enumerate() {
        let verdict = check_record(record, state, now, new_push, &batch_sns);
        let (code, message) = match verdict {
            Ok(accepted) => {
                if let Some(sn) = &record.metering_sn {
                    batch_sns.insert(sn.clone());
                }
                if now.0 - accepted.end.0 > LATE_AFTER_MS {
                    outcome = outcome.finding(
                        CheckId::OpenApiUsageTimeliness,
                        format!(
                            "record {index} ends {} min before it was reported; hourly usage is due within 2 h",
                            (now.0 - accepted.end.0) / 60_000
                        ),
                    );
                }
                keep(state, &accepted, record.metering_sn.as_deref());
                (None, "accepted".to_owned())
            }
            Err(code) => {
                let (id, message, check) = abnormal(state, record, code);
                outcome = outcome.finding(
                    check,
                    format!("record {index}: {id} {message} (answered MKT.0000 all the same, as production does; the record is listed as abnormal in 话单管理)"),
                );
                (Some(id.to_owned()), message)
            }
        };
        outcome.records.push(entry(index, record, code, message));
    }
    outcome
}

/// An abnormal record's code, what it means for this record, and the check it breaks.
fn abnormal(
    state: &State,
    record: &UsageRecord,
    code: RecordCode,
) -> (&'static str, String, CheckId) {
    let (id, meaning) = code.describe();
    let stop_package = record
        .instance_id
        .as_deref()
        .and_then(|i| state.instances.get(i))
        .is_some_and(|i| i.view.stop_package.is_some());
    let message = match (code, stop_package) {
        (RecordCode::AbnormalUsage, true) => {
            "relate_pkg_instance must name the stop-when-used-up package that pays for this instance".to_owned()
        }
        (RecordCode::NotOnDemand, _) => format!(
            "`{}` is not an on-demand instance: usage names the on-demand instance, the package goes in relate_pkg_instance",
            record.instance_id.as_deref().unwrap_or_default()
        ),
        _ => meaning.to_owned(),
    };
    (id, message, check_of(code, stop_package))
}

/// A record as 话单管理 lists it.
fn entry(
    index: usize,
    record: &UsageRecord,
    code: Option<String>,
    message: String,
) -> UsageRecordEntry {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    UsageRecordEntry {
        index,
        instance_id: text(&record.instance_id),
        metering_sn: text(&record.metering_sn),
        begin_time: text(&record.begin_time),
        end_time: text(&record.end_time),
        usage_value: match &record.usage_value {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        code,
        message,
    }
}

/// Books an accepted record: its serial number, its range, the amount on its instance.
fn keep(state: &mut State, accepted: &Accepted, sn: Option<&str>) {
    if let Some(sn) = sn {
        state.sns.insert(sn.to_owned());
    }
    state.ranges.insert((
        accepted.instance_id.clone(),
        accepted.begin.0,
        accepted.end.0,
    ));
    if let Some(instance) = state.instances.get_mut(&accepted.instance_id) {
        instance.usage += accepted.value;
    }
    let Some(id) = accepted.package.as_ref() else {
        return;
    };
    if let Some(package) = state.instances.get_mut(id) {
        let before = package.usage;
        package.usage += accepted.value;
        // 用完即停: the package's quota is used up; its marketplace stops the instance.
        if package
            .quota
            .is_some_and(|q| before < q && package.usage >= q)
        {
            state.exhausted.insert(id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::open_api::book::InstanceEntry;
    use crate::protocol::open_api::usage::InstanceView;

    const START: UnixMillis = UnixMillis(1_767_225_600_000);

    fn state() -> State {
        let mut state = State::default();
        let view = InstanceView {
            on_demand: true,
            started: START,
            closed: None,
            usable: true,
            stop_package: Some(("pkg".into(), START)),
        };
        state.instances.insert(
            "od".into(),
            InstanceEntry {
                scope: 1,
                view: view.clone(),
                usage: 0.0,
                quota: None,
            },
        );
        state.instances.insert(
            "pkg".into(),
            InstanceEntry {
                scope: 1,
                view: InstanceView {
                    on_demand: false,
                    stop_package: None,
                    ..view
                },
                usage: 0.0,
                quota: Some(3.0),
            },
        );
        state
    }

    fn push(hour: i64, value: &str, package: Option<&str>) -> Vec<u8> {
        let at = |h: i64| START.plus_ms(h * 3_600_000).to_basic_iso();
        json!({"usage_records": [{
            "instance_id": "od",
            "record_time": at(hour + 1),
            "begin_time": at(hour),
            "end_time": at(hour + 1),
            "usage_value": value,
            "metering_sn": format!("sn-{hour}"),
            "relate_pkg_instance": package,
        }]})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn usage_against_a_stop_when_used_up_package_uses_its_quota_up() {
        let mut state = state();
        let now = START.plus_ms(10 * 3_600_000);
        let first = answer(&mut state, &push(0, "2", Some("pkg")), now, true);
        assert_eq!(first.body["error_code"], "MKT.0000", "{}", first.body);
        assert!(state.exhausted.is_empty());
        answer(&mut state, &push(1, "1.5", Some("pkg")), now, true);
        assert!(state.exhausted.contains("pkg"), "3.5 of a quota of 3");
        let unlinked = answer(&mut state, &push(2, "1", None), now, true);
        assert_eq!(
            unlinked.findings[0].check,
            CheckId::OpenApiPackageInstanceId
        );
    }

    #[test]
    fn late_usage_is_reported_and_still_accepted() {
        let mut state = state();
        state.instances.get_mut("od").unwrap().view.stop_package = None;
        let now = START.plus_ms(6 * 3_600_000);
        let late = answer(&mut state, &push(0, "1", None), now, true);
        assert_eq!(late.records.iter().filter(|r| r.accepted()).count(), 1);
        assert_eq!(late.findings[0].check, CheckId::OpenApiUsageTimeliness);
    }
}
