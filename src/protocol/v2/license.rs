//! The V2-shaped notices beyond the SaaS basic interfaces: License 2.0 code notices (spec:
//! koogallery-v2-kit-license.md §4.2), the online License application (§4.5) and the order
//! notification (§5). All are POSTs of string-valued JSON with an `activity` and the query
//! signature of §1.3; only the key differs (§1.2).

use crate::protocol::fields::text;
use crate::protocol::fields::wire_message;

wire_message! {
    /// `refreshLicenseCode` body (§4.2): a code's validity renewed or a renewal refunded.
    pub struct RefreshLicenseCode {
        /// `RENEWAL` or `UNSUBSCRIBE_RENEWAL_PERIOD`.
        scene: String = "scene", Mandatory, text(64);
        /// The new (renewal or unsubscribe) order.
        order_id: String = "orderId", Mandatory, text(64);
        /// Its line.
        order_line_id: String = "orderLineId", Mandatory, text(64);
        /// The License code.
        license: String = "license", Mandatory, text(64);
        /// The product.
        product_id: Option<String> = "productId", Optional, text(64);
        /// New expiry, `yyyyMMddHHmmss` UTC.
        expire_time: String = "expireTime", Mandatory, text(20);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `updateLicenseCodeStatus` body (§4.2): past the grace period the code is frozen.
    pub struct UpdateLicenseCodeStatus {
        /// The License code.
        license: String = "license", Mandatory, text(64);
        /// `FREEZE` or `UNFREEZE`.
        status: String = "status", Mandatory, text(32);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `releaseLicenseCode` body (§4.2).
    pub struct ReleaseLicenseCode {
        /// The License code.
        license: String = "license", Mandatory, text(64);
        /// The unsubscribe order, when the release follows one.
        order_id: Option<String> = "orderId", Optional, text(64);
        /// Its line.
        order_line_id: Option<String> = "orderLineId", Optional, text(64);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `getLicenseAsync` body (§4.5): the buyer applies for a License for one device; the
    /// merchant answers, then uploads the License under `eventId` (§4.6).
    pub struct GetLicenseAsync {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// Validity start, UTC (`2023-10-27 10:30:15 z`).
        effective_time: String = "effectiveTime", Mandatory, text(32);
        /// Validity end; required for period (包周期) products.
        expire_time: Option<String> = "expireTime", Optional, text(32);
        /// The marketplace's business serial: with the fingerprint, one application.
        event_id: String = "eventId", Mandatory, text(64);
        /// MAC|disk|board|CPU serials, `|`-joined, ≤ 5 KB (the table says 1024).
        device_fingerprint: Option<String> = "deviceFingerprint", Optional, text(5120);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `orderNotify` body (§5): an order was created; the merchant queries it.
    pub struct OrderNotify {
        /// The order.
        order_id: String = "orderId", Mandatory, text(64);
        /// Its line.
        order_line_id: String = "orderLineId", Mandatory, text(64);
        /// `"1"` debug, `"0"` not (mandatory here, unlike the basic interfaces).
        test_flag: String = "testFlag", Mandatory, text(2);
    }
}

/// `scene` values of refreshLicenseCode (§4.2).
pub(crate) mod scene {
    /// Renewal.
    pub(crate) const RENEWAL: &str = "RENEWAL";
    /// Refund of an unstarted renewal period.
    pub(crate) const UNSUBSCRIBE_RENEWAL_PERIOD: &str = "UNSUBSCRIBE_RENEWAL_PERIOD";
}
