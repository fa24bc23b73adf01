//! What a performed exchange carried, as the reports read it: the request's fields (V1 query
//! parameters, V2 query then body, non-text values shown compactly) and the answer's JSON.

use serde_json::Value;

use crate::deliver::Performed;
use crate::marketplace::Transport;
use crate::protocol::encoding::{PlusHandling, parse_query};

/// The request's fields, in order.
pub(crate) fn request_fields(performed: &Performed) -> Vec<(String, String)> {
    let Some(wire) = &performed.wire else {
        return Vec::new();
    };
    let mut fields = parse_query(&wire.query, PlusHandling::AsSpace).unwrap_or_default();
    if let Some(Value::Object(body)) = wire
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
    {
        fields.extend(body.into_iter().map(|(k, v)| {
            let shown = match v {
                Value::String(s) => s,
                // The Kit's user and department lists: their size, not 500 users.
                Value::Array(items) => format!("[{} entries]", items.len()),
                other => other.to_string(),
            };
            (k, shown)
        }));
    }
    fields
}

/// The answer's body as JSON, when it was one.
pub(crate) fn response_json(performed: &Performed) -> Option<Value> {
    match &performed.sent.as_ref()?.transport {
        Transport::Answered(response) => serde_json::from_slice(&response.body).ok(),
        _ => None,
    }
}
