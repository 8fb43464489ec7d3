//! What to do about a refused access: which of the Role's rules ask for what the caller
//! lacks, the Role without it, the ways out and a request an administrator can act on.
//! The page shows these beside the verdict of [`crate::assessment`].

use std::fmt::Write as _;

use crate::assessment::Assessment;
use crate::coverage::{RBAC_GROUP, Subject};
use crate::spec::{AccessSpec, Rule};

/// Whether `missing` (as a 403 or the assessment lists it) holds `verb` on `resource` of
/// `group` for a rule naming `names`.
fn lacks(missing: &[Rule], group: &str, resource: &str, verb: &str, names: &[String]) -> bool {
    missing.iter().any(|m| {
        m.api_groups.iter().any(|g| g == group)
            && m.resources.iter().any(|r| r == resource)
            && m.verbs.iter().any(|v| v == verb)
            && (m.resource_names.is_empty() || names.iter().all(|n| m.resource_names.contains(n)))
    })
}

/// The indexes of the rules that grant something in `missing`: the ones to mark.
pub fn lacking_rules(rules: &[Rule], missing: &[Rule]) -> Vec<usize> {
    (0..rules.len())
        .filter(|&at| {
            let rule = &rules[at];
            rule.api_groups.iter().any(|g| {
                rule.resources.iter().any(|r| {
                    rule.verbs.iter().any(|v| lacks(missing, g, r, v, &rule.resource_names))
                })
            })
        })
        .collect()
}

/// The rules without what `missing` lists: each rule keeps the verbs the caller holds for
/// each of its resources (resources with the same verbs stay in one rule), and a rule left
/// with nothing goes.
pub fn without_lacking(rules: &[Rule], missing: &[Rule]) -> Vec<Rule> {
    let mut kept = Vec::new();
    for rule in rules {
        let mut parts: Vec<Rule> = Vec::new();
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let verbs: Vec<&str> = rule
                    .verbs
                    .iter()
                    .filter(|v| !lacks(missing, group, resource, v, &rule.resource_names))
                    .map(String::as_str)
                    .collect();
                if verbs.is_empty() {
                    continue;
                }
                let same = |p: &&mut Rule| p.api_groups == [group.as_str()] && p.verbs == verbs;
                match parts.iter_mut().find(same) {
                    Some(part) => part.resources.push(resource.clone()),
                    None => parts.push(Rule {
                        resource_names: rule.resource_names.clone(),
                        ..Rule::new(&[group], &[resource], &verbs)
                    }),
                }
            }
        }
        // A rule the caller holds in full stays as written (its groups together).
        if parts.len() == 1
            && parts[0].verbs == rule.verbs
            && rule.api_groups.len() == 1
            && parts[0].resources == rule.resources
        {
            kept.push(rule.clone());
        } else {
            kept.extend(parts);
        }
    }
    kept
}

/// The Role's rules the caller lacks, which make the API server refuse the Role (or its
/// binding, which needs the same rules): the ones to mark and to drop. Empty when the Role
/// is accepted, even if the steps' own writes are not.
pub fn lacking_in_role(assessment: &Assessment) -> &[Rule] {
    if !assessment.role.allowed() {
        &assessment.role.missing
    } else if let Some(binding) = assessment.binding.as_ref().filter(|b| !b.allowed()) {
        &binding.missing
    } else {
        &[]
    }
}

/// The ways out of a refusal, each one sentence (code in backticks); empty when nothing
/// is refused.
pub fn ways_out(assessment: &Assessment, spec: &AccessSpec) -> Vec<String> {
    let namespace = spec.namespace_or_current();
    let ask = format!(
        "Ask a cluster administrator to grant you the missing rules in namespace {namespace} (copy the request below), then check again."
    );
    if !assessment.role.allowed() {
        vec![
            ask,
            format!(
                "Or ask for the `escalate` verb on `roles.{RBAC_GROUP}` in the namespace: it lets you write Roles with rules you do not hold."
            ),
            "Or remove those rules from the Role (\"Drop the rules I lack\"): the pipeline then cannot do what they grant, so make sure it does not need them.".to_owned(),
        ]
    } else if let Some(binding) = assessment.binding.as_ref().filter(|b| !b.allowed()) {
        let role = match &binding.subject {
            Subject::RoleBinding { role } => role.as_str(),
            Subject::Role => spec.role.as_str(),
        };
        vec![
            ask,
            format!("Or ask for the `bind` verb on `roles.{RBAC_GROUP}` named `{role}` in the namespace."),
            "Or remove those rules from the Role (\"Drop the rules I lack\"): you can then bind it.".to_owned(),
        ]
    } else if !assessment.missing_for_steps.is_empty() {
        vec![format!(
            "Ask a cluster administrator to grant you these rights in namespace {namespace}, or to run the steps for you: they write the objects themselves."
        )]
    } else {
        Vec::new()
    }
}

/// Rules as a YAML `rules:` list, as they go in a Role (resources with the same verbs merged).
pub fn rules_yaml(rules: &[Rule]) -> String {
    crate::coverage::Coverage { subject: Subject::Role, missing: rules.to_vec(), bypass: false }
        .missing_yaml()
}

/// A message for the administrator: what is asked, where, why, and the rules as a Role
/// they can apply and bind to the person asking.
pub fn admin_request(assessment: &Assessment, spec: &AccessSpec) -> String {
    let namespace = spec.namespace_or_current();
    let mut missing = lacking_in_role(assessment).to_vec();
    missing.extend(assessment.missing_for_steps.iter().cloned());
    let mut out = format!(
        "Hello, could you grant me these rights in namespace {namespace}? I am setting up a least-privilege kubeconfig for our CI/CD pipeline (Role {role}, ServiceAccount {account}), and Kubernetes only lets me grant what I hold myself.\n\n",
        role = spec.role,
        account = spec.service_account,
    );
    out.push_str(
        "A Role with the rules I lack, to bind to my user (kubectl auth whoami shows it):\n\n",
    );
    let _ = writeln!(
        out,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {}-granter\n  namespace: {namespace}",
        spec.role
    );
    out.push_str(&rules_yaml(&missing));
    out.push_str("\nThank you!\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{Evidence, Writer, assess};

    fn deploys() -> Vec<Rule> {
        vec![
            Rule::new(&["apps"], &["deployments", "statefulsets"], &["get", "create", "patch"]),
            Rule::new(&[""], &["services"], &["get"]),
        ]
    }

    #[test]
    fn the_rules_that_ask_for_too_much_are_marked_and_dropped_to_what_is_held() {
        let missing = vec![Rule::new(&["apps"], &["statefulsets"], &["create", "patch"])];
        assert_eq!(lacking_rules(&deploys(), &missing), [0]);
        assert_eq!(
            without_lacking(&deploys(), &missing),
            vec![
                Rule::new(&["apps"], &["deployments"], &["get", "create", "patch"]),
                Rule::new(&["apps"], &["statefulsets"], &["get"]),
                Rule::new(&[""], &["services"], &["get"]),
            ]
        );
        assert_eq!(without_lacking(&deploys(), &[]), deploys());
        let everything = vec![Rule::new(&[""], &["services"], &["get"])];
        assert_eq!(without_lacking(&deploys()[1..], &everything), vec![]);
    }

    #[test]
    fn a_refused_role_has_three_ways_out_and_a_request_to_copy() {
        let spec = AccessSpec {
            namespace: Some("demo".into()),
            rules: deploys(),
            ..AccessSpec::default()
        };
        let held = "Resources   Non-Resource URLs   Resource Names   Verbs\nservices    []                  []               [get]\ndeployments.apps []          []               [get create patch]\n";
        let evidence = Evidence::read(held).expect("readable").expect("evidence");
        let assessment = assess(&evidence, &spec, Writer::KubectlApply);
        let ways = ways_out(&assessment, &spec);
        assert_eq!(ways.len(), 3, "{ways:?}");
        assert!(ways[1].contains("escalate") && ways[2].contains("remove those rules"));
        assert_eq!(lacking_rules(&spec.rules, lacking_in_role(&assessment)), [0]);
        let request = admin_request(&assessment, &spec);
        assert!(request.contains("namespace demo"), "{request}");
        assert!(request.contains("- statefulsets"), "{request}");
        assert!(!request.contains("deployments"), "only what is lacking: {request}");
        let dropped = AccessSpec {
            rules: without_lacking(&spec.rules, lacking_in_role(&assessment)),
            ..spec.clone()
        };
        assert!(
            ways_out(&assess(&evidence, &dropped, Writer::KubectlApply), &dropped).is_empty()
                || !assess(&evidence, &dropped, Writer::KubectlApply).missing_for_steps.is_empty()
        );
    }
}
