//! Section 6: audit the access that exists — paste what `kubectl get` lists in the
//! namespace (and, optionally, the ClusterRoleBindings) and read the report `kubectl cicd
//! status` gives: drift, wider bindings, token age and the legacy-token labels.
//!
//! The pasted listing holds the Secrets' tokens: the core's views never read a Secret's
//! data, and the pasted text is cleared once read.

use cicd_access_core::status::{CLUSTER_ROLE_BINDINGS_COMMAND, listing_command};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::field::{on_paste, rich};
use crate::outputs::CopyDownload;
use crate::state::Action;
use crate::use_store;

#[function_component(AuditPanel)]
pub fn audit_panel() -> Html {
    let store = use_store();
    let on_against = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            store.dispatch(Action::SetAuditAgainstForm(
                e.target_unchecked_into::<HtmlInputElement>().checked(),
            ));
        })
    };
    let read = {
        let store = store.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // Whole seconds: the core reads no clock.
            #[allow(clippy::cast_possible_truncation)]
            let now = (js_sys::Date::now() / 1000.0) as i64;
            store.dispatch(Action::ReadAudit { now });
        })
    };
    let clear = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::ClearAudit))
    };
    let audit = &store.audit;
    html! {
        <section class="card" aria-labelledby="audit-title">
            <h2 id="audit-title"><span class="step">{ "6" }</span>{ "Audit the access that exists" }</h2>
            <p class="lead">{ "Months later: which pipelines can deploy here, and is anything wider than meant? The report " }
                <code class="inline">{ "kubectl cicd status" }</code>{ " gives, from what you paste. Token values in the paste are never read, shown or kept; the pasted text is cleared once read." }</p>
            <form class="audit" onsubmit={read}>
                <div class="field">
                    <label for="audit-listing">{ "The namespace's objects" }</label>
                    <textarea id="audit-listing" rows="5" spellcheck="false" autocomplete="off" class="secret"
                        value={audit.listing.clone()} oninput={on_paste(&store, Action::SetAuditListing)} aria-describedby="audit-listing-hint" />
                    <p class="hint" id="audit-listing-hint">{ "Paste the output of " }
                        <code class="inline">{ listing_command(store.spec.namespace.as_deref()) }</code></p>
                </div>
                <div class="field">
                    <label for="audit-bindings">{ "ClusterRoleBindings (optional)" }</label>
                    <textarea id="audit-bindings" rows="3" spellcheck="false" autocomplete="off"
                        value={audit.bindings.clone()} oninput={on_paste(&store, Action::SetAuditBindings)} aria-describedby="audit-bindings-hint" />
                    <p class="hint" id="audit-bindings-hint">{ "Paste the output of " }
                        <code class="inline">{ CLUSTER_ROLE_BINDINGS_COMMAND }</code>{ ": a binding to view or cluster-admin there is the classic leak." }</p>
                </div>
                <label class="check">
                    <input type="checkbox" id="audit-against-form" checked={audit.against_form} onchange={on_against} />
                    { " Compare each Role with the rules in step 2, not with the rules it was applied with" }
                </label>
                <div class="buttons">
                    <button type="submit" id="audit-read">{ "Read the report" }</button>
                    <button type="button" class="ghost" id="audit-clear" onclick={clear}>{ "Clear" }</button>
                </div>
            </form>
            <div id="audit-result" aria-live="polite">
                { match (&audit.read, &audit.report) {
                    (Some(Err(message)), _) => html! {
                        <div class="verdict warn" role="alert" id="audit-error"><strong>{ "Could not read the paste. " }</strong>{ message }</div>
                    },
                    (_, Some(report)) => {
                        let class = if report.failed() { "bad" } else if report.warned() { "warn" } else { "ok" };
                        let text = report.text();
                        html! {
                            <div class={classes!("verdict", class)} id="audit-verdict">
                                <p><strong>{ rich(&report.headline()) }</strong></p>
                                <pre class="code small" id="audit-report" tabindex="0" role="region" aria-label="The status report">{ text.clone() }</pre>
                                <div class="buttons">
                                    <CopyDownload {text} file="cicd-access-status.txt" what="the report" />
                                </div>
                            </div>
                        }
                    }
                    _ => html! {},
                } }
            </div>
        </section>
    }
}
