//! Accounts: Argon2 passwords, login sessions with CSRF tokens, API tokens.

use std::sync::atomic::Ordering;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::App;
use crate::domain::authz::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{Conn, now_ms, people};

/// A random secret, URL-safe: session tokens, CSRF tokens, API tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored only as their SHA-256, so a copy of the database opens no session.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares secrets without leaking, through timing, how much of them matched.
/// A server secret kept in `meta` under `name`, made at first use (in the caller's write).
pub(crate) fn stored_secret(c: &mut dyn crate::store::Conn, name: &str) -> AppResult<String> {
    if let Some(k) = crate::store::schema::meta_get(c, name)? {
        return Ok(k);
    }
    let k = random_token();
    crate::store::schema::meta_set(c, name, &k)?;
    Ok(k)
}

/// HMAC-SHA256 of `message` under `key`: every signed code (door codes, login codes,
/// check-in codes, certificates) is made with it.
pub(crate) fn sign(key: &str, message: &str) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Rules for a new password; kept simple and stated in the message catalogue.
pub fn check_password_rules(password: &str) -> AppResult<()> {
    if password.chars().count() < 8 {
        return Err(AppError::BadRequest("password must have at least 8 characters".into()));
    }
    Ok(())
}

/// A fresh login: the cookie value and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

fn actor_for(conn: &mut dyn Conn, person_id: &str) -> AppResult<Option<Actor>> {
    let Some(name) = people::person_name(conn, person_id)? else { return Ok(None) };
    let grants = people::grants(conn, person_id)?;
    Ok(Some(Actor::person(person_id, name, grants)))
}

impl App {
    pub async fn login(&self, username: &str, password: &str) -> AppResult<NewSession> {
        let username = username.trim().to_string();
        let throttle_key = username.to_lowercase();
        self.login_throttle().check(&throttle_key, self.config().login_attempts).map_err(AppError::RateLimited)?;
        let creds = self.store().read(move |c| people::credentials(c, &username)).await?;
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || match creds {
            Some(c) if c.active => {
                let ok = c.password_hash.as_deref().is_some_and(|h| verify_password(&password, h));
                ok.then_some(c.person_id)
            }
            _ => {
                // Spend the same time as a real check, so timing does not tell which
                // usernames exist.
                let _ = hash_password(&password);
                None
            }
        })
        .await
        .map_err(|_| AppError::Internal("password check failed".into()))?;
        let Some(person_id) = verified else {
            self.metrics().logins_failed.fetch_add(1, Ordering::Relaxed);
            self.login_throttle().fail(&throttle_key);
            return Err(AppError::BadCredentials);
        };
        self.login_throttle().succeed(&throttle_key);
        self.open_session(move |_| Ok(person_id)).await
    }

    /// A new session for the person `who` names (it may make the account, in the session's
    /// transaction): every way of logging in ends here.
    pub(crate) async fn open_session(
        &self,
        who: impl FnOnce(&mut dyn crate::store::Conn) -> AppResult<String> + Send + 'static,
    ) -> AppResult<NewSession> {
        let token = random_token();
        let csrf_token = random_token();
        let expires = now_ms() + self.config().session_hours * 3_600_000;
        let (hash, csrf) = (token_hash(&token), csrf_token.clone());
        let actor = self
            .store()
            .write(move |c| {
                let person_id = who(c)?;
                people::create_session(c, &hash, &person_id, &csrf, expires)?;
                actor_for(c, &person_id)?.ok_or(AppError::BadCredentials)
            })
            .await?;
        Ok(NewSession { token, csrf_token, actor })
    }

    pub async fn logout(&self, session_token: &str) -> AppResult<()> {
        let hash = token_hash(session_token);
        self.store().write(move |c| people::delete_session(c, &hash)).await?;
        Ok(())
    }

    /// The person behind a session cookie and the session's CSRF token, if it is current.
    pub async fn session_actor(&self, session_token: &str) -> AppResult<Option<(Actor, String)>> {
        let hash = token_hash(session_token);
        self.store()
            .read(move |c| {
                let Some(s) = people::session(c, &hash)? else { return Ok(None) };
                if s.expires_at < now_ms() {
                    return Ok(None);
                }
                Ok(actor_for(c, &s.person_id)?.map(|a| (a, s.csrf_token)))
            })
            .await
    }

    /// The person behind an API token (`Authorization: Bearer …`).
    pub async fn token_actor(&self, token: &str) -> AppResult<Option<Actor>> {
        let hash = token_hash(token);
        if let Some(actor) = self.token_cache().get(&hash) {
            return Ok(actor);
        }
        let key = hash.clone();
        let actor = self
            .store()
            .read(move |c| match people::api_token_person(c, &hash)? {
                Some(person_id) => actor_for(c, &person_id),
                None => Ok(None),
            })
            .await?;
        self.token_cache().put(key, actor.clone());
        Ok(actor)
    }

    /// Issues an API token for `person_id` — one's own, or (for whoever manages people
    /// wherever that person works) someone else's; shown once and stored hashed.
    pub async fn create_api_token(&self, actor: &Actor, person_id: &str, name: &str) -> AppResult<String> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(AppError::MissingParameter("name".into()));
        }
        let token = format!("cc_{}", random_token());
        let (hash, person_id, actor) = (token_hash(&token), person_id.to_string(), actor.clone());
        self.store()
            .write(move |c| {
                let own = actor.is_person() && actor.person_id == person_id;
                if !own {
                    let grants = people::grants(c, &person_id)?;
                    if grants.is_empty() {
                        return Err(AppError::NotFound(crate::error::Thing::Person));
                    }
                    if !grants.iter().all(|g| actor.can(crate::domain::authz::Permission::ManagePeople, &g.org_path)) {
                        return Err(AppError::Forbidden);
                    }
                }
                people::create_api_token(c, &hash, &person_id, &name)?;
                Ok(())
            })
            .await?;
        Ok(token)
    }

    pub async fn purge_expired_sessions(&self) -> AppResult<u64> {
        Ok(self.store().write(|c| people::delete_expired_sessions(c, now_ms())).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        assert_ne!(random_token(), random_token());
        assert_eq!(token_hash("a"), token_hash("a"));
        assert_eq!(token_hash("a").len(), 64);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
