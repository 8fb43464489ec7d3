//! Verbs and their reasons, accumulated per resource (and, for requests that name their
//! object, per set of names) and ordered into rules.

use std::collections::{BTreeMap, BTreeSet};

use super::{DerivedRule, Reason};
use crate::catalog;
use crate::spec::Rule;

/// (group, resource, resourceNames — empty for every object of the namespace).
type Key = (String, String, Vec<String>);

/// Verbs and reasons accumulated per rule.
#[derive(Default)]
pub(super) struct Grants {
    entries: BTreeMap<Key, BTreeMap<String, BTreeSet<String>>>,
}

impl Grants {
    /// `verbs` on every object of `resource` in the namespace.
    pub(super) fn grant(
        &mut self,
        group: &str,
        resource: &str,
        verbs: &[&str],
        because: impl Into<String>,
    ) {
        self.grant_named(group, resource, &[], verbs, because);
    }

    /// `verbs` on the objects `names` only; every object when `names` is empty. Only for
    /// requests that carry the object's name (a GET, PATCH, PUT or DELETE of it, and the
    /// create check of a server-side apply PATCH): RBAC matches `resourceNames` against it.
    pub(super) fn grant_named(
        &mut self,
        group: &str,
        resource: &str,
        names: &[String],
        verbs: &[&str],
        because: impl Into<String>,
    ) {
        let key = (group.to_owned(), resource.to_owned(), names.to_vec());
        let reasons = self.entries.entry(key).or_default();
        reasons.entry(because.into()).or_default().extend(verbs.iter().map(|v| (*v).to_owned()));
    }

    pub(super) fn into_rules(mut self) -> Vec<DerivedRule> {
        self.fold_named_into_wide();
        self.entries
            .into_iter()
            .map(|((group, resource, names), reasons)| {
                let verbs: BTreeSet<String> = reasons.values().flatten().cloned().collect();
                let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
                // Ordered by keys that are unique (a reason is a map key), so an ordered map
                // sorts them: one sort fewer in the page's wasm.
                let reasons: BTreeMap<(usize, String), Reason> = reasons
                    .into_iter()
                    .map(|(because, verbs)| {
                        let verbs: Vec<String> = verbs.into_iter().collect();
                        ((verb_rank(&verbs), because.clone()), Reason { verbs, because })
                    })
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let rule = Rule::new(&[&group], &[&resource], &verbs).with_names(&names);
                // The namespace-wide rule of a resource (no names) sorts before its named one.
                let key = (group_rank(&group), group, resource, names.join(","));
                (key, DerivedRule { rule, reasons: reasons.into_values().collect() })
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
    }

    /// A verb the namespace-wide rule of the same resource already grants (Helm's release
    /// Secrets, `--prune`) needs no named rule: its reasons move to the wide rule, and a
    /// named rule left without verbs is dropped.
    fn fold_named_into_wide(&mut self) {
        let named: Vec<Key> = self.entries.keys().filter(|k| !k.2.is_empty()).cloned().collect();
        for key in named {
            let wide_key = (key.0.clone(), key.1.clone(), Vec::new());
            let Some(wide) = self.entries.get(&wide_key) else { continue };
            let wide_verbs: BTreeSet<String> = wide.values().flatten().cloned().collect();
            let Some(reasons) = self.entries.remove(&key) else { continue };
            let mut kept: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut moved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (because, verbs) in reasons {
                let (covered, rest): (BTreeSet<String>, BTreeSet<String>) =
                    verbs.into_iter().partition(|v| wide_verbs.contains(v));
                if !covered.is_empty() {
                    moved.entry(because.clone()).or_default().extend(covered);
                }
                if !rest.is_empty() {
                    kept.insert(because, rest);
                }
            }
            let wide = self.entries.entry(wide_key).or_default();
            for (because, verbs) in moved {
                wide.entry(because).or_default().extend(verbs);
            }
            if !kept.is_empty() {
                self.entries.insert(key, kept);
            }
        }
    }
}

/// Reasons in the order a deploy uses the verbs.
fn verb_rank(verbs: &[String]) -> usize {
    const ORDER: &[&str] = &["list", "get", "create", "patch", "update", "watch", "delete"];
    verbs.iter().filter_map(|v| ORDER.iter().position(|o| o == v)).min().unwrap_or(ORDER.len())
}

/// Catalog order (core first), then other groups alphabetically; stable within a group.
fn group_rank(group: &str) -> (usize, String) {
    let groups = catalog::groups();
    match groups.iter().position(|g| *g == group) {
        Some(position) => (position, String::new()),
        None => (groups.len(), group.to_owned()),
    }
}
