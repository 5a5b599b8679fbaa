//! What the Open311 endpoint needs from the application: API keys (hashed, revocable,
//! rate-limited), the public view of cases and their updates, and citizens' follow-ups.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::App;
use super::auth::{random_token, token_hash};
use super::cases::ActInput;
use crate::domain::authz::{Actor, Permission};
use crate::domain::case::{Action, Status};
use crate::domain::category::Category;
use crate::domain::photo::AttachmentOwner;
use crate::error::Thing;
use crate::error::{AppError, AppResult};
use crate::store::apikeys::{self as keys, ApiKey};
use crate::store::cases::{self as db, CaseFilter, CaseRecord, EventRecord, PublicEvent};

/// Requests per minute one API key may make.
pub const DEFAULT_RATE_PER_MINUTE: f64 = 120.0;

/// A token bucket per key: `capacity` requests, refilled continuously over a minute.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `Ok` when the request may go ahead, `Err(seconds to wait)` when the key is over its rate.
    pub fn check(&self, key_id: &str, per_minute: f64) -> Result<(), u64> {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let (tokens, last) = buckets.entry(key_id.to_string()).or_insert((per_minute, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_minute / 60.0).min(per_minute);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) * 60.0 / per_minute).ceil().max(1.0) as u64)
        }
    }
}

/// A case as Open311 shows it to anyone: no personal data.
#[derive(Debug, Clone)]
pub struct PublicCase {
    pub record: CaseRecord,
    pub category: Option<Category>,
    pub agency: Option<String>,
    pub latest_note: Option<String>,
    pub photo_id: Option<String>,
}

impl App {
    /// Creates an API key; the key itself is returned once and stored only as a hash.
    pub async fn create_api_key(&self, actor: &Actor, name: &str) -> AppResult<(String, String)> {
        if !actor.can_somewhere(Permission::ManageApiKeys) {
            return Err(AppError::Forbidden);
        }
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(AppError::MissingParameter("name".into()));
        }
        let key = random_token();
        let hash = token_hash(&key);
        let id = self.store().write(move |c| keys::create(c, &name, &hash)).await?;
        Ok((id, key))
    }

    pub async fn api_keys(&self, actor: &Actor) -> AppResult<Vec<ApiKey>> {
        if !actor.can_somewhere(Permission::ManageApiKeys) {
            return Err(AppError::Forbidden);
        }
        Ok(self.store().read(|c| keys::list(c)).await?)
    }

    pub async fn revoke_api_key(&self, actor: &Actor, id_or_name: &str) -> AppResult<u64> {
        if !actor.can_somewhere(Permission::ManageApiKeys) {
            return Err(AppError::Forbidden);
        }
        let id = id_or_name.to_string();
        let n = self.store().write(move |c| keys::revoke(c, &id)).await?;
        if n == 0 {
            return Err(AppError::NotFound(Thing::ApiKey));
        }
        Ok(n)
    }

    /// The key behind `api_key`, after its rate limit. `Err(Forbidden)` for a bad key.
    pub async fn check_api_key(&self, api_key: Option<&str>) -> AppResult<ApiKey> {
        let key = api_key.map(str::trim).filter(|k| !k.is_empty()).ok_or(AppError::Forbidden)?;
        let hash = token_hash(key);
        let found = self.store().read(move |c| keys::by_hash(c, &hash)).await?.ok_or(AppError::Forbidden)?;
        self.rate_limiter().check(&found.id, self.config().open311_per_minute).map_err(AppError::RateLimited)?;
        Ok(found)
    }

    /// Cases for the public, newest first, with what Open311 shows of each.
    pub async fn public_cases(&self, filter: CaseFilter) -> AppResult<Vec<PublicCase>> {
        let categories: HashMap<String, Category> = self.categories().await?.into_iter().map(|c| (c.code.clone(), c)).collect();
        let dir = self.directory();
        self.store()
            .read(move |c| {
                let records = db::list_cases(c, &filter)?;
                let mut out = Vec::with_capacity(records.len());
                for record in records {
                    let events = db::events(c, &record.details.id)?;
                    let public: Vec<&EventRecord> = events.iter().filter(|e| e.public).collect();
                    let latest_note = public.iter().rev().find_map(|e| e.note.clone());
                    let photo_id =
                        crate::store::attachments::attached(c, AttachmentOwner::Case, &record.details.id, true)?.into_iter().next();
                    let agency = match &record.state.assignee_unit_id {
                        Some(id) => dir.unit(id).map(|u| u.name.clone()),
                        // 定格认责: before anyone is dispatched the grid says who answers for
                        // it — its community and its sponsor units.
                        None => dir.grid(&record.details.grid_id).map(|g| {
                            std::iter::once(g.community.name.clone()).chain(g.sponsor_units.iter().cloned()).collect::<Vec<_>>().join("、")
                        }),
                    };
                    out.push(PublicCase {
                        category: categories.get(&record.details.category_code).cloned(),
                        record,
                        agency,
                        latest_note,
                        photo_id,
                    });
                }
                Ok::<_, AppError>(out)
            })
            .await
    }

    /// Public steps of cases in `[from, to]`; each keeps only the photos that may be shown
    /// publicly.
    pub async fn public_events(&self, from: i64, to: i64, limit: u64) -> AppResult<Vec<PublicEvent>> {
        self.store()
            .read(move |c| {
                let mut events = db::public_events(c, from, to, limit)?;
                let mut public: HashMap<String, Vec<String>> = HashMap::new();
                for e in &mut events {
                    if e.event.data.photos.is_empty() {
                        continue;
                    }
                    let case_id = db::case_by_id(c, &e.case_number)?.map(|r| r.details.id).unwrap_or_default();
                    if !public.contains_key(&case_id) {
                        let list = crate::store::attachments::attached(c, AttachmentOwner::Case, &case_id, true)?;
                        public.insert(case_id.clone(), list);
                    }
                    let allowed = &public[&case_id];
                    e.event.data.photos.retain(|p| allowed.contains(p));
                }
                Ok::<_, AppError>(events)
            })
            .await
    }

    /// A citizen's follow-up to a case, through an integration. Returns the new event's id.
    pub async fn citizen_follow_up(&self, number: &str, note: String, via: String, wants_reopen: bool) -> AppResult<String> {
        let id = number.to_string();
        let record = self.store().read(move |c| db::case_by_id(c, &id)).await?.ok_or(AppError::NotFound(Thing::Case))?;
        let input = ActInput {
            note: Some(note),
            via: Some(via),
            reopen_requested: wants_reopen && record.state.status == Status::Closed,
            ..Default::default()
        };
        self.act(&Actor::system(), &record.details.id, Action::Comment, input, None).await?;
        let case_id = record.details.id.clone();
        self.store().read(move |c| db::last_event_id(c, &case_id)).await?.ok_or(AppError::NotFound(Thing::Case))
    }

    /// Photo bytes for the public (Open311 `media_url`): only photos their reporter allowed
    /// to be public, of cases citizens may see (the rule is `attachments::may_see_photo`).
    pub async fn public_photo(&self, id: &str) -> AppResult<(String, Vec<u8>)> {
        self.photo_bytes(None, id, false).await
    }
}

/// Failed logins per username: after `limit` failures within 15 minutes the username is
/// paused until the oldest failure is 15 minutes old (a guessing attack slows to a crawl; the
/// person can still log in later, or an admin resets the password).
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl LoginThrottle {
    fn recent(&self, key: &str) -> Vec<Instant> {
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| t.elapsed() < LOGIN_WINDOW);
        list.clone()
    }

    /// `Err(seconds)` while the username is paused.
    pub fn check(&self, key: &str, limit: u32) -> Result<(), u64> {
        let recent = self.recent(key);
        if recent.len() as u32 >= limit {
            let oldest = recent.iter().min().map(|t| t.elapsed()).unwrap_or_default();
            return Err(LOGIN_WINDOW.saturating_sub(oldest).as_secs().max(1));
        }
        Ok(())
    }

    pub fn fail(&self, key: &str) {
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(key.to_string()).or_default().push(Instant::now());
    }

    pub fn succeed(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_how_long_to_wait() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.check("k", 3.0).is_ok());
        }
        let wait = limiter.check("k", 3.0).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check("other", 3.0).is_ok(), "keys have their own buckets");
    }
}
