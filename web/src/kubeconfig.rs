//! Section 5: the kubeconfig, assembled offline from the pasted token Secret.
//!
//! The token stays in this component's memory: it is never rendered, put in the URL,
//! stored, or logged; it leaves the page only as the file the user downloads or copies.

use cicd_access_core::kubeconfig::{DEFAULT_FILE, Issued};
use cicd_access_core::script::kubeconfig_inputs;
use cicd_access_core::snippet::SECRET_NAME;
use yew::prelude::*;

use crate::field::{TextField, on_paste};
use crate::form::TokenChoice;
use crate::outputs::CopyDownload;
use crate::state::Action;
use crate::{use_dispatch, use_store};

#[function_component(KubeconfigPanel)]
pub fn kubeconfig_panel() -> Html {
    let store = use_store();
    let dispatch = use_dispatch();
    let on_secret = on_paste(&store, Action::SetSecretText);
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
    let on_token = on_paste(&store, Action::SetTokenText);
    let on_ca = on_paste(&store, Action::SetCaText);
    let token = store.form.token;
    let inputs = kubeconfig_inputs(&store.spec);
    let command = |at: usize| inputs.get(at).cloned().unwrap_or_default();
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
                if token == TokenChoice::Keyless {
                    <p class="lead" id="keyless-path">{ "A keyless kubeconfig holds no token: its user runs " }
                        <code class="inline">{ "kubectl cicd token" }</code>{ " in the job for the job's own. It needs only the server and your cluster's CA." }</p>
                    <div class="field">
                        <label for="ca-text">{ "The cluster's CA" }</label>
                        <textarea id="ca-text" rows="2" spellcheck="false" autocomplete="off" value={store.ca_text.clone()}
                            oninput={on_ca.clone()} aria-describedby="ca-text-hint" />
                        <p class="hint" id="ca-text-hint">{ "Paste the output of " }<code class="inline">{ command(0) }</code>{ " (base64), or the PEM." }</p>
                    </div>
                } else if token == TokenChoice::Bound {
                    <p class="lead" id="bound-path">{ "A bound token is not kept in the cluster: make one, paste it here with your cluster's CA, and the page writes the kubeconfig. Or let the Script tab, or " }
                        <code class="inline">{ "kubectl cicd apply --token-duration DURATION" }</code>{ ", do all of it for you." }</p>
                    <div class="field">
                        <label for="token-text">{ "The bound token" }</label>
                        <textarea id="token-text" rows="3" spellcheck="false" autocomplete="off" value={store.token_text.clone()}
                            oninput={on_token} aria-describedby="token-text-hint" class="secret" />
                        <p class="hint" id="token-text-hint">{ "Paste the output of " }<code class="inline">{ command(0) }</code></p>
                    </div>
                    <div class="field">
                        <label for="ca-text">{ "The cluster's CA" }</label>
                        <textarea id="ca-text" rows="2" spellcheck="false" autocomplete="off" value={store.ca_text.clone()}
                            oninput={on_ca} aria-describedby="ca-text-hint" />
                        <p class="hint" id="ca-text-hint">{ "Paste the output of " }<code class="inline">{ command(1) }</code>{ " (base64), or the PEM." }</p>
                    </div>
                } else {
                    <div class="field">
                        <label for="secret-text">{ "The token Secret" }</label>
                        <textarea id="secret-text" rows="6" spellcheck="false" autocomplete="off" value={store.secret_text.clone()}
                            oninput={on_secret} aria-describedby="secret-text-hint" class="secret" />
                        <p class="hint" id="secret-text-hint">{ "Paste the output of " }
                            <code class="inline">{ command(0) }</code>{ " (or yaml)." }</p>
                    </div>
                }
                <TextField id="kubeconfig-server" label="API server URL" value={store.kubeconfig_server.clone()} oninput={(*on_server).clone()}
                    placeholder={server_placeholder} hint="The address the pipeline uses; empty takes the one from step 1." />
                <div class="buttons">
                    <button type="submit" id="assemble">{ "Assemble kubeconfig" }</button>
                    if token != TokenChoice::Keyless {
                        <button type="button" class="ghost" id="clear-secret" onclick={clear}>{ if token == TokenChoice::Bound { "Forget the pasted token" } else { "Forget the pasted Secret" } }</button>
                    }
                </div>
            </form>
            { match &store.kubeconfig {
                None => html! {},
                Some(Err(message)) => html! { <div class="verdict warn" role="alert" id="kubeconfig-error"><strong>{ "No kubeconfig. " }</strong>{ message }</div> },
                Some(Ok(config)) if token == TokenChoice::Keyless => html! {
                    <div class="verdict ok" id="kubeconfig-ready">
                        <p><strong>{ "kubeconfig ready." }</strong>{ " No secret in it: commit it, as the CI snippets expect. What it holds:" }</p>
                        { parts(config) }
                        <div class="buttons">
                            <CopyDownload text={config.text.clone()} file={DEFAULT_FILE} what="the kubeconfig" mime="application/yaml" />
                        </div>
                    </div>
                },
                Some(Ok(config)) => html! {
                    <div class="verdict ok" id="kubeconfig-ready">
                        <p><strong>{ "kubeconfig ready." }</strong>{ " It holds the token: store it as a protected CI/CD secret and delete the file afterwards. What it holds besides the token:" }</p>
                        { parts(config) }
                        <div class="buttons">
                            <CopyDownload text={config.text.clone()} file={DEFAULT_FILE} what="the kubeconfig" mime="application/yaml" />
                            <CopyDownload text={config.base64()} file={format!("{DEFAULT_FILE}.b64")} what="the kubeconfig in base64 (for the CI secret)" />
                        </div>
                        <p class="hint">{ "The base64 form, on one line, is what the GitHub Actions and GitLab CI snippets read from " }<code class="inline">{ SECRET_NAME }</code>{ "." }</p>
                    </div>
                },
            } }
        </section>
    }
}

/// What an issued kubeconfig holds, as the core shows it.
fn parts(config: &Issued) -> Html {
    html! {
        <dl class="parts" id="kubeconfig-parts">
            { for config.shown.iter().map(|(label, value)| html! {
                <><dt>{ *label }</dt><dd>{ value }</dd></>
            }) }
        </dl>
    }
}
