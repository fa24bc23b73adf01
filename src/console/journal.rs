//! The journal: every input a product's marketplace engine took, in order, as JSON. Replaying
//! it into a fresh engine with the same settings, start and seed rebuilds the same state —
//! the engine is deterministic — so the console survives a restart, or a `kill -9`, without
//! calling the merchant again for what it already did.

use serde::{Deserialize, Serialize};

use crate::marketplace::{RawResponse, Transport};

/// The fields of a debug case the merchant changed on the debug page's form: set to a value,
/// or left out (an optional field emptied). Applied to the request before it is signed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct FieldEdits {
    /// `(field, value)` set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) set: Vec<(String, String)>,
    /// Fields left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) remove: Vec<String>,
}

impl FieldEdits {
    /// Whether nothing was changed.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The change to the request, as the signer applies it.
    pub(crate) fn to_edit(&self) -> crate::transport::wire::Edit {
        crate::transport::wire::Edit {
            set: self.set.clone(),
            remove: self.remove.clone(),
        }
    }

    /// `scene=RENEWAL, -testFlag`: what was changed, for the pages.
    pub(crate) fn describe(&self) -> String {
        let set = self
            .set
            .iter()
            .map(|(name, value)| format!("{name}={value}"));
        let removed = self.remove.iter().map(|name| format!("-{name}"));
        set.chain(removed).collect::<Vec<_>>().join(", ")
    }
}

/// One input of a product's engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Entry {
    /// The buyer paid a new order.
    Purchase {
        /// A trial.
        #[serde(default)]
        trial: bool,
    },
    /// A buyer or operator action on an instance.
    Act {
        /// The instance's number within the product.
        instance: usize,
        /// What was done.
        action: BuyerAction,
    },
    /// 联营: something that makes the marketplace sync the Kit (spec V2 §3).
    Kit {
        /// What happened.
        action: KitAction,
    },
    /// The seller restarted a notice whose retries ran out (生产接口消息 > 重新启动).
    Restart {
        /// The call.
        call: usize,
    },
    /// The debug page sent one case of an interface (also a dial test's replay of a case).
    DebugCase {
        /// The activity (`new-instance`).
        activity: String,
        /// Which of its cases.
        variant: usize,
        /// Sent by a dial test or "replay all" rather than from the debug page.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replay: bool,
        /// The fields the debug page's form changed from the case's.
        #[serde(default, skip_serializing_if = "FieldEdits::is_empty")]
        edits: FieldEdits,
    },
    /// The engine's clock moved to `until`, handing out what fell due on the way.
    Advance {
        /// Unix ms.
        until: i64,
    },
    /// One attempt came back with this answer.
    Complete {
        /// The call.
        call: usize,
        /// 1-based attempt number.
        attempt: u32,
        /// What the transport saw.
        transport: StoredTransport,
    },
}

/// What the buyer (or the platform, for violations) can do to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum BuyerAction {
    /// Renew for a month.
    Renew,
    /// Convert a trial to a paid month.
    ConvertTrial,
    /// Upgrade the specification.
    Upgrade,
    /// Unsubscribe: released at once.
    Unsubscribe,
    /// A violation freezes the instance.
    Freeze,
    /// The violation is lifted.
    Unfreeze,
}

// Its name in the API and in scenarios, in the order the pages offer them.
crate::slug_impls!(pub(crate) BuyerAction, "buyer action", {
    Renew = "renew",
    ConvertTrial = "convert-trial",
    Upgrade = "upgrade",
    Unsubscribe = "unsubscribe",
    Freeze = "freeze",
    Unfreeze = "unfreeze",
});

/// What happens on the 联营 side (spec V2 §3.8): each one sends its Kit syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum KitAction {
    /// The seller applies for the app credential: tenantSync, applicationSync, allOrgSync of a
    /// test enterprise.
    ApplyCredential,
    /// A buyer's enterprise is bound to an instance: its tenant, app and departments.
    BindEnterprise {
        /// The instance's number within the product.
        instance: usize,
    },
    /// The enterprise's admin authorises users to the app (authSync, ≤ 500 per sync).
    AuthorizeUsers {
        /// The enterprise's number within the product.
        enterprise: usize,
        /// How many users.
        count: u32,
    },
    /// The enterprise adds a department (singleOrgSync).
    AddDepartment {
        /// The enterprise's number within the product.
        enterprise: usize,
    },
}

/// [`Transport`] as the journal keeps it: bodies as text when they are UTF-8, else Base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub(crate) enum StoredTransport {
    /// An HTTP answer.
    Answered {
        /// Status code.
        status: u16,
        /// Headers as received.
        headers: Vec<(String, String)>,
        /// The body, when it is UTF-8.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The body in Base64, when it is not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
    },
    /// No connection.
    Unreachable {
        /// Why.
        why: String,
    },
    /// No answer in time.
    TimedOut,
    /// A broken answer.
    Broken {
        /// Why.
        why: String,
    },
    /// Not sent.
    NotSent,
    /// The answer was dropped.
    Dropped,
}

impl From<&Transport> for StoredTransport {
    fn from(transport: &Transport) -> Self {
        match transport {
            Transport::Answered(response) => {
                let (text, base64) = match std::str::from_utf8(&response.body) {
                    Ok(text) => (Some(text.to_owned()), None),
                    Err(_) => {
                        use base64::Engine as _;
                        let encoded =
                            base64::engine::general_purpose::STANDARD.encode(&response.body);
                        (None, Some(encoded))
                    }
                };
                Self::Answered {
                    status: response.status,
                    headers: response.headers.clone(),
                    text,
                    base64,
                }
            }
            Transport::Unreachable(why) => Self::Unreachable { why: why.clone() },
            Transport::TimedOut => Self::TimedOut,
            Transport::Broken(why) => Self::Broken { why: why.clone() },
            Transport::NotSent => Self::NotSent,
            Transport::Dropped => Self::Dropped,
        }
    }
}

impl StoredTransport {
    /// The transport outcome it stands for.
    pub(crate) fn to_transport(&self) -> Transport {
        match self {
            Self::Answered {
                status,
                headers,
                text,
                base64,
            } => {
                let body = match (text, base64) {
                    (Some(text), _) => text.clone().into_bytes(),
                    (None, Some(encoded)) => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD
                            .decode(encoded)
                            .unwrap_or_default()
                    }
                    (None, None) => Vec::new(),
                };
                Transport::Answered(RawResponse {
                    status: *status,
                    headers: headers.clone(),
                    body,
                })
            }
            Self::Unreachable { why } => Transport::Unreachable(why.clone()),
            Self::TimedOut => Transport::TimedOut,
            Self::Broken { why } => Transport::Broken(why.clone()),
            Self::NotSent => Transport::NotSent,
            Self::Dropped => Transport::Dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_survive_the_journal_byte_for_byte() {
        let answers = [
            Transport::Answered(RawResponse {
                status: 200,
                headers: vec![("Body-Sign".into(), "sign_type=\"HMAC-SHA256\"".into())],
                body: br#"{"resultCode":"000000"}"#.to_vec(),
            }),
            Transport::Answered(RawResponse {
                status: 502,
                headers: vec![],
                body: vec![0xff, 0xfe, 0x00, 0x80],
            }),
            Transport::Unreachable("connection refused".into()),
            Transport::TimedOut,
            Transport::Broken("reset".into()),
        ];
        for transport in answers {
            let entry = Entry::Complete {
                call: 3,
                attempt: 2,
                transport: StoredTransport::from(&transport),
            };
            let text = serde_json::to_string(&entry).unwrap();
            let back: Entry = serde_json::from_str(&text).unwrap();
            let Entry::Complete {
                transport: stored, ..
            } = back
            else {
                panic!("{text}")
            };
            assert_eq!(stored.to_transport(), transport, "{text}");
        }
    }
}
