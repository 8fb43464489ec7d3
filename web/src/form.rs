//! The form as typed (invalid values stay visible so they can be fixed), the spec the core
//! builds from it, and why its outputs are withheld.

use std::rc::Rc;

use cicd_access_core::derive::Deployer;
use cicd_access_core::draft::Draft;
use cicd_access_core::outputs::Outputs;
use cicd_access_core::validate::{SpecErrors, ValidationError};
use cicd_access_core::{AccessSpec, Rule, TokenDuration, TokenKind};

/// Field key of the token duration (not part of the spec's own validation).
pub const DURATION_FIELD: &str = "token.duration";

/// What the user typed, as typed: invalid values stay visible so they can be fixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub namespace: String,
    /// Use the current namespace of the kubectl context instead of `namespace`.
    pub current_namespace: bool,
    pub service_account: String,
    pub role: String,
    pub role_binding: String,
    pub secret: String,
    pub cluster_name: String,
    /// Empty means "the server of the current context".
    pub server: String,
    pub bound: bool,
    pub duration: String,
    /// How the pipeline deploys: the CI snippets, the "deploy" shortcut and the lint follow it.
    pub deployer: Deployer,
    /// Shared, so that copying the state on a keystroke elsewhere does not copy the rules,
    /// and the rule list sees at once that they did not change.
    pub rules: Rc<Vec<Rule>>,
}

impl Form {
    pub fn from_spec(spec: &AccessSpec) -> Form {
        let (bound, duration) = match &spec.token {
            TokenKind::Secret => (false, "24h".to_owned()),
            TokenKind::Bound { duration } => (true, duration.to_string()),
        };
        Form {
            namespace: spec.namespace.clone().unwrap_or_default(),
            current_namespace: spec.namespace.is_none(),
            service_account: spec.service_account.clone(),
            role: spec.role.clone(),
            role_binding: spec.role_binding.clone(),
            secret: spec.secret.clone(),
            cluster_name: spec.cluster_name.clone(),
            server: spec.server.clone().unwrap_or_default(),
            bound,
            duration,
            deployer: spec.deployer(),
            rules: Rc::new(spec.rules.clone()),
        }
    }

    /// The spec the form describes, and why the token duration is unusable, if it is.
    ///
    /// With an unusable duration the spec carries the shortest valid one so that every other
    /// field is still checked; the outputs are withheld because of the duration error.
    pub fn to_spec(&self) -> (AccessSpec, Option<String>) {
        let mut duration_error = None;
        let token_duration = self.bound.then(|| {
            self.duration.trim().parse::<TokenDuration>().unwrap_or_else(|e| {
                duration_error = Some(e.to_string());
                TokenDuration::SHORTEST
            })
        });
        let spec = Draft {
            namespace: (!self.current_namespace).then(|| self.namespace.clone()),
            rules: self.rules.to_vec(),
            service_account: Some(self.service_account.clone()),
            role: Some(self.role.clone()),
            role_binding: Some(self.role_binding.clone()),
            secret: Some(self.secret.clone()),
            cluster_name: Some(self.cluster_name.clone()),
            server: Some(self.server.clone()),
            token_duration,
            deployer: Some(self.deployer),
            ..Draft::default()
        }
        .build();
        (spec, duration_error)
    }
}

/// Why the outputs are withheld: the spec's errors and the duration's.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Problems {
    pub spec: Vec<ValidationError>,
    pub duration: Option<String>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.spec.is_empty() && self.duration.is_none()
    }

    pub fn count(&self) -> usize {
        self.spec.len() + usize::from(self.duration.is_some())
    }

    /// Messages of one field (`namespace`, `rules[2]`, ...), for showing beside it.
    pub fn for_field(&self, field: &str) -> Vec<String> {
        if field == DURATION_FIELD {
            return self.duration.iter().cloned().collect();
        }
        let errors = SpecErrors(self.spec.clone());
        errors.for_field(field).map(|e| e.reason().to_owned()).collect()
    }

    /// Every problem as `(field, full message)`, for the outputs' "why not shown" list.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> =
            self.spec.iter().map(|e| (e.field().to_owned(), e.to_string())).collect();
        if let Some(duration) = &self.duration {
            all.push((DURATION_FIELD.to_owned(), duration.clone()));
        }
        all
    }
}

/// Runs the core on a form: the outputs, or why there are none.
pub fn regenerate(form: &Form) -> (Rc<AccessSpec>, Result<Rc<Outputs>, Problems>) {
    let (spec, duration) = form.to_spec();
    let spec = Rc::new(spec);
    let built = Outputs::build(&spec);
    let result = match (built, duration) {
        (Ok(outputs), None) => Ok(Rc::new(outputs)),
        (Ok(_), duration) => Err(Problems { spec: Vec::new(), duration }),
        (Err(errors), duration) => Err(Problems { spec: errors.0, duration }),
    };
    (spec, result)
}
