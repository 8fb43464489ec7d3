//! The page's state: the form, the pasted texts, what the core made of them, and the
//! actions that change it. Pure Rust (no web-sys), so it is tested natively and in the
//! browser alike.

use std::rc::Rc;

use cicd_access_core::draft::add_resource;
use cicd_access_core::outputs::Outputs;
use cicd_access_core::preset;
use cicd_access_core::rule_syntax::split_names;
use cicd_access_core::share;
use cicd_access_core::{AccessSpec, Rule};
use yew::Reducible;

use crate::form::{Form, Problems, regenerate};

/// The preset the page starts from.
pub const START_PRESET: &str = "deployment-service-ingress";
/// Longest pasted text or imported file we read.
pub const MAX_PASTE: usize = cicd_access_core::input::MAX_PASTE_BYTES;

/// One change the user makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetNamespace(String),
    SetCurrentNamespace(bool),
    SetServiceAccount(String),
    SetRole(String),
    SetRoleBinding(String),
    SetSecret(String),
    SetClusterName(String),
    SetServer(String),
    SetBound(bool),
    SetDuration(String),
    /// Replace the rules with a preset's (`None`: an empty Role).
    ApplyPreset(Option<String>),
    /// Replace the rules (derived from manifests).
    SetRules(Vec<Rule>),
    AddResource {
        group: String,
        resource: String,
        verbs: Vec<String>,
    },
    RemoveRule(usize),
    RemoveResource {
        rule: usize,
        resource: String,
    },
    ToggleVerb {
        rule: usize,
        verb: String,
    },
    SetVerbs {
        rule: usize,
        verbs: Vec<String>,
    },
    SetResourceNames {
        rule: usize,
        text: String,
    },
    /// Replace the whole form (import, share link).
    Load(Box<AccessSpec>),
    SetCheckText(String),
    SetSecretText(String),
    SetKubeconfigServer(String),
    /// Assemble the kubeconfig from the pasted Secret.
    AssembleKubeconfig,
    ClearSecret,
    SetNotice(Option<Notice>),
}

/// A message about something the user did (import, share link), shown at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// The assembled kubeconfig. It holds the token: it lives in memory only, is never shown
/// in the URL, storage or logs, and is dropped when the pasted Secret changes.
#[derive(Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    pub text: String,
    pub namespace: String,
    pub server: String,
}

impl std::fmt::Debug for Kubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubeconfig")
            .field("namespace", &self.namespace)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The page state.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub form: Form,
    /// Shared with the outputs; a new one only when the form changed.
    pub spec: Rc<AccessSpec>,
    pub outputs: Result<Rc<Outputs>, Problems>,
    pub check_text: String,
    pub secret_text: String,
    pub kubeconfig_server: String,
    pub kubeconfig: Option<Result<Kubeconfig, String>>,
    pub notice: Option<Notice>,
}

impl Default for State {
    fn default() -> Self {
        let spec = preset::find(START_PRESET).map(preset::Preset::spec).unwrap_or_default();
        State::from_spec(&spec)
    }
}

impl State {
    pub fn from_spec(spec: &AccessSpec) -> State {
        let form = Form::from_spec(spec);
        let (spec, outputs) = regenerate(&form);
        State {
            form,
            spec,
            outputs,
            check_text: String::new(),
            secret_text: String::new(),
            kubeconfig_server: String::new(),
            kubeconfig: None,
            notice: None,
        }
    }

    /// The page's first state from the location's fragment.
    pub fn from_hash(hash: &str) -> State {
        match share::decode_link(hash) {
            Ok(Some(spec)) => State::from_spec(&spec),
            Ok(None) => State::default(),
            Err(message) => State {
                notice: Some(Notice {
                    error: true,
                    text: format!("{message}. The page shows the defaults instead."),
                }),
                ..State::default()
            },
        }
    }

    /// The server URL the kubeconfig uses: the one typed beside the Secret, else the spec's.
    pub fn effective_kubeconfig_server(&self) -> &str {
        if self.kubeconfig_server.trim().is_empty() {
            self.form.server.trim()
        } else {
            self.kubeconfig_server.trim()
        }
    }

    fn assemble_kubeconfig(&self) -> Result<Kubeconfig, String> {
        let server = self.effective_kubeconfig_server();
        if server.is_empty() {
            return Err("give the server URL the pipeline reaches the API server at, e.g. https://api.example.com:6443".into());
        }
        if self.secret_text.len() > MAX_PASTE {
            return Err("the pasted text is larger than any Secret; paste the output of `kubectl get secret NAME -o json`".into());
        }
        let text = cicd_access_core::kubeconfig::kubeconfig_from_secret(
            &self.secret_text,
            server,
            &self.form.cluster_name,
            Some(&self.form.service_account),
        )
        .map_err(|e| e.to_string())?;
        let namespace = cicd_access_core::kubeconfig::parse_secret_text(&self.secret_text)
            .ok()
            .and_then(|v| {
                v.pointer("/metadata/namespace").and_then(|n| n.as_str()).map(str::to_owned)
            })
            .unwrap_or_default();
        Ok(Kubeconfig { text, namespace, server: server.to_owned() })
    }
}

/// The rule at `index`, unshared first; `None` (and the rules left shared) when out of range.
fn rule_mut(rules: &mut Rc<Vec<Rule>>, index: usize) -> Option<&mut Rule> {
    if index >= rules.len() {
        return None;
    }
    Rc::make_mut(rules).get_mut(index)
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        let mut form_changed = true;
        let form = &mut next.form;
        match action {
            Action::SetNamespace(v) => form.namespace = v,
            Action::SetCurrentNamespace(v) => form.current_namespace = v,
            Action::SetServiceAccount(v) => form.service_account = v,
            Action::SetRole(v) => form.role = v,
            Action::SetRoleBinding(v) => form.role_binding = v,
            Action::SetSecret(v) => form.secret = v,
            Action::SetClusterName(v) => form.cluster_name = v,
            Action::SetServer(v) => form.server = v,
            Action::SetBound(v) => form.bound = v,
            Action::SetDuration(v) => form.duration = v,
            Action::ApplyPreset(name) => {
                form.rules = Rc::new(
                    name.as_deref()
                        .and_then(preset::find)
                        .map(preset::Preset::rules)
                        .unwrap_or_default(),
                );
            }
            Action::SetRules(rules) => form.rules = Rc::new(rules),
            Action::AddResource { group, resource, verbs } => {
                let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
                add_resource(Rc::make_mut(&mut form.rules), &group, &resource, &verbs);
            }
            Action::RemoveRule(index) => {
                if index < form.rules.len() {
                    Rc::make_mut(&mut form.rules).remove(index);
                }
            }
            Action::RemoveResource { rule, resource } => {
                if let Some(r) = rule_mut(&mut form.rules, rule) {
                    r.resources.retain(|x| *x != resource);
                    if r.resources.is_empty() {
                        Rc::make_mut(&mut form.rules).remove(rule);
                    }
                }
            }
            Action::ToggleVerb { rule, verb } => {
                if let Some(r) = rule_mut(&mut form.rules, rule) {
                    if let Some(i) = r.verbs.iter().position(|v| *v == verb) {
                        r.verbs.remove(i);
                    } else {
                        r.verbs.push(verb);
                        r.verbs.sort();
                    }
                }
            }
            Action::SetVerbs { rule, mut verbs } => {
                if let Some(r) = rule_mut(&mut form.rules, rule) {
                    verbs.sort();
                    r.verbs = verbs;
                }
            }
            Action::SetResourceNames { rule, text } => {
                if let Some(r) = rule_mut(&mut form.rules, rule) {
                    r.resource_names = split_names(&text);
                }
            }
            Action::Load(spec) => {
                *form = Form::from_spec(&spec);
                next.kubeconfig = None;
            }
            Action::SetCheckText(text) => {
                next.check_text = text;
                form_changed = false;
            }
            Action::SetSecretText(text) => {
                next.secret_text = text;
                next.kubeconfig = None;
                form_changed = false;
            }
            Action::SetKubeconfigServer(text) => {
                next.kubeconfig_server = text;
                next.kubeconfig = None;
                form_changed = false;
            }
            Action::AssembleKubeconfig => {
                next.kubeconfig = Some(next.assemble_kubeconfig());
                form_changed = false;
            }
            Action::ClearSecret => {
                next.secret_text.clear();
                next.kubeconfig = None;
                form_changed = false;
            }
            Action::SetNotice(notice) => {
                next.notice = notice;
                form_changed = false;
            }
        }
        if form_changed {
            let (spec, outputs) = regenerate(&next.form);
            next.spec = spec;
            next.outputs = outputs;
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::DURATION_FIELD;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    fn reduce(state: State, action: Action) -> State {
        (*Rc::new(state).reduce(action)).clone()
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn starts_valid_with_outputs() {
        let state = State::default();
        assert!(state.outputs.is_ok(), "{:?}", state.outputs);
        assert_eq!(state.spec.namespace, None);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn invalid_namespace_is_shown_at_the_field() {
        let state = reduce(State::default(), Action::SetCurrentNamespace(false));
        let state = reduce(state, Action::SetNamespace("Team_A".into()));
        let problems = state.outputs.unwrap_err();
        let messages = problems.for_field("namespace");
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("DNS-1123"), "{messages:?}");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn bad_duration_withholds_outputs() {
        let state = reduce(State::default(), Action::SetBound(true));
        let state = reduce(state, Action::SetDuration("soon".into()));
        let problems = state.outputs.unwrap_err();
        assert_eq!(problems.for_field(DURATION_FIELD).len(), 1);
        let state =
            reduce(State { outputs: Err(problems), ..state }, Action::SetDuration("2h".into()));
        assert!(state.outputs.is_ok());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_page_opens_a_share_link_or_says_why_not() {
        let mut spec = preset::find("welkin-user-demo").unwrap().spec();
        spec.namespace = Some("team-a".into());
        let link = share::encode_link(&spec).unwrap();
        assert_eq!(*State::from_hash(&format!("#{link}")).spec, spec);
        let broken = State::from_hash("#spec=%%%");
        assert_eq!(broken.spec, State::default().spec);
        let notice = broken.notice.expect("a broken link is reported");
        assert!(notice.error && notice.text.contains("base64url"), "{}", notice.text);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn out_of_range_indexes_do_nothing() {
        let state = State::default();
        let before = state.form.clone();
        let state = reduce(state, Action::RemoveRule(99));
        let state = reduce(state, Action::ToggleVerb { rule: 99, verb: "get".into() });
        let state = reduce(state, Action::SetResourceNames { rule: 99, text: "x".into() });
        assert_eq!(state.form, before);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn kubeconfig_needs_a_server() {
        let state = reduce(State::default(), Action::SetSecretText("{}".into()));
        let state = reduce(state, Action::AssembleKubeconfig);
        let message = state.kubeconfig.unwrap().unwrap_err();
        assert!(message.contains("server URL"), "{message}");
    }
}
