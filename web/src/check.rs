//! Section 4: check before applying — paste `kubectl auth can-i --list` or the 403 and
//! learn whether the API server will accept the Role, and if not, exactly what is missing.

use cicd_access_core::Rule;
use cicd_access_core::coverage::{Coverage, Subject, check_role, compact_string};
use cicd_access_core::forbidden::parse_forbidden;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::state::{Action, MAX_PASTE};
use crate::{Store, canilist};

/// What the pasted text says about the Role in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing pasted yet.
    Empty,
    /// Parsed; `source` says what was read.
    Checked {
        source: String,
        coverage: Coverage,
    },
    Unreadable(String),
}

/// Reads a pasted 403 or `can-i --list` and checks `desired` against it.
pub fn verdict(text: &str, desired: &[Rule]) -> Verdict {
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
        || text.contains("Forbidden")
        || text.contains("forbidden");
    if looks_forbidden {
        return match parse_forbidden(text) {
            Ok(forbidden) => Verdict::Checked {
                source: format!(
                    "a 403 listing {} missing rule{}",
                    forbidden.missing.len(),
                    if forbidden.missing.len() == 1 { "" } else { "s" }
                ),
                coverage: Coverage {
                    subject: Subject::Role,
                    missing: forbidden.missing,
                    bypass: false,
                },
            },
            Err(e) => Verdict::Unreadable(e.to_string()),
        };
    }
    match canilist::parse(text) {
        Ok(held) => Verdict::Checked {
            source: format!(
                "kubectl auth can-i --list: {} rule{}",
                held.len(),
                if held.len() == 1 { "" } else { "s" }
            ),
            coverage: check_role(&held, desired, None),
        },
        Err(e) => Verdict::Unreadable(e),
    }
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
    let result = verdict(&store.check_text, &store.form.rules);
    html! {
        <section class="card" aria-labelledby="check-title">
            <h2 id="check-title"><span class="step">{ "4" }</span>{ "Check before applying" }</h2>
            <p class="lead">{ "You can only grant what you hold. Paste the output of " }
                <code class="inline">{ format!("kubectl auth can-i --list --namespace {}", store.spec.namespace.as_deref().unwrap_or("NAMESPACE")) }</code>
                { " — or the 403 you got — to see whether the API server will accept this Role." }</p>
            <div class="field">
                <label for="check-text">{ "can-i --list output or 403 message" }</label>
                <textarea id="check-text" rows="7" spellcheck="false" value={store.check_text.clone()} {oninput}
                    placeholder="Resources   Non-Resource URLs   Resource Names   Verbs&#10;deployments.apps   []   []   [get list watch create update patch delete]"
                    aria-describedby="check-result" />
            </div>
            <div id="check-result" aria-live="polite">
                { render_verdict(&result) }
            </div>
        </section>
    }
}

fn render_verdict(result: &Verdict) -> Html {
    match result {
        Verdict::Empty => html! {},
        Verdict::Unreadable(message) => html! {
            <div class="verdict warn" role="alert"><strong>{ "Could not read the pasted text. " }</strong>{ message }</div>
        },
        Verdict::Checked { source, coverage } if coverage.allowed() => html! {
            <div class="verdict ok" id="verdict">
                <p><strong>{ "You can create this Role." }</strong><span class="muted">{ format!(" Read {source}.") }</span></p>
                <pre class="code small">{ coverage.explain() }</pre>
            </div>
        },
        Verdict::Checked { source, coverage } => html! {
            <div class="verdict bad" id="verdict">
                <p><strong>{ format!("The API server will refuse this Role: {} rule{} you do not hold.",
                    coverage.missing.len(), if coverage.missing.len() == 1 { "" } else { "s" }) }</strong>
                    <span class="muted">{ format!(" Read {source}.") }</span></p>
                <ul class="missing">
                    { for coverage.missing.iter().map(|r| html! { <li><code>{ compact_string(r) }</code></li> }) }
                </ul>
                <pre class="code small" id="explain">{ coverage.explain() }</pre>
            </div>
        },
    }
}
