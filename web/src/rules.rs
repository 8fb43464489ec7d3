//! Section 2: the Role — presets, the rules with their verbs and names, risk findings.

use std::rc::Rc;

use cicd_access_core::Rule;
use cicd_access_core::catalog::{READ_VERBS, deploy_shortcut};
use cicd_access_core::derive::Deployer;
use cicd_access_core::lint::{Finding, LintOptions, lint_role};
use cicd_access_core::preset::PRESETS;
use cicd_access_core::remedy::lacking_rules;
use cicd_access_core::summary::summarize;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::field::{Errors, rich};
use crate::picker::{CatalogPicker, CustomResource};
use crate::undo::UndoBar;
use cicd_access_core::catalog::{group_label, offered_verbs};
use cicd_access_core::draft::typed_names;
use cicd_access_core::preset::matching as matching_preset;

use crate::state::Action;
use crate::{problems_for, use_dispatch, use_store};

#[function_component(RoleEditor)]
pub fn role_editor() -> Html {
    let store = use_store();
    let rules = &store.form.rules;
    // Comparing with every preset builds each preset's rules: only when the rules change.
    let current = *use_memo(Rc::clone(rules), |rules| matching_preset(rules));
    let on_preset = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            match value.as_str() {
                "" => {}
                "empty" => store.dispatch(Action::ApplyPreset(None)),
                name => store.dispatch(Action::ApplyPreset(Some(name.to_owned()))),
            }
        })
    };
    let selected = current.map_or(if rules.is_empty() { "empty" } else { "" }, |p| p.name);
    let deployer = store.form.deployer;
    let on_deployer = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            store.dispatch(Action::SetDeployer(value.parse().unwrap_or(Deployer::Apply)));
        })
    };
    let lacking = lacking_rules(rules, store.check.missing());
    // A select the user has changed no longer follows its options' `selected` attributes:
    // its value is set, so that Undo, a preset's deployer and an import show in it.
    let preset_select = use_node_ref();
    let deployer_select = use_node_ref();
    {
        let preset_select = preset_select.clone();
        let deployer_select = deployer_select.clone();
        use_effect_with((selected.to_owned(), deployer), move |(preset, deployer)| {
            if let Some(select) = preset_select.cast::<HtmlSelectElement>() {
                select.set_value(preset);
            }
            if let Some(select) = deployer_select.cast::<HtmlSelectElement>() {
                select.set_value(&deployer.to_string());
            }
        });
    }
    let summary = use_memo(Rc::clone(rules), |rules| summarize(rules));
    let top_errors: Vec<String> = store
        .outputs
        .as_ref()
        .err()
        .map(|p| {
            p.spec.iter().filter(|e| e.field() == "rules").map(|e| e.reason().to_owned()).collect()
        })
        .unwrap_or_default();
    let (errors, name_errors): (Vec<Vec<String>>, Vec<Vec<String>>) = if store.outputs.is_ok() {
        (Vec::new(), Vec::new())
    } else {
        (0..rules.len())
            .map(|index| {
                let names = problems_for(&store, &format!("rules[{index}].resourceNames"));
                let mut all = problems_for(&store, &format!("rules[{index}]"));
                all.retain(|e| !names.contains(e));
                (all, names)
            })
            .unzip()
    };
    html! {
        <section class="card" aria-labelledby="role-title">
            <h2 id="role-title"><span class="step">{ "2" }</span>{ "Build the Role" }</h2>
            <div class="field preset">
                <label for="preset">{ "Start from a preset" }</label>
                <select id="preset" ref={preset_select} onchange={on_preset} aria-describedby="preset-hint">
                    <option value="" selected={selected.is_empty()}>{ "— custom rules —" }</option>
                    { for PRESETS.iter().map(|p| html! {
                        <option value={p.name} selected={selected == p.name}>{ p.title }</option>
                    }) }
                    <option value="empty" selected={selected == "empty"}>{ "Empty Role" }</option>
                </select>
                <p class="hint" id="preset-hint">
                    { current.map_or("Choosing a preset replaces the rules below.", |p| p.description) }
                </p>
            </div>
            <crate::derive::DerivePanel />
            <div class="field deployer">
                <label for="deployer">{ "The pipeline deploys with" }</label>
                <select id="deployer" ref={deployer_select} onchange={on_deployer} aria-describedby="deployer-hint">
                    { for [Deployer::Apply, Deployer::ServerSide, Deployer::Helm].into_iter().map(|d| html! {
                        <option value={d.to_string()} selected={deployer == d}>{ d.command() }</option>
                    }) }
                </select>
                <p class="hint" id="deployer-hint">{ match deployer {
                    Deployer::Helm => "Helm 3 keeps every release in a Secret of the namespace: the Role gets the verbs it needs on Secrets, and the CI snippets run helm.",
                    Deployer::ServerSide => "The \"deploy\" shortcut grants create and patch (server-side apply does not read first); the CI snippets apply --server-side.",
                    Deployer::Apply => "The \"deploy\" shortcut grants get, create and patch (kubectl apply reads, then creates or patches); the CI snippets run kubectl apply.",
                } }</p>
            </div>
            <UndoBar />
            <div class="rules-head">
                <h3 class="sub">{ format!("Rules ({})", rules.len()) }</h3>
            </div>
            if !summary.is_empty() {
                <div class="summary" id="role-summary">
                    <strong>{ "In plain words:" }</strong>
                    <ul>{ for summary.iter().map(|line| html! { <li>{ rich(line) }</li> }) }</ul>
                </div>
            }
            <Errors id="rules-error" errors={top_errors} />
            <RuleList rules={rules.clone()} {errors} {name_errors} {deployer} {lacking} />
            <div class="grid picker-grid">
                <CatalogPicker {deployer} />
                <CustomResource {deployer} />
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct RuleListProps {
    rules: Rc<Vec<Rule>>,
    /// The validation messages of each rule, in the rules' order; empty when all are valid.
    errors: Vec<Vec<String>>,
    /// The messages about each rule's resource names, shown at that field.
    name_errors: Vec<Vec<String>>,
    deployer: Deployer,
    /// The rules the pasted check says you lack something of.
    lacking: Vec<usize>,
}

/// The rules with their risk findings. Its own component, so that a keystroke outside the
/// rules (the namespace, a name) neither lints the Role again nor diffs every card.
#[function_component(RuleList)]
fn rule_list(props: &RuleListProps) -> Html {
    let findings = lint_role(
        &props.rules,
        LintOptions {
            helm: props.deployer == Deployer::Helm,
            server_side: props.deployer == Deployer::ServerSide,
        },
    );
    html! {
        <ol class="rules">
            { for props.rules.iter().enumerate().map(|(index, rule)| html! {
                <RuleCard
                    key={index}
                    {index}
                    rule={rule.clone()}
                    errors={props.errors.get(index).cloned().unwrap_or_default()}
                    name_errors={props.name_errors.get(index).cloned().unwrap_or_default()}
                    deployer={props.deployer}
                    lacking={props.lacking.contains(&index)}
                    findings={findings.iter().filter(|f| f.rule == index).cloned().collect::<Vec<_>>()}
                />
            }) }
        </ol>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct RuleCardProps {
    index: usize,
    rule: Rule,
    errors: Vec<String>,
    name_errors: Vec<String>,
    findings: Vec<Finding>,
    deployer: Deployer,
    lacking: bool,
}

#[function_component(RuleCard)]
fn rule_card(props: &RuleCardProps) -> Html {
    let store = use_dispatch();
    let index = props.index;
    let rule = &props.rule;
    let number = index + 1;
    let groups = rule.api_groups.iter().map(|g| group_label(g)).collect::<Vec<_>>().join(", ");
    let remove = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| {
            store.dispatch(Action::RemoveRule(index));
            crate::browser::focus_soon("undo-button");
        })
    };
    let (deploy_verbs, deploy_why) = deploy_shortcut(props.deployer);
    let set_verbs = |verbs: &'static [&'static str]| {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| {
            store.dispatch(Action::SetVerbs {
                rule: index,
                verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
            });
        })
    };
    let verbs = offered_verbs(rule);
    html! {
        <li class={classes!("rule", (!props.errors.is_empty()).then_some("invalid"), props.lacking.then_some("lacking"))}
            aria-label={format!("Rule {number}")} id={format!("rule-card-{index}")}>
            <div class="rule-head">
                <span class="badge" title="API group">{ groups }</span>
                <ul class="chips" aria-label={format!("Resources of rule {number}")}>
                    { for rule.resources.iter().map(|resource| {
                        let store = store.clone();
                        let name = resource.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            store.dispatch(Action::RemoveResource { rule: index, resource: name.clone() });
                            crate::browser::focus_soon("undo-button");
                        });
                        html! {
                            <li class="chip">
                                <code>{ resource }</code>
                                <button type="button" class="chip-x" {onclick}
                                    aria-label={format!("Remove {resource} from rule {number}")}>{ "×" }</button>
                            </li>
                        }
                    }) }
                </ul>
                <button type="button" class="ghost danger small" onclick={remove}
                    aria-label={format!("Remove rule {number}")}>{ "Remove" }</button>
            </div>
            <fieldset class="verbs">
                <legend>{ format!("Verbs of rule {number}") }</legend>
                { for verbs.iter().map(|verb| {
                    let store = store.clone();
                    let v = verb.clone();
                    let onchange = Callback::from(move |_: Event| {
                        store.dispatch(Action::ToggleVerb { rule: index, verb: v.clone() });
                    });
                    let id = format!("rule-{index}-verb-{verb}");
                    html! {
                        <label class="verb" for={id.clone()}>
                            <input type="checkbox" id={id} checked={rule.verbs.contains(verb)} {onchange} />
                            { verb }
                        </label>
                    }
                }) }
                <span class="shortcuts">
                    <button type="button" class="ghost small" onclick={set_verbs(READ_VERBS)} title="get, list, watch: read, never change"
                        aria-label={format!("Rule {number}: read verbs only (get, list, watch)")}>{ "read" }</button>
                    <button type="button" class="ghost small" onclick={set_verbs(deploy_verbs)} title={deploy_why}
                        aria-label={format!("Rule {number}: deploy verbs ({})", deploy_verbs.join(", "))}>{ "deploy" }</button>
                </span>
            </fieldset>
            if props.lacking {
                <p class="lacking-note">{ "You lack some of this rule's rights (step 4): the API server would refuse the Role." }</p>
            }
            <ResourceNames {index} names={rule.resource_names.clone()} errors={props.name_errors.clone()} />
            <Errors id={format!("rule-{index}-error")} errors={props.errors.clone()} />
            if !props.findings.is_empty() {
                <ul class="findings" aria-label={format!("Risks of rule {number}")}>
                    { for props.findings.iter().map(|f| html! {
                        <li class={classes!("finding", f.severity.name())}>
                            <span class="severity">{ f.severity.name() }</span>
                            { rich(&f.why) }
                        </li>
                    }) }
                </ul>
            }
        </li>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct ResourceNamesProps {
    index: usize,
    names: Vec<String>,
    errors: Vec<String>,
}

/// Keeps the text as typed ("a, " stays) while the rule holds the parsed list.
#[function_component(ResourceNames)]
fn resource_names(props: &ResourceNamesProps) -> Html {
    let store = use_dispatch();
    let text = use_state(|| props.names.join(", "));
    {
        let text = text.clone();
        use_effect_with(props.names.clone(), move |names| {
            if typed_names(&text) != *names {
                text.set(names.join(", "));
            }
        });
    }
    let index = props.index;
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            text.set(value.clone());
            store.dispatch(Action::SetResourceNames { rule: index, text: value });
        })
    };
    let id = format!("rule-{index}-names");
    let invalid = !props.errors.is_empty();
    let described = if invalid { format!("{id}-hint {id}-error") } else { format!("{id}-hint") };
    html! {
        <div class={classes!("field", "names", invalid.then_some("invalid"))}>
            <label for={id.clone()}>{ "Only these resource names" }</label>
            <input id={id.clone()} type="text" spellcheck="false" autocomplete="off" value={(*text).clone()}
                placeholder="empty: every object of these resources" {oninput}
                aria-invalid={invalid.to_string()} aria-describedby={described} />
            <p class="hint" id={format!("{id}-hint")}>{ "One name per comma or line, lowercase as the objects are named. Note: create and list cannot be limited by name." }</p>
            <Errors id={format!("{id}-error")} errors={props.errors.clone()} />
        </div>
    }
}
