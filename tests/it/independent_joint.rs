//! A correct 联营, License and order-notification merchant that kgsim's code did not produce:
//! written here from the spec, with its own Kit `x-sign` check, its own RSA-OAEP decoding of
//! `clientSecret` (tests/it/independent.rs), its own query signatures, a key per interface
//! type, and its own login callback. The Kit, License and notification scenarios must pass
//! against it: they depend on the spec, not on kgsim's reference merchant.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::independent::{hmac, rsa_oaep_decrypt};
use crate::independent_client::OpenApiAccess;

/// The key bound to the basic interfaces.
const BASIC_KEY: &str = "joint-basic-key";
/// The key bound to the Kit sync interfaces.
const KIT_KEY: &str = "joint-kit-key";
/// The key bound to the License-code interfaces.
const LICENSE_KEY: &str = "joint-license-key";
/// The key bound to 通用接口 (order notification).
const NOTIFY_KEY: &str = "joint-notify-key";

#[derive(Default)]
struct Books {
    next: u32,
    /// (orderId, orderLineId) → instanceId.
    purchases: HashMap<(String, String), String>,
    /// (instance, tenant) → identity domain.
    tenants: HashMap<(String, String), String>,
    /// (instance, tenant, app) → (client_id, decrypted secret).
    apps: HashMap<(String, String, String), (String, String)>,
    /// (instance, tenant, app, userName).
    users: HashSet<(String, String, String, String)>,
    /// (instance, tenant, orgCode).
    orgs: HashSet<(String, String, String)>,
    /// License codes the software activated.
    codes: HashSet<String>,
    /// instanceId → the devices holding its Licenses.
    devices: HashMap<String, HashSet<String>>,
}

struct Joint {
    books: Mutex<Books>,
    private_key: rsa::PrivateKey,
    access: Arc<OpenApiAccess>,
    /// Every Kit sync as it arrived: its `x-sign` and its body bytes.
    received: Mutex<Vec<(String, String)>>,
}

fn code(code: &str) -> Map<String, Value> {
    let mut answer = Map::new();
    answer.insert("resultCode".into(), json!(code));
    answer.insert("resultMsg".into(), json!("OK"));
    answer
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The body as the signer saw it: top-level keys sorted, nulls dropped, compact (spec §1.3),
/// nested values in the order received.
fn canonical(object: Map<String, Value>) -> String {
    let sorted: BTreeMap<String, Value> =
        object.into_iter().filter(|(_, v)| !v.is_null()).collect();
    serde_json::to_string(&sorted).unwrap()
}

fn query_params(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// The key a basic-shaped call's activity is signed with (spec §1.2); none for an activity
/// the merchant does not know.
fn key_for(activity: &str) -> Option<&'static str> {
    match activity {
        "refreshLicenseCode" | "updateLicenseCodeStatus" | "releaseLicenseCode" => {
            Some(LICENSE_KEY)
        }
        "orderNotify" => Some(NOTIFY_KEY),
        "newInstance"
        | "queryInstance"
        | "refreshInstance"
        | "updateInstanceStatus"
        | "releaseInstance"
        | "upgradeInstance"
        | "changeInstanceCheck"
        | "getLicenseAsync" => Some(BASIC_KEY),
        _ => None,
    }
}

fn fresh(timestamp: &str) -> bool {
    timestamp
        .parse::<i64>()
        .is_ok_and(|t| now_ms() - t <= 60_000)
}

impl Joint {
    /// A basic-shaped call: query signature with the activity's key, then the activity.
    async fn basic(&self, query: &str, body: &[u8]) -> Map<String, Value> {
        let params = query_params(query);
        let (Some(sig), Some(ts), Some(_)) = (
            params.get("signature"),
            params.get("timestamp"),
            params.get("nonce"),
        ) else {
            return code("000001");
        };
        if !fresh(ts) {
            return code("000002");
        }
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
            return code("000002");
        };
        let payload = canonical(object.clone());
        let object = Value::Object(object);
        let activity = object["activity"].as_str().unwrap_or_default().to_owned();
        let nonce = &params["nonce"];
        let signed_with = |key: &str| {
            let inner = hex::encode(hmac(key.as_bytes(), payload.as_bytes()));
            let expected = hex::encode(hmac(
                key.as_bytes(),
                format!("{key}{nonce}{ts}{inner}").as_bytes(),
            ));
            expected.eq_ignore_ascii_case(sig)
        };
        // An activity it does not know names no key: any key bound to this address will do,
        // so that it can answer 000002 as the docs require.
        let valid = match key_for(&activity) {
            Some(key) => signed_with(key),
            None => [BASIC_KEY, LICENSE_KEY, NOTIFY_KEY]
                .iter()
                .any(|k| signed_with(k)),
        };
        if !valid {
            return code("000001");
        }
        let field = |name: &str| object[name].as_str().unwrap_or_default().to_owned();
        let debug = field("testFlag") == "1";
        match activity.as_str() {
            "newInstance" => self.new_instance(&field("orderId"), &field("orderLineId")),
            "queryInstance" => self.query(&field("instanceId")),
            "refreshLicenseCode" | "updateLicenseCodeStatus" | "releaseLicenseCode" => {
                let license = field("license");
                if license.is_empty() {
                    return code("000002");
                }
                let known = self.books.lock().unwrap().codes.contains(&license);
                code(if known || debug { "000000" } else { "000003" })
            }
            "getLicenseAsync" => self.license(&object, debug).await,
            "orderNotify" => {
                if !debug {
                    let access = self.access.clone();
                    let (order, line) = (field("orderId"), field("orderLineId"));
                    tokio::spawn(async move {
                        let _ = access.query_order(&order, &line).await;
                    });
                }
                code("000000")
            }
            _ => code("000002"),
        }
    }

    fn new_instance(&self, order: &str, line: &str) -> Map<String, Value> {
        let mut books = self.books.lock().unwrap();
        books.next += 1;
        let next = format!("joint-{}", books.next);
        let id = books
            .purchases
            .entry((order.to_owned(), line.to_owned()))
            .or_insert(next)
            .clone();
        let mut answer = code("000000");
        answer.insert("instanceId".into(), json!(id));
        answer
    }

    fn query(&self, ids: &str) -> Map<String, Value> {
        let books = self.books.lock().unwrap();
        let info: Vec<Value> = ids
            .split(',')
            .filter(|id| books.purchases.values().any(|known| known == id))
            .map(|id| json!({"instanceId": id}))
            .collect();
        let mut answer = code("000000");
        answer.insert("info".into(), json!(info));
        answer
    }

    /// getLicenseAsync, as its page reads: the order's terms from query-order, then the
    /// refusals 000902 (a period License without expiry), 000903 (no device), 000901 (past
    /// the order's validity), 000900 (a second device: one License per order); otherwise
    /// "000004 资源异步开通" — answered at once — and the License, derived from instance,
    /// event and fingerprint, uploaded under the event afterwards.
    async fn license(&self, object: &Value, debug: bool) -> Map<String, Value> {
        if debug {
            return code("000000");
        }
        let part = |name: &str| object[name].as_str().unwrap_or_default().to_owned();
        let instance = part("instanceId");
        let order = {
            let books = self.books.lock().unwrap();
            books
                .purchases
                .iter()
                .find(|(_, id)| **id == instance)
                .map(|(key, _)| key.clone())
        };
        let Some((order, line)) = order else {
            return code("000003");
        };
        let terms = self
            .access
            .query_order(&order, &line)
            .await
            .unwrap_or_default();
        let terms = &terms["orderInfo"]["orderLine"][0];
        let period = terms["chargingMode"].as_str() != Some("ONE_TIME");
        let digits = |text: &str| -> String { text.chars().filter(char::is_ascii_digit).collect() };
        let asked = object.get("expireTime").and_then(Value::as_str).map(digits);
        if period && asked.is_none() {
            return code("000902");
        }
        let device = part("deviceFingerprint");
        if device.is_empty() {
            return code("000903");
        }
        if let (Some(asked), Some(ends)) = (&asked, terms["expireTime"].as_str().map(digits)) {
            if asked[..14.min(asked.len())] > ends[..14.min(ends.len())] {
                return code("000901");
            }
        }
        {
            let mut books = self.books.lock().unwrap();
            let devices = books.devices.entry(instance.clone()).or_default();
            if !devices.contains(&device) && !devices.is_empty() {
                return code("000900");
            }
            devices.insert(device.clone());
        }
        let digest = Sha256::digest(format!("{instance}/{}/{device}", part("eventId")).as_bytes());
        let license = format!("JOINT-{}", hex::encode(&digest[..12]));
        tokio::spawn(self.access.clone().upload_license(part("eventId"), license));
        code("000004")
    }

    /// A Kit sync: x-sign with the Kit key over the canonical body (no inner HMAC, §1.4).
    fn kit(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        self.received.lock().unwrap().push((
            header("x-sign").unwrap_or_default().to_owned(),
            String::from_utf8_lossy(body).into_owned(),
        ));
        let (Some(ts), Some(nonce)) = (header("x-timestamp"), header("x-nonce")) else {
            return code("000002");
        };
        if !fresh(ts) {
            return code("000002");
        }
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
            return code("000002");
        };
        let payload = canonical(object.clone());
        let object = Value::Object(object);
        let expected = hex::encode(hmac(
            KIT_KEY.as_bytes(),
            format!("{KIT_KEY}{nonce}{ts}{payload}").as_bytes(),
        ));
        if !header("x-sign").is_some_and(|sign| expected.eq_ignore_ascii_case(sign)) {
            return code("000001");
        }
        let text = |name: &str| object[name].as_str().unwrap_or_default().to_owned();
        let (instance, tenant) = (text("instanceId"), text("tenantId"));
        let adding = object["flag"].as_i64() != Some(0) && object["flag"].as_i64() != Some(3);
        let mut books = self.books.lock().unwrap();
        let sync = path.rsplit('/').next().unwrap_or_default();
        match sync {
            "tenantSync" if adding => {
                books.tenants.insert((instance, tenant), text("domainName"));
            }
            "tenantSync" => {
                books.tenants.remove(&(instance, tenant));
            }
            "applicationSync" if adding => {
                // clientSecret: Base64(RSA-OAEP(SHA-256, MGF1-SHA-1)), decrypted here.
                let Some(secret) =
                    rsa_oaep_decrypt::<Sha256, Sha1>(&self.private_key, &text("clientSecret"))
                else {
                    return code("000005");
                };
                let secret = String::from_utf8(secret).unwrap_or_default();
                books.apps.insert(
                    (instance, tenant, text("appId")),
                    (text("clientId"), secret),
                );
            }
            "applicationSync" => {
                books.apps.remove(&(instance, tenant, text("appId")));
            }
            "authSync" => {
                for user in object["userList"].as_array().into_iter().flatten() {
                    let name = user["userName"].as_str().unwrap_or_default().to_owned();
                    let key = (instance.clone(), tenant.clone(), text("appId"), name);
                    if adding {
                        books.users.insert(key);
                    } else {
                        books.users.remove(&key);
                    }
                }
            }
            "singleOrgSync" if adding => {
                books.orgs.insert((instance, tenant, text("orgCode")));
            }
            "singleOrgSync" => {
                books.orgs.remove(&(instance, tenant, text("orgCode")));
            }
            "allOrgSync" => {
                books
                    .orgs
                    .retain(|(i, t, _)| !(*i == instance && *t == tenant));
                for org in object["orgInfoList"].as_array().into_iter().flatten() {
                    let org = org["orgCode"].as_str().unwrap_or_default().to_owned();
                    books.orgs.insert((instance.clone(), tenant.clone(), org));
                }
            }
            _ => return code("000002"),
        }
        code("000000")
    }
}

fn json_answer(answer: Map<String, Value>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Value::Object(answer).to_string(),
    )
        .into_response()
}

async fn production(
    State(merchant): State<Arc<Joint>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if uri.path().contains("/produceAPI/v2/") {
        return json_answer(merchant.kit(uri.path(), &headers, &body));
    }
    json_answer(merchant.basic(&query.unwrap_or_default(), &body).await)
}

fn escape(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The login callback: exchange the code with the tenant's app credential and read the user
/// (OAuth 2.0), or validate the ticket (CAS).
async fn login(
    State(merchant): State<Arc<Joint>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(&query.unwrap_or_default());
    let tenant = params.get("tenant").cloned().unwrap_or_default();
    let found = {
        let books = merchant.books.lock().unwrap();
        let domain = books
            .tenants
            .iter()
            .find(|((_, t), _)| *t == tenant)
            .map(|(_, d)| d.clone());
        let app = books
            .apps
            .iter()
            .find(|((_, t, _), _)| *t == tenant)
            .map(|(_, creds)| creds.clone());
        domain.zip(app)
    };
    let Some((domain, (client_id, secret))) = found else {
        return (StatusCode::FORBIDDEN, "who are you?").into_response();
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let callback = format!("http://{host}/sso");
    let http = crate::independent_client::http();
    if let Some(ticket) = params.get("ticket") {
        // CAS: validate the ticket against this callback, tenant included, as `service`.
        let service = escape(&format!("{callback}?tenant={tenant}"));
        let url = format!(
            "{domain}/api/v1/cas/p3/serviceValidate?service={service}&ticket={}&format=JSON",
            escape(ticket)
        );
        let answer: Option<Value> =
            async { http.get(url).send().await.ok()?.json().await.ok() }.await;
        let user = answer.and_then(|a| {
            a["serviceResponse"]["authenticationSuccess"]["user"]
                .as_str()
                .map(str::to_owned)
        });
        return match user {
            Some(_) => (StatusCode::FOUND, [("location", "/home")], "").into_response(),
            None => (StatusCode::FORBIDDEN, "no user").into_response(),
        };
    }
    let Some(code) = params.get("code") else {
        return (StatusCode::BAD_REQUEST, "no code").into_response();
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", callback.as_str()),
    ]
    .iter()
    .map(|(n, v)| format!("{n}={}", escape(v)))
    .collect::<Vec<_>>()
    .join("&");
    let token: Option<Value> = async {
        http.post(format!("{domain}/api/v1/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    }
    .await;
    let Some(token) = token.and_then(|t| t["access_token"].as_str().map(str::to_owned)) else {
        return (StatusCode::FORBIDDEN, "no token").into_response();
    };
    let user = http
        .get(format!("{domain}/api/v1/oauth2/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .ok()
        .map(|r| r.status());
    match user {
        Some(status) if status.is_success() => {
            (StatusCode::FOUND, [("location", "/home")], "").into_response()
        }
        _ => (StatusCode::FORBIDDEN, "no user").into_response(),
    }
}

/// The software: a License code in, activation and a heartbeat out.
async fn software(State(merchant): State<Arc<Joint>>, body: Bytes) -> Response {
    let Some(code) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["license"].as_str().map(str::to_owned))
    else {
        return (StatusCode::BAD_REQUEST, "no").into_response();
    };
    merchant.books.lock().unwrap().codes.insert(code.clone());
    tokio::spawn(merchant.access.clone().use_license(code));
    "activating".into_response()
}

/// Starts the merchant; returns its production address and its state.
async fn start(access: OpenApiAccess) -> (String, Arc<Joint>) {
    use rsa::pkcs8::DecodePrivateKey;
    let private_key = rsa::PrivateKey::from_pkcs8_pem(include_str!(
        "../../fixtures/kit/test-merchant-private.pem"
    ))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let joint = Arc::new(Joint {
        books: Mutex::default(),
        private_key,
        access: Arc::new(access),
        received: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/software", axum::routing::post(software))
        .route("/sso", axum::routing::get(login))
        .fallback(production)
        .with_state(joint.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/produce"), joint)
}

/// Runs the scenarios `filter` selects against the merchant with `extra` flags and every
/// address and key the merchant has, but the flags named in `omit` (each with its value).
async fn run_joint(
    filter: &str,
    extra: &[&str],
    omit: &[&str],
) -> (crate::support::Run, Value, Arc<Joint>) {
    let port = crate::independent_merchant::free_port();
    let access = OpenApiAccess {
        base: format!("http://127.0.0.1:{port}"),
        ak: "joint-ak".into(),
        sk: "joint-sk".into(),
        key: BASIC_KEY.into(),
    };
    let (url, joint) = start(access).await;
    let origin = url.trim_end_matches("/produce").to_owned();
    let listen = format!("127.0.0.1:{port}");
    let software = format!("{origin}/software");
    let login = format!("{origin}/sso");
    let flags: [(&str, &str); 6] = [
        ("--target", &url),
        ("--filter", filter),
        ("--openapi-listen", &listen),
        ("--software-url", &software),
        ("--login-url", &login),
        ("--kit-public-key", "fixtures/kit/test-merchant-public.pem"),
    ];
    let mut args: Vec<String> = ["run", "--no-snapshots", "--protocol", "v2"]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    for (flag, value) in flags.iter().filter(|(flag, _)| !omit.contains(flag)) {
        args.extend([(*flag).to_owned(), (*value).to_owned()]);
    }
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let (run, report) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::kgsim_json_env(
            &args,
            Some(BASIC_KEY),
            &[
                ("KGSIM_OPENAPI_AK", "joint-ak"),
                ("KGSIM_OPENAPI_SK", "joint-sk"),
                ("KGSIM_KIT_KEY", KIT_KEY),
                ("KGSIM_LICENSE_KEY", LICENSE_KEY),
                ("KGSIM_NOTIFY_KEY", NOTIFY_KEY),
            ],
        )
    })
    .await
    .unwrap();
    (run, report, joint)
}

/// Runs the scenarios `filter` selects against the merchant, with `extra` flags; asserts the
/// run is conformant and ran at least `at_least` scenarios. Returns the merchant's state.
async fn passes(filter: &str, extra: &[&str], at_least: u64) -> Arc<Joint> {
    let (run, report, joint) = run_joint(filter, extra, &[]).await;
    assert_eq!(
        run.code, 0,
        "{filter} {extra:?}:\n{}\n{}",
        run.stdout, run.stderr
    );
    let passed = report["summary"]["passed"].as_u64().unwrap();
    assert!(
        passed >= at_least,
        "{filter}: only {passed} passed\n{}",
        run.stdout
    );
    joint
}

/// The scenarios of `report` skipped, with their reasons and whether each makes the run
/// incomplete.
fn skipped(report: &Value) -> Vec<(String, String, bool)> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "skipped")
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_owned(),
                s["skip_reason"].as_str().unwrap().to_owned(),
                s["incomplete"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Without `--login-url` the login scenarios are skipped like any feature not declared,
/// naming the flag; the rest of the Kit suite passes and the run is conformant.
#[tokio::test(flavor = "multi_thread")]
async fn login_scenarios_skip_without_a_login_url() {
    let (run, report, _) = run_joint("tag:kit", &["--kit"], &["--login-url"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["verdict"], "conformant");
    let logins: Vec<_> = skipped(&report)
        .into_iter()
        .filter(|(file, _, _)| file.contains("login"))
        .collect();
    assert_eq!(logins.len(), 2, "{logins:?}");
    for (file, reason, incomplete) in logins {
        assert!(reason.contains("--login-url"), "{file}: {reason}");
        assert!(!incomplete, "{file}");
    }
}

/// Without `--software-url`, the License-code scenarios that enter a code into the software
/// are not run — and not failed: the run is incomplete, exit 1, and nothing blames the
/// merchant for a code it was never told of.
#[tokio::test(flavor = "multi_thread")]
async fn license_code_without_a_software_url_is_incomplete_not_failed() {
    let (run, report, _) = run_joint(
        "tag:license",
        &["--product", "license-code"],
        &["--software-url"],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["verdict"], "incomplete", "{}", run.stdout);
    assert_eq!(report["summary"]["failed"], 0, "{}", run.stdout);
    assert!(report["diagnosis"].is_null());
    let not_run: Vec<_> = skipped(&report)
        .into_iter()
        .filter(|(_, _, incomplete)| *incomplete)
        .collect();
    assert!(not_run.len() >= 5, "{not_run:?}");
    for (file, reason, _) in &not_run {
        assert!(reason.contains("--software-url"), "{file}: {reason}");
    }
    assert!(run.stdout.contains("incomplete: "), "{}", run.stdout);
}

/// The Kit syncs (x-sign checked, clientSecret decrypted with its own OAEP decoder) and both
/// logins pass against the independent merchant.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_joint_operation_merchant_passes_the_kit_scenarios() {
    let joint = passes("tag:kit", &["--kit"], 8).await;
    // The syncs arrived as production sends them: keys in another order than the canonical
    // one, a space after each `:`, Chinese names, `x-sign` in uppercase hex.
    let received = joint.received.lock().unwrap().clone();
    assert!(received.len() >= 10, "{}", received.len());
    let non_canonical = received.iter().filter(|(_, body)| {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else {
            return false;
        };
        canonical(object) != *body && body.contains("\": ")
    });
    assert_eq!(non_canonical.count(), received.len(), "{received:?}");
    assert!(received.iter().any(|(_, body)| !body.is_ascii()));
    assert!(
        received
            .iter()
            .any(|(_, body)| body.contains('&') && body.contains('<'))
    );
    let signed: Vec<&String> = received
        .iter()
        .map(|(sign, _)| sign)
        .filter(|s| !s.is_empty())
        .collect();
    assert!(!signed.is_empty());
    assert!(
        signed
            .iter()
            .all(|s| !s.chars().any(|c| c.is_ascii_lowercase())),
        "{signed:?}"
    );
}

/// The License-code notices, signed with their own key, pass against it.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_merchant_passes_the_license_code_scenarios() {
    passes("tag:license", &["--product", "license-code"], 6).await;
}

/// The online License application and upload pass against it.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_merchant_passes_the_online_license_scenarios() {
    passes("tag:license", &["--product", "online-license"], 3).await;
}

/// Order notifications, signed with the 通用接口 key, pass against it: it answers and queries.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_merchant_passes_the_order_notification_scenarios() {
    passes(
        "tag:notify",
        &["--product", "license-code", "--order-notify"],
        2,
    )
    .await;
}

/// An in-process console with this merchant's keys, one per interface type; with the open
/// APIs when `open_api`.
async fn joint_console(db: &str, open_api: bool) -> kgsim::console::Running {
    use kgsim::protocol::AccessKey;
    kgsim::console::start(kgsim::console::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: crate::console::fresh_db(db),
        key: AccessKey::new(BASIC_KEY),
        keys: kgsim::marketplace::settings::InterfaceKeys {
            kit: Some(AccessKey::new(KIT_KEY)),
            license_code: Some(AccessKey::new(LICENSE_KEY)),
            notify: Some(AccessKey::new(NOTIFY_KEY)),
        },
        allow_hosts: Vec::new(),
        tick: std::time::Duration::from_secs(3600),
        open_api: open_api.then(|| {
            let keys = kgsim::open_api::Keys {
                app_key: "joint-ak".into(),
                app_secret: AccessKey::new("joint-sk"),
                usage_key: AccessKey::new(BASIC_KEY),
            };
            ("127.0.0.1:0".parse().unwrap(), keys)
        }),
    })
    .await
    .unwrap()
}

/// `kgsim serve`: a V2 product with order notification signs `orderNotify` with the 通用接口
/// key (not the basic one: this merchant refuses that), and the merchant's query-order goes
/// to the console's open APIs, which answer from the console's orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_notifies_orders_with_their_own_key_and_answers_the_query() {
    let console = joint_console("joint-console.db", true).await;
    let (base, book) = console.open_api.clone().unwrap();
    let (url, _) = start(OpenApiAccess {
        base,
        ak: "joint-ak".into(),
        sk: "joint-sk".into(),
        key: BASIC_KEY.into(),
    })
    .await;
    let api = crate::console::Api::new(&format!("http://{}", console.address));
    let created = api
        .post(
            "/api/products",
            json!({"production_address": url, "protocol": "v2", "order_notify": url}),
        )
        .await;
    let product = created["id"].as_i64().unwrap();
    let bought = api
        .post("/api/purchases", json!({"product_id": product}))
        .await;
    let attempts = crate::console::accepted(&bought["attempts"]);
    for activity in ["new-instance", "order-notify"] {
        assert!(
            attempts.iter().any(|a| a == activity),
            "{activity} not accepted: {bought}"
        );
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    assert!(
        book.wait_for(deadline, |state| !state.calls.is_empty())
            .await
    );
    let calls = api.get("/api/merchant-calls").await;
    assert_eq!(calls[0]["endpoint"], "query-order", "{calls}");
    assert_eq!(calls[0]["findings"], json!([]), "{calls}");
}

/// `kgsim serve`: a 联营 product. Binding an enterprise sends tenantSync, applicationSync (the
/// clientSecret RSA-OAEP encrypted for this merchant, who decrypts it with its own code) and
/// allOrgSync, signed with the Kit key; authorising users sends authSync; the enterprise is
/// kept in the database; the session exports as a scenario the decoder accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_syncs_the_kit_and_the_merchant_reads_the_client_secret() {
    let console = joint_console("joint-kit.db", false).await;
    let (url, _) = start(OpenApiAccess {
        base: "http://127.0.0.1:9".into(),
        ak: "joint-ak".into(),
        sk: "joint-sk".into(),
        key: BASIC_KEY.into(),
    })
    .await;
    let api = crate::console::Api::new(&format!("http://{}", console.address));
    let public_key = include_str!("../../fixtures/kit/test-merchant-public.pem");
    let created = api
        .post(
            "/api/products",
            json!({"production_address": url, "protocol": "v2", "kit_public_key": public_key}),
        )
        .await;
    let product = created["id"].as_i64().unwrap();
    api.post("/api/purchases", json!({"product_id": product}))
        .await;
    api.post(
        "/api/kit/actions",
        json!({"product_id": product, "action": "bind-enterprise", "instance": 0}),
    )
    .await;
    // The three syncs of a binding go out a second apart.
    api.post("/api/clock/advance", json!({"by": "3s"})).await;
    api.post(
        "/api/kit/actions",
        json!({"product_id": product, "action": "authorize-users", "enterprise": 0, "count": 2}),
    )
    .await;
    let log = api.get("/api/log?limit=20").await;
    let verdicts = crate::console::accepted(&log);
    for sync in [
        "tenant-sync",
        "application-sync",
        "all-org-sync",
        "auth-sync",
    ] {
        assert!(
            verdicts.iter().any(|a| a == sync),
            "{sync} not accepted: {log}"
        );
    }
    let enterprises = api
        .get(&format!("/api/products/{product}/enterprises"))
        .await;
    assert_eq!(enterprises[0]["instance_ref"], 0, "{enterprises}");
    assert_eq!(enterprises[0]["users"], 2, "{enterprises}");
    let yaml = api.get(&format!("/api/products/{product}/scenario")).await;
    let yaml = yaml.as_str().unwrap();
    assert!(
        yaml.contains("  - bind-enterprise: order1\n    as: enterprise1\n"),
        "{yaml}"
    );
    kgsim::scenario::format::decode::decode("exported.yaml", yaml)
        .unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
}
