//! Risk lint of a Role: what a pipeline holding it could do beyond deploying, and rules
//! that do not mean what they seem to.

use serde::Serialize;

use crate::catalog;
use crate::coverage::RBAC_GROUP;
use crate::spec::Rule;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule does not do what it seems to; no risk.
    Info,
    /// A power a pipeline often needs but that reaches beyond the objects it deploys.
    Warning,
    /// Takes over the namespace: other identities' credentials or permissions.
    Danger,
}

impl Severity {
    /// The name the page, the CLI's reports and the JSON output all use.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Danger => "danger",
        }
    }
}

/// What a finding is about, as a stable machine name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    WildcardGroups,
    WildcardResources,
    WildcardVerbs,
    ReadsSecrets,
    WritesSecrets,
    CreatesPods,
    PodShell,
    PortForward,
    Escalate,
    Bind,
    Impersonate,
    ServiceAccountTokens,
    WritesRbac,
    IneffectiveNames,
    UnsupportedVerb,
    UnknownVerb,
    UnknownResource,
    UnknownGroup,
}

/// One risk or mistake in one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Index of the rule in the Role's `rules`.
    pub rule: usize,
    pub check: Check,
    /// One sentence of why.
    pub why: String,
}

/// What the lint knows about how the Role will be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// The pipeline deploys with Helm 3, which keeps its releases in Secrets.
    pub helm: bool,
    /// The pipeline deploys with `kubectl apply --server-side`, whose create check names the
    /// object, so resourceNames limit `create` instead of denying it.
    pub server_side: bool,
}

/// Every verb Kubernetes' built-in APIs and RBAC know.
const KNOWN_VERBS: &[&str] = &[
    "*",
    "approve",
    "attest",
    "bind",
    "create",
    "delete",
    "deletecollection",
    "escalate",
    "get",
    "impersonate",
    "list",
    "patch",
    "proxy",
    "sign",
    "update",
    "use",
    "watch",
];
const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch"];
/// Built-in workloads whose objects start Pods from a template.
const WORKLOADS: &[(&str, &str)] = &[
    ("", "replicationcontrollers"),
    ("apps", "daemonsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("batch", "cronjobs"),
    ("batch", "jobs"),
];

/// Finds the risks and mistakes in a Role's rules, rule by rule in order.
pub fn lint_role(rules: &[Rule], options: LintOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let mut add = |severity, check, why: String| {
            findings.push(Finding { severity, rule: index, check, why });
        };
        lint_wildcards(rule, &mut add);
        lint_powers(rule, options, &mut add);
        lint_names(rule, options, &mut add);
        lint_catalog(rule, &mut add);
    }
    findings
}

fn lint_wildcards(rule: &Rule, add: &mut impl FnMut(Severity, Check, String)) {
    if has(&rule.api_groups, "*") {
        add(
            Severity::Warning,
            Check::WildcardGroups,
            "`apiGroups: [\"*\"]` matches these resources in every API group, including custom resources installed later; name the groups".into(),
        );
    }
    if has(&rule.resources, "*") {
        add(
            Severity::Danger,
            Check::WildcardResources,
            "`resources: [\"*\"]` grants every resource of these groups, Secrets, Pods, Roles and subresources such as pods/exec included, and any added later; name the resources".into(),
        );
    }
    for resource in rule.resources.iter().filter(|r| r.starts_with("*/")) {
        add(
            Severity::Warning,
            Check::WildcardResources,
            format!(
                "`{resource}` grants that subresource of every resource of these groups, including ones added later; name the resources"
            ),
        );
    }
    if has(&rule.verbs, "*") {
        add(
            Severity::Warning,
            Check::WildcardVerbs,
            "`verbs: [\"*\"]` grants every verb, also deletecollection, escalate, bind and impersonate where the resource has them, and any added later; name the verbs".into(),
        );
    }
}

fn lint_powers(rule: &Rule, options: LintOptions, add: &mut impl FnMut(Severity, Check, String)) {
    let verbs = |wanted: &[&'static str]| -> Vec<&'static str> {
        wanted.iter().copied().filter(|v| has(&rule.verbs, "*") || has(&rule.verbs, v)).collect()
    };
    let reads = verbs(READ);
    let writes = verbs(WRITE);
    // Named Secrets are the pipeline's own, which it writes and so knows: reading or
    // changing them reaches no other credential. (A named workload still runs any image as
    // any ServiceAccount, so those checks ignore names.)
    let own_secrets = !rule.resource_names.is_empty();
    if names(rule, "", "secrets") && !reads.is_empty() && !own_secrets {
        let helm = if options.helm {
            "; Helm needs it, as Helm 3 stores every release in a Secret of the namespace and reads them to upgrade, list and uninstall"
        } else {
            ""
        };
        add(
            Severity::Danger,
            Check::ReadsSecrets,
            format!(
                "{} on secrets reads every Secret of the namespace, including ServiceAccount tokens and registry and database credentials{helm}",
                list(&reads)
            ),
        );
    }
    if names(rule, "", "secrets") && !writes.is_empty() && !own_secrets {
        let helm = if options.helm {
            "; Helm needs it, as Helm 3 writes a Secret for every release revision"
        } else {
            ""
        };
        add(
            Severity::Warning,
            Check::WritesSecrets,
            format!(
                "{} on secrets can replace credentials other workloads use, and a new service-account-token Secret gets a token for any ServiceAccount of the namespace{helm}",
                list(&writes)
            ),
        );
    }
    if names(rule, "", "pods") && !writes.is_empty() {
        add(
            Severity::Warning,
            Check::CreatesPods,
            format!(
                "{} on pods runs any image as any ServiceAccount of the namespace, with that ServiceAccount's token and permissions",
                list(&writes)
            ),
        );
    }
    if names(rule, "", "pods/ephemeralcontainers")
        && (writes.contains(&"update") || writes.contains(&"patch"))
    {
        add(
            Severity::Warning,
            Check::CreatesPods,
            "pods/ephemeralcontainers adds a container to any running Pod, with that Pod's ServiceAccount token and mounted Secrets".into(),
        );
    }
    for (group, resource) in WORKLOADS {
        if names(rule, group, resource) && !writes.is_empty() {
            add(
                Severity::Warning,
                Check::CreatesPods,
                format!(
                    "{} on {resource} starts Pods from a template, which can run as any ServiceAccount of the namespace with its token and permissions",
                    list(&writes)
                ),
            );
        }
    }
    for (subresource, severity, check, what) in [
        (
            "pods/exec",
            Severity::Danger,
            Check::PodShell,
            "runs commands in any container of the namespace",
        ),
        (
            "pods/attach",
            Severity::Danger,
            Check::PodShell,
            "attaches to the console of any container of the namespace",
        ),
        (
            "pods/portforward",
            Severity::Warning,
            Check::PortForward,
            "opens connections to any Pod's ports, bypassing Services and NetworkPolicies",
        ),
    ] {
        if names(rule, "", subresource) && !verbs(&["create", "get"]).is_empty() {
            let tail = if check == Check::PodShell {
                ", with that Pod's ServiceAccount token and mounted Secrets"
            } else {
                ""
            };
            add(severity, check, format!("{subresource} {what}{tail}"));
        }
    }
    if names(rule, "", "serviceaccounts/token") && !verbs(&["create"]).is_empty() {
        add(
            Severity::Danger,
            Check::ServiceAccountTokens,
            "create on serviceaccounts/token mints a token for any ServiceAccount of the namespace and so acts with its permissions".into(),
        );
    }
    if has(&rule.verbs, "escalate") {
        add(
            Severity::Danger,
            Check::Escalate,
            "`escalate` lets it write Roles with permissions it does not hold, so it can grant itself anything in the namespace".into(),
        );
    }
    if has(&rule.verbs, "bind") {
        add(
            Severity::Danger,
            Check::Bind,
            "`bind` lets it bind Roles and ClusterRoles it does not hold (`admin`, for one) to itself or others".into(),
        );
    }
    if has(&rule.verbs, "impersonate") {
        add(
            Severity::Danger,
            Check::Impersonate,
            "`impersonate` lets it act as other users, groups or ServiceAccounts with all their permissions".into(),
        );
    }
    for resource in ["roles", "rolebindings"] {
        let changes = verbs(&["create", "update", "patch", "delete"]);
        if names(rule, RBAC_GROUP, resource) && !changes.is_empty() {
            add(
                Severity::Warning,
                Check::WritesRbac,
                format!(
                    "{} on {resource} changes who may do what in the namespace (only within what it holds itself, unless it also has escalate or bind)",
                    list(&changes)
                ),
            );
        }
    }
}

fn lint_names(rule: &Rule, options: LintOptions, add: &mut impl FnMut(Severity, Check, String)) {
    if rule.resource_names.is_empty() {
        return;
    }
    for verb in rule.verbs.iter().filter(|v| match v.as_str() {
        "create" => !options.server_side,
        "deletecollection" => true,
        _ => false,
    }) {
        let why = if verb == "create" {
            "a POST (kubectl create, kubectl apply, Helm) carries no name, so this rule never allows it (only a server-side apply's create names its object)"
        } else {
            "its request carries no name, so this rule never allows it"
        };
        add(
            Severity::Info,
            Check::IneffectiveNames,
            format!(
                "resourceNames cannot restrict `{verb}`: {why}; put `{verb}` in a rule without resourceNames"
            ),
        );
    }
    for verb in rule.verbs.iter().filter(|v| matches!(v.as_str(), "list" | "watch")) {
        add(
            Severity::Info,
            Check::IneffectiveNames,
            format!(
                "with resourceNames, `{verb}` is allowed only with a `metadata.name=` field selector naming one of them; a plain `{verb}` is denied"
            ),
        );
    }
}

fn lint_catalog(rule: &Rule, add: &mut impl FnMut(Severity, Check, String)) {
    for verb in rule.verbs.iter().filter(|v| !KNOWN_VERBS.contains(&v.as_str())) {
        let hint = closest(verb, KNOWN_VERBS)
            .map(|v| format!("; did you mean `{v}`?"))
            .unwrap_or_default();
        add(
            Severity::Info,
            Check::UnknownVerb,
            format!("no Kubernetes API answers to the verb `{verb}`{hint}"),
        );
    }
    for group in rule.api_groups.iter().filter(|g| *g != "*") {
        if !catalog::is_builtin_group(group) && !group.contains('.') {
            let home = rule.resources.iter().find_map(|r| {
                catalog::groups().into_iter().find(|g| catalog::find(g, r).is_some())
            });
            let hint = match home {
                Some("") => "; the core group is `\"\"`".to_owned(),
                Some(home) => format!("; did you mean `{home}`?"),
                None => String::new(),
            };
            add(
                Severity::Warning,
                Check::UnknownGroup,
                format!(
                    "there is no built-in API group `{group}` and custom resource groups contain a dot, so this grants nothing{hint}"
                ),
            );
            continue;
        }
        if !catalog::is_builtin_group(group) {
            continue;
        }
        for resource in rule.resources.iter().filter(|r| !r.contains('*')) {
            let Some(entry) = catalog::find(group, resource) else {
                let hint = catalog::suggest(resource)
                    .map(|e| {
                        if e.group == group {
                            format!("; did you mean `{}`?", e.resource())
                        } else {
                            format!(
                                "; did you mean `{}` in the {}?",
                                e.resource(),
                                group_name(e.group)
                            )
                        }
                    })
                    .unwrap_or_default();
                add(
                    Severity::Warning,
                    Check::UnknownResource,
                    format!(
                        "`{resource}` is not a namespaced resource of the {}, so a Role grants nothing with it{hint}",
                        group_name(group)
                    ),
                );
                continue;
            };
            for verb in rule.verbs.iter().filter(|v| KNOWN_VERBS.contains(&v.as_str())) {
                if !entry.supports(verb) {
                    add(
                        Severity::Info,
                        Check::UnsupportedVerb,
                        format!(
                            "{} does not answer to `{verb}`, so it grants nothing; it answers to {}",
                            qualified(group, resource),
                            entry.verbs.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// Whether the rule names `resource` explicitly (group exact or `*`). Resource wildcards are
/// reported once as such rather than as every power they include.
fn names(rule: &Rule, group: &str, resource: &str) -> bool {
    (has(&rule.api_groups, group) || has(&rule.api_groups, "*")) && has(&rule.resources, resource)
}

fn has(items: &[String], wanted: &str) -> bool {
    items.iter().any(|item| item == wanted)
}

fn list(verbs: &[&str]) -> String {
    verbs.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() { format!("`{resource}`") } else { format!("`{resource}` ({group})") }
}

fn group_name(group: &str) -> String {
    if group.is_empty() { "core group".to_owned() } else { format!("group `{group}`") }
}

/// The candidate within edit distance 2 of `word`, if one.
fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    candidates
        .iter()
        .copied()
        .filter(|c| *c != "*")
        .map(|c| (catalog::edit_distance(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(rules: &[Rule]) -> Vec<(usize, Check)> {
        lint_role(rules, LintOptions::default()).into_iter().map(|f| (f.rule, f.check)).collect()
    }

    #[test]
    fn plain_deploy_rule_is_clean() {
        let rules =
            [Rule::new(&[""], &["configmaps", "services"], &["get", "list", "create", "patch"])];
        assert_eq!(checks(&rules), []);
    }

    #[test]
    fn wildcards() {
        assert_eq!(
            checks(&[Rule::new(&["*"], &["*"], &["*"])]),
            [(0, Check::WildcardGroups), (0, Check::WildcardResources), (0, Check::WildcardVerbs)]
        );
        assert_eq!(
            checks(&[Rule::new(&[""], &["*/status"], &["get"])]),
            [(0, Check::WildcardResources)]
        );
    }

    #[test]
    fn secrets_and_helm() {
        let rules = [Rule::new(&[""], &["secrets"], &["get", "create"])];
        assert_eq!(checks(&rules), [(0, Check::ReadsSecrets), (0, Check::WritesSecrets)]);
        let helm = lint_role(&rules, LintOptions { helm: true, ..LintOptions::default() });
        assert!(helm.iter().all(|f| f.why.contains("Helm 3")), "{helm:?}");
        assert_eq!(helm[0].severity, Severity::Danger);
    }

    #[test]
    fn pods_workloads_and_shells() {
        let rules = [
            Rule::new(&[""], &["pods"], &["create"]),
            Rule::new(&["apps"], &["deployments"], &["patch"]),
            Rule::new(&["apps"], &["deployments"], &["get"]),
            Rule::new(&[""], &["pods/exec", "pods/attach", "pods/portforward"], &["create"]),
            Rule::new(&[""], &["serviceaccounts/token"], &["create"]),
        ];
        assert_eq!(
            checks(&rules),
            [
                (0, Check::CreatesPods),
                (1, Check::CreatesPods),
                (3, Check::PodShell),
                (3, Check::PodShell),
                (3, Check::PortForward),
                (4, Check::ServiceAccountTokens),
            ]
        );
    }

    #[test]
    fn rbac_powers() {
        let rules = [
            Rule::new(&[RBAC_GROUP], &["roles"], &["escalate", "bind", "create"]),
            Rule::new(&[""], &["serviceaccounts"], &["impersonate"]),
            Rule::new(&[RBAC_GROUP], &["rolebindings"], &["update"]),
        ];
        assert_eq!(
            checks(&rules),
            [
                (0, Check::Escalate),
                (0, Check::Bind),
                (0, Check::WritesRbac),
                (1, Check::Impersonate),
                (2, Check::WritesRbac),
            ]
        );
    }

    #[test]
    fn resource_names_with_nameless_verbs() {
        let rules =
            [Rule::new(&[""], &["configmaps"], &["get", "create", "list"]).with_names(&["app"])];
        assert_eq!(checks(&rules), [(0, Check::IneffectiveNames), (0, Check::IneffectiveNames)]);
    }

    #[test]
    fn a_server_side_apply_create_is_limited_by_names() {
        let rules = [Rule::new(&[""], &["configmaps"], &["create", "patch"]).with_names(&["app"])];
        let options = LintOptions { server_side: true, ..LintOptions::default() };
        assert_eq!(lint_role(&rules, options), []);
        assert_eq!(checks(&rules), [(0, Check::IneffectiveNames)]);
    }

    #[test]
    fn the_pipelines_own_named_secrets_are_no_danger() {
        let named =
            [Rule::new(&[""], &["secrets"], &["get", "patch", "delete"]).with_names(&["grafana"])];
        assert_eq!(checks(&named), []);
        let wide = [Rule::new(&[""], &["secrets"], &["create"])];
        assert_eq!(checks(&wide), [(0, Check::WritesSecrets)]);
        // A named workload still starts Pods as any ServiceAccount.
        let deployment = [Rule::new(&["apps"], &["deployments"], &["patch"]).with_names(&["web"])];
        assert_eq!(checks(&deployment), [(0, Check::CreatesPods)]);
    }

    #[test]
    fn catalog_checks() {
        let rules = [
            Rule::new(&[""], &["pods/log"], &["get", "delete"]),
            Rule::new(&["apps"], &["deploymnets"], &["get"]),
            Rule::new(&["app"], &["deployments"], &["get"]),
            Rule::new(&["monitoring.coreos.com"], &["prometheusrules"], &["get", "lsit"]),
            Rule::new(&[""], &["nodes"], &["get"]),
        ];
        let findings = lint_role(&rules, LintOptions::default());
        let summary: Vec<(usize, Check)> = findings.iter().map(|f| (f.rule, f.check)).collect();
        assert_eq!(
            summary,
            [
                (0, Check::UnsupportedVerb),
                (1, Check::UnknownResource),
                (2, Check::UnknownGroup),
                (3, Check::UnknownVerb),
                (4, Check::UnknownResource),
            ]
        );
        assert!(findings[1].why.contains("did you mean `deployments`?"), "{}", findings[1].why);
        assert!(findings[2].why.contains("did you mean `apps`?"), "{}", findings[2].why);
        assert!(findings[3].why.contains("did you mean `list`?"), "{}", findings[3].why);
    }

    #[test]
    fn presets_golden() {
        for preset in crate::preset::PRESETS {
            let helm = preset.title.contains("Helm");
            let findings =
                lint_role(&preset.rules(), LintOptions { helm, ..LintOptions::default() });
            insta::assert_yaml_snapshot!(format!("preset_{}", preset.name), findings);
        }
    }

    #[test]
    fn welkin_demo_says_secrets_and_why_helm_needs_them() {
        let preset = crate::preset::find("welkin-user-demo").unwrap();
        let findings =
            lint_role(&preset.rules(), LintOptions { helm: true, ..LintOptions::default() });
        let secrets: Vec<&Finding> = findings
            .iter()
            .filter(|f| matches!(f.check, Check::ReadsSecrets | Check::WritesSecrets))
            .collect();
        assert_eq!(secrets.len(), 2, "{findings:#?}");
        assert!(secrets.iter().all(|f| f.why.contains("Helm 3 ")));
    }

    #[test]
    fn severity_names_are_the_json_names() {
        for severity in [Severity::Info, Severity::Warning, Severity::Danger] {
            assert_eq!(serde_json::to_value(severity).unwrap(), severity.name());
        }
    }
}
