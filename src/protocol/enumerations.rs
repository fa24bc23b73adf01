//! The values the spec's request tables enumerate: what the debug page's form offers for a
//! field and checks an edited value against. Fields not listed here take any text within
//! their table's length.

use crate::protocol::{Activity, Protocol};

/// The documented values of a request field, when its table enumerates them.
pub(crate) fn documented_values(
    protocol: Protocol,
    activity: Activity,
    field: &str,
) -> Option<&'static [&'static str]> {
    Some(match (protocol, activity, field) {
        // trialFlag: `1` trial, `0` not (V1 §4.1; V2 §2.1).
        (_, Activity::NewInstance, "trialFlag") => &["0", "1"],
        // testFlag: `1` debug, `0` or absent real (V1 §4.1–4.7; V2 §2).
        (_, _, "testFlag") => &["0", "1"],
        // chargingMode: `0` 按需, `1` 包周期, `3` 按次, `5` 按需套餐包 (V1 §4.1).
        (Protocol::V1, Activity::NewInstance, "chargingMode") => &["0", "1", "3", "5"],
        // periodType: `year` / `month` (V1 §4.2).
        (Protocol::V1, _, "periodType") => &["year", "month"],
        // trialToFormal: absent, or `1` for a trial's conversion (V1 §4.2).
        (Protocol::V1, Activity::RefreshInstance, "trialToFormal") => &["1"],
        // instanceStatus: `FREEZE` / `NORMAL` (V1 §4.6).
        (Protocol::V1, Activity::InstanceStatus, "instanceStatus") => &["FREEZE", "NORMAL"],
        // scene (V2 §2.3).
        (Protocol::V2, Activity::RefreshInstance, "scene") => &[
            "TRIAL_TO_FORMAL",
            "RENEWAL",
            "UNSUBSCRIBE_RENEWAL_PERIOD",
            "RENEWAL_CHANGE",
        ],
        // scene of a License code (V2 §4.2).
        (Protocol::V2, Activity::RefreshLicenseCode, "scene") => {
            &["RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD"]
        }
        // status: `FREEZE` / `UNFREEZE` (V2 §2.4, §4.2).
        (Protocol::V2, Activity::InstanceStatus | Activity::UpdateLicenseCodeStatus, "status") => {
            &["FREEZE", "UNFREEZE"]
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enumerated_fields_are_the_tables() {
        assert_eq!(
            documented_values(Protocol::V1, Activity::InstanceStatus, "instanceStatus"),
            Some(&["FREEZE", "NORMAL"][..])
        );
        assert_eq!(
            documented_values(Protocol::V2, Activity::RefreshInstance, "scene").map(<[_]>::len),
            Some(4)
        );
        assert!(documented_values(Protocol::V2, Activity::NewInstance, "orderId").is_none());
        // Only the table that names a field enumerates it.
        assert!(documented_values(Protocol::V2, Activity::NewInstance, "scene").is_none());
    }
}
