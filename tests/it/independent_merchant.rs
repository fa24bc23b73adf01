//! A correct merchant that kgsim's code did not produce: written here from the spec, with its
//! own parsing, signing, encryption and idempotency, and its own conventions — instanceIds
//! `inst-N` rather than businessIds, resultMsg "OK", instanceId before resultCode, a compact
//! `Body-Sign`, encryptType 2, bare `application/json`. The built-in suite must pass against
//! it in both protocols and every billing mode: the suite depends on the spec, not on quirks
//! of the reference merchant.
//!
//! In its "exact kind" conduct it implements only the interfaces its kind of product needs
//! (its own table below, read from spec V1 §1 and V2 §2.9 / §7.1) and answers 000002 to any
//! other activity, as a merchant that built what the guide asks would; the default profile
//! must pass it for every protocol × billing mode.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::independent::{encrypt, hmac};
use crate::independent_client::OpenApiAccess;
use crate::support::kgsim;

pub(crate) const KEY: &str = "independent-merchant-key-42";

#[derive(Default)]
struct Books {
    next: u32,
    purchases: HashMap<(String, String), String>,
    live: HashSet<String>,
    released: HashSet<String>,
    passwords: HashMap<String, String>,
    users: HashMap<String, String>,
    /// V1: the latest on-demand instance, which a package bought next pays for.
    last_on_demand: Option<String>,
}

/// How the merchant behaves beyond the protocol itself.
#[derive(Clone, Copy, Default)]
pub(crate) struct Conduct {
    /// Implement exactly this billing mode's interfaces (plus `extra`); `None`: all of them.
    pub(crate) exact: Option<&'static str>,
    /// Optional interfaces implemented on top of the kind's required ones (wire names).
    pub(crate) extra: &'static [&'static str],
    /// Refuse unfreezing (`NORMAL` / `UNFREEZE`) with 000002: a merchant that built the freeze
    /// only.
    pub(crate) refuse_unfreeze: bool,
    /// Answer every queryInstance with a bare `{"resultCode":"000000","resultMsg":"ok"}`.
    pub(crate) bare_query: bool,
    /// Hostile: two `Body-Sign` headers, the correct one first (`Some(true)`) or second.
    pub(crate) body_sign_twice: Option<bool>,
    /// Answer a request that lacks a mandatory parameter as if it were complete.
    pub(crate) ignore_missing: bool,
    /// Hostile: echo the access key (as is, Base64, hex) in every `resultMsg`.
    pub(crate) echo_key: bool,
    /// Hostile: pad every `resultMsg` to this many bytes.
    pub(crate) pad_result_msg: usize,
    /// A user name that changes on every run (`admin-<random>`), as generated accounts do.
    pub(crate) volatile_user: bool,
    /// V1: on a package purchase, push usage for the latest on-demand instance against the
    /// package (`relate_pkg_instance`), as a merchant that links the two would.
    pub(crate) package_usage: bool,
    /// Query the order, never push usage: a merchant whose metering is not built yet.
    pub(crate) no_usage: bool,
}

/// The activities (wire names) a product of this kind must implement: spec V1 §1 "Which
/// scenarios a product must implement", V2 §2.9 and §7.1.
fn required(v2: bool, billing: &str) -> &'static [&'static str] {
    match (v2, billing) {
        (false, "period") => &[
            "newInstance",
            "refreshInstance",
            "expireInstance",
            "releaseInstance",
        ],
        (false, "one-time") => &["newInstance", "releaseInstance"],
        (false, _) => &[
            "newInstance",
            "queryInstance",
            "instanceStatus",
            "releaseInstance",
        ],
        (true, "one-time") => &["newInstance", "queryInstance", "releaseInstance"],
        (true, _) => &[
            "newInstance",
            "queryInstance",
            "refreshInstance",
            "updateInstanceStatus",
            "releaseInstance",
        ],
    }
}

struct Independent {
    v2: bool,
    conduct: Conduct,
    books: Mutex<Books>,
    /// The open APIs, when the merchant calls them.
    open_api: Option<Arc<OpenApiAccess>>,
}

/// `saasExtendParams` as the public merchant samples read it: the value the framework handed
/// over is Base64 of a JSON array of `{"name", "value"}` objects.
fn extend_params_readable(value: &str) -> bool {
    let Ok(json) = B64.decode(value) else {
        return false;
    };
    match serde_json::from_slice::<Value>(&json) {
        Ok(Value::Array(items)) => items
            .iter()
            .all(|item| item["name"].is_string() && item["value"].is_string()),
        _ => false,
    }
}

fn form_decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn code(code: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("resultCode".into(), json!(code));
    map.insert(
        "resultMsg".into(),
        json!(if code == "000000" { "OK" } else { "refused" }),
    );
    map
}

impl Independent {
    fn app_info(&self, books: &Books, id: &str) -> Value {
        let password = books.passwords.get(id).cloned().unwrap_or_default();
        let owner = if self.conduct.volatile_user {
            books.users.get(id).cloned().unwrap_or_default()
        } else {
            "owner".to_owned()
        };
        let (user, password) = if self.v2 {
            (owner, password)
        } else {
            (
                encrypt(KEY, true, "0123456789abcdef", &owner),
                encrypt(KEY, true, "fedcba9876543210", &password),
            )
        };
        json!({"frontEndUrl": format!("https://independent.example/t/{id}"), "adminUrl": "https://independent.example/admin", "userName": user, "password": password})
    }

    /// The business logic, shared by both protocols: field map in, answer map out.
    fn handle(&self, f: &BTreeMap<String, String>) -> Map<String, Value> {
        let get = |name: &str| f.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let debug = get("testFlag") == Some("1");
        let mut books = self.books.lock().unwrap();
        let known = |books: &Books, id: Option<&str>| id.is_some_and(|id| books.live.contains(id));
        macro_rules! need {
            ($($name:literal),*) => { $( if get($name).is_none() && !self.conduct.ignore_missing { return code("000002"); } )* };
        }
        macro_rules! instance_or_unknown {
            () => {{
                need!("instanceId");
                if !debug && !known(&books, get("instanceId")) {
                    return code("000003");
                }
            }};
        }
        let activity = get("activity").unwrap_or_default();
        if let Some(billing) = self.conduct.exact {
            if !required(self.v2, billing).contains(&activity)
                && !self.conduct.extra.contains(&activity)
            {
                return code("000002");
            }
        }
        if get("saasExtendParams").is_some_and(|v| !extend_params_readable(v)) {
            return code("000002");
        }
        match activity {
            "newInstance" => {
                if self.v2 {
                    need!("orderId", "orderLineId", "businessId");
                } else {
                    need!(
                        "customerId",
                        "businessId",
                        "orderId",
                        "skuCode",
                        "productId"
                    );
                }
                let item = if self.v2 {
                    get("orderLineId").unwrap_or_default().to_owned()
                } else if get("chargingMode") == Some("0") {
                    get("productId").unwrap_or_default().to_owned()
                } else {
                    String::new()
                };
                let key = (get("orderId").unwrap_or_default().to_owned(), item);
                let id = match books.purchases.get(&key) {
                    Some(id) => id.clone(),
                    None => {
                        books.next += 1;
                        let id = format!("inst-{}", books.next);
                        books.purchases.insert(key, id.clone());
                        books.live.insert(id.clone());
                        books
                            .passwords
                            .insert(id.clone(), format!("pw-{}", now_ms() % 100_000));
                        let nanos = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .subsec_nanos();
                        let user = format!("admin-{:08x}", nanos ^ books.next);
                        books.users.insert(id.clone(), user);
                        if let (Some(open_api), false) = (&self.open_api, debug) {
                            let order = (
                                get("orderId").unwrap_or_default().to_owned(),
                                get("orderLineId").unwrap_or_default().to_owned(),
                            );
                            // V1 says the billing mode; V2 is asked through query-order.
                            let on_demand = (!self.v2).then(|| get("chargingMode") == Some("0"));
                            if on_demand == Some(true) {
                                books.last_on_demand = Some(id.clone());
                            }
                            let package = get("chargingMode") == Some("5");
                            if let (true, true, Some(usage)) = (
                                package,
                                self.conduct.package_usage,
                                books.last_on_demand.clone(),
                            ) {
                                tokio::spawn(open_api.clone().push_for_package(usage, id.clone()));
                            }
                            tokio::spawn(open_api.clone().follow_up(
                                order,
                                id.clone(),
                                on_demand,
                                crate::independent::now_secs(),
                                !self.conduct.no_usage,
                            ));
                        }
                        id
                    }
                };
                let mut answer = Map::new();
                answer.insert("instanceId".into(), json!(id));
                answer.extend(code("000000"));
                if !self.v2 {
                    answer.insert("encryptType".into(), json!("2"));
                    answer.insert("appInfo".into(), self.app_info(&books, &id));
                }
                answer
            }
            "refreshInstance" => {
                need!("orderId", "expireTime");
                instance_or_unknown!();
                code("000000")
            }
            "expireInstance" | "upgrade" | "upgradeInstance" | "changeInstanceCheck" => {
                instance_or_unknown!();
                code("000000")
            }
            "instanceStatus" | "updateInstanceStatus" => {
                let status = get("instanceStatus").or(get("status")).unwrap_or_default();
                if !["FREEZE", "NORMAL", "UNFREEZE"].contains(&status)
                    || (self.conduct.refuse_unfreeze && status != "FREEZE")
                {
                    return code("000002");
                }
                instance_or_unknown!();
                code("000000")
            }
            "releaseInstance" => {
                need!("instanceId");
                let id = get("instanceId").unwrap_or_default().to_owned();
                if books.released.contains(&id) {
                    return code("000000");
                }
                if !debug && !known(&books, Some(&id)) {
                    return code("000003");
                }
                books.live.remove(&id);
                books.released.insert(id);
                code("000000")
            }
            "queryInstance" => {
                need!("instanceId");
                if self.conduct.bare_query {
                    return code("000000");
                }
                // The console's debug ids exist nowhere; they are listed all the same, since
                // every requested instance must appear in the answer (V1 §1 FAQ, V2 §8.3).
                let ids: Vec<String> = get("instanceId")
                    .unwrap()
                    .split(',')
                    .filter(|id| debug || books.live.contains(*id))
                    .map(str::to_owned)
                    .collect();
                if ids.is_empty() && !debug {
                    return code("000003");
                }
                let mut answer = code("000000");
                if !self.v2 {
                    answer.insert("encryptType".into(), json!("2"));
                }
                let info: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({"instanceId": id, "appInfo": self.app_info(&books, id)}))
                    .collect();
                answer.insert("info".into(), json!(info));
                answer
            }
            _ => code("000002"),
        }
    }

    fn v1(&self, query: &str) -> Map<String, Value> {
        let params: BTreeMap<String, String> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect();
        let token = params.get("authToken").cloned().unwrap_or_default();
        let stamp = params.get("timeStamp").cloned().unwrap_or_default();
        let string = params
            .iter()
            .filter(|(k, _)| *k != "authToken")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        if B64.encode(hmac(format!("{KEY}{stamp}").as_bytes(), string.as_bytes())) != token {
            return code("000001");
        }
        self.handle(&params)
    }

    fn v2(&self, query: &str, body: &[u8]) -> Map<String, Value> {
        let params: BTreeMap<String, String> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect();
        let (Some(sig), Some(ts), Some(nonce)) = (
            params.get("signature"),
            params.get("timestamp"),
            params.get("nonce"),
        ) else {
            return code("000001");
        };
        if ts
            .parse::<i64>()
            .map_or(true, |t| (now_ms() - t).abs() > 60_000)
        {
            return code("000002");
        }
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
            return code("000002");
        };
        let sorted: BTreeMap<String, Value> =
            object.into_iter().filter(|(_, v)| !v.is_null()).collect();
        let payload = serde_json::to_string(&sorted).unwrap();
        let inner = hex::encode(hmac(KEY.as_bytes(), payload.as_bytes()));
        let expected = hex::encode(hmac(
            KEY.as_bytes(),
            format!("{KEY}{nonce}{ts}{inner}").as_bytes(),
        ));
        if !expected.eq_ignore_ascii_case(sig) {
            return code("000001");
        }
        let fields = sorted
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect();
        self.handle(&fields)
    }
}

async fn serve(
    State(merchant): State<Arc<Independent>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let mut answer = if merchant.v2 {
        merchant.v2(&query, &body)
    } else {
        merchant.v1(&query)
    };
    merchant.misbehave(&mut answer);
    let bytes = Value::Object(answer).to_string();
    let mut response =
        ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response();
    if !merchant.v2 {
        let signature = B64.encode(hmac(KEY.as_bytes(), bytes.as_bytes()));
        let value = format!("sign_type=\"HMAC-SHA256\",signature=\"{signature}\"");
        let wrong = format!(
            "sign_type=\"HMAC-SHA256\",signature=\"{}\"",
            B64.encode([0u8; 32])
        );
        let headers = response.headers_mut();
        match merchant.conduct.body_sign_twice {
            None => {
                headers.insert("Body-Sign", value.parse().unwrap());
            }
            Some(correct_first) => {
                let (first, second) = if correct_first {
                    (value, wrong)
                } else {
                    (wrong, value)
                };
                headers.append("Body-Sign", first.parse().unwrap());
                headers.append("Body-Sign", second.parse().unwrap());
            }
        }
    }
    response
}

impl Independent {
    /// The hostile conducts that change an answer's content.
    fn misbehave(&self, answer: &mut Map<String, Value>) {
        if self.conduct.echo_key {
            let echoed = format!("{KEY} {} {}", B64.encode(KEY), hex::encode(KEY));
            answer.insert("resultMsg".into(), json!(echoed));
        }
        if self.conduct.pad_result_msg > 0 {
            answer.insert(
                "resultMsg".into(),
                json!("x".repeat(self.conduct.pad_result_msg)),
            );
        }
    }
}

/// How the merchant's HTTP server writes header names on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderCase {
    /// `Body-Sign`, as a servlet container writes what the code set.
    AsWritten,
    /// `body-sign`: what a server that lowercases every name sends (axum's default).
    Lowercase,
    /// `Body-sign`, `Content-type`: what com.sun.net.httpserver sends (the first letter
    /// upper case, the rest lower case), whatever the code set.
    FirstLetterOnly,
}

/// A connection whose answer heads are rewritten as com.sun.net.httpserver writes them: each
/// header name's first letter upper case, the rest as hyper wrote it (lower case). The
/// rewrite keeps every length, so what hyper counts as written stays true.
struct FirstLetterHeads<S> {
    inner: S,
    /// Bytes of the head's end (`\r\n\r\n`) matched so far; 4 once in the body.
    matched: u8,
    /// Whether the next byte starts a header line.
    line_start: bool,
}

impl<S> FirstLetterHeads<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            matched: 0,
            line_start: false,
        }
    }

    /// The bytes as they go out, and the state after them.
    fn rewrite(&self, buf: &[u8]) -> (Vec<u8>, u8, bool) {
        let (mut matched, mut line_start) = (self.matched, self.line_start);
        let mut out = buf.to_vec();
        for byte in &mut out {
            if matched == 4 {
                break;
            }
            if line_start && *byte != b'\r' {
                byte.make_ascii_uppercase();
            }
            line_start = false;
            matched = match (*byte, matched) {
                (b'\r', 0 | 2) => matched + 1,
                (b'\n', 1) => {
                    line_start = true;
                    2
                }
                (b'\n', 3) => 4,
                _ => 0,
            };
        }
        (out, matched, line_start)
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for FirstLetterHeads<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for FirstLetterHeads<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let (out, _, _) = self.rewrite(buf);
        let written = std::pin::Pin::new(&mut self.inner).poll_write(cx, &out);
        if let std::task::Poll::Ready(Ok(n)) = &written {
            let (_, matched, line_start) = self.rewrite(&buf[..*n]);
            self.matched = matched;
            self.line_start = line_start;
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) async fn start_with(v2: bool, case: HeaderCase, conduct: Conduct) -> String {
    start_calling(v2, case, conduct, None).await
}

/// The software: a License code in, activation and a heartbeat out.
async fn software(State(merchant): State<Arc<Independent>>, body: Bytes) -> Response {
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["license"].as_str().map(str::to_owned));
    match (code, &merchant.open_api) {
        (Some(code), Some(open_api)) => {
            tokio::spawn(open_api.clone().use_license(code));
            "activating".into_response()
        }
        _ => (axum::http::StatusCode::BAD_REQUEST, "no").into_response(),
    }
}

/// The merchant, calling the open APIs at `open_api` when given.
pub(crate) async fn start_calling(
    v2: bool,
    case: HeaderCase,
    conduct: Conduct,
    open_api: Option<OpenApiAccess>,
) -> String {
    let address = serve_app(router(v2, conduct, open_api), case).await;
    format!("http://{address}/produce")
}

/// The merchant's app: the production interface on every path, the software's License entry.
pub(crate) fn router(v2: bool, conduct: Conduct, open_api: Option<OpenApiAccess>) -> axum::Router {
    axum::Router::new()
        .route("/software/license", axum::routing::post(software))
        .fallback(serve)
        .with_state(Arc::new(Independent {
            v2,
            conduct,
            books: Mutex::default(),
            open_api: open_api.map(Arc::new),
        }))
}

/// Serves an app on a fresh loopback port, header names written as `case` says.
pub(crate) async fn serve_app(app: axum::Router, case: HeaderCase) -> std::net::SocketAddr {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.title_case_headers(case == HeaderCase::AsWritten);
                if case == HeaderCase::FirstLetterOnly {
                    // One answer per connection: the rewrite follows one head.
                    builder.keep_alive(false);
                    let stream = FirstLetterHeads::new(stream);
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                } else {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            });
        }
    });
    address
}

/// The optional interfaces of a period product, every one declared.
pub(crate) fn optional_interfaces(v2: bool) -> &'static [&'static str] {
    if v2 {
        &["upgrade", "change-instance-check"]
    } else {
        &["upgrade", "query-instance", "instance-status"]
    }
}

async fn start(v2: bool) -> String {
    start_with(v2, HeaderCase::AsWritten, Conduct::default()).await
}

/// `kgsim run --no-snapshots --target URL` followed by `extra`.
fn run_args(url: &str, extra: &[&str]) -> Vec<String> {
    ["run", "--no-snapshots", "--target", url]
        .iter()
        .chain(extra)
        .map(|a| (*a).to_owned())
        .collect()
}

/// Runs `kgsim run` against `url` off the async runtime, with `extra` arguments.
async fn run_against(url: &str, extra: &[&str]) -> crate::support::Run {
    let args = run_args(url, extra);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kgsim(&args, Some(KEY), None)
    })
    .await
    .unwrap()
}

/// Runs `kgsim run --json` against `url`; returns the run and the checks that failed.
pub(crate) async fn failing_against(url: &str, extra: &[&str]) -> (i32, BTreeSet<String>, String) {
    let args = run_args(url, extra);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (run, report) = crate::support::kgsim_json(&args, Some(KEY));
        (
            run.code,
            crate::fault_matrix::failing_checks(&report),
            run.stdout,
        )
    })
    .await
    .unwrap()
}

/// Implementing every interface, and declaring the optional ones, passes in every kind.
#[tokio::test(flavor = "multi_thread")]
async fn the_suite_passes_against_an_independent_correct_merchant() {
    for (protocol, v2) in [("v1", false), ("v2", true)] {
        let url = start(v2).await;
        for billing in ["period", "one-time", "on-demand", "package"] {
            // The basic interfaces only: this merchant calls no open API (another test
            // covers them), so a V2 or on-demand run is incomplete without failing.
            let mut extra = vec![
                "--protocol",
                protocol,
                "--billing",
                billing,
                "--allow-incomplete",
            ];
            if billing == "period" {
                for interface in optional_interfaces(v2) {
                    extra.extend(["--interface", interface]);
                }
            }
            let run = run_against(&url, &extra).await;
            assert_eq!(
                run.code, 0,
                "{protocol} {billing}:\n{}\n{}",
                run.stdout, run.stderr
            );
        }
    }
}

/// A merchant implementing exactly its kind's required interfaces, and refusing every other
/// activity with 000002, passes the default profile in all eight kinds — for V1 period
/// products that means without queryInstance and without upgrade.
#[tokio::test(flavor = "multi_thread")]
async fn a_merchant_implementing_exactly_its_kinds_interfaces_passes_in_every_kind() {
    for (protocol, v2) in [("v1", false), ("v2", true)] {
        for billing in ["period", "one-time", "on-demand", "package"] {
            let conduct = Conduct {
                exact: Some(billing),
                ..Conduct::default()
            };
            let url = start_with(v2, HeaderCase::AsWritten, conduct).await;
            let basic = [
                "--protocol",
                protocol,
                "--billing",
                billing,
                "--allow-incomplete",
            ];
            let run = run_against(&url, &basic).await;
            assert_eq!(
                run.code, 0,
                "{protocol} {billing}:\n{}\n{}",
                run.stdout, run.stderr
            );
        }
    }
    // The conduct is real: declaring an interface this merchant lacks fails the run.
    let conduct = Conduct {
        exact: Some("period"),
        ..Conduct::default()
    };
    let url = start_with(false, HeaderCase::AsWritten, conduct).await;
    let (code, failing, _) = failing_against(&url, &["--interface", "upgrade"]).await;
    assert_eq!(code, 1);
    assert!(failing.contains("lifecycle.accepted"), "{failing:?}");
}

/// Declaring instance-status on a V1 period product enables the violation scenario; a merchant
/// that then refuses `instanceStatus=NORMAL` fails. A V2 period merchant refusing UNFREEZE after
/// a lifted violation or a renewal fails too.
#[tokio::test(flavor = "multi_thread")]
async fn refusing_to_unfreeze_fails() {
    let v1 = Conduct {
        exact: Some("period"),
        extra: &["instanceStatus"],
        refuse_unfreeze: true,
        ..Conduct::default()
    };
    let url = start_with(false, HeaderCase::AsWritten, v1).await;
    let (code, failing, stdout) = failing_against(&url, &["--interface", "instance-status"]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(failing.contains("lifecycle.accepted"), "{failing:?}");
    assert!(
        stdout.contains("a violation freezes the instance"),
        "{stdout}"
    );

    let v2 = Conduct {
        exact: Some("period"),
        refuse_unfreeze: true,
        ..Conduct::default()
    };
    let url = start_with(true, HeaderCase::AsWritten, v2).await;
    let (code, failing, stdout) = failing_against(&url, &["--protocol", "v2"]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(failing.contains("lifecycle.accepted"), "{failing:?}");
}

/// `{"resultCode":"000000","resultMsg":"ok"}` lists no instance: the console refuses it wherever
/// a queryInstance is sent, not only where a scenario counts the listing.
#[tokio::test(flavor = "multi_thread")]
async fn a_query_answer_that_lists_nothing_fails() {
    for (protocol, v2, billing) in [("v2", true, "period"), ("v1", false, "on-demand")] {
        let conduct = Conduct {
            exact: Some(billing),
            bare_query: true,
            ..Conduct::default()
        };
        let url = start_with(v2, HeaderCase::AsWritten, conduct).await;
        let (code, failing, stdout) =
            failing_against(&url, &["--protocol", protocol, "--billing", billing]).await;
        assert_eq!(code, 1, "{protocol} {billing}: {stdout}");
        assert!(
            failing.contains("console.query-listing"),
            "{protocol} {billing}: {failing:?}"
        );
    }
}

/// The console's `Body-Sign` rule is case-sensitive (spec V1 §1): the same correct merchant
/// behind a server that lowercases header names fails exactly that check, on live exchanges.
#[tokio::test(flavor = "multi_thread")]
async fn a_lowercased_body_sign_header_fails_the_body_sign_check() {
    let url = start_with(false, HeaderCase::Lowercase, Conduct::default()).await;
    let (code, failing, stdout) = failing_against(&url, &["--filter", "purchase/period"]).await;
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(failing, BTreeSet::from(["console.body-sign".to_owned()]));
    assert!(
        stdout.contains("the header is named `body-sign`"),
        "{stdout}"
    );
}

/// The Java merchant: com.sun.net.httpserver names the header `Body-sign`, and the code
/// answers a newInstance that lacks a mandatory parameter with 000000. Two independent
/// defects, two root failures — the second is not hidden as a consequence of the first —
/// and the diagnosis names the header as received.
#[tokio::test(flavor = "multi_thread")]
async fn a_java_merchant_gets_both_of_its_defects_and_a_diagnosis_naming_the_header() {
    let conduct = Conduct {
        ignore_missing: true,
        ..Conduct::default()
    };
    let url = start_with(false, HeaderCase::FirstLetterOnly, conduct).await;
    let (code, failing, stdout) = failing_against(&url, &[]).await;
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        failing,
        BTreeSet::from([
            "console.body-sign".to_owned(),
            "security.missing-parameter".to_owned()
        ]),
        "{stdout}"
    );
    let diagnosis = stdout.lines().nth(2).unwrap_or_default();
    assert!(
        diagnosis.starts_with("DIAGNOSIS")
            && diagnosis.contains(
                "answers named the header `Body-sign`; the console requires exactly `Body-Sign`"
            ),
        "{stdout}"
    );
    assert!(
        stdout.contains("normalises header names: com.sun.net.httpserver sends `Body-sign`;"),
        "{stdout}"
    );
}

#[test]
fn first_letter_heads_rewrite_header_names_only() {
    let heads = FirstLetterHeads::new(());
    let (out, matched, _) =
        heads.rewrite(b"HTTP/1.1 200 OK\r\nbody-sign: x\r\ncontent-type: a\r\n\r\nbody-sign");
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK\r\nBody-sign: x\r\nContent-type: a\r\n\r\nbody-sign".to_vec()
    );
    assert_eq!(matched, 4);
}

/// A free loopback port for the open APIs (bound and released: the merchant is told the
/// address before kgsim starts serving on it).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A merchant that calls the open APIs kgsim will serve on a port of its own: its production
/// address and the `--openapi-listen` address.
async fn start_calling_open_apis(v2: bool, conduct: Conduct) -> (String, String) {
    let port = free_port();
    let access = OpenApiAccess {
        base: format!("http://127.0.0.1:{port}"),
        ak: "independent-ak".into(),
        sk: "independent-sk".into(),
        key: KEY.into(),
    };
    let url = start_calling(v2, HeaderCase::AsWritten, conduct, Some(access)).await;
    (url, format!("127.0.0.1:{port}"))
}

/// `kgsim run --json` with the open-API AK/SK the calling merchant signs with.
async fn run_with_open_apis(args: Vec<String>) -> (crate::support::Run, Value) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::kgsim_json_env(
            &args,
            Some(KEY),
            &[
                ("KGSIM_OPENAPI_AK", "independent-ak"),
                ("KGSIM_OPENAPI_SK", "independent-sk"),
            ],
        )
    })
    .await
    .unwrap()
}

/// The open-API scenarios pass against a merchant that signs its calls with its own code:
/// query-order (V2), usage push (on-demand, V1 and V2), License activation.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_merchant_passes_the_open_api_scenarios() {
    let cases: [(bool, &str, &[&str]); 4] = [
        (true, "period", &["--open-api", "query-order"]),
        (true, "on-demand", &[]),
        (false, "on-demand", &[]),
        (true, "period", &["--open-api", "license"]),
    ];
    for (v2, billing, extra) in cases {
        let (url, listen) = start_calling_open_apis(v2, Conduct::default()).await;
        let software = url.replace("/produce", "/software/license");
        let protocol = if v2 { "v2" } else { "v1" };
        let mut args = run_args(
            &url,
            &[
                "--protocol",
                protocol,
                "--billing",
                billing,
                "--filter",
                "openapi",
                "--openapi-listen",
                &listen,
                "--software-url",
                &software,
            ],
        );
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let (run, report) = run_with_open_apis(args).await;
        assert_eq!(
            run.code, 0,
            "{protocol} {billing} {extra:?}:\n{}\n{}",
            run.stdout, run.stderr
        );
        let passed = report["summary"]["passed"].as_u64().unwrap();
        assert!(
            passed >= 1,
            "{protocol} {billing}: no open-API scenario ran\n{}",
            run.stdout
        );
    }
}

/// Usage a merchant pushes against a stop-when-used-up package uses its quota up, and the
/// marketplace stops the on-demand instance it pays for.
#[tokio::test(flavor = "multi_thread")]
async fn usage_against_a_package_stops_its_instance_when_the_quota_is_used_up() {
    let conduct = Conduct {
        package_usage: true,
        ..Conduct::default()
    };
    let (url, listen) = start_calling_open_apis(false, conduct).await;
    let args = run_args(
        &url,
        &[
            "--billing",
            "on-demand",
            "fixtures/checks/package-quota.yaml",
            "--openapi-listen",
            &listen,
        ],
    );
    let (run, _) = run_with_open_apis(args).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 passed"), "{}", run.stdout);
}

/// Found by an independent Node merchant: a V2 on-demand run without the open-API AK/SK
/// skipped query-order and usage push, which that kind requires, and still ended
/// "conformant". It is "incomplete", exit 1, the JUnit shows both cases skipped with the
/// reason; `--allow-incomplete` keeps exit 0 for local use.
#[tokio::test(flavor = "multi_thread")]
async fn on_demand_without_open_api_credentials_is_incomplete() {
    let url = start_with(true, HeaderCase::AsWritten, Conduct::default()).await;
    let junit = crate::support::temp_file("incomplete.xml", b"");
    let base = [
        "--protocol",
        "v2",
        "--billing",
        "on-demand",
        "--junit",
        junit.to_str().unwrap(),
    ];
    let run = run_against(&url, &base).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let summary = run.stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("incomplete: "), "{summary}");
    assert!(
        summary.contains("2 of them required for this product")
            && summary.contains("KGSIM_OPENAPI_AK"),
        "{summary}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    for case in ["openapi/query-order.yaml", "openapi/usage-push.yaml"] {
        let at = xml.find(case).unwrap_or_else(|| panic!("{case} in {xml}"));
        let after = &xml[at..];
        let case_xml = &after[..after.find("</testcase>").unwrap()];
        assert!(
            case_xml.contains("<skipped message=\"the open APIs are not served"),
            "{case_xml}"
        );
    }
    let mut allowed = base.to_vec();
    allowed.push("--allow-incomplete");
    let run = run_against(&url, &allowed).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("incomplete: ")
    );
}

/// With the open APIs served, the same merchant that queries its orders but pushes no usage
/// is not conformant — and since its query-order arrived, the finding does not send it to
/// check its base URL and AK/SK, which work.
#[tokio::test(flavor = "multi_thread")]
async fn a_merchant_that_pushes_no_usage_fails_without_the_base_url_hint() {
    let conduct = Conduct {
        no_usage: true,
        ..Conduct::default()
    };
    let (url, listen) = start_calling_open_apis(true, conduct).await;
    let args = run_args(
        &url,
        &[
            "--protocol",
            "v2",
            "--billing",
            "on-demand",
            "--filter",
            "openapi",
            "--openapi-listen",
            &listen,
            "--await-within",
            "2s",
        ],
    );
    let (run, report) = run_with_open_apis(args).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["verdict"], "not conformant");
    let usage = run
        .stdout
        .lines()
        .find(|l| l.contains("did not make 1 usage record(s)"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(usage.contains("reached the open APIs 1 time(s)"), "{usage}");
    assert!(
        !usage.contains("base URL at the one kgsim serves"),
        "{usage}"
    );
}
