//! SelfSubjectRulesReview parser (JSON, YAML): no panic, no hang.
#![no_main]

use cicd_access_core::rules_review::parse_rules_review;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(error) = parse_rules_review(text) {
        let _ = error.to_string();
    }
});
