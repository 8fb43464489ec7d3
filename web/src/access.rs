//! Section 1: who gets access where — namespace, names, cluster, server, token kind.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::field::TextField;
use cicd_access_core::keyless::{DEFAULT_CLAIM, issuer};
use cicd_access_core::spec::DEFAULT_NAME;
use cicd_access_core::{KeylessIdentity, Provider};

use crate::form::{DURATION_FIELD, KeylessField, TokenChoice};
use crate::state::Action;
use crate::{Dispatch, problems_for, use_dispatch, use_store};

#[function_component(AccessForm)]
pub fn access_form() -> Html {
    let store = use_store();
    let dispatch = use_dispatch();
    let form = &store.form;
    let errors = |field: &str| problems_for(&store, field);
    // Made once: a field whose value and errors did not change then skips re-rendering.
    let set = use_memo(dispatch, Setters::new);
    let on_current = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            store.dispatch(Action::SetCurrentNamespace(
                e.target_unchecked_into::<HtmlInputElement>().checked(),
            ));
        })
    };
    let on_token = |token: TokenChoice| {
        let store = store.clone();
        Callback::from(move |_: Event| store.dispatch(Action::SetToken(token)))
    };
    let token = form.token;
    let name_hint = format!("default {DEFAULT_NAME}");
    html! {
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title"><span class="step">{ "1" }</span>{ "Describe the access" }</h2>
            <div class="grid two">
                <div class="namespace">
                    <TextField
                        id="namespace"
                        label="Namespace"
                        value={form.namespace.clone()}
                        oninput={set.namespace.clone()}
                        placeholder="e.g. my-app"
                        disabled={form.current_namespace}
                        hint="The one namespace the pipeline deploys to."
                        errors={errors("namespace")}
                    />
                    <label class="check">
                        <input id="current-namespace" type="checkbox" checked={form.current_namespace} onchange={on_current} />
                        { "Use the current namespace of my kubectl context" }
                    </label>
                </div>
                <TextField
                    id="server"
                    label="API server URL"
                    value={form.server.clone()}
                    oninput={set.server.clone()}
                    placeholder="empty: the current context's"
                    hint="What the pipeline connects to, e.g. https://api.example.com:6443."
                    errors={errors("server")}
                />
            </div>
            <div class="grid four">
                if token != TokenChoice::Keyless {
                    <TextField id="serviceAccount" label="ServiceAccount" value={form.service_account.clone()}
                        oninput={set.service_account.clone()} hint={name_hint.clone()} errors={errors("serviceAccount")} />
                }
                <TextField id="role" label="Role" value={form.role.clone()}
                    oninput={set.role.clone()} hint={name_hint.clone()} errors={errors("role")} />
                <TextField id="roleBinding" label="RoleBinding" value={form.role_binding.clone()}
                    oninput={set.role_binding.clone()} hint={name_hint.clone()} errors={errors("roleBinding")} />
                <TextField id="clusterName" label="Cluster name" value={form.cluster_name.clone()}
                    oninput={set.cluster_name.clone()} hint="its name in the kubeconfig" errors={errors("clusterName")} />
            </div>
            <fieldset class="token">
                <legend>{ "Token" }</legend>
                <div class="token-options">
                    <div class="token-option">
                        <label class="check">
                            <input type="radio" name="token" id="token-secret" checked={token == TokenChoice::Secret} onchange={on_token(TokenChoice::Secret)} />
                            <span><strong>{ "Long-lived Secret" }</strong>{ " — the control plane fills a token Secret; valid until the Secret is deleted" }</span>
                        </label>
                        if token == TokenChoice::Secret {
                            <TextField id="secret" label="Secret name" value={form.secret.clone()}
                                oninput={set.secret.clone()} hint={name_hint} errors={errors("secret")} class="inline" />
                        }
                    </div>
                    <div class="token-option">
                        <label class="check">
                            <input type="radio" name="token" id="token-bound" checked={token == TokenChoice::Bound} onchange={on_token(TokenChoice::Bound)} />
                            <span><strong>{ "Bound token" }</strong>{ " — kubectl create token; expires on its own, nothing long-lived is stored" }</span>
                        </label>
                        if token == TokenChoice::Bound {
                            <TextField id="token-duration" label="Valid for" value={form.duration.clone()}
                                oninput={set.duration.clone()} hint="as kubectl writes it: 24h, 90m, 1h30m (10m to 1 year)"
                                errors={errors(DURATION_FIELD)} class="inline" />
                        }
                    </div>
                    <div class="token-option">
                        <label class="check">
                            <input type="radio" name="token" id="token-keyless" checked={token == TokenChoice::Keyless} onchange={on_token(TokenChoice::Keyless)} />
                            <span><strong>{ "Keyless (OIDC)" }</strong>{ " — the CI job's own OIDC token; no ServiceAccount, nothing stored anywhere" }</span>
                        </label>
                        if token == TokenChoice::Keyless {
                            { keyless_fields(&form.keyless, &set.dispatch, &errors) }
                        }
                    </div>
                </div>
            </fieldset>
        </section>
    }
}

/// The keyless identity's provider and the fields it takes.
fn keyless_fields(
    identity: &KeylessIdentity,
    dispatch: &Dispatch,
    errors: &dyn Fn(&str) -> Vec<String>,
) -> Html {
    let provider = identity.provider;
    let choose = |p: Provider| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: Event| dispatch.dispatch(Action::SetProvider(p)))
    };
    let bare = KeylessIdentity { provider, ..KeylessIdentity::default() };
    let default_issuer = issuer(&bare);
    html! {
        <div class="keyless">
            <fieldset class="providers">
                <legend>{ "CI provider" }</legend>
                { for [(Provider::Github, "GitHub Actions"), (Provider::Gitlab, "GitLab CI"), (Provider::Custom, "Another OIDC issuer")].into_iter().map(|(p, label)| html! {
                    <label class="check">
                        <input type="radio" name="provider" id={format!("provider-{}", p.as_str())} checked={provider == p} onchange={choose(p)} />
                        { label }
                    </label>
                }) }
            </fieldset>
            { for KeylessField::of(provider).iter().map(|&field| {
                let name = field.name();
                let (label, placeholder) = match field {
                    KeylessField::Repository => ("Repository", "org/app".to_owned()),
                    KeylessField::Project => ("Project path", "group/app".to_owned()),
                    KeylessField::Ref => ("Ref", "refs/heads/main".to_owned()),
                    KeylessField::Environment => ("Environment", "e.g. production".to_owned()),
                    KeylessField::Issuer => ("Issuer URL", default_issuer.map_or_else(|| "https://issuer.example.com".to_owned(), |i| format!("empty: {i}"))),
                    KeylessField::Audience => ("Audience", "empty: the API server URL".to_owned()),
                    KeylessField::Claim => ("Claim", format!("empty: {DEFAULT_CLAIM}")),
                    KeylessField::Value => ("Its value", "e.g. deploy-prod".to_owned()),
                };
                let oninput = {
                    let dispatch = dispatch.clone();
                    Callback::from(move |v: String| dispatch.dispatch(Action::SetKeyless(field, v)))
                };
                html! {
                    <TextField id={format!("token-{name}")} {label} value={field.get(identity).clone().unwrap_or_default()}
                        {oninput} {placeholder} errors={errors(&format!("token.{name}"))} class="inline" />
                }
            }) }
        </div>
    }
}

/// The text fields' input callbacks, one per field.
struct Setters {
    dispatch: Dispatch,
    namespace: Callback<String>,
    server: Callback<String>,
    service_account: Callback<String>,
    role: Callback<String>,
    role_binding: Callback<String>,
    cluster_name: Callback<String>,
    secret: Callback<String>,
    duration: Callback<String>,
}

impl Setters {
    fn new(dispatch: &Dispatch) -> Setters {
        let set = |make: fn(String) -> Action| {
            let dispatch = dispatch.clone();
            Callback::from(move |value: String| dispatch.dispatch(make(value)))
        };
        Setters {
            dispatch: dispatch.clone(),
            namespace: set(Action::SetNamespace),
            server: set(Action::SetServer),
            service_account: set(Action::SetServiceAccount),
            role: set(Action::SetRole),
            role_binding: set(Action::SetRoleBinding),
            cluster_name: set(Action::SetClusterName),
            secret: set(Action::SetSecret),
            duration: set(Action::SetDuration),
        }
    }
}
