//! A real control plane: etcd, kube-apiserver and kube-controller-manager on loopback, with
//! static-token identities, for one test binary (or one test that stops parts of it).

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use cicd_access_core::Rule;
use serde_json::json;
use tempfile::TempDir;

use crate::addons::{CERT_MANAGER_ROLES, CRD_NAMES, CRDS};
use crate::identity::Identity;
use crate::kubectl::Kubectl;
use crate::pki::{Pki, SigningKey};
use crate::prerequisites::{self, kubernetes_version};
use crate::process::{Process, Watchdog};

/// Number of pre-created static token users (`user-0`, `user-1`, ...) that
/// [`ControlPlane::user_with_rules`] and friends hand out, one per call.
pub const USER_POOL_SIZE: usize = 400;

/// Generous: CI compiles on the same two cores while the control plane starts.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
const RBAC_TIMEOUT: Duration = Duration::from_secs(20);
const LOG_TAIL_LINES: usize = 40;

/// One part of the control plane that a test can stop, kill and restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Etcd,
    ApiServer,
    ControllerManager,
}

impl Component {
    const ALL: [Component; 3] =
        [Component::Etcd, Component::ApiServer, Component::ControllerManager];

    fn index(self) -> usize {
        self as usize
    }
}

/// A running control plane. Dropping it stops every process it started and removes its
/// directory; if the test process dies without dropping it, its watchdog does the same.
#[derive(Debug)]
pub struct ControlPlane {
    server: String,
    etcd_port: u16,
    home: PathBuf,
    pki: Pki,
    admin: Identity,
    namespace_admin: Identity,
    nobody: Identity,
    pool: Vec<Identity>,
    next_user: AtomicUsize,
    next_namespace: AtomicUsize,
    processes: Mutex<[Process; 3]>,
    startup_time: Duration,
    // Dropped after the processes are stopped (see `Drop`), in this order.
    watchdog: Watchdog,
    dir: TempDir,
}

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

impl ControlPlane {
    /// The control plane of this test binary, started on first use and shared by all its
    /// tests; it lives until the binary exits (its watchdog then removes it). Tests that
    /// stop components must use their own [`ControlPlane::start`] instead.
    pub fn shared() -> &'static ControlPlane {
        match SHARED.get_or_init(|| {
            let started = ControlPlane::try_start().map_err(|e| format!("{e:#}"));
            if let Ok(control_plane) = &started {
                control_plane.announce("shared by this binary");
            }
            started
        }) {
            Ok(control_plane) => control_plane,
            Err(message) => panic!("the shared control plane did not start: {message}"),
        }
    }

    /// A private control plane, stopped when dropped. Panics, with the components' logs,
    /// if it cannot start.
    pub fn start() -> ControlPlane {
        ControlPlane::start_with(SigningKey::Rsa)
    }

    /// A private control plane whose tokens are signed with `signing`.
    pub fn start_with(signing: SigningKey) -> ControlPlane {
        let control_plane = ControlPlane::try_start_with(signing, &[])
            .unwrap_or_else(|e| panic!("the control plane did not start: {e:#}"));
        control_plane.announce("private");
        control_plane
    }

    /// A private control plane whose kube-apiserver gets `extra` flags after its own, e.g.
    /// the `--oidc-*` flags of [`crate::OidcIssuer::api_server_flags`].
    pub fn start_with_args(extra: &[String]) -> ControlPlane {
        let control_plane = ControlPlane::try_start_with(SigningKey::Rsa, extra)
            .unwrap_or_else(|e| panic!("the control plane did not start: {e:#}"));
        control_plane.announce("private, with extra kube-apiserver flags");
        control_plane
    }

    /// One line on the real stderr (not the test harness's captured one), so that CI logs
    /// show how long start-up takes and where the logs are.
    fn announce(&self, which: &str) {
        let _ = writeln!(
            io::stderr(),
            "cicd-access-tests: control plane ({which}, kubernetes {}) ready in {:.1?} at {}, logs in {}",
            kubernetes_version(),
            self.startup_time,
            self.server,
            self.dir().join("logs").display()
        );
    }

    /// Starts a control plane. Ports are picked free but could be taken by another process
    /// before a component binds them, so that one failure is retried with new ports.
    pub fn try_start() -> Result<ControlPlane> {
        ControlPlane::try_start_with(SigningKey::Rsa, &[])
    }

    fn try_start_with(signing: SigningKey, extra: &[String]) -> Result<ControlPlane> {
        let binaries = Binaries::find();
        let mut attempt = 1;
        loop {
            match ControlPlane::start_once(&binaries, signing, extra) {
                Ok(control_plane) => return Ok(control_plane),
                Err(e) if attempt < 3 && format!("{e:#}").contains("address already in use") => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn start_once(
        binaries: &Binaries,
        signing: SigningKey,
        extra: &[String],
    ) -> Result<ControlPlane> {
        let begin = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("cicd-access-cp-")
            .tempdir_in(scratch_root())
            .context("cannot create the control plane's directory")?;
        let root = dir.path().to_path_buf();
        let watchdog = Watchdog::spawn(&root).context("cannot start the watchdog")?;
        let pki = Pki::create(&root.join("pki"), signing)?;
        let home = root.join("home");
        fs::create_dir_all(&home)?;

        let [etcd_client, etcd_peer, api_port] = free_ports()?;
        let server = format!("https://127.0.0.1:{api_port}");

        let admin = Identity::new("admin", &["system:masters"]);
        let namespace_admin = Identity::new("namespace-admin", &[]);
        let nobody = Identity::new("nobody", &[]);
        let pool: Vec<Identity> =
            (0..USER_POOL_SIZE).map(|i| Identity::new(&format!("user-{i}"), &[])).collect();
        let mut tokens = String::new();
        for identity in [&admin, &namespace_admin, &nobody].into_iter().chain(&pool) {
            tokens.push_str(&identity.token_file_line());
        }
        let token_file = root.join("tokens.csv");
        fs::write(&token_file, tokens)?;
        let kubeconfigs = root.join("kubeconfigs");
        fs::create_dir_all(&kubeconfigs)?;
        let with_kubeconfig = |identity: Identity| -> Result<Identity> {
            identity.write_kubeconfig(&kubeconfigs, &server, &pki.ca_cert, &home)
        };
        let admin = with_kubeconfig(admin)?;
        let namespace_admin = with_kubeconfig(namespace_admin)?;
        let nobody = with_kubeconfig(nobody)?;
        let pool = pool.into_iter().map(with_kubeconfig).collect::<Result<Vec<_>>>()?;

        let logs = root.join("logs");
        fs::create_dir_all(&logs)?;
        let etcd_url = |port: u16| format!("http://127.0.0.1:{port}");
        let etcd = Process::new(
            "etcd",
            binaries.etcd.clone(),
            args([
                "--name=default".into(),
                format!("--data-dir={}", root.join("etcd").display()),
                format!("--listen-client-urls={}", etcd_url(etcd_client)),
                format!("--advertise-client-urls={}", etcd_url(etcd_client)),
                format!("--listen-peer-urls={}", etcd_url(etcd_peer)),
                format!("--initial-advertise-peer-urls={}", etcd_url(etcd_peer)),
                format!("--initial-cluster=default={}", etcd_url(etcd_peer)),
                "--log-level=warn".into(),
            ]),
            logs.join("etcd.log"),
        );
        let apiserver = Process::new(
            "kube-apiserver",
            binaries.kubernetes.join("kube-apiserver"),
            args([
                format!("--etcd-servers={}", etcd_url(etcd_client)),
                "--bind-address=127.0.0.1".into(),
                "--advertise-address=127.0.0.1".into(),
                format!("--secure-port={api_port}"),
                "--insecure-port=0".into(),
                format!("--cert-dir={}", root.join("apiserver-certs").display()),
                "--authorization-mode=RBAC".into(),
                format!("--token-auth-file={}", token_file.display()),
                format!("--client-ca-file={}", pki.ca_cert.display()),
                format!("--tls-cert-file={}", pki.serving_cert.display()),
                format!("--tls-private-key-file={}", pki.serving_key.display()),
                format!("--service-account-key-file={}", pki.service_account_public_key.display()),
                format!("--service-account-signing-key-file={}", pki.service_account_key.display()),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                "--service-cluster-ip-range=10.0.0.0/24".into(),
                // Loopback is not a valid endpoint address: without this the API server
                // logs an error for the `kubernetes` Service every few seconds.
                "--endpoint-reconciler-type=none".into(),
                // Flow control only adds start-up work; it does not take part in RBAC.
                "--enable-priority-and-fairness=false".into(),
                "--profiling=false".into(),
            ])
            .into_iter()
            .chain(extra.iter().map(OsString::from))
            .collect(),
            logs.join("kube-apiserver.log"),
        );
        let controller_manager = Process::new(
            "kube-controller-manager",
            binaries.kubernetes.join("kube-controller-manager"),
            args([
                format!("--kubeconfig={}", admin.kubeconfig().display()),
                format!(
                    "--service-account-private-key-file={}",
                    pki.service_account_key.display()
                ),
                format!("--root-ca-file={}", pki.ca_cert.display()),
                // Without clusterrole-aggregation the built-in `admin` ClusterRole is
                // empty; without serviceaccount-token Secrets never get their token.
                "--controllers=serviceaccount-token,serviceaccount,namespace,garbagecollector,clusterrole-aggregation".into(),
                "--leader-elect=false".into(),
                // The default 20 requests/s (burst 30) is shared by every controller: with
                // a test binary's namespaces each bringing a `default` ServiceAccount and its
                // token Secret, a token was once left unfilled for 120 s on the loaded machine.
                "--kube-api-qps=100".into(),
                "--kube-api-burst=200".into(),
                "--secure-port=0".into(),
                "--port=0".into(),
            ]),
            logs.join("kube-controller-manager.log"),
        );

        let mut control_plane = ControlPlane {
            server,
            etcd_port: etcd_client,
            home,
            pki,
            admin,
            namespace_admin,
            nobody,
            pool,
            next_user: AtomicUsize::new(0),
            next_namespace: AtomicUsize::new(0),
            processes: Mutex::new([etcd, apiserver, controller_manager]),
            startup_time: Duration::ZERO,
            watchdog,
            dir,
        };
        // From here on a failure returns the logs with the error, and dropping
        // `control_plane` stops what was started.
        control_plane.boot().map_err(|e| anyhow!("{e:#}\n{}", control_plane.log_tails()))?;
        control_plane.startup_time = begin.elapsed();
        Ok(control_plane)
    }

    fn boot(&self) -> Result<()> {
        self.spawn(Component::Etcd)?;
        self.wait_for_etcd()?;
        self.spawn(Component::ApiServer)?;
        self.wait_for_api_server()?;
        self.spawn(Component::ControllerManager)?;

        // A discovery cache of its own: the one of `admin` would otherwise remember that
        // the custom resources did not exist yet.
        let setup = Kubectl::new(self.admin.kubeconfig().to_path_buf(), self.home.join("setup"));
        let applied = setup.apply(&format!("{CRDS}---\n{CERT_MANAGER_ROLES}"));
        if !applied.success() {
            bail!("applying the CRDs and cert-manager's ClusterRoles failed: {}", applied.stderr);
        }
        let mut wait = vec!["wait".to_owned(), "--for=condition=Established".to_owned()];
        wait.push(format!("--timeout={}s", READY_TIMEOUT.as_secs()));
        wait.extend(CRD_NAMES.iter().map(|name| format!("crd/{name}")));
        let waited = setup.run(&wait);
        if !waited.success() {
            bail!("the CRDs did not become Established: {}", waited.stderr);
        }
        // The built-in `admin` ClusterRole is filled by the aggregation controller; a tenant
        // bound to it before that holds nothing, or lacks cert-manager's part.
        poll("the built-in `admin` ClusterRole to be aggregated", READY_TIMEOUT, || {
            let rules = setup.run(&["get", "clusterrole", "admin", "-o", "jsonpath={.rules}"]);
            self.check_running(Component::ControllerManager)?;
            let complete =
                ["deployments", "cert-manager.io"].iter().all(|s| rules.stdout.contains(s));
            Ok((rules.success() && complete).then_some(()))
        })
    }

    fn wait_for_etcd(&self) -> Result<()> {
        let port = self.etcd_port;
        poll("etcd to accept connections", READY_TIMEOUT, || {
            self.check_running(Component::Etcd)?;
            Ok(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok().map(drop))
        })
    }

    fn wait_for_api_server(&self) -> Result<()> {
        let admin = self.admin.kubectl();
        poll("kube-apiserver /readyz", READY_TIMEOUT, || {
            self.check_running(Component::ApiServer)?;
            let ready = admin.run(&["get", "--raw", "/readyz", "--request-timeout=5s"]);
            Ok((ready.success() && ready.stdout.trim() == "ok").then_some(()))
        })
    }

    fn check_running(&self, component: Component) -> Result<()> {
        let mut processes = self.processes();
        let process = &mut processes[component.index()];
        match process.exit_status() {
            Some(status) => bail!("{} exited ({status})", process.name),
            None => Ok(()),
        }
    }

    fn spawn(&self, component: Component) -> Result<()> {
        let group = self.watchdog.group();
        self.processes()[component.index()].spawn(group).map_err(Into::into)
    }

    fn processes(&self) -> MutexGuard<'_, [Process; 3]> {
        // A test that panicked while holding the lock leaves the processes usable.
        self.processes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The cluster CA certificate (PEM file), which signs the API server's certificate.
    pub fn ca_cert(&self) -> &Path {
        &self.pki.ca_cert
    }

    /// The cluster CA certificate, PEM text.
    pub fn ca_pem(&self) -> String {
        fs::read_to_string(&self.pki.ca_cert).expect("the CA certificate is readable")
    }

    /// The control plane's directory (PKI, logs, kubeconfigs, scratch space).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// How long [`ControlPlane::start`] took, from nothing to CRDs established.
    pub fn startup_time(&self) -> Duration {
        self.startup_time
    }

    /// `admin`, in group `system:masters`: may do anything.
    pub fn admin(&self) -> &Identity {
        &self.admin
    }

    /// `namespace-admin`, a tenant: bound to the built-in `admin` `ClusterRole` in the
    /// namespaces of [`ControlPlane::tenant_namespace`] and nowhere else.
    pub fn namespace_admin(&self) -> &Identity {
        &self.namespace_admin
    }

    /// `nobody`: authenticated, bound to nothing.
    pub fn nobody(&self) -> &Identity {
        &self.nobody
    }

    /// `kubectl` with any kubeconfig file (such as one the tool under test wrote).
    pub fn kubectl_with(&self, kubeconfig: impl Into<PathBuf>) -> Kubectl {
        Kubectl::new(kubeconfig.into(), self.home.clone())
    }

    /// A new, empty namespace with a unique name (`test-N`), created by `admin`.
    pub fn namespace(&self) -> TestNamespace<'_> {
        self.namespace_named(&self.unique_namespace_name())
    }

    /// A new, empty namespace called `name`, created by `admin`; for output that must
    /// not depend on test order (fixtures). Panics if it exists.
    pub fn namespace_named(&self, name: &str) -> TestNamespace<'_> {
        self.admin.kubectl().ok(&["create", "namespace", name]);
        let dir = self.dir().join("scratch").join(name);
        fs::create_dir_all(&dir).expect("the scratch directory can be created");
        TestNamespace { control_plane: self, name: name.to_owned(), dir }
    }

    /// A new namespace in which `namespace-admin` is bound to the built-in `admin`
    /// `ClusterRole`, as a tenant of a managed cluster is. Returns once the binding is in
    /// effect.
    pub fn tenant_namespace(&self) -> TestNamespace<'_> {
        self.tenant_namespace_named(&self.unique_namespace_name())
    }

    /// [`ControlPlane::tenant_namespace`] called `name`.
    pub fn tenant_namespace_named(&self, name: &str) -> TestNamespace<'_> {
        let namespace = self.namespace_named(name);
        self.bind(name, &self.namespace_admin, "ClusterRole", "admin");
        wait_until_allowed(
            &self.namespace_admin.kubectl().namespace(name),
            &["create".to_owned(), "rolebindings.rbac.authorization.k8s.io".to_owned()],
        );
        namespace
    }

    fn unique_namespace_name(&self) -> String {
        format!("test-{}", self.next_namespace.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh identity from the pool, bound to nothing (authenticated only).
    pub fn user(&self) -> Identity {
        let index = self.next_user.fetch_add(1, Ordering::Relaxed);
        self.pool
            .get(index)
            .unwrap_or_else(|| panic!("all {USER_POOL_SIZE} pool users are handed out"))
            .clone()
    }

    /// A fresh identity holding exactly `rules` in `namespace` (a Role named after the
    /// user, and a `RoleBinding`). Returns once the rules are in effect.
    pub fn user_with_rules(&self, namespace: &str, rules: &[Rule]) -> Identity {
        let user = self.user();
        let role = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": { "name": user.name(), "namespace": namespace },
            "rules": rules,
        });
        self.admin.kubectl().apply(&role.to_string()).expect_success("creating the Role");
        self.bind(namespace, &user, "Role", user.name());
        if let Some(can_i) = rules.first().and_then(probe) {
            wait_until_allowed(&user.kubectl().namespace(namespace), &can_i);
        }
        user
    }

    /// A fresh identity bound to the `ClusterRole` `cluster_role` in `namespace` only.
    /// Returns once the binding is in effect.
    pub fn user_with_cluster_role(&self, namespace: &str, cluster_role: &str) -> Identity {
        let user = self.user();
        self.bind(namespace, &user, "ClusterRole", cluster_role);
        let rules = self.admin.kubectl().ok(&["get", "clusterrole", cluster_role, "-o", "json"]);
        let role: serde_json::Value = serde_json::from_str(&rules).expect("a ClusterRole as JSON");
        let first = role["rules"]
            .get(0)
            .and_then(|rule| serde_json::from_value::<Rule>(rule.clone()).ok())
            .and_then(|rule| probe(&rule));
        if let Some(can_i) = first {
            wait_until_allowed(&user.kubectl().namespace(namespace), &can_i);
        }
        user
    }

    fn bind(&self, namespace: &str, user: &Identity, kind: &str, role: &str) {
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": { "name": format!("{}-{}", user.name(), role), "namespace": namespace },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user.name() }],
        });
        self.admin.kubectl().apply(&binding.to_string()).expect_success("creating the RoleBinding");
    }

    /// Stops `component` with SIGTERM (SIGKILL after 10 s). [`ControlPlane::restart`]
    /// starts it again.
    pub fn stop(&self, component: Component) {
        self.processes()[component.index()].stop(Duration::from_secs(10));
    }

    /// Kills `component` with SIGKILL, as a crash would.
    pub fn kill(&self, component: Component) {
        self.processes()[component.index()].kill();
    }

    /// The process id of `component`, if it was started and not stopped since.
    pub fn pid(&self, component: Component) -> Option<u32> {
        self.processes()[component.index()].pid()
    }

    /// Whether `component` is running.
    pub fn is_running(&self, component: Component) -> bool {
        self.processes()[component.index()].is_running()
    }

    /// Starts `component` again (stopping it first if it runs) with the same ports and
    /// data; for the API server, returns once it is ready.
    pub fn restart(&self, component: Component) {
        self.stop(component);
        let started = self.spawn(component).and_then(|()| match component {
            Component::Etcd => self.wait_for_etcd(),
            Component::ApiServer => self.wait_for_api_server(),
            Component::ControllerManager => Ok(()),
        });
        if let Err(e) = started {
            panic!("restarting {component:?} failed: {e:#}\n{}", self.log_tails());
        }
    }

    /// The command line `component` runs with: its program's path and every flag (for
    /// kube-apiserver, the extra ones of [`ControlPlane::start_with_args`] too), as a
    /// kubeadm static pod's `command` shows it.
    pub fn command_line(&self, component: Component) -> Vec<String> {
        self.processes()[component.index()].command_line()
    }

    /// The last `lines` lines of `component`'s log.
    pub fn log_tail(&self, component: Component, lines: usize) -> String {
        self.processes()[component.index()].log_tail(lines)
    }

    /// The log file of `component`.
    pub fn log_path(&self, component: Component) -> PathBuf {
        self.processes()[component.index()].log.clone()
    }

    /// The end of every component's log, for a failure message.
    pub fn log_tails(&self) -> String {
        let processes = self.processes();
        let mut text = String::new();
        for component in Component::ALL {
            let process = &processes[component.index()];
            let _ = write!(
                text,
                "\n----- last {LOG_TAIL_LINES} lines of {} ({}) -----\n{}\n",
                process.name,
                process.log.display(),
                process.log_tail(LOG_TAIL_LINES)
            );
        }
        text
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let mut processes = self.processes();
        // Reverse start order: clients before the servers they talk to.
        for component in Component::ALL.into_iter().rev() {
            let process = &mut processes[component.index()];
            if process.pid().is_some() {
                process.stop(Duration::from_secs(5));
            }
        }
    }
}

/// A namespace created for one test. If the test panics, dropping it prints the end of
/// the control plane's logs.
#[derive(Debug)]
pub struct TestNamespace<'a> {
    control_plane: &'a ControlPlane,
    name: String,
    dir: PathBuf,
}

impl TestNamespace<'_> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `kubectl` as `admin` in this namespace.
    pub fn admin(&self) -> Kubectl {
        self.as_identity(self.control_plane.admin())
    }

    /// `kubectl` as `identity` in this namespace.
    pub fn as_identity(&self, identity: &Identity) -> Kubectl {
        identity.kubectl().namespace(&self.name)
    }

    /// A scratch directory for this test's files (kubeconfigs, scripts).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TestNamespace<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "test namespace {} on {}{}",
                self.name,
                self.control_plane.server(),
                self.control_plane.log_tails()
            );
        }
    }
}

/// Calls `check` every 100 ms until it returns `Some`, an error, or `timeout` passes.
pub fn poll<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check()? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// RBAC bindings take effect when the API server's informer sees them, a moment after
/// the write: wait for that, so that tests never see a stale 403.
fn wait_until_allowed(kubectl: &Kubectl, can_i: &[String]) {
    let what = format!("`kubectl auth can-i {}` to say yes", can_i.join(" "));
    let mut args = vec!["auth".to_owned(), "can-i".to_owned()];
    args.extend_from_slice(can_i);
    poll(&what, RBAC_TIMEOUT, || Ok((kubectl.run(&args).stdout.trim() == "yes").then_some(())))
        .unwrap_or_else(|e| panic!("{e:#}"));
}

/// `kubectl auth can-i` arguments for one concrete request the rule grants.
fn probe(rule: &Rule) -> Option<Vec<String>> {
    let verb = rule.verbs.first()?.clone();
    let (resource, subresource) = match rule.resources.first()?.split_once('/') {
        Some((resource, subresource)) => (resource.to_owned(), Some(subresource)),
        None => (rule.resources.first()?.clone(), None),
    };
    let group = rule.api_groups.first().map_or("", String::as_str);
    let mut target =
        if group.is_empty() || group == "*" { resource } else { format!("{resource}.{group}") };
    if let Some(name) = rule.resource_names.first() {
        target = format!("{target}/{name}");
    }
    let mut args = vec![verb, target];
    args.extend(subresource.map(|subresource| format!("--subresource={subresource}")));
    Some(args)
}

fn args<const N: usize>(list: [String; N]) -> Vec<OsString> {
    list.into_iter().map(OsString::from).collect()
}

/// Three distinct free ports: all listeners are held until each has its port.
fn free_ports() -> Result<[u16; 3]> {
    let listeners = [(); 3].map(|()| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)));
    let mut ports = [0; 3];
    for (port, listener) in ports.iter_mut().zip(listeners) {
        *port = listener.context("no free port")?.local_addr()?.port();
    }
    Ok(ports)
}

/// etcd syncs to disk on every write; on tmpfs that costs nothing.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if tempfile::tempdir_in(shm).is_ok() { shm.to_path_buf() } else { env::temp_dir() }
}

/// 128 random bits as hex, for tokens of a throwaway cluster.
pub(crate) fn random_hex() -> String {
    let mut text = String::new();
    for part in 0..2u8 {
        let _ = write!(text, "{:016x}", RandomState::new().hash_one(part));
    }
    text
}

#[derive(Debug)]
struct Binaries {
    kubernetes: PathBuf,
    etcd: PathBuf,
}

impl Binaries {
    /// The binaries, or a stop of the test binary naming what is missing and how to get it.
    fn find() -> Binaries {
        let kubernetes = prerequisites::require_kubernetes();
        let why = "the test control plane stores its state in etcd";
        let etcd = env::var_os("CICD_ACCESS_ETCD")
            .map_or_else(|| prerequisites::require_program("etcd", why), PathBuf::from);
        prerequisites::require_kubectl();
        prerequisites::require_program(
            "openssl",
            "the test control plane's certificates are made with it",
        );
        Binaries { kubernetes, etcd }
    }
}
