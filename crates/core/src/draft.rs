//! The spec, built once: the adapters collect the pieces (a preset, typed rules, rules
//! derived from manifests, names, a token duration) and the core combines them with its
//! defaults and its one way of merging rules.

use crate::TokenDuration;
use crate::catalog::deployer_rules;
use crate::coverage::missing_rules;
use crate::derive::Deployer;
use crate::preset;
use crate::spec::{AccessSpec, Rule, TokenKind};

/// What the user gave, before the core's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// `None`: the namespace of the kubectl context.
    pub namespace: Option<String>,
    /// A preset's name; its rules come first.
    pub preset: Option<String>,
    /// Rules given one by one (`--rule`, the page's rule editor), kept as written after the
    /// preset's: a rule that grants nothing new is the lint's to point out, as on the page.
    pub rules: Vec<Rule>,
    /// Rules derived from the manifests the pipeline deploys.
    pub derived: Vec<Rule>,
    pub service_account: Option<String>,
    pub role: Option<String>,
    pub role_binding: Option<String>,
    pub secret: Option<String>,
    pub cluster_name: Option<String>,
    /// Blank means the server of the kubectl context.
    pub server: Option<String>,
    /// A bound token of this lifetime instead of a token Secret.
    pub token_duration: Option<TokenDuration>,
    /// How the pipeline deploys; `None` is the preset's, else `kubectl apply`.
    pub deployer: Option<Deployer>,
}

impl Draft {
    /// The spec: the preset's rules, the given rules, then what the derived rules add
    /// ([`merge_rules`]); every name not given is the default.
    pub fn build(self) -> AccessSpec {
        let defaults = AccessSpec::default();
        let preset = self.preset.as_deref().and_then(preset::find);
        let mut rules = preset.map(preset::Preset::rules).unwrap_or_default();
        // The spec leaves `kubectl apply`, the default, unwritten.
        let deployer = self
            .deployer
            .or(preset.and_then(|preset| preset.deployer))
            .filter(|deployer| *deployer != Deployer::Apply);
        rules.extend(self.rules);
        AccessSpec {
            namespace: self.namespace,
            service_account: self.service_account.unwrap_or(defaults.service_account),
            role: self.role.unwrap_or(defaults.role),
            role_binding: self.role_binding.unwrap_or(defaults.role_binding),
            secret: self.secret.unwrap_or(defaults.secret),
            cluster_name: self.cluster_name.unwrap_or(defaults.cluster_name),
            server: self.server.filter(|s| !s.trim().is_empty()),
            token: match self.token_duration {
                Some(duration) => TokenKind::Bound { duration },
                None => TokenKind::Secret,
            },
            deployer,
            rules: merge_rules(&rules, &self.derived),
            ..defaults
        }
    }
}

/// Fills what specs read from a file leave to the command line: the namespace (`-n`) where
/// a spec names none, and the server (`--server`) when one is given.
pub fn complete_from_flags(
    specs: &mut [AccessSpec],
    namespace: Option<&str>,
    server: Option<&str>,
) {
    for spec in specs {
        if spec.namespace.is_none() {
            spec.namespace = namespace.map(str::to_owned);
        }
        if let Some(server) = server {
            spec.server = Some(server.to_owned());
        }
    }
}

/// `base` (a preset, typed or hand-edited rules) plus what `derived` needs and `base` lacks.
/// The additions are merged per group and resource as the API server's 403 prints missing
/// rules, so a derived Role on top of a preset adds only the missing verbs.
pub fn merge_rules(base: &[Rule], derived: &[Rule]) -> Vec<Rule> {
    let mut merged = base.to_vec();
    merged.extend(missing_rules(base, derived));
    merged
}

/// The rules once the pipeline deploys with `to` instead of `from`: the rule that `from`'s
/// own needs added ([`deployer_rules`], Helm's release Secrets) is taken out, and what `to`
/// needs and the rules lack is added, so switching there and back gives the rules again.
pub fn switch_deployer(rules: &[Rule], from: Deployer, to: Deployer) -> Vec<Rule> {
    let own = deployer_rules(from);
    let mut kept = rules.to_vec();
    if !own.is_empty() {
        let added = (0..kept.len()).rev().find(|&at| {
            let mut others = kept.clone();
            let rule = others.remove(at);
            missing_rules(&others, &own) == [rule]
        });
        if let Some(at) = added {
            kept.remove(at);
        }
    }
    merge_rules(&kept, &deployer_rules(to))
}

/// The object names typed into a rule's name field: one per comma or line, trimmed. A space
/// inside a name stays there, so that validation says the name is wrong instead of the
/// rule silently naming two objects.
pub fn typed_names(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Adds `resource` of `group` with `verbs`, as the page's resource picker does: to the rule
/// that already grants that resource (its verbs widened), else to a rule of the same group
/// and verbs without names, else as a new rule.
pub fn add_resource(rules: &mut Vec<Rule>, group: &str, resource: &str, verbs: &[&str]) {
    let grants =
        |rule: &Rule| rule.api_groups == [group] && rule.resources.iter().any(|r| r == resource);
    if let Some(rule) = rules.iter_mut().find(|r| grants(r)) {
        for verb in verbs {
            if !rule.verbs.iter().any(|v| v == verb) {
                rule.verbs.push((*verb).to_owned());
            }
        }
        return;
    }
    let mut wanted: Vec<&str> = verbs.to_vec();
    wanted.sort_unstable();
    let same = |rule: &Rule| {
        let mut have: Vec<&str> = rule.verbs.iter().map(String::as_str).collect();
        have.sort_unstable();
        rule.api_groups == [group] && rule.resource_names.is_empty() && have == wanted
    };
    match rules.iter_mut().find(|r| same(r)) {
        Some(rule) => rule.resources.push(resource.to_owned()),
        None => rules.push(Rule::new(&[group], &[resource], verbs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{DEPLOY_VERBS, READ_VERBS};

    #[test]
    fn the_deployer_is_the_given_one_else_the_presets() {
        let helm_preset = || Draft { preset: Some("welkin-user-demo".into()), ..Draft::default() };
        assert_eq!(helm_preset().build().deployer, Some(Deployer::Helm));
        let given = Draft { deployer: Some(Deployer::ServerSide), ..helm_preset() };
        assert_eq!(given.build().deployer, Some(Deployer::ServerSide));
        let apply = Draft { deployer: Some(Deployer::Apply), ..Draft::default() };
        assert_eq!(apply.build().deployer, None, "kubectl apply, the default, stays unwritten");
    }

    #[test]
    fn defaults_are_the_specs_and_the_preset_comes_first() {
        let spec = Draft {
            preset: Some("read-only".into()),
            rules: vec![Rule::new(&["apps"], &["deployments"], &["patch"])],
            server: Some("  ".into()),
            ..Draft::default()
        }
        .build();
        let preset = preset::find("read-only").expect("preset").rules();
        assert_eq!(spec.rules[..preset.len()], preset[..]);
        assert_eq!(spec.rules.last(), Some(&Rule::new(&["apps"], &["deployments"], &["patch"])));
        assert_eq!(spec.role, AccessSpec::default().role);
        assert_eq!(spec.server, None, "a blank server is the context's");
        assert_eq!(spec.token, TokenKind::Secret);
    }

    #[test]
    fn derived_rules_add_only_what_the_rules_before_them_lack() {
        let base = vec![Rule::new(&["apps"], &["deployments"], &["get", "list"])];
        let derived = [
            Rule::new(&["apps"], &["deployments"], &["get", "patch"]),
            Rule::new(&[""], &["services"], &["get"]),
        ];
        let merged = merge_rules(&base, &derived);
        assert_eq!(
            merged,
            vec![
                base[0].clone(),
                Rule::new(&[""], &["services"], &["get"]),
                Rule::new(&["apps"], &["deployments"], &["patch"]),
            ]
        );
    }

    #[test]
    fn specs_from_a_file_take_the_namespace_only_where_they_name_none() {
        let mut specs = vec![
            AccessSpec { namespace: Some("prod".into()), ..AccessSpec::default() },
            AccessSpec::default(),
        ];
        complete_from_flags(&mut specs, Some("dev"), Some("https://api:6443"));
        assert_eq!(specs[0].namespace.as_deref(), Some("prod"));
        assert_eq!(specs[1].namespace.as_deref(), Some("dev"));
        assert!(specs.iter().all(|s| s.server.as_deref() == Some("https://api:6443")));
    }

    #[test]
    fn switching_to_helm_and_back_gives_the_rules_again() {
        let rules = preset::find("deployment-service-ingress").expect("preset").rules();
        let helm = switch_deployer(&rules, Deployer::Apply, Deployer::Helm);
        assert_eq!(helm.len(), rules.len() + 1);
        assert_eq!(helm.last(), deployer_rules(Deployer::Helm).first());
        assert_eq!(switch_deployer(&helm, Deployer::Helm, Deployer::Apply), rules);
        assert_eq!(switch_deployer(&helm, Deployer::Helm, Deployer::ServerSide), rules);
        // Rules that already grant Secrets get only the verbs they lack, and lose only those.
        let partial = vec![Rule::new(&[""], &["secrets"], &["get", "list"])];
        let helm = switch_deployer(&partial, Deployer::Apply, Deployer::Helm);
        assert_eq!(helm[1], Rule::new(&[""], &["secrets"], &["create", "delete", "update"]));
        assert_eq!(switch_deployer(&helm, Deployer::Helm, Deployer::Apply), partial);
        // The Welkin preset grants Secrets already: nothing is added, nothing taken.
        let welkin = preset::find("welkin-user-demo").expect("preset").rules();
        assert_eq!(switch_deployer(&welkin, Deployer::Apply, Deployer::Helm), welkin);
        assert_eq!(switch_deployer(&welkin, Deployer::Helm, Deployer::Apply), welkin);
    }

    #[test]
    fn typed_names_split_on_commas_and_lines_only() {
        assert_eq!(typed_names("a, b\nc,,"), ["a", "b", "c"]);
        assert_eq!(typed_names("my app"), ["my app"]);
        assert!(typed_names(" , ").is_empty());
    }

    #[test]
    fn adding_a_resource_merges_into_a_matching_rule_or_widens_its_own() {
        let mut rules = Vec::new();
        add_resource(&mut rules, "apps", "deployments", DEPLOY_VERBS);
        add_resource(&mut rules, "apps", "statefulsets", DEPLOY_VERBS);
        add_resource(&mut rules, "apps", "replicasets", READ_VERBS);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].resources, ["deployments", "statefulsets"]);
        add_resource(&mut rules, "apps", "replicasets", &["delete"]);
        assert_eq!(rules.len(), 2);
        assert!(rules[1].verbs.iter().any(|v| v == "delete"));
    }
}
