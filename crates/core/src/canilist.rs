//! Reading `kubectl auth can-i --list [-n NAMESPACE]` output as people paste it.
//!
//! kubectl breaks the rules down and prints one row per (resource, group, resource name)
//! through a tab writer that pads with spaces:
//!
//! ```text
//! Resources                                       Non-Resource URLs   Resource Names   Verbs
//! deployments.apps                                []                  []               [get list watch]
//! pods/exec                                       []                  []               [create]
//! configmaps                                      []                  [app-config]     [get]
//!                                                 [/api/*]            []               [get]
//! ```
//!
//! The Resources cell is `resource[.group][/subresource]` (the core group has no suffix,
//! `*.*` is every resource of every group) and never contains spaces; the three other cells
//! are Go-printed lists, `[a b c]`, whose items never contain spaces either. So a row is its
//! first word (absent for non-resource rows) followed by exactly three bracketed lists,
//! however wide the padding, whether spaces or tabs.

use crate::spec::{Rule, dedup_verbs};

/// What `kubectl auth can-i --list` says the identity may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CanIList {
    /// One rule per readable row, in the order printed.
    pub rules: Vec<Rule>,
    /// kubectl warned `the list may be incomplete` (e.g. a webhook authorizer that cannot
    /// list rules): the identity may hold more than `rules`.
    pub incomplete: bool,
    /// The reason kubectl gave with that warning.
    pub evaluation_error: Option<String>,
    /// Rows that could not be read; they are not in `rules`.
    pub unreadable: Vec<UnreadableRow>,
}

/// A row of the listing that is not a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRow {
    /// 1-based line number in the pasted text.
    pub line: usize,
    pub text: String,
    pub error: RowError,
}

/// Why the whole text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanIListError {
    #[error("the text is empty: paste the output of `kubectl auth can-i --list -n NAMESPACE`")]
    Empty,
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

/// Why a row could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error(
        "expected three bracketed lists after the resource (Non-Resource URLs, Resource Names, Verbs), found {found}; paste the rows unchanged"
    )]
    Columns { found: usize },
    #[error("a `[` is never closed; paste the whole row")]
    Unclosed,
    #[error("unexpected text {text:?} after the Verbs column; paste one row per line")]
    Trailing { text: String },
    #[error("the row lists no verbs, so it grants nothing; paste the rows unchanged")]
    NoVerbs,
    #[error("the row has neither a resource nor a non-resource URL; paste the rows unchanged")]
    Nothing,
    #[error(
        "the row has both a resource and non-resource URLs, which kubectl never prints; paste one row per line"
    )]
    Both,
    #[error("a non-resource row cannot have resource names; paste the rows unchanged")]
    NamesWithoutResource,
    #[error(
        "the resource {resource:?} has an empty name or group; expected `resource.group` or `resource`"
    )]
    BadResource { resource: String },
}

/// Reads `kubectl auth can-i --list` output: with or without the header row, with the old
/// dashed separator, tab- or space-aligned, with kubectl's `Warning: the list may be
/// incomplete` line and the command line itself if pasted along. Rows that cannot be read
/// are reported in [`CanIList::unreadable`] with their line numbers.
pub fn parse_can_i_list(text: &str) -> Result<CanIList, CanIListError> {
    if text.trim().is_empty() {
        return Err(CanIListError::Empty);
    }
    crate::input::check_text("the can-i list", text, crate::input::MAX_PASTE_BYTES)?;
    let mut list = CanIList::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || is_header(line) || is_separator(line) || is_command(line) {
            continue;
        }
        if let Some(warning) = warning(line) {
            const INCOMPLETE: &str = "the list may be incomplete";
            if let Some(at) = warning.to_ascii_lowercase().find(INCOMPLETE) {
                list.incomplete = true;
                let reason = warning[at + INCOMPLETE.len()..].trim_start_matches(':').trim();
                if !reason.is_empty() {
                    list.evaluation_error = Some(reason.to_owned());
                }
            }
            continue;
        }
        match parse_row(line) {
            Ok(rule) => list.rules.push(rule),
            Err(error) => {
                list.unreadable.push(UnreadableRow {
                    line: index + 1,
                    text: line.to_owned(),
                    error,
                });
            }
        }
    }
    Ok(list)
}

fn is_header(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.first().is_some_and(|w| w.eq_ignore_ascii_case("resources"))
        && words.last().is_some_and(|w| w.eq_ignore_ascii_case("verbs"))
}

fn is_separator(line: &str) -> bool {
    line.contains('-') && line.chars().all(|c| c == '-' || c.is_whitespace())
}

/// `$ kubectl auth can-i --list -n demo`, pasted with its output.
fn is_command(line: &str) -> bool {
    let line = line.trim_start_matches(['$', '%', '#', '>', ' ']);
    line.starts_with("kubectl ") && line.contains("can-i")
}

/// The text after `Warning:` (any case).
fn warning(line: &str) -> Option<&str> {
    let head = line.get(..8)?;
    head.eq_ignore_ascii_case("warning:").then(|| line[8..].trim())
}

fn parse_row(line: &str) -> Result<Rule, RowError> {
    let (resource, mut rest) = if line.starts_with('[') {
        ("", line)
    } else {
        line.split_once(char::is_whitespace).unwrap_or((line, ""))
    };
    let mut lists = Vec::with_capacity(3);
    loop {
        rest = rest.trim_start();
        let Some(inner) = rest.strip_prefix('[') else { break };
        let end = inner.find(']').ok_or(RowError::Unclosed)?;
        lists.push(inner[..end].split_whitespace().map(str::to_owned).collect::<Vec<_>>());
        rest = &inner[end + 1..];
    }
    if !rest.is_empty() && lists.len() == 3 {
        return Err(RowError::Trailing { text: rest.to_owned() });
    }
    let [non_resource_urls, resource_names, verbs]: [Vec<String>; 3] =
        lists.try_into().map_err(|lists: Vec<_>| RowError::Columns { found: lists.len() })?;
    let mut verbs = verbs;
    // kubectl prints `[* *]` when two bindings grant the same verb.
    dedup_verbs(&mut verbs);
    if verbs.is_empty() {
        return Err(RowError::NoVerbs);
    }
    match (resource.is_empty(), non_resource_urls.is_empty()) {
        (true, true) => Err(RowError::Nothing),
        (false, false) => Err(RowError::Both),
        (true, false) if !resource_names.is_empty() => Err(RowError::NamesWithoutResource),
        (true, false) => Ok(Rule { non_resource_urls, verbs, ..Rule::default() }),
        (false, true) => {
            let (group, resource) = split_resource(resource)?;
            Ok(Rule {
                api_groups: vec![group],
                resources: vec![resource],
                resource_names,
                non_resource_urls: Vec::new(),
                verbs,
            })
        }
    }
}

/// `deployments.apps/scale` → (`apps`, `deployments/scale`); the resource ends at the first
/// dot because groups contain dots (`prometheusrules.monitoring.coreos.com`) and plurals
/// do not.
fn split_resource(cell: &str) -> Result<(String, String), RowError> {
    let (base, subresource) = match cell.split_once('/') {
        Some((base, sub)) => (base, Some(sub)),
        None => (cell, None),
    };
    let (resource, group) = base.split_once('.').unwrap_or((base, ""));
    if resource.is_empty() || (base.contains('.') && group.is_empty()) || subresource == Some("") {
        return Err(RowError::BadResource { resource: cell.to_owned() });
    }
    let resource = match subresource {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };
    Ok((group.to_owned(), resource))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const TYPICAL: &str = "\
Resources                                       Non-Resource URLs   Resource Names   Verbs
deployments.apps                                []                  []               [get list watch create update patch delete]
prometheusrules.monitoring.coreos.com           []                  []               [get list]
pods/exec                                       []                  []               [create]
deployments.apps/scale                          []                  []               [update]
configmaps                                      []                  [app-config]     [get]
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
                                                [/api/*]            []               [get]
";

    #[test]
    fn typical_listing() {
        let list = parse_can_i_list(TYPICAL).unwrap();
        assert!(list.unreadable.is_empty(), "{:?}", list.unreadable);
        assert!(!list.incomplete);
        assert_eq!(
            list.rules,
            [
                Rule::new(
                    &["apps"],
                    &["deployments"],
                    &["get", "list", "watch", "create", "update", "patch", "delete"]
                ),
                Rule::new(&["monitoring.coreos.com"], &["prometheusrules"], &["get", "list"]),
                Rule::new(&[""], &["pods/exec"], &["create"]),
                Rule::new(&["apps"], &["deployments/scale"], &["update"]),
                Rule::new(&[""], &["configmaps"], &["get"]).with_names(&["app-config"]),
                Rule::new(&["authorization.k8s.io"], &["selfsubjectaccessreviews"], &["create"]),
                Rule::non_resource(&["/api/*"], &["get"]),
            ]
        );
    }

    #[test]
    fn wildcards_and_old_separator() {
        let text = "\
Resources                                       Non-Resource URLs        Resource Names   Verbs
---------                                       -----------------        --------------   -----
*.*                                             []                       []               [*]
                                                [*]                      []               [*]
storageclasses.*                                []                       []               [get list watch]
*                                               []                       []               [* *]
";
        let list = parse_can_i_list(text).unwrap();
        assert!(list.unreadable.is_empty(), "{:?}", list.unreadable);
        assert_eq!(
            list.rules,
            [
                Rule::new(&["*"], &["*"], &["*"]),
                Rule::non_resource(&["*"], &["*"]),
                Rule::new(&["*"], &["storageclasses"], &["get", "list", "watch"]),
                Rule::new(&[""], &["*"], &["*"]),
            ]
        );
    }

    #[test]
    fn tabs_no_header_and_warning() {
        let text = "Warning: the list may be incomplete: webhook authorizer does not support user rule resolution\nservices\t[]\t[]\t[get]\n\t[/healthz]\t[]\t[get]\n";
        let list = parse_can_i_list(text).unwrap();
        assert!(list.incomplete);
        assert_eq!(
            list.evaluation_error.as_deref(),
            Some("webhook authorizer does not support user rule resolution")
        );
        assert_eq!(list.rules.len(), 2);
    }

    #[test]
    fn old_lowercase_warning_and_command_line() {
        let text = "$ kubectl auth can-i --list -n demo\nwarning: the list may be incomplete: \nResources   Non-Resource URLs   Resource Names   Verbs\npods   []   []   [get]\n";
        let list = parse_can_i_list(text).unwrap();
        assert!(list.incomplete);
        assert_eq!(list.evaluation_error, None);
        assert_eq!(list.rules, [Rule::new(&[""], &["pods"], &["get"])]);
    }

    #[test]
    fn unreadable_rows_keep_their_line_numbers() {
        let text = "\
Resources   Non-Resource URLs   Resource Names   Verbs
pods        []                  []               [get]
services    []                  []
secrets     []                  []               [get] extra
.apps       []                  []               [get]
            []                  []               [get]
jobs        [/x]                []               [get]
            [/y]                [n]              [get]
leases      []                  []               []
crons       [                   []               [get
";
        let list = parse_can_i_list(text).unwrap();
        assert_eq!(list.rules, [Rule::new(&[""], &["pods"], &["get"])]);
        let errors: Vec<(usize, RowError)> =
            list.unreadable.into_iter().map(|row| (row.line, row.error)).collect();
        assert_eq!(
            errors,
            [
                (3, RowError::Columns { found: 2 }),
                (4, RowError::Trailing { text: "extra".into() }),
                (5, RowError::BadResource { resource: ".apps".into() }),
                (6, RowError::Nothing),
                (7, RowError::Both),
                (8, RowError::NamesWithoutResource),
                (9, RowError::NoVerbs),
                (10, RowError::Unclosed),
            ]
        );
    }

    #[test]
    fn empty_text_is_an_error() {
        assert_eq!(parse_can_i_list("\n  \n"), Err(CanIListError::Empty));
    }

    /// Real `kubectl auth can-i --list` outputs (kubectl 1.32, kube-apiserver 1.20).
    pub(crate) const REAL: &[(&str, &str, &str)] = &[
        (
            "admin",
            include_str!("../../../tests/fixtures/can-i-list/admin.txt"),
            include_str!("../../../tests/fixtures/can-i-list/admin.no-headers.txt"),
        ),
        (
            "namespace-admin",
            include_str!("../../../tests/fixtures/can-i-list/namespace-admin.txt"),
            include_str!("../../../tests/fixtures/can-i-list/namespace-admin.no-headers.txt"),
        ),
        (
            "nobody",
            include_str!("../../../tests/fixtures/can-i-list/nobody.txt"),
            include_str!("../../../tests/fixtures/can-i-list/nobody.no-headers.txt"),
        ),
        (
            "welkin-ci-cd",
            include_str!("../../../tests/fixtures/can-i-list/welkin-ci-cd.txt"),
            include_str!("../../../tests/fixtures/can-i-list/welkin-ci-cd.no-headers.txt"),
        ),
    ];

    #[test]
    fn real_listings_golden() {
        for (who, with_headers, without_headers) in REAL {
            let list = parse_can_i_list(with_headers).unwrap();
            assert!(list.unreadable.is_empty(), "{who}: {:?}", list.unreadable);
            assert_eq!(list, parse_can_i_list(without_headers).unwrap(), "{who}");
            let rendered: Vec<String> =
                list.rules.iter().map(crate::coverage::compact_string).collect();
            insta::assert_snapshot!(
                format!("can_i_list_{who}"),
                format!("incomplete: {}\n{}", list.incomplete, rendered.join("\n"))
            );
        }
    }
}
