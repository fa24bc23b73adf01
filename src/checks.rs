//! The check registry: every check kgsim can report, with a stable id, a one-line rationale
//! and the spec section it enforces, so a report line can be traced to the KooGallery rule.
//!
//! A vocabulary, below everything that names checks: the scenario format (a step's
//! `check:`), the conformance judges and the reports all speak of [`CheckId`]s, never of
//! strings. The enum, its list and its table are declared once, by one macro, so they
//! cannot drift.

use std::fmt;

/// A family of checks (product.md "Checks").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Family {
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
    /// The merchant's own calls to the marketplace's open APIs.
    OpenApi,
    /// The joint-operation Kit syncs.
    Kit,
    /// The login through the identity centre.
    Sso,
    /// License products: online applications and their uploads.
    License,
    /// Order notification.
    Notify,
    /// Recorded exchanges against accepted transcripts.
    Snapshot,
    /// The scenario itself.
    Scenario,
}

impl Family {
    /// Its name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Console => "console parity",
            Self::Idempotency => "idempotency",
            Self::Security => "security",
            Self::Lifecycle => "lifecycle",
            Self::Retry => "retry",
            Self::OpenApi => "open APIs",
            Self::Kit => "Kit syncs",
            Self::Sso => "login",
            Self::License => "License",
            Self::Notify => "order notification",
            Self::Snapshot => "snapshot",
            Self::Scenario => "scenario",
        }
    }
}

/// Declares [`CheckId`], [`CheckId::ALL`] and the table behind [`CheckId::family`],
/// [`CheckId::rationale`] and [`CheckId::spec`] from one list.
macro_rules! checks {
    ($( $variant:ident = $id:literal, $family:ident, $rationale:literal, $spec:literal; )*) => {
        /// A check kgsim can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CheckId {
            $( #[doc = $rationale] $variant, )*
        }

        impl CheckId {
            /// Every check, by family.
            pub const ALL: &'static [CheckId] = &[$( Self::$variant, )*];

            /// The stable id, e.g. `console.body-sign`.
            pub fn id(self) -> &'static str {
                match self { $( Self::$variant => $id, )* }
            }

            /// Its family.
            pub(crate) fn family(self) -> Family {
                match self { $( Self::$variant => Family::$family, )* }
            }

            /// Why KooGallery requires it, in one line.
            pub(crate) fn rationale(self) -> &'static str {
                match self { $( Self::$variant => $rationale, )* }
            }

            /// Whether a failure only advises (the docs recommend, they do not require): it is
            /// reported, never counted, and never fails a run [I:replayed-nonce].
            pub fn advisory(self) -> bool {
                matches!(self, Self::SecurityReplayedNonce)
            }

            /// Where the spec says so.
            pub(crate) fn spec(self) -> &'static str {
                match self { $( Self::$variant => $spec, )* }
            }
        }
    };
}

checks! {
    ConsoleReachable = "console.reachable", Console,
        "the production address must be reachable",
        "V1 §1 FAQ; V2 §8.3";
    ConsoleTimeout = "console.timeout", Console,
        "the answer must arrive within the timeout (20 s on the debug page)",
        "V1 §1 FAQ, §6; V2 §8.3";
    ConsoleTransport = "console.transport", Console,
        "the answer must be complete HTTP: no reset, redirect or oversized body",
        "V1 §1; V2 §1.1";
    ConsoleHttpStatus = "console.http-status", Console,
        "the HTTP status must be 200",
        "V1 §1 FAQ; V2 §8.3";
    ConsoleContentType = "console.content-type", Console,
        "the Content-Type must be application/json",
        "V1 §1 FAQ; V2 §8.3";
    ConsoleJsonBody = "console.json-body", Console,
        "the body must be a JSON object with resultCode and resultMsg",
        "V1 §1 FAQ; V2 §8.3";
    ConsoleBodySign = "console.body-sign", Console,
        "every V1 answer carries Body-Sign, HMAC-SHA256 over its exact bytes",
        "V1 §2.3";
    ConsoleResultCode = "console.result-code", Console,
        "resultCode must be 000000 where the call must succeed",
        "V1 §5; V2 §2.8, §8.3";
    ConsoleMandatoryFields = "console.mandatory-fields", Console,
        "mandatory answer fields must be present (instanceId, frontEndUrl, usage fields)",
        "V1 §1 FAQ, §4; V2 §2, §8.3";
    ConsoleFieldLength = "console.field-length", Console,
        "no answer field may exceed its maximum length (frontEndUrl ≤ 512, …)",
        "V1 §1 FAQ, §4.1";
    ConsoleAppInfoDecrypt = "console.app-info-decrypt", Console,
        "encrypted appInfo credentials must decrypt with the declared encryptType",
        "V1 §3";
    ConsoleQueryListing = "console.query-listing", Console,
        "a successful queryInstance lists every instance it was asked about (instanceId is mandatory)",
        "V1 §1 FAQ, §4.7; V2 §2.2, §8.3";
    IdempotencySameInstance = "idempotency.same-instance", Idempotency,
        "a resend of the same order returns the same instanceId",
        "V1 §4.1, §7; V2 §2.1";
    IdempotencySameAppInfo = "idempotency.same-app-info", Idempotency,
        "a resend of the same order returns the same appInfo",
        "V1 §4.1, §7";
    IdempotencyDistinctOrders = "idempotency.distinct-orders", Idempotency,
        "different orders (or on-demand billing items) never share an instanceId",
        "V1 §4.1, §7; V2 §2.1";
    IdempotencyConcurrent = "idempotency.concurrent", Idempotency,
        "concurrent identical purchases yield one instance",
        "V1 §7";
    IdempotencyRepeat = "idempotency.repeat", Idempotency,
        "repeated renew, expire, freeze, unfreeze, upgrade and release keep succeeding",
        "V1 §7";
    IdempotencyDebugAnyOrder = "idempotency.debug-any-order", Idempotency,
        "console debug cases succeed repeatedly and in any order, unknown instances included",
        "V1 §7, §8; V2 §8.1";
    SecurityForgedSignature = "security.forged-signature", Security,
        "a wrong authToken, signature or Kit x-sign is rejected with 000001",
        "V1 §2.2, §5; V2 §1.3, §1.4";
    SecurityMissingSignature = "security.missing-signature", Security,
        "a request without its signature (or x-sign) is rejected with 000001",
        "V1 §2.2; V2 §1.3, §1.4";
    SecurityTamperedParameter = "security.tampered-parameter", Security,
        "a parameter changed after signing is rejected with 000001",
        "V1 §2.2; V2 §1.3, §1.4";
    SecurityStaleTimestamp = "security.stale-timestamp", Security,
        "a V2 timestamp (or Kit x-timestamp) more than 60 s old is rejected",
        "V2 §1.3, §1.4; V1 §2.4";
    SecurityUnknownActivity = "security.unknown-activity", Security,
        "an unknown activity is rejected with 000002",
        "V1 §5; V2 §2.8";
    SecurityMissingParameter = "security.missing-parameter", Security,
        "a request missing a mandatory parameter is rejected with 000002",
        "V1 §5; V2 §2.8";
    SecurityReplayedNonce = "security.replayed-nonce", Security,
        "(advisory) a signed request replayed with the same nonce within the window should be refused: the docs say the merchant may cache nonces against replay",
        "V1 §2.4; V2 §1.3";
    SecurityUnknownInstance = "security.unknown-instance", Security,
        "real traffic about an unknown instance gets 000003",
        "V1 §5; V2 §2.8";
    LifecycleAccepted = "lifecycle.accepted", Lifecycle,
        "each business event's notice is accepted in its place",
        "V1 §4, §9; V2 §2";
    LifecycleOrderState = "lifecycle.order-state", Lifecycle,
        "the simulated order ends where KooGallery would put it",
        "V1 §9; V2 §8.5";
    LifecycleInstanceState = "lifecycle.instance-state", Lifecycle,
        "the simulated instance ends where KooGallery would put it",
        "V1 §9; V2 §2.4";
    LifecycleQuery = "lifecycle.query", Lifecycle,
        "queryInstance lists the live instances of the batch",
        "V1 §4.7; V2 §2.2";
    RetrySchedule = "retry.schedule", Retry,
        "attempts follow the retry schedule and the order opens on the right attempt",
        "V1 §6; V2 §2.10";
    RetryRecovery = "retry.recovery", Retry,
        "a merchant that recovers inside the 3 h window opens the order with the same instance",
        "V1 §6, §7";
    RetryExhaustion = "retry.exhaustion", Retry,
        "a merchant that never recovers gets the order failed and refunded after 3 h",
        "V1 §6, §9";
    OpenApiCalled = "openapi.called", OpenApi,
        "the merchant calls the open API its flow needs: query-order after a V2 purchase, usage for on-demand instances, activation for License codes",
        "V2 §2.1, §6.3; §7.1–7.2; §4.3";
    OpenApiSignature = "openapi.signature", OpenApi,
        "open-API calls carry a valid SDK-HMAC-SHA256 Authorization (X-Sdk-Date within 15 min), usage pushes a valid signature/ts/nonce",
        "V2 §6.4; §7.2";
    OpenApiRequest = "openapi.request", OpenApi,
        "open-API requests are well formed: method, application/json, readable JSON, mandatory fields, known orders",
        "V2 §4.3, §6.3, §7.4";
    OpenApiUsageRecord = "openapi.usage-record", OpenApi,
        "every usage record follows the record rules: ≤ 1000 per push, begin within 21 days, times in range, value > 0 with ≤ 4 decimals, unique metering_sn, no duplicates",
        "V2 §7.2, §7.4, §7.5";
    OpenApiUsageTimeliness = "openapi.usage-timeliness", OpenApi,
        "hourly usage is reported within 2 hours of its end",
        "V2 §7.5";
    OpenApiPackageInstanceId = "openapi.package-instance-id", OpenApi,
        "usage names the on-demand instance, not the package; a stop-when-used-up package goes in relate_pkg_instance",
        "V2 §7.1, §7.2, §7.5";
    OpenApiLicenseActivateOnce = "openapi.license-activate-once", OpenApi,
        "a License code is activated once, never again",
        "V2 §4.3 (92020003)";
    OpenApiLicenseCode = "openapi.license-code", OpenApi,
        "the software activates and checks only codes the buyer has received",
        "V2 §4.1, §4.3 (92020004, 92020005, 92020011)";
    KitAccepted = "kit.accepted", Kit,
        "each Kit sync is accepted: tenant, application (clientSecret decrypted), users, departments",
        "V2 §3.1–3.6";
    KitIdempotent = "kit.idempotent", Kit,
        "a repeated add or delete, and a delete before any add, keep succeeding (idempotency keys of §3.2–3.6)",
        "V2 §3.2–3.6, §8.1";
    SsoExchange = "sso.exchange", Sso,
        "the login callback exchanges the single-use code at the token endpoint (or validates the CAS ticket) with the client_id and decrypted client_secret applicationSync delivered",
        "V2 §3.3, §3.9";
    SsoUserinfo = "sso.userinfo", Sso,
        "after the exchange, the merchant reads the user with the access token (userinfo)",
        "V2 §3.9";
    LicenseUpload = "license.upload", License,
        "after accepting getLicenseAsync the merchant uploads the License for its eventId (string/file-stream upload)",
        "V2 §4.5, §4.6";
    LicenseSameLicense = "license.same-license", License,
        "the same application (eventId and device fingerprint) always yields the same License",
        "V2 §4.5";
    LicenseResultCodes = "license.result-codes", License,
        "an application the product cannot serve is refused with its documented code (000902: a period License needs an expiry)",
        "V2 §4.5";
    NotifyQueryOrder = "notify.query-order", Notify,
        "after an order notification the merchant queries that order",
        "V2 §5, §6.3";
    Snapshot = "snapshot", Snapshot,
        "the exchanges match the accepted transcript",
        "kgsim: behaviour drift";
    ScenarioStep = "scenario.step", Scenario,
        "every step of the scenario could be performed",
        "kgsim";
}

impl CheckId {
    /// The check with this id.
    pub(crate) fn parse(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.id() == id)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_round_trip_and_are_namespaced_by_family() {
        let mut ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len());
        for check in CheckId::ALL {
            assert_eq!(CheckId::parse(check.id()), Some(*check));
            let prefix = check.id().split('.').next().unwrap();
            let family = match prefix {
                "console" => Family::Console,
                "idempotency" => Family::Idempotency,
                "security" => Family::Security,
                "lifecycle" => Family::Lifecycle,
                "retry" => Family::Retry,
                "openapi" => Family::OpenApi,
                "kit" => Family::Kit,
                "sso" => Family::Sso,
                "license" => Family::License,
                "notify" => Family::Notify,
                "snapshot" => Family::Snapshot,
                _ => Family::Scenario,
            };
            assert_eq!(check.family(), family, "{check}");
        }
    }

    #[test]
    fn families_are_listed_together() {
        let families: Vec<Family> = CheckId::ALL.iter().map(|c| c.family()).collect();
        let mut sorted = families.clone();
        sorted.dedup();
        let mut unique = sorted.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            sorted.len(),
            unique.len(),
            "a family is split: {families:?}"
        );
    }
}
