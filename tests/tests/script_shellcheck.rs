//! The generated script passes shellcheck for every preset and for any accepted spec.

use std::io::Write as _;
use std::process::{Command, Stdio};

use cicd_access_core::preset::PRESETS;
use cicd_access_core::script::render_script;
use cicd_access_core::{AccessSpec, Rule, TokenKind};
use cicd_access_tests::prerequisites;
use proptest::prelude::*;

/// Runs shellcheck on `script`; returns its complaints, if any.
fn shellcheck(script: &str) -> Result<(), String> {
    let shellcheck = prerequisites::require_program(
        "shellcheck",
        "the tests check every generated script with shellcheck",
    );
    let mut child = Command::new(shellcheck)
        .args(["--shell=bash", "--severity=style", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shellcheck did not start");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[test]
fn every_preset_script_passes_shellcheck() {
    for preset in PRESETS {
        for (namespace, token) in [
            (Some("demo".to_owned()), TokenKind::Secret),
            (None, TokenKind::Bound { duration: "24h".parse().unwrap() }),
        ] {
            let spec = AccessSpec { namespace, token, ..preset.spec() };
            let script = render_script(&spec).unwrap();
            if let Err(complaints) = shellcheck(&script) {
                panic!("{}: shellcheck:\n{complaints}\n--- script ---\n{script}", preset.name);
            }
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?",
        1 => "[ -~]{1,16}",
        1 => "[^/%\\x00-\\x1f]{1,12}",
    ]
}

prop_compose! {
    fn spec()(
        namespace in prop::option::of(text()),
        names in prop::collection::vec(text(), 4),
        server in prop::option::of("https://[a-z]{1,10}(\\.[a-z]{2,5})?(:[1-9][0-9]{0,3})?(/[a-z]{1,5})?"),
        bound in any::<bool>(),
        resources in prop::collection::vec(text(), 1..4),
        resource_names in prop::collection::vec(text(), 0..2),
    ) -> AccessSpec {
        AccessSpec {
            namespace,
            service_account: names[0].clone(),
            role: names[1].clone(),
            role_binding: names[2].clone(),
            secret: names[3].clone(),
            server,
            token: if bound { TokenKind::Bound { duration: "2h".parse().unwrap() } } else { TokenKind::Secret },
            rules: vec![Rule {
                resources,
                resource_names,
                ..Rule::new(&["", "apps"], &[], &["get", "list"])
            }],
            ..AccessSpec::default()
        }
    }
}

proptest! {
    // shellcheck takes ~50 ms a run: enough cases to meet every kind of name, no more.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_accepted_spec_gives_a_script_shellcheck_accepts(spec in spec()) {
        let Ok(script) = render_script(&spec) else { return Ok(()) };
        prop_assert!(shellcheck(&script).is_ok(), "{:?}\n{}", shellcheck(&script), script);
        // bash itself parses it too.
        let status = Command::new("bash").args(["-n", "-c", &script]).status().unwrap();
        prop_assert!(status.success());
    }
}
