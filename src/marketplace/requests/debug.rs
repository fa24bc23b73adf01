//! The seller console's debug page (接口调试, spec V1 §8, V2 §8.1): its default values and
//! the cases it requires to pass for each activity, every one with `testFlag=1`.

use crate::marketplace::ids::Ids;
use crate::marketplace::requests::v2_expire_time;
use crate::marketplace::settings::Settings;
use crate::protocol::v1::messages as v1;
use crate::protocol::v2::messages as v2;
use crate::protocol::{Activity, Protocol, Request, UnixMillis};
use defaults::*;

/// The seller console's debug-page defaults (the values recurring in Huawei's examples,
/// spec V1 §3.4 and V2 §2).
pub(crate) mod defaults {
    /// Buyer id.
    pub(crate) const CUSTOMER_ID: &str = "68cbc86abc2018ab880d92f36422fa0e";
    /// Buyer name (the page's field is free; the docs' examples use `huaweitest`).
    pub(crate) const CUSTOMER_NAME: &str = "huaweitest";
    /// V1 purchase order.
    pub(crate) const V1_ORDER_ID: &str = "CS1906666666ABCDE";
    /// V1 purchase product.
    pub(crate) const V1_PRODUCT_ID: &str = "00301-666666-0--0";
    /// V1 upgrade order.
    pub(crate) const V1_UPGRADE_ORDER_ID: &str = "CS1906666688ABCDE";
    /// V1 upgrade product.
    pub(crate) const V1_UPGRADE_PRODUCT_ID: &str = "00301-666688-0-0";
    /// V1 instance.
    pub(crate) const V1_INSTANCE_ID: &str = "huaweitest123456";
    /// V2 order.
    pub(crate) const V2_ORDER_ID: &str = "CS2211181819B4LVS";
    /// V2 order line.
    pub(crate) const V2_ORDER_LINE_ID: &str = "CS2211181819B4LVS-000001";
    /// V2 instance.
    pub(crate) const V2_INSTANCE_ID: &str = "10e758d0-31ad-4c4b-8f1b-81d03469a10e";
    /// V2 product.
    pub(crate) const V2_PRODUCT_ID: &str = "OFFI461867333479178240";
    /// License 2.0 code (masked as `******` in the docs).
    pub(crate) const LICENSE_CODE: &str = "PLDEBUG0000000001";
    /// Online-License event (the upload page's example `event_id`).
    pub(crate) const EVENT_ID: &str = "87b94795-0603-4e24-8ae5-69420d60e3c8";
}

/// The debug page's request for an activity, with its default values and `testFlag=1`.
/// `variant` picks among the cases the page requires to pass (instanceStatus FREEZE/NORMAL,
/// trialFlag and trialToFormal values, the four V2 scenes); it wraps around.
pub(crate) fn debug_request(
    settings: &Settings,
    ids: &mut Ids,
    activity: Activity,
    variant: usize,
    now: UnixMillis,
) -> Option<Request> {
    let case = Case {
        settings,
        variant,
        expire: now.plus_months(1),
    };
    match settings.protocol {
        Protocol::V1 => case.v1(activity, ids).map(Request::V1),
        Protocol::V2 => case.v2(activity, ids).map(Request::V2),
    }
}

/// One debug case being built.
struct Case<'a> {
    settings: &'a Settings,
    variant: usize,
    expire: UnixMillis,
}

fn one() -> Option<String> {
    Some("1".to_owned())
}

impl Case<'_> {
    fn v1(&self, activity: Activity, ids: &mut Ids) -> Option<v1::Request> {
        let (settings, variant, expire) = (self.settings, self.variant, self.expire);
        Some(match activity {
            Activity::NewInstance => {
                let billing = settings.billing;
                v1::Request::NewInstance(Box::new(v1::NewInstance {
                    customer_id: CUSTOMER_ID.into(),
                    customer_name: Some(CUSTOMER_NAME.into()),
                    business_id: ids.business_id(),
                    order_id: V1_ORDER_ID.into(),
                    sku_code: settings.catalog.sku_code.clone(),
                    product_id: V1_PRODUCT_ID.into(),
                    // The three trialFlag values the page requires: absent, 0, 1.
                    trial_flag: [None, Some("0".to_owned()), Some("1".to_owned())][variant % 3]
                        .clone(),
                    // expireTime for period and package billing only (V1 §4.1).
                    expire_time: billing.has_expiry().then(|| expire.to_compact_seconds()),
                    charging_mode: Some(billing.v1_charging_mode().to_owned()),
                    test_flag: one(),
                    ..Default::default()
                }))
            }
            Activity::RefreshInstance => v1::Request::RefreshInstance(v1::RefreshInstance {
                order_id: V1_ORDER_ID.into(),
                instance_id: V1_INSTANCE_ID.into(),
                // productId empty/filled and trialToFormal absent/1 must all pass (V1 §4.2).
                product_id: (variant % 2 == 1).then(|| V1_PRODUCT_ID.to_owned()),
                expire_time: expire.to_compact_seconds(),
                trial_to_formal: (variant % 4 >= 2).then(|| "1".to_owned()),
                test_flag: one(),
                ..Default::default()
            }),
            Activity::ExpireInstance => v1::Request::ExpireInstance(v1::ExpireInstance {
                instance_id: V1_INSTANCE_ID.into(),
                order_id: None,
                test_flag: one(),
            }),
            Activity::ReleaseInstance => v1::Request::ReleaseInstance(v1::ReleaseInstance {
                instance_id: V1_INSTANCE_ID.into(),
                test_flag: one(),
                ..Default::default()
            }),
            Activity::Upgrade => v1::Request::Upgrade(v1::Upgrade {
                instance_id: V1_INSTANCE_ID.into(),
                order_id: V1_UPGRADE_ORDER_ID.into(),
                sku_code: settings.catalog.upgrade_sku_code.clone(),
                product_id: V1_UPGRADE_PRODUCT_ID.into(),
                amount: Some("6456".into()),
                test_flag: one(),
                ..Default::default()
            }),
            Activity::InstanceStatus => v1::Request::InstanceStatus(v1::InstanceStatus {
                instance_id: V1_INSTANCE_ID.into(),
                instance_status: [v1::status::FREEZE, v1::status::NORMAL][variant % 2].into(),
                test_flag: one(),
            }),
            Activity::QueryInstance => v1::Request::QueryInstance(v1::QueryInstance {
                instance_id: V1_INSTANCE_ID.into(),
                test_flag: one(),
            }),
            _ => return None,
        })
    }

    fn v2(&self, activity: Activity, ids: &mut Ids) -> Option<v2::Request> {
        let variant = self.variant;
        Some(match activity {
            Activity::NewInstance => v2::Request::NewInstance(v2::NewInstance {
                order_id: V2_ORDER_ID.into(),
                order_line_id: V2_ORDER_LINE_ID.into(),
                business_id: ids.business_id(),
                test_flag: one(),
            }),
            Activity::QueryInstance => v2::Request::QueryInstance(v2::QueryInstance {
                instance_id: V2_INSTANCE_ID.into(),
                test_flag: one(),
            }),
            Activity::RefreshInstance => v2::Request::RefreshInstance(v2::RefreshInstance {
                scene: v2::scene::ALL[variant % 4].into(),
                order_id: V2_ORDER_ID.into(),
                order_line_id: V2_ORDER_LINE_ID.into(),
                instance_id: V2_INSTANCE_ID.into(),
                product_id: Some(V2_PRODUCT_ID.into()),
                expire_time: v2_expire_time(self.settings, self.expire),
                test_flag: one(),
            }),
            Activity::InstanceStatus => {
                v2::Request::UpdateInstanceStatus(v2::UpdateInstanceStatus {
                    instance_id: V2_INSTANCE_ID.into(),
                    status: [v2::status::FREEZE, v2::status::UNFREEZE][variant % 2].into(),
                    test_flag: one(),
                })
            }
            Activity::ReleaseInstance => v2::Request::ReleaseInstance(v2::ReleaseInstance {
                instance_id: V2_INSTANCE_ID.into(),
                order_id: Some(V2_ORDER_ID.into()),
                order_line_id: Some(V2_ORDER_LINE_ID.into()),
                test_flag: one(),
            }),
            Activity::Upgrade => v2::Request::UpgradeInstance(v2::UpgradeInstance {
                instance_id: V2_INSTANCE_ID.into(),
                order_id: V2_ORDER_ID.into(),
                order_line_id: V2_ORDER_LINE_ID.into(),
                test_flag: one(),
            }),
            Activity::ChangeInstanceCheck => {
                v2::Request::ChangeInstanceCheck(v2::ChangeInstanceCheck {
                    instance_id: V2_INSTANCE_ID.into(),
                    product_info: v2::ProductInfo {
                        product_id: V2_PRODUCT_ID.into(),
                        sku_code: None,
                        linear_value: None,
                    },
                    test_flag: one(),
                })
            }
            other => return self.v2_more(other),
        })
    }

    /// The License and order-notification tabs (License 2.0 debugging page, 订单通知 tab).
    fn v2_more(&self, activity: Activity) -> Option<v2::Request> {
        use crate::protocol::v2::license as l;
        let variant = self.variant;
        Some(match activity {
            Activity::RefreshLicenseCode => {
                v2::Request::RefreshLicenseCode(l::RefreshLicenseCode {
                    scene: [l::scene::RENEWAL, l::scene::UNSUBSCRIBE_RENEWAL_PERIOD][variant % 2]
                        .into(),
                    order_id: V2_ORDER_ID.into(),
                    order_line_id: V2_ORDER_LINE_ID.into(),
                    license: LICENSE_CODE.into(),
                    product_id: Some(V2_PRODUCT_ID.into()),
                    expire_time: self.expire.to_compact_seconds(),
                    test_flag: one(),
                })
            }
            Activity::UpdateLicenseCodeStatus => {
                v2::Request::UpdateLicenseCodeStatus(l::UpdateLicenseCodeStatus {
                    license: LICENSE_CODE.into(),
                    status: [v2::status::FREEZE, v2::status::UNFREEZE][variant % 2].into(),
                    test_flag: one(),
                })
            }
            Activity::ReleaseLicenseCode => {
                v2::Request::ReleaseLicenseCode(l::ReleaseLicenseCode {
                    license: LICENSE_CODE.into(),
                    order_id: None,
                    order_line_id: None,
                    test_flag: one(),
                })
            }
            Activity::GetLicenseAsync => v2::Request::GetLicenseAsync(l::GetLicenseAsync {
                instance_id: V2_INSTANCE_ID.into(),
                effective_time: self.expire.plus_months(-1).to_license_time(),
                expire_time: Some(self.expire.to_license_time()),
                event_id: EVENT_ID.into(),
                device_fingerprint: Some(crate::marketplace::requests::SAMPLE_FINGERPRINT.into()),
                test_flag: one(),
            }),
            Activity::OrderNotify => v2::Request::OrderNotify(l::OrderNotify {
                order_id: V2_ORDER_ID.into(),
                order_line_id: V2_ORDER_LINE_ID.into(),
                test_flag: "1".into(),
            }),
            _ => return None,
        })
    }
}

/// How many distinct cases the debug page requires for an activity: the three trialFlag
/// values of newInstance (V1 §4.1), productId empty/filled × trialToFormal absent/1 of V1
/// refreshInstance (§4.2), the four V2 scenes (V2 §2.3; the online License has the first
/// three, §4.5), FREEZE and NORMAL/UNFREEZE, the License-code scenes and statuses (§4.2).
pub(crate) fn debug_variants(settings: &Settings, activity: Activity) -> usize {
    let online = settings.product == crate::marketplace::kind::ProductType::OnlineLicense;
    match (settings.protocol, activity) {
        (Protocol::V1, Activity::NewInstance) => 3,
        (Protocol::V2, Activity::RefreshInstance) if online => 3,
        (_, Activity::RefreshInstance) => 4,
        (_, Activity::InstanceStatus) => 2,
        (_, Activity::RefreshLicenseCode | Activity::UpdateLicenseCodeStatus) => 2,
        _ => 1,
    }
}
