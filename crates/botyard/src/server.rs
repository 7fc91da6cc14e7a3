//! Starting and stopping the server: open the database, prepare the services, bind, serve until
//! asked to stop, then drain requests in flight.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::{Context, anyhow};
use botyard_api::{AppState, app};
use botyard_channels::Telegram;
use botyard_core::{Config, Services};
use botyard_jobs::Jobs;
use botyard_runtime::Runtime;
use botyard_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in the background (tests, embedding).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub services: Services,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Work that runs beside the HTTP server for as long as it serves.
struct Background(Vec<JoinHandle<()>>);

impl Background {
    fn start(services: &Services) -> Self {
        Self(services.spawn_change_listener().into_iter().collect())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl RunningServer {
    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, finishes those in flight and closes the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(|e| anyhow!("server task: {e}"))?
    }
}

/// What the server is made of once its configuration is checked: the services, the store the
/// runtime, jobs and channels are given, and the bound listener.
pub struct Prepared {
    pub services: Services,
    pub store: Store,
    pub listener: TcpListener,
}

/// Opens everything the configuration names and checks it, with messages that say what to fix.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    if config.uses_sqlite() {
        config.prepare_data_dir().map_err(|e| anyhow!(e))?;
    }
    let mut config = config;
    let addr = config.listen_addr().map_err(|e| anyhow!(e))?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server using this port?)"))?;
    // Links made outside any request (webhook URLs in scripts) need an address when no
    // `public_url` is configured: the one bound, a wildcard address read as this machine.
    let bound = listener.local_addr()?;
    let host = if bound.ip().is_unspecified() { "127.0.0.1".to_owned() } else { bound.ip().to_string() };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    config.bound_url = format!("http://{host}:{}", bound.port());
    let (services, store) = Services::open(config).await.map_err(|e| anyhow!("{}", e.message))?;
    Ok(Prepared { services, store, listener })
}

/// Starts a server in the background.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let prepared = prepare(config).await?;
    let addr = prepared.listener.local_addr()?;
    let services = prepared.services.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(prepared, async {
            let _ = stopped.await;
        })
        .await
    });
    Ok(RunningServer { addr, services, stop: Some(stop), task })
}

/// Serves until `shutdown` completes, then drains and closes.
pub async fn serve(
    prepared: Prepared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Prepared { services, store, listener } = prepared;
    let background = Background::start(&services);
    let runtime = Runtime::start(services.clone(), store.clone())
        .await
        .map_err(|e| anyhow!("starting the runtime: {e}"))?;
    let jobs = Jobs::start(services.clone(), runtime.clone(), store.clone());
    let telegram = Telegram::start(services.clone(), runtime.clone(), store);
    let router = app(AppState::new(services.clone(), runtime.clone(), jobs.clone(), telegram.clone()));
    let stopping = runtime.clone();
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            // End the open event streams, or the graceful stop would wait for them forever.
            stopping.stop();
        })
        .await
        .context("serving HTTP")?;
    telegram.stop().await;
    drain(&runtime).await;
    jobs.stop().await;
    drop(background);
    services.close().await;
    Ok(())
}

/// Lets the runs in progress finish (for up to ten seconds) before the database closes.
async fn drain(runtime: &Runtime) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !runtime.is_idle() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs the server in the foreground until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let prepared = prepare(config).await?;
    let addr = prepared.listener.local_addr()?;
    tracing::info!(
        listen = %addr,
        database = prepared.store.backend().name(),
        "botyard is listening on http://{addr} (API description: http://{addr}/openapi.json)"
    );
    first_start(&prepared.services, addr).await?;
    serve(prepared, shutdown_signal()).await?;
    tracing::info!("botyard stopped");
    Ok(())
}

/// On an empty database: create the administrator named by the environment, or say how to
/// create the first account.
async fn first_start(services: &Services, addr: SocketAddr) -> anyhow::Result<()> {
    if !services.has_no_accounts().await.map_err(|e| anyhow!("{e}"))? {
        return Ok(());
    }
    let email = std::env::var("BOTYARD_ADMIN_EMAIL").ok().filter(|v| !v.is_empty());
    let password = std::env::var("BOTYARD_ADMIN_PASSWORD").ok().filter(|v| !v.is_empty());
    match (email, password) {
        (Some(email), Some(password)) => {
            let email = botyard_domain::account::normalize_email(&email)
                .map_err(|e| anyhow!("BOTYARD_ADMIN_EMAIL: {}", e.message))?;
            let done = services
                .create_account(email.clone(), &password)
                .await
                .map_err(|e| anyhow!("creating the administrator from BOTYARD_ADMIN_EMAIL: {}", e.message))?;
            tracing::warn!(
                email = %email,
                workspace = %done.workspace.id,
                "created the first account from BOTYARD_ADMIN_EMAIL; its API key (shown only now) is {}",
                done.api_key
            );
        }
        _ => {
            let hint = if services.config.auth.signup {
                format!(
                    "sign up with: curl -X POST http://{addr}/v2/auth -H 'Content-Type: application/json' \
                     -d '{{\"email\":\"you@example.com\",\"password\":\"a long password\"}}'"
                )
            } else {
                "sign-up is disabled: restart with BOTYARD_ADMIN_EMAIL and BOTYARD_ADMIN_PASSWORD set to create an owner".into()
            };
            tracing::warn!("no accounts yet; {hint}");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
