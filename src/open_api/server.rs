//! The open-API HTTP server: one handler that routes by path, checks the method and the
//! caller's signature as the gateway would, runs the operation, answers, and logs the call
//! with what it broke. Plain HTTP, or HTTPS with a generated CA.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::json;

use crate::checks::CheckId;
use crate::open_api::auth::{Keys, check_apigw, check_usage_signature};
use crate::open_api::book::{self, Book, MerchantCall};
use crate::open_api::ops::{Received, Reply, identity, license, query_order, upload, usage};
use crate::protocol::UnixMillis;
use crate::protocol::open_api::license::LicenseCode;
use crate::protocol::open_api::usage::MktCode;
use crate::protocol::open_api::{Auth, Endpoint};

/// The largest body read (a usage push of 1000 records is about 300 KB; uploads are files).
pub(crate) const BODY_CAP: usize = 4 * 1024 * 1024;
/// How long a call naming something not yet published is held while a run is live.
const HOLD: std::time::Duration = std::time::Duration::from_secs(3);
/// How much of a request body the log keeps.
const LOGGED_BODY: usize = 16 * 1024;

/// The server's shared parts.
pub(crate) struct OpenApi {
    /// What it knows and what it saw.
    pub(crate) book: Book,
    /// The keys calls are checked with.
    pub(crate) keys: Keys,
    /// `http` or `https`, for the URL the merchant signed.
    pub(crate) scheme: &'static str,
}

/// The wall clock (the merchant signs and reports on its own clock).
pub(crate) fn wall_now() -> UnixMillis {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
}

impl OpenApi {
    /// Routes, authenticates and runs one call.
    pub(crate) async fn handle(
        &self,
        received: &Received,
        now: UnixMillis,
    ) -> (Option<Endpoint>, Reply) {
        let Some(endpoint) = Endpoint::route(&received.path) else {
            let outcome = Reply::new(
                404,
                json!({"error_code": "APIGW.0101", "error_msg": "The API does not exist or has not been published."}),
            )
            .finding(
                CheckId::OpenApiRequest,
                format!("no open API at `{}` (see the paths in the README's Open APIs section)", received.path),
            );
            return (None, outcome);
        };
        let outcome = self.handle_endpoint(&endpoint, received, now).await;
        (Some(endpoint), outcome)
    }

    async fn handle_endpoint(
        &self,
        endpoint: &Endpoint,
        received: &Received,
        now: UnixMillis,
    ) -> Reply {
        let subjects = subjects_of(endpoint, received);
        if received.method != endpoint.method() {
            return refusal(endpoint, 405, "Request method not supported")
                .finding(
                    CheckId::OpenApiRequest,
                    format!(
                        "{} {} takes {}",
                        received.method,
                        endpoint.name(),
                        endpoint.method()
                    ),
                )
                .about(subjects);
        }
        if let Some(refused) = self.authenticate(endpoint, received, now) {
            return refused.about(subjects);
        }
        if !endpoint.is_identity() {
            self.hold_for(&subjects).await;
        }
        let needs_json = !endpoint.is_identity()
            && !matches!(endpoint, Endpoint::QueryOrder | Endpoint::Upload { .. });
        if needs_json && !received.is_json() {
            return refusal(endpoint, 415, "Content type not supported")
                .finding(
                    CheckId::OpenApiRequest,
                    format!(
                        "Content-Type `{}`; open-API bodies are application/json",
                        received.header("content-type").unwrap_or("(none)")
                    ),
                )
                .about(subjects);
        }
        self.operate(endpoint, received, now).await.about(subjects)
    }

    /// While a marketplace is publishing, a call naming something not published yet is held
    /// (at most [`HOLD`]): the merchant may act on a newInstance before kgsim has recorded
    /// the instance the merchant's own answer named.
    async fn hold_for(&self, subjects: &BTreeSet<String>) {
        if subjects.is_empty() {
            return;
        }
        let published = |state: &book::State| subjects.iter().all(|s| state.scope_of(s).is_some());
        {
            let state = self.book.lock();
            if !state.live || published(&state) {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + HOLD;
        let _held = self.book.holding();
        self.book.wait_for(deadline, published).await;
    }

    fn authenticate(
        &self,
        endpoint: &Endpoint,
        received: &Received,
        now: UnixMillis,
    ) -> Option<Reply> {
        match endpoint.auth() {
            Auth::Apigw => {
                let host = received.header("host").unwrap_or("localhost");
                let query = if received.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", received.query)
                };
                let url = format!("{}://{host}{}{query}", self.scheme, received.path);
                check_apigw(&self.keys, received, &url, now)
                    .err()
                    .map(|refusal| {
                        let (status, code, message) = refusal.error.answer();
                        let mut outcome =
                            Reply::new(status, json!({"error_code": code, "error_msg": message}));
                        outcome.findings.push(refusal.finding);
                        outcome
                    })
            }
            Auth::Identity => None,
            Auth::UsageSignature => {
                check_usage_signature(&self.keys, received)
                    .err()
                    .map(|finding| {
                        let mut outcome = Reply::envelope(MktCode::InvalidSign.answer());
                        outcome.findings.push(finding);
                        outcome
                    })
            }
        }
    }

    /// What [`Self::handle`] does with a call the gateway let through: the operation alone,
    /// reading the body (usage records, License bodies, identity requests, multipart). The
    /// fuzzer's way past the signature to the body parsers; `None` for a path that is no API.
    pub(crate) async fn operate_trusted(
        &self,
        received: &Received,
        now: UnixMillis,
    ) -> Option<Reply> {
        let endpoint = Endpoint::route(&received.path)?;
        Some(self.operate(&endpoint, received, now).await)
    }

    async fn operate(&self, endpoint: &Endpoint, received: &Received, now: UnixMillis) -> Reply {
        let body = &received.body;
        if let Endpoint::Upload { event_id } = endpoint {
            let parts = read_parts(received).await;
            return upload::answer(&mut self.book.lock(), event_id, parts);
        }
        let mut state = self.book.lock();
        match endpoint {
            Endpoint::QueryOrder => query_order::answer(&state, &received.query),
            Endpoint::ActivateV1 => license::activate_v1(&mut state, body, now),
            Endpoint::ActivateV2 => license::activate_v2(&mut state, body, now),
            Endpoint::HeartbeatV1 => license::heartbeat_v1(&state, body),
            Endpoint::HeartbeatV2 => license::heartbeat_v2(&state, body),
            Endpoint::SoftwareUsageInfo => license::software_usage(&state, body),
            Endpoint::UsagePush => usage::answer(&mut state, body, now, true),
            Endpoint::UsagePushOld => usage::answer(&mut state, body, now, false),
            Endpoint::Upload { .. } => Reply::envelope(LicenseCode::Internal.answer()),
            Endpoint::OAuthAuthorize => {
                let cookie = session_cookie(received);
                identity::authorize(&mut state, &received.query, cookie.as_deref(), now)
            }
            Endpoint::OAuthToken => {
                let form = received.header("content-type").is_some_and(|t| {
                    t.to_ascii_lowercase()
                        .starts_with("application/x-www-form-urlencoded")
                });
                identity::token(&mut state, body, form, now)
            }
            Endpoint::OAuthUserInfo => {
                identity::userinfo(&state, received.header("authorization"), now)
            }
            Endpoint::Logout => identity::logout(&received.query),
            Endpoint::CasValidate => identity::cas_validate(&mut state, &received.query, now),
        }
    }
}

/// The identity centre's session cookie, if the browser sent one.
fn session_cookie(received: &Received) -> Option<String> {
    received
        .header("cookie")?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == identity::SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A refusal in the style of the endpoint's family: the License APIs' own codes for a wrong
/// method or content type (spec V2 §4.3 "Error codes"), the gateway's envelope otherwise.
fn refusal(endpoint: &Endpoint, status: u16, message: &str) -> Reply {
    let code = match endpoint {
        Endpoint::UsagePush | Endpoint::UsagePushOld => "MKT.0199",
        Endpoint::QueryOrder | Endpoint::Upload { .. } => "CBC.0101",
        _ => {
            let license = if status == 405 {
                LicenseCode::MethodNotSupported
            } else {
                LicenseCode::ContentType
            };
            let (status, code, message) = license.answer();
            return Reply::new(status, json!({"error_code": code, "error_msg": message}));
        }
    };
    Reply::new(status, json!({"error_code": code, "error_msg": message}))
}

/// The orders, instances and codes a call names, read leniently (even a refused call is
/// traced to the scenario it concerns).
fn subjects_of(endpoint: &Endpoint, received: &Received) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if let Endpoint::Upload { event_id } = endpoint {
        found.insert(event_id.clone());
    }
    for (name, value) in crate::protocol::encoding::parse_query(
        &received.query,
        crate::protocol::encoding::PlusHandling::Literal,
    )
    .unwrap_or_default()
    {
        if name == "orderId" {
            found.insert(value);
        }
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&received.body) else {
        return found;
    };
    let mut strings = |value: &serde_json::Value| {
        if let Some(text) = value.as_str() {
            found.insert(text.to_owned());
        }
    };
    strings(&body["license"]);
    for list in ["license_list"] {
        for code in body[list].as_array().into_iter().flatten() {
            strings(code);
        }
    }
    for entry in body["usage_info"].as_array().into_iter().flatten() {
        strings(&entry["license"]);
    }
    for record in body["usage_records"]
        .as_array()
        .into_iter()
        .flatten()
        .take(1000)
    {
        strings(&record["instance_id"]);
        strings(&record["relate_pkg_instance"]);
    }
    found
}

/// The `isvUpdateFileReq` and `file` parts of a multipart upload.
async fn read_parts(received: &Received) -> Result<upload::Parts, String> {
    let content_type = received.header("content-type").unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        format!("Content-Type `{content_type}` is not multipart/form-data with a boundary")
    })?;
    let body = received.body.clone();
    let stream = futures_once(body);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = upload::Parts::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("the multipart body cannot be read ({e})"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| format!("part `{name}` cannot be read ({e})"))?
            .to_vec();
        match name.as_str() {
            "isvUpdateFileReq" => parts.request = Some(bytes),
            "file" => parts.file = Some(bytes),
            _ => {}
        }
    }
    Ok(parts)
}

/// A one-item stream of the body, for multer.
fn futures_once(
    body: Bytes,
) -> impl futures_core::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    struct Once(Option<Bytes>);
    impl futures_core::Stream for Once {
        type Item = Result<Bytes, std::convert::Infallible>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.take().map(Ok))
        }
    }
    Once(Some(body))
}

async fn serve(
    State(api): State<Arc<OpenApi>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Received {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let now = wall_now();
    let (endpoint, outcome) = api.handle(&received, now).await;
    let (content_type, answer) = match &outcome.text {
        Some((content_type, text)) => (*content_type, text.clone()),
        None if outcome.location.is_some() => ("text/plain;charset=UTF-8", String::new()),
        None => ("application/json;charset=UTF-8", outcome.body.to_string()),
    };
    let logged_body =
        String::from_utf8_lossy(&received.body[..received.body.len().min(LOGGED_BODY)])
            .into_owned();
    api.book.record(MerchantCall {
        number: 0,
        scope: 0,
        at: now,
        endpoint,
        request_line: format!(
            "{} {}{}",
            received.method,
            received.path,
            if received.query.is_empty() {
                String::new()
            } else {
                format!("?{}", received.query)
            }
        ),
        request_body: logged_body,
        status: outcome.status,
        answer: answer.clone(),
        subjects: outcome.subjects,
        findings: outcome.findings,
        records: outcome.records,
        reported: false,
    });
    let status =
        axum::http::StatusCode::from_u16(outcome.status).unwrap_or(axum::http::StatusCode::OK);
    let mut response = (status, [("content-type", content_type)], answer).into_response();
    if let Some(location) = outcome
        .location
        .as_deref()
        .and_then(|l| axum::http::HeaderValue::from_str(l).ok())
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    response
}

/// The open APIs, listening.
pub(crate) struct Running {
    /// `http://127.0.0.1:PORT` or `https://…`: what the merchant uses as its base URL.
    pub(crate) base_url: String,
    /// The CA certificate to trust, for HTTPS.
    pub(crate) ca_pem: Option<String>,
    /// The shared state.
    pub(crate) book: Book,
    /// The accept loop (aborted when dropped).
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starting failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::open_api::tls::TlsError),
}

/// Serves the open APIs on `listen` with `book` and `keys`; HTTPS with a generated CA when
/// `https`.
pub(crate) async fn start(
    listen: SocketAddr,
    book: Book,
    keys: Keys,
    https: bool,
) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| StartError::Bind(listen, e))?;
    let address = listener
        .local_addr()
        .map_err(|e| StartError::Bind(listen, e))?;
    let identity = if https {
        let names = vec!["localhost".to_owned(), address.ip().to_string()];
        Some(crate::open_api::tls::generate(&names)?)
    } else {
        None
    };
    let api = Arc::new(OpenApi {
        book: book.clone(),
        keys,
        scheme: if https { "https" } else { "http" },
    });
    let router = axum::Router::new()
        .fallback(serve)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_CAP))
        .with_state(api);
    let acceptor = identity
        .as_ref()
        .map(|i| tokio_rustls::TlsAcceptor::from(i.server.clone()));
    let task = tokio::spawn(accept_loop(listener, router, acceptor));
    let host = match address.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Ok(Running {
        base_url: format!(
            "{}://{host}:{}",
            if https { "https" } else { "http" },
            address.port()
        ),
        ca_pem: identity.map(|i| i.ca_pem),
        book,
        task,
    })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let service = TowerToHyperService::new(router.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}
