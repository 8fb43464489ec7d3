//! Section 4: check before applying — paste `kubectl auth can-i --list` or the 403 and
//! learn whether the API server will accept the Role, and if not, exactly what is missing.

use cicd_access_core::AccessSpec;
use cicd_access_core::assessment::Verdict;
use cicd_access_core::remedy::{admin_request, lacking_in_role, rules_yaml, ways_out};
use yew::prelude::*;

use crate::field::{on_paste, rich};
use crate::outputs::CopyDownload;
use crate::state::{Action, Shown};
use crate::{Dispatch, use_store};

#[function_component(CheckPanel)]
pub fn check_panel() -> Html {
    let store = use_store();
    let oninput = on_paste(&store, Action::SetCheckText);
    let dispatch = crate::use_dispatch();
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
                { render_verdict(&store.check, &store.spec, &dispatch) }
            </div>
        </section>
    }
}

fn render_verdict(result: &Shown, spec: &AccessSpec, dispatch: &Dispatch) -> Html {
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
    let lacking = lacking_in_role(assessment);
    let ways = ways_out(assessment, spec);
    let drop = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.dispatch(Action::DropLacking);
            crate::browser::focus_soon("undo-button");
        })
    };
    html! {
        <div class={classes!("verdict", class)} id="verdict">
            <p><strong>{ assessment.headline() }</strong><span class="muted">{ format!(" Read {}.", assessment.source) }</span></p>
            if !lacking.is_empty() {
                <p class="also">{ "The rules you lack (marked in step 2):" }</p>
                <pre class="code small" id="missing-rules" tabindex="0" role="region" aria-label="The rules you lack, as a Role's rules">{ rules_yaml(lacking) }</pre>
            }
            if !assessment.missing_for_steps.is_empty() {
                <p class="also">{ "You also lack the rights to write the objects themselves:" }</p>
                <pre class="code small" id="missing-steps" tabindex="0" role="region" aria-label="The rights the steps lack, as a Role's rules">{ rules_yaml(&assessment.missing_for_steps) }</pre>
            }
            { for assessment.notes.iter().map(|n| html! { <p class="note">{ rich(n) }</p> }) }
            if !ways.is_empty() {
                <p class="also">{ "Ways out:" }</p>
                <ol class="ways" id="ways-out">{ for ways.iter().map(|w| html! { <li>{ rich(w) }</li> }) }</ol>
                <div class="buttons">
                    if !lacking.is_empty() {
                        <button type="button" id="drop-lacking" onclick={drop}>{ "Drop the rules I lack" }</button>
                    }
                    <CopyDownload text={admin_request(assessment, spec)} file="cicd-access-request.txt" what="the request for your administrator" />
                </div>
            }
        </div>
    }
}
