//! Section 5: the kubeconfig, assembled offline from the pasted token Secret.
//!
//! The token stays in this component's memory: it is never rendered, put in the URL,
//! stored, or logged; it leaves the page only as the file the user downloads or copies.

use cicd_access_core::kubeconfig::DEFAULT_FILE;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::field::TextField;
use crate::outputs::CopyDownload;
use crate::state::Action;
use crate::{use_dispatch, use_store};

#[function_component(KubeconfigPanel)]
pub fn kubeconfig_panel() -> Html {
    let store = use_store();
    let dispatch = use_dispatch();
    let on_secret = {
        let store = store.clone();
        Callback::from(move |e: InputEvent| {
            store.dispatch(Action::SetSecretText(
                e.target_unchecked_into::<HtmlTextAreaElement>().value(),
            ));
        })
    };
    // Made once, so the server field skips re-rendering while its value is unchanged.
    let on_server = use_memo(dispatch, |dispatch| {
        let dispatch = dispatch.clone();
        Callback::from(move |value: String| dispatch.dispatch(Action::SetKubeconfigServer(value)))
    });
    let assemble = {
        let store = store.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            store.dispatch(Action::AssembleKubeconfig);
        })
    };
    let clear = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::ClearSecret))
    };
    let secret_name =
        if store.form.bound { "SECRET".to_owned() } else { store.form.secret.clone() };
    let namespace = store.spec.namespace.clone().unwrap_or_else(|| "NAMESPACE".to_owned());
    let server_placeholder = if store.form.server.trim().is_empty() {
        "https://api.example.com:6443".to_owned()
    } else {
        format!("{} (from step 1)", store.form.server.trim())
    };
    html! {
        <section class="card" aria-labelledby="kubeconfig-title">
            <h2 id="kubeconfig-title"><span class="step">{ "5" }</span>{ "Assemble the kubeconfig" }</h2>
            <p class="privacy" id="privacy">
                <strong>{ "Runs in your browser. Nothing is sent." }</strong>
                { " The page has no server to talk to (its Content-Security-Policy forbids every connection); the token is never put in the address bar, stored, or logged, and is forgotten when you leave." }
            </p>
            <form class="kubeconfig" onsubmit={assemble}>
                <div class="field">
                    <label for="secret-text">{ "The token Secret" }</label>
                    <textarea id="secret-text" rows="6" spellcheck="false" autocomplete="off" value={store.secret_text.clone()}
                        oninput={on_secret} aria-describedby="secret-text-hint" class="secret" />
                    <p class="hint" id="secret-text-hint">{ "Paste the output of " }
                        <code class="inline">{ format!("kubectl get secret {secret_name} --namespace {namespace} --output json") }</code>{ " (or yaml)." }</p>
                </div>
                <TextField id="kubeconfig-server" label="API server URL" value={store.kubeconfig_server.clone()} oninput={(*on_server).clone()}
                    placeholder={server_placeholder} hint="The address the pipeline uses; empty takes the one from step 1." />
                <div class="buttons">
                    <button type="submit" id="assemble">{ "Assemble kubeconfig" }</button>
                    <button type="button" class="ghost" id="clear-secret" onclick={clear}>{ "Forget the pasted Secret" }</button>
                </div>
            </form>
            { match &store.kubeconfig {
                None => html! {},
                Some(Err(message)) => html! { <div class="verdict warn" role="alert" id="kubeconfig-error"><strong>{ "No kubeconfig. " }</strong>{ message }</div> },
                Some(Ok(config)) => html! {
                    <div class="verdict ok" id="kubeconfig-ready">
                        <p><strong>{ "kubeconfig ready." }</strong>{ format!(" Namespace {}, server {}. It holds the token: store it as a protected CI/CD secret and delete the file afterwards.",
                            if config.namespace.is_empty() { "(from the Secret)" } else { &config.namespace }, config.server) }</p>
                        <CopyDownload text={config.text.clone()} file={DEFAULT_FILE} what="the kubeconfig" mime="application/yaml" />
                    </div>
                },
            } }
        </section>
    }
}
