//! Deriving the Role from the manifests the pipeline deploys: paste them, see the rules
//! the core derives with the reason for each verb, and take them into the rule builder.

use cicd_access_core::coverage::compact_string;
use cicd_access_core::derive::{ByName, Deployer, Derivation, DeriveOptions, Source, derive};
use cicd_access_core::draft::merge_rules;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::field::rich;
use crate::state::{Action, MAX_PASTE};
use crate::use_dispatch;

#[function_component(DerivePanel)]
pub fn derive_panel() -> Html {
    // The namespace and the rules are read when a button is used, so the panel does not
    // re-render on every keystroke elsewhere.
    let dispatch = use_dispatch();
    let text = use_state(String::new);
    let deployer = {
        let dispatch = dispatch.clone();
        use_state(move || dispatch.latest().form.deployer)
    };
    let by_name = use_state(ByName::default);
    let delete = use_state(|| false);
    let result = use_state(|| None::<Result<Derivation, String>>);
    let on_text = {
        let text = text.clone();
        let result = result.clone();
        Callback::from(move |e: InputEvent| {
            text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value());
            result.set(None);
        })
    };
    let on_deployer = {
        let deployer = deployer.clone();
        let result = result.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            deployer.set(value.parse().unwrap_or(Deployer::Apply));
            result.set(None);
        })
    };
    let on_by_name = {
        let by_name = by_name.clone();
        let result = result.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            by_name.set(value.parse().unwrap_or_default());
            result.set(None);
        })
    };
    let on_delete = {
        let delete = delete.clone();
        let result = result.clone();
        Callback::from(move |e: Event| {
            delete.set(e.target_unchecked_into::<HtmlInputElement>().checked());
            result.set(None);
        })
    };
    let run = {
        let text = text.clone();
        let deployer = deployer.clone();
        let delete = delete.clone();
        let by_name = by_name.clone();
        let result = result.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            if text.len() > MAX_PASTE {
                result.set(Some(Err(
                    "the pasted text is over 1 MB; paste the rendered manifests only".into(),
                )));
                return;
            }
            let options = DeriveOptions {
                namespace: dispatch.latest().spec.namespace.clone(),
                delete: *delete,
                by_name: *by_name,
                ..DeriveOptions::new(*deployer)
            };
            let derived = derive(&[Source::new("pasted", (*text).clone())], &options)
                .map_err(|e| e.to_string());
            result.set(Some(derived));
        })
    };
    let take = |merge: bool| {
        let dispatch = dispatch.clone();
        let result = result.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(Ok(derivation)) = &*result {
                let rules = if merge {
                    merge_rules(&dispatch.latest().form.rules, &derivation.rules())
                } else {
                    derivation.rules()
                };
                dispatch.dispatch(Action::SetRules(rules));
            }
        })
    };
    html! {
        <details class="derive" id="derive">
            <summary>{ "Derive the rules from your manifests" }</summary>
            <p class="hint">{ "Paste what the pipeline deploys (the files it applies, or the output of helm template / kustomize build). The rules are derived here, in the page." }</p>
            <div class="field">
                <label for="derive-text">{ "Manifests" }</label>
                <textarea id="derive-text" rows="8" spellcheck="false" value={(*text).clone()} oninput={on_text}
                    placeholder={"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-app\n..."} />
            </div>
            <div class="derive-options">
                <div class="field">
                    <label for="derive-deployer">{ "Deployed with" }</label>
                    <select id="derive-deployer" onchange={on_deployer}>
                        { for [Deployer::Apply, Deployer::ServerSide, Deployer::Helm].into_iter().map(|d| html! {
                            <option value={d.to_string()} selected={*deployer == d}>{ d.command() }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="derive-by-name">{ "Limit rules to the objects' names" }</label>
                    <select id="derive-by-name" onchange={on_by_name} aria-describedby="derive-by-name-hint">
                        { for [(ByName::Secrets, "Secrets"), (ByName::All, "every kind"), (ByName::None, "none")].into_iter().map(|(b, label)| html! {
                            <option value={b.to_string()} selected={*by_name == b}>{ label }</option>
                        }) }
                    </select>
                    <p class="hint" id="derive-by-name-hint">{ "A get on every Secret reads every credential of the namespace, so Secrets are named by default; naming every kind is tighter, but a new object then needs a new rule." }</p>
                </div>
                <label class="check"><input type="checkbox" id="derive-delete" checked={*delete} onchange={on_delete} />
                    { "The pipeline also removes them (uninstall, prune)" }</label>
                <button type="button" id="derive-run" onclick={run}>{ "Derive rules" }</button>
            </div>
            { match &*result {
                None => html! {},
                Some(Err(message)) => html! { <div class="verdict warn" role="alert" id="derive-result"><strong>{ "Could not derive. " }</strong>{ message }</div> },
                Some(Ok(derivation)) => html! {
                    <div class="verdict ok" id="derive-result">
                        <p><strong>{ format!("{} rule{} for {} object{}.", derivation.rules.len(), if derivation.rules.len() == 1 { "" } else { "s" },
                            derivation.objects.len(), if derivation.objects.len() == 1 { "" } else { "s" }) }</strong></p>
                        <ul class="derived">
                            { for derivation.rules.iter().map(|r| html! {
                                <li><code>{ compact_string(&r.rule) }</code>
                                    <ul>{ for r.reasons.iter().map(|reason| html! {
                                        <li><code class="inline">{ reason.verbs.join(" ") }</code>{ " " }{ rich(&reason.because) }</li>
                                    }) }</ul>
                                </li>
                            }) }
                        </ul>
                        { for derivation.refused.iter().map(|r| html! { <p class="note bad-note">{ format!("{} {}: ", r.object.kind, r.object.name) }{ rich(&r.why) }</p> }) }
                        { for derivation.unknown.iter().map(|u| html! {
                            <p class="note">{ format!("{} ({}) is not a built-in kind: add it as a custom resource below with its plural.", u.kind, u.api_version) }</p>
                        }) }
                        { for derivation.skipped.iter().chain(derivation.notes.iter()).map(|n| html! { <p class="note">{ rich(n) }</p> }) }
                        <div class="buttons">
                            <button type="button" id="derive-replace" onclick={take(false)}>{ "Use these rules" }</button>
                            <button type="button" class="ghost" id="derive-merge" onclick={take(true)}>{ "Add them to the rules" }</button>
                        </div>
                    </div>
                },
            } }
        </details>
    }
}
