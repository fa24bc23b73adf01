//! Result codes shared by SaaS V1 and V2 (spec: koogallery-saas-v1.md §5,
//! koogallery-v2-kit-license.md §2.8), and the online License's (§4.5).
//!
//! Only `000000` counts as success for the marketplace; every other code is a failed call
//! that enters the activity's retry policy.

use std::fmt;
use std::str::FromStr;

/// A documented result code, with its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ResultCode {
    /// `000000` success.
    Success,
    /// `000001` authentication failed (bad, missing or tampered signature).
    AuthFailed,
    /// `000002` invalid request parameter (also: unknown activity, stale V2 timestamp).
    InvalidParam,
    /// `000003` the instance id does not exist.
    InstanceNotFound,
    /// `000004` request being processed (V2 newInstance: asynchronous provisioning).
    Processing,
    /// `000005` other internal error.
    InternalError,
    /// `000100` no instance resource available (newInstance).
    NoResource,
    /// `000101` mobile number empty or duplicate (newInstance).
    MobileInvalid,
    /// `000102` e-mail empty or duplicate (newInstance).
    EmailInvalid,
    /// `000103` product cannot be purchased twice (newInstance).
    AlreadyPurchased,
    /// `000104` internal service error of the product (newInstance).
    ProductServiceError,
    /// `000105` account already subscribed to the benefit (newInstance).
    AlreadySubscribed,
    /// `000106` product resources sold out (newInstance).
    SoldOut,
    /// `000107` SaaS e-mail domain already exists (newInstance).
    EmailDomainExists,
    /// `000900` online License: quota insufficient (getLicenseAsync, §4.5).
    LicenseQuotaInsufficient,
    /// `000901` online License: must apply within the order's validity.
    LicenseOutsideValidity,
    /// `000902` online License: a period License needs an expiry date.
    LicenseExpiryRequired,
    /// `000903` online License: a device fingerprint (hardware code) is required.
    LicenseFingerprintRequired,
}

impl ResultCode {
    /// Every documented code, in numeric order.
    pub(crate) const ALL: [ResultCode; 18] = [
        Self::Success,
        Self::AuthFailed,
        Self::InvalidParam,
        Self::InstanceNotFound,
        Self::Processing,
        Self::InternalError,
        Self::NoResource,
        Self::MobileInvalid,
        Self::EmailInvalid,
        Self::AlreadyPurchased,
        Self::ProductServiceError,
        Self::AlreadySubscribed,
        Self::SoldOut,
        Self::EmailDomainExists,
        Self::LicenseQuotaInsufficient,
        Self::LicenseOutsideValidity,
        Self::LicenseExpiryRequired,
        Self::LicenseFingerprintRequired,
    ];

    /// The six-digit code as it appears on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Success => "000000",
            Self::AuthFailed => "000001",
            Self::InvalidParam => "000002",
            Self::InstanceNotFound => "000003",
            Self::Processing => "000004",
            Self::InternalError => "000005",
            Self::NoResource => "000100",
            Self::MobileInvalid => "000101",
            Self::EmailInvalid => "000102",
            Self::AlreadyPurchased => "000103",
            Self::ProductServiceError => "000104",
            Self::AlreadySubscribed => "000105",
            Self::SoldOut => "000106",
            Self::EmailDomainExists => "000107",
            Self::LicenseQuotaInsufficient => "000900",
            Self::LicenseOutsideValidity => "000901",
            Self::LicenseExpiryRequired => "000902",
            Self::LicenseFingerprintRequired => "000903",
        }
    }

    /// The documented meaning, in English.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::AuthFailed => "authentication failed",
            Self::InvalidParam => "invalid request parameter",
            Self::InstanceNotFound => "instance id does not exist",
            Self::Processing => "request being processed",
            Self::InternalError => "other internal error",
            Self::NoResource => "no instance resource available",
            Self::MobileInvalid => "mobile number empty or duplicate",
            Self::EmailInvalid => "e-mail empty or duplicate",
            Self::AlreadyPurchased => "product cannot be purchased twice",
            Self::ProductServiceError => "internal service error of the product",
            Self::AlreadySubscribed => "account already subscribed to the benefit",
            Self::SoldOut => "product resources sold out",
            Self::EmailDomainExists => "SaaS e-mail domain already exists",
            Self::LicenseQuotaInsufficient => "License quota insufficient",
            Self::LicenseOutsideValidity => {
                "License must be applied for within the order's validity"
            }
            Self::LicenseExpiryRequired => "a period License needs an expiry date",
            Self::LicenseFingerprintRequired => "a device fingerprint is required",
        }
    }

    /// Whether the marketplace counts this answer as a successful call.
    pub(crate) fn is_success(self) -> bool {
        self == Self::Success
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the documented result codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a documented result code (000000-000005, 000100-000107, 000900-000903)")]
pub(crate) struct UnknownResultCode(pub(crate) String);

impl FromStr for ResultCode {
    type Err = UnknownResultCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownResultCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_text() {
        for code in ResultCode::ALL {
            assert_eq!(code.as_str().parse::<ResultCode>(), Ok(code));
            assert_eq!(code.as_str().len(), 6);
        }
    }

    #[test]
    fn only_000000_is_success() {
        let successes: Vec<_> = ResultCode::ALL
            .into_iter()
            .filter(|c| c.is_success())
            .collect();
        assert_eq!(successes, vec![ResultCode::Success]);
    }

    #[test]
    fn unknown_codes_are_rejected() {
        assert!("00000".parse::<ResultCode>().is_err());
        assert!("000006".parse::<ResultCode>().is_err());
        assert!("000108".parse::<ResultCode>().is_err());
    }
}
