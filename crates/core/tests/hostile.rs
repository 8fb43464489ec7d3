//! Hostile input, field by field: each is refused with the expected message, or accepted
//! (as the API server would) and then carried safely into YAML and the script.

use cicd_access_core::manifest::build_manifests;
use cicd_access_core::script::render_script;
use cicd_access_core::{AccessSpec, Rule, TokenDuration};

/// `None`: accepted. `Some(text)`: refused with a message containing `text`.
type Expect = Option<&'static str>;

fn spec() -> AccessSpec {
    AccessSpec {
        namespace: Some("demo".into()),
        rules: vec![Rule::new(&["apps"], &["deployments"], &["get"])],
        ..AccessSpec::default()
    }
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

fn set(field: &str, value: &str) -> AccessSpec {
    let mut spec = spec();
    let v = value.to_owned();
    match field {
        "namespace" => spec.namespace = Some(v),
        "serviceAccount" => spec.service_account = v,
        "role" => spec.role = v,
        "roleBinding" => spec.role_binding = v,
        "secret" => spec.secret = v,
        "clusterName" => spec.cluster_name = v,
        "server" => spec.server = Some(v),
        "verbs" => spec.rules[0].verbs = vec![v],
        "apiGroups" => spec.rules[0].api_groups = vec![v],
        "resources" => spec.rules[0].resources = vec![v],
        "resourceNames" => spec.rules[0].resource_names = vec![v],
        other => panic!("no field {other}"),
    }
    spec
}

#[test]
fn hostile_inputs() {
    let label = "a namespace is a DNS-1123 label";
    let subdomain = "must be a DNS-1123 subdomain";
    let cases: Vec<(&str, String, Expect)> = vec![
        ("namespace", String::new(), Some("must not be empty")),
        ("namespace", "Demo".into(), Some("try \"demo\"")),
        ("namespace", "demo\nkind: ClusterRole".into(), Some(label)),
        ("namespace", "demo'; rm -rf /; '".into(), Some(label)),
        ("namespace", "$(whoami)".into(), Some(label)),
        ("namespace", "`id`".into(), Some(label)),
        ("namespace", "demo;ls".into(), Some(label)),
        ("namespace", "démo".into(), Some(label)),
        ("namespace", "-demo".into(), Some(label)),
        ("namespace", "demo-".into(), Some(label)),
        ("namespace", "a.b".into(), Some(label)),
        ("namespace", " demo".into(), Some(label)),
        ("namespace", long(64), Some("at most 63")),
        ("namespace", long(10_000), Some("at most 63")),
        ("namespace", long(63), None),
        ("namespace", "123".into(), None),
        ("serviceAccount", String::new(), Some("must not be empty")),
        ("serviceAccount", "CI".into(), Some(subdomain)),
        ("serviceAccount", "ci cd".into(), Some(subdomain)),
        ("serviceAccount", "ci\"cd".into(), Some(subdomain)),
        ("serviceAccount", "ci..cd".into(), Some(subdomain)),
        ("serviceAccount", "ci/cd".into(), Some(subdomain)),
        ("serviceAccount", "ci-cd.v2".into(), None),
        ("serviceAccount", long(254), Some("at most 253")),
        ("serviceAccount", long(10_000), Some("at most 253")),
        ("secret", "ci_cd".into(), Some(subdomain)),
        ("secret", "${HOME}".into(), Some(subdomain)),
        ("secret", "\u{202e}ci".into(), Some(subdomain)),
        ("role", String::new(), Some("must not be empty")),
        ("role", ".".into(), Some("may not be '.' or '..'")),
        ("role", "..".into(), Some("may not be '.' or '..'")),
        ("role", "a/b".into(), Some("may not contain '/' or '%'")),
        ("role", "100%".into(), Some("may not contain '/' or '%'")),
        ("role", "a\nb".into(), Some("control character")),
        ("role", "a\0b".into(), Some("control character")),
        ("role", "it's $(rm -rf ~); `id`".into(), None),
        ("role", "ci-cd: {x: [y]} # yaml".into(), None),
        ("role", "ünïcödé 🚀".into(), None),
        ("role", long(10_000), None),
        ("roleBinding", "..".into(), Some("may not be '.' or '..'")),
        ("roleBinding", "a%2Fb".into(), Some("may not contain '/' or '%'")),
        ("roleBinding", "'\"\\".into(), None),
        ("clusterName", String::new(), Some("must not be empty")),
        ("clusterName", "my cluster".into(), Some("use only letters")),
        ("clusterName", "a'b".into(), Some("use only letters")),
        ("clusterName", "arn:aws:eks:eu-north-1:1234:cluster/prod".into(), None),
        ("server", "http://api.example.com".into(), Some("must use https")),
        ("server", "api.example.com".into(), Some("must be an https URL")),
        ("server", "https://".into(), Some("has no host")),
        ("server", "https://user:pw@api.example.com".into(), Some("must not carry a user")),
        ("server", "https://api.example.com:70000".into(), Some("invalid port")),
        ("server", "https://api.example.com/$(id)".into(), Some("cannot hold")),
        ("server", "https://api.example.com/'".into(), Some("cannot hold")),
        ("server", "https://api example.com".into(), Some("invalid host")),
        ("server", "https://api.example.com?x=1".into(), Some("invalid host")),
        ("server", "https://api.example.com/k8s?x=1".into(), Some("query or fragment")),
        ("server", format!("https://{}.com", long(10_000)), Some("invalid host")),
        ("server", "https://[::1]:6443".into(), None),
        ("verbs", String::new(), Some("a verb is lowercase letters")),
        ("verbs", "GET".into(), Some("a verb is lowercase letters")),
        ("verbs", "get;rm".into(), Some("a verb is lowercase letters")),
        ("apiGroups", "apps\n- '*'".into(), Some("an API group is")),
        ("apiGroups", "*".into(), None),
        ("resources", "Deployments".into(), Some("a resource is a lowercase plural")),
        ("resources", "pods/exec/x".into(), Some("a resource is a lowercase plural")),
        ("resources", "pods/exec".into(), None),
        ("resourceNames", "a/b".into(), Some("cannot name an object")),
        ("resourceNames", "My App".into(), Some("DNS-1123 subdomain")),
        ("resourceNames", "web".into(), None),
    ];
    assert!(cases.len() >= 50, "the table must stay at 50 or more rows");
    for (field, value, expect) in cases {
        let spec = set(field, &value);
        let shown: String = value.chars().take(30).collect();
        match (build_manifests(&spec), expect) {
            (Ok(manifests), None) => {
                // Accepted: it must come back out of the YAML unchanged.
                let parsed: Vec<serde_yaml::Value> =
                    serde_yaml::Deserializer::from_str(&manifests.to_yaml())
                        .map(|d| serde::Deserialize::deserialize(d).unwrap())
                        .collect();
                assert_eq!(parsed.len(), 4, "{field}={shown:?}");
                render_script(&spec).unwrap();
            }
            (Err(errors), Some(text)) => {
                let message = errors.to_string();
                assert!(message.contains(text), "{field}={shown:?}: {message}");
                assert!(message.starts_with(field) || message.contains(field), "{message}");
                assert!(message.len() < 400, "message too long for {field}: {message}");
            }
            (Ok(_), Some(text)) => panic!("{field}={shown:?} accepted, expected {text:?}"),
            (Err(errors), None) => panic!("{field}={shown:?} refused: {errors}"),
        }
    }
}

#[test]
fn hostile_durations() {
    for (text, expect) in [
        ("24h", None),
        ("10m", None),
        ("9m", Some("shorter than 10m")),
        ("1d", Some("not a duration")),
        ("$(id)", Some("not a duration")),
        ("876000h", Some("longer than a year")),
        ("", Some("not a duration")),
    ] {
        match (text.parse::<TokenDuration>(), expect) {
            (Ok(_), None) => {}
            (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (other, _) => panic!("{text}: {other:?}"),
        }
    }
}
