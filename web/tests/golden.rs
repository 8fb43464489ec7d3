//! The core's golden outputs, computed in the browser, equal the native insta snapshots:
//! native == wasm32, byte for byte (insta stores a snapshot with one final newline).
#![cfg(target_arch = "wasm32")]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cicd_access_core::kubeconfig::kubeconfig_from_secret;
use cicd_access_core::manifest::build_manifests;
use cicd_access_core::preset::PRESETS;
use cicd_access_core::script::render_script;
use cicd_access_core::snippet::{github_actions, gitlab_ci};
use cicd_access_core::{AccessSpec, TokenKind};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! snap {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                "../../crates/core/src/snapshots/cicd_access_core__",
                $name,
                ".snap"
            )),
        )
    };
}

const SNAPSHOTS: &[(&str, &str)] = &[
    snap!("manifest__tests__welkin-user-demo.yaml"),
    snap!("manifest__tests__deployment-service-ingress.yaml"),
    snap!("manifest__tests__read-only.yaml"),
    snap!("manifest__tests__batch-jobs.yaml"),
    snap!("manifest__tests__json_list"),
    snap!("script__tests__welkin-user-demo.sh"),
    snap!("script__tests__deployment-service-ingress.sh"),
    snap!("script__tests__read-only.sh"),
    snap!("script__tests__batch-jobs.sh"),
    snap!("script__tests__bound_token_and_current_namespace_golden"),
    snap!("snippet__tests__golden"),
    snap!("snippet__tests__golden-2"),
    snap!("kubeconfig__tests__golden_kubeconfig"),
];

/// The body of an insta snapshot: what follows the second `---` line.
fn body(snapshot: &str) -> &str {
    let mut rest = snapshot;
    for _ in 0..2 {
        rest = rest.split_once("---\n").map_or("", |(_, after)| after);
    }
    rest
}

fn expect(name: &str, actual: &str) {
    let (_, snapshot) = SNAPSHOTS.iter().find(|(n, _)| *n == name).expect(name);
    let expected = body(snapshot);
    assert!(!expected.is_empty(), "{name}: empty snapshot");
    assert_eq!(
        format!("{}\n", actual.trim_end_matches('\n')),
        expected,
        "{name}: wasm32 output differs from the native snapshot"
    );
}

fn demo(index: usize) -> AccessSpec {
    AccessSpec { namespace: Some("demo".into()), ..PRESETS[index].spec() }
}

#[wasm_bindgen_test]
fn manifests_of_every_preset() {
    for (index, preset) in PRESETS.iter().enumerate() {
        let yaml = build_manifests(&demo(index)).unwrap().to_yaml();
        expect(&format!("manifest__tests__{}.yaml", preset.name), &yaml);
    }
    expect("manifest__tests__json_list", &build_manifests(&demo(0)).unwrap().to_json());
}

#[wasm_bindgen_test]
fn scripts_of_every_preset() {
    for (index, preset) in PRESETS.iter().enumerate() {
        expect(
            &format!("script__tests__{}.sh", preset.name),
            &render_script(&demo(index)).unwrap(),
        );
    }
    let bound = AccessSpec {
        token: TokenKind::Bound { duration: "24h".parse().unwrap() },
        server: Some("https://api.example.com:6443".into()),
        ..PRESETS[1].spec()
    };
    expect(
        "script__tests__bound_token_and_current_namespace_golden",
        &render_script(&bound).unwrap(),
    );
}

#[wasm_bindgen_test]
fn ci_snippets() {
    let github = github_actions(&demo(0)).unwrap();
    let gitlab = gitlab_ci(&demo(0)).unwrap();
    expect("snippet__tests__golden", &format!("{}\n# store: {}\n", github.text, github.store_hint));
    expect(
        "snippet__tests__golden-2",
        &format!("{}\n# store: {}\n", gitlab.text, gitlab.store_hint),
    );
}

#[wasm_bindgen_test]
fn kubeconfig() {
    let ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    let b = |s: &str| STANDARD.encode(s);
    let secret = format!(
        r#"{{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token",
            "metadata":{{"name":"ci-cd","namespace":"demo","annotations":{{"kubernetes.io/service-account.name":"ci-cd"}}}},
            "data":{{"ca.crt":"{}","namespace":"{}","token":"{}"}}}}"#,
        b(ca),
        b("demo"),
        b(token),
    );
    let text =
        kubeconfig_from_secret(&secret, "https://127.0.0.1:6443", "default-cluster", None).unwrap();
    expect("kubeconfig__tests__golden_kubeconfig", &text);
}
