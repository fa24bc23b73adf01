//! Requests beyond an instance's lifecycle notices: the order notification every order
//! triggers when the product has an address for it (spec: koogallery-v2-kit-license.md §5),
//! and the online License application (§4.5).

use crate::marketplace::lifecycle::{Instance, OrderId};
use crate::protocol::v2::license::{GetLicenseAsync, OrderNotify};
use crate::protocol::v2::messages as v2;
use crate::protocol::{Request, UnixMillis};

/// orderNotify for an order's first line; `testFlag` is mandatory here, `"0"` for real
/// traffic (§5).
pub(crate) fn order_notify(order: &OrderId) -> Request {
    Request::V2(v2::Request::OrderNotify(OrderNotify {
        order_id: order.0.clone(),
        order_line_id: format!("{order}-000001"),
        test_flag: "0".to_owned(),
    }))
}

/// A device fingerprint in the documented shape: MAC, disk, motherboard and CPU serials
/// joined with `|` (§4.5).
pub(crate) const SAMPLE_FINGERPRINT: &str =
    "00:1A:2B:3C:4D:5E|WD-WCC4N1234567|MB-0123456789|BFEBFBFF000906EA";

/// getLicenseAsync for an instance at `now`: valid from now until the instance's expiry
/// (period products must send one, §4.5 result 000902), under the marketplace's `event_id`.
pub(crate) fn get_license_async(
    instance: &Instance,
    now: UnixMillis,
    event_id: String,
    fingerprint: Option<&str>,
) -> Request {
    Request::V2(v2::Request::GetLicenseAsync(GetLicenseAsync {
        instance_id: instance.merchant_id.clone().unwrap_or_default(),
        effective_time: now.to_license_time(),
        expire_time: instance.expire_at.map(UnixMillis::to_license_time),
        event_id,
        device_fingerprint: fingerprint.map(str::to_owned),
        test_flag: None,
    }))
}
