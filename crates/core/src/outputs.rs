//! Everything shown or printed for a spec, by one path for the page and the CLI: the
//! manifests (one stream, each object alone, a `v1` List), the steps, the script and the CI
//! snippets. The spec is validated once, when the manifests are built; the rest is made the
//! first time it is asked for, so the page does not rebuild hidden tabs on a keystroke.

use std::cell::OnceCell;

use crate::manifest::{Document, Manifests, build_manifests, yaml_stream};
use crate::script::{Step, script_of_steps, steps_with_documents};
use crate::snippet::{self, Snippet};
use crate::spec::AccessSpec;
use crate::validate::SpecErrors;

/// The outputs of one valid spec.
#[derive(Clone)]
pub struct Outputs {
    spec: AccessSpec,
    built: Manifests,
    documents: Vec<Document>,
    manifests: String,
    steps: OnceCell<Vec<Step>>,
    script: OnceCell<String>,
    github: OnceCell<Snippet>,
    gitlab: OnceCell<Snippet>,
}

// By hand, leaving out the built objects: everything they hold is in `spec` and
// `manifests`, and deriving these would link k8s-openapi's Debug and PartialEq of every
// object type into the page (BENCHMARKS.md).
impl PartialEq for Outputs {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec && self.manifests == other.manifests
    }
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("spec", &self.spec)
            .field("manifests", &self.manifests)
            .finish_non_exhaustive()
    }
}

impl Outputs {
    /// Validates `spec` and builds its manifests; `Err` lists every problem, by field.
    pub fn build(spec: &AccessSpec) -> Result<Outputs, SpecErrors> {
        let built = build_manifests(spec)?;
        let documents = built.documents();
        Ok(Outputs {
            spec: spec.clone(),
            manifests: yaml_stream(&documents),
            built,
            documents,
            steps: OnceCell::new(),
            script: OnceCell::new(),
            github: OnceCell::new(),
            gitlab: OnceCell::new(),
        })
    }

    pub fn spec(&self) -> &AccessSpec {
        &self.spec
    }

    /// All objects as one multi-document YAML stream, for `kubectl apply -f`.
    pub fn manifests(&self) -> &str {
        &self.manifests
    }

    /// Each object alone, in creation order.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// All objects as a `v1` List, as `kubectl get -o json` prints.
    pub fn json(&self) -> String {
        self.built.to_json()
    }

    /// The documented procedure, step by step, with these manifests.
    pub fn steps(&self) -> &[Step] {
        self.steps.get_or_init(|| steps_with_documents(&self.spec, &self.documents))
    }

    /// The steps as one bash script.
    pub fn script(&self) -> &str {
        self.script.get_or_init(|| script_of_steps(self.steps()))
    }

    pub fn github(&self) -> &Snippet {
        self.github.get_or_init(|| snippet::github_actions_of(&self.spec))
    }

    pub fn gitlab(&self) -> &Snippet {
        self.gitlab.get_or_init(|| snippet::gitlab_ci_of(&self.spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::PRESETS;

    #[test]
    fn every_output_is_the_one_of_its_own_builder() {
        for preset in PRESETS {
            let spec = AccessSpec { namespace: Some("demo".into()), ..preset.spec() };
            let outputs = Outputs::build(&spec).expect("a preset is valid");
            let manifests = build_manifests(&spec).expect("valid");
            assert_eq!(outputs.manifests(), manifests.to_yaml());
            assert_eq!(outputs.json(), manifests.to_json());
            assert_eq!(outputs.documents(), manifests.documents().as_slice());
            assert_eq!(outputs.script(), crate::script::render_script(&spec).expect("valid"));
            assert_eq!(*outputs.github(), snippet::github_actions(&spec).expect("valid"));
            assert_eq!(*outputs.gitlab(), snippet::gitlab_ci(&spec).expect("valid"));
        }
    }

    #[test]
    fn an_invalid_spec_has_no_outputs() {
        let spec = AccessSpec { namespace: Some("Not_A_Namespace".into()), ..PRESETS[0].spec() };
        let errors = Outputs::build(&spec).unwrap_err();
        assert!(errors.0.iter().any(|e| e.field() == "namespace"), "{errors}");
    }
}
