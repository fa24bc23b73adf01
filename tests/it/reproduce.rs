//! `kgsim reproduce` end to end: a V1 production URL whose `authToken` only production could
//! verify is re-signed with the local key and accepted by the independent merchant (its own
//! verification, none of kgsim's protocol code); the same as a curl command; a merchant with
//! a broken `Body-Sign` is named as such (exit 1); a paste that is no request is exit 2 with
//! what could not be read.

use crate::independent_merchant::{Conduct, HeaderCase, KEY, start_with};
use crate::support::kgsim;

/// A V1 newInstance as production logs it, with a token this key never made.
pub(crate) fn production_url(target: &str) -> String {
    let signed = kgsim(
        &["load", "--target", target, "--print-request"],
        Some(KEY),
        None,
    );
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let url = signed.stdout.trim().to_owned();
    let start = url.find("authToken=").expect("a token") + "authToken=".len();
    let end = url[start..].find('&').map_or(url.len(), |i| start + i);
    format!("{}forged%2BToken%3D{}", &url[..start], &url[end..])
}

async fn reproduce(args: Vec<String>) -> crate::support::Run {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kgsim(&args, Some(KEY), None)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_production_url_with_a_foreign_token_is_re_signed_and_accepted() {
    let target = start_with(false, HeaderCase::AsWritten, Conduct::default()).await;
    let url = {
        let target = target.clone();
        tokio::task::spawn_blocking(move || production_url(&target))
            .await
            .unwrap()
    };
    for request in [url.clone(), format!("curl -s '{url}' -H 'Accept: */*'")] {
        let run = reproduce(vec![
            "reproduce".into(),
            "--target".into(),
            target.clone(),
            request,
        ])
        .await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("newInstance → HTTP 200"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.trim_end().ends_with("accepted"),
            "{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_answer_is_rejected_under_its_check() {
    let target = start_with(false, HeaderCase::AsWritten, Conduct::default()).await;
    let url = tokio::task::spawn_blocking(move || production_url(&target))
        .await
        .unwrap();
    let run = reproduce(vec![
        "reproduce".into(),
        "--merchant-fault".into(),
        "bad-body-sign".into(),
        url,
    ])
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("rejected: console.body-sign"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_paste_that_is_no_request_says_what_could_not_be_read() {
    for (paste, says) in [
        ("", "the request is empty"),
        (
            "GET /produce?activity=newInstance",
            "no http:// or https:// URL",
        ),
        (
            "https://m.example.com/produce?instanceId=1",
            "no `activity`",
        ),
        ("curl 'https://m.example.com/produce", "unclosed ' quote"),
        (
            "https://m.example.com/produce?activity=refreshInstance",
            "not a valid V1 request",
        ),
    ] {
        let run = kgsim(&["reproduce", paste], Some(KEY), None);
        assert_eq!(run.code, 2, "{paste}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{paste}: {}", run.stderr);
    }
}

/// `POST /api/products/{id}/reproduce`: the same through the console — a production URL with
/// a foreign token re-signed with the product's key and accepted; a paste it cannot read, or
/// of the other protocol, a 400 naming what was wrong; the product's orders untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_reproduces_a_pasted_request_against_a_product() {
    let merchant = crate::console::Switched::start(false).await;
    let config = kgsim::console::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: crate::console::fresh_db("reproduce.db"),
        key: kgsim::protocol::AccessKey::new(KEY),
        keys: kgsim::marketplace::settings::InterfaceKeys::default(),
        allow_hosts: Vec::new(),
        tick: std::time::Duration::from_secs(3600),
        open_api: None,
    };
    let console = kgsim::console::start(config).await.unwrap();
    let api = crate::console::Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v1").await;
    let url = {
        let target = merchant.url.clone();
        tokio::task::spawn_blocking(move || production_url(&target))
            .await
            .unwrap()
    };
    let path = format!("/api/products/{product}/reproduce");
    let (status, outcome) = api
        .try_post(&path, serde_json::json!({"request": url}))
        .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["attempt"]["verdict"], "accepted", "{outcome}");
    assert_eq!(outcome["attempt"]["exchange"]["activity"], "newInstance");
    assert_eq!(outcome["attempt"]["exchange"]["status"], 200);

    // Saved as a debug case: the dial tests replay it with every field the paste had.
    let (status, saved) = api
        .try_post(&path, serde_json::json!({"request": url, "save": true}))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved["saved_case"].is_i64(), "{saved}");
    let replayed = api
        .post(
            "/api/debug-cases/run",
            serde_json::json!({"product_id": product}),
        )
        .await;
    assert_eq!(replayed["passed"], 1, "{replayed}");
    let page = api.page(&format!("/products/{product}/debug")).await;
    assert!(
        page.contains("edited: "),
        "the case keeps the pasted fields: {page}"
    );

    let (status, refused) = api
        .try_post(&path, serde_json::json!({"request": "curl 'https://m/p"}))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("unclosed"), "{refused}");
    let v2 = "https://m.example.com/produce?signature=x\n{\"activity\":\"newInstance\"}";
    let (status, refused) = api
        .try_post(&path, serde_json::json!({"request": v2}))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("is a v2 request"), "{refused}");
    let orders = api.get(&format!("/api/products/{product}/orders")).await;
    assert_eq!(
        orders,
        serde_json::json!([]),
        "nothing was bought: {orders}"
    );
}
