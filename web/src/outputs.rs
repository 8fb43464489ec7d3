//! Section 3: the outputs, live — manifests (all / each), steps, script, CI snippets —
//! each with copy and download; or, for invalid input, why they are withheld.

use yew::prelude::*;

use crate::browser;
use cicd_access_core::TokenKind;
use cicd_access_core::keyless::{AuthenticationApi, KeylessAccess};
use cicd_access_core::outputs::Outputs;

use crate::form::Problems;
use crate::{field_id, use_store};

const YAML: &str = "application/yaml";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Manifests,
    Steps,
    Script,
    GitHub,
    GitLab,
    /// A keyless access's: what the cluster's administrator configures.
    Cluster,
}

const TABS: &[(Tab, &str, &str)] = &[
    (Tab::Manifests, "tab-manifests", "Manifests"),
    (Tab::Steps, "tab-steps", "Steps"),
    (Tab::Script, "tab-script", "Script"),
    (Tab::GitHub, "tab-github", "GitHub Actions"),
    (Tab::GitLab, "tab-gitlab", "GitLab CI"),
    (Tab::Cluster, "tab-cluster", "Cluster side"),
];

#[derive(Properties, PartialEq, Debug)]
pub struct ActionsProps {
    pub text: AttrValue,
    pub file: AttrValue,
    /// What is copied, for the buttons' accessible names.
    pub what: AttrValue,
    #[prop_or_default]
    pub mime: Option<AttrValue>,
}

/// Copy and download buttons for one text, with a short status.
#[function_component(CopyDownload)]
pub fn copy_download(props: &ActionsProps) -> Html {
    let status = use_state(|| None::<(bool, String)>);
    let copy = {
        let status = status.clone();
        let text = props.text.clone();
        Callback::from(move |_: MouseEvent| {
            let status = status.clone();
            browser::copy(&text, move |result| {
                status.set(Some(match result {
                    Ok(()) => (true, "copied".to_owned()),
                    Err(e) => (false, e),
                }));
            });
        })
    };
    let download = {
        let status = status.clone();
        let text = props.text.clone();
        let file = props.file.clone();
        let mime = props.mime.clone().unwrap_or_else(|| "text/plain".into());
        Callback::from(move |_: MouseEvent| {
            status.set(Some(match browser::download(&file, &text, &mime) {
                Ok(()) => (true, format!("saved as {file}")),
                Err(e) => (false, format!("download failed: {e}")),
            }));
        })
    };
    html! {
        <div class="actions">
            <button type="button" class="small" onclick={copy} aria-label={format!("Copy {}", props.what)}>{ "Copy" }</button>
            <button type="button" class="small ghost" onclick={download} aria-label={format!("Download {} as {}", props.what, props.file)}>{ "Download" }</button>
            if let Some((ok, text)) = &*status {
                <span class={classes!("status", (!ok).then_some("bad"))} role="status">{ text }</span>
            }
        </div>
    }
}

#[derive(Properties, PartialEq, Debug)]
struct CodeProps {
    text: AttrValue,
    id: AttrValue,
    label: AttrValue,
    /// Colour YAML's keys and comments.
    #[prop_or_default]
    yaml: bool,
}

/// One line of YAML with its key (`  - name:`'s `name`) and a whole-line comment marked; the
/// text is unchanged, so copying and the tests read the same bytes.
fn yaml_line(line: &str) -> Html {
    let body = line.trim_start_matches([' ', '-']);
    let indent = &line[..line.len() - body.len()];
    if body.starts_with('#') {
        return html! { <>{ indent }<span class="c">{ body }</span></> };
    }
    let key_end = body.find(": ").or_else(|| body.strip_suffix(":\n").map(str::len));
    match key_end {
        Some(end) if end > 0 && !body[..end].contains([' ', '"', '\'', '{']) => {
            let (key, rest) = body.split_at(end);
            html! { <>{ indent }<span class="k">{ key }</span>{ rest }</> }
        }
        _ => html! { { line } },
    }
}

/// Lines per block of a shown text.
const CHUNK_LINES: usize = 16;

/// The text in blocks of `lines` lines, each ending with its newline: their concatenation
/// is the text, byte for byte.
fn chunks(text: &str, lines: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.match_indices('\n').nth(lines - 1).map_or(rest.len(), |(at, _)| at + 1);
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// A text as a block per `CHUNK_LINES` lines (`display: block`, so it looks and copies as
/// one text): a keystroke that changes a name changes a few lines, and the browser then
/// lays out only their blocks instead of the whole text.
#[function_component(Code)]
fn code(props: &CodeProps) -> Html {
    html! {
        <pre class="code" id={props.id.clone()} tabindex="0" role="region" aria-label={props.label.clone()}><code>
            { for chunks(&props.text, CHUNK_LINES).map(|chunk| if props.yaml {
                html! { <span class="chunk">{ for chunk.split_inclusive('\n').map(yaml_line) }</span> }
            } else {
                html! { <span class="chunk">{ chunk.to_owned() }</span> }
            }) }
        </code></pre>
    }
}

/// One shown text: its title with copy and download, then the text. The same block for
/// every output, built once here (each `html!` of it would be its own code in the page).
struct Block {
    title: Html,
    text: AttrValue,
    file: AttrValue,
    /// For the buttons' names: "Copy {what}".
    what: AttrValue,
    mime: Option<AttrValue>,
    id: AttrValue,
    /// The text's accessible name.
    label: AttrValue,
    yaml: bool,
}

fn block(block: Block) -> Html {
    let Block { title, text, file, what, mime, id, label, yaml } = block;
    html! {
        <div class="output">
            <div class="output-head"><h3>{ title }</h3>
                <CopyDownload text={text.clone()} {file} {what} {mime} /></div>
            <Code {text} {id} {label} {yaml} />
        </div>
    }
}

/// A heading with the command that uses the file, muted.
fn titled(file: &'static str, usage: &'static str) -> Html {
    html! { <>{ file }<span class="muted">{ usage }</span></> }
}

#[function_component(OutputsPanel)]
pub fn outputs_panel() -> Html {
    let store = use_store();
    // The cluster side is a keyless access's alone.
    let tabs = if matches!(store.spec.token, TokenKind::Keyless(_)) { TABS } else { &TABS[..5] };
    let chosen = use_state(|| Tab::Manifests);
    let tab = if tabs.iter().any(|(t, ..)| *t == *chosen) { *chosen } else { Tab::Manifests };
    let each = use_state(|| false);
    let select = |t: Tab| {
        let chosen = chosen.clone();
        Callback::from(move |_: MouseEvent| chosen.set(t))
    };
    let onkeydown = {
        let chosen = chosen.clone();
        Callback::from(move |e: KeyboardEvent| {
            let at = tabs.iter().position(|(t, ..)| *t == tab).unwrap_or(0);
            let next = match e.key().as_str() {
                "ArrowRight" => (at + 1) % tabs.len(),
                "ArrowLeft" => (at + tabs.len() - 1) % tabs.len(),
                "Home" => 0,
                "End" => tabs.len() - 1,
                _ => return,
            };
            e.prevent_default();
            if let Some((t, id, _)) = tabs.get(next) {
                chosen.set(*t);
                browser::focus(id);
            }
        })
    };
    let body = match &store.outputs {
        Ok(outputs) => tab_body(tab, outputs, &each),
        Err(problems) => withheld(problems),
    };
    html! {
        <section class="card outputs" aria-labelledby="outputs-title">
            <h2 id="outputs-title" tabindex="-1"><span class="step">{ "3" }</span>{ "Apply it" }</h2>
            <div class="tabs" role="tablist" aria-label="Outputs" {onkeydown}>
                { for tabs.iter().map(|(t, id, label)| {
                    let selected = *t == tab;
                    html! {
                        <button type="button" role="tab" id={*id} aria-selected={selected.to_string()}
                            aria-controls="output-panel" tabindex={if selected { "0" } else { "-1" }}
                            class={classes!("tab", selected.then_some("selected"))} onclick={select(*t)}>{ *label }</button>
                    }
                }) }
            </div>
            <div class="tab-panel" id="output-panel" role="tabpanel"
                aria-labelledby={tabs.iter().find(|(t, ..)| *t == tab).map_or("tab-manifests", |(_, id, _)| *id)}>
                { body }
            </div>
        </section>
    }
}

fn withheld(problems: &Problems) -> Html {
    let count = problems.count();
    html! {
        <div class="withheld" id="withheld" role="status">
            <p><strong>{ format!("Nothing to apply yet: {count} problem{} in the form.", if count == 1 { "" } else { "s" }) }</strong>
               { " Fix them and the manifests, script and snippets appear here." }</p>
            <ul>
                { for problems.all().into_iter().map(|(field, message)| {
                    let target = field_id(&field);
                    let onclick = Callback::from(move |_: MouseEvent| browser::focus(&target));
                    html! { <li><button type="button" class="link" {onclick}>{ message }</button></li> }
                }) }
            </ul>
        </div>
    }
}

fn tab_body(tab: Tab, outputs: &Outputs, each: &UseStateHandle<bool>) -> Html {
    match tab {
        Tab::Manifests => {
            let toggle = |value: bool| {
                let each = each.clone();
                Callback::from(move |_: MouseEvent| each.set(value))
            };
            html! {
                <>
                    <div class="segmented" role="group" aria-label="Show manifests">
                        <button type="button" id="manifests-all" aria-pressed={(!**each).to_string()} onclick={toggle(false)}>{ "All in one file" }</button>
                        <button type="button" id="manifests-each" aria-pressed={(**each).to_string()} onclick={toggle(true)}>{ "Each object" }</button>
                    </div>
                    if **each {
                        { for outputs.documents().iter().map(|d| {
                            let kind = d.kind.to_ascii_lowercase();
                            block(Block {
                                title: html! { format!("{} {}", d.kind, d.name) },
                                text: d.yaml.clone().into(),
                                file: format!("{kind}-{}.yaml", d.name).into(),
                                what: format!("the {} {}", d.kind, d.name).into(),
                                mime: Some(YAML.into()),
                                id: format!("manifest-{kind}").into(),
                                label: format!("the {} {}", d.kind, d.name).into(),
                                yaml: true,
                            })
                        }) }
                    } else {
                        { block(Block {
                            title: titled("cicd-access.yaml", " — kubectl apply -f cicd-access.yaml"),
                            text: outputs.manifests().to_owned().into(),
                            file: "cicd-access.yaml".into(),
                            what: "all manifests".into(),
                            mime: Some(YAML.into()),
                            id: "manifests".into(),
                            label: "All manifests".into(),
                            yaml: true,
                        }) }
                    }
                </>
            }
        }
        Tab::Steps => html! {
            <ol class="steps" id="steps">
                { for outputs.steps().iter().enumerate().map(|(i, step)| html! {
                    <li class="step-item">
                        <div class="output-head">
                            <h3>{ &step.title }</h3>
                            <CopyDownload text={step.command.clone()} file={format!("step-{}.sh", i + 1)} what={format!("step {}", i + 1)} />
                        </div>
                        <p class="why">{ &step.why }</p>
                        <Code text={step.command.clone()} id={format!("step-{}", i + 1)} label={format!("Commands of step {}", i + 1)} />
                    </li>
                }) }
            </ol>
        },
        Tab::Script => block(Block {
            title: titled("cicd-access.sh", " — bash cicd-access.sh, with your own kubeconfig"),
            text: outputs.script().to_owned().into(),
            file: "cicd-access.sh".into(),
            what: "the script".into(),
            mime: Some("text/x-shellscript".into()),
            id: "script".into(),
            label: "The whole script".into(),
            yaml: false,
        }),
        Tab::Cluster => cluster_side(outputs),
        Tab::GitHub | Tab::GitLab => {
            let keyless = matches!(outputs.spec().token, TokenKind::Keyless(_));
            let (snippet, id) = if tab == Tab::GitHub {
                (outputs.github(), "github")
            } else {
                (outputs.gitlab(), "gitlab")
            };
            html! {
                <>
                    <p class="why">{ if keyless { "Commit the kubeconfig of step 5, it holds no secret: " } else { "Store the kubeconfig first (never commit it): " } }<code class="inline">{ &snippet.store_hint }</code></p>
                    { block(Block {
                        title: html! { snippet.path },
                        text: snippet.text.clone().into(),
                        file: snippet.path.rsplit('/').next().unwrap_or(snippet.path).into(),
                        what: format!("the {} snippet", snippet.path).into(),
                        mime: Some(YAML.into()),
                        id: id.into(),
                        label: snippet.path.into(),
                        yaml: true,
                    }) }
                </>
            }
        }
    }
}

/// The cluster side of a keyless access: which form to use, then each form.
fn cluster_side(outputs: &Outputs) -> Html {
    let access = match KeylessAccess::of(outputs.spec()) {
        Ok(access) => access,
        Err(e) => return html! { <p class="why">{ e.to_string() }</p> },
    };
    let forms = [
        (
            "AuthenticationConfiguration (v1)",
            "auth-v1",
            "authentication-config.yaml",
            access.authentication_configuration(AuthenticationApi::V1),
        ),
        (
            "AuthenticationConfiguration (v1beta1)",
            "auth-v1beta1",
            "authentication-config.yaml",
            access.authentication_configuration(AuthenticationApi::V1beta1),
        ),
        (
            "kube-apiserver --oidc-* flags",
            "oidc-flags",
            "oidc-flags.txt",
            access.oidc_flags().join("\n") + "\n",
        ),
        (
            "EKS identity provider config",
            "eks",
            "eks-identity-provider.json",
            access.eks_identity_provider_config(),
        ),
    ];
    html! {
        <>
            <div class="why" id="keyless-guide">{ for access.guide().lines().map(|line| html! { <p>{ line }</p> }) }</div>
            { for forms.into_iter().map(|(title, id, file, text)| block(Block {
                title: html! { title },
                text: text.into(),
                file: file.into(),
                what: title.into(),
                mime: None,
                id: id.into(),
                label: title.into(),
                yaml: id.starts_with("auth"),
            })) }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn chunks_join_to_the_text() {
        let lines: Vec<String> = (0..40).map(|i| format!("line {i}\n")).collect();
        let text = lines.concat();
        let parts: Vec<&str> = chunks(&text, CHUNK_LINES).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].lines().count(), CHUNK_LINES);
        assert!(parts[0].ends_with("line 15\n"));
        assert_eq!(parts.concat(), text);
        assert_eq!(chunks(&text, CHUNK_LINES - 1).next().map(|c| c.lines().count()), Some(15));
        assert_eq!(chunks(&text, CHUNK_LINES - 1).collect::<String>(), text);
        for text in ["", "no newline", "one\n", "a\nb"] {
            assert_eq!(chunks(text, CHUNK_LINES).collect::<String>(), text);
        }
        assert_eq!(chunks("", CHUNK_LINES).count(), 0);
    }
}
