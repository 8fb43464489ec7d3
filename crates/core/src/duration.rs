//! Token lifetimes, written as kubectl writes them (`24h`, `90m`, `1h30m`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The TokenRequest API refuses `expirationSeconds` below ten minutes.
pub const MIN_SECONDS: u64 = 600;
/// A year: longer bound tokens defeat their purpose; use the Secret kind instead.
pub const MAX_SECONDS: u64 = 365 * 24 * 3600;

/// Lifetime of a bound token, whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenDuration {
    seconds: u64,
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "token duration {value:?} is not a duration; write it as kubectl does, e.g. 24h, 90m or 1h30m"
    )]
    Syntax { value: String },
    #[error(
        "token duration {value:?} is shorter than 10m, the least the TokenRequest API issues; use 10m or more"
    )]
    TooShort { value: String },
    #[error(
        "token duration {value:?} is longer than a year; use a long-lived Secret token instead, or a shorter duration"
    )]
    TooLong { value: String },
}

impl TokenDuration {
    /// The shortest the TokenRequest API issues.
    pub const SHORTEST: TokenDuration = TokenDuration { seconds: MIN_SECONDS };

    /// A duration of `seconds`, checked against the TokenRequest API's bounds.
    pub fn from_seconds(seconds: u64) -> Result<Self, DurationError> {
        let value = format_seconds(seconds);
        if seconds < MIN_SECONDS {
            return Err(DurationError::TooShort { value });
        }
        if seconds > MAX_SECONDS {
            return Err(DurationError::TooLong { value });
        }
        Ok(TokenDuration { seconds })
    }

    pub fn seconds(self) -> u64 {
        self.seconds
    }
}

fn format_seconds(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

impl fmt::Display for TokenDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_seconds(self.seconds))
    }
}

/// Why a `1h30m`-style text is not a number of seconds.
enum Unreadable {
    Syntax,
    /// More seconds than fit in 64 bits.
    Overflow,
}

/// Seconds of `24h`, `90m`, `1h30m`, `600s` (units h, m, s, each after its number), with
/// every step checked for overflow. `plain`: a bare number is seconds.
fn total_seconds(text: &str, plain: bool) -> Result<u64, Unreadable> {
    if text.is_empty() || text.len() > 32 {
        return Err(Unreadable::Syntax);
    }
    if plain && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| Unreadable::Overflow);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(Unreadable::Syntax),
        };
        if digits.is_empty() {
            return Err(Unreadable::Syntax);
        }
        let n: u64 = digits.parse().map_err(|_| Unreadable::Overflow)?;
        digits.clear();
        total =
            n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or(Unreadable::Overflow)?;
    }
    if digits.is_empty() { Ok(total) } else { Err(Unreadable::Syntax) }
}

impl FromStr for TokenDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let total = total_seconds(text, false).map_err(|e| match e {
            Unreadable::Syntax => DurationError::Syntax { value: text.to_owned() },
            Unreadable::Overflow => DurationError::TooLong { value: text.to_owned() },
        })?;
        TokenDuration::from_seconds(total).map_err(|e| match e {
            DurationError::TooShort { .. } => DurationError::TooShort { value: text.to_owned() },
            DurationError::TooLong { .. } => DurationError::TooLong { value: text.to_owned() },
            DurationError::Syntax { .. } => DurationError::Syntax { value: text.to_owned() },
        })
    }
}

/// How old a Secret token may get before `status` says to rotate it (`--max-age`): whole
/// days (`90d`) or `h`/`m`/`s` as for tokens, from an hour to ten years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxAge {
    seconds: u64,
}

impl MaxAge {
    /// Whole days, rounded down (a token's age is counted in days).
    pub fn days(self) -> u64 {
        self.seconds / 86_400
    }
}

/// Why a `--max-age` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaxAgeError {
    #[error("max age {value:?} is not a duration; write e.g. 90d, 30d or 2160h")]
    Syntax { value: String },
    #[error("max age {value:?} is outside 1d to 3650d; write e.g. 90d")]
    OutOfRange { value: String },
}

impl FromStr for MaxAge {
    type Err = MaxAgeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let value = || text.to_owned();
        let seconds = match text.strip_suffix('d') {
            Some(days) if !days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()) => days
                .parse::<u64>()
                .ok()
                .and_then(|d| d.checked_mul(86_400))
                .ok_or(MaxAgeError::OutOfRange { value: value() })?,
            _ => total_seconds(text, false).map_err(|e| match e {
                Unreadable::Syntax => MaxAgeError::Syntax { value: value() },
                Unreadable::Overflow => MaxAgeError::OutOfRange { value: value() },
            })?,
        };
        if !(86_400..=3650 * 86_400).contains(&seconds) {
            return Err(MaxAgeError::OutOfRange { value: value() });
        }
        Ok(MaxAge { seconds })
    }
}

/// A day: no step of the procedure waits that long; a longer wait is a typo.
pub const MAX_TIMEOUT_SECONDS: u64 = 24 * 3600;

/// How long a command may take (`--timeout`): `30s`, `2m`, `1m30s` or plain seconds, from
/// one second to a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timeout {
    seconds: u64,
}

impl Timeout {
    pub fn seconds(self) -> u64 {
        self.seconds
    }
}

/// Why a timeout was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    #[error("timeout {value:?} is not a duration; write e.g. 30s, 2m or 1m30s")]
    Syntax { value: String },
    #[error("timeout {value:?} is zero; give the command at least 1s")]
    Zero { value: String },
    #[error("timeout {value:?} is longer than a day; write e.g. 5m")]
    TooLong { value: String },
}

impl FromStr for Timeout {
    type Err = TimeoutError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let value = || text.to_owned();
        match total_seconds(text, true) {
            Err(Unreadable::Syntax) => Err(TimeoutError::Syntax { value: value() }),
            Err(Unreadable::Overflow) => Err(TimeoutError::TooLong { value: value() }),
            Ok(0) => Err(TimeoutError::Zero { value: value() }),
            Ok(seconds) if seconds > MAX_TIMEOUT_SECONDS => {
                Err(TimeoutError::TooLong { value: value() })
            }
            Ok(seconds) => Ok(Timeout { seconds }),
        }
    }
}

impl Serialize for TokenDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for TokenDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_ages_are_days_or_durations_within_bounds() {
        assert_eq!("90d".parse::<MaxAge>().unwrap().days(), 90);
        assert_eq!("48h".parse::<MaxAge>().unwrap().days(), 2);
        for (text, fragment) in [
            ("soon", "write e.g. 90d"),
            ("0d", "outside"),
            ("99999999999999999999d", "outside"),
            ("3651d", "outside"),
            ("d", "write e.g."),
        ] {
            let error = text.parse::<MaxAge>().unwrap_err().to_string();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }

    #[test]
    fn parses_kubectl_durations() {
        for (text, seconds) in [("24h", 86_400), ("90m", 5_400), ("1h30m", 5_400), ("600s", 600)] {
            assert_eq!(text.parse::<TokenDuration>().unwrap().seconds(), seconds, "{text}");
        }
        assert_eq!("90m".parse::<TokenDuration>().unwrap().to_string(), "1h30m");
    }

    #[test]
    fn refuses_bad_durations() {
        for text in ["", "h", "24", "1d", "-1h", "5m", "9999h", "1h 30m", "99999999999999999999h"] {
            assert!(text.parse::<TokenDuration>().is_err(), "{text}");
        }
    }

    #[test]
    fn timeouts_are_checked_for_overflow_and_bounds() {
        for (text, seconds) in
            [("30s", 30), ("2m", 120), ("1m30s", 90), ("45", 45), ("24h", 86_400)]
        {
            assert_eq!(text.parse::<Timeout>().unwrap().seconds(), seconds, "{text}");
        }
        for text in
            ["9999999999999999h", "99999999999999999999", "25h", "0", "0s", "", "m", "1x", "5m3"]
        {
            assert!(text.parse::<Timeout>().is_err(), "{text}");
        }
        assert!(matches!(
            "9999999999999999h".parse::<Timeout>(),
            Err(TimeoutError::TooLong { .. })
        ));
    }
}
