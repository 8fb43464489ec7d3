//! The few browser calls the page makes: copy, download, the location. Each returns a
//! message instead of failing loudly, and none of them sends anything anywhere.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| "the browser refused".to_owned())
}

/// The page's location fragment, `#...`, or empty.
pub fn hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Whether the page was opened as `?embed` (compact, for an `<iframe>`).
pub fn is_embedded() -> bool {
    web_sys::window().and_then(|w| w.location().search().ok()).is_some_and(|search| {
        search.trim_start_matches('?').split('&').any(|p| p == "embed" || p.starts_with("embed="))
    })
}

/// Replaces the fragment without a new history entry or any request.
pub fn replace_hash(fragment: &str) {
    let Some(window) = web_sys::window() else { return };
    if window.location().hash().ok().as_deref() == Some(&format!("#{fragment}")) {
        return;
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

/// The full share link for `fragment`, without `?embed`.
pub fn share_link(fragment: &str) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return format!("#{fragment}");
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}#{fragment}")
}

/// The folder the page is served from (`https://docs.example.com/cicd-access/`), where
/// `embed.js` lives beside it.
pub fn page_base() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    let folder = path.rfind('/').map_or("/", |at| &path[..=at]);
    format!("{origin}{folder}")
}

/// Copies `text` to the clipboard; the result arrives asynchronously in `done`.
pub fn copy(text: &str, done: impl FnOnce(Result<(), String>) + 'static) {
    let Some(window) = web_sys::window() else {
        done(Err("no window".into()));
        return;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move {
        let result = wasm_bindgen_futures::JsFuture::from(promise).await.map(|_| ()).map_err(|e| {
            format!("copy failed ({}); select the text and copy it by hand", describe(&e))
        });
        done(result);
    });
}

/// Offers `text` as a file download named `name`, built in memory (a `blob:` URL).
pub fn download(name: &str, text: &str, mime: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| describe(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| describe(&e))?;
    let anchor = document
        .create_element("a")
        .map_err(|e| describe(&e))?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "not an anchor")?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // Revoked a little later: some browsers read the blob after click() returns.
    gloo::timers::callback::Timeout::new(30_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Focuses the element with `id`, e.g. the field a message is about.
pub fn focus(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Focuses the element with `id` once the page has rendered the change just made (the
/// element may be new, or the focused one about to go).
pub fn focus_soon(id: &str) {
    let id = id.to_owned();
    gloo::timers::callback::Timeout::new(0, move || focus(&id)).forget();
}

/// Scrolls the element `id` into view and focuses the element `focus` (or `id` itself).
pub fn reveal(id: &str, focus_id: &str) {
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(element) = document.as_ref().and_then(|d| d.get_element_by_id(id)) {
        element.scroll_into_view();
    }
    focus(focus_id);
}
