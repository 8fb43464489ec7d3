//! The offer to undo the last change that replaced or removed rules (a preset, Remove, a
//! chip's ×, "Drop the rules I lack"): rules are never lost to one click or key press.

use yew::prelude::*;

use crate::state::Action;
use crate::use_store;

#[function_component(UndoBar)]
pub fn undo_bar() -> Html {
    let store = use_store();
    let Some(undo) = store.undo.clone() else { return html! {} };
    let onclick = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| {
            store.dispatch(Action::Undo);
            // The button goes away with the offer: focus stays in the rules.
            crate::browser::focus("preset");
        })
    };
    html! {
        <div class="undo" role="status" id="undo">
            <span>{ undo.what }</span>
            <button type="button" class="small" id="undo-button" {onclick}>{ "Undo" }</button>
        </div>
    }
}
