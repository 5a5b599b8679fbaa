//! Application services: the use cases, with authorization, over the store and the domain.
//! Handlers in `api` and `web` and the `cli` call these and nothing below them.

//! Every use case takes the caller — an [`Actor`](crate::domain::authz::Actor): a person,
//! the console (`Actor::console()`, for the command line) or the system — and asks
//! `domain::authz` whether it may; nothing above this layer decides who may do what.

pub mod access;
pub mod attachments;
pub mod auth;
pub mod backup;
pub mod bulletins;
pub mod cache;
pub mod cases;
pub mod demo;
pub mod demo_bulletins;
pub mod demo_cases;
pub mod demo_inspections;
pub mod demo_merchants;
pub mod demo_volunteers;
pub mod export;
pub mod grids;
pub mod indicators;
pub mod info_reports;
pub mod inspections;
pub mod key_tasks;
pub mod menu;
pub mod merchants;
pub mod open311;
pub mod people;
pub mod volunteers;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::Config;
use crate::domain::calendar::WorkCalendar;
use crate::error::{AppError, AppResult};
use crate::store::{Store, schema};

pub use grids::GridDirectory;

/// Meta key bumped by every change to grids, units or people that the in-memory grid
/// directory reflects; other processes (CLI imports, other instances) watch it.
pub const ORG_REVISION: &str = "org_revision";

/// Where "now" comes from: the system clock, or a hand-set one in tests (escalation after a
/// deadline passes is tested by moving this clock, never by sleeping).
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => crate::store::now_ms(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }
}

/// Request counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Responses by status class: 1xx … 5xx.
    pub responses: [AtomicU64; 5],
    pub locates: AtomicU64,
    pub logins_failed: AtomicU64,
}

struct Inner {
    config: Config,
    store: Store,
    directory: RwLock<Arc<GridDirectory>>,
    directory_revision: AtomicI64,
    metrics: Metrics,
    calendar: WorkCalendar,
    clock: Clock,
    blobs: crate::files::BlobStore,
    rate_limiter: open311::RateLimiter,
    public_limiter: open311::RateLimiter,
    login_throttle: open311::LoginThrottle,
    categories: cache::TtlCache<(), Arc<Vec<crate::domain::category::Category>>>,
    token_actors: cache::TtlCache<String, Option<crate::domain::authz::Actor>>,
}

/// How long a cached category table or token holder is trusted.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// The whole application state; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl App {
    /// Opens (and migrates) the store and loads the grid directory. Used by `main` and by
    /// the tests, which then serve it on port 0.
    pub async fn build(config: Config) -> AppResult<App> {
        App::build_with_clock(config, Clock::System).await
    }

    pub async fn build_with_clock(config: Config, clock: Clock) -> AppResult<App> {
        let overrides = match &config.holiday_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| AppError::BadRequest(format!("cannot read holiday file {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let calendar = WorkCalendar::china(&config.office_hours, overrides.as_deref()).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let store = Store::open(&config.data_dir, config.database_url.as_ref().map(|s| s.expose())).await?;
        let config_dir = config.data_dir.clone();
        let app = App {
            inner: Arc::new(Inner {
                config,
                store,
                directory: RwLock::new(Arc::new(GridDirectory::empty())),
                directory_revision: AtomicI64::new(-1),
                metrics: Metrics::default(),
                calendar,
                clock,
                blobs: crate::files::BlobStore::new(&config_dir),
                rate_limiter: open311::RateLimiter::default(),
                public_limiter: open311::RateLimiter::default(),
                login_throttle: open311::LoginThrottle::default(),
                categories: cache::TtlCache::new(CACHE_TTL),
                token_actors: cache::TtlCache::new(CACHE_TTL),
            }),
        };
        app.ensure_categories().await?;
        app.ensure_manual().await?;
        app.reload_directory().await?;
        app.recount_if_needed().await?;
        Ok(app)
    }

    /// A store upgraded from before the dashboard counters existed counts its cases once.
    async fn recount_if_needed(&self) -> AppResult<()> {
        let needed = self.store().read(|c| schema::meta_get(c, schema::RECOUNT_TALLIES)).await?.is_some();
        if needed {
            let rows = self.recount_tallies(true).await?;
            self.store().write(|c| schema::meta_delete(c, schema::RECOUNT_TALLIES)).await?;
            tracing::info!(rows, "counted the dashboard counters of an upgraded store");
        }
        Ok(())
    }

    /// Per-IP limit for callers who are not logged in.
    pub fn check_public_rate(&self, ip: &str) -> AppResult<()> {
        self.inner.public_limiter.check(ip, self.config().public_per_minute).map_err(AppError::RateLimited)
    }

    pub fn login_throttle(&self) -> &open311::LoginThrottle {
        &self.inner.login_throttle
    }

    pub fn rate_limiter(&self) -> &open311::RateLimiter {
        &self.inner.rate_limiter
    }

    pub fn blobs(&self) -> &crate::files::BlobStore {
        &self.inner.blobs
    }

    pub(crate) fn category_cache(&self) -> &cache::TtlCache<(), Arc<Vec<crate::domain::category::Category>>> {
        &self.inner.categories
    }

    pub(crate) fn token_cache(&self) -> &cache::TtlCache<String, Option<crate::domain::authz::Actor>> {
        &self.inner.token_actors
    }

    pub fn calendar(&self) -> &WorkCalendar {
        &self.inner.calendar
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn directory(&self) -> Arc<GridDirectory> {
        match self.inner.directory.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the in-memory grid directory (R-tree and GeoJSON) from the store.
    pub async fn reload_directory(&self) -> AppResult<()> {
        let (revision, directory) = self
            .store()
            .read(|c| {
                let revision = schema::meta_get(c, ORG_REVISION)?.and_then(|v| v.parse().ok()).unwrap_or(0);
                Ok::<_, AppError>((revision, grids::load_directory(c)?))
            })
            .await?;
        let directory = Arc::new(directory);
        match self.inner.directory.write() {
            Ok(mut d) => *d = directory,
            Err(poisoned) => *poisoned.into_inner() = directory,
        }
        self.inner.directory_revision.store(revision, Ordering::SeqCst);
        // People, roles or units changed: who holds a token may have changed too.
        self.inner.token_actors.clear();
        Ok(())
    }

    /// Reloads the directory when another process has changed the org since it was built.
    pub async fn refresh_if_changed(&self) -> AppResult<bool> {
        let revision: i64 = self.store().read(|c| schema::meta_get(c, ORG_REVISION)).await?.and_then(|v| v.parse().ok()).unwrap_or(0);
        if revision != self.inner.directory_revision.load(Ordering::SeqCst) {
            self.reload_directory().await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Background upkeep: directory refresh and expired-session cleanup.
    pub fn spawn_background(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(app.config().grid_reload_seconds));
            let mut n: u64 = 0;
            loop {
                tick.tick().await;
                n += 1;
                if let Err(e) = app.refresh_if_changed().await {
                    tracing::warn!(error = %e, "grid directory refresh failed");
                }
                if n.is_multiple_of(12)
                    && let Err(e) = app.scan_deadlines().await
                {
                    tracing::warn!(error = %e, "deadline scan failed");
                }
                if n % 720 == 1
                    && let Err(e) = app.purge_expired_sessions().await
                {
                    tracing::warn!(error = %e, "session cleanup failed");
                }
            }
        })
    }
}
