//! The page mounted in a real browser: live outputs, errors at the field, hostile input,
//! the share fragment, the embed view, the check panel. A panic fails the test (and would
//! leave the page's crash banner).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use cicd_access_core::manifest::build_manifests;
use cicd_access_core::preset;
use cicd_access_core::share::{decode_link, encode_link};
use cicd_access_web::{App, AppProps};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

async fn mount(embed: bool, hash: String) -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { embed, hash: hash.into() })
        .render();
    settle().await;
    root
}

fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).unwrap()
}

/// Waits (up to 5 s) for `selector` to appear: renders of earlier tests' pages may still run.
async fn wait_for(root: &Element, selector: &str) -> String {
    for _ in 0..250 {
        if find(root, selector).is_some() {
            break;
        }
        settle().await;
    }
    text(root, selector)
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).map(|e| e.text_content().unwrap_or_default()).unwrap_or_default()
}

/// Waits (up to 5 s) until the text of `selector` satisfies `done`.
async fn until(root: &Element, selector: &str, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..250 {
        let text = text(root, selector);
        if done(&text) {
            return text;
        }
        settle().await;
    }
    text(root, selector)
}

async fn element(root: &Element, selector: &str) -> Element {
    wait_for(root, selector).await;
    find(root, selector).unwrap_or_else(|| panic!("no {selector}"))
}

async fn type_into(root: &Element, selector: &str, value: &str) {
    let element = element(root, selector).await;
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    }
    let event = web_sys::InputEvent::new("input").unwrap();
    element.dispatch_event(&event).unwrap();
    settle().await;
}

async fn click(root: &Element, selector: &str) {
    element(root, selector).await.unchecked_into::<HtmlElement>().click();
    settle().await;
}

#[wasm_bindgen_test]
async fn renders_the_core_outputs_live() {
    let root = mount(false, String::new()).await;
    let expected = build_manifests(&preset::find("deployment-service-ingress").unwrap().spec())
        .unwrap()
        .to_yaml();
    assert_eq!(until(&root, "#manifests", |t| t == expected).await, expected);
    click(&root, "#current-namespace").await;
    type_into(&root, "#namespace", "team-a").await;
    assert!(
        until(&root, "#manifests", |t| t.contains("namespace: team-a"))
            .await
            .contains("namespace: team-a")
    );
    click(&root, "#tab-script").await;
    assert!(
        until(&root, "#script", |t| t.contains("NAMESPACE='team-a'"))
            .await
            .contains("NAMESPACE='team-a'")
    );
}

#[wasm_bindgen_test]
async fn invalid_input_is_shown_at_the_field_and_outputs_say_why() {
    let root = mount(false, String::new()).await;
    click(&root, "#current-namespace").await;
    type_into(&root, "#namespace", "Team_A").await;
    assert!(
        text(&root, "#namespace-error").contains("DNS-1123"),
        "{}",
        text(&root, "#namespace-error")
    );
    assert_eq!(
        find(&root, "#namespace").unwrap().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    assert!(text(&root, "#withheld").contains("1 problem"), "{}", text(&root, "#withheld"));
    assert!(find(&root, "#manifests").is_none());
}

#[wasm_bindgen_test]
async fn hostile_input_in_every_field_gives_messages_not_panics() {
    let root = mount(false, String::new()).await;
    click(&root, "#current-namespace").await;
    let hostile = [
        "",
        " ",
        "'; rm -rf / #",
        "$(curl evil)",
        "\u{0}\u{7}\n\r\t",
        "ünï©ødé 🚀",
        "a\nkind: ClusterRole",
        "{{ .Values }}",
        "--- !!binary",
        "https://user:pw@host:99999/?q#f",
        &"x".repeat(100_000),
    ];
    let fields = [
        "#namespace",
        "#server",
        "#serviceAccount",
        "#role",
        "#roleBinding",
        "#clusterName",
        "#secret",
        "#rule-0-names",
        "#custom-group",
        "#custom-plural",
        "#catalog-search",
    ];
    for value in hostile {
        for field in fields {
            type_into(&root, field, value).await;
        }
        click(&root, "#custom-add-deploy").await;
        type_into(&root, "#check-text", value).await;
        type_into(&root, "#secret-text", value).await;
        click(&root, "#assemble").await;
        assert!(document().query_selector(".crash").unwrap().is_none(), "panicked on {value:?}");
    }
    click(&root, "#token-bound").await;
    for value in ["", "0s", "-1h", "99999999999h", "soon", &"9".repeat(10_000)] {
        type_into(&root, "#token-duration", value).await;
        assert!(
            !wait_for(&root, "#token-duration-error").await.is_empty(),
            "no message for duration {value:?}"
        );
    }
}

#[wasm_bindgen_test]
async fn share_fragment_prefills_the_page() {
    let mut spec = preset::find("welkin-user-demo").unwrap().spec();
    spec.namespace = Some("team-b".into());
    let root = mount(false, format!("#{}", encode_link(&spec).expect("fits in a link"))).await;
    assert_eq!(text(&root, "#manifests"), build_manifests(&spec).unwrap().to_yaml());
    let broken = mount(false, "#spec=not-a-spec".into()).await;
    assert!(wait_for(&broken, "#notice").await.contains("link"), "{}", text(&broken, "#notice"));
}

#[wasm_bindgen_test]
async fn embed_view_is_compact() {
    let root = mount(true, String::new()).await;
    assert!(find(&root, ".top").is_none(), "no header in the embed view");
    assert!(find(&root, ".page.embed").is_some());
    assert!(find(&root, "#manifests").is_some());
    assert!(find(&root, "#secret-text").is_none(), "no token handling in the embed view");
}

#[wasm_bindgen_test]
async fn check_panel_reads_a_403() {
    let root = mount(false, String::new()).await;
    let forbidden = "Error from server (Forbidden): error when creating \"STDIN\": roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"jane\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"delete\"]}";
    type_into(&root, "#check-text", forbidden).await;
    let verdict = wait_for(&root, "#verdict").await;
    assert!(verdict.contains("refuse"), "{verdict}");
    assert!(verdict.contains("deployments"), "{verdict}");
}

#[wasm_bindgen_test]
async fn every_input_has_a_label() {
    let root = mount(false, String::new()).await;
    let inputs = root.query_selector_all("input, textarea, select").unwrap();
    for i in 0..inputs.length() {
        let element = inputs.item(i).unwrap().unchecked_into::<Element>();
        let id = element.id();
        let labelled = element.closest("label").unwrap().is_some()
            || (!id.is_empty()
                && root.query_selector(&format!("label[for='{id}']")).unwrap().is_some())
            || element.has_attribute("aria-label");
        assert!(labelled, "unlabelled control #{id}");
    }
}

#[wasm_bindgen_test]
async fn derive_panel_feeds_the_rule_builder() {
    let root = mount(false, String::new()).await;
    let manifests = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n";
    type_into(&root, "#derive-text", manifests).await;
    click(&root, "#derive-run").await;
    let result = wait_for(&root, "#derive-result").await;
    assert!(result.contains("deployments"), "{result}");
    click(&root, "#derive-replace").await;
    let yaml = until(&root, "#manifests", |t| !t.contains("ingresses")).await;
    assert!(yaml.contains("deployments") && yaml.contains("configmaps"), "{yaml}");
    assert!(!yaml.contains("ingresses"), "the derived rules replaced the preset's: {yaml}");
    type_into(&root, "#derive-text", "{{ not: yaml").await;
    click(&root, "#derive-run").await;
    assert!(wait_for(&root, "#derive-result").await.contains("Could not derive"));
}

/// The panel does not re-render on keystrokes elsewhere: it must read the namespace and
/// the rules as they are when its buttons are used, not as they were when it last rendered.
#[wasm_bindgen_test]
async fn derive_panel_uses_the_access_as_it_is_when_clicked() {
    let root = mount(false, String::new()).await;
    click(&root, "#current-namespace").await;
    type_into(&root, "#namespace", "team-d").await;
    let manifests = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: here\n  namespace: team-d\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: there\n  namespace: elsewhere\n";
    type_into(&root, "#derive-text", manifests).await;
    click(&root, "#derive-run").await;
    let result = wait_for(&root, "#derive-result").await;
    assert!(result.contains("ConfigMap there:"), "the object outside team-d is refused: {result}");
    assert!(!result.contains("ConfigMap here:"), "the object in team-d is not: {result}");
    // The preset's third rule (ingresses) goes after the panel rendered; merging must not bring it back.
    click(&root, "button[aria-label='Remove rule 3']").await;
    until(&root, "#manifests", |t| !t.contains("ingresses")).await;
    click(&root, "#derive-merge").await;
    let yaml = until(&root, "#manifests", |t| t.contains("configmaps")).await;
    assert!(yaml.contains("deployments") && yaml.contains("configmaps"), "{yaml}");
    assert!(!yaml.contains("ingresses"), "merged into the rules as they are now: {yaml}");
}

/// Waits until the address bar has followed the last keystroke (with room to spare).
async fn past_hash_delay() {
    yew::platform::time::sleep(Duration::from_millis(
        u64::from(cicd_access_web::HASH_DELAY_MS) + 300,
    ))
    .await;
}

#[wasm_bindgen_test]
async fn address_bar_follows_the_form_once_typing_pauses_or_the_page_is_left() {
    let mut spec = preset::find("read-only").unwrap().spec();
    spec.namespace = Some("start".into());
    let root = mount(false, format!("#{}", encode_link(&spec).expect("fits in a link"))).await;
    let namespace_in_hash = || {
        let hash = web_sys::window().unwrap().location().hash().unwrap();
        decode_link(&hash).ok().flatten().and_then(|spec| spec.namespace)
    };
    // Leaving the page writes the pending spec at once.
    type_into(&root, "#namespace", "left-at-once").await;
    // Rendered, and the effects after the render have run (well within the delay).
    until(&root, "#manifests", |t| t.contains("namespace: left-at-once")).await;
    settle().await;
    web_sys::window().unwrap().dispatch_event(&web_sys::Event::new("pagehide").unwrap()).unwrap();
    assert_eq!(namespace_in_hash().as_deref(), Some("left-at-once"));
    // Otherwise it follows once typing pauses.
    type_into(&root, "#namespace", "after-a-pause").await;
    past_hash_delay().await;
    assert_eq!(namespace_in_hash().as_deref(), Some("after-a-pause"));
}

#[wasm_bindgen(
    inline_js = "export function record_address_bar() { const urls = []; const replace = history.replaceState.bind(history); history.replaceState = (state, title, url) => { urls.push(String(url)); return replace(state, title, url); }; return urls; }"
)]
extern "C" {
    /// From now on, every URL the page gives `history.replaceState`, in order.
    fn record_address_bar() -> js_sys::Array;
}

#[wasm_bindgen_test]
async fn opening_the_page_leaves_its_link_as_it_is() {
    let written = record_address_bar();
    let namespaces_written = || -> Vec<String> {
        written
            .iter()
            .filter_map(|url| url.as_string())
            .filter_map(|url| decode_link(&url).ok().flatten())
            .filter_map(|spec| spec.namespace)
            .collect()
    };
    let mut spec = preset::find("read-only").unwrap().spec();
    spec.namespace = Some("opened-with".into());
    let root = mount(false, format!("#{}", encode_link(&spec).expect("fits in a link"))).await;
    past_hash_delay().await;
    // Other tests' pages are still mounted and may write theirs: only this spec counts.
    assert!(!namespaces_written().iter().any(|n| n == "opened-with"), "{:?}", namespaces_written());
    // Typing still moves the address bar (the recorder sees the page's writes).
    type_into(&root, "#namespace", "typed-after").await;
    past_hash_delay().await;
    assert!(namespaces_written().iter().any(|n| n == "typed-after"), "{:?}", namespaces_written());
}
