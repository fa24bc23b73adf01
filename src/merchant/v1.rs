//! The V1 production interface: GET with every parameter in the query string, authenticated
//! by `authToken` (spec: koogallery-saas-v1.md §2.2, §4).

use axum::response::Response;

use crate::merchant::Merchant;
use crate::merchant::faults::Fault;
use crate::merchant::store::{Purchase, Refresh, Reply};
use crate::protocol::encoding::{PlusHandling, parse_query};
use crate::protocol::v1::auth_token::{self, AUTH_TOKEN};
use crate::protocol::v1::extend_params;
use crate::protocol::v1::messages::{Request, status};
use crate::protocol::{BillingMode, ResultCode};

impl Merchant {
    /// Handles one V1 call: verify, parse, apply, answer.
    pub(crate) async fn handle_v1(&self, query: &str) -> Response {
        let reply = match self.v1_reply(query).await {
            Ok(reply) | Err(reply) => reply,
        };
        self.respond(&reply).await
    }

    async fn v1_reply(&self, query: &str) -> Result<Reply, Reply> {
        let params = parse_query(query, PlusHandling::AsSpace)
            .map_err(|_| Reply::Code(ResultCode::InvalidParam))?;
        if !self.faults.has(Fault::SkipAuth) {
            let token = params
                .iter()
                .find(|(n, _)| n == AUTH_TOKEN)
                .map(|(_, v)| v.as_str());
            let pairs: Vec<(&str, &str)> = params
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let valid = token
                .is_some_and(|token| auth_token::verify(&self.key, &pairs, token).unwrap_or(false));
            if !valid {
                return Err(Reply::Code(ResultCode::AuthFailed));
            }
        }
        let request = match Request::from_params(&params) {
            Ok(request) => request,
            Err(_) if self.faults.has(Fault::LenientParams) => {
                return Ok(Reply::Code(ResultCode::Success));
            }
            Err(_) => return Err(Reply::Code(ResultCode::InvalidParam)),
        };
        if let Some(value) = request.extend_params() {
            // Read as the public samples read it: the framework-decoded value is Base64.
            extend_params::decode_received(value)
                .map_err(|_| Reply::Code(ResultCode::InvalidParam))?;
        }
        let debug = request.is_debug();
        let faults = &self.faults;
        Ok(match request {
            Request::NewInstance(new) => {
                let on_demand =
                    new.charging_mode.as_deref() == Some(BillingMode::OnDemand.v1_charging_mode());
                let billing = new.charging_mode.as_deref().and_then(|mode| {
                    BillingMode::ALL
                        .iter()
                        .copied()
                        .find(|b| b.v1_charging_mode() == mode)
                });
                let purchase = Purchase {
                    order_id: new.order_id,
                    item: on_demand.then_some(new.product_id),
                    business_id: new.business_id,
                    on_demand,
                    debug,
                    customer: Some(new.customer_id),
                };
                let reply = self.new_instance(&purchase).await;
                self.follow_up(&reply, &purchase, billing);
                reply
            }
            Request::RefreshInstance(r) => {
                let how = Refresh {
                    unfreezes: true,
                    converts: r.trial_to_formal.as_deref() == Some("1"),
                };
                self.store()
                    .refresh(&r.order_id, &r.instance_id, how, debug, faults)
            }
            Request::ExpireInstance(r) => self.store().expire(&r.instance_id, debug, faults),
            Request::ReleaseInstance(r) => self.store().release(&r.instance_id, debug, faults),
            Request::Upgrade(r) => self
                .store()
                .upgrade(&r.order_id, &r.instance_id, debug, faults),
            Request::InstanceStatus(r) => match r.instance_status.as_str() {
                status::FREEZE => self.store().set_frozen(&r.instance_id, true, debug, faults),
                status::NORMAL => self
                    .store()
                    .set_frozen(&r.instance_id, false, debug, faults),
                _ => Reply::Code(ResultCode::InvalidParam),
            },
            Request::QueryInstance(r) => self.store().query(&r.instance_id, debug, faults),
        })
    }
}
