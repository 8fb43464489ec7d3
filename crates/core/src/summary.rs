//! A Role in plain words: what the pipeline may do with it, one sentence per kind of use,
//! for the page to show beside the rules.

use crate::catalog;
use crate::spec::Rule;

/// What a set of verbs lets the pipeline do, as words; `None` for no verbs.
fn deeds(verbs: &[String]) -> Option<String> {
    let has = |v: &str| verbs.iter().any(|x| x == v || x == "*");
    if verbs.iter().any(|v| v == "*") {
        return Some("do anything with".to_owned());
    }
    let mut words = Vec::new();
    if has("get") || has("list") || has("watch") {
        words.push("read");
    }
    if has("create") {
        words.push("create");
    }
    if has("update") || has("patch") {
        words.push("change");
    }
    if has("delete") || has("deletecollection") {
        words.push("delete");
    }
    let others: Vec<&str> = verbs
        .iter()
        .map(String::as_str)
        .filter(|v| {
            !matches!(
                *v,
                "get"
                    | "list"
                    | "watch"
                    | "create"
                    | "update"
                    | "patch"
                    | "delete"
                    | "deletecollection"
            )
        })
        .collect();
    let mut text = match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    };
    if !others.is_empty() {
        if !text.is_empty() {
            text.push_str(", and ");
        }
        text.push_str(&format!("use `{}` on", others.join("`, `")));
    }
    (!text.is_empty()).then_some(text)
}

/// How a resource is named for people: `deployments (apps)`, `pods/log`.
fn resource_words(group: &str, resource: &str) -> String {
    if group.is_empty() || catalog::find(group, resource).is_some() && !group.contains('.') {
        format!("`{resource}`")
    } else {
        format!("`{resource}` ({group})")
    }
}

/// One sentence per distinct use, in the rules' order: "It can read, create, change and
/// delete `deployments`, `services`." Rules limited by name say which names.
pub fn summarize(rules: &[Rule]) -> Vec<String> {
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for rule in rules {
        let Some(deeds) = deeds(&rule.verbs) else { continue };
        let deeds = if rule.resource_names.is_empty() {
            deeds
        } else {
            format!("{deeds} only the objects named `{}` of", rule.resource_names.join("`, `"))
        };
        let mut things: Vec<String> = Vec::new();
        for group in &rule.api_groups {
            for resource in &rule.resources {
                things.push(resource_words(group, resource));
            }
        }
        match lines.iter_mut().find(|(d, _)| *d == deeds) {
            Some((_, existing)) => existing.extend(things),
            None => lines.push((deeds, things)),
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|(deeds, things)| format!("It can {deeds} {}.", things.join(", ")))
        .collect();
    let reads_secrets = rules.iter().any(|r| {
        r.resource_names.is_empty()
            && r.api_groups.iter().any(|g| g.is_empty() || g == "*")
            && r.resources.iter().any(|x| x == "secrets" || x == "*")
            && r.verbs.iter().any(|v| matches!(v.as_str(), "get" | "list" | "watch" | "*"))
    });
    if reads_secrets {
        out.push(
            "It can read every Secret of the namespace: every credential kept there.".to_owned(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_welkin_role_in_plain_words() {
        let rules = crate::preset::find("welkin-user-demo").unwrap().rules();
        let summary = summarize(&rules);
        assert_eq!(
            summary[0],
            "It can read, create, change and delete `configmaps`, `pods`, `secrets`, `services`, `deployments`, `replicasets`, `horizontalpodautoscalers`, `ingresses` (networking.k8s.io), `prometheusrules` (monitoring.coreos.com), `servicemonitors` (monitoring.coreos.com), `networkpolicies` (networking.k8s.io)."
        );
        assert_eq!(summary[1], "It can read `certificates` (cert-manager.io).");
        assert!(summary[2].contains("every Secret"));
    }

    #[test]
    fn names_stars_and_odd_verbs_are_said() {
        let rules = vec![
            Rule::new(&[""], &["configmaps"], &["get", "patch"]).with_names(&["app"]),
            Rule::new(&[""], &["pods/exec"], &["create"]),
            Rule::new(&["rbac.authorization.k8s.io"], &["roles"], &["escalate"]),
            Rule::new(&["apps"], &["*"], &["*"]),
        ];
        let summary = summarize(&rules);
        assert_eq!(
            summary[0],
            "It can read and change only the objects named `app` of `configmaps`."
        );
        assert_eq!(summary[1], "It can create `pods/exec`.");
        assert_eq!(summary[2], "It can use `escalate` on `roles` (rbac.authorization.k8s.io).");
        assert_eq!(summary[3], "It can do anything with `*` (apps).");
        assert_eq!(summary.len(), 4);
    }
}
