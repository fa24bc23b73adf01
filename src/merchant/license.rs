//! The reference merchant's License interfaces and order notification (spec:
//! koogallery-v2-kit-license.md §4.2, §4.5, §5).
//!
//! - License 2.0: the merchant knows the codes its shipped software activated; renewals,
//!   freezes and releases of those are applied idempotently, an unknown code is 000003 on
//!   real traffic (debug traffic always succeeds, §8.1).
//! - Online License: an application for a known instance gets a License derived from the
//!   instance, the event and the device fingerprint — so the same application always gets
//!   the same License — uploaded as characters under the event (§4.6); a period instance
//!   without `expireTime` is 000902, an application without a device 000903, one past the
//!   order's validity 000901, a second device beyond the order's one License 000900.
//! - Order notification: answered at once, then the order is queried (§5).

use std::collections::{HashMap, HashSet};

use sha2::{Digest as _, Sha256};

use crate::merchant::Merchant;
use crate::merchant::client::OrderTerms;
use crate::merchant::faults::Fault;
use crate::merchant::store::Reply;
use crate::protocol::v2::license::{
    GetLicenseAsync, OrderNotify, RefreshLicenseCode, ReleaseLicenseCode, UpdateLicenseCodeStatus,
};
use crate::protocol::v2::messages::status;
use crate::protocol::{BillingMode, ResultCode, UnixMillis};

/// Licenses one order grants: the reference product sells one device per order.
const LICENSES_PER_ORDER: usize = 1;

/// A License code the software activated.
#[derive(Debug, Clone, Default)]
struct Code {
    expire_time: Option<String>,
    frozen: bool,
    released: bool,
}

/// What the License interfaces keep.
#[derive(Debug, Default)]
pub(crate) struct LicenseStore {
    codes: HashMap<String, Code>,
    /// Refresh orders applied (order + scene), for idempotency.
    refreshed: HashSet<String>,
    /// Instances whose terms query-order told (a one-time License has no expiry).
    terms: HashMap<String, OrderTerms>,
    /// The devices holding each instance's Licenses.
    devices: HashMap<String, HashSet<String>>,
    /// Applications answered, for idempotency under the fresh-each-time fault's contrast.
    issued: u64,
}

impl LicenseStore {
    /// The shipped software activated a code: the merchant knows it from now on.
    pub(crate) fn learn_code(&mut self, code: &str) {
        self.codes.entry(code.to_owned()).or_default();
    }

    /// What query-order said of an instance's order.
    fn learn_terms(&mut self, instance_id: &str, terms: OrderTerms) {
        self.terms.insert(instance_id.to_owned(), terms);
    }

    /// The code, `Ok(None)` for an unknown one that still succeeds (debug, or the fault).
    fn code(
        &mut self,
        license: &str,
        debug: bool,
        unknown_ok: bool,
    ) -> Result<Option<&mut Code>, Reply> {
        match self.codes.get_mut(license) {
            Some(code) if !code.released => Ok(Some(code)),
            // A released code stays released: a repeated release succeeds (idempotency).
            Some(_) => Ok(None),
            None if debug || unknown_ok => Ok(None),
            None => Err(Reply::Code(ResultCode::InstanceNotFound)),
        }
    }
}

/// A License for an application, derived from what identifies it (§4.5: the same request
/// yields the same License).
fn license_text(instance: &str, event: &str, fingerprint: &str, salt: u64) -> String {
    let digest = Sha256::digest(format!("{instance}|{event}|{fingerprint}|{salt}").as_bytes());
    format!("LIC-{}", &hex::encode(digest)[..40])
}

impl Merchant {
    fn unknown_ok(&self) -> bool {
        self.faults.has(Fault::LicenseUnknownOk)
    }

    /// refreshLicenseCode: the new expiry, once per order and scene.
    pub(crate) fn refresh_license_code(&self, r: &RefreshLicenseCode, debug: bool) -> Reply {
        let mut store = self.licenses();
        let key = format!("{}/{}", r.order_id, r.scene);
        let first = store.refreshed.insert(key);
        match store.code(&r.license, debug, self.unknown_ok()) {
            Err(reply) => reply,
            Ok(Some(code)) if first => {
                code.expire_time = Some(r.expire_time.clone());
                Reply::Code(ResultCode::Success)
            }
            Ok(_) => Reply::Code(ResultCode::Success),
        }
    }

    /// updateLicenseCodeStatus FREEZE / UNFREEZE.
    pub(crate) fn license_code_status(&self, r: &UpdateLicenseCodeStatus, debug: bool) -> Reply {
        let frozen = match r.status.as_str() {
            status::FREEZE => true,
            status::UNFREEZE => false,
            _ => return Reply::Code(ResultCode::InvalidParam),
        };
        match self.licenses().code(&r.license, debug, self.unknown_ok()) {
            Err(reply) => reply,
            Ok(code) => {
                if let Some(code) = code {
                    code.frozen = frozen;
                }
                Reply::Code(ResultCode::Success)
            }
        }
    }

    /// releaseLicenseCode.
    pub(crate) fn release_license_code(&self, r: &ReleaseLicenseCode, debug: bool) -> Reply {
        match self.licenses().code(&r.license, debug, self.unknown_ok()) {
            Err(reply) => reply,
            Ok(code) => {
                if let Some(code) = code {
                    code.released = true;
                }
                Reply::Code(ResultCode::Success)
            }
        }
    }

    /// An instance's order terms: known from an earlier query-order, or asked now.
    async fn terms_of(&self, instance_id: &str) -> Option<OrderTerms> {
        if let Some(known) = self.licenses().terms.get(instance_id).copied() {
            return Some(known);
        }
        let (order, line) = self.store().order_of(instance_id)?;
        let terms = self
            .open_api
            .as_ref()?
            .query_order(&order, line.as_deref().unwrap_or_default())
            .await?;
        self.licenses().learn_terms(instance_id, terms);
        Some(terms)
    }

    /// The result code an application gets before any License is made, if it is refused:
    /// no expiry for a period License (000902), no device (000903), an expiry past the
    /// order's (000901), a new device beyond the order's one License (000900) (spec V2 §4.5).
    fn license_refusal(
        &self,
        r: &GetLicenseAsync,
        terms: Option<OrderTerms>,
    ) -> Option<ResultCode> {
        let period = terms.is_none_or(|t| t.billing != BillingMode::OneTime);
        if period && r.expire_time.is_none() && !self.faults.has(Fault::LicenseNoExpiryCheck) {
            return Some(ResultCode::LicenseExpiryRequired);
        }
        let fingerprint = r.device_fingerprint.as_deref().unwrap_or_default();
        if fingerprint.is_empty() {
            return Some(ResultCode::LicenseFingerprintRequired);
        }
        let asked = r
            .expire_time
            .as_deref()
            .and_then(|t| UnixMillis::parse_license_time(t).ok());
        let ends = terms.and_then(|t| t.expires);
        if let (Some(asked), Some(ends)) = (asked, ends) {
            if asked > ends {
                return Some(ResultCode::LicenseOutsideValidity);
            }
        }
        let mut store = self.licenses();
        let devices = store.devices.entry(r.instance_id.clone()).or_default();
        if !devices.contains(fingerprint) && devices.len() >= LICENSES_PER_ORDER {
            return Some(ResultCode::LicenseQuotaInsufficient);
        }
        devices.insert(fingerprint.to_owned());
        None
    }

    /// getLicenseAsync: check, answer, and upload the License in the background.
    pub(crate) async fn get_license_async(&self, r: &GetLicenseAsync, debug: bool) -> Reply {
        if debug {
            return Reply::Code(ResultCode::Success);
        }
        if !self.store().knows(&r.instance_id) {
            return Reply::Code(ResultCode::InstanceNotFound);
        }
        let terms = self.terms_of(&r.instance_id).await;
        if let Some(code) = self.license_refusal(r, terms) {
            return Reply::Code(code);
        }
        let salt = if self.faults.has(Fault::LicenseFreshEachTime) {
            let mut store = self.licenses();
            store.issued += 1;
            store.issued
        } else {
            0
        };
        let fingerprint = r.device_fingerprint.as_deref().unwrap_or_default();
        let license = license_text(&r.instance_id, &r.event_id, fingerprint, salt);
        if let (Some(open_api), false) = (&self.open_api, self.faults.has(Fault::LicenseNoUpload)) {
            let owed = open_api.owe(&r.event_id);
            tokio::spawn(
                open_api
                    .clone()
                    .upload_license(r.event_id.clone(), license, owed),
            );
        }
        Reply::Code(ResultCode::Success)
    }

    /// orderNotify: answered at once; the order is then queried (§5) — not for a debug
    /// notification, whose order is the console's made-up one.
    pub(crate) fn order_notify(&self, r: &OrderNotify, debug: bool) -> Reply {
        let query = !debug && !self.faults.has(Fault::NotifyNoQuery);
        if let (Some(open_api), true) = (&self.open_api, query) {
            let open_api = open_api.clone();
            let (order, line) = (r.order_id.clone(), r.order_line_id.clone());
            let owed = open_api.owe(&order);
            tokio::spawn(async move {
                let _ = open_api.query_order(&order, &line).await;
                drop(owed);
            });
        }
        Reply::Code(ResultCode::Success)
    }
}
