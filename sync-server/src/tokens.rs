//! How long a phone's sign-in lasts. A phone token lapses when the phone has not used it for
//! its lifetime (`PHONE_TOKEN_LIFETIME`, or `--phone-token-days`): each authenticated request
//! starts the lifetime again, so a phone in daily use never signs in again, while a lost phone
//! nobody revoked stops working on its own. The renewal is written at most once per
//! `RENEW_EVERY`, so that a sync is not a database write per request. (A console token lasts a
//! fixed time from its sign-in instead, checked by the console: an office PC is often shared.)

use std::time::Duration;

/// How long a phone token lasts unused, unless the server is told otherwise.
pub const PHONE_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The most often a token's renewal is written.
pub const RENEW_EVERY: Duration = Duration::from_secs(3600);

/// What a phone token is when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Live,
    /// Live, and its lifetime is to start again now.
    Renew,
    Expired,
}

/// The lifetime rule for phone tokens.
#[derive(Debug, Clone, Copy)]
pub struct PhoneTokens {
    lifetime_ms: i64,
    renew_ms: i64,
}

impl Default for PhoneTokens {
    fn default() -> Self {
        PhoneTokens::new(PHONE_TOKEN_LIFETIME)
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PhoneTokens {
    pub fn new(lifetime: Duration) -> Self {
        let lifetime_ms = ms(lifetime).max(1);
        // A lifetime shorter than a few renewal periods (a test's) renews sooner, so that a
        // token in use never lapses between two renewals.
        PhoneTokens {
            lifetime_ms,
            renew_ms: ms(RENEW_EVERY).min(lifetime_ms / 4),
        }
    }

    /// What a token whose lifetime last started at `renewed_at_ms` is at `now_ms`. (A clock
    /// behind the one that renewed it, another instance's, finds it live.)
    pub fn judge(&self, renewed_at_ms: i64, now_ms: i64) -> Verdict {
        let idle = now_ms.saturating_sub(renewed_at_ms);
        if idle >= self.lifetime_ms {
            Verdict::Expired
        } else if idle >= self.renew_ms {
            Verdict::Renew
        } else {
            Verdict::Live
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_hourly_and_lapses_unused() {
        let t = PhoneTokens::default();
        let hour = 3_600_000;
        let day = 24 * hour;
        assert_eq!(t.judge(0, 0), Verdict::Live);
        assert_eq!(t.judge(0, hour - 1), Verdict::Live, "no write per request");
        assert_eq!(t.judge(0, hour), Verdict::Renew);
        assert_eq!(t.judge(0, 30 * day - 1), Verdict::Renew);
        assert_eq!(t.judge(0, 30 * day), Verdict::Expired);
        assert_eq!(t.judge(hour, 0), Verdict::Live, "a clock behind");
    }

    #[test]
    fn a_short_lifetime_renews_sooner() {
        let t = PhoneTokens::new(Duration::from_secs(8));
        assert_eq!(t.judge(0, 1_999), Verdict::Live);
        assert_eq!(t.judge(0, 2_000), Verdict::Renew);
        assert_eq!(t.judge(0, 8_000), Verdict::Expired);
    }
}
