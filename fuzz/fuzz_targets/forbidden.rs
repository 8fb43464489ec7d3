//! Escalation 403 parser: no panic, no hang; what it reads, printed again the way the API
//! server prints it, reads back the same (Go quoting round-trips).
#![no_main]

use cicd_access_core::coverage::compact_string;
use cicd_access_core::forbidden::parse_forbidden;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let forbidden = match parse_forbidden(text) {
        Ok(forbidden) => forbidden,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    assert!(!forbidden.missing.is_empty());
    let printed: Vec<String> = forbidden.missing.iter().map(compact_string).collect();
    let again = format!(
        "user \"u\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n{}",
        printed.join("\n")
    );
    assert_eq!(
        parse_forbidden(&again).expect("printed rules read back").missing,
        forbidden.missing
    );
});
