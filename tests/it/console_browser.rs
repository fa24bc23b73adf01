//! The console in a real browser: headless Chromium, driven over WebDriver (chromedriver),
//! clicks through what a merchant does — add a product pointing at a merchant, buy, watch
//! newInstance succeed in the live log, break the merchant, see the notice fail and restart
//! it, save a debug case — then kills the console, starts it again on the same database and
//! reloads: the same state. Screenshots of the main pages go to `docs/console/`.
//!
//! Needs `chromedriver` and Chromium (Debian: `chromium-driver`, `chromium`; `.ci/run`
//! installs them). Without them the test says so and passes, unless
//! `KGSIM_BROWSER_TESTS=required` (as in CI), where it fails.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::console::{Api, Mode, Served, Switched, fresh_db};
use crate::independent_merchant::free_port;

/// A chromedriver process.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// Starts chromedriver, or explains why the test cannot run.
fn start_driver() -> Option<Driver> {
    let Some(program) = on_path("chromedriver") else {
        let why =
            "chromedriver is not installed (Debian: apt-get install chromium chromium-driver)";
        assert!(
            std::env::var("KGSIM_BROWSER_TESTS").as_deref() != Ok("required"),
            "{why}"
        );
        eprintln!("skipped: {why}");
        return None;
    };
    let port = free_port();
    // Chromium's profile and its singleton socket go to TMPDIR: the test's scratch directory,
    // removed when the test ends, instead of the system's temporary directory.
    let mut child = Command::new(program)
        .arg(format!("--port={port}"))
        .env("TMPDIR", crate::support::temp_dir("chromium"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("started successfully") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
    });
    if let Some(chromium) = on_path("chromium") {
        options["binary"] = json!(chromium);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap()
}

/// Waits (at most 20 s: a hang guard, not a performance limit) for an element.
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// Waits until an element (an XPath) whose text contains `text` is on the page; returns its
/// text.
async fn text_appears(client: &Client, xpath: &str, text: &str) -> String {
    let wanted = format!("{xpath}[contains(., '{text}')]");
    match client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&wanted))
        .await
    {
        Ok(found) => found.text().await.unwrap_or_default(),
        Err(error) => {
            let page = client.source().await.unwrap_or_default();
            panic!("{wanted} never appeared ({error}):\n{page}");
        }
    }
}

async fn click(client: &Client, css: &str) {
    element(client, css).await.click().await.unwrap();
}

/// A row the live log added (server-sent events), not one the page was rendered with.
const FRESH_ROW: &str = "//tbody[@id='live-log']/tr[contains(@class, 'fresh')]";

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/console")
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::create_dir_all(docs_dir()).unwrap();
    std::fs::write(docs_dir().join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_the_console_in_chromium_and_finds_it_again_after_a_restart() {
    let Some(driver) = start_driver() else {
        return;
    };
    let merchant = Switched::start(false).await;
    let db = fresh_db("browser.db");
    let listen = format!("127.0.0.1:{}", free_port());
    let served = Served::start_on(&db, &listen);
    let base = served.base.clone();
    let client = browser(&driver).await;

    // Add a product pointing at the merchant.
    client.goto(&format!("{base}/")).await.unwrap();
    element(&client, "#production-address")
        .await
        .send_keys(&merchant.url)
        .await
        .unwrap();
    element(&client, "#product-name")
        .await
        .send_keys("Demo SaaS")
        .await
        .unwrap();
    click(&client, "#create-product").await;
    text_appears(&client, "//h1", "Demo SaaS").await;
    let product_url = client.current_url().await.unwrap().to_string();

    // Watch the live log while a purchase is made: the row arrives over server-sent events.
    client.goto(&format!("{base}/log")).await.unwrap();
    element(&client, "body[data-live='on']").await;
    let api = Api::new(&base);
    api.post("/api/purchases", json!({"product_id": 1})).await;
    text_appears(&client, FRESH_ROW, "new-instance #1").await;
    text_appears(&client, FRESH_ROW, "accepted").await;

    // Buy in the browser: the order page shows the accepted newInstance.
    client.goto(&product_url).await.unwrap();
    click(&client, "#buy").await;
    text_appears(&client, "//*[@id='timeline']", "new-instance").await;
    text_appears(&client, "//*[@id='timeline']", "accepted").await;
    screenshot(&client, "order.png").await;

    // Break the merchant: freezing instance 0 fails; a day later its retries ran out.
    merchant.set(Mode::Broken);
    client.goto(&product_url).await.unwrap();
    click(&client, "#act-freeze-0").await;
    text_appears(&client, "//*[@id='instances']", "suspended").await;
    screenshot(&client, "product.png").await;
    click(&client, "#advance-1d").await;
    text_appears(&client, "//*[@id='clock-state']", "advanced").await;
    client.goto(&format!("{base}/log")).await.unwrap();
    let failed = text_appears(&client, "//*[@id='failed']", "instance-status").await;
    assert!(!failed.contains("None."), "{failed}");
    text_appears(&client, "//*[@id='live-log']", "console.http-status").await;
    screenshot(&client, "log.png").await;

    // Fix it and restart the notice from 生产接口消息.
    merchant.set(Mode::Correct);
    click(&client, "#failed button").await;
    text_appears(&client, "//*[@id='failed']", "None.").await;

    // The debug page: debug and save a case.
    client
        .goto(&format!("{base}/products/1/debug"))
        .await
        .unwrap();
    click(&client, "#debug-save").await;
    text_appears(&client, "//*[@id='debug-result']", "accepted").await;
    text_appears(&client, "//*[@id='cases']", "new-instance").await;
    screenshot(&client, "debug.png").await;
    client.goto(&format!("{base}/")).await.unwrap();
    text_appears(&client, "//*[@id='products']", "Demo SaaS").await;
    screenshot(&client, "products.png").await;

    // kill -9, start again on the same database and address, reload: the same state.
    client.goto(&product_url).await.unwrap();
    let before = element(&client, "#orders").await.text().await.unwrap();
    served.kill();
    let _served = Served::start_on(&db, &listen);
    client.refresh().await.unwrap();
    let after = element(&client, "#orders").await.text().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(after.matches("opened").count(), 2, "{after}");
    client.close().await.unwrap();
}

/// axe-core (from its npm package; `scripts/fetch-axe.sh` fetches it and `.ci/run` sets
/// `KGSIM_AXE_JS`), or why the accessibility check cannot run.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("KGSIM_AXE_JS");
    match path.map(std::fs::read_to_string) {
        Some(Ok(source)) => Some(source),
        other => {
            let why = format!(
                "axe-core is not available ({other:?}): run `scripts/fetch-axe.sh` and set KGSIM_AXE_JS to the path it prints"
            );
            assert!(
                std::env::var("KGSIM_BROWSER_TESTS").as_deref() != Ok("required"),
                "{why}"
            );
            eprintln!("accessibility check skipped: {why}");
            None
        }
    }
}

/// Runs axe-core in the page: no violation of WCAG 2 A/AA rules with a serious or critical
/// impact.
async fn accessible(client: &Client, axe: Option<&str>, page: &str) {
    let Some(axe) = axe else {
        return;
    };
    client
        .execute(&format!("{axe}\nreturn true;"), Vec::new())
        .await
        .unwrap();
    let violations = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                      v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        violations,
        json!([]),
        "{page}: serious accessibility violations"
    );
}

/// Sets a text input's (or textarea's) value.
async fn fill(client: &Client, css: &str, text: &str) {
    let field = element(client, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_runs_transcripts_the_debug_form_and_reproduce_work_in_chromium() {
    let Some(driver) = start_driver() else {
        return;
    };
    let axe = axe_source();
    let merchant = Switched::start(false).await;
    let served = Served::start(&fresh_db("browser-runs.db"));
    let base = served.base.clone();
    let api = Api::new(&base);
    let product = api.create_product(&merchant.url, "v1").await;
    let client = browser(&driver).await;

    // A run of the correct merchant, started on the product page: conformant.
    client
        .goto(&format!("{base}/products/{product}"))
        .await
        .unwrap();
    accessible(&client, axe.as_deref(), "the product page").await;
    fill(&client, "#run-patterns", "purchase/period").await;
    click(&client, "#start-run").await;
    text_appears(&client, "//*[@id='run-verdict']", "conformant").await;
    text_appears(&client, "//*[@id='run-scenarios']", "passed").await;
    screenshot(&client, "run.png").await;
    accessible(&client, axe.as_deref(), "a run").await;

    // The merchant broken: not conformant, the failure as the terminal shows it, and the
    // transcript's diff — accepted from the page.
    merchant.set(Mode::Broken);
    client
        .goto(&format!("{base}/products/{product}"))
        .await
        .unwrap();
    fill(&client, "#run-patterns", "purchase/period").await;
    click(&client, "#start-run").await;
    text_appears(&client, "//*[@id='run-verdict']", "not-conformant").await;
    text_appears(&client, "//pre[@id='failure-0']", "FAIL").await;
    text_appears(&client, "//pre[contains(@class, 'diff')]", "+++ this run").await;
    screenshot(&client, "transcripts.png").await;
    accessible(
        &client,
        axe.as_deref(),
        "a failed run with a changed transcript",
    )
    .await;
    click(&client, "#accept-0").await;
    text_appears(&client, "//*[@id='transcript-0']", "accepted").await;
    client
        .goto(&format!("{base}/products/{product}"))
        .await
        .unwrap();
    text_appears(&client, "//*[@id='runs']", "not-conformant").await;
    merchant.set(Mode::Correct);

    // The debug form: a value the table refuses is shown beside its field and nothing is
    // sent; the corrected request is signed, sent and judged.
    client
        .goto(&format!(
            "{base}/products/{product}/debug?activity=new-instance&variant=0"
        ))
        .await
        .unwrap();
    fill(&client, "#field-orderId", &"C".repeat(65)).await;
    click(&client, "#generate").await;
    text_appears(&client, "//*[@id='field-orderId-error']", "at most 64").await;
    accessible(&client, axe.as_deref(), "the debug form with an error").await;
    // Sent again as it stands, the refused value is still the one judged.
    click(&client, "#generate").await;
    text_appears(&client, "//*[@id='field-orderId-error']", "at most 64").await;
    fill(&client, "#field-orderId", "CSEDITED0001").await;
    click(&client, "#debug-save").await;
    text_appears(&client, "//*[@id='debug-result']", "accepted").await;
    text_appears(&client, "//*[@id='curl']", "orderId=CSEDITED0001").await;
    text_appears(&client, "//*[@id='cases']", "edited: orderId=CSEDITED0001").await;
    screenshot(&client, "debug-form.png").await;

    // Reproduce a production request whose token only production could check.
    let url = {
        let target = merchant.url.clone();
        tokio::task::spawn_blocking(move || crate::reproduce::production_url(&target))
            .await
            .unwrap()
    };
    fill(&client, "#reproduce-request", &url).await;
    click(&client, "#reproduce").await;
    text_appears(&client, "//*[@id='reproduce-result']", "accepted").await;
    screenshot(&client, "reproduce.png").await;
    accessible(
        &client,
        axe.as_deref(),
        "the debug page after a reproduction",
    )
    .await;

    // An exploration of a merchant with a fault only a sequence of events shows: found,
    // shrunk, and replayed as a suite run.
    let mut config = kgsim::merchant::MerchantConfig::new(
        kgsim::protocol::Protocol::V1,
        kgsim::protocol::AccessKey::new(crate::independent_merchant::KEY),
    );
    config.faults = kgsim::merchant::Faults::of([kgsim::merchant::Fault::ThirdRenewalRefused]);
    let faulty = crate::support::start_merchant(config).await;
    let explored = api.create_product(&faulty, "v1").await;
    client
        .goto(&format!("{base}/products/{explored}"))
        .await
        .unwrap();
    fill(&client, "#explore-seed", "1").await;
    click(&client, "#start-exploration").await;
    text_appears(
        &client,
        "//*[@id='exploration-check']",
        "console.result-code",
    )
    .await;
    text_appears(
        &client,
        "//*[@id='exploration-scenario']",
        "kgsim explore --seed 1",
    )
    .await;
    screenshot(&client, "exploration.png").await;
    accessible(
        &client,
        axe.as_deref(),
        "an exploration that found a failure",
    )
    .await;
    click(&client, "#replay-exploration").await;
    text_appears(&client, "//*[@id='run-verdict']", "not-conformant").await;

    // Readable on a narrow window: nothing wider than the screen but the tables, which scroll
    // in their own box.
    client.set_window_size(375, 800).await.unwrap();
    for page in [
        format!("/products/{product}"),
        "/runs/2".to_owned(),
        format!("/products/{product}/debug"),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        element(&client, "main").await;
        // The page is no wider than the window (the tables scroll in their own box); if it
        // is, the elements whose content sticks out.
        let wide = client
            .execute(
                "const root = document.documentElement;
                 if (root.scrollWidth <= root.clientWidth) return [];
                 return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.scrollWidth > e.clientWidth + 0.5 && getComputedStyle(e).overflowX !== 'auto')
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + e.scrollWidth + '/' + e.clientWidth);",
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(wide, json!([]), "{page} is wider than a narrow window");
    }
    client.set_window_size(1280, 1000).await.unwrap();

    // The other pages pass the same check.
    for page in ["/", "/log", "/openapi", "/usage-records"] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        element(&client, "main").await;
        accessible(&client, axe.as_deref(), page).await;
    }
    client.close().await.unwrap();
}
