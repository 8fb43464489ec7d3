//! Pasted token Secrets (the page's step 5, `kubectl get secret -o json|yaml`): no panic,
//! bounded work, and whatever the outcome, the token is never in an error message.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cicd_access_core::kubeconfig::{is_issued_for, kubeconfig_from_secret, parse_secret_text};
use libfuzzer_sys::fuzz_target;

fn pasted_token(text: &str) -> Option<String> {
    let value = parse_secret_text(text).ok()?;
    let data = value.pointer("/data/token")?.as_str()?;
    String::from_utf8(STANDARD.decode(data.trim()).ok()?).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match kubeconfig_from_secret(text, "https://api.example.com:6443", "fuzz", Some("ci-cd")) {
        Ok(kubeconfig) => {
            let namespace = parse_secret_text(text)
                .ok()
                .and_then(|v| v.pointer("/metadata/namespace")?.as_str().map(str::to_owned))
                .unwrap_or_default();
            assert!(is_issued_for(&kubeconfig, &namespace), "an issued kubeconfig is not ours");
        }
        Err(error) => {
            let message = error.to_string();
            if let Some(token) = pasted_token(text).filter(|t| t.trim().len() >= 8) {
                assert!(!message.contains(token.trim()), "the token leaked: {message}");
            }
        }
    }
});
