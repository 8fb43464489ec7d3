//! `CiCdAccess` files (`-f`, the page's import): no panic, bounded work; a spec that
//! validates renders every output, and its YAML reads back as the same spec.
#![no_main]

use cicd_access_core::AccessSpec;
use cicd_access_core::input::MAX_RULES;
use cicd_access_core::lint::{LintOptions, lint_role};
use cicd_access_core::manifest::{build_manifests, yaml_stream};
use cicd_access_core::script::render_script;
use cicd_access_core::snippet::{github_actions, gitlab_ci};
use cicd_access_core::validate::{overlapping_pipelines, validate_spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let specs = match AccessSpec::parse_documents(text) {
        Ok(specs) => specs,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let _ = overlapping_pipelines(&specs);
    for spec in &specs {
        if let Err(errors) = validate_spec(spec) {
            assert!(!errors.0.is_empty());
            let _ = errors.to_string();
            continue;
        }
        assert!(spec.rules.len() <= MAX_RULES);
        let documents =
            build_manifests(spec).expect("a valid spec builds its manifests").documents();
        assert!(!yaml_stream(&documents).is_empty());
        render_script(spec).expect("a valid spec renders its script");
        github_actions(spec).expect("a valid spec renders its GitHub Actions snippet");
        gitlab_ci(spec).expect("a valid spec renders its GitLab CI snippet");
        let _ = lint_role(&spec.rules, LintOptions::default());
        let again =
            AccessSpec::parse_documents(&spec.to_yaml()).expect("an exported spec reads back");
        assert_eq!(again.as_slice(), std::slice::from_ref(spec), "the export changed the spec");
    }
});
