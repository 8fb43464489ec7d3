//! The page's state: the form, the pasted texts, what the core made of them, and the
//! actions that change it. Pure Rust (no web-sys), so it is tested natively and in the
//! browser alike.

use std::rc::Rc;

use cicd_access_core::assessment::{Assessment, Evidence, Writer, assess};
use cicd_access_core::derive::Deployer;
use cicd_access_core::draft::{add_resource, switch_deployer, typed_names};
use cicd_access_core::kubeconfig::{
    Issued, keyless_kubeconfig_from_ca, kubeconfig_for_access, kubeconfig_from_token,
};
use cicd_access_core::outputs::Outputs;
use cicd_access_core::preset;
use cicd_access_core::remedy::{lacking_in_role, without_lacking};
use cicd_access_core::share;
use cicd_access_core::status::{Observed, StatusOptions, StatusReport, assess_status};
use cicd_access_core::{AccessSpec, Provider, Rule};
use yew::Reducible;

use crate::form::{Form, KeylessField, Problems, TokenChoice, regenerate};

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
    SetToken(TokenChoice),
    SetProvider(Provider),
    /// A keyless identity's field; empty is not given.
    SetKeyless(KeylessField, String),
    SetDuration(String),
    /// How the pipeline deploys: the rules gain or lose what the deployer itself needs.
    SetDeployer(Deployer),
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
    /// Take out of the rules what the pasted check says you lack.
    DropLacking,
    /// Put back the rules as they were before the last preset, removal or drop.
    Undo,
    /// Replace the whole form (import, share link).
    Load(Box<AccessSpec>),
    SetCheckText(String),
    SetSecretText(String),
    /// A bound token, pasted from `kubectl create token`.
    SetTokenText(String),
    /// The cluster's CA for a bound token's kubeconfig.
    SetCaText(String),
    SetKubeconfigServer(String),
    /// Assemble the kubeconfig from the pasted Secret.
    AssembleKubeconfig,
    ClearSecret,
    SetNotice(Option<Notice>),
    /// Section 6's pasted `kubectl get sa,role,rolebinding,secret -n NS -o json`.
    SetAuditListing(String),
    /// Section 6's pasted `kubectl get clusterrolebindings -o json`.
    SetAuditBindings(String),
    /// Judge drift against the form's rules instead of those each Role was applied with.
    SetAuditAgainstForm(bool),
    /// Read the pasted listings at `now` (seconds since the Unix epoch).
    ReadAudit {
        now: i64,
    },
    ClearAudit,
}

/// Section 6: the report on the access that exists, from pasted listings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audit {
    pub listing: String,
    pub bindings: String,
    pub against_form: bool,
    /// What the pastes were read as, and when. No token is in it: the core's views of a
    /// Secret hold no data. The pasted texts are cleared once read.
    pub read: Option<Result<(Rc<Observed>, i64), String>>,
    pub report: Option<Rc<StatusReport>>,
}

impl Audit {
    fn judge(&mut self, spec: &AccessSpec) {
        self.report = match &self.read {
            Some(Ok((observed, now))) => {
                let options = StatusOptions {
                    expected: self.against_form.then(|| spec.rules.clone()),
                    ..StatusOptions::at(*now)
                };
                Some(Rc::new(assess_status(observed, &options)))
            }
            _ => None,
        };
    }
}

/// A message about something the user did (import, share link), shown at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// The rules as they were before a change that replaced or removed some, for its undo.
#[derive(Clone, Debug, PartialEq)]
pub struct Undo {
    pub rules: Rc<Vec<Rule>>,
    pub deployer: Deployer,
    /// What was done, for the undo bar: "Replaced 3 rules with the preset …".
    pub what: String,
}

/// What the pasted check text says about the access in the form: the core's assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Nothing pasted yet.
    Empty,
    Assessed(Box<Assessment>),
    Unreadable(String),
}

impl Shown {
    /// Reads a pasted 403, `can-i --list` table or SelfSubjectRulesReview and has the core
    /// assess the access in `spec` against it, as the page's script writes it.
    pub fn of(text: &str, spec: &AccessSpec) -> Shown {
        if text.len() > MAX_PASTE {
            return Shown::Unreadable(
                "the pasted text is over 1 MB; paste only the command's output".into(),
            );
        }
        match Evidence::read(text) {
            Ok(None) => Shown::Empty,
            Ok(Some(evidence)) => {
                Shown::Assessed(Box::new(assess(&evidence, spec, Writer::KubectlApply)))
            }
            Err(e) => Shown::Unreadable(e.to_string()),
        }
    }

    /// The Role's rules the pasted check says you lack; empty when the Role is accepted.
    pub fn missing(&self) -> &[Rule] {
        match self {
            Shown::Assessed(assessment) => lacking_in_role(assessment),
            Shown::Empty | Shown::Unreadable(_) => &[],
        }
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
    /// The core's verdict on `check_text` for `spec`.
    pub check: Rc<Shown>,
    pub secret_text: String,
    /// A pasted bound token: held like the Secret, never shown or stored.
    pub token_text: String,
    pub ca_text: String,
    pub kubeconfig_server: String,
    /// The assembled kubeconfig. It holds the token: it lives in memory only, is never
    /// shown in the URL, storage or logs, and is dropped when what it was made from changes.
    pub kubeconfig: Option<Result<Rc<Issued>, String>>,
    pub notice: Option<Notice>,
    pub undo: Option<Undo>,
    pub audit: Audit,
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
            check: Rc::new(Shown::Empty),
            secret_text: String::new(),
            token_text: String::new(),
            ca_text: String::new(),
            kubeconfig_server: String::new(),
            kubeconfig: None,
            notice: None,
            undo: None,
            audit: Audit::default(),
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

    fn assemble_kubeconfig(&self) -> Result<Rc<Issued>, String> {
        let server = self.effective_kubeconfig_server();
        if server.is_empty() {
            return Err("give the server URL the pipeline reaches the API server at, e.g. https://api.example.com:6443".into());
        }
        let issued = match self.form.token {
            TokenChoice::Bound => {
                kubeconfig_from_token(&self.token_text, &self.ca_text, server, &self.spec)
            }
            TokenChoice::Keyless => keyless_kubeconfig_from_ca(&self.spec, server, &self.ca_text),
            TokenChoice::Secret => kubeconfig_for_access(&self.secret_text, server, &self.spec),
        };
        issued.map(Rc::new).map_err(|e| e.to_string())
    }

    /// Keeps the rules and deployer as they are now for [`Action::Undo`].
    fn remember(&mut self, what: String) {
        self.undo =
            Some(Undo { rules: self.form.rules.clone(), deployer: self.form.deployer, what });
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
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
        let check_changed = matches!(action, Action::SetCheckText(_));
        let audit_changed =
            matches!(action, Action::SetAuditAgainstForm(_) | Action::ReadAudit { .. });
        // A change to the rules other than one that can be undone ends the undo's offer.
        let rules_before = Rc::clone(&next.form.rules);
        let undoable = matches!(
            action,
            Action::ApplyPreset(_)
                | Action::RemoveRule(_)
                | Action::RemoveResource { .. }
                | Action::DropLacking
                | Action::SetRules(_)
                | Action::Undo
        );
        match &action {
            Action::ApplyPreset(name) => {
                let title =
                    name.as_deref().and_then(preset::find).map_or("an empty Role", |p| p.title);
                next.remember(format!(
                    "Replaced {} with {title}.",
                    count(self.form.rules.len(), "rule")
                ));
            }
            Action::RemoveRule(index) if *index < self.form.rules.len() => {
                next.remember(format!("Removed rule {}.", index + 1));
            }
            Action::RemoveResource { rule, resource } if *rule < self.form.rules.len() => {
                next.remember(format!("Removed {resource} from rule {}.", rule + 1));
            }
            Action::DropLacking => {
                next.remember("Dropped what you lack from the rules.".to_owned());
            }
            Action::SetRules(rules) => {
                next.remember(format!(
                    "Replaced {} with {} derived from the manifests.",
                    count(self.form.rules.len(), "rule"),
                    count(rules.len(), "rule")
                ));
            }
            _ => {}
        }
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
            Action::SetToken(v) => form.token = v,
            Action::SetProvider(v) => form.keyless.provider = v,
            Action::SetKeyless(field, v) => {
                *field.get_mut(&mut form.keyless) = (!v.is_empty()).then_some(v);
            }
            Action::SetDuration(v) => form.duration = v,
            Action::SetDeployer(deployer) => {
                form.rules = Rc::new(switch_deployer(&form.rules, form.deployer, deployer));
                form.deployer = deployer;
            }
            Action::ApplyPreset(name) => {
                let preset = name.as_deref().and_then(preset::find);
                form.rules = Rc::new(preset.map(preset::Preset::rules).unwrap_or_default());
                form.deployer = preset.and_then(|p| p.deployer).unwrap_or(Deployer::Apply);
            }
            Action::DropLacking => {
                form.rules = Rc::new(without_lacking(&form.rules, self.check.missing()));
            }
            Action::Undo => {
                if let Some(undo) = next.undo.take() {
                    next.form.rules = undo.rules;
                    next.form.deployer = undo.deployer;
                }
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
                    r.resource_names = typed_names(&text);
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
            Action::SetTokenText(text) => {
                next.token_text = text;
                next.kubeconfig = None;
                form_changed = false;
            }
            Action::SetCaText(text) => {
                next.ca_text = text;
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
                next.token_text.clear();
                next.kubeconfig = None;
                form_changed = false;
            }
            Action::SetNotice(notice) => {
                next.notice = notice;
                form_changed = false;
            }
            Action::SetAuditListing(text) => {
                next.audit.listing = text;
                form_changed = false;
            }
            Action::SetAuditBindings(text) => {
                next.audit.bindings = text;
                form_changed = false;
            }
            Action::SetAuditAgainstForm(against) => {
                next.audit.against_form = against;
                form_changed = false;
            }
            Action::ReadAudit { now } => {
                let audit = &mut next.audit;
                match Observed::from_pasted(&audit.listing, &audit.bindings) {
                    Ok(observed) => {
                        audit.read = Some(Ok((Rc::new(observed), now)));
                        // A listing of Secrets holds their tokens: gone once read.
                        audit.listing.clear();
                        audit.bindings.clear();
                    }
                    Err(error) => audit.read = Some(Err(error.to_string())),
                }
                form_changed = false;
            }
            Action::ClearAudit => {
                next.audit = Audit::default();
                form_changed = false;
            }
        }
        if form_changed {
            let (spec, outputs) = regenerate(&next.form);
            next.spec = spec;
            next.outputs = outputs;
            // A kubeconfig checked against other names is not this access's.
            next.kubeconfig = None;
        }
        if form_changed || check_changed {
            next.check = Rc::new(Shown::of(&next.check_text, &next.spec));
        }
        if audit_changed || (form_changed && next.audit.against_form) {
            next.audit.judge(&next.spec);
        }
        if !undoable && !Rc::ptr_eq(&rules_before, &next.form.rules) {
            next.undo = None;
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
        let state = reduce(State::default(), Action::SetToken(TokenChoice::Bound));
        let state = reduce(state, Action::SetDuration("soon".into()));
        let problems = state.outputs.unwrap_err();
        assert_eq!(problems.for_field(DURATION_FIELD).len(), 1);
        let state =
            reduce(State { outputs: Err(problems), ..state }, Action::SetDuration("2h".into()));
        assert!(state.outputs.is_ok());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn keyless_errors_are_at_their_fields_and_the_link_carries_the_identity() {
        let state = reduce(State::default(), Action::SetCurrentNamespace(false));
        let state = reduce(state, Action::SetNamespace("demo".into()));
        let state = reduce(state, Action::SetToken(TokenChoice::Keyless));
        let problems = state.outputs.clone().unwrap_err();
        assert_eq!(problems.for_field("token.repository").len(), 1, "{problems:?}");
        assert_eq!(problems.for_field("token.audience").len(), 1, "no server, no audience");
        let state = reduce(state, Action::SetKeyless(KeylessField::Repository, "org app".into()));
        let state = reduce(state, Action::SetKeyless(KeylessField::Ref, "refs/heads/main".into()));
        let state = reduce(state, Action::SetServer("https://api.example.com:6443".into()));
        assert_eq!(state.outputs.clone().unwrap_err().for_field("token.repository").len(), 1);
        let state = reduce(state, Action::SetKeyless(KeylessField::Repository, "org/app".into()));
        let outputs = state.outputs.clone().expect("a valid keyless access");
        assert!(outputs.manifests().contains("name: github:repo:org/app:ref:refs/heads/main"));
        assert!(!outputs.manifests().contains("kind: ServiceAccount"));
        // A field of another provider, typed before switching, stays out of the spec.
        let gitlab = reduce(state.clone(), Action::SetProvider(Provider::Gitlab));
        assert!(gitlab.outputs.unwrap_err().for_field("token.repository").is_empty());
        let link = share::encode_link(&state.spec).unwrap();
        let opened = State::from_hash(&format!("#{link}"));
        assert_eq!(opened.spec, state.spec);
        assert_eq!(opened.form.token, TokenChoice::Keyless);
        let ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
        let state = reduce(state, Action::SetCaText(ca.into()));
        let state = reduce(state, Action::AssembleKubeconfig);
        let issued = state.kubeconfig.expect("assembled").expect("a kubeconfig");
        assert!(issued.text.contains("command: kubectl-cicd") && !issued.text.contains("token:"));
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn helm_changes_the_role_the_snippet_and_the_link_and_back() {
        let start = State::default();
        let helm = reduce(start.clone(), Action::SetDeployer(Deployer::Helm));
        assert_eq!(helm.spec.deployer, Some(Deployer::Helm));
        assert_eq!(helm.form.rules.len(), start.form.rules.len() + 1);
        let outputs = helm.outputs.as_ref().unwrap();
        assert!(outputs.github().text.contains("helm upgrade --install"));
        assert!(outputs.manifests().contains("- secrets"));
        assert_ne!(share::encode_link(&helm.spec), share::encode_link(&start.spec));
        let back = reduce(helm, Action::SetDeployer(Deployer::Apply));
        assert_eq!(back.spec, start.spec);
        let welkin = reduce(start, Action::ApplyPreset(Some("welkin-user-demo".into())));
        assert_eq!(welkin.form.deployer, Deployer::Helm, "the Helm preset deploys with helm");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_preset_a_removal_and_a_drop_can_be_undone() {
        let start = State::default();
        let replaced = reduce(start.clone(), Action::ApplyPreset(Some("read-only".into())));
        assert!(replaced.undo.as_ref().is_some_and(|u| u.what.starts_with("Replaced 3 rules")));
        assert_eq!(reduce(replaced, Action::Undo).form, start.form);
        let removed = reduce(start.clone(), Action::RemoveRule(0));
        let restored = reduce(removed, Action::Undo);
        assert_eq!(restored.form, start.form);
        assert!(restored.undo.is_none());
        let removed = reduce(start.clone(), Action::RemoveRule(0));
        let edited = reduce(removed, Action::ToggleVerb { rule: 0, verb: "get".into() });
        assert!(edited.undo.is_none(), "another edit ends the offer");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn what_the_check_says_is_lacking_can_be_dropped() {
        let start = State::default();
        let held = "Resources   Non-Resource URLs   Resource Names   Verbs\ndeployments.apps   []   []   [*]\nservices   []   []   [*]\n";
        let checked = reduce(start, Action::SetCheckText(held.into()));
        assert!(!checked.check.missing().is_empty(), "{:?}", checked.check);
        let dropped = reduce(checked, Action::DropLacking);
        assert!(dropped.check.missing().is_empty(), "{:?}", dropped.check);
        assert!(matches!(&*dropped.check, Shown::Assessed(a) if a.role.allowed()));
        assert_eq!(dropped.form.rules.len(), 2, "the Ingress rule is gone");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_name_with_a_space_or_capitals_is_an_error_at_the_field() {
        let state =
            reduce(State::default(), Action::SetResourceNames { rule: 0, text: "my app".into() });
        assert_eq!(state.form.rules[0].resource_names, ["my app"]);
        assert_eq!(state.outputs.unwrap_err().for_field("rules[0].resourceNames").len(), 1);
        let state =
            reduce(State::default(), Action::SetResourceNames { rule: 0, text: "web, Api".into() });
        assert!(state.outputs.unwrap_err().for_field("rules[0]")[0].contains("\"Api\""));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn an_audit_reads_the_paste_forgets_it_and_follows_the_form_when_asked() {
        let state = reduce(State::default(), Action::SetCurrentNamespace(false));
        let state = reduce(state, Action::SetNamespace("demo".into()));
        let manifests = cicd_access_core::manifest::build_manifests(&state.spec).unwrap();
        let mut secret = serde_json::to_value(manifests.secret.unwrap()).unwrap();
        secret["data"] = serde_json::json!({"token": "c2VjcmV0LXRva2Vu"});
        let listing = serde_json::json!({"kind": "List", "items": [
            serde_json::to_value(&manifests.role).unwrap(),
            serde_json::to_value(&manifests.role_binding).unwrap(),
            serde_json::to_value(&manifests.service_account).unwrap(),
            secret,
        ]});
        let state = reduce(state, Action::SetAuditListing(listing.to_string()));
        let state = reduce(state, Action::ReadAudit { now: 1_796_032_800 });
        assert!(state.audit.listing.is_empty(), "the paste is forgotten once read");
        assert!(!format!("{state:?}").contains("c2VjcmV0"), "the token was kept");
        let report = state.audit.report.clone().expect("a report");
        assert_eq!(report.accesses.len(), 1);
        assert!(!report.failed(), "{}", report.text());

        // The form's rules change: drift only when the audit is asked to compare with them.
        let edited = reduce(state, Action::RemoveRule(0));
        assert!(!edited.audit.report.as_ref().unwrap().failed());
        let against = reduce(edited, Action::SetAuditAgainstForm(true));
        let drift = against.audit.report.as_ref().unwrap().accesses[0].drift.clone();
        assert_eq!(drift.expect("drift").against, "given");

        let bad = reduce(against, Action::SetAuditListing("NAME   SECRETS".into()));
        let bad = reduce(bad, Action::ReadAudit { now: 0 });
        assert!(matches!(&bad.audit.read, Some(Err(e)) if e.contains("-o json")));
        assert!(bad.audit.report.is_none());
        assert_eq!(bad.audit.listing, "NAME   SECRETS", "a paste that failed stays to be fixed");
        assert_eq!(reduce(bad, Action::ClearAudit).audit, Audit::default());
    }
}
