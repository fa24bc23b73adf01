//! The fuzz targets: each takes arbitrary bytes and drives one parser the way kgsim uses it,
//! through the public API only. A target returns normally whatever the input; only a panic
//! (or a hang, which the run's timeout shows) is a finding.

use kgsim::marketplace::classify::{self as console, Context, RawResponse};
use kgsim::marketplace::{Span, Transport};
use kgsim::protocol::encoding::{PlusHandling, parse_query};
use kgsim::protocol::fields::Rules;
use kgsim::protocol::v1::body_sign::{self, BodySign};
use kgsim::protocol::v1::{auth_token, messages as v1};
use kgsim::protocol::v2::{canonical, signature};
use kgsim::protocol::{AccessKey, Activity, Protocol};
use kgsim::scenario::profile::{Overrides, Profile};

fn key() -> AccessKey {
    AccessKey::new("fuzz-access-key-0123456789")
}

/// Tokens of each target's grammar, inserted by the mutator.
pub(crate) fn dictionary(target: &str) -> &'static [&'static str] {
    match target {
        "classify" => &[
            "Body-Sign",
            "sign_type=\"HMAC-SHA256\"",
            "signature=\"",
            "application/json",
            "\"resultCode\"",
            "\"000000\"",
            "\"appInfo\"",
            "\"encryptType\"",
            "\"info\":[",
            "\"instanceId\"",
            "\\u0000",
            "1e999",
        ],
        "body_sign" => &["sign_type", "signature", "HMAC-SHA256", "\"", ",", "="],
        "v1_query" => &[
            "activity=",
            "newInstance",
            "authToken=",
            "timeStamp=",
            "instanceId=",
            "testFlag=1",
            "%",
            "%2",
            "%E4%B8",
            "&",
            "=",
        ],
        "v2_canonical" => &[
            "{",
            "}",
            "[",
            "]",
            "\"activity\"",
            ":",
            ",",
            "null",
            "1e999",
            "\\ud800",
        ],
        "yaml" => &[
            "name: ",
            "steps:\n",
            "  - ",
            "purchase: {}",
            "advance: ",
            "expect:",
            "&a ",
            "*a",
            "!tag ",
            "---\n",
            "copies: ",
            "rounds: ",
            "9223372036854775807",
            "[",
            "{",
        ],
        "profile" => &[
            "protocol = ",
            "billing = ",
            "\"v2\"",
            "[retry.new-instance]",
            "cadence = ",
            "[snapshots]",
            "redact = [",
            "interfaces = [",
            "timeout = \"",
            "[[",
            "]]",
        ],
        "http1" => &[
            "HTTP/1.1 200 OK\r\n",
            "HTTP/1.0 ",
            "Content-Length: ",
            "Transfer-Encoding: chunked\r\n",
            "Connection: close\r\n",
            "\r\n",
            "\r\n\r\n",
            "0\r\n\r\n",
            "ffffffffffffffff",
            ";ext=1",
            "18446744073709551616",
            "HTTP/1.1 100 Continue\r\n\r\n",
        ],
        "open_api" => &[
            "/api/mkp-openapi-public/global",
            "/v1/order/query",
            "/v1/isv/usage-data",
            "/v2/license/activate",
            "/v1/market-event/e/file",
            "/api/v1/oauth2/token",
            "Authorization: SDK-HMAC-SHA256 Access=",
            "SignedHeaders=",
            "Signature=",
            "X-Sdk-Date: 20231114T221320Z",
            "Content-Type: multipart/form-data; boundary=",
            "\"usage_records\":[",
            "\"usage_value\":",
            "\"license\":",
            "--XyZ",
            "%",
            "1e999",
        ],
        "kit_answer" => &[
            "\"resultCode\"",
            "\"000000\"",
            "\"000101\"",
            "\"resultMsg\"",
            "application/json",
            "charset=",
            "\\u0000",
        ],
        "console_api" => &[
            "\"product_id\":",
            "\"production_address\":",
            "\"kit_public_key\":",
            "\"timeout_seconds\":",
            "\"protocol\":\"v2\"",
            "\"billing\":",
            "\"action\":",
            "\"by\":\"",
            "9223372036854775807",
            "-1",
            "https://",
            "null",
        ],
        _ => &[],
    }
}

/// Bytes as text, lossily (the parsers take text; invalid UTF-8 becomes U+FFFD).
fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

/// `Name: value` lines, a blank line, then the body; the first byte picks the protocol and
/// the activity the answer is judged for.
pub(crate) fn classify(input: &[u8]) {
    let (choice, rest) = input.split_first().unwrap_or((&0, &[]));
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (&rest[..0], rest),
    };
    let headers: Vec<(String, String)> = text(head)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
        .collect();
    let protocol = if choice & 1 == 0 {
        Protocol::V1
    } else {
        Protocol::V2
    };
    let activity = Activity::ALL[usize::from(choice >> 1) % Activity::ALL.len()];
    let key = key();
    let listed = ["i-1".to_owned(), "i-2".to_owned()];
    let context = Context {
        protocol,
        activity,
        key: &key,
        timeout: Span::seconds(20),
        rules: Rules::Console,
        must_list: if activity == Activity::QueryInstance {
            &listed
        } else {
            &[]
        },
        oaep_digest: (choice % 3 == 0).then(Default::default),
    };
    let response = RawResponse {
        status: 200,
        headers,
        body: body.to_vec(),
    };
    let judgement = console::classify(&Transport::Answered(response), &context);
    for finding in &judgement.findings {
        let _ = finding.message();
    }
}

pub(crate) fn body_sign(input: &[u8]) {
    let value = text(input);
    let _ = BodySign::parse(&value);
    let _ = body_sign::diagnose(&key(), b"{\"resultCode\":\"000000\"}", &value);
}

pub(crate) fn v1_query(input: &[u8]) {
    let query = text(input);
    for plus in [PlusHandling::AsSpace, PlusHandling::Literal] {
        if let Ok(params) = parse_query(&query, plus) {
            let _ = v1::Request::from_params(&params);
        }
    }
    let _ = auth_token::diagnose_query(&key(), &query);
}

pub(crate) fn v2_canonical(input: &[u8]) {
    let _ = canonical::canonical_body(input);
    let _ = signature::diagnose(&key(), "nonce", "1680508066618", input, "00");
}

pub(crate) fn yaml(input: &[u8]) {
    let _ = kgsim::scenario::format::decode::decode("fuzz.yaml", &text(input));
}

pub(crate) fn profile(input: &[u8]) {
    if let Ok(profile) = Profile::load("fuzz.toml", &text(input), &Overrides::default()) {
        let _ = profile.settings(key());
    }
}

/// An answer's bytes as a merchant sends them, through the HTTP/1.1 answer framing.
pub(crate) fn http1(input: &[u8]) {
    kgsim::fuzzing::http1_answer(input);
}

/// A call to the open-API server, through the gateway or straight to the operation.
pub(crate) fn open_api(input: &[u8]) {
    kgsim::fuzzing::open_api_call(input);
}

/// A merchant's answer to a Kit sync.
pub(crate) fn kit_answer(input: &[u8]) {
    kgsim::fuzzing::kit_answer(input);
}

/// A JSON body to one of the console's API routes.
pub(crate) fn console_api(input: &[u8]) {
    kgsim::fuzzing::console_body(input);
}
