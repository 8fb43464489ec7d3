//! RFC 3339 times as the API server and tokens carry them, without a date library: the
//! core reads no clock, and the page would otherwise link a whole date parser for a few
//! timestamps. Seconds since the Unix epoch, UTC, proleptic Gregorian calendar.

/// `seconds` since the Unix epoch as RFC 3339 in UTC, e.g. `2026-12-02T14:05:00Z`.
pub fn rfc3339(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The seconds since the Unix epoch of an RFC 3339 time (`2026-12-02T14:05:00Z`, with
/// optional fractional seconds, `z`, or an offset such as `+01:00`); `None` when it is not one.
pub fn epoch_seconds(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |from: usize, len: usize| decimal(bytes.get(from..from + len)?);
    let separator = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    let shaped = separator(4, b"-")
        && separator(7, b"-")
        && separator(10, b"Tt ")
        && separator(13, b":")
        && separator(16, b":");
    if !shaped {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    // A leap second (60) reads as the next second's start, as most clocks see it.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (decimal(&[*h1, *h2])?, decimal(&[*m1, *m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The value of ASCII decimal digits; `None` when one is not a digit.
fn decimal(digits: &[u8]) -> Option<i64> {
    digits
        .iter()
        .all(u8::is_ascii_digit)
        .then(|| digits.iter().fold(0, |value, digit| value * 10 + i64::from(digit - b'0')))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, in eras of 400 years
/// that start on March 1st).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day since 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn reads_what_api_servers_and_tokens_write() {
        assert_eq!(epoch_seconds("2026-11-30T10:00:00Z"), Some(1_796_032_800));
        assert_eq!(epoch_seconds("2026-11-30T10:00:00.123456Z"), Some(1_796_032_800));
        assert_eq!(epoch_seconds("2026-11-30T11:30:00+01:30"), Some(1_796_032_800));
        assert_eq!(epoch_seconds("2026-11-30T08:00:00-02:00"), Some(1_796_032_800));
        assert_eq!(epoch_seconds("2000-02-29T00:00:00z"), Some(951_782_400));
        assert_eq!(epoch_seconds("1969-12-31T23:59:59Z"), Some(-1));
        for bad in [
            "",
            "2026-11-30",
            "2026-11-30T10:00:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T10:00:00.Z",
            "2026-11-30T10:00:00+1:00",
            "2026-11-30T10:00:00Z ",
            "２０２6-11-30T10:00:00Z",
            "+026-11-30T10:00:00Z",
        ] {
            assert_eq!(epoch_seconds(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn reads_back_what_it_writes(seconds in -62_135_596_800_i64..253_402_300_799) {
            prop_assert_eq!(epoch_seconds(&rfc3339(seconds)), Some(seconds));
        }

        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = epoch_seconds(&text);
        }
    }
}
