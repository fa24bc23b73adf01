//! The check registry: every check kgsim can report, with a stable id, a one-line rationale
//! and the spec section it enforces, so a report line can be traced to the KooGallery rule.

/// A family of checks (product.md "Checks").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Exactly what the console debug page rejects.
    Console,
    /// Resends, concurrency, repeats.
    Idempotency,
    /// Rejecting what the marketplace did not sign.
    Security,
    /// Each business event accepted in its place.
    Lifecycle,
    /// The retry schedule and its outcome.
    Retry,
    /// Recorded exchanges against accepted transcripts.
    Snapshot,
    /// The scenario itself.
    Scenario,
}

impl Family {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Console => "console parity",
            Self::Idempotency => "idempotency",
            Self::Security => "security",
            Self::Lifecycle => "lifecycle",
            Self::Retry => "retry",
            Self::Snapshot => "snapshot",
            Self::Scenario => "scenario",
        }
    }
}

/// One check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Stable id, e.g. `console.body-sign`.
    pub id: &'static str,
    /// Its family.
    pub family: Family,
    /// Why KooGallery requires it, in one line.
    pub rationale: &'static str,
    /// Where the spec says so.
    pub spec: &'static str,
}

const fn check(
    id: &'static str,
    family: Family,
    rationale: &'static str,
    spec: &'static str,
) -> Check {
    Check {
        id,
        family,
        rationale,
        spec,
    }
}

use Family::*;

/// Every check, by family.
pub const CHECKS: &[Check] = &[
    check(
        "console.reachable",
        Console,
        "the production address must be reachable",
        "V1 §1 FAQ; V2 §8.3",
    ),
    check(
        "console.timeout",
        Console,
        "the answer must arrive within the timeout (20 s on the debug page)",
        "V1 §1 FAQ, §6; V2 §8.3",
    ),
    check(
        "console.transport",
        Console,
        "the answer must be complete HTTP: no reset, redirect or oversized body",
        "V1 §1; V2 §1.1",
    ),
    check(
        "console.http-status",
        Console,
        "the HTTP status must be 200",
        "V1 §1 FAQ; V2 §8.3",
    ),
    check(
        "console.content-type",
        Console,
        "the Content-Type must be application/json",
        "V1 §1 FAQ; V2 §8.3",
    ),
    check(
        "console.json-body",
        Console,
        "the body must be a JSON object with resultCode and resultMsg",
        "V1 §1 FAQ; V2 §8.3",
    ),
    check(
        "console.body-sign",
        Console,
        "every V1 answer carries Body-Sign, HMAC-SHA256 over its exact bytes",
        "V1 §2.3",
    ),
    check(
        "console.result-code",
        Console,
        "resultCode must be 000000 where the call must succeed",
        "V1 §5; V2 §2.8, §8.3",
    ),
    check(
        "console.mandatory-fields",
        Console,
        "mandatory answer fields must be present (instanceId, frontEndUrl, usage fields)",
        "V1 §1 FAQ, §4; V2 §2, §8.3",
    ),
    check(
        "console.field-length",
        Console,
        "no answer field may exceed its maximum length (frontEndUrl ≤ 512, …)",
        "V1 §1 FAQ, §4.1",
    ),
    check(
        "console.app-info-decrypt",
        Console,
        "encrypted appInfo credentials must decrypt with the declared encryptType",
        "V1 §3",
    ),
    check(
        "idempotency.same-instance",
        Idempotency,
        "a resend of the same order returns the same instanceId",
        "V1 §4.1, §7; V2 §2.1",
    ),
    check(
        "idempotency.same-app-info",
        Idempotency,
        "a resend of the same order returns the same appInfo",
        "V1 §4.1, §7",
    ),
    check(
        "idempotency.distinct-orders",
        Idempotency,
        "different orders (or on-demand billing items) never share an instanceId",
        "V1 §4.1, §7; V2 §2.1",
    ),
    check(
        "idempotency.concurrent",
        Idempotency,
        "concurrent identical purchases yield one instance",
        "V1 §7",
    ),
    check(
        "idempotency.repeat",
        Idempotency,
        "repeated renew, expire, freeze, unfreeze, upgrade and release keep succeeding",
        "V1 §7",
    ),
    check(
        "idempotency.debug-any-order",
        Idempotency,
        "console debug cases succeed repeatedly and in any order, unknown instances included",
        "V1 §7, §8; V2 §8.1",
    ),
    check(
        "security.forged-signature",
        Security,
        "a wrong authToken or signature is rejected with 000001",
        "V1 §2.2, §5; V2 §1.3",
    ),
    check(
        "security.missing-signature",
        Security,
        "a request without its signature is rejected with 000001",
        "V1 §2.2; V2 §1.3",
    ),
    check(
        "security.tampered-parameter",
        Security,
        "a parameter changed after signing is rejected with 000001",
        "V1 §2.2; V2 §1.3",
    ),
    check(
        "security.stale-timestamp",
        Security,
        "a V2 timestamp more than 60 s old is rejected",
        "V2 §1.3; V1 §2.4",
    ),
    check(
        "security.unknown-activity",
        Security,
        "an unknown activity is rejected with 000002",
        "V1 §5; V2 §2.8",
    ),
    check(
        "security.missing-parameter",
        Security,
        "a request missing a mandatory parameter is rejected with 000002",
        "V1 §5; V2 §2.8",
    ),
    check(
        "security.unknown-instance",
        Security,
        "real traffic about an unknown instance gets 000003",
        "V1 §5; V2 §2.8",
    ),
    check(
        "lifecycle.accepted",
        Lifecycle,
        "each business event's notice is accepted in its place",
        "V1 §4, §9; V2 §2",
    ),
    check(
        "lifecycle.order-state",
        Lifecycle,
        "the simulated order ends where KooGallery would put it",
        "V1 §9; V2 §8.5",
    ),
    check(
        "lifecycle.instance-state",
        Lifecycle,
        "the simulated instance ends where KooGallery would put it",
        "V1 §9; V2 §2.4",
    ),
    check(
        "lifecycle.query",
        Lifecycle,
        "queryInstance lists the live instances of the batch",
        "V1 §4.7; V2 §2.2",
    ),
    check(
        "retry.schedule",
        Retry,
        "attempts follow the retry schedule and the order opens on the right attempt",
        "V1 §6; V2 §2.10",
    ),
    check(
        "retry.recovery",
        Retry,
        "a merchant that recovers inside the 3 h window opens the order with the same instance",
        "V1 §6, §7",
    ),
    check(
        "retry.exhaustion",
        Retry,
        "a merchant that never recovers gets the order failed and refunded after 3 h",
        "V1 §6, §9",
    ),
    check(
        "snapshot",
        Snapshot,
        "the exchanges match the accepted transcript",
        "kgsim: behaviour drift",
    ),
    check(
        "scenario.step",
        Scenario,
        "every step of the scenario could be performed",
        "kgsim",
    ),
];

/// The check with an id.
pub fn find(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

/// Every id, for the scenario loader.
pub fn ids() -> Vec<&'static str> {
    CHECKS.iter().map(|c| c.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_namespaced_by_family() {
        let mut ids = ids();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        for check in CHECKS {
            let prefix = check.id.split('.').next().unwrap();
            let family = match prefix {
                "console" => Console,
                "idempotency" => Idempotency,
                "security" => Security,
                "lifecycle" => Lifecycle,
                "retry" => Retry,
                "snapshot" => Snapshot,
                _ => Scenario,
            };
            assert_eq!(check.family, family, "{}", check.id);
        }
    }

    #[test]
    fn every_console_rule_has_a_check() {
        use crate::marketplace::Finding;
        let findings = [
            Finding::Unreachable(String::new()),
            Finding::Timeout(crate::marketplace::Span::ZERO),
            Finding::Broken(String::new()),
            Finding::HttpStatus(500),
            Finding::ContentType(None),
            Finding::NotJson(String::new()),
            Finding::BodySignMissing,
            Finding::ResultCode(String::new()),
            Finding::MissingField(String::new()),
            Finding::FieldTooLong {
                path: String::new(),
                len: 0,
                max: 0,
            },
            Finding::EncryptTypeInvalid(String::new()),
        ];
        for finding in findings {
            assert!(
                find(&format!("console.{}", finding.rule())).is_some(),
                "{finding:?}"
            );
        }
    }
}
