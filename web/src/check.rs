//! Section 4: check before applying — paste `kubectl auth can-i --list` or the 403 and
//! learn whether the API server will accept the Role, and if not, exactly what is missing.

use cicd_access_core::canilist::parse_can_i_list;
use cicd_access_core::coverage::{Coverage, Subject, check_role, compact_string, missing_rules};
use cicd_access_core::forbidden::parse_forbidden;
use cicd_access_core::requirements::apply_rules;
use cicd_access_core::rules_review::{self, parse_rules_review};
use cicd_access_core::{AccessSpec, Rule};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::Store;
use crate::field::rich;
use crate::state::{Action, MAX_PASTE};

/// What the pasted text says about the access in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing pasted yet.
    Empty,
    Checked(Box<Checked>),
    Unreadable(String),
}

/// A readable paste, checked against the Role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// What was read, e.g. "kubectl auth can-i --list: 12 rules".
    pub source: String,
    pub coverage: Coverage,
    /// Rights to write the objects themselves (Role, RoleBinding, ServiceAccount, Secret)
    /// the pasted list lacks; empty for a 403, which says nothing about them.
    pub missing_writes: Vec<Rule>,
    /// Cautions about the paste: incomplete lists, rows that could not be read.
    pub notes: Vec<String>,
}

fn plural(count: usize, word: &str) -> String {
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

/// Reads a pasted 403, `can-i --list` table or SelfSubjectRulesReview and checks the
/// access in `spec` against it.
pub fn verdict(text: &str, spec: &AccessSpec) -> Verdict {
    if text.trim().is_empty() {
        return Verdict::Empty;
    }
    if text.len() > MAX_PASTE {
        return Verdict::Unreadable(
            "the pasted text is over 1 MB; paste only the command's output".into(),
        );
    }
    let looks_forbidden = text.contains("RBAC permissions not currently held")
        || text.contains("attempt to grant extra privileges")
        || text.contains("(Forbidden)")
        || text.contains("is forbidden");
    if looks_forbidden {
        return match parse_forbidden(text) {
            Ok(forbidden) => Verdict::Checked(Box::new(Checked {
                source: format!("a 403 listing {}", plural(forbidden.missing.len(), "missing rule")),
                coverage: Coverage { subject: Subject::Role, missing: forbidden.missing, bypass: false },
                missing_writes: Vec::new(),
                notes: forbidden
                    .resolution_errors
                    .map(|e| format!("the API server could not resolve all of your rules ({e}); some may be missing from the list"))
                    .into_iter()
                    .collect(),
            })),
            Err(e) => Verdict::Unreadable(e.to_string()),
        };
    }
    let (source, held, mut notes) = if text.contains(rules_review::KIND) {
        match parse_rules_review(text) {
            Ok(review) => {
                let notes = incomplete_note(review.incomplete, review.evaluation_error.as_deref());
                (
                    format!("a SelfSubjectRulesReview: {}", plural(review.rules.len(), "rule")),
                    review.rules,
                    notes,
                )
            }
            Err(e) => return Verdict::Unreadable(e.to_string()),
        }
    } else {
        match parse_can_i_list(text) {
            Ok(list) => {
                let mut notes = incomplete_note(list.incomplete, list.evaluation_error.as_deref());
                notes.extend(
                    list.unreadable
                        .iter()
                        .map(|row| format!("line {} was skipped: {}", row.line, row.error)),
                );
                if list.rules.is_empty() {
                    return Verdict::Unreadable(format!(
                        "no rule could be read; paste the output of kubectl auth can-i --list{}",
                        notes.first().map(|n| format!(" ({n})")).unwrap_or_default()
                    ));
                }
                (
                    format!("kubectl auth can-i --list: {}", plural(list.rules.len(), "row")),
                    list.rules,
                    notes,
                )
            }
            Err(e) => return Verdict::Unreadable(e.to_string()),
        }
    };
    let coverage = check_role(&held, &spec.rules, None);
    let missing_writes = missing_rules(&held, &apply_rules(spec));
    if coverage.bypass {
        notes.push(
            "you hold escalate on roles, so the API server does not compare the rules".into(),
        );
    }
    Verdict::Checked(Box::new(Checked { source, coverage, missing_writes, notes }))
}

fn incomplete_note(incomplete: bool, error: Option<&str>) -> Vec<String> {
    if !incomplete {
        return Vec::new();
    }
    vec![format!(
        "the list may be incomplete{}: you may hold more than it shows, so a refusal below may not happen",
        error.map(|e| format!(" ({e})")).unwrap_or_default()
    )]
}

#[function_component(CheckPanel)]
pub fn check_panel() -> Html {
    let Some(store) = use_context::<Store>() else { return html! {} };
    let oninput = {
        let store = store.clone();
        Callback::from(move |e: InputEvent| {
            store.dispatch(Action::SetCheckText(
                e.target_unchecked_into::<HtmlTextAreaElement>().value(),
            ));
        })
    };
    let result = verdict(&store.check_text, &store.spec);
    html! {
        <section class="card" aria-labelledby="check-title">
            <h2 id="check-title"><span class="step">{ "4" }</span>{ "Check before applying" }</h2>
            <p class="lead">{ "You can only grant what you hold. Paste the output of " }
                <code class="inline">{ format!("kubectl auth can-i --list --namespace {}", store.spec.namespace.as_deref().unwrap_or("NAMESPACE")) }</code>
                { " — or the 403 you got — to see whether the API server will accept this Role." }</p>
            <div class="field">
                <label for="check-text">{ "can-i --list output or 403 message" }</label>
                <textarea id="check-text" rows="7" spellcheck="false" value={store.check_text.clone()} {oninput}
                    placeholder={"Resources          Non-Resource URLs   Resource Names   Verbs\ndeployments.apps   []                  []               [get list watch create update patch delete]"}
                    aria-describedby="check-result" />
            </div>
            <div id="check-result" aria-live="polite">
                { render_verdict(&result) }
            </div>
        </section>
    }
}

fn render_verdict(result: &Verdict) -> Html {
    let checked = match result {
        Verdict::Empty => return html! {},
        Verdict::Unreadable(message) => {
            return html! {
                <div class="verdict warn" role="alert" id="verdict"><strong>{ "Could not read the pasted text. " }</strong>{ message }</div>
            };
        }
        Verdict::Checked(checked) => checked,
    };
    let coverage = &checked.coverage;
    let allowed = coverage.allowed();
    let headline = if allowed {
        "You can create this Role.".to_owned()
    } else {
        format!(
            "The API server will refuse this Role: it grants {} you do not hold.",
            plural(coverage.missing.len(), "rule")
        )
    };
    html! {
        <div class={classes!("verdict", if allowed { "ok" } else { "bad" })} id="verdict">
            <p><strong>{ headline }</strong><span class="muted">{ format!(" Read {}.", checked.source) }</span></p>
            if !allowed {
                <ul class="missing" aria-label="Missing rules">
                    { for coverage.missing.iter().map(|r| html! { <li><code>{ compact_string(r) }</code></li> }) }
                </ul>
            }
            if !checked.missing_writes.is_empty() {
                <p class="also">{ "You also lack the rights to write the objects themselves:" }</p>
                <ul class="missing" aria-label="Missing rights to write the objects">
                    { for checked.missing_writes.iter().map(|r| html! { <li><code>{ compact_string(r) }</code></li> }) }
                </ul>
            }
            { for checked.notes.iter().map(|n| html! { <p class="note">{ rich(n) }</p> }) }
            <pre class="code small" id="explain">{ coverage.explain() }</pre>
        </div>
    }
}
