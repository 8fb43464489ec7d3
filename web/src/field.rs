//! A labelled text input with its hint and its errors, the building block of every form.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::Store;
use crate::state::Action;

/// A paste field's `oninput`: the textarea's text, as the action `make` builds from it.
pub fn on_paste(store: &Store, make: fn(String) -> Action) -> Callback<InputEvent> {
    let store = store.clone();
    Callback::from(move |e: InputEvent| {
        store.dispatch(make(e.target_unchecked_into::<HtmlTextAreaElement>().value()));
    })
}

#[derive(Properties, PartialEq, Debug)]
pub struct TextFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    #[prop_or_default]
    pub errors: Vec<String>,
    #[prop_or_default]
    pub disabled: bool,
    #[prop_or_default]
    pub class: Classes,
}

/// `<label>` + `<input>` + hint + errors, wired with `aria-describedby` and `aria-invalid`.
#[function_component(TextField)]
pub fn text_field(props: &TextFieldProps) -> Html {
    let oninput = {
        let callback = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            callback.emit(e.target_unchecked_into::<HtmlInputElement>().value());
        })
    };
    let hint_id = format!("{}-hint", props.id);
    let error_id = format!("{}-error", props.id);
    let invalid = !props.errors.is_empty();
    let mut described = Vec::new();
    if props.hint.is_some() {
        described.push(hint_id.clone());
    }
    if invalid {
        described.push(error_id.clone());
    }
    html! {
        <div class={classes!("field", invalid.then_some("invalid"), props.class.clone())}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                id={props.id.clone()}
                type="text"
                spellcheck="false"
                autocomplete="off"
                value={props.value.clone()}
                placeholder={props.placeholder.clone()}
                disabled={props.disabled}
                aria-invalid={invalid.to_string()}
                aria-describedby={(!described.is_empty()).then(|| described.join(" "))}
                {oninput}
            />
            if let Some(hint) = &props.hint {
                <p class="hint" id={hint_id}>{ hint.clone() }</p>
            }
            if invalid {
                <div class="errors" id={error_id} role="alert">
                    <ul>{ for props.errors.iter().map(|e| html! { <li>{ e }</li> }) }</ul>
                </div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq, Debug)]
pub struct ErrorsProps {
    pub id: AttrValue,
    pub errors: Vec<String>,
}

/// Errors that belong to a group of controls rather than one input.
#[function_component(Errors)]
pub fn errors(props: &ErrorsProps) -> Html {
    if props.errors.is_empty() {
        return html! {};
    }
    html! {
        <div class="errors" id={props.id.clone()} role="alert">
            <ul>{ for props.errors.iter().map(|e| html! { <li>{ e }</li> }) }</ul>
        </div>
    }
}

/// Text from the core with `code` spans (backticks) shown as code.
pub fn rich(text: &str) -> Html {
    html! {
        { for text.split('`').enumerate().map(|(i, part)| {
            if i % 2 == 1 { html! { <code class="inline">{ part }</code> } } else { html! { { part } } }
        }) }
    }
}
