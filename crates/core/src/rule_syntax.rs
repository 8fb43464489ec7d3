//! The one-line rule notation of `kubectl cicd --rule`: `GROUP:RESOURCES:VERBS[:NAMES]`.
//!
//! Lists are comma-separated. The core group is written empty or as `core`
//! (`:pods,services:get,list` or `core:pods:get`), because `""` is awkward on a shell line.
//! Two verb shorthands stand for the lists the page offers: `read` (get, list, watch) and
//! `deploy` (what `kubectl apply` and `helm upgrade --install` use).
//!
//! ```text
//! apps:deployments,replicasets:deploy
//! core:configmaps:get:app-config
//! networking.k8s.io:ingresses:get,list,watch
//! ```

use crate::catalog::{DEPLOY_VERBS, READ_VERBS};
use crate::spec::Rule;
use crate::validate::validate_rules;

/// Why a `--rule` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSyntaxError {
    #[error(
        "rule {value:?} has {parts} part(s); write GROUP:RESOURCES:VERBS[:NAMES], e.g. apps:deployments:get,list or core:pods,services:read"
    )]
    Parts { value: String, parts: usize },
    #[error("rule {value:?} names no {field}; write GROUP:RESOURCES:VERBS[:NAMES]")]
    Empty { value: String, field: &'static str },
    #[error("rule {value:?}: {reason}")]
    Invalid { value: String, reason: String },
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn verbs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for verb in list(text) {
        let expanded: Vec<String> = match verb.as_str() {
            "read" => READ_VERBS.iter().map(|v| (*v).to_owned()).collect(),
            "deploy" => DEPLOY_VERBS.iter().map(|v| (*v).to_owned()).collect(),
            _ => vec![verb],
        };
        for verb in expanded {
            if !out.contains(&verb) {
                out.push(verb);
            }
        }
    }
    out
}

/// Reads one `--rule` value, checked with the same rules as the page's rule editor.
pub fn parse_rule(value: &str) -> Result<Rule, RuleSyntaxError> {
    let parts: Vec<&str> = value.split(':').collect();
    let (group, resources, verb_list, names) = match parts.as_slice() {
        [g, r, v] => (*g, *r, *v, ""),
        [g, r, v, n] => (*g, *r, *v, *n),
        _ => return Err(RuleSyntaxError::Parts { value: value.to_owned(), parts: parts.len() }),
    };
    let groups: Vec<String> = if group.trim().is_empty() {
        vec![String::new()]
    } else {
        list(group).into_iter().map(|g| if g == "core" { String::new() } else { g }).collect()
    };
    let rule = Rule {
        api_groups: groups,
        resources: list(resources),
        resource_names: list(names),
        non_resource_urls: Vec::new(),
        verbs: verbs(verb_list),
    };
    if rule.resources.is_empty() {
        return Err(RuleSyntaxError::Empty { value: value.to_owned(), field: "resource" });
    }
    if rule.verbs.is_empty() {
        return Err(RuleSyntaxError::Empty { value: value.to_owned(), field: "verb" });
    }
    if let Some(error) = validate_rules(std::slice::from_ref(&rule)).into_iter().next() {
        return Err(RuleSyntaxError::Invalid {
            value: value.to_owned(),
            reason: error.to_string().trim_start_matches("rules[0].").to_owned(),
        });
    }
    Ok(rule)
}

/// A rule in the notation [`parse_rule`] reads (core group written `core`).
pub fn format_rule(rule: &Rule) -> String {
    let groups: Vec<&str> =
        rule.api_groups.iter().map(|g| crate::catalog::group_label(g)).collect();
    let mut text =
        format!("{}:{}:{}", groups.join(","), rule.resources.join(","), rule.verbs.join(","));
    if !rule.resource_names.is_empty() {
        text.push(':');
        text.push_str(&rule.resource_names.join(","));
    }
    text
}

/// Splits a list of names the user typed, separated by commas, spaces or new lines.
pub fn split_names(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_and_four_part_forms() {
        assert_eq!(
            parse_rule("apps:deployments,replicasets:get,list").unwrap(),
            Rule::new(&["apps"], &["deployments", "replicasets"], &["get", "list"])
        );
        assert_eq!(
            parse_rule("core:configmaps:get:app-config").unwrap(),
            Rule::new(&[""], &["configmaps"], &["get"]).with_names(&["app-config"])
        );
        assert_eq!(parse_rule(":pods:get").unwrap(), Rule::new(&[""], &["pods"], &["get"]));
    }

    #[test]
    fn shorthands_expand_without_repeats() {
        assert_eq!(parse_rule("apps:deployments:read").unwrap().verbs, ["get", "list", "watch"]);
        assert_eq!(parse_rule("apps:deployments:get,deploy").unwrap().verbs.len(), 7);
    }

    #[test]
    fn refusals_say_how_to_write_it() {
        assert!(matches!(parse_rule("deployments:get"), Err(RuleSyntaxError::Parts { .. })));
        assert!(matches!(parse_rule("apps::get"), Err(RuleSyntaxError::Empty { .. })));
        assert!(matches!(parse_rule("apps:deployments:"), Err(RuleSyntaxError::Empty { .. })));
        let err = parse_rule("apps:Deployments:get").unwrap_err().to_string();
        assert!(err.contains("lowercase plural"), "{err}");
    }

    #[test]
    fn format_round_trips() {
        for text in ["core:pods,services:get,list", "apps,batch:jobs:*:a,b"] {
            assert_eq!(format_rule(&parse_rule(text).unwrap()), text);
        }
    }
}
