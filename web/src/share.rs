//! Share, embed, export and import. Only the access spec travels: never a token or a
//! pasted text.

use wasm_bindgen::JsCast as _;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use cicd_access_core::share::{encode_link, import_spec};

use crate::state::{Action, MAX_PASTE, Notice};
use crate::{Dispatch, browser, use_dispatch};

/// The file name of an exported spec.
pub const SPEC_FILE: &str = "cicd-access.spec.yaml";

fn notice(dispatch: &Dispatch, error: bool, text: impl Into<String>) {
    dispatch.dispatch(Action::SetNotice(Some(Notice { error, text: text.into() })));
}

#[function_component(ShareBar)]
pub fn share_bar() -> Html {
    // Reads the state only when a button is used: the bar does not re-render on keystrokes.
    let dispatch = use_dispatch();
    let copy_link = |embed: bool| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            let fragment = match encode_link(&dispatch.latest().spec) {
                Ok(fragment) => fragment,
                Err(e) => {
                    notice(&dispatch, true, format!("{e}: use Export spec and share the file"));
                    return;
                }
            };
            let text = if embed {
                // The loader sizes the iframe to the page; without script, the link remains.
                let base = browser::page_base();
                format!(
                    "<script src=\"{base}embed.js\" defer></script>\n<cicd-access spec=\"{fragment}\"><a href=\"{}\">Open cicd-access</a></cicd-access>",
                    browser::share_link(&fragment)
                )
            } else {
                browser::share_link(&fragment)
            };
            let dispatch = dispatch.clone();
            browser::copy(&text, move |result| match result {
                Ok(()) if embed => notice(
                    &dispatch,
                    false,
                    "Copied the embed code for your documentation: embed.js and a <cicd-access> element that opens this access in the compact view, sized to its content.",
                ),
                Ok(()) => notice(
                    &dispatch,
                    false,
                    "Copied the share link. It holds the access spec only: no token, nothing pasted.",
                ),
                Err(e) => notice(&dispatch, true, e),
            });
        })
    };
    let export = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            match browser::download(
                SPEC_FILE,
                &dispatch.latest().spec.to_yaml(),
                "application/yaml",
            ) {
                Ok(()) => notice(
                    &dispatch,
                    false,
                    format!("Saved {SPEC_FILE}: the CiCdAccess file kubectl cicd reads."),
                ),
                Err(e) => notice(&dispatch, true, format!("export failed: {e}")),
            }
        })
    };
    let import = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            input.set_value("");
            if file.size() > f64::from(u32::try_from(MAX_PASTE).unwrap_or(u32::MAX)) {
                notice(
                    &dispatch,
                    true,
                    format!(
                        "{} is over 1 MB; a CiCdAccess spec is a few KB, so this is not one",
                        file.name()
                    ),
                );
                return;
            }
            let dispatch = dispatch.clone();
            let name = file.name();
            let promise = file.unchecked_ref::<web_sys::Blob>().text();
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(promise)
                    .await
                    .ok()
                    .and_then(|v| v.as_string());
                let Some(text) = text else {
                    notice(&dispatch, true, format!("{name} could not be read as text"));
                    return;
                };
                match import_spec(&text) {
                    Ok(imported) => {
                        let note = imported.note();
                        dispatch.dispatch(Action::Load(Box::new(imported.spec)));
                        notice(
                            &dispatch,
                            false,
                            match note {
                                Some(note) => format!("Imported {name}: {note}"),
                                None => format!("Imported {name}."),
                            },
                        );
                    }
                    Err(e) => notice(&dispatch, true, format!("{name}: {e}")),
                }
            });
        })
    };
    html! {
        <nav class="share" aria-label="Share, export and import">
            <button type="button" class="small ghost light" id="copy-link" onclick={copy_link(false)}>{ "Copy share link" }</button>
            <button type="button" class="small ghost light" id="copy-embed" onclick={copy_link(true)}>{ "Copy embed code" }</button>
            <button type="button" class="small ghost light" id="export-spec" onclick={export}>{ "Export spec" }</button>
            <input type="file" id="import-spec" class="visually-hidden" accept=".yaml,.yml,.json,application/yaml,application/json" onchange={import} />
            <label class="button small ghost light" for="import-spec">{ "Import spec…" }</label>
        </nav>
    }
}
