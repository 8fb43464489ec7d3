//! Kubeconfig files read back (`rotate` decides whether it may replace one): no panic,
//! bounded work, for any namespace.
#![no_main]

use cicd_access_core::kubeconfig::is_issued_for;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (namespace, rest) = text.split_once('\n').unwrap_or(("", text));
    let _ = is_issued_for(rest, namespace);
});
