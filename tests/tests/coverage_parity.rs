//! The core's escalation prediction against the real API server: for generated (held rules,
//! desired Role) pairs, bind the held rules to a test identity, read what it holds the way
//! a user would (`kubectl auth can-i --list` or a SelfSubjectRulesReview), and let it create
//! the desired Roles (and bind Roles made by the admin) with `--dry-run=server`. Whether the
//! API server refuses, and the rules its 403 lists, must be what `coverage` predicted, every
//! time.
//!
//! The generator is seeded from the clock; `COVERAGE_PARITY_SEED=N` replays a run, and every
//! failure names its seed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cicd_access_core::coverage::{self, RBAC_GROUP, compact_string};
use cicd_access_core::{Rule, canilist, forbidden, rules_review};
use cicd_access_tests::{ControlPlane, Identity, Kubectl, poll};
use serde_json::{Value, json};

const IDENTITIES: usize = 100;
const ROLES_PER_IDENTITY: usize = 3;
const THREADS: usize = 6;
const RBAC_TIMEOUT: Duration = Duration::from_secs(30);

const GROUPS: &[&str] = &["", "apps", "batch", "*", "example.com"];
const RESOURCES: &[&str] = &[
    "pods",
    "pods/log",
    "pods/exec",
    "pods/*",
    "*/scale",
    "*/status",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "configmaps",
    "secrets",
    "jobs",
    "widgets",
    "*",
];
const VERBS: &[&str] =
    &["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*"];
const NAMES: &[&str] = &["a", "b", "c"];
/// Some held by every authenticated user (`system:discovery`), some not.
const URLS: &[&str] = &["/healthz", "/metrics", "/api", "/apis/apps", "/logs/x", "/version/x"];

/// splitmix64: small, seedable, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("below n")
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// 1..=max items drawn with replacement: repeats happen, as they do in real Roles.
    fn some(&mut self, items: &[&str], max: usize) -> Vec<String> {
        let count = 1 + self.below(max);
        (0..count).map(|_| items[self.below(items.len())].to_owned()).collect()
    }

    /// Some of `items` (70 % each), sometimes (10 %) one from `universe` added.
    fn pick(&mut self, items: &[String], universe: &[&str]) -> Vec<String> {
        let mut picked: Vec<String> = items.iter().filter(|_| self.chance(70)).cloned().collect();
        if picked.is_empty() || self.chance(10) {
            picked.push(universe[self.below(universe.len())].to_owned());
        }
        picked
    }

    /// A rule close to `base`, so that coverage is often nearly but not quite there.
    fn near(&mut self, base: &Rule) -> Rule {
        let resource_names = if base.resource_names.is_empty() && !self.chance(15) {
            Vec::new()
        } else {
            self.pick(&base.resource_names, NAMES)
        };
        Rule {
            api_groups: self.pick(&base.api_groups, GROUPS),
            resources: self.pick(&base.resources, RESOURCES),
            resource_names,
            non_resource_urls: Vec::new(),
            verbs: self.pick(&base.verbs, VERBS),
        }
    }

    fn rule(&mut self) -> Rule {
        let mut rule = Rule {
            api_groups: self.some(GROUPS, 2),
            resources: self.some(RESOURCES, 3),
            verbs: self.some(VERBS, 3),
            ..Rule::default()
        };
        if self.chance(25) {
            rule.resource_names = self.some(NAMES, 2);
        }
        rule
    }
}

/// One identity, what it holds, and the Roles it tries to create and to bind.
struct Case {
    index: usize,
    identity: Identity,
    /// Read with `can-i --list` (else with a SelfSubjectRulesReview).
    can_i_list: bool,
    held: Vec<Rule>,
    /// Roles it creates itself (`try-N-K`); non-resource rules make some invalid.
    desired: Vec<Vec<Rule>>,
}

impl Case {
    fn generate(rng: &mut Rng, index: usize, identity: Identity) -> Case {
        let mut held: Vec<Rule> = (0..=rng.below(4)).map(|_| rng.rule()).collect();
        held.push(Rule::new(&[RBAC_GROUP], &["roles", "rolebindings"], &["create"]));
        if rng.chance(8) {
            let escalate = Rule::new(&[RBAC_GROUP], &["roles"], &["escalate"]);
            // A create carries no name: a name-restricted escalate must not help.
            let name = format!("try-{index}-0");
            held.push(if rng.chance(50) { escalate.with_names(&[&name]) } else { escalate });
        }
        if rng.chance(8) {
            let bind = Rule::new(&[RBAC_GROUP], &["roles"], &["bind"]);
            let name = format!("want-{index}-0");
            held.push(if rng.chance(50) { bind.with_names(&[&name]) } else { bind });
        }
        let desired = (0..ROLES_PER_IDENTITY)
            .map(|_| {
                (0..=rng.below(3))
                    .map(|_| {
                        if rng.chance(50) {
                            let base = &held[rng.below(held.len())];
                            rng.near(base)
                        } else if rng.chance(10) {
                            Rule {
                                non_resource_urls: rng.some(URLS, 2),
                                verbs: rng.some(&["get", "post"], 2),
                                ..Rule::default()
                            }
                        } else {
                            rng.rule()
                        }
                    })
                    .collect()
            })
            .collect();
        Case { index, identity, can_i_list: rng.chance(50), held, desired }
    }

    /// The Roles the admin makes for this case to be bound: the desired ones without the
    /// non-resource rules a Role cannot hold.
    fn bindable(&self, k: usize) -> Vec<Rule> {
        self.desired[k].iter().filter(|r| r.non_resource_urls.is_empty()).cloned().collect()
    }

    fn admin_objects(&self, namespace: &str) -> Vec<Value> {
        let name = format!("held-{}", self.index);
        let mut objects: Vec<Value> = (0..self.desired.len())
            .map(|k| role(&format!("want-{}-{k}", self.index), namespace, &self.bindable(k)))
            .collect();
        objects.push(role(&name, namespace, &self.held));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": { "name": name, "namespace": namespace },
            "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": name },
            "subjects": [{ "apiGroup": RBAC_GROUP, "kind": "User", "name": self.identity.name() }],
        }));
        objects
    }

    fn tried_objects(&self, namespace: &str) -> Vec<Value> {
        let mut objects: Vec<Value> = (0..self.desired.len())
            .map(|k| role(&format!("try-{}-{k}", self.index), namespace, &self.desired[k]))
            .collect();
        objects.extend((0..self.desired.len()).map(|k| {
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": { "name": format!("bind-{}-{k}", self.index), "namespace": namespace },
                "roleRef": { "apiGroup": RBAC_GROUP, "kind": "Role", "name": format!("want-{}-{k}", self.index) },
                "subjects": [{ "apiGroup": RBAC_GROUP, "kind": "User", "name": "someone-else" }],
            })
        }));
        objects
    }
}

fn role(name: &str, namespace: &str, rules: &[Rule]) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": { "name": name, "namespace": namespace },
        "rules": rules,
    })
}

fn list(items: &[Value]) -> String {
    json!({ "apiVersion": "v1", "kind": "List", "items": items }).to_string()
}

/// What the identity holds, read as a user would; waits until its Role is in effect.
fn read_held(case: &Case, kubectl: &Kubectl, namespace: &str) -> Vec<Rule> {
    let what = format!("the rules of user {} in effect", case.identity.name());
    poll(&what, RBAC_TIMEOUT, || {
        let rules = if case.can_i_list {
            let output = kubectl.run(&["auth", "can-i", "--list"]);
            let text = format!("{}{}", output.stderr, output.stdout);
            let list = canilist::parse_can_i_list(&text)?;
            anyhow::ensure!(list.unreadable.is_empty(), "unreadable rows: {:?}", list.unreadable);
            anyhow::ensure!(!list.incomplete, "incomplete list: {text}");
            list.rules
        } else {
            let review = json!({
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "spec": { "namespace": namespace },
            });
            let output =
                kubectl.run_with_stdin(&["create", "-o", "json", "-f", "-"], &review.to_string());
            let review = rules_review::parse_rules_review(&output.stdout)?;
            anyhow::ensure!(!review.incomplete, "incomplete review: {:?}", review.evaluation_error);
            review.rules
        };
        Ok(coverage::allows(&rules, "create", RBAC_GROUP, "rolebindings", "").then_some(rules))
    })
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The API server's answer for one object: its 403 if it refused with the escalation
/// message, else whatever it said.
#[derive(Debug)]
enum Answer {
    Created,
    Refused(Vec<Rule>),
    Other(String),
}

fn answers(stdout: &str, stderr: &str) -> BTreeMap<String, Answer> {
    let mut answers = BTreeMap::new();
    for line in stdout.lines() {
        if let Some(name) = line
            .split_once('/')
            .and_then(|(_, rest)| rest.strip_suffix(" created (server dry run)"))
        {
            answers.insert(name.to_owned(), Answer::Created);
        }
    }
    // kubectl prints one error per object, each starting a line: `Error from server (...)`
    // or, for validation errors, `The Role "x" is invalid: ...`.
    let starts: Vec<usize> = stderr
        .match_indices('\n')
        .map(|(at, _)| at + 1)
        .chain([0])
        .filter(|&at| {
            let line = &stderr[at..];
            line.starts_with("Error from server") || line.starts_with("The ")
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for (i, &start) in starts.iter().enumerate() {
        let chunk = &stderr[start..starts.get(i + 1).copied().unwrap_or(stderr.len())];
        if let Ok(refusal) = forbidden::parse_forbidden(chunk) {
            let name = refusal.object.map(|o| o.name).unwrap_or_default();
            answers.insert(name, Answer::Refused(refusal.missing));
        } else {
            let name = chunk
                .split('"')
                .find(|part| part.starts_with("try-") || part.starts_with("bind-"))
                .unwrap_or_default();
            answers.insert(name.to_owned(), Answer::Other(chunk.trim().to_owned()));
        }
    }
    answers
}

fn printed(rules: &[Rule]) -> String {
    rules.iter().flat_map(|r| ["\n    ".to_owned(), compact_string(r)]).collect()
}

/// Compares every prediction of one case with the API server's answer; returns the
/// mismatches and (refused, created) counts.
fn check(case: &Case, namespace: &str) -> (Vec<String>, usize, usize) {
    let kubectl = case.identity.kubectl().namespace(namespace);
    let held = read_held(case, &kubectl, namespace);
    let output = kubectl.run_with_stdin(
        &["create", "--dry-run=server", "-f", "-"],
        &list(&case.tried_objects(namespace)),
    );
    let answers = answers(&output.stdout, &output.stderr);
    let mut mismatches = Vec::new();
    let (mut refused, mut created) = (0, 0);
    for k in 0..case.desired.len() {
        let role_rules = case.bindable(k);
        for (name, predicted, invalid_ok) in [
            (
                format!("try-{}-{k}", case.index),
                coverage::check_role(&held, &case.desired[k], None),
                case.desired[k].iter().any(|r| !r.non_resource_urls.is_empty()),
            ),
            (
                format!("bind-{}-{k}", case.index),
                coverage::check_role_binding(
                    &held,
                    &format!("want-{}-{k}", case.index),
                    &role_rules,
                ),
                false,
            ),
        ] {
            let answer = answers.get(&name);
            let agrees = match answer {
                Some(Answer::Refused(missing)) => {
                    refused += 1;
                    !predicted.allowed() && *missing == predicted.missing
                }
                Some(Answer::Created) => {
                    created += 1;
                    predicted.allowed()
                }
                // An invalid Role passes the escalation check first.
                Some(Answer::Other(text)) => {
                    invalid_ok && predicted.allowed() && text.contains("is invalid")
                }
                None => false,
            };
            if !agrees {
                let source =
                    if case.can_i_list { "can-i --list" } else { "SelfSubjectRulesReview" };
                mismatches.push(format!(
                    "{name} by {} (held read with {source}):\n  held:{}\n  desired:{}\n  predicted allowed={} missing:{}\n  API server: {answer:?}\n  stderr: {}",
                    case.identity.name(),
                    printed(&held),
                    printed(if name.starts_with("try") { &case.desired[k] } else { &role_rules }),
                    predicted.allowed(),
                    printed(&predicted.missing),
                    output.stderr.trim(),
                ));
            }
        }
    }
    (mismatches, refused, created)
}

#[test]
fn prediction_equals_the_api_server() {
    let seed = std::env::var("COVERAGE_PARITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos =
                SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos();
            u64::try_from(nanos % u128::from(u64::MAX)).expect("fits")
        });
    eprintln!("coverage parity: seed {seed} (replay with COVERAGE_PARITY_SEED={seed})");
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let mut rng = Rng(seed);
    let cases: Vec<Case> =
        (0..IDENTITIES).map(|index| Case::generate(&mut rng, index, cluster.user())).collect();
    let objects: Vec<Value> =
        cases.iter().flat_map(|c| c.admin_objects(namespace.name())).collect();
    namespace
        .admin()
        .run_with_stdin(&["create", "-f", "-"], &list(&objects))
        .expect_success("creating the held Roles, their bindings and the Roles to bind");

    let next = AtomicUsize::new(0);
    let results = Mutex::new((Vec::new(), 0, 0));
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (mismatches, refused, created) = check(case, namespace.name());
                    let mut results = results.lock().expect("no thread panicked holding it");
                    results.0.extend(mismatches);
                    results.1 += refused;
                    results.2 += created;
                }
            });
        }
    });
    let (mismatches, refused, created) = results.into_inner().expect("no thread panicked");
    let total = IDENTITIES * ROLES_PER_IDENTITY * 2;
    eprintln!(
        "coverage parity: {total} writes, {refused} refused, {created} accepted, {} mismatches",
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "seed {seed} (replay with COVERAGE_PARITY_SEED={seed}): {} of {total} predictions differ from the API server:\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
    assert!(
        refused > total / 20 && created > total / 20,
        "seed {seed}: the generator is lopsided ({refused} refused, {created} accepted)"
    );
}
