//! Suite runs from the console (`POST /api/products/{id}/runs`): against the independent
//! merchant (its own signatures, no kgsim protocol code) a run finishes conformant; against a
//! broken deployment not conformant with the failing scenarios listed; the reports download
//! as JUnit and JSON; the transcripts are kept as the product's snapshots, a changed one
//! shown as a diff and accepted or rejected; scenarios needing the open APIs are skipped,
//! with the reason, when the console does not serve them and pass when it does; a run cut
//! short by a restart shows as interrupted.

use serde_json::{Value, json};

use crate::console::{Api, Mode, Served, Switched, fresh_db};
use crate::independent_merchant::{Conduct, HeaderCase};

/// Starts a run and returns it once finished: the run's events end when it does (no polling).
async fn run_to_the_end(api: &Api, product: i64, patterns: &[&str]) -> Value {
    let (status, started) = api
        .try_post(
            &format!("/api/products/{product}/runs"),
            json!({"scenarios": patterns}),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let run = started["run_id"].as_i64().unwrap();
    let events = api.follow(&format!("/api/runs/{run}/events")).await;
    let detail = api.get(&format!("/api/runs/{run}")).await;
    assert_eq!(detail["status"], "finished", "{detail}\nevents: {events}");
    detail
}

fn statuses(detail: &Value) -> Vec<(String, String)> {
    detail["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn console(name: &str, open_api: Option<kgsim::open_api::Keys>) -> kgsim::console::Running {
    crate::console::start_in_process(name, open_api).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_run_judges_the_product_and_keeps_its_transcripts() {
    let merchant = Switched::start(false).await;
    let console = console("runs.db", None).await;
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v1").await;

    // A correct merchant: conformant, every scenario that applies passed, transcripts new.
    let first = run_to_the_end(&api, product, &[]).await;
    assert_eq!(first["verdict"], "conformant", "{first}");
    assert_eq!(first["conformant"], true);
    let ran = statuses(&first);
    assert!(ran.len() > 20, "{ran:?}");
    assert!(ran.iter().all(|(_, s)| s != "failed"), "{ran:?}");
    assert!(
        first["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "passed")
            .all(|s| s["snapshot"] == "new"),
        "{first}"
    );
    let listed = api.get(&format!("/api/products/{product}/runs")).await;
    assert_eq!(listed[0]["run_id"], first["run_id"], "{listed}");
    assert_eq!(listed[0]["verdict"], "conformant");

    // The same merchant again: the same transcripts.
    let purchase = ["purchase/period"];
    let again = run_to_the_end(&api, product, &purchase).await;
    assert_eq!(again["verdict"], "conformant", "{again}");
    assert!(
        again["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["snapshot"] == "matched"),
        "{again}"
    );

    // A broken deployment: not conformant, its failing scenarios listed, the transcript's
    // diff shown for review.
    merchant.set(Mode::Broken);
    let broken = run_to_the_end(&api, product, &purchase).await;
    assert_eq!(broken["verdict"], "not-conformant", "{broken}");
    assert_eq!(broken["conformant"], false);
    let scenario = &broken["scenarios"][0];
    assert_eq!(scenario["status"], "failed", "{broken}");
    assert_eq!(scenario["snapshot"], "changed", "{broken}");
    let diff = scenario["diff"].as_str().unwrap();
    assert!(
        diff.contains("+++ this run") && diff.contains("500"),
        "{diff}"
    );
    let run = broken["run_id"].as_i64().unwrap();

    // Its reports, as `kgsim run --junit/--json` write them.
    let junit = api
        .http
        .get(format!("{}/api/runs/{run}/junit.xml", api.base))
        .send()
        .await
        .unwrap();
    assert!(
        junit.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("xml")
    );
    let junit = junit.text().await.unwrap();
    assert!(
        junit.contains("<testsuites") && junit.contains("<failure"),
        "{junit}"
    );
    let report = api.get(&format!("/api/runs/{run}/report.json")).await;
    assert_eq!(report["verdict"], "not conformant", "{report}");
    assert_eq!(report["target"], merchant.url.as_str());

    // The page shows the run, its failure as the terminal shows it and the diff to review.
    let page = api.page(&format!("/runs/{run}")).await;
    assert!(
        page.contains("not-conformant") && page.contains("FAIL"),
        "{page}"
    );
    assert!(page.contains("id=\"accept-0\""), "{page}");

    // Accepted: a later run of the broken merchant matches; rejected: it differs again.
    let file = scenario["file"].as_str().unwrap();
    let decided = api
        .post(
            &format!("/api/runs/{run}/transcripts"),
            json!({"file": file, "decision": "accept"}),
        )
        .await;
    assert_eq!(decided["snapshot"], "accepted", "{decided}");
    let after = run_to_the_end(&api, product, &purchase).await;
    assert_eq!(after["scenarios"][0]["snapshot"], "matched", "{after}");
    merchant.set(Mode::Correct);
    let fixed = run_to_the_end(&api, product, &purchase).await;
    assert_eq!(fixed["scenarios"][0]["snapshot"], "changed", "{fixed}");
    let fixed_run = fixed["run_id"].as_i64().unwrap();
    let decided = api
        .post(
            &format!("/api/runs/{fixed_run}/transcripts"),
            json!({"file": file, "decision": "reject"}),
        )
        .await;
    assert_eq!(decided["snapshot"], "rejected", "{decided}");
    let still = run_to_the_end(&api, product, &purchase).await;
    assert_eq!(still["scenarios"][0]["snapshot"], "changed", "{still}");

    // What cannot run is a 400 naming why; the product's own orders were never touched.
    let (status, refused) = api
        .try_post(
            &format!("/api/products/{product}/runs"),
            json!({"scenarios": ["no-such-scenario"]}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("no-such-scenario"),
        "{refused}"
    );
    assert_eq!(
        api.get(&format!("/api/products/{product}/orders")).await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_api_scenarios_run_when_the_console_serves_them_and_say_why_when_not() {
    // Without --openapi-listen: skipped, and the run says how to have them.
    let merchant = crate::independent_merchant::start_calling(
        true,
        HeaderCase::AsWritten,
        Conduct::default(),
        None,
    )
    .await;
    let console_without = console("runs-unserved.db", None).await;
    let api = Api::new(&format!("http://{}", console_without.address));
    let product = api.create_product(&merchant, "v2").await;
    let unserved = run_to_the_end(&api, product, &["openapi/query-order"]).await;
    assert_eq!(unserved["scenarios"][0]["status"], "skipped", "{unserved}");
    assert!(
        unserved["note"]
            .as_str()
            .unwrap()
            .contains("--openapi-listen"),
        "{unserved}"
    );
    assert!(
        unserved["scenarios"][0]["skip_reason"]
            .as_str()
            .unwrap()
            .contains("--openapi-listen"),
        "{unserved}"
    );

    // Served: the merchant's calls are answered for the run's orders and judged.
    let (console, calling) = crate::console::serving_open_apis("runs-served.db").await;
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&calling, "v2").await;
    let served = run_to_the_end(&api, product, &["openapi/query-order"]).await;
    assert_eq!(served["scenarios"][0]["status"], "passed", "{served}");
    assert_eq!(served["verdict"], "conformant", "{served}");
    assert!(served["note"].is_null(), "{served}");
    // The calls are stored as the product's.
    let calls = api.get("/api/merchant-calls").await;
    assert!(
        calls
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["product_id"] == product && c["endpoint"] == "query-order"),
        "{calls}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_short_by_a_restart_shows_as_interrupted() {
    let merchant = Switched::start(false).await;
    merchant.set(Mode::Hang);
    let db = fresh_db("runs-interrupted.db");
    let served = Served::start(&db);
    let api = Api::new(&served.base);
    let product = api.create_product(&merchant.url, "v1").await;
    let started = api
        .post(
            &format!("/api/products/{product}/runs"),
            json!({"scenarios": ["purchase/period"]}),
        )
        .await;
    let run = started["run_id"].as_i64().unwrap();
    merchant.arrived.notified().await;
    let live = api.get(&format!("/api/runs/{run}")).await;
    assert_eq!(live["status"], "running", "{live}");
    assert!(live["conformant"].is_null(), "{live}");
    served.kill();

    let again = Served::start(&db);
    assert!(
        again
            .output
            .lock()
            .unwrap()
            .contains("1 suite run(s) were cut short"),
        "{}",
        again.output.lock().unwrap()
    );
    let api = Api::new(&again.base);
    let detail = api.get(&format!("/api/runs/{run}")).await;
    assert_eq!(detail["status"], "interrupted", "{detail}");
    assert!(detail["conformant"].is_null(), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_with_its_own_scenario_folder_runs_those() {
    let merchant = Switched::start(false).await;
    let console = console("runs-folder.db", None).await;
    let api = Api::new(&format!("http://{}", console.address));
    let folder = crate::support::temp_dir("own-scenarios");
    std::fs::write(
        folder.join("renew-twice.yaml"),
        "name: our renewals\nsteps:\n  - purchase: {}\n    as: p\n  - renew: {instance: p}\n  - renew: {instance: p}\n    expect: {instance: active}\n",
    )
    .unwrap();
    let created = api
        .post(
            "/api/products",
            json!({"production_address": merchant.url, "scenarios": folder.display().to_string()}),
        )
        .await;
    let product = created["id"].as_i64().unwrap();
    let run = run_to_the_end(&api, product, &[]).await;
    assert_eq!(run["source"], folder.display().to_string(), "{run}");
    assert_eq!(statuses(&run).len(), 1, "{run}");
    assert_eq!(run["scenarios"][0]["name"], "our renewals");
    assert_eq!(run["verdict"], "conformant", "{run}");

    // A scenario that does not load: a 400 with the file, line and column.
    std::fs::write(
        folder.join("broken.yaml"),
        "name: broken\nsteps:\n  - purchse: {}\n",
    )
    .unwrap();
    let (status, refused) = api
        .try_post(&format!("/api/products/{product}/runs"), json!({}))
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("broken.yaml:3:"), "{message}");

    // A file is not a folder: refused without reading it.
    let created = api
        .post(
            "/api/products",
            json!({"production_address": merchant.url, "scenarios": folder.join("broken.yaml").display().to_string()}),
        )
        .await;
    let product = created["id"].as_i64().unwrap();
    let (status, refused) = api
        .try_post(&format!("/api/products/{product}/runs"), json!({}))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("is not a directory"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_optional_interface_brings_its_scenarios_into_the_run() {
    let merchant = Switched::start(false).await;
    let console = console("runs-interfaces.db", None).await;
    let api = Api::new(&format!("http://{}", console.address));
    let plain = api.create_product(&merchant.url, "v1").await;
    let skipped = run_to_the_end(&api, plain, &["lifecycle/upgrade"]).await;
    assert_eq!(skipped["scenarios"][0]["status"], "skipped", "{skipped}");
    assert!(
        skipped["scenarios"][0]["skip_reason"]
            .as_str()
            .unwrap()
            .contains("upgrade"),
        "{skipped}"
    );
    let created = api
        .post(
            "/api/products",
            json!({"production_address": merchant.url, "interfaces": ["upgrade"]}),
        )
        .await;
    let declared = created["id"].as_i64().unwrap();
    let ran = run_to_the_end(&api, declared, &["lifecycle/upgrade"]).await;
    assert_eq!(ran["scenarios"][0]["status"], "passed", "{ran}");
    let (status, refused) = api
        .try_post(
            "/api/products",
            json!({"production_address": merchant.url, "interfaces": ["new-instance"]}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused.to_string().contains("not an optional interface"),
        "{refused}"
    );
}
