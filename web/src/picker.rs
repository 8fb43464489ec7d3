//! Adding resources: the built-in catalog (searchable, grouped by API group) and custom
//! resources (CRDs: group + plural).

use cicd_access_core::Rule;
use cicd_access_core::catalog::{self, CatalogEntry, READ_VERBS, deploy_shortcut, group_label};
use cicd_access_core::derive::Deployer;
use cicd_access_core::validate::validate_rules;
use yew::prelude::*;

use crate::field::TextField;
use crate::state::Action;
use crate::use_dispatch;

fn subset(verbs: &[&str], entry: &CatalogEntry) -> Vec<String> {
    verbs.iter().filter(|v| entry.supports(v)).map(|v| (*v).to_owned()).collect()
}

#[derive(Properties, PartialEq, Debug)]
pub struct PickerProps {
    /// Whose verbs "deploy" adds.
    pub deployer: Deployer,
}

#[function_component(CatalogPicker)]
pub fn catalog_picker(props: &PickerProps) -> Html {
    let store = use_dispatch();
    let query = use_state(String::new);
    // The list is ~60 rows; it is built when asked for, which keeps the first render light.
    let browsing = use_state(|| false);
    let browse = {
        let browsing = browsing.clone();
        Callback::from(move |_: MouseEvent| {
            browsing.set(true);
            // The button goes away: focus moves to the list it opened.
            crate::browser::focus_soon("catalog-list");
        })
    };
    let oninput = {
        let query = query.clone();
        Callback::from(move |value: String| query.set(value))
    };
    let found = catalog::search(&query);
    let groups: Vec<&str> =
        catalog::groups().into_iter().filter(|g| found.iter().any(|e| e.group == *g)).collect();
    let (deploy_verbs, deploy_why) = deploy_shortcut(props.deployer);
    let add = |entry: &CatalogEntry, verbs: Vec<String>| {
        let store = store.clone();
        let group = entry.group.to_owned();
        let resource = entry.resource();
        Callback::from(move |_: MouseEvent| {
            store.dispatch(Action::AddResource {
                group: group.clone(),
                resource: resource.clone(),
                verbs: verbs.clone(),
            });
        })
    };
    html! {
        <div class="picker" role="group" aria-labelledby="catalog-title">
            <h3 class="sub" id="catalog-title">{ "Add built-in resources" }</h3>
            <TextField id="catalog-search" label="Search the catalog" value={(*query).clone()} {oninput}
                placeholder="deployments, Ingress, batch…" />
            if !*browsing && query.trim().is_empty() {
                <div class="catalog closed">
                    <button type="button" class="ghost small" id="catalog-browse" onclick={browse}>
                        { format!("Browse all {} built-in resources", catalog::CATALOG.len()) }</button>
                    <span class="hint">{ "or type to search" }</span>
                </div>
            } else {
            <div class="catalog" id="catalog-list" tabindex="0" role="region" aria-label="Built-in resources">
                if found.is_empty() {
                    <p class="empty">{ "No built-in namespaced resource matches. A CRD? Add it as a custom resource." }</p>
                }
                { for groups.iter().map(|group| html! {
                    <section class="catalog-group" aria-label={format!("API group {}", group_label(group))}>
                        <h4>{ group_label(group) }</h4>
                        <ul>
                            { for found.iter().filter(|e| e.group == *group).map(|entry| {
                                let resource = entry.resource();
                                let read = subset(READ_VERBS, entry);
                                let deploy = subset(deploy_verbs, entry);
                                let label = |what: &str| format!("Add {resource} ({}) {what}", group_label(group));
                                html! {
                                    <li class="entry">
                                        <span class="entry-name"><code>{ &resource }</code>
                                            if entry.subresource.is_empty() { <span class="kind">{ entry.kind }</span> }
                                        </span>
                                        <span class="entry-actions">
                                            if deploy.iter().any(|v| !read.contains(v)) {
                                                <button type="button" class="small" onclick={add(entry, deploy.clone())}
                                                    aria-label={label(&format!("with deploy verbs ({})", deploy.join(", ")))} title={deploy_why.clone()}>{ "deploy" }</button>
                                            }
                                            if !read.is_empty() {
                                                <button type="button" class="small ghost" onclick={add(entry, read.clone())}
                                                    aria-label={label(&format!("read-only ({})", read.join(", ")))} title={format!("{}: read, never change", read.join(", "))}>{ "read" }</button>
                                            }
                                            if read.is_empty() && deploy.is_empty() {
                                                <button type="button" class="small ghost" onclick={add(entry, entry.verbs.iter().map(|v| (*v).to_owned()).collect())}
                                                    aria-label={label("")} title={entry.verbs.join(", ")}>{ "add" }</button>
                                            }
                                        </span>
                                    </li>
                                }
                            }) }
                        </ul>
                    </section>
                }) }
            </div>
            }
        </div>
    }
}

#[function_component(CustomResource)]
pub fn custom_resource(props: &PickerProps) -> Html {
    let store = use_dispatch();
    let (deploy_verbs, deploy_why) = deploy_shortcut(props.deployer);
    let group = use_state(String::new);
    let plural = use_state(String::new);
    let attempted = use_state(|| false);
    let candidate = Rule::new(&[group.trim()], &[plural.trim()], deploy_verbs);
    let errors = validate_rules(std::slice::from_ref(&candidate));
    let of = |field: &str| -> Vec<String> {
        if !*attempted {
            return Vec::new();
        }
        errors
            .iter()
            .filter(|e| e.field().ends_with(field))
            .map(|e| e.reason().to_owned())
            .collect()
    };
    let mut group_errors = of("apiGroups");
    let mut plural_errors = of("resources");
    if *attempted
        && group.trim().is_empty()
        && !plural.trim().is_empty()
        && catalog::find("", plural.trim()).is_none()
    {
        group_errors.push("a custom resource has an API group, e.g. monitoring.coreos.com".into());
    }
    if *attempted
        && plural_errors.is_empty()
        && catalog::is_builtin_group(group.trim())
        && catalog::find(group.trim(), plural.trim()).is_none()
        && let Some(suggestion) =
            catalog::suggest(plural.trim()).filter(|s| s.group == group.trim())
    {
        plural_errors.push(format!(
            "{} is not in the {} group; did you mean {}?",
            plural.trim(),
            group_label(group.trim()),
            suggestion.resource()
        ));
    }
    let ok = errors.is_empty() && group_errors.is_empty() && plural_errors.is_empty();
    let add = |verbs: &'static [&'static str]| {
        let store = store.clone();
        let group = group.clone();
        let plural = plural.clone();
        let attempted = attempted.clone();
        Callback::from(move |_: MouseEvent| {
            attempted.set(true);
            if ok {
                store.dispatch(Action::AddResource {
                    group: group.trim().to_owned(),
                    resource: plural.trim().to_owned(),
                    verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
                });
                group.set(String::new());
                plural.set(String::new());
                attempted.set(false);
            }
        })
    };
    let set = |handle: &UseStateHandle<String>| {
        let handle = handle.clone();
        let attempted = attempted.clone();
        Callback::from(move |value: String| {
            handle.set(value);
            attempted.set(false);
        })
    };
    html! {
        <div class="custom" role="group" aria-labelledby="custom-title">
            <h3 class="sub" id="custom-title">{ "Add a custom resource (CRD)" }</h3>
            <TextField id="custom-group" label="API group" value={(*group).clone()} oninput={set(&group)}
                placeholder="e.g. monitoring.coreos.com" errors={group_errors} />
            <TextField id="custom-plural" label="Resource (plural)" value={(*plural).clone()} oninput={set(&plural)}
                placeholder="e.g. servicemonitors" hint="As in kubectl api-resources, NAME column." errors={plural_errors} />
            <div class="buttons">
                <button type="button" id="custom-add-deploy" onclick={add(deploy_verbs)} title={deploy_why}>{ "Add with deploy verbs" }</button>
                <button type="button" class="ghost" id="custom-add-read" onclick={add(READ_VERBS)}>{ "Add read-only" }</button>
            </div>
        </div>
    }
}
