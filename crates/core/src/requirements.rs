//! What the person running the procedure must be allowed to do, besides holding the Role's
//! rules: the writes of each step, so a missing one is reported before anything is created.

use crate::coverage::RBAC_GROUP;
use crate::spec::{AccessSpec, Rule, TokenKind};

/// The rights `kubectl cicd apply` (server-side apply of every object, then waiting for the
/// token with a watch) needs in the namespace.
pub fn apply_rules(spec: &AccessSpec) -> Vec<Rule> {
    // A server-side apply that creates is authorized as both patch and create.
    let write = ["get", "patch", "create"];
    let mut rules = vec![Rule::new(&[RBAC_GROUP], &["roles", "rolebindings"], &write)];
    if spec.token.has_service_account() {
        rules.push(Rule::new(&[""], &["serviceaccounts"], &write));
    }
    match spec.token {
        TokenKind::Secret => {
            rules.push(Rule::new(
                &[""],
                &["secrets"],
                &["get", "patch", "create", "list", "watch"],
            ));
        }
        TokenKind::Bound { .. } => {
            rules.push(Rule::new(&[""], &["serviceaccounts/token"], &["create"]));
        }
        TokenKind::Keyless(_) => {}
    }
    rules
}

/// The rights `kubectl cicd rotate` needs: replacing the ServiceAccount and the token Secret
/// (then waiting for the token), or requesting a new bound token.
pub fn rotate_rules(spec: &AccessSpec) -> Vec<Rule> {
    match spec.token {
        TokenKind::Secret => vec![
            Rule::new(&[""], &["serviceaccounts"], &["get", "delete", "patch", "create"]),
            Rule::new(&[""], &["secrets"], &["get", "delete", "patch", "create", "list", "watch"]),
        ],
        TokenKind::Bound { .. } => vec![
            Rule::new(&[""], &["serviceaccounts"], &["get"]),
            Rule::new(&[""], &["serviceaccounts/token"], &["create"]),
        ],
        // Nothing to rotate: every job brings a fresh token of its own.
        TokenKind::Keyless(_) => Vec::new(),
    }
}

/// The rights `kubectl cicd revoke` needs: the Secret, and with `all` every object.
pub fn revoke_rules(all: bool) -> Vec<Rule> {
    let mut rules = vec![Rule::new(&[""], &["secrets"], &["get", "delete"])];
    if all {
        rules.push(Rule::new(&[RBAC_GROUP], &["roles", "rolebindings"], &["get", "delete"]));
        rules.push(Rule::new(&[""], &["serviceaccounts"], &["get", "delete"]));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::missing_rules;

    #[test]
    fn the_admin_cluster_role_suffices() {
        // What the built-in `admin` ClusterRole grants on these resources.
        let admin = vec![
            Rule::new(
                &[RBAC_GROUP],
                &["roles", "rolebindings"],
                &[
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch",
                ],
            ),
            Rule::new(
                &[""],
                &["secrets", "serviceaccounts", "serviceaccounts/token"],
                &[
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch",
                ],
            ),
        ];
        let spec = AccessSpec::default();
        assert!(missing_rules(&admin, &apply_rules(&spec)).is_empty());
        assert!(missing_rules(&admin, &revoke_rules(true)).is_empty());
        assert!(missing_rules(&admin, &rotate_rules(&spec)).is_empty());
    }

    #[test]
    fn bound_tokens_need_the_token_subresource_not_secrets() {
        let spec = AccessSpec {
            token: TokenKind::Bound { duration: "1h".parse().unwrap() },
            ..AccessSpec::default()
        };
        let rules = apply_rules(&spec);
        assert!(rules.iter().any(|r| r.resources == ["serviceaccounts/token"]));
        assert!(!rules.iter().any(|r| r.resources == ["secrets"]));
    }

    #[test]
    fn keyless_needs_the_role_and_binding_only() {
        let spec = AccessSpec {
            token: TokenKind::Keyless(crate::spec::KeylessIdentity::default()),
            ..AccessSpec::default()
        };
        assert_eq!(
            apply_rules(&spec),
            [Rule::new(&[RBAC_GROUP], &["roles", "rolebindings"], &["get", "patch", "create"])]
        );
        assert!(rotate_rules(&spec).is_empty());
    }
}
