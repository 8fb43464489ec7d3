//! `kubectl auth can-i --list` parser: no panic, no hang; every line is a rule, an
//! unreadable row, or skipped, and a parsed rule always grants something.
#![no_main]

use cicd_access_core::canilist::parse_can_i_list;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(list) = parse_can_i_list(text) else { return };
    assert!(list.rules.len() + list.unreadable.len() <= text.lines().count());
    for rule in &list.rules {
        assert!(!rule.verbs.is_empty());
        assert!(rule.resources.is_empty() != rule.non_resource_urls.is_empty());
    }
    for row in &list.unreadable {
        assert!(row.line >= 1 && row.line <= text.lines().count());
        let _ = row.error.to_string();
    }
});
