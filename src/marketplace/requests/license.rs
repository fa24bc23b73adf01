//! The License 2.0 code notices: a product whose codes the marketplace issues hears of
//! renewals, refunds, freezes and releases through its own three interfaces, about the code
//! rather than an instance (spec: koogallery-v2-kit-license.md §4.2).

use crate::marketplace::lifecycle::{Instance, OrderId};
use crate::marketplace::requests::Refresh;
use crate::protocol::UnixMillis;
use crate::protocol::v2::license::{
    RefreshLicenseCode, ReleaseLicenseCode, UpdateLicenseCodeStatus, scene,
};
use crate::protocol::v2::messages as v2;
use crate::protocol::{Request, v2::messages::status};

/// The code an instance of a License-code product stands for.
fn code(instance: &Instance) -> String {
    instance.merchant_id.clone().unwrap_or_default()
}

/// refreshLicenseCode: RENEWAL, or UNSUBSCRIBE_RENEWAL_PERIOD for a refunded renewal (a
/// trial's conversion renews the code as well: the interface has no other scene).
pub(crate) fn refresh(
    instance: &Instance,
    order: &OrderId,
    why: Refresh,
    new_expiry: UnixMillis,
) -> Request {
    let scene = match why {
        Refresh::RenewalRefund => scene::UNSUBSCRIBE_RENEWAL_PERIOD,
        Refresh::Renewal(_) | Refresh::TrialToFormal(_) => scene::RENEWAL,
    };
    Request::V2(v2::Request::RefreshLicenseCode(RefreshLicenseCode {
        scene: scene.to_owned(),
        order_id: order.0.clone(),
        order_line_id: format!("{order}-000001"),
        license: code(instance),
        product_id: Some(instance.product_id.clone()),
        // `yyyyMMddHHmmss`, as the documented example (§4.2).
        expire_time: new_expiry.to_compact_seconds(),
        test_flag: None,
    }))
}

/// updateLicenseCodeStatus FREEZE or UNFREEZE.
pub(crate) fn status(instance: &Instance, freeze: bool) -> Request {
    Request::V2(v2::Request::UpdateLicenseCodeStatus(
        UpdateLicenseCodeStatus {
            license: code(instance),
            status: if freeze {
                status::FREEZE
            } else {
                status::UNFREEZE
            }
            .to_owned(),
            test_flag: None,
        },
    ))
}

/// releaseLicenseCode, with the unsubscribe order when there is one.
pub(crate) fn release(instance: &Instance, unsubscribe: Option<&OrderId>) -> Request {
    Request::V2(v2::Request::ReleaseLicenseCode(ReleaseLicenseCode {
        license: code(instance),
        order_id: unsubscribe.map(|o| o.0.clone()),
        order_line_id: unsubscribe.map(|o| format!("{o}-000001")),
        test_flag: None,
    }))
}
