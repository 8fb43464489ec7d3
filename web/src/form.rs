//! The form as typed (invalid values stay visible so they can be fixed), the spec the core
//! builds from it, and why its outputs are withheld.

use std::rc::Rc;

use cicd_access_core::derive::Deployer;
use cicd_access_core::draft::Draft;
use cicd_access_core::outputs::Outputs;
use cicd_access_core::validate::{SpecErrors, ValidationError};
use cicd_access_core::{AccessSpec, KeylessIdentity, Provider, Rule, TokenDuration, TokenKind};

/// Field key of the token duration (not part of the spec's own validation).
pub const DURATION_FIELD: &str = "token.duration";

/// Which of the three identities the access has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenChoice {
    Secret,
    Bound,
    Keyless,
}

/// One typed field of a keyless identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeylessField {
    Repository,
    Project,
    Ref,
    Environment,
    Issuer,
    Audience,
    Claim,
    Value,
}

impl KeylessField {
    /// The fields the page offers for `provider`, in order; the others stay out of the spec.
    pub fn of(provider: Provider) -> &'static [KeylessField] {
        use KeylessField::{Audience, Claim, Environment, Issuer, Project, Ref, Repository, Value};
        match provider {
            Provider::Github => &[Repository, Ref, Environment, Audience],
            Provider::Gitlab => &[Project, Ref, Environment, Issuer, Audience],
            Provider::Custom => &[Issuer, Claim, Value, Audience],
        }
    }

    /// The spec's name of the field, after `token.`: its errors' key and its input's id.
    pub fn name(self) -> &'static str {
        match self {
            KeylessField::Repository => "repository",
            KeylessField::Project => "project",
            KeylessField::Ref => "ref",
            KeylessField::Environment => "environment",
            KeylessField::Issuer => "issuer",
            KeylessField::Audience => "audience",
            KeylessField::Claim => "claim",
            KeylessField::Value => "value",
        }
    }

    pub fn get(self, identity: &KeylessIdentity) -> &Option<String> {
        match self {
            KeylessField::Repository => &identity.repository,
            KeylessField::Project => &identity.project,
            KeylessField::Ref => &identity.git_ref,
            KeylessField::Environment => &identity.environment,
            KeylessField::Issuer => &identity.issuer,
            KeylessField::Audience => &identity.audience,
            KeylessField::Claim => &identity.claim,
            KeylessField::Value => &identity.value,
        }
    }

    pub fn get_mut(self, identity: &mut KeylessIdentity) -> &mut Option<String> {
        match self {
            KeylessField::Repository => &mut identity.repository,
            KeylessField::Project => &mut identity.project,
            KeylessField::Ref => &mut identity.git_ref,
            KeylessField::Environment => &mut identity.environment,
            KeylessField::Issuer => &mut identity.issuer,
            KeylessField::Audience => &mut identity.audience,
            KeylessField::Claim => &mut identity.claim,
            KeylessField::Value => &mut identity.value,
        }
    }
}

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
    pub token: TokenChoice,
    pub duration: String,
    /// The keyless identity as typed (an empty field is `None`), kept while another token
    /// is chosen; of it the spec takes the fields its provider offers.
    pub keyless: KeylessIdentity,
    /// How the pipeline deploys: the CI snippets, the "deploy" shortcut and the lint follow it.
    pub deployer: Deployer,
    /// Shared, so that copying the state on a keystroke elsewhere does not copy the rules,
    /// and the rule list sees at once that they did not change.
    pub rules: Rc<Vec<Rule>>,
}

impl Form {
    pub fn from_spec(spec: &AccessSpec) -> Form {
        let (token, duration, keyless) = match &spec.token {
            TokenKind::Secret => {
                (TokenChoice::Secret, "24h".to_owned(), KeylessIdentity::default())
            }
            TokenKind::Bound { duration } => {
                (TokenChoice::Bound, duration.to_string(), KeylessIdentity::default())
            }
            TokenKind::Keyless(identity) => {
                (TokenChoice::Keyless, "24h".to_owned(), identity.clone())
            }
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
            token,
            duration,
            keyless,
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
        let token_duration = (self.token == TokenChoice::Bound).then(|| {
            self.duration.trim().parse::<TokenDuration>().unwrap_or_else(|e| {
                duration_error = Some(e.to_string());
                TokenDuration::SHORTEST
            })
        });
        let mut spec = Draft {
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
        if self.token == TokenChoice::Keyless {
            let mut identity =
                KeylessIdentity { provider: self.keyless.provider, ..KeylessIdentity::default() };
            for field in KeylessField::of(identity.provider) {
                field.get_mut(&mut identity).clone_from(field.get(&self.keyless));
            }
            spec.token = TokenKind::Keyless(identity);
        }
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
