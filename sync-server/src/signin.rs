//! Sign-in's defences, the same for a phone and a console browser. Every attempt is counted
//! before its password is checked (so many attempts at once cannot all get a check): per user
//! and client address, so nobody can lock another person out from elsewhere, and per address,
//! so one address trying many user names is slowed down too. Password checks run a few at a
//! time (each argon2 check takes tens of MiB), and a user name nobody has is checked against a
//! dummy hash of the same cost, so the answer's timing does not tell which names exist.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Attempts allowed per (user, client address) within `WINDOW`; a success forgets them.
pub const USER_ATTEMPTS: u32 = 5;
/// Attempts allowed per client address within `WINDOW`, successes included. The bar is high:
/// many phones share one address behind a carrier's NAT, and their honest sign-ins must not
/// lock each other out.
pub const ADDRESS_ATTEMPTS: u32 = 100;
pub const WINDOW: Duration = Duration::from_secs(60);

/// The longest user name and password looked at; longer ones are wrong without a check.
const MAX_USER_ID: usize = 64;
const MAX_PASSWORD: usize = 256;

/// Attempts counted per key in a window that starts at the key's first attempt: past `max`,
/// the key waits the window out. Stale keys are dropped as new attempts come in.
pub struct AttemptLimit<K> {
    max: u32,
    window: Duration,
    attempts: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Eq + Hash> AttemptLimit<K> {
    pub fn new(max: u32, window: Duration) -> Self {
        AttemptLimit {
            max,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (u32, Instant)>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an attempt of `key`, or refuses it (saying how long to wait) while `key` has
    /// used up its attempts.
    pub fn attempt(&self, key: K) -> Result<(), ApiError> {
        let window = self.window;
        let mut attempts = self.lock();
        attempts.retain(|_, (_, since)| since.elapsed() <= window);
        let (n, since) = attempts.entry(key).or_insert((0, Instant::now()));
        if *n >= self.max {
            let left = window.saturating_sub(since.elapsed());
            return Err(ApiError::too_many_attempts(left.as_secs().max(1)));
        }
        *n += 1;
        Ok(())
    }

    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// Lets at most `max` password checks run at once; the others wait their turn.
struct Gate {
    max: usize,
    busy: Mutex<usize>,
    freed: Condvar,
}

impl Gate {
    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= self.max {
            busy = self.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        drop(busy);
        let out = f();
        *self.busy.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.freed.notify_one();
        out
    }
}

pub struct SignInGuard {
    users: AttemptLimit<(String, IpAddr)>,
    addresses: AttemptLimit<IpAddr>,
    gate: Gate,
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard {
            users: AttemptLimit::new(USER_ATTEMPTS, WINDOW),
            addresses: AttemptLimit::new(ADDRESS_ATTEMPTS, WINDOW),
            gate: Gate {
                max: std::thread::available_parallelism().map_or(2, |n| n.get()),
                busy: Mutex::new(0),
                freed: Condvar::new(),
            },
        }
    }
}

impl SignInGuard {
    /// Lets `user_id` from `client` try `password` against the stored hash `verify` reads and
    /// checks, counting the attempt first; a wrong password, or a user nobody has, is
    /// `bad_credentials`.
    pub fn check(
        &self,
        user_id: &str,
        password: &str,
        client: IpAddr,
        verify: impl FnOnce() -> Result<bool, ApiError>,
    ) -> Result<(), ApiError> {
        self.addresses.attempt(client).inspect_err(|_| {
            tracing::warn!(%client, "sign-ins from this address held back");
        })?;
        if user_id.len() > MAX_USER_ID || password.len() > MAX_PASSWORD {
            return Err(ApiError::bad_credentials());
        }
        let key = (user_id.to_string(), client);
        self.users.attempt(key.clone()).inspect_err(|_| {
            tracing::warn!(user = user_id, %client, "sign-ins of this user held back");
        })?;
        if self.gate.run(verify)? {
            self.users.forget(&key);
            Ok(())
        } else {
            Err(ApiError::bad_credentials())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn attempts_past_the_limit_wait_and_say_how_long() {
        let limit = AttemptLimit::new(2, Duration::from_secs(60));
        assert!(limit.attempt("a").is_ok());
        assert!(limit.attempt("a").is_ok());
        let e = limit.attempt("a").unwrap_err();
        assert_eq!(e.status, 429);
        assert!(matches!(e.retry_after, Some(1..=60)));
        assert!(e.zh.contains("秒"), "{}", e.zh);
        assert!(limit.attempt("b").is_ok(), "another key is not held back");
        limit.forget(&"a");
        assert!(limit.attempt("a").is_ok());
    }

    #[test]
    fn password_checks_run_a_few_at_a_time() {
        let gate = std::sync::Arc::new(Gate {
            max: 2,
            busy: Mutex::new(0),
            freed: Condvar::new(),
        });
        let most = std::sync::Arc::new(Mutex::new(0usize));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, most) = (gate.clone(), most.clone());
                std::thread::spawn(move || {
                    gate.run(|| {
                        let now = *gate.busy.lock().unwrap();
                        let mut m = most.lock().unwrap();
                        *m = (*m).max(now);
                        drop(m);
                        std::thread::sleep(Duration::from_millis(20));
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*most.lock().unwrap(), 2);
    }
}
