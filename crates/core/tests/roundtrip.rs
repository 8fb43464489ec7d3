//! Any spec the core accepts yields YAML that parses back to the very same objects.

use cicd_access_core::manifest::build_manifests;
use cicd_access_core::{AccessSpec, Rule, TokenKind};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// Mostly plausible names, sometimes anything at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?",
        1 => "[a-z0-9]{1,5}(\\.[a-z0-9]{1,5}){0,3}",
        1 => ".{0,30}",
        1 => "[ -~]{0,20}",
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::collection::vec(prop_oneof![3 => "", 3 => "apps", 3 => "[a-z]{1,8}\\.io", 1 => "\\*", 1 => ".{0,6}"], 1..3),
        prop::collection::vec(prop_oneof![6 => "[a-z]{1,12}", 3 => "[a-z]{1,8}/[a-z]{1,6}", 1 => ".{0,6}"], 1..4),
        prop::collection::vec(
            prop_oneof![3 => "get", 3 => "list", 3 => "watch", 3 => "create", 3 => "[a-z]{1,8}", 1 => ".{0,4}"],
            1..5,
        ),
        prop::collection::vec(name(), 0..2),
    )
        .prop_map(|(api_groups, resources, verbs, resource_names)| Rule {
            api_groups,
            resources,
            verbs,
            resource_names,
            non_resource_urls: Vec::new(),
        })
}

prop_compose! {
    fn spec()(
        namespace in prop::option::of(name()),
        service_account in name(),
        role in name(),
        role_binding in name(),
        secret in name(),
        bound in any::<bool>(),
        rules in prop::collection::vec(rule(), 1..5),
    ) -> AccessSpec {
        AccessSpec {
            namespace,
            service_account,
            role,
            role_binding,
            secret,
            token: if bound { TokenKind::Bound { duration: "1h".parse().unwrap() } } else { TokenKind::Secret },
            rules,
            ..AccessSpec::default()
        }
    }
}

#[test]
fn the_generator_produces_accepted_specs() {
    // Guards the property below against passing vacuously.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut accepted = 0;
    for _ in 0..200 {
        let spec = spec().new_tree(&mut runner).unwrap().current();
        accepted += u32::from(build_manifests(&spec).is_ok());
    }
    assert!(accepted >= 20, "only {accepted} of 200 generated specs were accepted");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn accepted_specs_round_trip_through_yaml(spec in spec()) {
        let Ok(manifests) = build_manifests(&spec) else {
            return Ok(());
        };
        let documents = manifests.documents();
        prop_assert_eq!(serde_yaml::from_str::<Role>(&documents[0].yaml).unwrap(), manifests.role.clone());
        prop_assert_eq!(Some(serde_yaml::from_str::<ServiceAccount>(&documents[1].yaml).unwrap()), manifests.service_account.clone());
        prop_assert_eq!(serde_yaml::from_str::<RoleBinding>(&documents[2].yaml).unwrap(), manifests.role_binding.clone());
        if let Some(secret) = &manifests.secret {
            prop_assert_eq!(serde_yaml::from_str::<Secret>(&documents[3].yaml).unwrap(), secret.clone());
        }
        // The multi-document stream splits into exactly these documents.
        let stream: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&manifests.to_yaml())
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        prop_assert_eq!(stream.len(), documents.len());
        // And the spec itself survives export and import.
        prop_assert_eq!(AccessSpec::parse_documents(&spec.to_yaml()).unwrap(), vec![spec]);
    }
}
