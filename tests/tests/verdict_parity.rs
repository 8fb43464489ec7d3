//! One verdict: the page (pasted `kubectl auth can-i --list`, assessed for its `kubectl
//! apply` script) and `kubectl cicd check` (the API server's rules review, assessed for its
//! server-side apply) reach the same answer for the same rights, and the API server, asked to
//! write the objects the same two ways, agrees with each.

mod cli_support;

use cicd_access_core::AccessSpec;
use cicd_access_core::assessment::{Evidence, Verdict, Writer, assess};
use cicd_access_core::coverage::RBAC_GROUP;
use cicd_access_core::manifest::{build_manifests, yaml_stream};
use cicd_access_core::preset;
use cicd_access_core::requirements::apply_rules;
use cicd_access_core::spec::Rule;
use cicd_access_tests::ControlPlane;
use cli_support::cicd;

const PRESET: &str = "deployment-service-ingress";

fn spec(namespace: &str) -> AccessSpec {
    let mut spec = preset::find(PRESET).expect("the preset").spec();
    spec.namespace = Some(namespace.to_owned());
    spec
}

#[test]
fn page_cli_and_api_server_agree_on_who_may_create_the_access() {
    let cluster = ControlPlane::shared();
    let writes = apply_rules(&spec("any"));
    let escalate = Rule::new(&[RBAC_GROUP], &["roles"], &["escalate"]);
    let bind = Rule::new(&[RBAC_GROUP], &["roles"], &["bind"]);
    let role_rules = spec("any").rules;
    let with = |extra: &[&[Rule]]| -> Vec<Rule> {
        let mut rules = writes.clone();
        for more in extra {
            rules.extend(more.iter().cloned());
        }
        rules
    };
    let cases: Vec<(&str, Vec<Rule>, Verdict)> = vec![
        ("the Role's rules and the writes", with(&[&role_rules]), Verdict::Accepted),
        ("escalate without bind", with(&[std::slice::from_ref(&escalate)]), Verdict::Refused),
        ("escalate and bind", with(&[&[escalate.clone(), bind.clone()]]), Verdict::Accepted),
        ("the writes alone", with(&[]), Verdict::Refused),
    ];
    for (case, held, expected) in cases {
        let namespace = cluster.namespace();
        let ns = namespace.name().to_owned();
        let user = cluster.user_with_rules(&ns, &held);
        let kubectl = namespace.as_identity(&user);
        let spec = spec(&ns);

        // The page: what the user pastes, read and assessed by the core as the page does.
        let table = kubectl.ok(&["auth", "can-i", "--list", "--namespace", &ns]);
        let evidence = Evidence::read(&table).expect("the can-i table reads").expect("some rows");
        let page = assess(&evidence, &spec, Writer::KubectlApply);
        assert_eq!(page.verdict(), expected, "{case}: the page\n{}", page.explain());

        // The CLI: `check` exits 1 exactly when the core's verdict is a refusal.
        let check = cicd(&kubectl, namespace.dir(), &["check", "--preset", PRESET, "-n", &ns]);
        let refused = expected == Verdict::Refused;
        assert_eq!(
            check.status.code(),
            Some(i32::from(refused)),
            "{case}: check\n{}",
            check.stdout
        );
        let headline = if refused { "you cannot create this" } else { "you can create this" };
        assert!(check.stdout.contains(&format!("verdict: {headline}")), "{case}: {}", check.stdout);

        // The API server, asked both ways, with the user's own rights.
        let yaml = yaml_stream(&build_manifests(&spec).expect("valid").documents());
        let client_side = kubectl.run_with_stdin(&["apply", "-n", &ns, "-f", "-"], &yaml);
        assert_eq!(
            client_side.success(),
            !refused,
            "{case}: kubectl apply\n{}",
            client_side.stderr
        );
        let managed = "app.kubernetes.io/managed-by=cicd-access";
        namespace.admin().ok(&["delete", "role,rolebinding,serviceaccount,secret", "-l", managed]);
        let server_side =
            kubectl.run_with_stdin(&["apply", "--server-side", "-n", &ns, "-f", "-"], &yaml);
        assert_eq!(server_side.success(), !refused, "{case}: server-side\n{}", server_side.stderr);
    }
}
