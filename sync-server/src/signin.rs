//! Sign-in's defences, the same for a phone and a console browser. Every attempt is counted
//! before its password is checked (so many attempts at once cannot all get a check): per user
//! and client address, so nobody can lock another person out from elsewhere, and per address,
//! so one address trying many user names is slowed down too. The counts are kept by the
//! account store (`AccountStore::count_attempt`), so on PostgreSQL a lock-out made through one
//! instance holds at every other; the rule applied to them is written once, here. Password
//! checks run a few at a time (each argon2 check takes tens of MiB), and a user name nobody has
//! is checked against a dummy hash of the same cost, so the answer's timing does not tell which
//! names exist.

use std::net::IpAddr;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::error::ApiError;
use crate::storage::{AccountStore, Attempts};

/// Attempts allowed per (user, client address) within `WINDOW`; a success forgets them.
pub const USER_ATTEMPTS: i64 = 5;
/// Attempts allowed per client address within `WINDOW`, successes included. The bar is high:
/// many phones share one address behind a carrier's NAT, and their honest sign-ins must not
/// lock each other out.
pub const ADDRESS_ATTEMPTS: i64 = 100;
pub const WINDOW: Duration = Duration::from_secs(60);

/// The longest user name and password looked at; longer ones are wrong without a check.
const MAX_USER_ID: usize = 64;
const MAX_PASSWORD: usize = 256;

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// The limit on a key's attempts: past `max` within its window (which starts at its first
/// attempt), the key waits the window out; the refusal says how long.
fn within(counted: Attempts, max: i64, now_ms: i64) -> Result<(), ApiError> {
    if counted.count <= max {
        return Ok(());
    }
    let left_ms = counted.since_ms.saturating_add(window_ms()) - now_ms;
    let left_s = u64::try_from(left_ms.saturating_add(999) / 1000).unwrap_or(0);
    Err(ApiError::too_many_attempts(left_s.max(1)))
}

/// The key of a user's attempts from one address. An address never holds a `|`, so however a
/// user name is made up, two different (user, address) pairs never share a key.
fn user_key(user_id: &str, client: IpAddr) -> String {
    format!("user:{user_id}|{client}")
}

fn address_key(client: IpAddr) -> String {
    format!("address:{client}")
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

/// Bounds the password checks running at once; the attempt counts are the store's.
pub struct SignInGuard {
    gate: Gate,
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard {
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
    /// checks, counting the attempt in `store` at `now_ms` first; a wrong password, or a user
    /// nobody has, is `bad_credentials`.
    pub fn check(
        &self,
        store: &impl AccountStore,
        now_ms: i64,
        user_id: &str,
        password: &str,
        client: IpAddr,
        verify: impl FnOnce() -> Result<bool, ApiError>,
    ) -> Result<(), ApiError> {
        let counted = store.count_attempt(&address_key(client), now_ms, window_ms())?;
        within(counted, ADDRESS_ATTEMPTS, now_ms).inspect_err(|_| {
            tracing::warn!(%client, "sign-ins from this address held back");
        })?;
        if user_id.len() > MAX_USER_ID || password.len() > MAX_PASSWORD {
            return Err(ApiError::bad_credentials());
        }
        let key = user_key(user_id, client);
        let counted = store.count_attempt(&key, now_ms, window_ms())?;
        within(counted, USER_ATTEMPTS, now_ms).inspect_err(|_| {
            tracing::warn!(user = user_id, %client, "sign-ins of this user held back");
        })?;
        if self.gate.run(verify)? {
            store.forget_attempts(&key)?;
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
        let at = |count, since_ms| Attempts { count, since_ms };
        assert!(within(at(2, 1_000), 2, 1_000).is_ok());
        let e = within(at(3, 1_000), 2, 1_500).unwrap_err();
        assert_eq!(e.status, 429);
        assert_eq!(e.retry_after(), Some(60), "59.5 s left, rounded up");
        assert!(e.zh.contains("秒"), "{}", e.zh);
        let e = within(at(3, 1_000), 2, 1_000 + window_ms()).unwrap_err();
        assert_eq!(e.retry_after(), Some(1), "never less than a second");
    }

    #[test]
    fn no_user_name_shares_a_key_with_another_pair() {
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert_ne!(user_key("w01|10.0.0.1", b), user_key("w01", a));
        assert_ne!(user_key("w01", a), address_key(a));
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
