//! Access tokens and tickets as WeCom issues them: one per owner (app, contact-sync secret,
//! corp jsapi ticket, app agent_config ticket), the same value returned while it is valid,
//! expiring after the TTL (42001) and revocable on demand (40014).

use std::collections::HashMap;
use std::hash::Hash;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::ApiError;
use wecom_core_auth::ErrorCode;

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Missing or empty (41001).
    Missing,
    /// Unknown or revoked (40014).
    Invalid,
    /// Past its lifetime (42001).
    Expired,
}

impl TokenProblem {
    /// The WeCom error for this problem.
    pub fn to_api_error(self) -> ApiError {
        match self {
            TokenProblem::Missing => {
                ApiError::new(ErrorCode::MISSING_ACCESS_TOKEN, "access_token missing")
            }
            TokenProblem::Invalid => {
                ApiError::new(ErrorCode::INVALID_ACCESS_TOKEN, "invalid access_token")
            }
            TokenProblem::Expired => {
                ApiError::new(ErrorCode::ACCESS_TOKEN_EXPIRED, "access_token expired")
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Entry<K> {
    owner: K,
    expires_at_ms: i64,
    revoked: bool,
}

/// Issued tokens (or tickets) keyed by owner `K`.
#[derive(Debug)]
pub struct TokenBook<K> {
    ttl_secs: u64,
    len: usize,
    by_value: HashMap<String, Entry<K>>,
    current: HashMap<K, String>,
}

/// A freshly issued or reused credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The value.
    pub value: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

impl<K: Clone + Eq + Hash> TokenBook<K> {
    /// A book whose entries live `ttl_secs` seconds and are `len` characters long.
    pub fn new(ttl_secs: u64, len: usize) -> Self {
        Self {
            ttl_secs: ttl_secs.max(1),
            len: len.clamp(16, 512),
            by_value: HashMap::new(),
            current: HashMap::new(),
        }
    }

    /// The configured lifetime.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_ttl_secs(&mut self, ttl_secs: u64) {
        self.ttl_secs = ttl_secs.max(1);
    }

    /// Issues a token for `owner`, or returns the current one with its remaining lifetime while it
    /// is valid (WeCom returns the same token within its validity).
    pub fn issue(&mut self, owner: K, now_ms: i64) -> Issued {
        if let Some(v) = self.current.get(&owner)
            && let Some(e) = self.by_value.get(v)
            && !e.revoked
            && e.expires_at_ms > now_ms
        {
            let remaining = ((e.expires_at_ms - now_ms) / 1000).max(1) as u64;
            return Issued {
                value: v.clone(),
                expires_in: remaining,
            };
        }
        // Forget entries that expired more than a day ago (clients may still present recent ones).
        let horizon = now_ms - 86_400_000;
        self.by_value.retain(|_, e| e.expires_at_ms > horizon);
        let value: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(self.len)
            .map(char::from)
            .collect();
        let expires_at_ms = now_ms.saturating_add((self.ttl_secs as i64).saturating_mul(1000));
        self.by_value.insert(
            value.clone(),
            Entry {
                owner: owner.clone(),
                expires_at_ms,
                revoked: false,
            },
        );
        self.current.insert(owner, value.clone());
        Issued {
            value,
            expires_in: self.ttl_secs,
        }
    }

    /// Who a presented value belongs to, or why it is refused.
    pub fn check(&self, value: Option<&str>, now_ms: i64) -> Result<K, TokenProblem> {
        let value = match value {
            Some(v) if !v.is_empty() => v,
            _ => return Err(TokenProblem::Missing),
        };
        match self.by_value.get(value) {
            None => Err(TokenProblem::Invalid),
            Some(e) if e.revoked => Err(TokenProblem::Invalid),
            Some(e) if e.expires_at_ms <= now_ms => Err(TokenProblem::Expired),
            Some(e) => Ok(e.owner.clone()),
        }
    }

    /// Revokes every token of the owners `which` selects; returns how many of them were still
    /// valid at `now_ms`.
    pub fn revoke(&mut self, which: impl Fn(&K) -> bool, now_ms: i64) -> usize {
        let mut n = 0;
        for e in self.by_value.values_mut() {
            if !e.revoked && which(&e.owner) {
                e.revoked = true;
                if e.expires_at_ms > now_ms {
                    n += 1;
                }
            }
        }
        self.current.retain(|k, _| !which(k));
        n
    }

    /// How many tokens are valid now.
    pub fn valid_count(&self, now_ms: i64) -> usize {
        self.valid_count_where(|_| true, now_ms)
    }

    /// How many tokens of the owners `which` selects are valid now.
    pub fn valid_count_where(&self, which: impl Fn(&K) -> bool, now_ms: i64) -> usize {
        self.by_value
            .values()
            .filter(|e| !e.revoked && e.expires_at_ms > now_ms && which(&e.owner))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_token_while_valid_then_expired() {
        let mut b: TokenBook<u32> = TokenBook::new(7200, 64);
        let a = b.issue(1, 0);
        assert_eq!(a.expires_in, 7200);
        let again = b.issue(1, 1_000_000);
        assert_eq!(again.value, a.value);
        assert_eq!(again.expires_in, 6200);
        assert_eq!(b.check(Some(&a.value), 7_199_999), Ok(1));
        assert_eq!(
            b.check(Some(&a.value), 7_200_000),
            Err(TokenProblem::Expired)
        );
        let fresh = b.issue(1, 7_200_000);
        assert_ne!(fresh.value, a.value);
    }

    #[test]
    fn revoke_and_missing() {
        let mut b: TokenBook<u32> = TokenBook::new(10, 32);
        let t1 = b.issue(1, 0);
        let t2 = b.issue(2, 0);
        assert_eq!(b.revoke(|k| *k == 1, 1), 1);
        assert_eq!(b.check(Some(&t1.value), 1), Err(TokenProblem::Invalid));
        assert_eq!(b.check(Some(&t2.value), 1), Ok(2));
        assert_eq!(b.check(None, 1), Err(TokenProblem::Missing));
        assert_eq!(b.check(Some(""), 1), Err(TokenProblem::Missing));
        assert_eq!(b.check(Some("nope"), 1), Err(TokenProblem::Invalid));
        assert_ne!(b.issue(1, 2).value, t1.value);
    }
}
