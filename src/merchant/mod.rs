//! The reference merchant: a correct V1 and V2 production interface kept in memory, with
//! fault switches that turn it into each kind of broken merchant.
//!
//! It is the embedded default target of `kgsim run`, the newcomer's demo (`kgsim merchant`),
//! and the oracle for kgsim's own tests. It depends on [`crate::protocol`] only, so that it
//! stays an independent implementation of the spec rather than a mirror of the marketplace
//! code that judges it.
//!
//! [`router`] builds the axum app (tests drive it with `oneshot`, no sockets); [`serve`]
//! runs it on a listener the caller bound, with header names written title-cased so that
//! `Body-Sign` goes out exactly as the console requires.

mod answer;
pub(crate) mod client;
pub(crate) mod faults;
mod kit;
mod license;
pub(crate) mod owed;
mod sso;
mod store;
mod v1;
mod v2;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v2::signature::FreshnessWindow;
use crate::protocol::{AccessKey, BillingMode, Protocol, UnixMillis};
pub use faults::{Fault, Faults};
use store::{Purchase, Reply, Store};

/// How long the race-new fault holds a purchase between its check and its insert, waiting
/// for a concurrent copy to arrive (a slow database round trip, in effect).
const RACE_WINDOW: Duration = Duration::from_millis(200);

/// How the reference merchant is set up.
#[derive(Clone)]
pub struct MerchantConfig {
    /// V1 or V2.
    pub(crate) protocol: Protocol,
    /// The access key.
    pub(crate) key: AccessKey,
    /// V1: the encryptType declared and used for credentials.
    pub(crate) encrypt_type: EncryptType,
    /// Fault switches.
    pub faults: Faults,
    /// How long the slow fault waits before answering.
    pub(crate) slow: Duration,
    /// V2: answer newInstance with 000004 and finish on the next queryInstance.
    pub(crate) async_provisioning: bool,
    /// V2: the freshness window for `timestamp`.
    pub(crate) freshness: FreshnessWindow,
    /// The merchant's clock (the system clock; tests may pin it).
    pub(crate) clock: fn() -> UnixMillis,
    /// The marketplace's open APIs, when the merchant calls them (query-order after a V2
    /// purchase, usage for on-demand instances, License activation by its software).
    pub(crate) open_api: Option<client::OpenApiClientConfig>,
    /// 联营: the Kit's key and RSA private key, for the syncs and the login (spec V2 §3).
    pub(crate) kit: Option<KitConfig>,
    /// The key of the License-code interfaces (the access key when `None`).
    pub(crate) license_key: Option<AccessKey>,
    /// The key of the order notification (the access key when `None`).
    pub(crate) notify_key: Option<AccessKey>,
}

/// What the reference merchant needs for the Kit.
#[derive(Clone, Debug)]
pub(crate) struct KitConfig {
    /// The key bound to the Kit interfaces (the access key when `None`).
    pub(crate) key: Option<AccessKey>,
    /// The private half of the key pair uploaded with the app credential.
    pub(crate) private_key: crate::protocol::v2::client_secret::MerchantPrivateKey,
    /// The OAEP reading it decrypts clientSecret with.
    pub(crate) digest: crate::protocol::v2::client_secret::OaepDigest,
}

/// The system clock as Unix milliseconds.
pub(crate) fn system_clock() -> UnixMillis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
}

impl MerchantConfig {
    /// A correct merchant for a protocol and key: encryptType 1, no faults, 25 s slow delay,
    /// the documented 60 s freshness window, the system clock.
    pub fn new(protocol: Protocol, key: AccessKey) -> Self {
        Self {
            protocol,
            key,
            encrypt_type: EncryptType::Aes256,
            faults: Faults::none(),
            slow: Duration::from_secs(25),
            async_provisioning: false,
            freshness: FreshnessWindow::default(),
            clock: system_clock,
            open_api: None,
            kit: None,
            license_key: None,
            notify_key: None,
        }
    }
}

/// A running reference merchant's shared state.
pub struct Merchant {
    protocol: Protocol,
    key: AccessKey,
    encrypt_type: EncryptType,
    faults: Faults,
    slow: Duration,
    async_provisioning: bool,
    freshness: FreshnessWindow,
    clock: fn() -> UnixMillis,
    store: Mutex<Store>,
    racing: Mutex<HashMap<String, Arc<Notify>>>,
    open_api: Option<Arc<client::OpenApiClient>>,
    /// Instances already followed up (a resend returns the same instance: once is enough).
    followed: Mutex<std::collections::HashSet<String>>,
    /// 联营: the Kit's keys.
    kit: Option<KitConfig>,
    /// What the Kit syncs built up.
    kit_store: Mutex<kit::KitStore>,
    /// License codes and online-License state.
    licenses: Mutex<license::LicenseStore>,
    /// The License-code interfaces' key.
    license_key: Option<AccessKey>,
    /// The order notification's key.
    notify_key: Option<AccessKey>,
    /// The nonces of recent signed requests, with when they were seen: a replay within the
    /// freshness window is refused (the docs: "may cache nonces against replay").
    nonces: Mutex<HashMap<String, i64>>,
}

impl Merchant {
    /// Whether a signed request's nonce is new; remembers it. Nonces older than twice the
    /// freshness window are forgotten: their requests are stale anyway.
    pub(crate) fn fresh_nonce(&self, nonce: &str) -> bool {
        let now = (self.clock)().0;
        let keep = 2 * self.freshness.max_age_ms;
        let mut nonces = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        if nonces.len() > 10_000 {
            nonces.retain(|_, seen| now - *seen <= keep);
        }
        match nonces.get(nonce) {
            Some(seen) if now - *seen <= keep => false,
            _ => {
                nonces.insert(nonce.to_owned(), now);
                true
            }
        }
    }

    /// A merchant with an empty store. Its open-API client is built from the configuration;
    /// one that cannot be (a CA that is not PEM) leaves the merchant without open-API calls,
    /// which the `openapi.called` check then reports.
    pub fn new(config: MerchantConfig) -> Self {
        let open_api = config.open_api.clone().and_then(|open_api| {
            client::OpenApiClient::new(
                open_api,
                config.key.clone(),
                config.faults.clone(),
                config.clock,
            )
            .ok()
            .map(Arc::new)
        });
        Self {
            protocol: config.protocol,
            key: config.key,
            encrypt_type: config.encrypt_type,
            faults: config.faults,
            slow: config.slow,
            async_provisioning: config.async_provisioning,
            freshness: config.freshness,
            clock: config.clock,
            store: Mutex::new(Store::default()),
            racing: Mutex::new(HashMap::new()),
            open_api,
            followed: Mutex::new(std::collections::HashSet::new()),
            kit: config.kit,
            kit_store: Mutex::new(kit::KitStore::default()),
            licenses: Mutex::new(license::LicenseStore::default()),
            license_key: config.license_key,
            notify_key: config.notify_key,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// The key an activity's calls are signed with (spec V2 §1.2).
    fn key_for(&self, interface: crate::protocol::InterfaceType) -> &AccessKey {
        use crate::protocol::InterfaceType;
        let bound = match interface {
            InterfaceType::LicenseCode => self.license_key.as_ref(),
            InterfaceType::Notify => self.notify_key.as_ref(),
            InterfaceType::Kit => self.kit.as_ref().and_then(|k| k.key.as_ref()),
            InterfaceType::Basic => None,
        };
        bound.unwrap_or(&self.key)
    }

    fn kit_store(&self) -> MutexGuard<'_, kit::KitStore> {
        self.kit_store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn licenses(&self) -> MutexGuard<'_, license::LicenseStore> {
        self.licenses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After a purchase the merchant answered with an instance: its systems follow it up on
    /// the open APIs, in the background (spec V2 §2.1: no order details in the request).
    fn follow_up(&self, reply: &Reply, purchase: &Purchase, billing: Option<BillingMode>) {
        let (Some(open_api), Reply::Instance { instance_id, .. }) = (&self.open_api, reply) else {
            return;
        };
        let first = self
            .followed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(instance_id.clone());
        if purchase.debug || !first {
            return;
        }
        let follow_up = client::FollowUp {
            order_id: purchase.order_id.clone(),
            order_line_id: purchase
                .item
                .clone()
                .filter(|_| self.protocol == Protocol::V2),
            billing,
            instance_id: instance_id.clone(),
            created: (self.clock)(),
        };
        let owed = open_api.owe(&purchase.order_id);
        tokio::spawn(open_api.clone().follow_up(follow_up, owed));
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters to a test merchant, so a poisoned lock is simply taken over.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// newInstance. Correctly: check and insert under one lock, so that concurrent copies
    /// yield one instance. Under race-new: check, wait for a concurrent copy, then insert.
    async fn new_instance(&self, purchase: &Purchase) -> Reply {
        if let Some(window) = self.faults.race_window() {
            return self.new_instance_with_window(purchase, window).await;
        }
        if !self.faults.has(Fault::RaceNew) {
            return self
                .store()
                .new_instance(purchase, &self.faults, self.async_provisioning);
        }
        if self
            .store()
            .existing_purchase(purchase, &self.faults)
            .is_some()
        {
            return self
                .store()
                .new_instance(purchase, &self.faults, self.async_provisioning);
        }
        let key = purchase.order_id.clone();
        let (notify, first) = {
            let mut racing = self.racing.lock().unwrap_or_else(|p| p.into_inner());
            match racing.get(&key) {
                Some(waiting) => (waiting.clone(), false),
                None => {
                    let notify = Arc::new(Notify::new());
                    racing.insert(key.clone(), notify.clone());
                    (notify, true)
                }
            }
        };
        if first {
            let _ = tokio::time::timeout(RACE_WINDOW, notify.notified()).await;
            self.racing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        } else {
            notify.notify_waiters();
        }
        self.store()
            .insert_purchase(purchase, &self.faults, self.async_provisioning)
    }
}

impl Merchant {
    /// newInstance under race-window: look the order up, do `window` of other work (as a
    /// database round trip would), then insert without looking again.
    async fn new_instance_with_window(&self, purchase: &Purchase, window: Duration) -> Reply {
        if self
            .store()
            .existing_purchase(purchase, &self.faults)
            .is_some()
        {
            return self
                .store()
                .new_instance(purchase, &self.faults, self.async_provisioning);
        }
        tokio::time::sleep(window).await;
        self.store()
            .insert_purchase(purchase, &self.faults, self.async_provisioning)
    }
}

/// Whether a JSON body's declared charset is one `express.json()` does not know (`utf8`
/// without the dash, as KooGallery's V2 pages send it).
fn strict_charset_refuses(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("charset=")))
        .is_some_and(|charset| {
            !["utf-8", "utf-16le", "iso-8859-1"].contains(&charset.to_ascii_lowercase().as_str())
        })
}

/// Whether a POST body is an order notification, which arrives V2-shaped whatever the
/// product's protocol (spec V2 §5).
fn is_order_notify(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["activity"] == "orderNotify")
}

async fn handle(
    State(merchant): State<Arc<Merchant>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    if merchant.faults.has(Fault::StrictCharset) && strict_charset_refuses(&headers) {
        use axum::response::IntoResponse as _;
        // What stock Express answers: 415 with an HTML error page.
        return (
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [("content-type", "text/html; charset=utf-8")],
            "<pre>UnsupportedMediaTypeError: unsupported charset \"UTF8\"</pre>",
        )
            .into_response();
    }
    if crate::protocol::Activity::from_kit_path(uri.path()).is_some() {
        return merchant.handle_kit(uri.path(), &headers, &body).await;
    }
    if merchant.protocol == Protocol::V2 || is_order_notify(&body) {
        return merchant.handle_v2(&query, &body).await;
    }
    merchant.handle_v1(&query).await
}

/// The merchant's axum app: every path and method reaches the production interface, which
/// tells activities apart by the `activity` parameter (spec V1 §1, V2 §1.1) — but the Kit
/// syncs, told apart by their sub-path (§1.1); besides, the login callback and the shipped
/// software's License entry.
pub fn router(merchant: Arc<Merchant>) -> Router {
    Router::new()
        .route(SOFTWARE_PATH, axum::routing::post(software))
        .route(LOGIN_PATH, axum::routing::get(sso::callback))
        .fallback(handle)
        .with_state(merchant)
}

/// Where the merchant's shipped software takes a License code the buyer enters.
pub(crate) const SOFTWARE_PATH: &str = "/software/license";

/// The merchant's login callback (OAuth 2.0 `redirect_uri`, CAS `service`).
pub(crate) const LOGIN_PATH: &str = "/sso/callback";

/// The shipped software: `{"license": "PL…"}` in, activation and a heartbeat out.
async fn software(State(merchant): State<Arc<Merchant>>, body: Bytes) -> Response {
    use axum::response::IntoResponse as _;
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["license"].as_str().map(str::to_owned));
    match (code, &merchant.open_api) {
        (Some(code), Some(open_api)) => {
            merchant.licenses().learn_code(&code);
            let owed = open_api.owe(&code);
            tokio::spawn(open_api.clone().use_license(code, owed));
            (axum::http::StatusCode::ACCEPTED, "activating").into_response()
        }
        (None, _) => (axum::http::StatusCode::BAD_REQUEST, "no license").into_response(),
        (Some(_), None) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no open APIs configured",
        )
            .into_response(),
    }
}

/// Serves the app on a listener the caller bound (tests bind `127.0.0.1:0`) until the
/// listener fails; header names go out title-cased (`Body-Sign`, `Content-Type`).
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .title_case_headers(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests;
