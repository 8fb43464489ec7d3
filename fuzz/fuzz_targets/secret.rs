//! Pasted token Secrets (the page's step 5, `kubectl get secret -o json|yaml`): no panic,
//! bounded work, and whatever the outcome, the token is never in an error message.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cicd_access_core::kubeconfig::{is_issued_for, kubeconfig_from_secret, parse_secret_text};
use libfuzzer_sys::fuzz_target;

/// `data.<field>` of the pasted Secret, decoded.
fn pasted(text: &str, field: &str) -> Option<String> {
    let value = parse_secret_text(text).ok()?;
    let data = value.get("data")?.get(field)?.as_str()?;
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    String::from_utf8(STANDARD.decode(compact).ok()?).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match kubeconfig_from_secret(text, "https://api.example.com:6443", "fuzz", Some("ci-cd")) {
        Ok(kubeconfig) => {
            // The Secret's own namespace, or where it names none (a Secret written by hand),
            // the one the token controller wrote into its data.
            let namespace = parse_secret_text(text)
                .ok()
                .and_then(|v| v.pointer("/metadata/namespace")?.as_str().map(str::to_owned))
                .or_else(|| pasted(text, "namespace"))
                .unwrap_or_default();
            assert!(is_issued_for(&kubeconfig, &namespace), "an issued kubeconfig is not ours");
        }
        Err(error) => {
            let message = error.to_string();
            if let Some(token) = pasted(text, "token").filter(|t| t.trim().len() >= 8) {
                assert!(!message.contains(token.trim()), "the token leaked: {message}");
            }
        }
    }
});
