//! Regenerating after one keystroke, natively, for a 40-rule Role: what the page runs per
//! input event (validation and the manifests; the other tabs build on demand), and every
//! output (manifests, each object, steps, script, both CI snippets).
//!
//! `cargo bench -p cicd-access-web --bench regen`; the target is 1 ms for every output.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cicd_access_core::catalog::{CATALOG, DEPLOY_VERBS, READ_VERBS};
use cicd_access_core::{AccessSpec, Rule};
use cicd_access_web::form::{Form, regenerate};

fn forty_rules() -> Vec<Rule> {
    CATALOG
        .iter()
        .cycle()
        .take(40)
        .enumerate()
        .map(|(i, e)| {
            let verbs = if i % 2 == 0 { DEPLOY_VERBS } else { READ_VERBS };
            let rule = Rule::new(&[e.group], &[&e.resource()], verbs);
            if i % 5 == 0 { rule.with_names(&["app", "app-config"]) } else { rule }
        })
        .collect()
}

fn main() {
    let spec = AccessSpec {
        namespace: Some("team-a".into()),
        rules: forty_rules(),
        ..AccessSpec::default()
    };
    let mut form = Form::from_spec(&spec);
    assert!(regenerate(&form).1.is_ok(), "the 40-rule spec is valid");
    let keystroke = sample(&mut form, |form| {
        let _ = black_box(regenerate(black_box(form)));
    });
    let everything = sample(&mut form, |form| {
        if let (_, Ok(outputs)) = regenerate(black_box(form)) {
            black_box((
                outputs.documents(),
                outputs.steps(),
                outputs.script(),
                outputs.github(),
                outputs.gitlab(),
            ));
        }
    });
    let manifests = regenerate(&form).1.map(|o| o.manifests().len()).unwrap_or_default();
    println!("40-rule Role, {manifests} bytes of YAML (target <= 1 ms for every output):");
    println!("  what the page runs per keystroke: {keystroke}");
    println!("  every output (manifests, each object, steps, script, CI snippets): {everything}");
}

/// Median and p99 of `run` over 3 s of keystrokes (the namespace changes by one character).
fn sample(form: &mut Form, run: impl Fn(&Form)) -> String {
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut i = 0u32;
    while Instant::now() < deadline {
        form.namespace = format!("team-{}", i % 10);
        let start = Instant::now();
        run(form);
        samples.push(start.elapsed());
        i += 1;
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    format!(
        "median {:.3} ms, p99 {:.3} ms over {} keystrokes",
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        samples.len()
    )
}
