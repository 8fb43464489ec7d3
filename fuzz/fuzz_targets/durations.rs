//! Durations users type: `--duration` of bound tokens (kubectl's `1h30m` form, the page's
//! field) and `--timeout`. No panic, no overflow; what is read lies within its bounds and
//! prints back as the same duration.
#![no_main]

use cicd_access_core::TokenDuration;
use cicd_access_core::duration::{MAX_SECONDS, MAX_TIMEOUT_SECONDS, MIN_SECONDS, Timeout};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match text.parse::<TokenDuration>() {
        Ok(duration) => {
            assert!((MIN_SECONDS..=MAX_SECONDS).contains(&duration.seconds()));
            let printed = duration.to_string();
            assert_eq!(printed.parse::<TokenDuration>(), Ok(duration), "{printed:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    match text.parse::<Timeout>() {
        Ok(timeout) => assert!((1..=MAX_TIMEOUT_SECONDS).contains(&timeout.seconds())),
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
