//! 按需使用量推送 — the on-demand usage push, new and old (spec:
//! koogallery-v2-kit-license.md §7.2–7.5): the records, the MKT.* answers, the record-level
//! codes and the record rules.
//!
//! The order of the checks is the gateway's: signature and size before anything about the
//! records' instances, then each record on its own. The exact structure that carries the
//! record-level codes was not retrieved; kgsim answers them in `data.records` as
//! `{index, metering_sn, code, message}` [I:usage-record-errors].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::UnixMillis;

/// At most this many records per push (§7.2; one page says 100).
pub(crate) const MAX_RECORDS: usize = 1000;
/// `begin_time` must be within this many days of the report (§7.5, MKT.9004).
pub(crate) const MAX_AGE_DAYS: i64 = 21;
/// How far the merchant's clock may be from the marketplace's when a record's range is
/// judged against the resource's start and end: the spec gives no tolerance; two clocks
/// always differ a little, and a reference merchant reporting the second its resource stops
/// must not be refused for it [I:usage-clock-tolerance].
pub(crate) const CLOCK_SKEW_MS: i64 = 60_000;

/// The usage push's answers (§7.4), the whole published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    dead_code,
    reason = "the published table is kept whole; kgsim never answers 0999, 0100 or 0150"
)]
pub(crate) enum MktCode {
    /// 200 MKT.0000.
    Success,
    /// 500 MKT.0999.
    Internal,
    /// 500 MKT.0100 a parameter out of range or in the wrong format.
    InputFailure,
    /// 400 MKT.0101 undefined or missing parameters (e.g. no instance id).
    InvalidParameter,
    /// 400 MKT.0102 the body signature does not match.
    InvalidSign,
    /// 401 MKT.0150 an instance not published by this ISV.
    IllegalOperation,
    /// 500 MKT.9001 instance not found.
    InstanceNotFound,
    /// 500 MKT.9002 invalid usage entries.
    InvalidEntries,
    /// 500 MKT.9003 more than 1000 records.
    TooManyRecords,
    /// 500 MKT.9004 a begin_time older than 21 days.
    BeginTooOld,
}

impl MktCode {
    /// HTTP status, `error_code`, `error_msg` (as published, typos included).
    pub(crate) fn answer(self) -> (u16, &'static str, &'static str) {
        match self {
            Self::Success => (200, "MKT.0000", "Success."),
            Self::Internal => (500, "MKT.0999", "System internal error."),
            Self::InputFailure => (500, "MKT.0100", "Failure of input parameter."),
            Self::InvalidParameter => (400, "MKT.0101", "Invalid parameter."),
            Self::InvalidSign => (400, "MKT.0102", "Invalid body sign."),
            Self::IllegalOperation => (401, "MKT.0150", "Illegal operation."),
            Self::InstanceNotFound => (500, "MKT.9001", "Instance ID not found."),
            Self::InvalidEntries => (500, "MKT.9002", "Invalid usage enties."),
            Self::TooManyRecords => (500, "MKT.9003", "Usage records extends size limit."),
            Self::BeginTooOld => (500, "MKT.9004", "Record beginTime extends Limit."),
        }
    }
}

/// Record-level codes (话单级错误码, §7.2; 006–009 are platform-side and not produced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordCode {
    /// 001 the instance does not exist.
    InstanceUnknown,
    /// 002 a time is not `yyyyMMdd'T'HHmmss'Z'`.
    BadTimeFormat,
    /// 003 the usage value is not > 0 with at most 4 decimals (or a package link is missing).
    AbnormalUsage,
    /// 004 `metering_sn` is missing.
    MissingSn,
    /// 005 the `metering_sn` was used before.
    DuplicateSn,
    /// 010 the same begin and end were reported before: ignored.
    DuplicateRecord,
    /// 011 the time range is impossible.
    InvalidRange,
    /// 012 the instance is not an on-demand resource (a package id, say).
    NotOnDemand,
    /// 013 the instance's status does not allow usage.
    InstanceState,
}

impl RecordCode {
    /// The code and its meaning.
    pub(crate) fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::InstanceUnknown => ("001", "instance does not exist"),
            Self::BadTimeFormat => ("002", "bad time format"),
            Self::AbnormalUsage => ("003", "abnormal usage"),
            Self::MissingSn => ("004", "missing record unique id (metering_sn)"),
            Self::DuplicateSn => ("005", "duplicated record id"),
            Self::DuplicateRecord => ("010", "duplicate record"),
            Self::InvalidRange => ("011", "invalid time range"),
            Self::NotOnDemand => ("012", "instance is not an on-demand resource"),
            Self::InstanceState => ("013", "instance resource status abnormal"),
        }
    }
}

/// One usage record as sent (every field optional here, so that a missing one is a code,
/// not a parse failure).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct UsageRecord {
    /// The on-demand instance (M 64).
    #[serde(default)]
    pub(crate) instance_id: Option<String>,
    /// Old push only: the product (§7.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) product_id: Option<String>,
    /// When the record was made (M 17).
    #[serde(default)]
    pub(crate) record_time: Option<String>,
    /// Metering start (M 17).
    #[serde(default)]
    pub(crate) begin_time: Option<String>,
    /// Metering end (M 17).
    #[serde(default)]
    pub(crate) end_time: Option<String>,
    /// > 0, at most 4 decimals: a string (new) or a number (international pages).
    #[serde(default)]
    pub(crate) usage_value: Option<Value>,
    /// The merchant's unique record id (mandatory, 64; new push only) [I:metering-sn-required].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) metering_sn: Option<String>,
    /// For stop-when-used-up packages: the package being deducted (§7.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) relate_pkg_instance: Option<String>,
}

/// A push body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct UsagePush {
    /// The records.
    #[serde(default)]
    pub(crate) usage_records: Vec<UsageRecord>,
}

/// What the marketplace knows of an instance a record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstanceView {
    /// Billed on demand (not a package, not a period product).
    pub(crate) on_demand: bool,
    /// When the resource was opened.
    pub(crate) started: UnixMillis,
    /// When it stopped (frozen or released), if it has.
    pub(crate) closed: Option<UnixMillis>,
    /// Whether it was ever opened (usage before is impossible).
    pub(crate) usable: bool,
    /// The stop-when-used-up package paying for it since a time: records of usage from then
    /// on must name it.
    pub(crate) stop_package: Option<(String, UnixMillis)>,
}

/// A record that was accepted: where it goes and how much.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Accepted {
    /// The on-demand instance.
    pub(crate) instance_id: String,
    /// Metering start and end.
    pub(crate) begin: UnixMillis,
    /// Metering end.
    pub(crate) end: UnixMillis,
    /// The amount.
    pub(crate) value: f64,
    /// The package deducted, for stop-when-used-up packages.
    pub(crate) package: Option<String>,
}

/// The value of `usage_value` if it is > 0 with at most 4 decimals.
pub(crate) fn usage_amount(value: &Value) -> Option<f64> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    let amount: f64 = text.parse().ok()?;
    (amount > 0.0 && amount.is_finite() && decimals <= 4 && !text.contains(['e', 'E']))
        .then_some(amount)
}

/// What the ledger remembers between records and pushes.
pub(crate) trait Ledger {
    /// The instance a record names.
    fn instance(&self, id: &str) -> Option<InstanceView>;
    /// Whether this `metering_sn` was accepted before.
    fn seen_sn(&self, sn: &str) -> bool;
    /// Whether this instance already has a record with this begin and end.
    fn seen_range(&self, instance: &str, begin: UnixMillis, end: UnixMillis) -> bool;
}

/// The request-level verdict before any record is looked at: size, then the 21-day rule,
/// then presence of the instance ids (§7.4 MKT.9003, MKT.9004; MKT.9002 for no records,
/// MKT.9001 for a record without an instance).
pub(crate) fn check_push(push: &UsagePush, report_time: UnixMillis) -> Option<MktCode> {
    if push.usage_records.len() > MAX_RECORDS {
        return Some(MktCode::TooManyRecords);
    }
    if push.usage_records.is_empty() {
        return Some(MktCode::InvalidEntries);
    }
    let oldest = report_time.plus_ms(-MAX_AGE_DAYS * 86_400_000);
    let too_old = push.usage_records.iter().any(|r| {
        r.begin_time
            .as_deref()
            .and_then(|t| UnixMillis::parse_basic_iso(t).ok())
            .is_some_and(|begin| begin < oldest)
    });
    if too_old {
        return Some(MktCode::BeginTooOld);
    }
    let no_instance = push
        .usage_records
        .iter()
        .any(|r| r.instance_id.as_deref().is_none_or(str::is_empty));
    no_instance.then_some(MktCode::InstanceNotFound)
}

/// One record against the rules (§7.5); `new_push` requires `metering_sn`; `batch_sns` are
/// the serial numbers earlier in the same push.
pub(crate) fn check_record(
    record: &UsageRecord,
    ledger: &dyn Ledger,
    report_time: UnixMillis,
    new_push: bool,
    batch_sns: &BTreeSet<String>,
) -> Result<Accepted, RecordCode> {
    let id = record.instance_id.clone().unwrap_or_default();
    let view = ledger.instance(&id).ok_or(RecordCode::InstanceUnknown)?;
    if !view.on_demand {
        return Err(RecordCode::NotOnDemand);
    }
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| UnixMillis::parse_basic_iso(t).ok())
            .ok_or(RecordCode::BadTimeFormat)
    };
    let (begin, end) = (time(&record.begin_time)?, time(&record.end_time)?);
    time(&record.record_time)?;
    let value = record
        .usage_value
        .as_ref()
        .and_then(usage_amount)
        .ok_or(RecordCode::AbnormalUsage)?;
    if new_push {
        let sn = record
            .metering_sn
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(RecordCode::MissingSn)?;
        if ledger.seen_sn(sn) || batch_sns.contains(sn) {
            return Err(RecordCode::DuplicateSn);
        }
    }
    let skew = CLOCK_SKEW_MS;
    let after_close = view.closed.is_some_and(|closed| end.0 > closed.0 + skew);
    let early = begin.0 < view.started.0 - skew;
    if early || end < begin || end.0 > report_time.0 + skew || after_close {
        return Err(RecordCode::InvalidRange);
    }
    if !view.usable {
        return Err(RecordCode::InstanceState);
    }
    // Usage that began while the package paid for the instance is deducted from it, so the
    // record names it — for a record that began before the package,
    // nothing is required [I:usage-package-relation].
    if let Some((package, since)) = &view.stop_package {
        if begin >= *since && record.relate_pkg_instance.as_deref() != Some(package.as_str()) {
            return Err(RecordCode::AbnormalUsage);
        }
    }
    if ledger.seen_range(&id, begin, end) {
        return Err(RecordCode::DuplicateRecord);
    }
    Ok(Accepted {
        instance_id: id,
        begin,
        end,
        value,
        package: record.relate_pkg_instance.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Book;
    const START: UnixMillis = UnixMillis(1_767_225_600_000); // 2026-01-01T00:00:00Z

    impl Ledger for Book {
        fn instance(&self, id: &str) -> Option<InstanceView> {
            let view = InstanceView {
                on_demand: true,
                started: START,
                closed: None,
                usable: true,
                stop_package: None,
            };
            match id {
                "od" => Some(view),
                "pkg" => Some(InstanceView {
                    on_demand: false,
                    ..view
                }),
                "stopped-by" => Some(InstanceView {
                    stop_package: Some(("pkg".into(), START)),
                    ..view
                }),
                _ => None,
            }
        }
        fn seen_sn(&self, sn: &str) -> bool {
            sn == "old-sn"
        }
        fn seen_range(&self, _: &str, begin: UnixMillis, _: UnixMillis) -> bool {
            begin == START.plus_ms(7_200_000)
        }
    }

    fn record(instance: &str, begin_h: i64, end_h: i64, value: &str, sn: &str) -> UsageRecord {
        let at = |h: i64| START.plus_ms(h * 3_600_000).to_basic_iso();
        UsageRecord {
            instance_id: Some(instance.into()),
            record_time: Some(at(end_h)),
            begin_time: Some(at(begin_h)),
            end_time: Some(at(end_h)),
            usage_value: Some(Value::String(value.into())),
            metering_sn: Some(sn.into()),
            ..UsageRecord::default()
        }
    }

    fn code(r: &UsageRecord) -> Result<f64, &'static str> {
        let now = START.plus_ms(5 * 3_600_000);
        check_record(r, &Book, now, true, &BTreeSet::new())
            .map(|a| a.value)
            .map_err(|c| c.describe().0)
    }

    #[test]
    fn each_rule_has_its_code() {
        assert_eq!(code(&record("od", 0, 1, "1.5", "a")), Ok(1.5));
        assert_eq!(code(&record("nope", 0, 1, "1", "a")), Err("001"));
        assert_eq!(code(&record("pkg", 0, 1, "1", "a")), Err("012"));
        let mut bad_time = record("od", 0, 1, "1", "a");
        bad_time.end_time = Some("2026-01-01 01:00".into());
        assert_eq!(code(&bad_time), Err("002"));
        assert_eq!(code(&record("od", 0, 1, "0", "a")), Err("003"));
        assert_eq!(code(&record("od", 0, 1, "1.23456", "a")), Err("003"));
        assert_eq!(code(&record("od", 0, 1, "-1", "a")), Err("003"));
        assert_eq!(code(&record("od", 0, 1, "1", "")), Err("004"));
        assert_eq!(code(&record("od", 0, 1, "1", "old-sn")), Err("005"));
        assert_eq!(
            code(&record("od", -1, 1, "1", "a")),
            Err("011"),
            "before the start"
        );
        assert_eq!(
            code(&record("od", 2, 1, "1", "a")),
            Err("011"),
            "end before begin"
        );
        assert_eq!(
            code(&record("od", 0, 9, "1", "a")),
            Err("011"),
            "after the report"
        );
        assert_eq!(code(&record("od", 2, 3, "1", "a")), Err("010"));
        assert_eq!(code(&record("stopped-by", 0, 1, "1", "a")), Err("003"));
        let mut linked = record("stopped-by", 0, 1, "1", "a");
        linked.relate_pkg_instance = Some("pkg".into());
        assert_eq!(code(&linked), Ok(1.0));
    }

    #[test]
    fn size_and_age_are_judged_before_the_records() {
        let now = START.plus_ms(5 * 3_600_000);
        let many = UsagePush {
            usage_records: vec![record("nope", 0, 1, "1", "a"); 1001],
        };
        assert_eq!(check_push(&many, now), Some(MktCode::TooManyRecords));
        let old = UsagePush {
            usage_records: vec![record("od", -24 * 22, 1, "1", "a")],
        };
        assert_eq!(check_push(&old, now), Some(MktCode::BeginTooOld));
        let fine = UsagePush {
            usage_records: vec![record("nope", 0, 1, "1", "a")],
        };
        assert_eq!(check_push(&fine, now), None);
        assert_eq!(
            check_push(&UsagePush::default(), now),
            Some(MktCode::InvalidEntries)
        );
        let anonymous = UsagePush {
            usage_records: vec![UsageRecord::default()],
        };
        assert_eq!(check_push(&anonymous, now), Some(MktCode::InstanceNotFound));
    }

    #[test]
    fn amounts_accept_strings_and_numbers_with_four_decimals() {
        assert_eq!(usage_amount(&Value::String("99".into())), Some(99.0));
        assert_eq!(usage_amount(&serde_json::json!(0.1234)), Some(0.1234));
        assert_eq!(usage_amount(&Value::String("1e3".into())), None);
        assert_eq!(usage_amount(&Value::Bool(true)), None);
    }
}
