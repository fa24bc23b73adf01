//! `kgsim serve`: a local KooGallery seller console — products, the buyer side, the debug
//! page with saved cases and dial tests, 生产接口消息 with restarts, and a test clock — kept
//! in one SQLite file, served as HTML pages and a JSON API on one loopback port.
//!
//! Layers, lowest first: [`store`] (SQLite: migrations, journal, read model), [`journal`]
//! and [`clock`] (data), [`product`] (a product request → marketplace settings), [`live`]
//! (one product's engine and the application of journal entries), [`service`] (every change,
//! performed against the merchant and written in one transaction), [`export`] (a session as a
//! scenario), [`http`] (pages, API, guard). The marketplace, classification and transport are
//! the ones `kgsim run` uses, so verdicts carry the same check ids and messages.

pub(crate) mod clock;
pub(crate) mod export;
pub(crate) mod http;
pub(crate) mod journal;
pub(crate) mod live;
pub(crate) mod product;
pub(crate) mod service;
pub mod store;
pub mod vocab;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::AccessKey;

/// How to run the console.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The database file (created on first start).
    pub db: PathBuf,
    /// The access key the basic interfaces are signed with.
    pub key: AccessKey,
    /// The keys of the other interface types (each falls back to `key`).
    pub keys: crate::marketplace::settings::InterfaceKeys,
    /// Host names served besides loopback names and the bound address.
    pub allow_hosts: Vec<String>,
    /// How often the wall clock is followed.
    pub tick: Duration,
    /// Also serve the open APIs and the identity centre here, on the console's state.
    pub open_api: Option<(SocketAddr, crate::open_api::Keys)>,
}

/// A running console.
pub struct Running {
    /// Where it listens.
    pub address: SocketAddr,
    /// What the operator should know (a changed key, attempts resumed).
    pub(crate) warnings: Vec<String>,
    /// The shared state (tests drive it directly).
    pub app: Arc<http::App>,
    /// The open APIs, when served: their base URL and the book they answer from.
    pub open_api: Option<(String, crate::open_api::Book)>,
    _open_api: Option<crate::open_api::Running>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// Holds the database for this process (see [`store::claim`]).
    _owner: rusqlite::Connection,
    ticker: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Waits until the server stops (it does not, unless its listener fails).
    pub(crate) async fn wait(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
        self.ticker.abort();
    }
}

/// Starting failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The database or a product could not be opened.
    #[error(transparent)]
    Open(#[from] service::ConsoleError),
    /// The open APIs could not be served.
    #[error("open APIs: {0}")]
    OpenApi(#[from] crate::open_api::StartError),
}

/// Opens the database, replays every product, binds and serves; the wall-clock ticker
/// resumes whatever was in flight when the console last stopped.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    let owner = store::claim(&config.db).map_err(service::ConsoleError::from)?;
    let writer = store::open(&config.db).map_err(service::ConsoleError::from)?;
    let reader = store::open_reader(&config.db).map_err(service::ConsoleError::from)?;
    let open_api = match config.open_api {
        Some((listen, keys)) => {
            let book = crate::open_api::Book::new();
            Some(crate::open_api::start(listen, book, keys, false).await?)
        }
        None => None,
    };
    let book = open_api
        .as_ref()
        .map(|running| (running.base_url.clone(), running.book.clone()));
    let (service, warnings) =
        service::Service::open(store::Writer::new(writer), config.key, config.keys, book)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Bind(config.listen, e))?;
    let address = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(config.listen, e))?;
    let guard = http::guard::Guard::new(address, config.allow_hosts);
    let app = Arc::new(http::App::new(service, store::Reader::new(reader), guard));
    let router = http::router(app.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let ticker = tokio::spawn(http::ticker(app.clone(), config.tick));
    Ok(Running {
        address,
        warnings,
        app,
        open_api: open_api
            .as_ref()
            .map(|running| (running.base_url.clone(), running.book.clone())),
        _open_api: open_api,
        server: Some(server),
        _owner: owner,
        ticker,
    })
}
