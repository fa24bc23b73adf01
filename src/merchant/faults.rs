//! Fault switches: each turns the reference merchant into one kind of broken merchant, so
//! that every conformance check can be shown to fail when it should.

use std::fmt;
use std::str::FromStr;

/// One way of being broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Every newInstance creates a new instance (no idempotency on orderId).
    NonIdempotentNew,
    /// On-demand idempotency keyed on orderId alone, so billing items share an instance.
    OnDemandIgnoresProduct,
    /// V1: every order of a buyer gets the buyer's first instanceId (one tenant per
    /// customer). V2 requests carry no buyer, so V2 merchants are unaffected.
    SharedInstanceId,
    /// newInstance checks for the order, then inserts later: concurrent copies race.
    RaceNew,
    /// newInstance checks for the order, spends N ms on other work (a database round trip),
    /// then inserts without checking again: a realistic check-then-insert window.
    RaceWindow(u32),
    /// Signatures are not verified.
    SkipAuth,
    /// V2 timestamps are not checked for freshness.
    AcceptStale,
    /// V1 Body-Sign computed over other bytes than those sent.
    BadBodySign,
    /// V1 Body-Sign header left out.
    MissingBodySign,
    /// V1 Body-Sign values without the double quotes the console requires.
    UnquotedBodySign,
    /// Content-Type text/plain.
    WrongContentType,
    /// Answers only after the configured delay (25 s by default, beyond the 20 s timeout).
    Slow,
    /// HTTP 500 with a JSON body.
    Http500,
    /// A body that is not JSON.
    NotJson,
    /// resultMsg left out.
    NoResultMsg,
    /// resultMsg padded to N bytes (over its 255-character limit; N = 900000 sends the
    /// 900 KB answers a merchant with a stack trace in its message sends).
    PaddedResultMsg(u32),
    /// newInstance answered without instanceId.
    MissingInstanceId,
    /// appInfo.frontEndUrl of 600 characters (over 512).
    LongFrontEndUrl,
    /// V1 credentials encrypted with the other encryptType than the one declared.
    UndecryptableAppInfo,
    /// A repeated expireInstance fails.
    ExpireNotIdempotent,
    /// A repeated releaseInstance fails (the instance is gone).
    ReleaseNotIdempotent,
    /// A repeated renewal (same orderId) fails.
    RenewNotIdempotent,
    /// A repeated upgrade (same orderId) fails.
    UpgradeNotIdempotent,
    /// A repeated freeze or unfreeze fails.
    StatusNotIdempotent,
    /// The first N newInstance requests of every order fail with 000005, then it recovers.
    FailFirst(u32),
    /// Every newInstance fails with 000005.
    FailAlways,
    /// Unknown activities and missing mandatory parameters are answered 000000.
    LenientParams,
    /// Real traffic for an unknown instance is answered 000000 instead of 000003.
    UnknownInstanceOk,
    /// Debug calls (testFlag=1) for unknown instances are answered 000003.
    StrictDebug,
    /// queryInstance answered 000000 without listing any instance.
    QueryListsNothing,
    /// Open-API calls signed with the wrong SK.
    WrongApigwSignature,
    /// Usage pushed under the package's instance id (a package purchase is treated as
    /// on-demand).
    PackageIdAsInstanceId,
    /// The same metering_sn sent twice.
    DuplicateMeteringSn,
    /// Usage whose begin_time is 22 days old.
    OldBeginTime,
    /// The shipped software activates a License code a second time.
    ActivateTwice,
    /// V2: the order a newInstance names is never queried.
    NoQueryOrder,
    /// Unfreezing (V1 instanceStatus NORMAL, V2 updateInstanceStatus UNFREEZE) is refused with
    /// 000002, as by a merchant that implemented only the freeze.
    RefuseUnfreeze,
    /// Kit: a repeated add fails (the record exists), a delete of nothing fails.
    KitNotIdempotent,
    /// Kit: `x-sign` is not verified.
    KitIgnoresXsign,
    /// Kit: clientSecret decrypted with PKCS#1 v1.5 instead of OAEP (so never decrypted).
    KitRsaPkcs1,
    /// Login: the callback answers without exchanging the code.
    LoginNoExchange,
    /// Login: the code is exchanged, the user never read.
    LoginNoUserinfo,
    /// License 2.0: a notice about an unknown code answered 000000 instead of 000003.
    LicenseUnknownOk,
    /// Online License: the application is accepted, the License never uploaded.
    LicenseNoUpload,
    /// Online License: every application gets a fresh License, even a repeated one.
    LicenseFreshEachTime,
    /// Online License: a period application without an expiry is accepted.
    LicenseNoExpiryCheck,
    /// Order notification: answered, the order never queried.
    NotifyNoQuery,
    /// V2 (basic, License, notification): the signature computed over the body bytes as
    /// received, not over their canonical form.
    RawBodySign,
    /// Kit: `x-sign` computed over the body bytes as received.
    KitRawBodySign,
    /// Kit: the canonical body written with non-ASCII escaped as `\uXXXX` before signing
    /// (Python's `json.dumps` default).
    KitAsciiEscape,
    /// Kit: the canonical body written with `<>&='` escaped before signing (Gson's default,
    /// Go's `json.Marshal`).
    KitHtmlEscape,
    /// Kit: `x-sign` compared case-sensitively against a lowercase hex digest.
    KitLowercaseXsign,
    /// V2: `Content-Type: application/json;charset=utf8` refused with 415, as stock Express
    /// (`express.json()`) does.
    StrictCharset,
    // Faults that need a particular sequence of events: the built-in suite's fixed stories
    // miss them; `kgsim explore` finds them.
    /// The third renewal of one instance is refused (a counter that was meant for trials).
    ThirdRenewalRefused,
    /// A renewal after an upgrade is refused as for an unknown instance (the upgrade moved the
    /// instance to a new key).
    RenewalAfterUpgradeRefused,
    /// V1: a buyer one of whose instances was released cannot buy again (a unique tenant key
    /// kept after the release).
    PurchaseAfterReleaseRefused,
    /// The second unfreeze of one instance is refused (an "unfrozen once" flag never reset).
    SecondUnfreezeRefused,
    /// A resent newInstance whose instance is frozen creates a new instance (the lookup
    /// only searches live instances).
    ResendAfterFreezeNewInstance,
    /// V1: after a trial is converted, its expiry is refused (the merchant still keys the
    /// instance as a trial, which it believes never expires by notice).
    ExpiryAfterConversionRefused,
}

impl Fault {
    /// Every fault (with `fail-first=2`, `race-window=5` and `padded-result-msg=1000` as the
    /// representatives of their families).
    pub(crate) const ALL: [Fault; 59] = [
        Self::NonIdempotentNew,
        Self::OnDemandIgnoresProduct,
        Self::SharedInstanceId,
        Self::RaceNew,
        Self::RaceWindow(5),
        Self::SkipAuth,
        Self::AcceptStale,
        Self::BadBodySign,
        Self::MissingBodySign,
        Self::UnquotedBodySign,
        Self::WrongContentType,
        Self::Slow,
        Self::Http500,
        Self::NotJson,
        Self::NoResultMsg,
        Self::PaddedResultMsg(1000),
        Self::MissingInstanceId,
        Self::LongFrontEndUrl,
        Self::UndecryptableAppInfo,
        Self::ExpireNotIdempotent,
        Self::ReleaseNotIdempotent,
        Self::RenewNotIdempotent,
        Self::UpgradeNotIdempotent,
        Self::StatusNotIdempotent,
        Self::FailFirst(2),
        Self::FailAlways,
        Self::LenientParams,
        Self::UnknownInstanceOk,
        Self::StrictDebug,
        Self::QueryListsNothing,
        Self::RefuseUnfreeze,
        Self::WrongApigwSignature,
        Self::PackageIdAsInstanceId,
        Self::DuplicateMeteringSn,
        Self::OldBeginTime,
        Self::ActivateTwice,
        Self::NoQueryOrder,
        Self::KitNotIdempotent,
        Self::KitIgnoresXsign,
        Self::KitRsaPkcs1,
        Self::LoginNoExchange,
        Self::LoginNoUserinfo,
        Self::LicenseUnknownOk,
        Self::LicenseNoUpload,
        Self::LicenseFreshEachTime,
        Self::LicenseNoExpiryCheck,
        Self::NotifyNoQuery,
        Self::RawBodySign,
        Self::KitRawBodySign,
        Self::KitAsciiEscape,
        Self::KitHtmlEscape,
        Self::KitLowercaseXsign,
        Self::StrictCharset,
        Self::ThirdRenewalRefused,
        Self::RenewalAfterUpgradeRefused,
        Self::PurchaseAfterReleaseRefused,
        Self::SecondUnfreezeRefused,
        Self::ResendAfterFreezeNewInstance,
        Self::ExpiryAfterConversionRefused,
    ];

    /// Whether the switch takes a number (`name=N`).
    fn is_parametric(self) -> bool {
        matches!(
            self,
            Self::FailFirst(_) | Self::RaceWindow(_) | Self::PaddedResultMsg(_)
        )
    }

    /// The switch's name on the command line.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Self::NonIdempotentNew => "non-idempotent-new",
            Self::OnDemandIgnoresProduct => "on-demand-ignores-product",
            Self::SharedInstanceId => "shared-instance-id",
            Self::RaceNew => "race-new",
            Self::SkipAuth => "skip-auth",
            Self::AcceptStale => "accept-stale",
            Self::BadBodySign => "bad-body-sign",
            Self::MissingBodySign => "missing-body-sign",
            Self::UnquotedBodySign => "unquoted-body-sign",
            Self::WrongContentType => "wrong-content-type",
            Self::Slow => "slow",
            Self::Http500 => "http-500",
            Self::NotJson => "not-json",
            Self::NoResultMsg => "no-result-msg",
            Self::PaddedResultMsg(_) => "padded-result-msg",
            Self::MissingInstanceId => "missing-instance-id",
            Self::LongFrontEndUrl => "long-front-end-url",
            Self::UndecryptableAppInfo => "undecryptable-app-info",
            Self::ExpireNotIdempotent => "expire-not-idempotent",
            Self::ReleaseNotIdempotent => "release-not-idempotent",
            Self::RenewNotIdempotent => "renew-not-idempotent",
            Self::UpgradeNotIdempotent => "upgrade-not-idempotent",
            Self::StatusNotIdempotent => "status-not-idempotent",
            Self::FailFirst(_) => "fail-first",
            Self::RaceWindow(_) => "race-window",
            Self::FailAlways => "fail-always",
            Self::LenientParams => "lenient-params",
            Self::UnknownInstanceOk => "unknown-instance-ok",
            Self::StrictDebug => "strict-debug",
            Self::QueryListsNothing => "query-lists-nothing",
            Self::WrongApigwSignature => "wrong-apigw-signature",
            Self::PackageIdAsInstanceId => "package-id-as-instance-id",
            Self::DuplicateMeteringSn => "duplicate-metering-sn",
            Self::OldBeginTime => "old-begin-time",
            Self::ActivateTwice => "activate-twice",
            Self::NoQueryOrder => "no-query-order",
            Self::RefuseUnfreeze => "refuse-unfreeze",
            Self::KitNotIdempotent => "kit-not-idempotent",
            Self::KitIgnoresXsign => "kit-ignores-xsign",
            Self::KitRsaPkcs1 => "kit-rsa-pkcs1",
            Self::LoginNoExchange => "login-no-exchange",
            Self::LoginNoUserinfo => "login-no-userinfo",
            Self::LicenseUnknownOk => "license-unknown-ok",
            Self::LicenseNoUpload => "license-no-upload",
            Self::LicenseFreshEachTime => "license-fresh-each-time",
            Self::LicenseNoExpiryCheck => "license-no-expiry-check",
            Self::NotifyNoQuery => "notify-no-query",
            Self::RawBodySign => "raw-body-sign",
            Self::KitRawBodySign => "kit-raw-body-sign",
            Self::KitAsciiEscape => "kit-ascii-escape",
            Self::KitHtmlEscape => "kit-html-escape",
            Self::KitLowercaseXsign => "kit-lowercase-x-sign",
            Self::StrictCharset => "strict-charset",
            Self::ThirdRenewalRefused => "third-renewal-refused",
            Self::RenewalAfterUpgradeRefused => "renewal-after-upgrade-refused",
            Self::PurchaseAfterReleaseRefused => "purchase-after-release-refused",
            Self::SecondUnfreezeRefused => "second-unfreeze-refused",
            Self::ResendAfterFreezeNewInstance => "resend-after-freeze-new-instance",
            Self::ExpiryAfterConversionRefused => "expiry-after-conversion-refused",
        }
    }

    /// What the switch does, for `--help` and `kgsim merchant --list-faults`.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::NonIdempotentNew => "every newInstance creates a new instance",
            Self::OnDemandIgnoresProduct => "on-demand idempotency keyed on orderId alone",
            Self::SharedInstanceId => "V1: every order of a buyer gets the same instanceId",
            Self::RaceNew => "check-then-insert race on concurrent newInstance",
            Self::SkipAuth => "signatures are not verified",
            Self::AcceptStale => "V2 stale timestamps are accepted",
            Self::BadBodySign => "V1 Body-Sign over other bytes than those sent",
            Self::MissingBodySign => "V1 Body-Sign header left out",
            Self::UnquotedBodySign => "V1 Body-Sign values without double quotes",
            Self::WrongContentType => "Content-Type text/plain",
            Self::Slow => "answers after --slow-ms (default 25000), beyond the timeout",
            Self::Http500 => "HTTP status 500",
            Self::NotJson => "a body that is not JSON",
            Self::NoResultMsg => "resultMsg left out",
            Self::PaddedResultMsg(_) => "padded-result-msg=BYTES: resultMsg padded to BYTES",
            Self::MissingInstanceId => "newInstance answered without instanceId",
            Self::LongFrontEndUrl => "frontEndUrl over 512 characters",
            Self::UndecryptableAppInfo => "V1 credentials encrypted with the other encryptType",
            Self::ExpireNotIdempotent => "a repeated expireInstance fails",
            Self::ReleaseNotIdempotent => "a repeated releaseInstance fails",
            Self::RenewNotIdempotent => "a repeated renewal fails",
            Self::UpgradeNotIdempotent => "a repeated upgrade fails",
            Self::StatusNotIdempotent => "a repeated freeze or unfreeze fails",
            Self::RaceWindow(_) => {
                "race-window=MS: newInstance checks, works MS ms, then inserts unchecked"
            }
            Self::FailFirst(_) => {
                "fail-first=N: the first N newInstance attempts of each order fail"
            }
            Self::FailAlways => "every newInstance fails",
            Self::LenientParams => "unknown activity or missing parameter answered 000000",
            Self::UnknownInstanceOk => "unknown instance on real traffic answered 000000",
            Self::StrictDebug => "debug calls for unknown instances answered 000003",
            Self::QueryListsNothing => "queryInstance answered 000000 listing nothing",
            Self::WrongApigwSignature => "open-API calls signed with the wrong SK",
            Self::PackageIdAsInstanceId => "usage pushed under a package's instance id",
            Self::DuplicateMeteringSn => "the same metering_sn pushed twice",
            Self::OldBeginTime => "usage with a begin_time 22 days old",
            Self::ActivateTwice => "the software activates a License code twice",
            Self::NoQueryOrder => "V2: the purchased order is never queried",
            Self::RefuseUnfreeze => "unfreezing (NORMAL / UNFREEZE) refused with 000002",
            Self::KitNotIdempotent => "Kit: a repeated add, or a delete of nothing, fails",
            Self::KitIgnoresXsign => "Kit: x-sign is not verified",
            Self::KitRsaPkcs1 => "Kit: clientSecret decrypted with PKCS#1 v1.5, not OAEP",
            Self::LoginNoExchange => "login callback never exchanges the code",
            Self::LoginNoUserinfo => "login callback exchanges the code, never reads userinfo",
            Self::LicenseUnknownOk => "License-code notice for an unknown code answered 000000",
            Self::LicenseNoUpload => "online License accepted, never uploaded",
            Self::LicenseFreshEachTime => {
                "online License: a fresh License for a repeated application"
            }
            Self::LicenseNoExpiryCheck => {
                "online License: a period application without expiry accepted"
            }
            Self::NotifyNoQuery => "order notification answered, the order never queried",
            Self::RawBodySign => "V2: the signature checked over the raw body bytes",
            Self::KitRawBodySign => "Kit: x-sign checked over the raw body bytes",
            Self::KitAsciiEscape => "Kit: non-ASCII escaped as \\uXXXX before signing",
            Self::KitHtmlEscape => "Kit: <>&=' escaped before signing",
            Self::KitLowercaseXsign => "Kit: x-sign compared case-sensitively in lowercase",
            Self::StrictCharset => "V2: charset=utf8 refused with HTTP 415 (stock Express)",
            Self::ThirdRenewalRefused => "sequence: the third renewal of an instance refused",
            Self::RenewalAfterUpgradeRefused => {
                "sequence: a renewal after an upgrade answered 000003"
            }
            Self::PurchaseAfterReleaseRefused => {
                "sequence: V1: a purchase after the buyer's release refused"
            }
            Self::SecondUnfreezeRefused => "sequence: the second unfreeze of an instance refused",
            Self::ResendAfterFreezeNewInstance => {
                "sequence: a resent purchase of a frozen instance gets a new instance"
            }
            Self::ExpiryAfterConversionRefused => {
                "sequence: V1: the expiry of a converted trial refused"
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FailFirst(n) => write!(f, "fail-first={n}"),
            Self::RaceWindow(ms) => write!(f, "race-window={ms}"),
            Self::PaddedResultMsg(bytes) => write!(f, "padded-result-msg={bytes}"),
            other => f.write_str(other.slug()),
        }
    }
}

/// Not a fault switch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{0}`; `kgsim merchant --list-faults` lists them")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        type Make = fn(u32) -> Fault;
        let parametric: [(&str, Make); 3] = [
            ("fail-first=", Self::FailFirst),
            ("race-window=", Self::RaceWindow),
            ("padded-result-msg=", Self::PaddedResultMsg),
        ];
        for (prefix, make) in parametric {
            if let Some(n) = s.strip_prefix(prefix) {
                return n.parse().map(make).map_err(|_| UnknownFault(s.to_owned()));
            }
        }
        Self::ALL
            .into_iter()
            .find(|f| !f.is_parametric() && f.slug() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

/// The set of faults a merchant runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(Vec<Fault>);

impl Faults {
    /// No fault: a correct merchant.
    pub(crate) fn none() -> Self {
        Self(Vec::new())
    }

    /// These faults.
    pub fn of(faults: impl IntoIterator<Item = Fault>) -> Self {
        Self(faults.into_iter().collect())
    }

    /// Whether a fault is on.
    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }

    /// `race-window=MS`'s window, if on.
    pub(crate) fn race_window(&self) -> Option<std::time::Duration> {
        self.0.iter().find_map(|f| match f {
            Fault::RaceWindow(ms) => Some(std::time::Duration::from_millis(u64::from(*ms))),
            _ => None,
        })
    }

    /// `padded-result-msg=N`'s N, if on.
    pub(crate) fn result_msg_padding(&self) -> Option<usize> {
        self.0.iter().find_map(|f| match f {
            Fault::PaddedResultMsg(bytes) => usize::try_from(*bytes).ok(),
            _ => None,
        })
    }

    /// `fail-first=N`'s N, if on.
    pub(crate) fn fail_first(&self) -> Option<u32> {
        self.0.iter().find_map(|f| match f {
            Fault::FailFirst(n) => Some(*n),
            _ => None,
        })
    }

    /// The faults, in the order given.
    pub(crate) fn list(&self) -> &[Fault] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in Fault::ALL {
            assert_eq!(fault.to_string().parse(), Ok(fault));
        }
        assert_eq!("fail-first=5".parse(), Ok(Fault::FailFirst(5)));
        assert!("fail-first".parse::<Fault>().is_err());
        assert_eq!("race-window=7".parse(), Ok(Fault::RaceWindow(7)));
        assert!("nope".parse::<Fault>().is_err());
    }
}
