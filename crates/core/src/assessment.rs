//! The pre-check's verdict: from what is known of the caller's rights (a pasted `can-i
//! --list` table, SelfSubjectRulesReview or 403, or the review the CLI asked the API server
//! for) and the access spec, whether the API server will accept the objects, and if not,
//! exactly what is missing. The page and the CLI display this one value.

use std::fmt::Write as _;

use crate::canilist::parse_can_i_list;
use crate::coverage::{Coverage, Subject, check_role, check_role_binding, missing_rules};
use crate::forbidden::parse_forbidden;
use crate::requirements::apply_rules;
use crate::rules_review::{self, RulesReview, parse_rules_review};
use crate::spec::{AccessSpec, Rule};

/// What is known of the caller's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The rules the caller holds in the namespace.
    Held { source: Source, rules: Vec<Rule>, incomplete: bool, notes: Vec<String> },
    /// A 403 to a Role write: it lists the Role's rules the caller lacks, and nothing else.
    Forbidden { missing: Vec<Rule>, notes: Vec<String> },
}

/// Where held rules were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `kubectl auth can-i --list`, pasted: its number of rows.
    CanIList { rows: usize },
    /// A SelfSubjectRulesReview, pasted or asked for by the CLI.
    RulesReview,
}

/// Why a pasted text gave no evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Forbidden(#[from] crate::forbidden::ForbiddenError),
    #[error(transparent)]
    RulesReview(#[from] crate::rules_review::RulesReviewError),
    #[error(transparent)]
    CanIList(#[from] crate::canilist::CanIListError),
    #[error("no rule could be read; paste the output of kubectl auth can-i --list{note}")]
    NoRules { note: String },
}

fn plural(count: usize, word: &str) -> String {
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

fn incomplete_note(incomplete: bool, error: Option<&str>) -> Option<String> {
    incomplete.then(|| {
        format!(
            "the list may be incomplete{}: you may hold more than it shows, so a refusal below may not happen",
            error.map(|e| format!(" ({e})")).unwrap_or_default()
        )
    })
}

impl Evidence {
    /// Reads pasted text of any of the three forms, told apart by what it says. `Ok(None)`
    /// when nothing was pasted.
    pub fn read(text: &str) -> Result<Option<Evidence>, EvidenceError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let forbidden = text.contains("RBAC permissions not currently held")
            || text.contains("attempt to grant extra privileges")
            || text.contains("(Forbidden)")
            || text.contains("is forbidden");
        if forbidden {
            let forbidden = parse_forbidden(text)?;
            let notes = forbidden
                .resolution_errors
                .map(|e| format!("the API server could not resolve all of your rules ({e}); some may be missing from the list"))
                .into_iter()
                .collect();
            return Ok(Some(Evidence::Forbidden { missing: forbidden.missing, notes }));
        }
        if text.contains(rules_review::KIND) {
            return Ok(Some(Evidence::from_review(parse_rules_review(text)?)));
        }
        let list = parse_can_i_list(text)?;
        let mut notes: Vec<String> =
            incomplete_note(list.incomplete, list.evaluation_error.as_deref())
                .into_iter()
                .collect();
        notes.extend(
            list.unreadable
                .iter()
                .map(|row| format!("line {} was skipped: {}", row.line, row.error)),
        );
        if list.rules.is_empty() {
            let note = notes.first().map(|n| format!(" ({n})")).unwrap_or_default();
            return Err(EvidenceError::NoRules { note });
        }
        Ok(Some(Evidence::Held {
            source: Source::CanIList { rows: list.rules.len() },
            rules: list.rules,
            incomplete: list.incomplete,
            notes,
        }))
    }

    /// The rules a SelfSubjectRulesReview lists.
    pub fn from_review(review: RulesReview) -> Evidence {
        let notes = incomplete_note(review.incomplete, review.evaluation_error.as_deref())
            .into_iter()
            .collect();
        Evidence::Held {
            source: Source::RulesReview,
            rules: review.rules,
            incomplete: review.incomplete,
            notes,
        }
    }

    /// What was read, e.g. "kubectl auth can-i --list: 12 rows".
    pub fn describe(&self) -> String {
        match self {
            Evidence::Held { source: Source::CanIList { rows }, .. } => {
                format!("kubectl auth can-i --list: {}", plural(*rows, "row"))
            }
            Evidence::Held { source: Source::RulesReview, rules, .. } => {
                format!("a SelfSubjectRulesReview: {}", plural(rules.len(), "rule"))
            }
            Evidence::Forbidden { missing, .. } => {
                format!("a 403 listing {}", plural(missing.len(), "missing rule"))
            }
        }
    }
}

/// How the objects are written, which decides whether the Role's name is part of the
/// request that creates it (an `escalate` limited to that name helps only then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The page's script: `kubectl apply`, whose first run creates with a POST (no name).
    KubectlApply,
    /// `kubectl cicd apply`: server-side apply, a PATCH to the object's own URL.
    ServerSideApply,
}

/// What the API server will answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every write will be accepted.
    Accepted,
    /// A write will be refused: nothing should be created.
    Refused,
    /// Something looks missing, but the list of held rules is incomplete (an authorizer
    /// besides RBAC): only the API server can tell.
    Undecided,
}

/// The whole pre-check of an access against what is known of the caller's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// What was read, for the reader ([`Evidence::describe`]).
    pub source: String,
    pub role: Coverage,
    /// `None` when the evidence says nothing about it (a 403).
    pub binding: Option<Coverage>,
    /// Rights the steps themselves need (writing the objects, reading the token) that the
    /// caller lacks; empty when the evidence says nothing about them (a 403).
    pub missing_for_steps: Vec<Rule>,
    /// The held rules may be more than listed.
    pub incomplete: bool,
    /// Cautions about the evidence: incomplete lists, rows that could not be read, bypasses.
    pub notes: Vec<String>,
}

/// Checks `spec`'s objects, written by `writer`, against `evidence`.
pub fn assess(evidence: &Evidence, spec: &AccessSpec, writer: Writer) -> Assessment {
    let source = evidence.describe();
    match evidence {
        Evidence::Forbidden { missing, notes } => Assessment {
            source,
            role: Coverage { subject: Subject::Role, missing: missing.clone(), bypass: false },
            binding: None,
            missing_for_steps: Vec::new(),
            incomplete: false,
            notes: notes.clone(),
        },
        Evidence::Held { rules, incomplete, notes, .. } => {
            let name = match writer {
                Writer::KubectlApply => None,
                Writer::ServerSideApply => Some(spec.role.as_str()),
            };
            let role = check_role(rules, &spec.rules, name);
            let binding = check_role_binding(rules, &spec.role, &spec.rules);
            let mut notes = notes.clone();
            if role.bypass && !role.missing.is_empty() {
                notes.push(
                    "you hold escalate on roles, so the API server does not compare the Role's rules with yours".into(),
                );
            }
            Assessment {
                source,
                missing_for_steps: missing_rules(rules, &apply_rules(spec)),
                role,
                binding: Some(binding),
                incomplete: *incomplete,
                notes,
            }
        }
    }
}

impl Assessment {
    /// Whether the binding is refused (known only from held rules).
    fn binding_refused(&self) -> bool {
        self.binding.as_ref().is_some_and(|b| !b.allowed())
    }

    pub fn verdict(&self) -> Verdict {
        let lacking =
            !self.role.allowed() || self.binding_refused() || !self.missing_for_steps.is_empty();
        match (lacking, self.incomplete) {
            (false, _) => Verdict::Accepted,
            (true, false) => Verdict::Refused,
            (true, true) => Verdict::Undecided,
        }
    }

    /// One sentence: the verdict and its main reason.
    pub fn headline(&self) -> String {
        // What would be refused, and why.
        let (what, why) = if !self.role.allowed() {
            (
                "this Role",
                format!("it grants {} you do not hold", plural(self.role.missing.len(), "rule")),
            )
        } else if self.binding_refused() {
            (
                "the RoleBinding",
                "binding this Role needs every rule it grants, or `bind` on it".to_owned(),
            )
        } else if !self.missing_for_steps.is_empty() {
            (
                "the steps",
                format!(
                    "they need {} you do not hold",
                    plural(self.missing_for_steps.len(), "right")
                ),
            )
        } else {
            return "You can create this Role, its RoleBinding and the token.".to_owned();
        };
        match self.verdict() {
            Verdict::Undecided => format!(
                "Your list of rights is incomplete, so the API server decides. From the list alone: it would refuse {what}: {why}."
            ),
            _ => format!("The API server will refuse {what}: {why}."),
        }
    }

    /// The explanation the page and the CLI show: the Role's coverage, the binding's when
    /// only the binding fails, and the rights the steps lack.
    pub fn explain(&self) -> String {
        let mut out = self.role.explain();
        if let Some(binding) = self.binding.as_ref().filter(|b| self.role.allowed() && !b.allowed())
        {
            out.push_str(&binding.explain());
        }
        if !self.missing_for_steps.is_empty() {
            out.push_str("The steps themselves need rights you do not hold:\n");
            for rule in &self.missing_for_steps {
                let _ = writeln!(out, "  {}", crate::coverage::compact_string(rule));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::RBAC_GROUP;
    use crate::preset;

    fn spec() -> AccessSpec {
        let mut spec = preset::find("deployment-service-ingress").expect("preset").spec();
        spec.namespace = Some("dev".into());
        spec
    }

    /// Held rules as both faces receive them: the page as pasted `can-i --list` text, the
    /// CLI as the API server's SelfSubjectRulesReview.
    fn both_ways(held: &[Rule]) -> [Evidence; 2] {
        let mut table = String::from("Resources   Non-Resource URLs   Resource Names   Verbs\n");
        for rule in held {
            for group in &rule.api_groups {
                for resource in &rule.resources {
                    let name = if group.is_empty() {
                        resource.clone()
                    } else {
                        format!("{resource}.{group}")
                    };
                    let _ = writeln!(
                        table,
                        "{name}   []   [{}]   [{}]",
                        rule.resource_names.join(" "),
                        rule.verbs.join(" ")
                    );
                }
            }
        }
        let review = serde_json::json!({
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "spec": {"namespace": "dev"},
            "status": {"resourceRules": held, "nonResourceRules": [], "incomplete": false},
        });
        [
            Evidence::read(&table).expect("table").expect("not empty"),
            Evidence::from_review(parse_rules_review(&review.to_string()).expect("review")),
        ]
    }

    fn writes() -> Vec<Rule> {
        apply_rules(&spec())
    }

    #[test]
    fn the_page_and_the_cli_reach_the_same_verdict() {
        let spec = spec();
        let mut escalate_only = writes();
        escalate_only.push(Rule::new(&[RBAC_GROUP], &["roles"], &["escalate"]));
        let mut escalate_and_bind = escalate_only.clone();
        escalate_and_bind.push(Rule::new(&[RBAC_GROUP], &["roles"], &["bind"]));
        let mut everything = writes();
        everything.extend(spec.rules.iter().cloned());
        let mut no_token = everything.clone();
        no_token.retain(|r| !r.resources.iter().any(|x| x == "secrets"));
        let cases: [(&str, Vec<Rule>, Verdict); 5] = [
            ("the Role's rules and the writes", everything, Verdict::Accepted),
            ("escalate without bind", escalate_only, Verdict::Refused),
            ("escalate and bind", escalate_and_bind, Verdict::Accepted),
            ("the writes only", writes(), Verdict::Refused),
            ("everything but the token Secret", no_token, Verdict::Refused),
        ];
        for (case, held, expected) in cases {
            let [page, cli] = both_ways(&held);
            let page = assess(&page, &spec, Writer::KubectlApply);
            let cli = assess(&cli, &spec, Writer::ServerSideApply);
            assert_eq!(page.verdict(), expected, "{case}: page\n{}", page.explain());
            assert_eq!(cli.verdict(), expected, "{case}: CLI\n{}", cli.explain());
            assert_eq!(page.role.missing, cli.role.missing, "{case}");
            assert_eq!(page.missing_for_steps, cli.missing_for_steps, "{case}");
            assert_eq!(page.headline(), cli.headline(), "{case}");
        }
    }

    #[test]
    fn escalate_without_bind_names_the_binding() {
        let mut held = writes();
        held.push(Rule::new(&[RBAC_GROUP], &["roles"], &["escalate"]));
        let [page, _] = both_ways(&held);
        let assessment = assess(&page, &spec(), Writer::KubectlApply);
        assert!(assessment.role.allowed());
        assert!(
            assessment.headline().contains("refuse the RoleBinding"),
            "{}",
            assessment.headline()
        );
        assert!(assessment.explain().contains("`bind` verb"), "{}", assessment.explain());
    }

    #[test]
    fn an_escalate_limited_to_the_name_helps_only_the_named_request() {
        let mut held = writes();
        held.push(
            Rule::new(&[RBAC_GROUP], &["roles"], &["escalate", "bind"]).with_names(&["ci-cd"]),
        );
        let [page, cli] = both_ways(&held);
        assert_eq!(assess(&page, &spec(), Writer::KubectlApply).verdict(), Verdict::Refused);
        assert_eq!(assess(&cli, &spec(), Writer::ServerSideApply).verdict(), Verdict::Accepted);
    }

    #[test]
    fn an_incomplete_list_leaves_a_refusal_to_the_api_server() {
        let review = serde_json::json!({
            "kind": "SelfSubjectRulesReview",
            "status": {"resourceRules": [], "nonResourceRules": [], "incomplete": true,
                       "evaluationError": "webhook authorizer"},
        });
        let evidence = Evidence::read(&review.to_string()).expect("review").expect("some");
        let assessment = assess(&evidence, &spec(), Writer::ServerSideApply);
        assert_eq!(assessment.verdict(), Verdict::Undecided);
        assert!(assessment.headline().starts_with("Your list of rights is incomplete"));
        assert!(assessment.notes.iter().any(|n| n.contains("webhook authorizer")));
    }

    #[test]
    fn a_403_refuses_the_role_and_says_nothing_of_the_rest() {
        let text = "Error from server (Forbidden): roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"create\"]}\n";
        let evidence = Evidence::read(text).expect("a 403").expect("some");
        assert_eq!(evidence.describe(), "a 403 listing 1 missing rule");
        let assessment = assess(&evidence, &spec(), Writer::KubectlApply);
        assert_eq!(assessment.verdict(), Verdict::Refused);
        assert!(assessment.binding.is_none() && assessment.missing_for_steps.is_empty());
    }

    #[test]
    fn unreadable_pastes_say_what_to_paste() {
        assert_eq!(Evidence::read("  \n"), Ok(None));
        let error = Evidence::read("hello\n").unwrap_err().to_string();
        assert!(error.contains("kubectl auth can-i --list"), "{error}");
    }
}
