//! `kgsim serve`: the JSON API end to end against the independent merchant (its own
//! signatures, no kgsim protocol code), persistence across a `kill -9` with a retry pending
//! and an attempt in flight, the dial tests' 5-day rule, the DNS-rebinding and CSRF guards,
//! and the session exported as a scenario that the scenario decoder accepts.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::IntoResponse as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::independent_merchant::{Conduct, HeaderCase, KEY, router, serve_app};

/// How the switched merchant answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// As the independent merchant does.
    Correct,
    /// HTTP 500 to everything: a broken deployment.
    Broken,
    /// Never answers (and says so on `arrived`): a request in flight.
    Hang,
}

/// The independent merchant behind a switch the test flips.
pub(crate) struct Switched {
    pub(crate) url: String,
    mode: Arc<Mutex<Mode>>,
    pub(crate) arrived: Arc<tokio::sync::Notify>,
}

impl Switched {
    pub(crate) async fn start(v2: bool) -> Self {
        let inner = router(v2, Conduct::default(), None);
        let mode = Arc::new(Mutex::new(Mode::Correct));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let (m, a) = (mode.clone(), arrived.clone());
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (inner, mode, arrived) = (inner.clone(), m.clone(), a.clone());
            async move {
                let now = *mode.lock().unwrap();
                match now {
                    Mode::Correct => inner.oneshot(request).await.into_response(),
                    Mode::Broken => {
                        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "broken").into_response()
                    }
                    Mode::Hang => {
                        arrived.notify_one();
                        std::future::pending::<axum::response::Response>().await
                    }
                }
            }
        });
        let address = serve_app(app, HeaderCase::AsWritten).await;
        Self {
            url: format!("http://{address}/produce"),
            mode,
            arrived,
        }
    }

    pub(crate) fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

/// A `kgsim serve` process.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
    pub(crate) output: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `kgsim serve` on a free port with `db`; returns once it listens.
    pub(crate) fn start(db: &Path) -> Self {
        Self::start_on(db, "127.0.0.1:0")
    }

    /// Starts `kgsim serve` on `listen` with `db`; returns once it listens.
    pub(crate) fn start_on(db: &Path, listen: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kgsim"))
            .args(["serve", "--listen", listen, "--db"])
            .arg(db)
            .env("KGSIM_ACCESS_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Warnings come first, then the address: read up to it before anything is asserted.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut output = String::new();
        let base = loop {
            let line = lines.next().unwrap().unwrap();
            output.push_str(&format!("{line}\n"));
            if let Some(address) = line.strip_prefix("console: ") {
                break address.trim_end_matches('/').to_owned();
            }
        };
        let output = Arc::new(Mutex::new(output));
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Self {
            child,
            base,
            output,
        }
    }

    /// `kill -9`.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database path in the test's scratch directory (removed, with the database's
/// journal files, when the test ends).
pub(crate) fn fresh_db(name: &str) -> PathBuf {
    crate::support::scratch_path(name)
}

/// A JSON API client for one console.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: crate::independent_client::http(),
        }
    }

    async fn send_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let response = self.send_get(path).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// Reads a stream of server-sent events to its end (a run's or an exploration's ends
    /// with it): waits without polling.
    pub(crate) async fn follow(&self, path: &str) -> String {
        self.send_get(path).await.text().await.unwrap()
    }

    /// A page's HTML.
    pub(crate) async fn page(&self, path: &str) -> String {
        let response = self.send_get(path).await;
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.text().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.try_post(path, body).await;
        assert!(status < 300, "POST {path}: {status} {value}");
        value
    }

    pub(crate) async fn try_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn create_product(&self, url: &str, protocol: &str) -> i64 {
        let created = self
            .post(
                "/api/products",
                json!({"production_address": url, "protocol": protocol, "billing": "period"}),
            )
            .await;
        created["id"].as_i64().unwrap()
    }
}

/// The notice of an order detail about an activity.
fn notice(detail: &Value, activity: &str) -> Value {
    detail["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["activity"] == activity)
        .unwrap_or_else(|| panic!("no {activity} notice in {detail}"))
        .clone()
}

/// The activities of a list of attempts that were accepted.
pub(crate) fn accepted(attempts: &Value) -> Vec<String> {
    attempts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["verdict"] == "accepted")
        .map(|a| a["activity"].as_str().unwrap().to_owned())
        .collect()
}

fn verdicts(attempts: &Value) -> Vec<(String, String)> {
    attempts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["verdict"].as_str().unwrap().to_owned(),
                a["check_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_kill_9_and_pending_retries_and_in_flight_attempts_resume() {
    let merchant = Switched::start(false).await;
    let db = fresh_db("console.db");
    let served = Served::start(&db);
    let api = Api::new(&served.base);
    let product = api.create_product(&merchant.url, "v1").await;
    let bought = api
        .post("/api/purchases", json!({"product_id": product}))
        .await;
    let first_order = bought["order_id"].as_str().unwrap().to_owned();
    assert_eq!(
        verdicts(&bought["attempts"]),
        [("accepted".into(), String::new())]
    );
    assert!(bought["instance_id"].is_string(), "{bought}");
    assert_eq!(
        api.get(&format!("/api/orders/{first_order}")).await["status"],
        "opened"
    );

    // A broken deployment: the freeze notice fails and waits for its retry.
    merchant.set(Mode::Broken);
    let frozen = api
        .post(
            "/api/instances/actions",
            json!({"product_id": product, "instance": 0, "action": "freeze"}),
        )
        .await;
    assert_eq!(
        verdicts(&frozen),
        [("rejected".into(), "console.http-status".into())]
    );

    // One console per database: a second one is refused at once.
    let second = Command::new(env!("CARGO_BIN_EXE_kgsim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("KGSIM_ACCESS_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("in use by another kgsim serve"), "{stderr}");

    // A purchase whose newInstance is in flight when the console is killed.
    merchant.set(Mode::Hang);
    let arrived = merchant.arrived.notified();
    let pending = {
        let api = api.clone();
        // Killed mid-request: its answer never comes.
        tokio::spawn(async move {
            let url = format!("{}/api/purchases", api.base);
            let _ = api
                .http
                .post(url)
                .json(&json!({"product_id": product}))
                .send()
                .await;
        })
    };
    tokio::time::timeout(Duration::from_secs(30), arrived)
        .await
        .expect("the newInstance never arrived");
    served.kill();
    let _ = pending.await;

    merchant.set(Mode::Correct);
    let served = Served::start(&db);
    let api = Api::new(&served.base);
    // Any change first brings every product up to now: the resumed attempt is done after it.
    api.post("/api/clock/advance", json!({"by": "0s"})).await;
    let output = served.output.lock().unwrap().clone();
    assert!(
        output.contains("were in flight when the console stopped"),
        "{output}"
    );
    let orders = api.get(&format!("/api/products/{product}/orders")).await;
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 2, "{orders:?}");
    let second = orders
        .iter()
        .find(|o| o["order_id"] != first_order.as_str())
        .unwrap();
    assert_eq!(
        second["status"], "opened",
        "the in-flight newInstance was sent again"
    );
    let first = api.get(&format!("/api/orders/{first_order}")).await;
    let freeze = notice(&first, "instance-status");
    assert_eq!(freeze["state"], "scheduled", "{freeze}");
    assert_eq!(freeze["attempts"], 1);

    // The retry schedule resumes on the console's clock.
    api.post("/api/clock/advance", json!({"by": "1d"})).await;
    let first = api.get(&format!("/api/orders/{first_order}")).await;
    let freeze = notice(&first, "instance-status");
    assert_eq!(freeze["state"], "succeeded", "{freeze}");
    assert_eq!(
        verdicts(&freeze["attempt_log"]),
        [
            ("rejected".into(), "console.http-status".into()),
            ("accepted".into(), String::new())
        ]
    );

    // The access key is never written to the database.
    drop(served);
    for file in [db.clone(), db.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "{}",
            file.display()
        );
    }
}

/// An in-process console on a fresh database.
async fn in_process(name: &str) -> kgsim::console::Running {
    start_in_process(name, None).await
}

pub(crate) async fn start_in_process(
    name: &str,
    open_api: Option<kgsim::open_api::Keys>,
) -> kgsim::console::Running {
    let config = kgsim::console::ServeConfig {
        open_api: open_api.map(|keys| ("127.0.0.1:0".parse().unwrap(), keys)),
        ..config_for(fresh_db(name))
    };
    kgsim::console::start(config).await.unwrap()
}

/// An in-process console's settings: a free loopback port, `db`, the independent merchant's
/// key, a ticker that never fires on its own during a test.
fn config_for(db: PathBuf) -> kgsim::console::ServeConfig {
    kgsim::console::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        db,
        key: kgsim::protocol::AccessKey::new(KEY),
        keys: kgsim::marketplace::settings::InterfaceKeys::default(),
        allow_hosts: Vec::new(),
        tick: Duration::from_secs(3600),
        open_api: None,
    }
}

/// A console serving the open APIs, and the independent V2 merchant calling them with its
/// own signer (query-order for each order it is told about); its production address.
pub(crate) async fn serving_open_apis(name: &str) -> (kgsim::console::Running, String) {
    let keys = kgsim::open_api::Keys {
        app_key: "independent-ak".into(),
        app_secret: kgsim::protocol::AccessKey::new("independent-sk"),
        usage_key: kgsim::protocol::AccessKey::new(KEY),
    };
    let console = start_in_process(name, Some(keys)).await;
    let (base, _) = console.open_api.clone().unwrap();
    let access = crate::independent_client::OpenApiAccess {
        base,
        ak: "independent-ak".into(),
        sk: "independent-sk".into(),
        key: KEY.into(),
    };
    let url = crate::independent_merchant::start_calling(
        true,
        HeaderCase::AsWritten,
        Conduct::default(),
        Some(access),
    )
    .await;
    (console, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_apis_answer_from_the_consoles_orders() {
    // The independent merchant queries each V2 order it is told about, with its own signer.
    let (console, url) = serving_open_apis("openapi.db").await;
    let (_, book) = console.open_api.clone().unwrap();
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&url, "v2").await;
    let bought = api
        .post("/api/purchases", json!({"product_id": product}))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    assert!(
        book.wait_for(deadline, |state| !state.calls.is_empty())
            .await,
        "the merchant never called"
    );
    let calls = api.get("/api/merchant-calls").await;
    let call = &calls[0];
    assert_eq!(call["endpoint"], "query-order", "{calls}");
    assert_eq!(call["product_id"], product);
    assert_eq!(call["status"], 200, "{call}");
    assert_eq!(call["findings"], json!([]), "{call}");
    assert!(
        call["request_line"]
            .as_str()
            .unwrap()
            .contains(bought["order_id"].as_str().unwrap()),
        "{call}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_product_restarts_a_failed_notice_and_replays_saved_cases() {
    let merchant = Switched::start(true).await;
    let console = in_process("v2.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v2").await;
    let bought = api
        .post("/api/purchases", json!({"product_id": product}))
        .await;
    let order = bought["order_id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/api/orders/{order}")).await["status"],
        "opened"
    );

    merchant.set(Mode::Broken);
    api.post(
        "/api/instances/actions",
        json!({"product_id": product, "instance": 0, "action": "freeze"}),
    )
    .await;
    // Jump from scheduled event to event until the notice's retries run out.
    for _ in 0..200 {
        let detail = api.get(&format!("/api/orders/{order}")).await;
        let status_notice = notice(&detail, "instance-status");
        if status_notice["state"] == "exhausted" {
            break;
        }
        api.post("/api/clock/next", json!({})).await;
    }
    let detail = api.get(&format!("/api/orders/{order}")).await;
    let status_notice = notice(&detail, "instance-status");
    assert_eq!(status_notice["state"], "exhausted", "{status_notice}");
    let id = status_notice["id"].as_str().unwrap().to_owned();
    let (status, refused) = api
        .try_post(&format!("/api/notices/{product}.0/restart"), json!({}))
        .await;
    assert_eq!(status, 409, "only a failed notice restarts: {refused}");

    merchant.set(Mode::Correct);
    let restarted = api
        .post(&format!("/api/notices/{id}/restart"), json!({}))
        .await;
    assert_eq!(verdicts(&restarted), [("accepted".into(), String::new())]);

    // The debug page: a case shown as curl, sent, judged and saved; "replay all".
    let preview = api
        .post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "new-instance", "send": false}),
        )
        .await;
    assert!(
        preview["curl"]
            .as_str()
            .unwrap()
            .starts_with("curl -X POST"),
        "{preview}"
    );
    assert!(preview["outcome"].is_null());
    let saved = api
        .post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "new-instance"}),
        )
        .await;
    assert_eq!(saved["outcome"]["verdict"], "accepted", "{saved}");
    assert!(saved["case_id"].is_i64());
    let replayed = api
        .post("/api/debug-cases/run", json!({"product_id": product}))
        .await;
    assert_eq!(
        replayed,
        json!({"passed": 1, "failed": 0, "trading_frozen": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_days_of_failed_dial_tests_freeze_trading_until_a_clean_replay() {
    let merchant = Switched::start(false).await;
    let console = in_process("dial.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v1").await;
    let saved = api
        .post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "new-instance", "variant": 1}),
        )
        .await;
    assert_eq!(saved["outcome"]["verdict"], "accepted");
    // A frozen clock moved to the next dial slot (00:00 or 12:00 Beijing): the day counting
    // starts there, whatever the time of day the test runs at.
    api.post("/api/clock/freeze", json!({"frozen": true})).await;
    merchant.set(Mode::Broken);
    api.post("/api/clock/next", json!({})).await;
    api.post("/api/clock/advance", json!({"by": "3d"})).await;
    let listed = api.get("/api/products").await;
    assert_eq!(
        listed[0]["trading_frozen"], false,
        "four days are not enough"
    );
    api.post("/api/clock/advance", json!({"by": "1d"})).await;
    assert_eq!(api.get("/api/products").await[0]["trading_frozen"], true);

    merchant.set(Mode::Correct);
    let replayed = api
        .post("/api/debug-cases/run", json!({"product_id": product}))
        .await;
    assert_eq!(
        replayed,
        json!({"passed": 1, "failed": 0, "trading_frozen": false})
    );
}

/// What, method, path, headers, body, and the status it must get.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    &'a str,
    u16,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_hosts_and_cross_site_changes_are_refused() {
    let console = in_process("guard.db").await;
    let base = format!("http://{}", console.address);
    let foreign_host = format!("evil.example:{}", console.address.port());
    let form = "application/x-www-form-urlencoded";
    // (what, method, path, headers, body, status)
    let cases: [Case<'_>; 4] = [
        (
            "DNS rebinding",
            "GET",
            "/api/health",
            vec![("host", foreign_host.as_str())],
            "",
            421,
        ),
        (
            "cross-site form",
            "POST",
            "/ui/clock",
            vec![("origin", "http://evil.example"), ("content-type", form)],
            "op=next",
            403,
        ),
        (
            "form without this start's token",
            "POST",
            "/ui/clock",
            vec![("content-type", form)],
            "token=guessed&op=next",
            403,
        ),
        (
            "a foreign page's no-preflight POST",
            "POST",
            "/api/clock/advance",
            vec![("content-type", "text/plain")],
            r#"{"by":"1d"}"#,
            415,
        ),
    ];
    let http = crate::independent_client::http();
    for (what, method, path, headers, body, status) in cases {
        let mut request = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
    }
    let health = Api::new(&base).get("/api/health").await;
    assert_eq!(health["clock"]["offset_ms"], 0, "nothing moved the clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_and_the_exported_scenario_are_usable() {
    let merchant = Switched::start(false).await;
    let console = in_process("export.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let document = api.get("/api/openapi.json").await;
    for path in [
        "/api/health",
        "/api/products",
        "/api/purchases",
        "/api/orders/{order_id}",
        "/api/clock/advance",
        "/api/notices/{id}/restart",
        "/api/debug-cases",
        "/api/debug-cases/run",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} is not documented"
        );
    }
    let product = api.create_product(&merchant.url, "v1").await;
    api.post(
        "/api/purchases",
        json!({"product_id": product, "trial": true}),
    )
    .await;
    api.post(
        "/api/instances/actions",
        json!({"product_id": product, "instance": 0, "action": "convert-trial"}),
    )
    .await;
    api.post("/api/clock/advance", json!({"by": "3h"})).await;
    api.post(
        "/api/instances/actions",
        json!({"product_id": product, "instance": 0, "action": "freeze"}),
    )
    .await;
    api.post(
        "/api/debug-cases",
        json!({"product_id": product, "activity": "query-instance"}),
    )
    .await;
    let yaml = api.get(&format!("/api/products/{product}/scenario")).await;
    let yaml = yaml.as_str().unwrap();
    assert!(yaml.contains("  - purchase: {trial: true}\n    as: order1\n  - convert-trial: {instance: order1}\n  - advance: 3h\n  - freeze: order1\n"), "{yaml}");
    kgsim::scenario::format::decode::decode("exported.yaml", yaml)
        .unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
}

/// Every route of the API is in its document and every documented route is served: the
/// router is built from the documented handlers only (the event stream and the document
/// itself excepted), and each documented path and method answers from a handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_documented_and_every_documented_route_is_served() {
    let console = in_process("routes.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let document = api.get("/api/openapi.json").await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/kit/actions",
        "/api/products/{id}/enterprises",
        "/api/merchant-calls",
        "/api/log",
        "/api/products/{id}/scenario",
        "/api/products/{id}/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/junit.xml",
        "/api/runs/{run_id}/report.json",
        "/api/runs/{run_id}/transcripts",
        "/api/products/{id}/explorations",
        "/api/explorations/{exploration_id}",
        "/api/explorations/{exploration_id}/replay",
        "/api/products/{id}/debug-form",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    for (path, operations) in paths {
        let concrete = path
            .replace("{id}", "1.0")
            .replace("{run_id}", "1.0")
            .replace("{exploration_id}", "1.0")
            .replace("{order_id}", "CS1");
        for method in operations.as_object().unwrap().keys() {
            let url = format!("{}{concrete}", api.base);
            let request = match method.as_str() {
                "get" => api.http.get(&url),
                "post" => api.http.post(&url).json(&json!({})),
                other => panic!("{path}: unexpected method {other}"),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            // A route's own 404 says what is missing; the router's has no body.
            assert!(
                status != 405 && !(status == 404 && body.is_empty()),
                "{method} {path}: {status} {body:?}: documented but not served"
            );
        }
    }
    // No route is added beside the documented router.
    let mut undocumented = Vec::new();
    for file in ["src/console/http/mod.rs", "src/console/http/pages/mod.rs"] {
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices(".route(\"/api") {
            let route: String = text[at + 8..].chars().take_while(|c| *c != '"').collect();
            let streams = [
                "/api/events",
                "/api/runs/{run_id}/events",
                "/api/explorations/{exploration_id}/events",
            ];
            if !streams.contains(&route.as_str()) && route != "/api/openapi.json" {
                undocumented.push(route);
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented routes: {undocumented:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_second_writes_nothing_to_the_journal() {
    let merchant = Switched::start(false).await;
    let db = fresh_db("idle.db");
    let console = kgsim::console::start(config_for(db.clone())).await.unwrap();
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v1").await;
    api.post("/api/purchases", json!({"product_id": product}))
        .await;
    let entries = || {
        let connection = rusqlite::Connection::open(&db).unwrap();
        connection
            .query_row("SELECT count(*) FROM journal", [], |row| {
                row.get::<_, i64>(0)
            })
            .unwrap()
    };
    let before = entries();
    for _ in 0..100 {
        for task in console.app.service.tick().await.unwrap() {
            task.await.unwrap().unwrap();
        }
    }
    assert_eq!(
        entries(),
        before,
        "the wall-clock ticker journals only what falls due"
    );
}

/// The independent V1 merchant with one more field in every answer, which the console does
/// not read: 20 KB of it, and the answer signed again over the new body.
async fn padded_merchant() -> String {
    use base64::Engine as _;
    let inner = router(false, Conduct::default(), None);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let inner = inner.clone();
        async move {
            let answer = inner.oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(answer.into_body(), usize::MAX)
                .await
                .unwrap();
            let mut value: Value = serde_json::from_slice(&bytes).unwrap();
            value["notes"] = json!("x".repeat(20_000));
            let body = value.to_string();
            let signature = base64::engine::general_purpose::STANDARD
                .encode(crate::independent::hmac(KEY.as_bytes(), body.as_bytes()));
            let sign = format!("sign_type=\"HMAC-SHA256\",signature=\"{signature}\"");
            (
                [
                    ("content-type", "application/json".to_owned()),
                    ("body-sign", sign),
                ],
                body,
            )
        }
    });
    let address = serve_app(app, HeaderCase::AsWritten).await;
    format!("http://{address}/produce")
}

/// A restart judges each stored answer again: it must be the answer as received, not the one
/// cut down for display (a long string cut and the body re-serialised no longer matches its
/// `Body-Sign`, and the replayed order would fall back to pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_judges_each_answer_as_it_was_received() {
    let url = padded_merchant().await;
    let db = fresh_db("padded.db");
    let console = kgsim::console::start(config_for(db.clone())).await.unwrap();
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&url, "v1").await;
    let bought = api
        .post("/api/purchases", json!({"product_id": product}))
        .await;
    let order = bought["order_id"].as_str().unwrap().to_owned();
    assert_eq!(
        verdicts(&bought["attempts"]),
        [("accepted".into(), String::new())]
    );
    let detail = api.get(&format!("/api/orders/{order}")).await;
    let shown = detail["notices"][0]["attempt_log"][0]["answer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        shown.len() < 20_000,
        "the call log keeps the answer cut down: {} bytes",
        shown.len()
    );
    drop(console);

    let console = kgsim::console::start(config_for(db)).await.unwrap();
    let api = Api::new(&format!("http://{}", console.address));
    let detail = api.get(&format!("/api/orders/{order}")).await;
    assert_eq!(detail["status"], "opened", "{detail}");
}

/// One product's merchant hanging never stalls another product: its purchase waits on its
/// own product's lock while a purchase on a healthy product comes and goes, pages and the
/// API's reads answer, and a wall-clock tick serves the healthy product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_merchant_stalls_only_its_own_product() {
    let hanging = Switched::start(false).await;
    let healthy = Switched::start(false).await;
    hanging.set(Mode::Hang);
    let console = in_process("hanging.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let stuck = api.create_product(&hanging.url, "v1").await;
    let fine = api.create_product(&healthy.url, "v1").await;
    let arrived = hanging.arrived.notified();
    let blocked = {
        let api = Api::new(&api.base);
        tokio::spawn(async move {
            api.try_post("/api/purchases", json!({"product_id": stuck}))
                .await
        })
    };
    // The hanging product's newInstance is at its merchant, its product's lock held.
    arrived.await;
    let bought = api
        .post("/api/purchases", json!({"product_id": fine}))
        .await;
    assert_eq!(bought["attempts"][0]["verdict"], "accepted", "{bought}");
    api.get("/log").await;
    api.get(&format!("/products/{fine}")).await;
    let ticked = console.app.service.tick().await.unwrap();
    for task in ticked {
        // The tick skips the busy product instead of waiting for it.
        task.await.unwrap().unwrap();
    }
    assert!(
        !blocked.is_finished(),
        "the hanging product's purchase is still waiting for its merchant"
    );
    blocked.abort();
}

/// A product request with a value outside an enum is a 400 that names the allowed values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_product_kind_is_a_400_listing_the_allowed_values() {
    let console = in_process("enum.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let (status, body) = api
        .try_post(
            "/api/products",
            json!({"production_address": "http://127.0.0.1:9/p", "protocol": "v3"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("protocol"), "{error}");
    assert!(error.contains("`v1`") && error.contains("`v2`"), "{error}");
    let document = api.get("/api/openapi.json").await;
    let protocol = &document["components"]["schemas"]["Protocol"]["enum"];
    assert_eq!(protocol, &json!(["v1", "v2"]), "{document}");
}
