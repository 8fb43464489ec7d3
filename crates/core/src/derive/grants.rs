//! Verbs and their reasons, accumulated per resource and ordered into rules.

use std::collections::{BTreeMap, BTreeSet};

use super::{DerivedRule, Reason};
use crate::catalog;
use crate::spec::Rule;

/// Verbs and reasons accumulated per (group, resource).
#[derive(Default)]
pub(super) struct Grants {
    entries: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>>,
}

impl Grants {
    pub(super) fn grant(
        &mut self,
        group: &str,
        resource: &str,
        verbs: &[&str],
        because: impl Into<String>,
    ) {
        let reasons = self.entries.entry((group.to_owned(), resource.to_owned())).or_default();
        reasons.entry(because.into()).or_default().extend(verbs.iter().map(|v| (*v).to_owned()));
    }

    pub(super) fn into_rules(self) -> Vec<DerivedRule> {
        self.entries
            .into_iter()
            .map(|((group, resource), reasons)| {
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
                let rule = Rule::new(&[&group], &[&resource], &verbs);
                let key = (group_rank(&group), group, resource);
                (key, DerivedRule { rule, reasons: reasons.into_values().collect() })
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
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
