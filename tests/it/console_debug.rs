//! The debug page's form, as the real console's: a case's parameters prefilled and editable,
//! each edit checked against the interface's table before anything is signed, the edited
//! request shown signed (生成请求命令) and sent to the independent merchant (its own
//! signatures), and a saved edited case replayed with its edits.

use serde_json::json;

use crate::console::{Api, Switched, start_in_process};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debug_form_sends_the_edited_fields_and_refuses_what_the_table_does() {
    let merchant = Switched::start(true).await;
    let console = start_in_process("debug-form.db", None).await;
    let api = Api::new(&format!("http://{}", console.address));
    let product = api.create_product(&merchant.url, "v2").await;

    // The form: the table's parameters, prefilled from the case, with what each allows.
    let form = api
        .get(&format!(
            "/api/products/{product}/debug-form?activity=refresh-instance&variant=0"
        ))
        .await;
    let fields = form["fields"].as_array().unwrap();
    let scene = fields.iter().find(|f| f["name"] == "scene").unwrap();
    assert_eq!(scene["required"], true, "{form}");
    assert_eq!(scene["choices"].as_array().unwrap().len(), 4, "{form}");
    assert!(!scene["value"].as_str().unwrap().is_empty(), "{form}");
    let order = fields.iter().find(|f| f["name"] == "orderId").unwrap();
    assert_eq!(order["max"], 64, "{form}");

    // An edit the table refuses: a 400 naming each field, nothing sent or saved.
    let (status, refused) = api
        .try_post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "refresh-instance",
                   "fields": {"scene": "RENEW", "orderId": "C".repeat(65)}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(
        message.contains("scene: one of TRIAL_TO_FORMAL"),
        "{message}"
    );
    assert!(
        message.contains("orderId: at most 64 characters (65 given)"),
        "{message}"
    );
    let (status, refused) = api
        .try_post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "refresh-instance",
                   "fields": {"instanceId": ""}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("instanceId: required")
    );

    // 生成请求命令: the edited request, signed, not sent.
    let edited = json!({"product_id": product, "activity": "refresh-instance", "send": false,
                        "fields": {"scene": "RENEWAL_CHANGE", "testFlag": ""}});
    let preview = api.post("/api/debug-cases", edited).await;
    let curl = preview["curl"].as_str().unwrap();
    assert!(curl.contains("\"scene\": \"RENEWAL_CHANGE\""), "{curl}");
    assert!(!curl.contains("testFlag"), "{curl}");
    assert!(preview["outcome"].is_null(), "{preview}");

    // Sent and saved: the merchant judged the edited request, and a replay sends it again.
    let sent = api
        .post(
            "/api/debug-cases",
            json!({"product_id": product, "activity": "refresh-instance",
                   "fields": {"scene": "RENEWAL_CHANGE"}}),
        )
        .await;
    assert_eq!(sent["outcome"]["verdict"], "accepted", "{sent}");
    assert!(
        sent["curl"]
            .as_str()
            .unwrap()
            .contains("\"scene\": \"RENEWAL_CHANGE\""),
        "{sent}"
    );
    let replayed = api
        .post("/api/debug-cases/run", json!({"product_id": product}))
        .await;
    assert_eq!(replayed["passed"], 1, "{replayed}");
    let page = api.page(&format!("/products/{product}/debug")).await;
    assert!(page.contains("edited: scene=RENEWAL_CHANGE"), "{page}");
}
