//! The cicd-access page: a Yew view over the core. Every decision comes from
//! `cicd_access_core`; this crate only keeps the form's state and shows the results.
//!
//! Nothing leaves the page: there is no request code here at all, and the page's
//! Content-Security-Policy (`connect-src 'none'`) would refuse one anyway.

pub mod access;
pub mod audit;
pub mod browser;
pub mod check;
pub mod derive;
pub mod field;
pub mod form;
pub mod kubeconfig;
pub mod outputs;
pub mod picker;
pub mod rules;
pub mod share;
pub mod state;
pub mod store;
pub mod undo;

use std::cell::RefCell;
use std::rc::Rc;

use cicd_access_core::share as link;
use yew::prelude::*;

use crate::state::{Action, State};
pub use crate::store::{Dispatch, Store, use_dispatch, use_store};

/// Messages for one field, or for everything under it (`rules[2]` takes `rules[2].verbs`).
pub fn problems_for(store: &Store, field: &str) -> Vec<String> {
    store.outputs.as_ref().err().map(|p| p.for_field(field)).unwrap_or_default()
}

/// The id of the input a problem's field key points at, for focusing it.
pub fn field_id(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("rules[") {
        let index: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if field.ends_with(".resourceNames") {
            return format!("rule-{index}-names");
        }
        return format!("rule-{index}");
    }
    if let Some(name) = field.strip_prefix("token.") {
        return format!("token-{name}");
    }
    match field {
        "rules" => "preset".to_owned(),
        other => other.to_owned(),
    }
}

#[derive(Properties, PartialEq, Debug)]
pub struct AppProps {
    /// The compact, chrome-less view for an `<iframe>`.
    #[prop_or_default]
    pub embed: bool,
    /// The location fragment the page was opened with.
    #[prop_or_default]
    pub hash: AttrValue,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let hash = props.hash.clone();
    let store = use_reducer(move || State::from_hash(&hash));
    let dispatch = {
        let store = store.clone();
        use_memo((), move |()| Dispatch::new(store))
    };
    dispatch.follow(&store);
    // For the first-render benchmark: the effect runs once the first render is in the DOM.
    use_effect_with((), |()| {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark("cicd-access:rendered");
        }
    });
    {
        // The address bar follows the form (only the spec, never pasted text) once typing
        // pauses, not on every keystroke: encoding a long spec and history.replaceState are
        // a keystroke's largest cost after the core (BENCHMARKS.md). Leaving the page writes
        // it at once.
        let pending = use_mut_ref(|| None::<Rc<cicd_access_core::AccessSpec>>);
        let timer = use_mut_ref(|| None::<gloo::timers::callback::Timeout>);
        let opened = use_mut_ref(|| true);
        {
            let pending = pending.clone();
            use_effect_with(store.spec.clone(), move |spec| {
                // The spec the page opened with is already in the address bar (or, on a
                // plain visit, is the defaults a plain link gives): leave the link as it is.
                if std::mem::replace(&mut *opened.borrow_mut(), false) {
                    return;
                }
                *pending.borrow_mut() = Some(spec.clone());
                let write = move || write_hash(&pending);
                // Replacing the timer cancels the one before it.
                *timer.borrow_mut() =
                    Some(gloo::timers::callback::Timeout::new(HASH_DELAY_MS, write));
            });
        }
        use_effect_with((), move |()| {
            let listener = web_sys::window().map(|window| {
                gloo::events::EventListener::new(&window, "pagehide", move |_| write_hash(&pending))
            });
            move || drop(listener)
        });
    }
    {
        let store = store.clone();
        use_effect_with((), move |()| {
            let listener = web_sys::window().map(|window| {
                gloo::events::EventListener::new(&window, "hashchange", move |_| {
                    match link::decode_link(&browser::hash()) {
                        Ok(Some(spec)) => store.dispatch(Action::Load(Box::new(spec))),
                        Ok(None) => {}
                        Err(error) => {
                            store.dispatch(Action::SetNotice(Some(state::Notice {
                                error: true,
                                text: error.to_string(),
                            })));
                        }
                    }
                })
            });
            move || drop(listener)
        });
    }
    // The providers compare their children on every state change: one prop-less component
    // keeps that comparison trivial, and the page's frame never re-renders; only the
    // sections that read the state do.
    html! {
        <ContextProvider<Store> context={store.clone()}>
        <ContextProvider<Dispatch> context={(*dispatch).clone()}>
            <Page embed={props.embed} />
        </ContextProvider<Dispatch>>
        </ContextProvider<Store>>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct PageProps {
    embed: bool,
}

/// The page's frame: the sections in their places, and the text around them.
#[function_component(Page)]
fn page(props: &PageProps) -> Html {
    if props.embed {
        return html! {
            <main class="page embed" id="app-ready">
                <h1 class="visually-hidden">{ "cicd-access: a least-privilege kubeconfig for one CI/CD pipeline" }</h1>
                <ToOutputs />
                <NoticeBar />
                <access::AccessForm />
                <rules::RoleEditor />
                <outputs::OutputsPanel />
                <EmbedFoot />
            </main>
        };
    }
    html! {
        <>
            <ToOutputs skip=true />
            <header class="top">
                <div class="top-inner">
                    <div class="brand">
                        // The favicon's mark, drawn inline: the glyph it replaces (U+2388) is in few sans fonts and cost a fallback-font lookup.
                        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
                            <rect width="32" height="32" rx="7" fill="#2c5fd9" />
                            <path d="M9 11h14M9 16h9M9 21h11" stroke="#fff" stroke-width="2.6" stroke-linecap="round" />
                            <circle cx="23" cy="21" r="2.2" fill="#9fd3ff" />
                        </svg>
                        <div>
                            <h1>{ "cicd-access" }</h1>
                            <p class="tagline">{ "A least-privilege kubeconfig for one CI/CD pipeline, in one namespace." }</p>
                        </div>
                    </div>
                    <share::ShareBar />
                </div>
            </header>
            <main class="page" id="app-ready">
                <NoticeBar />
                <p class="intro">
                    { "Describe the pipeline's access, pick what it deploys, and get the Role, ServiceAccount, RoleBinding and token Secret, the kubectl steps that apply them, and the CI snippet. " }
                    <strong>{ "Everything runs in this page; nothing you type or paste is sent anywhere." }</strong>
                </p>
                <ToOutputs />
                // One grid for the whole page: the outputs stay beside the form, the check and
                // the kubeconfig steps included, instead of scrolling away at the end of a row.
                <div class="columns main">
                    <div class="column">
                        <access::AccessForm />
                        <rules::RoleEditor />
                        <check::CheckPanel />
                        <kubeconfig::KubeconfigPanel />
                        <audit::AuditPanel />
                    </div>
                    <div class="column">
                        <outputs::OutputsPanel />
                    </div>
                </div>
            </main>
            <footer class="foot">
                <p>{ "cicd-access — the same core as " }<code class="inline">{ "kubectl cicd" }</code>
                    { ": identical input gives byte-identical manifests, script and kubeconfig." }</p>
            </footer>
        </>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct ToOutputsProps {
    /// The skip link: first on the page, seen only when focused.
    #[prop_or_default]
    skip: bool,
}

/// A way to the outputs without tabbing or scrolling through the form: the skip link, and
/// on one-column layouts a visible button. A button, not a `#` link: the fragment holds the
/// access spec.
#[function_component(ToOutputs)]
fn to_outputs(props: &ToOutputsProps) -> Html {
    let onclick = Callback::from(|_: MouseEvent| browser::reveal("outputs-title", "tab-manifests"));
    let (class, text) = if props.skip {
        ("skip", "Skip to the outputs")
    } else {
        ("small ghost to-outputs", "Jump to the outputs ↓")
    };
    html! { <button type="button" class={class} {onclick}>{ text }</button> }
}

/// The page's message (share link copied, import failed, ...), with its dismiss button.
#[function_component(NoticeBar)]
fn notice_bar() -> Html {
    let store = use_store();
    let Some(notice) = store.notice.clone() else { return html! {} };
    let dismiss = Callback::from(move |_: MouseEvent| store.dispatch(Action::SetNotice(None)));
    html! {
        <div class={classes!("notice", notice.error.then_some("bad"))} role={if notice.error { "alert" } else { "status" }} id="notice">
            <span>{ notice.text }</span>
            <button type="button" class="ghost small" onclick={dismiss} aria-label="Dismiss the message">{ "Dismiss" }</button>
        </div>
    }
}

/// The embedded view's way out to the full page, with the same access.
#[function_component(EmbedFoot)]
fn embed_foot() -> Html {
    let store = use_store();
    html! {
        <footer class="embed-foot">
            // A spec too large for a link opens the full page at its defaults.
            <a href={browser::share_link(&link::encode_link(&store.spec).unwrap_or_default())} target="_blank" rel="noopener">
                { "Open in the full page: check, kubeconfig, export ↗" }</a>
        </footer>
    }
}

/// How long the address bar waits for typing to pause before it follows the form.
pub const HASH_DELAY_MS: u32 = 250;

fn write_hash(pending: &RefCell<Option<Rc<cicd_access_core::AccessSpec>>>) {
    if let Some(spec) = pending.borrow_mut().take() {
        // A spec too large for a link leaves the address without one rather than a link
        // that would not open.
        browser::replace_hash(&link::encode_link(&spec).unwrap_or_default());
    }
}

/// Mounts the page on `<body>`. A panic would kill the page silently, so the hook leaves
/// a message in the page instead of a blank screen.
pub fn start() {
    std::panic::set_hook(Box::new(|_| {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            body.set_class_name("crashed");
            let _ = body.insert_adjacent_html(
                "afterbegin",
                "<p class=\"crash\" role=\"alert\">The page hit an internal error and stopped. Reload it; your access is kept in the address bar.</p>",
            );
        }
    }));
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("cicd-access:start");
    }
    let embed = browser::is_embedded();
    let hash = browser::hash();
    let Some(root) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("app"))
    else {
        return;
    };
    if embed {
        root.set_class_name("embedded");
    }
    yew::Renderer::<App>::with_root_and_props(root, AppProps { embed, hash: hash.into() }).render();
}
