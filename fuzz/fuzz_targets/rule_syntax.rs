//! The one-line notations users type: `--rule GROUP:RESOURCES:VERBS[:NAMES]`, `--kind
//! Kind.group=plural`, `--deployer`, `--helm-wait`. No panic; a rule read is a valid rule,
//! and written back it reads the same.
#![no_main]

use cicd_access_core::derive::{Deployer, HelmWait, KindOverride};
use cicd_access_core::rule_syntax::{format_rule, parse_rule};
use cicd_access_core::validate::validate_rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_rule(text) {
        Ok(rule) => {
            assert!(validate_rules(std::slice::from_ref(&rule)).is_empty(), "{rule:?}");
            let written = format_rule(&rule);
            assert_eq!(parse_rule(&written).as_ref(), Ok(&rule), "{written:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    let _ = text.parse::<KindOverride>().map_err(|e| e.to_string());
    let _ = text.parse::<Deployer>().map_err(|e| e.to_string());
    let _ = text.parse::<HelmWait>().map_err(|e| e.to_string());
});
