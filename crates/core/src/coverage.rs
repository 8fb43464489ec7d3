//! The API server's privilege-escalation check, reproduced: can these held rules create this
//! Role (or bind it), and if not, exactly which rules does the 403 list?
//!
//! The API server breaks every desired rule into atoms of one group, one resource, one verb
//! and at most one resource name, looks for a single held rule covering each atom, merges the
//! verbs of the uncovered atoms per (group, resource, name) and prints each merged rule with
//! Go's `%q`, sorted and deduplicated. [`check_role`] does the same, so for identical inputs
//! its [`Coverage::missing`] equals the list parsed from the 403 by
//! [`crate::forbidden::parse_forbidden`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::spec::{Rule, dedup_verbs};

/// The API group of Roles and RoleBindings.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Which write the check is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Creating or updating a Role: allowed with every rule held, or with `escalate` on it.
    Role,
    /// Binding the Role `role`: allowed with every rule of the Role held, or with `bind` on it.
    RoleBinding { role: String },
}

/// What the API server will answer to a Role or RoleBinding write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub subject: Subject,
    /// Desired rules no held rule covers, merged and ordered as the 403 prints them.
    pub missing: Vec<Rule>,
    /// The writer holds `escalate` (Role) or `bind` (RoleBinding), so the API server skips
    /// the comparison and `missing` does not matter.
    pub bypass: bool,
}

impl Coverage {
    /// Whether the API server accepts the write.
    pub fn allowed(&self) -> bool {
        self.bypass || self.missing.is_empty()
    }

    /// The missing rules as a YAML `rules:` list an administrator can put in a Role; rules
    /// that differ only in their resource are merged, repeated verbs dropped.
    pub fn missing_yaml(&self) -> String {
        #[derive(serde::Serialize)]
        struct Rules {
            rules: Vec<Rule>,
        }
        crate::yaml::to_string(&Rules { rules: merge_resources(&self.missing) }).unwrap_or_default()
    }

    /// A plain-text explanation for the page and the CLI: the verdict, the missing rules as
    /// the 403 prints them and the two ways out.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let count = self.missing.len();
        let plural = if count == 1 { "" } else { "s" };
        match (&self.subject, self.allowed(), self.bypass) {
            (Subject::Role, true, false) => {
                out.push_str(
                    "You hold every permission the Role grants: the API server will accept it.\n",
                );
            }
            (Subject::Role, true, true) => {
                let _ = writeln!(
                    out,
                    "The Role grants {count} permission{plural} you do not hold, but you hold `escalate` on roles.{RBAC_GROUP}, so the API server does not compare and will accept it."
                );
            }
            (Subject::Role, false, _) => {
                let _ = writeln!(
                    out,
                    "The API server will refuse the Role (403 \"is attempting to grant RBAC permissions not currently held\"): it grants {count} rule{plural} you do not hold:"
                );
                push_missing(&mut out, &self.missing);
                out.push_str("Two ways out:\n");
                out.push_str("  1. ask a cluster administrator to grant you these rules in the namespace (a Role bound to you), then retry:\n");
                push_indented(&mut out, &self.missing_yaml(), "       ");
                let _ = writeln!(
                    out,
                    "  2. or ask for the `escalate` verb on roles.{RBAC_GROUP} in the namespace: it lets you write Roles with rules you do not hold."
                );
            }
            (Subject::RoleBinding { role }, true, false) => {
                let _ = writeln!(
                    out,
                    "You hold every permission of the Role {role:?}: the API server will accept the RoleBinding."
                );
            }
            (Subject::RoleBinding { role }, true, true) => {
                let _ = writeln!(
                    out,
                    "You hold `bind` on the Role {role:?}, so the API server will accept the RoleBinding without comparing permissions."
                );
            }
            (Subject::RoleBinding { role }, false, _) => {
                let _ = writeln!(
                    out,
                    "The API server will refuse the RoleBinding (403): binding the Role {role:?} needs every permission it grants, and you do not hold {count} rule{plural}:"
                );
                push_missing(&mut out, &self.missing);
                out.push_str("Two ways out:\n");
                out.push_str(
                    "  1. ask a cluster administrator to grant you these rules in the namespace, then retry:\n",
                );
                push_indented(&mut out, &self.missing_yaml(), "       ");
                let _ = writeln!(
                    out,
                    "  2. or ask for the `bind` verb on roles.{RBAC_GROUP} named {role:?} in the namespace."
                );
            }
        }
        out
    }
}

fn push_missing(out: &mut String, missing: &[Rule]) {
    for rule in missing {
        let _ = writeln!(out, "  {}", compact_string(rule));
    }
}

fn push_indented(out: &mut String, text: &str, indent: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}{line}");
    }
}

fn merge_resources(rules: &[Rule]) -> Vec<Rule> {
    let mut merged: Vec<Rule> = Vec::new();
    for rule in rules {
        let mut rule = rule.clone();
        dedup_verbs(&mut rule.verbs);
        let same = |m: &&mut Rule| {
            m.non_resource_urls.is_empty()
                && rule.non_resource_urls.is_empty()
                && m.api_groups == rule.api_groups
                && m.resource_names == rule.resource_names
                && m.verbs == rule.verbs
        };
        match merged.iter_mut().find(same) {
            Some(existing) => existing.resources.append(&mut rule.resources),
            None => merged.push(rule),
        }
    }
    merged
}

/// Whether `held` may create or update a Role with `desired` rules.
///
/// `name` is the Role's name when the request carries it in its URL (update, server-side
/// apply); a create (`kubectl create`, first `kubectl apply`) does not, so an `escalate`
/// restricted by `resourceNames` does not help it: pass `None`.
pub fn check_role(held: &[Rule], desired: &[Rule], name: Option<&str>) -> Coverage {
    Coverage {
        subject: Subject::Role,
        missing: missing_rules(held, desired),
        bypass: allows(held, "escalate", RBAC_GROUP, "roles", name.unwrap_or("")),
    }
}

/// Whether `held` may bind the Role `role`, whose rules are `role_rules`, in a RoleBinding.
pub fn check_role_binding(held: &[Rule], role: &str, role_rules: &[Rule]) -> Coverage {
    Coverage {
        subject: Subject::RoleBinding { role: role.to_owned() },
        missing: missing_rules(held, role_rules),
        bypass: allows(held, "bind", RBAC_GROUP, "roles", role),
    }
}

/// Whether `held` authorizes a resource request, with the RBAC authorizer's matching:
/// `*` verbs, groups and resources, `*/subresource`, and resource names (a rule with names
/// allows only those; `name` is `""` for requests without one, such as create and list).
pub fn allows(held: &[Rule], verb: &str, group: &str, resource: &str, name: &str) -> bool {
    held.iter().any(|rule| {
        rule.verbs.iter().any(|v| v == "*" || v == verb)
            && rule.api_groups.iter().any(|g| g == "*" || g == group)
            && rule.resources.iter().any(|r| resource_matches(r, resource))
            && (rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name))
    })
}

fn resource_matches(held: &str, requested: &str) -> bool {
    held == "*"
        || held == requested
        || requested
            .split_once('/')
            .is_some_and(|(_, sub)| held.strip_prefix("*/").is_some_and(|h| h == sub))
}

/// One atom of a broken-down rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Atom<'a> {
    Resource { group: &'a str, resource: &'a str, name: Option<&'a str>, verb: &'a str },
    NonResource { url: &'a str, verb: &'a str },
}

/// The atoms of `rule` in the API server's order: groups, resources, verbs, names; then
/// non-resource URLs and verbs.
fn break_down(rule: &Rule) -> impl Iterator<Item = Atom<'_>> {
    let names: Vec<Option<&str>> = if rule.resource_names.is_empty() {
        vec![None]
    } else {
        rule.resource_names.iter().map(|n| Some(n.as_str())).collect()
    };
    let resource_atoms = rule.api_groups.iter().flat_map(move |group| {
        let names = names.clone();
        rule.resources.iter().flat_map(move |resource| {
            let names = names.clone();
            rule.verbs.iter().flat_map(move |verb| {
                names.clone().into_iter().map(move |name| Atom::Resource {
                    group,
                    resource,
                    name,
                    verb,
                })
            })
        })
    });
    let non_resource_atoms = rule
        .non_resource_urls
        .iter()
        .flat_map(move |url| rule.verbs.iter().map(move |verb| Atom::NonResource { url, verb }));
    resource_atoms.chain(non_resource_atoms)
}

/// Whether one held rule covers one atom (the API server's `ruleCovers`).
fn covers(held: &Rule, atom: &Atom<'_>) -> bool {
    let has = |set: &[String], item: &str| set.iter().any(|s| s == item);
    match *atom {
        Atom::Resource { group, resource, name, verb } => {
            (has(&held.verbs, "*") || has(&held.verbs, verb))
                && (has(&held.api_groups, "*") || has(&held.api_groups, group))
                && resource_covers(&held.resources, resource)
                && match name {
                    None => held.resource_names.is_empty(),
                    Some(name) => held.resource_names.is_empty() || has(&held.resource_names, name),
                }
        }
        // A non-resource atom has no groups, resources or names: only verbs and URLs count.
        Atom::NonResource { url, verb } => {
            (has(&held.verbs, "*") || has(&held.verbs, verb))
                && held.non_resource_urls.iter().any(|owner| url_covers(owner, url))
                && held.resource_names.is_empty()
        }
    }
}

/// The escalation check's resource matching: exact, `*`, or `*/subresource` for a
/// subresource. Unlike `*/sub`, `resource/*` is no wildcard: it covers only itself.
fn resource_covers(held: &[String], resource: &str) -> bool {
    held.iter().any(|h| h == "*" || h == resource)
        || resource.split_once('/').is_some_and(|(_, sub)| {
            held.iter().any(|h| h.strip_prefix("*/").is_some_and(|h| h == sub))
        })
}

fn url_covers(owner: &str, url: &str) -> bool {
    owner == url
        || owner.strip_suffix('*').is_some_and(|_| url.starts_with(owner.trim_end_matches('*')))
}

/// The desired rules `held` does not cover, merged and ordered as the API server prints
/// them in its 403: uncovered atoms with one group, one resource and at most one name are
/// merged by verb (keeping the order and any repeats), non-resource atoms stay as they are;
/// the list is sorted and deduplicated by its printed form.
pub fn missing_rules(held: &[Rule], desired: &[Rule]) -> Vec<Rule> {
    let mut merged: Vec<Rule> = Vec::new();
    let mut index: BTreeMap<(&str, &str, Option<&str>), usize> = BTreeMap::new();
    for atom in desired.iter().flat_map(break_down) {
        if held.iter().any(|rule| covers(rule, &atom)) {
            continue;
        }
        match atom {
            Atom::Resource { group, resource, name, verb } => {
                if let Some(&at) = index.get(&(group, resource, name)) {
                    merged[at].verbs.push(verb.to_owned());
                } else {
                    index.insert((group, resource, name), merged.len());
                    let rule = Rule::new(&[group], &[resource], &[verb]);
                    merged.push(match name {
                        Some(name) => rule.with_names(&[name]),
                        None => rule,
                    });
                }
            }
            Atom::NonResource { url, verb } => merged.push(Rule::non_resource(&[url], &[verb])),
        }
    }
    // Ordered and deduplicated by their printed form; the first of equals is kept.
    let mut printed: BTreeMap<String, Rule> = BTreeMap::new();
    for rule in merged {
        printed.entry(compact_string(&rule)).or_insert(rule);
    }
    printed.into_values().collect()
}

/// A rule as the API server prints it in the escalation 403:
/// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}`, empty fields
/// left out, strings quoted as Go's `%q` does.
pub fn compact_string(rule: &Rule) -> String {
    let mut parts = Vec::new();
    for (label, items) in [
        ("APIGroups", &rule.api_groups),
        ("Resources", &rule.resources),
        ("NonResourceURLs", &rule.non_resource_urls),
        ("ResourceNames", &rule.resource_names),
        ("Verbs", &rule.verbs),
    ] {
        if !items.is_empty() {
            let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
            parts.push(format!("{label}:[{}]", quoted.join(" ")));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

/// Go's `strconv.Quote` for the characters Kubernetes names and verbs contain; other
/// non-printable characters are escaped as Go does (`\u00a0`), printable ones kept.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c != ' ' && (c.is_control() || c.is_whitespace() || is_unprintable(c)) => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Format characters and non-characters Go's `unicode.IsPrint` rejects beyond controls and
/// spaces (the common ones; names with others do not pass validation anyway).
fn is_unprintable(c: char) -> bool {
    matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xfffe | 0xffff | 0xe000..=0xf8ff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
        Rule::new(groups, resources, verbs)
    }

    #[test]
    fn everything_held_is_allowed() {
        let held = [rule(&["*"], &["*"], &["*"])];
        let desired = [rule(&["apps"], &["deployments"], &["get", "list"])];
        let coverage = check_role(&held, &desired, None);
        assert!(coverage.allowed());
        assert!(coverage.missing.is_empty());
    }

    #[test]
    fn missing_verbs_are_merged_per_resource() {
        let held = [rule(&["apps"], &["deployments"], &["get"])];
        let desired = [
            rule(&["apps"], &["deployments", "replicasets"], &["get", "list"]),
            rule(&[""], &["pods"], &["delete"]),
        ];
        let missing = missing_rules(&held, &desired);
        let printed: Vec<String> = missing.iter().map(compact_string).collect();
        assert_eq!(
            printed,
            [
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#,
                r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["list"]}"#,
                r#"{APIGroups:["apps"], Resources:["replicasets"], Verbs:["get" "list"]}"#,
            ]
        );
    }

    #[test]
    fn repeated_verbs_stay_repeated_as_the_api_server_prints_them() {
        let desired = [rule(&[""], &["pods"], &["get"]), rule(&[""], &["pods"], &["list", "get"])];
        let missing = missing_rules(&[], &desired);
        assert_eq!(missing, [rule(&[""], &["pods"], &["get", "list", "get"])]);
    }

    #[test]
    fn wildcard_desired_needs_wildcard_held() {
        let held = [rule(&["apps"], &["deployments"], &["get", "list", "watch"])];
        let desired = [rule(&["apps"], &["deployments"], &["*"])];
        assert_eq!(missing_rules(&held, &desired), desired);
        let desired = [rule(&["*"], &["deployments"], &["get"])];
        assert_eq!(missing_rules(&held, &desired), desired);
    }

    #[test]
    fn star_slash_subresource_covers_every_resource_s_subresource() {
        let held = [rule(&[""], &["*/status"], &["get"])];
        assert!(missing_rules(&held, &[rule(&[""], &["pods/status"], &["get"])]).is_empty());
        assert!(!missing_rules(&held, &[rule(&[""], &["pods"], &["get"])]).is_empty());
    }

    #[test]
    fn resource_slash_star_is_no_wildcard_for_the_escalation_check() {
        let held = [rule(&[""], &["pods/*"], &["get"])];
        assert!(!missing_rules(&held, &[rule(&[""], &["pods/log"], &["get"])]).is_empty());
        assert!(missing_rules(&held, &[rule(&[""], &["pods/*"], &["get"])]).is_empty());
    }

    #[test]
    fn resource_names_restrict_what_is_covered() {
        let held = [rule(&[""], &["configmaps"], &["get"]).with_names(&["a", "b"])];
        assert!(
            missing_rules(&held, &[rule(&[""], &["configmaps"], &["get"]).with_names(&["a"])])
                .is_empty()
        );
        assert_eq!(
            missing_rules(&held, &[rule(&[""], &["configmaps"], &["get"]).with_names(&["a", "c"])]),
            [rule(&[""], &["configmaps"], &["get"]).with_names(&["c"])]
        );
        assert_eq!(
            missing_rules(&held, &[rule(&[""], &["configmaps"], &["get"])]),
            [rule(&[""], &["configmaps"], &["get"])]
        );
        let unrestricted = [rule(&[""], &["configmaps"], &["get"])];
        assert!(
            missing_rules(
                &unrestricted,
                &[rule(&[""], &["configmaps"], &["get"]).with_names(&["x"])]
            )
            .is_empty()
        );
    }

    #[test]
    fn non_resource_urls_with_trailing_star() {
        let held = [Rule::non_resource(&["/api/*", "/healthz"], &["get"])];
        let desired = [Rule::non_resource(&["/api/v1", "/healthz", "/metrics"], &["get", "post"])];
        let printed: Vec<String> =
            missing_rules(&held, &desired).iter().map(compact_string).collect();
        assert_eq!(
            printed,
            [
                r#"{NonResourceURLs:["/api/v1"], Verbs:["post"]}"#,
                r#"{NonResourceURLs:["/healthz"], Verbs:["post"]}"#,
                r#"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#,
                r#"{NonResourceURLs:["/metrics"], Verbs:["post"]}"#,
            ]
        );
    }

    #[test]
    fn identical_non_resource_atoms_print_once() {
        let desired =
            [Rule::non_resource(&["/x"], &["get"]), Rule::non_resource(&["/x"], &["get"])];
        assert_eq!(missing_rules(&[], &desired).len(), 1);
    }

    #[test]
    fn escalate_bypasses_unless_restricted_to_another_name() {
        let desired = [rule(&["*"], &["*"], &["*"])];
        let escalate = [rule(&[RBAC_GROUP], &["roles"], &["escalate"])];
        assert!(check_role(&escalate, &desired, None).allowed());
        let named = [rule(&[RBAC_GROUP], &["roles"], &["escalate"]).with_names(&["ci-cd"])];
        assert!(!check_role(&named, &desired, None).allowed(), "a create carries no name");
        assert!(check_role(&named, &desired, Some("ci-cd")).allowed());
        assert!(!check_role(&named, &desired, Some("other")).allowed());
    }

    #[test]
    fn binding_needs_the_rules_or_bind() {
        let role_rules = [rule(&[""], &["secrets"], &["get"])];
        let coverage = check_role_binding(&[], "ci-cd", &role_rules);
        assert!(!coverage.allowed());
        let bind = [rule(&[RBAC_GROUP], &["roles"], &["bind"]).with_names(&["ci-cd"])];
        assert!(check_role_binding(&bind, "ci-cd", &role_rules).allowed());
        assert!(!check_role_binding(&bind, "other", &role_rules).allowed());
    }

    #[test]
    fn authorizer_matches_star_subresource() {
        let held = [rule(&[""], &["*/log"], &["get"])];
        assert!(allows(&held, "get", "", "pods/log", ""));
        assert!(!allows(&held, "get", "", "pods", ""));
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("a\"b\\c\nd\u{1}é\u{a0}"), r#""a\"b\\c\nd\x01é\u00a0""#);
    }

    #[test]
    fn missing_yaml_merges_resources_for_the_administrator() {
        let coverage = check_role(
            &[],
            &[Rule::new(&["apps"], &["deployments", "statefulsets"], &["get", "get"])],
            None,
        );
        assert_eq!(coverage.missing.len(), 2);
        assert_eq!(
            coverage.missing_yaml(),
            "rules:\n- apiGroups:\n  - apps\n  resources:\n  - deployments\n  - statefulsets\n  verbs:\n  - get\n"
        );
    }

    #[test]
    fn explanations() {
        let held = [rule(&["apps"], &["deployments"], &["get"])];
        let desired = [rule(&["apps"], &["deployments"], &["get", "delete"])];
        insta::assert_snapshot!(
            "explain_role_refused",
            check_role(&held, &desired, None).explain()
        );
        insta::assert_snapshot!(
            "explain_binding_refused",
            check_role_binding(&held, "ci-cd", &desired).explain()
        );
        insta::assert_snapshot!(
            "explain_role_allowed",
            check_role(&desired, &held, None).explain()
        );
    }

    /// The documented 403: namespace-admin (the `admin` ClusterRole in its namespace, no
    /// Prometheus Operator roles) creating the Welkin Role. The prediction from its
    /// `can-i --list` must be exactly what the real API server printed.
    #[test]
    fn predicts_the_real_403() {
        #[derive(serde::Deserialize)]
        struct Role {
            rules: Vec<Rule>,
        }
        let role: Role = serde_yaml::from_str(include_str!(
            "../../../tests/fixtures/welkin-user-demo-role.yaml"
        ))
        .unwrap();
        let (_, listing, _) = crate::canilist::tests::REAL
            .iter()
            .find(|(who, _, _)| *who == "namespace-admin")
            .unwrap();
        let held = crate::canilist::parse_can_i_list(listing).unwrap().rules;
        let predicted = check_role(&held, &role.rules, None);
        for text in [
            include_str!("../../../tests/fixtures/forbidden/welkin-role.client-side.txt"),
            include_str!("../../../tests/fixtures/forbidden/welkin-role.server-side.txt"),
        ] {
            let forbidden = crate::forbidden::parse_forbidden(text).unwrap();
            assert!(!predicted.allowed());
            assert_eq!(predicted.missing, forbidden.missing);
        }
        insta::assert_snapshot!("explain_real_welkin_403", predicted.explain());
    }
}
