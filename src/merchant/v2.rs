//! The V2 production interface: POST JSON, signed in the query string, with a 60 s freshness
//! window (spec: koogallery-v2-kit-license.md §1.3, §2).
//!
//! Error mapping as in Huawei's sample: missing or stale timestamp, missing nonce → 000002;
//! missing or wrong signature → 000001.

use axum::response::Response;

use crate::merchant::Merchant;
use crate::merchant::faults::Fault;
use crate::merchant::store::{Purchase, Refresh, Reply};
use crate::protocol::ResultCode;
use crate::protocol::encoding::{PlusHandling, parse_query};
use crate::protocol::v2::messages::{Request, status};
use crate::protocol::v2::signature::{self, NONCE, SIGNATURE, TIMESTAMP};

/// The interface type a body's `activity` belongs to (read before the signature is checked,
/// to pick the key); none for an activity the merchant does not know.
fn interface_of(body: &[u8]) -> Option<crate::protocol::InterfaceType> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["activity"].as_str().and_then(|name| {
                crate::protocol::Activity::from_wire(crate::protocol::Protocol::V2, name)
            })
        })
        .map(crate::protocol::Activity::interface_type)
}

impl Merchant {
    /// Handles one V2 call: verify, parse, apply, answer.
    pub(crate) async fn handle_v2(&self, query: &str, body: &[u8]) -> Response {
        let reply = match self.v2_reply(query, body).await {
            Ok(reply) | Err(reply) => reply,
        };
        self.respond(&reply).await
    }

    /// Checks the request's freshness, signature and nonce (V2 §1.2) with the key of
    /// its interface type.
    fn authenticate<'a>(
        &self,
        get: &impl Fn(&str) -> Option<&'a str>,
        body: &[u8],
    ) -> Result<(), Reply> {
        let invalid = || Reply::Code(ResultCode::InvalidParam);
        let (Some(timestamp), Some(nonce)) = (get(TIMESTAMP), get(NONCE)) else {
            return Err(invalid());
        };
        if !self.faults.has(Fault::AcceptStale) {
            signature::check_freshness(timestamp, (self.clock)(), self.freshness)
                .map_err(|_| invalid())?;
        }
        // The key bound to the call's interface type: License codes and the order
        // notification have keys of their own (§1.2).
        // An activity it does not know names no key: any key bound to this address will
        // do, so that it can answer 000002 as the docs require.
        use crate::protocol::InterfaceType;
        let keys: Vec<_> = match interface_of(body) {
            Some(interface) => vec![self.key_for(interface)],
            None => [
                InterfaceType::Basic,
                InterfaceType::LicenseCode,
                InterfaceType::Notify,
            ]
            .into_iter()
            .map(|t| self.key_for(t))
            .collect(),
        };
        let valid = keys.into_iter().any(|key| {
            get(SIGNATURE).is_some_and(|sig| {
                if self.faults.has(Fault::RawBodySign) {
                    // The bytes as received, not their canonical form.
                    let raw = String::from_utf8_lossy(body);
                    signature::hex_eq_ignore_case(
                        &signature::signature(key, nonce, timestamp, &raw),
                        sig,
                    )
                } else {
                    signature::verify(key, nonce, timestamp, body, sig)
                }
            })
        });
        if !valid {
            return Err(Reply::Code(ResultCode::AuthFailed));
        }
        if !self.fresh_nonce(nonce) {
            // A replay of a request already taken.
            return Err(invalid());
        }
        Ok(())
    }

    async fn v2_reply(&self, query: &str, body: &[u8]) -> Result<Reply, Reply> {
        let invalid = || Reply::Code(ResultCode::InvalidParam);
        let params = parse_query(query, PlusHandling::AsSpace).map_err(|_| invalid())?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if !self.faults.has(Fault::SkipAuth) {
            self.authenticate(&get, body)?;
        }
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
        let request = match Request::from_body(&value) {
            Ok(request) => request,
            Err(_) if self.faults.has(Fault::LenientParams) => {
                return Ok(Reply::Code(ResultCode::Success));
            }
            Err(_) => return Err(invalid()),
        };
        let debug = request.is_debug();
        let faults = &self.faults;
        Ok(match request {
            Request::NewInstance(new) => {
                let purchase = Purchase {
                    order_id: new.order_id,
                    item: Some(new.order_line_id),
                    business_id: new.business_id,
                    on_demand: false,
                    debug,
                    customer: None,
                };
                let reply = self.new_instance(&purchase).await;
                self.follow_up(&reply, &purchase, None);
                reply
            }
            Request::QueryInstance(r) => self.store().query(&r.instance_id, debug, faults),
            // The refund of a renewal period reuses the renewal's orderId (V2 §2.3), so
            // idempotency is per order and scene.
            Request::RefreshInstance(r) => self.store().refresh(
                &format!("{}/{}", r.order_id, r.scene),
                &r.instance_id,
                Refresh::default(),
                debug,
                faults,
            ),
            Request::UpdateInstanceStatus(r) => match r.status.as_str() {
                status::FREEZE => self.store().set_frozen(&r.instance_id, true, debug, faults),
                status::UNFREEZE => self
                    .store()
                    .set_frozen(&r.instance_id, false, debug, faults),
                _ => invalid(),
            },
            Request::ReleaseInstance(r) => self.store().release(&r.instance_id, debug, faults),
            Request::UpgradeInstance(r) => {
                self.store()
                    .upgrade(&r.order_id, &r.instance_id, debug, faults)
            }
            Request::ChangeInstanceCheck(r) => {
                self.store().change_check(&r.instance_id, debug, faults)
            }
            Request::RefreshLicenseCode(r) => self.refresh_license_code(&r, debug),
            Request::UpdateLicenseCodeStatus(r) => self.license_code_status(&r, debug),
            Request::ReleaseLicenseCode(r) => self.release_license_code(&r, debug),
            Request::GetLicenseAsync(r) => self.get_license_async(&r, debug).await,
            Request::OrderNotify(r) => self.order_notify(&r, debug),
        })
    }
}
