//! The independent merchant's client side of the open APIs, written from the spec with its
//! own signers (tests/it/independent.rs): after a purchase it queries the order (V2) and
//! pushes usage for on-demand instances; its "software" activates a License code once and
//! checks it.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::independent::{apigw_authorization, basic_iso, now_secs, sort_keys, usage_signature};

/// Where the open APIs are, and the keys.
#[derive(Debug, Clone)]
pub(crate) struct OpenApiAccess {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// AK.
    pub(crate) ak: String,
    /// SK.
    pub(crate) sk: String,
    /// The access key, which signs usage pushes.
    pub(crate) key: String,
}

pub(crate) fn http() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
}

impl OpenApiAccess {
    async fn signed(&self, method: &str, path: &str, query: &str, body: &str) -> Option<Value> {
        self.signed_as(method, path, query, body, "application/json")
            .await
    }

    async fn signed_as(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &str,
        content_type: &str,
    ) -> Option<Value> {
        let host = self.base.split("://").nth(1)?.to_owned();
        let date = basic_iso(now_secs());
        let headers = [
            ("Host", host.as_str()),
            ("X-Sdk-Date", date.as_str()),
            ("Content-Type", content_type),
        ];
        let authorization = apigw_authorization(
            &self.ak,
            &self.sk,
            method,
            path,
            query,
            &headers,
            body.as_bytes(),
        );
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        http()
            .request(method.parse().ok()?, url)
            .header("X-Sdk-Date", date)
            .header("Content-Type", content_type)
            .header("Authorization", authorization)
            .body(body.to_owned())
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    }

    /// After a purchase: V2 queries the order to learn what was bought; on-demand instances
    /// get their usage pushed.
    pub(crate) async fn follow_up(
        self: Arc<Self>,
        order: (String, String),
        instance: String,
        on_demand: Option<bool>,
        created: u64,
        pushes_usage: bool,
    ) {
        let on_demand = match on_demand {
            Some(known) => known,
            None => {
                let query = format!("orderId={}&orderLineId={}", order.0, order.1);
                let answer = self
                    .signed(
                        "GET",
                        "/api/mkp-openapi-public/global/v1/order/query",
                        &query,
                        "",
                    )
                    .await;
                answer
                    .is_some_and(|a| a["orderInfo"]["orderLine"][0]["chargingMode"] == "ON_DEMAND")
            }
        };
        if on_demand && pushes_usage {
            self.push_usage(&instance, created).await;
        }
    }

    /// Usage of `instance` deducted from the stop-when-used-up `package`: 5 units, enough to
    /// use up a small quota.
    pub(crate) async fn push_for_package(self: Arc<Self>, instance: String, package: String) {
        // A range of its own (one second on), so as not to repeat the instance's first record.
        let now = now_secs() + 1;
        let body = sort_keys(&json!({"usage_records": [{
            "instance_id": instance,
            "record_time": basic_iso(now),
            "begin_time": basic_iso(now),
            "end_time": basic_iso(now),
            "usage_value": "5",
            "metering_sn": format!("independent-{package}"),
            "relate_pkg_instance": package,
        }]}))
        .to_string();
        self.send_usage(body).await;
    }

    async fn push_usage(&self, instance: &str, created: u64) {
        let end = now_secs().max(created);
        let body = sort_keys(&json!({"usage_records": [{
            "instance_id": instance,
            "record_time": basic_iso(end),
            "begin_time": basic_iso(created),
            "end_time": basic_iso(end),
            "usage_value": "2",
            "metering_sn": format!("independent-{instance}-{created}"),
        }]}))
        .to_string();
        self.send_usage(body).await;
    }

    async fn send_usage(&self, body: String) {
        let ts = (now_secs() * 1000).to_string();
        let nonce = format!("nonce-{ts}");
        let _ = http()
            .post(format!(
                "{}/api/mkp-openapi-public/global/v1/isv/usage-data",
                self.base
            ))
            .header("Content-Type", "application/json")
            .header("ts", &ts)
            .header("nonce", &nonce)
            .header("signature", usage_signature(&self.key, &ts, &nonce, &body))
            .body(body)
            .send()
            .await;
    }

    /// Query-order: the order's answer.
    pub(crate) async fn query_order(&self, order: &str, line: &str) -> Option<Value> {
        let query = format!("orderId={order}&orderLineId={line}");
        self.signed(
            "GET",
            "/api/mkp-openapi-public/global/v1/order/query",
            &query,
            "",
        )
        .await
    }

    /// Hands a License back for a marketplace event: string upload, multipart/form-data.
    pub(crate) async fn upload_license(self: Arc<Self>, event: String, license: String) {
        let boundary = "independent-boundary-7MA4YWxkTrZu0gW";
        let part = json!({"type": "CHARACTERS", "characters": license}).to_string();
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"isvUpdateFileReq\"\r\nContent-Type: application/json\r\n\r\n{part}\r\n--{boundary}--\r\n"
        );
        let path = format!("/api/mkp-openapi-public/global/v1/market-event/{event}/file");
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let _ = self
            .signed_as("POST", &path, "", &body, &content_type)
            .await;
    }

    /// The software was given a code: activate it once, then check it.
    pub(crate) async fn use_license(self: Arc<Self>, code: String) {
        let body = json!({ "license": code }).to_string();
        let _ = self
            .signed(
                "POST",
                "/api/mkp-openapi-public/global/v1/license/activate",
                "",
                &body,
            )
            .await;
        let _ = self
            .signed(
                "POST",
                "/api/mkp-openapi-public/global/v1/license/heartbeat",
                "",
                &body,
            )
            .await;
    }
}
