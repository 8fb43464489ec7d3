//! Section 4: check before applying — paste `kubectl auth can-i --list` or the 403 and
//! learn whether the API server will accept the Role, and if not, exactly what is missing.

use cicd_access_core::AccessSpec;
use cicd_access_core::assessment::{Assessment, Evidence, Verdict, Writer, assess};
use cicd_access_core::coverage::compact_string;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::field::rich;
use crate::state::{Action, MAX_PASTE};
use crate::use_store;

/// What the pasted text says about the access in the form: the core's assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Nothing pasted yet.
    Empty,
    Assessed(Box<Assessment>),
    Unreadable(String),
}

/// Reads a pasted 403, `can-i --list` table or SelfSubjectRulesReview and has the core
/// assess the access in `spec` against it, as the page's script writes it.
pub fn shown(text: &str, spec: &AccessSpec) -> Shown {
    if text.len() > MAX_PASTE {
        return Shown::Unreadable(
            "the pasted text is over 1 MB; paste only the command's output".into(),
        );
    }
    match Evidence::read(text) {
        Ok(None) => Shown::Empty,
        Ok(Some(evidence)) => {
            Shown::Assessed(Box::new(assess(&evidence, spec, Writer::KubectlApply)))
        }
        Err(e) => Shown::Unreadable(e.to_string()),
    }
}

#[function_component(CheckPanel)]
pub fn check_panel() -> Html {
    let store = use_store();
    let oninput = {
        let store = store.clone();
        Callback::from(move |e: InputEvent| {
            store.dispatch(Action::SetCheckText(
                e.target_unchecked_into::<HtmlTextAreaElement>().value(),
            ));
        })
    };
    let result = shown(&store.check_text, &store.spec);
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

fn render_verdict(result: &Shown) -> Html {
    let assessment = match result {
        Shown::Empty => return html! {},
        Shown::Unreadable(message) => {
            return html! {
                <div class="verdict warn" role="alert" id="verdict"><strong>{ "Could not read the pasted text. " }</strong>{ message }</div>
            };
        }
        Shown::Assessed(assessment) => assessment,
    };
    let class = match assessment.verdict() {
        Verdict::Accepted => "ok",
        Verdict::Refused => "bad",
        Verdict::Undecided => "warn",
    };
    let role = &assessment.role;
    html! {
        <div class={classes!("verdict", class)} id="verdict">
            <p><strong>{ assessment.headline() }</strong><span class="muted">{ format!(" Read {}.", assessment.source) }</span></p>
            if !role.allowed() {
                <ul class="missing" aria-label="Missing rules">
                    { for role.missing.iter().map(|r| html! { <li><code>{ compact_string(r) }</code></li> }) }
                </ul>
            }
            if !assessment.missing_for_steps.is_empty() {
                <p class="also">{ "You also lack the rights to write the objects themselves:" }</p>
                <ul class="missing" aria-label="Missing rights to write the objects">
                    { for assessment.missing_for_steps.iter().map(|r| html! { <li><code>{ compact_string(r) }</code></li> }) }
                </ul>
            }
            { for assessment.notes.iter().map(|n| html! { <p class="note">{ rich(n) }</p> }) }
            <pre class="code small" id="explain">{ assessment.explain() }</pre>
        </div>
    }
}
