//! Verifying an issued kubeconfig: it authenticates as the pipeline's ServiceAccount, and
//! what the API server lets it do in the namespace is the Role's rules, no more, no less
//! (besides what every authenticated user may do).

use std::fmt::Write as _;

use crate::coverage::{compact_string, missing_rules};
use crate::spec::Rule;

/// What every authenticated user may do in any namespace (`system:basic-user`,
/// `system:discovery`, `system:public-info-viewer`), and every ServiceAccount
/// (`system:service-account-issuer-discovery`, 1.20+), so never an extra right.
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            &["create"],
        ),
        Rule::new(&["authentication.k8s.io"], &["selfsubjectreviews"], &["create"]),
        Rule::non_resource(
            &[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
                "/.well-known/openid-configuration",
                "/openid/v1/jwks",
            ],
            &["get"],
        ),
    ]
}

/// The user name a ServiceAccount token authenticates as.
pub fn service_account_user(namespace: &str, service_account: &str) -> String {
    format!("system:serviceaccount:{namespace}:{service_account}")
}

/// The user named in an authorization denial (`... is forbidden: User "x" cannot list ...`),
/// which is how a client learns who it is on API servers without SelfSubjectReview.
pub fn denied_user(message: &str) -> Option<String> {
    let rest = message.split_once("User \"")?.1;
    let (user, tail) = rest.split_once('"')?;
    tail.trim_start().starts_with("cannot").then(|| user.to_owned())
}

/// Rights the issued credentials have beyond, and short of, the Role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RightsDiff {
    /// Allowed although neither the Role nor the defaults grant it.
    pub extra: Vec<Rule>,
    /// Granted by the Role but not allowed.
    pub missing: Vec<Rule>,
}

impl RightsDiff {
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty()
    }
}

/// Compares the rules a SelfSubjectRulesReview reports for the pipeline with the rules its
/// Role should grant. Both lists are read with the RBAC authorizer's coverage (wildcards,
/// subresources, resource names), so differently grouped but equal rule sets are equal.
pub fn compare_rights(reviewed: &[Rule], expected: &[Rule]) -> RightsDiff {
    let mut allowed = expected.to_vec();
    allowed.extend(default_rules());
    RightsDiff {
        extra: missing_rules(&allowed, reviewed),
        missing: missing_rules(reviewed, expected),
    }
}

/// The outcome of verifying an issued kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// `system:serviceaccount:NS:SA`.
    pub expected_user: String,
    /// Who the credentials authenticate as, when the API server said so.
    pub user: Option<String>,
    pub rights: RightsDiff,
    /// The rules review was incomplete (an authorizer besides RBAC could not list its
    /// rules), so extra rights may exist that it did not report.
    pub incomplete: bool,
}

impl Verification {
    /// Whether the kubeconfig is exactly what was issued.
    pub fn passed(&self) -> bool {
        self.user.as_deref() == Some(self.expected_user.as_str()) && self.rights.is_empty()
    }

    /// A plain-text report: identity, then extra and missing rights as the 403 prints rules.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        match &self.user {
            Some(user) if *user == self.expected_user => {
                let _ = writeln!(out, "authenticates as {user}");
            }
            Some(user) => {
                let _ = writeln!(
                    out,
                    "authenticates as {user}, expected {}: the kubeconfig holds another identity's token",
                    self.expected_user
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "could not learn who the kubeconfig authenticates as (expected {})",
                    self.expected_user
                );
            }
        }
        if self.rights.is_empty() {
            out.push_str("its rights in the namespace are exactly the Role's\n");
        }
        if !self.rights.extra.is_empty() {
            out.push_str(
                "extra rights, not in the Role (the Role was edited, or another binding grants them):\n",
            );
            for rule in &self.rights.extra {
                let _ = writeln!(out, "  {}", compact_string(rule));
            }
        }
        if !self.rights.missing.is_empty() {
            out.push_str(
                "missing rights, in the Role but not allowed (the Role or RoleBinding was edited or deleted):\n",
            );
            for rule in &self.rights.missing {
                let _ = writeln!(out, "  {}", compact_string(rule));
            }
        }
        if self.incomplete {
            out.push_str(
                "note: the rules review was incomplete (an authorizer besides RBAC is active); rights it grants are not listed\n",
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::PRESETS;

    fn review_of(rules: &[Rule]) -> Vec<Rule> {
        let mut reviewed = rules.to_vec();
        reviewed.extend(default_rules());
        reviewed
    }

    #[test]
    fn the_role_plus_defaults_is_exact() {
        let role = PRESETS[0].rules();
        assert!(compare_rights(&review_of(&role), &role).is_empty());
    }

    #[test]
    fn regrouped_rules_are_equal() {
        let role = vec![Rule::new(&["apps"], &["deployments", "replicasets"], &["get", "list"])];
        let reviewed = vec![
            Rule::new(&["apps"], &["replicasets"], &["list", "get"]),
            Rule::new(&["apps"], &["deployments"], &["get", "list"]),
        ];
        assert!(compare_rights(&reviewed, &role).is_empty());
    }

    #[test]
    fn an_edited_role_shows_both_directions() {
        let role = vec![Rule::new(&["apps"], &["deployments"], &["get", "list"])];
        let edited = review_of(&[Rule::new(&["apps"], &["deployments"], &["get", "delete"])]);
        let diff = compare_rights(&edited, &role);
        assert_eq!(diff.extra, vec![Rule::new(&["apps"], &["deployments"], &["delete"])]);
        assert_eq!(diff.missing, vec![Rule::new(&["apps"], &["deployments"], &["list"])]);
    }

    #[test]
    fn a_wildcard_grant_is_extra() {
        let role = vec![Rule::new(&[""], &["pods"], &["get"])];
        let diff = compare_rights(&review_of(&[Rule::new(&["*"], &["*"], &["*"])]), &role);
        assert!(diff.missing.is_empty());
        assert_eq!(diff.extra.len(), 1, "{diff:?}");
    }

    #[test]
    fn reads_the_user_from_a_denial() {
        let message = r#"nodes is forbidden: User "system:serviceaccount:demo:ci-cd" cannot list resource "nodes" in API group "" at the cluster scope"#;
        assert_eq!(denied_user(message).as_deref(), Some("system:serviceaccount:demo:ci-cd"));
        assert_eq!(denied_user("connection refused"), None);
    }

    #[test]
    fn explains_a_failure() {
        let verification = Verification {
            expected_user: service_account_user("demo", "ci-cd"),
            user: Some(service_account_user("demo", "ci-cd")),
            rights: RightsDiff {
                extra: vec![Rule::new(&["apps"], &["deployments"], &["delete"])],
                missing: Vec::new(),
            },
            incomplete: false,
        };
        assert!(!verification.passed());
        let text = verification.explain();
        assert!(
            text.contains(r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["delete"]}"#),
            "{text}"
        );
    }
}
