//! The reference merchant's client side of the marketplace's open APIs (spec:
//! koogallery-v2-kit-license.md §4.3, §6.3, §6.4, §7.2): what a merchant's systems do after a
//! purchase — query the order a V2 newInstance does not describe, push usage for on-demand
//! instances (at once, then hourly) — and what its shipped software does with a License code:
//! activate it once, then check it. Fault switches make it sign wrongly, name the package
//! instead of the on-demand instance, repeat a metering_sn, report from 22 days ago, or
//! activate a code twice.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::merchant::faults::{Fault, Faults};
use crate::merchant::owed::{Busy, Outstanding};
use crate::protocol::open_api::Endpoint;
use crate::protocol::{AccessKey, BillingMode, UnixMillis, apigw, usage_push};

/// Where the open APIs are and how to sign for them.
#[derive(Clone)]
pub(crate) struct OpenApiClientConfig {
    /// `http://127.0.0.1:PORT` or `https://…`.
    pub(crate) base_url: String,
    /// The AK.
    pub(crate) app_key: String,
    /// The SK.
    pub(crate) app_secret: AccessKey,
    /// The CA to trust for HTTPS (kgsim's generated one).
    pub(crate) ca_pem: Option<String>,
    /// The calls owed and not yet made, which the run of an embedded merchant waits on.
    pub(crate) outstanding: Outstanding,
}

/// A purchase the merchant follows up on.
#[derive(Debug, Clone)]
pub(crate) struct FollowUp {
    /// The order.
    pub(crate) order_id: String,
    /// V2: the order line, for query-order.
    pub(crate) order_line_id: Option<String>,
    /// V1: the billing mode from `chargingMode`; V2: learnt from query-order.
    pub(crate) billing: Option<BillingMode>,
    /// The instance the merchant returned.
    pub(crate) instance_id: String,
    /// When the merchant created it (its own clock).
    pub(crate) created: UnixMillis,
}

/// The merchant's open-API client.
pub(crate) struct OpenApiClient {
    config: OpenApiClientConfig,
    key: AccessKey,
    faults: Faults,
    clock: fn() -> UnixMillis,
    http: reqwest::Client,
}

/// Building the HTTP client failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the open-API client: {0}")]
pub(crate) struct ClientError(String);

fn http_client(ca_pem: Option<&str>) -> Result<reqwest::Client, ClientError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in ca_pem
        .map(|pem| CertificateDer::pem_slice_iter(pem.as_bytes()))
        .into_iter()
        .flatten()
    {
        let cert = cert.map_err(|e| ClientError(e.to_string()))?;
        roots.add(cert).map_err(|e| ClientError(e.to_string()))?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ClientError(e.to_string()))
}

/// What query-order tells of an order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderTerms {
    /// How it is billed.
    pub(crate) billing: BillingMode,
    /// When it ends (period products).
    pub(crate) expires: Option<UnixMillis>,
}

impl OpenApiClient {
    pub(crate) fn new(
        config: OpenApiClientConfig,
        key: AccessKey,
        faults: Faults,
        clock: fn() -> UnixMillis,
    ) -> Result<Self, ClientError> {
        let http = http_client(config.ca_pem.as_deref())?;
        Ok(Self {
            config,
            key,
            faults,
            clock,
            http,
        })
    }

    /// Sends an APIGW-signed JSON call; returns the JSON answer.
    async fn signed(&self, endpoint: &Endpoint, query: &str, body: &str) -> Option<Value> {
        self.signed_as(endpoint, query, body, "application/json")
            .await
    }

    /// Sends an APIGW-signed call with a body of `content_type`; returns the JSON answer.
    async fn signed_as(
        &self,
        endpoint: &Endpoint,
        query: &str,
        body: &str,
        content_type: &str,
    ) -> Option<Value> {
        let path = endpoint.path();
        let url = if query.is_empty() {
            format!("{}{path}", self.config.base_url)
        } else {
            format!("{}{path}?{query}", self.config.base_url)
        };
        let host = self
            .config
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let date = (self.clock)().to_basic_iso();
        let headers = [
            ("Host", host.as_str()),
            (apigw::X_SDK_DATE, date.as_str()),
            ("Content-Type", content_type),
        ];
        let secret = if self.faults.has(Fault::WrongApigwSignature) {
            AccessKey::new("not-the-merchants-sk")
        } else {
            self.config.app_secret.clone()
        };
        let request = apigw::Request {
            method: endpoint.method(),
            url: &url,
            headers: &headers,
            body: body.as_bytes(),
        };
        let signed = apigw::sign(&self.config.app_key, &secret, &request).ok()?;
        let response = self
            .http
            .request(endpoint.method().parse().ok()?, &url)
            .header(apigw::X_SDK_DATE, &date)
            .header("Content-Type", content_type)
            .header("Authorization", signed.authorization)
            .body(body.to_owned())
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// Follows a purchase up: query-order (V2), then usage for on-demand instances.
    /// What is owed now is the query and the first push: `owed` is dropped after them,
    /// and the hourly pushes that follow are the merchant's own schedule.
    pub(crate) async fn follow_up(self: Arc<Self>, purchase: FollowUp, owed: Busy) {
        let billing = match purchase.billing {
            Some(billing) => Some(billing),
            None if self.faults.has(Fault::NoQueryOrder) => None,
            None => self.billing_of(&purchase).await,
        };
        let push_for = match billing {
            Some(BillingMode::OnDemand) => true,
            Some(BillingMode::Package) => self.faults.has(Fault::PackageIdAsInstanceId),
            _ => false,
        };
        if !push_for {
            return;
        }
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        let mut from = purchase.created;
        let mut owed = Some(owed);
        loop {
            hourly.tick().await;
            let to = (self.clock)();
            self.push_usage(&purchase.instance_id, from, to).await;
            owed.take();
            from = to;
        }
    }

    async fn billing_of(&self, purchase: &FollowUp) -> Option<BillingMode> {
        let line = purchase.order_line_id.as_deref().unwrap_or_default();
        self.query_order(&purchase.order_id, line)
            .await
            .map(|line| line.billing)
    }

    /// Query-order (§6.3): what the order's first line is billed by, and until when.
    pub(crate) async fn query_order(&self, order_id: &str, line: &str) -> Option<OrderTerms> {
        let query = format!("orderId={order_id}&orderLineId={line}");
        let answer = self.signed(&Endpoint::QueryOrder, &query, "").await?;
        let line = &answer["orderInfo"]["orderLine"][0];
        let mode = line["chargingMode"].as_str()?;
        let billing = BillingMode::ALL
            .iter()
            .copied()
            .find(|b| b.order_api_name() == mode)?;
        let expires = line["expireTime"]
            .as_str()
            .and_then(|t| UnixMillis::parse_compact(t).ok());
        Some(OrderTerms { billing, expires })
    }

    /// An obligation to call about `subject` (an order, a License code, an upload event),
    /// open until the returned guard is dropped: taken before the merchant answers the
    /// request that obliges it.
    pub(crate) fn owe(&self, subject: &str) -> Busy {
        self.config.outstanding.begin(subject)
    }

    /// Uploads a License as characters for a marketplace event (§4.6), as
    /// `multipart/form-data` with the `isvUpdateFileReq` part.
    pub(crate) async fn upload_license(
        self: Arc<Self>,
        event_id: String,
        license: String,
        owed: Busy,
    ) {
        let boundary = format!("kgsim{}", hex::encode(rand::random::<[u8; 8]>()));
        let request = json!({"type": "CHARACTERS", "characters": license}).to_string();
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"isvUpdateFileReq\"\r\nContent-Type: application/json\r\n\r\n{request}\r\n--{boundary}--\r\n"
        );
        let endpoint = Endpoint::Upload { event_id };
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let _ = self.signed_as(&endpoint, "", &body, &content_type).await;
        drop(owed);
    }

    /// The identity centre's token endpoint (§3.9): the access token for a login code.
    pub(crate) async fn exchange_code(
        &self,
        domain: &str,
        form: &[(&str, &str)],
    ) -> Option<String> {
        let body: String = form
            .iter()
            .map(|(n, v)| {
                format!(
                    "{n}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let url = format!("{domain}{}", crate::protocol::identity::TOKEN_PATH);
        let answer: Value = self
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        answer["access_token"].as_str().map(str::to_owned)
    }

    /// The identity centre's userinfo (§3.9): the user an access token stands for.
    pub(crate) async fn userinfo(&self, domain: &str, token: &str) -> Option<Value> {
        let url = format!("{domain}{}", crate::protocol::identity::USERINFO_PATH);
        let response = self
            .http
            .get(url)
            .header("Accept", "application/json")
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// CAS serviceValidate (§3.9): the user a ticket stands for.
    pub(crate) async fn validate_ticket(
        &self,
        domain: &str,
        service: &str,
        ticket: &str,
    ) -> Option<String> {
        let escape = |v: &str| {
            percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let url = format!(
            "{domain}{}?service={}&ticket={}&format=XML",
            crate::protocol::identity::CAS_VALIDATE_PATH,
            escape(service),
            escape(ticket)
        );
        let text = self.http.get(url).send().await.ok()?.text().await.ok()?;
        crate::protocol::identity::cas_user(&text)
    }

    /// One usage push for `[from, to]`, signed with the access key (§7.2).
    async fn push_usage(&self, instance_id: &str, from: UnixMillis, to: UnixMillis) {
        let from = if self.faults.has(Fault::OldBeginTime) {
            to.plus_ms(-22 * 86_400_000)
        } else {
            from
        };
        let random: [u8; 8] = rand::random();
        let serial = format!("sn-{}", hex::encode(random));
        let record = json!({
            "instance_id": instance_id,
            "record_time": to.to_basic_iso(),
            "begin_time": from.to_basic_iso(),
            "end_time": to.to_basic_iso(),
            "usage_value": "1.5",
            "metering_sn": serial,
        });
        // Under the fault the same record id goes out twice (a retry that reuses it).
        let records = if self.faults.has(Fault::DuplicateMeteringSn) {
            vec![record.clone(), record]
        } else {
            vec![record]
        };
        let body = json!({ "usage_records": records });
        let Ok(canonical) = usage_push::canonical_body(body.to_string().as_bytes()) else {
            return;
        };
        let ts = (self.clock)().0.to_string();
        let random: [u8; 16] = rand::random();
        let nonce = hex::encode(random);
        let signature = usage_push::signature(&self.key, &ts, &nonce, &canonical);
        let url = format!("{}{}", self.config.base_url, Endpoint::UsagePush.path());
        let _ = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("ts", ts)
            .header("nonce", nonce)
            .header("signature", signature)
            .body(canonical)
            .send()
            .await;
    }

    /// The shipped software was given a License code: activate it (once — or twice under the
    /// fault), then check it with a heartbeat.
    pub(crate) async fn use_license(self: Arc<Self>, code: String, owed: Busy) {
        let body = json!({ "license": code }).to_string();
        let _ = self.signed(&Endpoint::ActivateV1, "", &body).await;
        if self.faults.has(Fault::ActivateTwice) {
            let _ = self.signed(&Endpoint::ActivateV1, "", &body).await;
        }
        let _ = self.signed(&Endpoint::HeartbeatV1, "", &body).await;
        drop(owed);
    }
}
