//! Rendering a merchant reply as the HTTP answer KooGallery expects — HTTP 200,
//! `Content-Type: application/json`, a JSON body with `resultCode`/`resultMsg`, and in V1 the
//! `Body-Sign` header over the exact body bytes and AES-encrypted credentials — or, with a
//! fault switched on, as the broken answer that fault describes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::merchant::Merchant;
use crate::merchant::faults::Fault;
use crate::merchant::store::{Credentials, Listed, Reply};
use crate::protocol::v1::body_sign::{self, BodySign, Layout};
use crate::protocol::v1::crypto::{self, EncryptType, Iv};
use crate::protocol::v1::messages as v1;
use crate::protocol::v2::messages as v2;
use crate::protocol::{Protocol, ResultCode, UnixMillis};

const OVER_LONG_URL: usize = 600;

fn message(code: ResultCode) -> String {
    if code.is_success() {
        "success.".to_owned()
    } else {
        code.meaning().to_owned()
    }
}

impl Merchant {
    fn result_msg(&self, code: ResultCode) -> Option<String> {
        if self.faults.has(Fault::NoResultMsg) {
            return None;
        }
        let mut text = message(code);
        if let Some(bytes) = self.faults.result_msg_padding() {
            text.push(' ');
            text.extend(std::iter::repeat_n('x', bytes.saturating_sub(text.len())));
        }
        Some(text)
    }

    fn front_end_url(&self, credentials: &Credentials) -> String {
        let mut url = credentials.front_end_url.clone();
        if self.faults.has(Fault::LongFrontEndUrl) {
            url.push('/');
            while url.len() < OVER_LONG_URL {
                url.push('x');
            }
        }
        url
    }

    /// V1 credentials: encrypted with the declared encryptType — or, under the
    /// undecryptable-app-info fault, with the other one.
    fn v1_app_info(&self, credentials: &Credentials) -> v1::AppInfo {
        let encrypt_type = match (
            self.faults.has(Fault::UndecryptableAppInfo),
            self.encrypt_type,
        ) {
            (false, declared) => declared,
            (true, EncryptType::Aes256) => EncryptType::Aes128,
            (true, EncryptType::Aes128) => EncryptType::Aes256,
        };
        let encrypt = |plain: &str| crypto::encrypt(&self.key, encrypt_type, &Iv::random(), plain);
        v1::AppInfo {
            front_end_url: self.front_end_url(credentials),
            admin_url: None,
            user_name: Some(encrypt(&credentials.user_name)),
            password: Some(encrypt(&credentials.password)),
            memo: None,
        }
    }

    fn v2_app_info(&self, credentials: &Credentials) -> v2::AppInfo {
        v2::AppInfo {
            front_end_url: self.front_end_url(credentials),
            admin_url: None,
            user_name: Some(credentials.user_name.clone()),
            password: Some(credentials.password.clone()),
            memo: None,
        }
    }

    /// On-demand instances report their usage so far (the reference merchant meters none).
    fn usage(listed: &Listed, now: UnixMillis) -> Option<Vec<v1::UsageInfo>> {
        listed.on_demand.then(|| {
            vec![v1::UsageInfo {
                usage_value: Some(serde_json::json!(0)),
                statistical_time: Some(now.to_v1_timestamp()),
                related_instance_id: None,
            }]
        })
    }

    /// The JSON body of a reply.
    pub(crate) fn body_of(&self, reply: &Reply) -> Vec<u8> {
        if self.faults.has(Fault::NotJson) {
            return b"success".to_vec();
        }
        let now = (self.clock)();
        let value = match (self.protocol, reply) {
            (
                Protocol::V1,
                Reply::Instance {
                    instance_id,
                    credentials,
                    ..
                },
            ) => serde_json::to_value(v1::NewInstanceResponse {
                result_code: ResultCode::Success.to_string(),
                result_msg: self.result_msg(ResultCode::Success),
                encrypt_type: Some(self.encrypt_type.to_string()),
                instance_id: (!self.faults.has(Fault::MissingInstanceId))
                    .then(|| instance_id.clone()),
                app_info: Some(self.v1_app_info(credentials)),
            }),
            (Protocol::V1, Reply::Listed(listed)) => {
                serde_json::to_value(v1::QueryInstanceResponse {
                    result_code: ResultCode::Success.to_string(),
                    result_msg: self.result_msg(ResultCode::Success),
                    encrypt_type: Some(self.encrypt_type.to_string()),
                    info: Some(
                        listed
                            .iter()
                            .map(|item| v1::InstanceInfo {
                                instance_id: item.instance_id.clone(),
                                app_info: Some(self.v1_app_info(&item.credentials)),
                                usage_info: Self::usage(item, now),
                            })
                            .collect(),
                    ),
                })
            }
            (
                Protocol::V2,
                Reply::Instance {
                    instance_id,
                    provisioning,
                    ..
                },
            ) => {
                let code = if *provisioning {
                    ResultCode::Processing
                } else {
                    ResultCode::Success
                };
                serde_json::to_value(v2::NewInstanceResponse {
                    result_code: code.to_string(),
                    result_msg: self.result_msg(code),
                    instance_id: (!self.faults.has(Fault::MissingInstanceId))
                        .then(|| instance_id.clone()),
                })
            }
            (Protocol::V2, Reply::Listed(listed)) => {
                serde_json::to_value(v2::QueryInstanceResponse {
                    result_code: ResultCode::Success.to_string(),
                    result_msg: self.result_msg(ResultCode::Success),
                    info: Some(
                        listed
                            .iter()
                            .map(|item| v2::InstanceInfo {
                                instance_id: item.instance_id.clone(),
                                app_info: Some(self.v2_app_info(&item.credentials)),
                                usage_info: None,
                            })
                            .collect(),
                    ),
                })
            }
            (_, Reply::Code(code)) => serde_json::to_value(v1::ResultResponse {
                result_code: code.to_string(),
                result_msg: self.result_msg(*code),
            }),
        };
        value
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_default()
    }

    /// The full HTTP answer for a reply, with the configured faults applied.
    pub(crate) async fn respond(&self, reply: &Reply) -> Response {
        if self.faults.has(Fault::Slow) {
            tokio::time::sleep(self.slow).await;
        }
        let body = self.body_of(reply);
        let status = if self.faults.has(Fault::Http500) {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        let content_type = if self.faults.has(Fault::WrongContentType) {
            "text/plain;charset=UTF-8"
        } else {
            "application/json;charset=UTF-8"
        };
        let mut response = (status, body.clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if self.protocol == Protocol::V1 && !self.faults.has(Fault::MissingBodySign) {
            let signed_bytes = if self.faults.has(Fault::BadBodySign) {
                [&body[..], b" "].concat()
            } else {
                body
            };
            let sign = BodySign::sign(&self.key, &signed_bytes);
            let value = if self.faults.has(Fault::UnquotedBodySign) {
                format!("sign_type={}, signature={}", sign.sign_type, sign.signature)
            } else {
                sign.format(Layout::Documented)
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(body_sign::HEADER, value);
            }
        }
        response
    }
}
