//! Explorations from the console (`POST /api/products/{id}/explorations`): against the
//! reference merchant with a fault that needs a particular sequence of events (the third
//! renewal of an instance refused), an exploration finds it and keeps the shrunk scenario,
//! which replays as a suite run that fails; against the correct merchant it finds nothing;
//! the same seed finds the same scenario.

use kgsim::merchant::{Fault, Faults, MerchantConfig};
use kgsim::protocol::{AccessKey, Protocol};
use serde_json::{Value, json};

use crate::console::{Api, start_in_process};
use crate::independent_merchant::KEY;
use crate::support::start_merchant;

/// Starts an exploration and returns it once it ended: its events end when it does.
async fn explore_to_the_end(api: &Api, product: i64, seed: u64) -> Value {
    let started = api
        .post(
            &format!("/api/products/{product}/explorations"),
            json!({"seed": seed, "steps": 2000}),
        )
        .await;
    let id = started["exploration_id"].as_i64().unwrap();
    let _ = api.follow(&format!("/api/explorations/{id}/events")).await;
    let detail = api.get(&format!("/api/explorations/{id}")).await;
    assert_eq!(detail["status"], "finished", "{detail}");
    detail
}

async fn merchant(faults: &[Fault]) -> String {
    let mut config = MerchantConfig::new(Protocol::V1, AccessKey::new(KEY));
    config.faults = Faults::of(faults.iter().copied());
    start_merchant(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exploration_finds_a_sequence_fault_and_its_scenario_replays() {
    let console = start_in_process("explorations.db", None).await;
    let api = Api::new(&format!("http://{}", console.address));
    let faulty = merchant(&[Fault::ThirdRenewalRefused]).await;
    let product = api.create_product(&faulty, "v1").await;

    let found = explore_to_the_end(&api, product, 1).await;
    assert_eq!(found["check_id"], "console.result-code", "{found}");
    let scenario = found["scenario"].as_str().unwrap();
    assert!(scenario.contains("kgsim explore --seed 1"), "{scenario}");
    // The third refreshInstance of one instance (a renewal or a renewal's refund) is refused.
    assert!(scenario.matches("renew").count() >= 3, "{scenario}");
    assert!(
        found["coverage"].as_str().unwrap().contains("renew"),
        "{found}"
    );
    let again = explore_to_the_end(&api, product, 1).await;
    assert_eq!(
        again["scenario"], found["scenario"],
        "the same seed, the same scenario"
    );

    // Replayed as a suite run: it fails as it did.
    let id = found["exploration_id"].as_i64().unwrap();
    let (status, started) = api
        .try_post(&format!("/api/explorations/{id}/replay"), json!({}))
        .await;
    assert_eq!(status, 202, "{started}");
    let run = started["run_id"].as_i64().unwrap();
    let _ = api.follow(&format!("/api/runs/{run}/events")).await;
    let replayed = api.get(&format!("/api/runs/{run}")).await;
    assert_eq!(replayed["verdict"], "not-conformant", "{replayed}");
    let page = api.page(&format!("/explorations/{id}")).await;
    assert!(
        page.contains("console.result-code") && page.contains("Replay"),
        "{page}"
    );

    // The correct merchant: nothing found, nothing to replay.
    let correct = merchant(&[]).await;
    let product = api.create_product(&correct, "v1").await;
    let clean = explore_to_the_end(&api, product, 1).await;
    assert!(clean["check_id"].is_null(), "{clean}");
    assert!(clean["scenario"].is_null(), "{clean}");
    assert!(clean["steps"].as_i64().unwrap() >= 2000, "{clean}");
    let id = clean["exploration_id"].as_i64().unwrap();
    let (status, refused) = api
        .try_post(&format!("/api/explorations/{id}/replay"), json!({}))
        .await;
    assert_eq!(status, 400, "{refused}");
}
