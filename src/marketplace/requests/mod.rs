//! Building the request the marketplace sends for each business event, in either protocol,
//! from the simulated order and instance (spec: koogallery-saas-v1.md §4,
//! koogallery-v2-kit-license.md §2).
//!
//! Requests are typed and unsigned: `timeStamp`/`timestamp` and signatures are added by the
//! runner with the wall clock at the moment of sending.

use crate::marketplace::ids::Ids;
use crate::marketplace::lifecycle::{Instance, OrderId};
use crate::marketplace::settings::Settings;
use crate::protocol::v1::extend_params::ExtendParam;
use crate::protocol::v1::{crypto, extend_params, messages as v1};
use crate::protocol::v2::messages as v2;
use crate::protocol::{Activity, BillingMode, Period, Protocol, Request, UnixMillis};

/// The product's extension parameters for an order: a parameter configured without a value
/// is one the buyer types in, and gets production-like free text (`&`, `=`, `<`, a URL …).
fn buyer_entered(settings: &Settings) -> Vec<ExtendParam> {
    settings
        .extend_params
        .iter()
        .enumerate()
        .map(|(index, param)| ExtendParam {
            name: param.name.clone(),
            value: if param.value.is_empty() {
                crate::marketplace::sample::free_text(settings.wire.stable_seed, index as u64)
            } else {
                param.value.clone()
            },
        })
        .collect()
}

/// The simulated buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Buyer {
    /// `customerId`.
    pub(crate) customer_id: String,
    /// `customerName`.
    pub(crate) customer_name: String,
    /// Mobile number (sent encrypted).
    pub(crate) mobile_phone: String,
    /// E-mail (sent encrypted).
    pub(crate) email: String,
}

/// Why an instance is being refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// A renewal for a period.
    Renewal(Period),
    /// Trial to formal for a period.
    TrialToFormal(Period),
    /// Refund of an unstarted renewal period: the expiry goes back.
    RenewalRefund,
}

pub(crate) fn flag(debug: bool) -> Option<String> {
    debug.then(|| "1".to_owned())
}

pub(crate) fn v2_expire_time(settings: &Settings, at: UnixMillis) -> String {
    if settings.v2_expire_time_millis {
        at.to_v1_timestamp()
    } else {
        at.to_compact_seconds()
    }
}

pub(crate) mod debug;
mod license;
mod notify;

pub(crate) use debug::{debug_request, debug_variants};
pub(crate) use notify::{SAMPLE_FINGERPRINT, get_license_async, order_notify};

/// Whether notices go to the License-code interfaces rather than the instance ones.
fn codes(settings: &Settings) -> bool {
    settings.product == crate::marketplace::kind::ProductType::LicenseCode
}

/// newInstance for one instance of an order.
pub(crate) fn new_instance(
    settings: &Settings,
    ids: &mut Ids,
    buyer: &Buyer,
    instance: &Instance,
) -> Request {
    match settings.protocol {
        Protocol::V1 => {
            let encrypt = |ids: &mut Ids, plain: &str| {
                crypto::encrypt(
                    &settings.access_key,
                    settings.encrypt_type,
                    &ids.iv(),
                    plain,
                )
            };
            let (mobile_phone, email) = if settings.encrypt_contacts {
                (
                    Some(encrypt(ids, &buyer.mobile_phone)),
                    Some(encrypt(ids, &buyer.email)),
                )
            } else {
                (None, None)
            };
            let extend = (!settings.extend_params.is_empty()).then(|| {
                let params = buyer_entered(settings);
                extend_params::encode(&params, settings.extend_params_encoding)
            });
            Request::V1(v1::Request::NewInstance(Box::new(v1::NewInstance {
                customer_id: buyer.customer_id.clone(),
                customer_name: Some(buyer.customer_name.clone()),
                mobile_phone,
                email,
                business_id: ids.business_id(),
                order_id: instance.order.0.clone(),
                sku_code: instance.sku_code.clone(),
                product_id: instance.product_id.clone(),
                trial_flag: Some(if instance.trial { "1" } else { "0" }.to_owned()),
                expire_time: instance.expire_at.map(UnixMillis::to_compact_seconds),
                charging_mode: Some(instance.billing.v1_charging_mode().to_owned()),
                saas_extend_params: extend,
                ..Default::default()
            })))
        }
        Protocol::V2 => Request::V2(v2::Request::NewInstance(v2::NewInstance {
            order_id: instance.order.0.clone(),
            order_line_id: instance.order_line.clone(),
            business_id: ids.business_id(),
            test_flag: None,
        })),
    }
}

/// Turns a purchase into the same purchase by the same buyer under another order (load
/// mode): contacts stay encrypted as they were; orderId, orderLineId and businessId are new.
pub(crate) fn renumber(request: &mut Request, order: &str, order_line: &str, ids: &mut Ids) {
    match request {
        Request::V1(v1::Request::NewInstance(inner)) => {
            order.clone_into(&mut inner.order_id);
            inner.business_id = ids.business_id();
        }
        Request::V2(v2::Request::NewInstance(inner)) => {
            order.clone_into(&mut inner.order_id);
            order_line.clone_into(&mut inner.order_line_id);
            inner.business_id = ids.business_id();
        }
        _ => {}
    }
}

/// A fresh businessId for a resend or a retry of newInstance ("different on every request").
pub(crate) fn with_new_business_id(request: &Request, ids: &mut Ids) -> Request {
    let mut request = request.clone();
    match &mut request {
        Request::V1(v1::Request::NewInstance(inner)) => inner.business_id = ids.business_id(),
        Request::V2(v2::Request::NewInstance(inner)) => inner.business_id = ids.business_id(),
        _ => {}
    }
    request
}

/// refreshInstance: renewal, trial to formal, or refund of a renewal period.
pub(crate) fn refresh(
    settings: &Settings,
    instance: &Instance,
    order: &OrderId,
    why: Refresh,
    new_expiry: UnixMillis,
) -> Request {
    if codes(settings) {
        return license::refresh(instance, order, why, new_expiry);
    }
    let instance_id = instance.merchant_id.clone().unwrap_or_default();
    match settings.protocol {
        Protocol::V1 => {
            let (trial_to_formal, period, amount) = match why {
                Refresh::Renewal(period) => (None, Some(period), "100"),
                Refresh::TrialToFormal(period) => (Some("1".to_owned()), Some(period), "100"),
                // 退续费: a negative orderAmount (V1 §4.2).
                Refresh::RenewalRefund => (None, None, "-100"),
            };
            // periodType and periodNumber only for chargingMode=1 (V1 §4.2).
            let period = period.filter(|_| instance.billing == BillingMode::Period);
            Request::V1(v1::Request::RefreshInstance(v1::RefreshInstance {
                order_id: order.0.clone(),
                instance_id,
                product_id: Some(instance.product_id.clone()),
                expire_time: new_expiry.to_compact_seconds(),
                trial_to_formal,
                period_type: period.map(|p| p.v1_period_type().to_owned()),
                period_number: period.map(|p| p.count.to_string()),
                order_amount: Some(amount.to_owned()),
                test_flag: None,
            }))
        }
        Protocol::V2 => {
            let scene = match why {
                Refresh::Renewal(_) => v2::scene::RENEWAL,
                Refresh::TrialToFormal(_) => v2::scene::TRIAL_TO_FORMAL,
                Refresh::RenewalRefund => v2::scene::UNSUBSCRIBE_RENEWAL_PERIOD,
            };
            Request::V2(v2::Request::RefreshInstance(v2::RefreshInstance {
                scene: scene.to_owned(),
                order_id: order.0.clone(),
                order_line_id: format!("{order}-000001"),
                instance_id,
                product_id: Some(instance.product_id.clone()),
                expire_time: v2_expire_time(settings, new_expiry),
                test_flag: None,
            }))
        }
    }
}

/// The freeze notice at the end of a period: V1 expireInstance for yearly/monthly,
/// V1 instanceStatus FREEZE for packages, V2 updateInstanceStatus FREEZE.
pub(crate) fn period_end(settings: &Settings, instance: &Instance) -> Request {
    match (settings.protocol, instance.billing) {
        (Protocol::V1, BillingMode::Package) => status(settings, instance, true),
        (Protocol::V1, _) => Request::V1(v1::Request::ExpireInstance(v1::ExpireInstance {
            instance_id: instance.merchant_id.clone().unwrap_or_default(),
            order_id: settings
                .v1_order_id_on_expire_release
                .then(|| instance.order.0.clone()),
            test_flag: None,
        })),
        (Protocol::V2, _) => status(settings, instance, true),
    }
}

/// V1 expireInstance (orderId only when the profile asks, spec V1 §4.3).
fn v1_expire(settings: &Settings, instance: &Instance) -> Request {
    Request::V1(v1::Request::ExpireInstance(v1::ExpireInstance {
        instance_id: instance.merchant_id.clone().unwrap_or_default(),
        order_id: settings
            .v1_order_id_on_expire_release
            .then(|| instance.order.0.clone()),
        test_flag: None,
    }))
}

/// Freeze or unfreeze: V1 instanceStatus FREEZE/NORMAL, V2 updateInstanceStatus FREEZE/UNFREEZE.
pub(crate) fn status(settings: &Settings, instance: &Instance, freeze: bool) -> Request {
    if codes(settings) {
        return license::status(instance, freeze);
    }
    let instance_id = instance.merchant_id.clone().unwrap_or_default();
    match settings.protocol {
        Protocol::V1 => Request::V1(v1::Request::InstanceStatus(v1::InstanceStatus {
            instance_id,
            instance_status: if freeze {
                v1::status::FREEZE
            } else {
                v1::status::NORMAL
            }
            .to_owned(),
            test_flag: None,
        })),
        Protocol::V2 => Request::V2(v2::Request::UpdateInstanceStatus(
            v2::UpdateInstanceStatus {
                instance_id,
                status: if freeze {
                    v2::status::FREEZE
                } else {
                    v2::status::UNFREEZE
                }
                .to_owned(),
                test_flag: None,
            },
        )),
    }
}

/// releaseInstance, after retention or for an unsubscription order.
pub(crate) fn release(
    settings: &Settings,
    instance: &Instance,
    unsubscribe: Option<&OrderId>,
) -> Request {
    if codes(settings) {
        return license::release(instance, unsubscribe);
    }
    let instance_id = instance.merchant_id.clone().unwrap_or_default();
    match settings.protocol {
        Protocol::V1 => Request::V1(v1::Request::ReleaseInstance(v1::ReleaseInstance {
            instance_id,
            order_id: settings
                .v1_order_id_on_expire_release
                .then(|| instance.order.0.clone()),
            order_amount: None,
            test_flag: None,
        })),
        Protocol::V2 => Request::V2(v2::Request::ReleaseInstance(v2::ReleaseInstance {
            instance_id,
            order_id: unsubscribe.map(|o| o.0.clone()),
            order_line_id: unsubscribe.map(|o| format!("{o}-000001")),
            test_flag: None,
        })),
    }
}

/// upgrade / upgradeInstance for an upgrade order.
pub(crate) fn upgrade(settings: &Settings, instance: &Instance, order: &OrderId) -> Request {
    let instance_id = instance.merchant_id.clone().unwrap_or_default();
    match settings.protocol {
        Protocol::V1 => Request::V1(v1::Request::Upgrade(v1::Upgrade {
            instance_id,
            order_id: order.0.clone(),
            sku_code: settings.catalog.upgrade_sku_code.clone(),
            product_id: settings.catalog.upgrade_product_id.clone(),
            amount: Some("20".to_owned()),
            ..Default::default()
        })),
        Protocol::V2 => Request::V2(v2::Request::UpgradeInstance(v2::UpgradeInstance {
            instance_id,
            order_id: order.0.clone(),
            order_line_id: format!("{order}-000001"),
            test_flag: None,
        })),
    }
}

/// queryInstance for a batch of instance ids (comma-separated, up to 100).
pub(crate) fn query(settings: &Settings, instance_ids: &[String], debug: bool) -> Request {
    let instance_id = instance_ids.join(",");
    match settings.protocol {
        Protocol::V1 => Request::V1(v1::Request::QueryInstance(v1::QueryInstance {
            instance_id,
            test_flag: flag(debug),
        })),
        Protocol::V2 => Request::V2(v2::Request::QueryInstance(v2::QueryInstance {
            instance_id,
            test_flag: flag(debug),
        })),
    }
}

/// changeInstanceCheck (V2 only): may this instance change to the upgrade product at renewal?
pub(crate) fn change_check(settings: &Settings, instance: &Instance) -> Option<Request> {
    (settings.protocol == Protocol::V2).then(|| {
        Request::V2(v2::Request::ChangeInstanceCheck(v2::ChangeInstanceCheck {
            instance_id: instance.merchant_id.clone().unwrap_or_default(),
            product_info: v2::ProductInfo {
                product_id: settings.catalog.upgrade_product_id.clone(),
                sku_code: Some(settings.catalog.upgrade_sku_code.clone()),
                linear_value: None,
            },
            test_flag: None,
        }))
    })
}

/// A typical request for `activity` about an instance, made outside the lifecycle (a
/// scenario's `send` step) at `now`: the marketplace's state does not change.
pub(crate) fn about(
    settings: &Settings,
    ids: &mut Ids,
    now: UnixMillis,
    buyer: &Buyer,
    activity: Activity,
    instance: &Instance,
) -> Option<Request> {
    let next_month = instance
        .expire_at
        .map_or_else(|| now.plus_months(1), |at| at.plus_months(1));
    Some(match activity {
        Activity::NewInstance => new_instance(settings, ids, buyer, instance),
        Activity::RefreshInstance => refresh(
            settings,
            instance,
            &ids.order_id(),
            Refresh::Renewal(Period::ONE_MONTH),
            next_month,
        ),
        Activity::ExpireInstance => match settings.protocol {
            Protocol::V1 => v1_expire(settings, instance),
            Protocol::V2 => return None,
        },
        Activity::ReleaseInstance => release(settings, instance, None),
        Activity::Upgrade => upgrade(settings, instance, &ids.order_id()),
        Activity::InstanceStatus => status(settings, instance, true),
        Activity::QueryInstance => query(
            settings,
            &[instance.merchant_id.clone().unwrap_or_default()],
            false,
        ),
        Activity::ChangeInstanceCheck => return change_check(settings, instance),
        Activity::RefreshLicenseCode => license::refresh(
            instance,
            &ids.order_id(),
            Refresh::Renewal(Period::ONE_MONTH),
            next_month,
        ),
        Activity::UpdateLicenseCodeStatus => license::status(instance, true),
        Activity::ReleaseLicenseCode => license::release(instance, None),
        Activity::GetLicenseAsync => {
            get_license_async(instance, now, ids.business_id(), Some(SAMPLE_FINGERPRINT))
        }
        Activity::OrderNotify => order_notify(&instance.order),
        _ => return None,
    })
}
