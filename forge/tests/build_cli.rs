//! Runs the real `forge` binary on small projects that need no network: recipes without Debian
//! packages still get the system layer and extra files, which is enough to check outputs,
//! determinism, up-to-date detection, lock enforcement and atomic `out/` replacement.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use forge::lock::{self, Lock, LockedRecipe};
use forge::recipe::Recipe;

const FORGE: &str = env!("CARGO_BIN_EXE_forge");

/// A project with one package-less recipe `mini`, locked, and its own cache dir.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(recipe: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("recipes")).unwrap();
        std::fs::write(dir.path().join("recipes/mini.toml"), recipe).unwrap();
        // Every build checks the project's policies (fail closed without them): the repository's
        // own, plus the port `mini` exposes and room for the 64 MiB file of the kill test.
        let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        std::fs::create_dir_all(dir.path().join("policies")).unwrap();
        let image_policy = std::fs::read_to_string(policies.join("image.toml")).unwrap();
        std::fs::write(
            dir.path().join("policies/image.toml"),
            format!("{image_policy}\n[images.mini]\nports = [8080]\nmax_size_mb = 100\n"),
        )
        .unwrap();
        std::fs::copy(
            policies.join("vulnerabilities.toml"),
            dir.path().join("policies/vulnerabilities.toml"),
        )
        .unwrap();
        let p = Project { dir };
        p.lock();
        p
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the lock `forge lock` would write for the package-less recipes (no mirror needed).
    fn lock(&self) {
        let mut lock = Lock::new(1_750_000_000, Vec::new());
        for entry in std::fs::read_dir(self.root().join("recipes")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let recipe = Recipe::load(&path).unwrap();
            let request = forge::build::debian_request(&recipe, Vec::new());
            lock.upsert_recipe(LockedRecipe {
                name: recipe.name.clone(),
                inputs: lock::inputs_digest(&request),
                packages: vec![],
            });
        }
        lock.save_atomic(&self.root().join("recipes/forge.lock"))
            .unwrap();
    }

    /// Adds recipe `name` and relocks.
    fn add_recipe(&self, name: &str, recipe: &str) {
        std::fs::write(self.root().join(format!("recipes/{name}.toml")), recipe).unwrap();
        self.lock();
    }

    fn forge(&self, args: &[&str]) -> Command {
        let mut c = Command::new(FORGE);
        c.args(args)
            .current_dir(self.root())
            .env("FORGE_CACHE", self.root().join("cache"))
            .env_remove("SOURCE_DATE_EPOCH");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.forge(args).output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const MINI: &str = r#"
name = "mini"
[image]
entrypoint = ["/hello"]
ports = [8080]
env = { GREETING = "hi" }
[[files]]
content = "hello\n"
dest = "/etc/hello"
"#;

#[test]
fn build_writes_layout_archive_and_report() {
    let p = Project::new(MINI);
    let o = p.run(&["build", "mini"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let digest = line
        .trim()
        .strip_prefix("mini ")
        .expect("`mini DIGEST`")
        .to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{line}"
    );

    let out = p.root().join("out");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mini/index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "mini"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("mini/oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mini/forge-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["digest"], digest.as_str());
    let concerns: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["concern"].as_str().unwrap())
        .collect();
    assert_eq!(concerns, ["system", "files"]);
    assert_eq!(report["created"], "2025-06-15T15:06:40Z");

    let config_path = out
        .join("mini/blobs/sha256")
        .join(&report["config_digest"].as_str().unwrap()[7..]);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config_path).unwrap()).unwrap();
    let c = &config["config"];
    assert_eq!(c["User"], "65532:65532");
    assert_eq!(c["WorkingDir"], "/home/nonroot");
    assert_eq!(c["Entrypoint"][0], "/hello");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object());
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"GREETING=hi"));
    assert!(env.contains(&"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"));
    assert!(env.iter().any(|e| e.starts_with("PATH=/usr/local/sbin")));
    assert_eq!(config["created"], "2025-06-15T15:06:40Z");

    // docker-archive: manifest.json referencing the same blobs, tagged with the digest prefix.
    let mut ar = tar::Archive::new(std::fs::File::open(out.join("mini.tar")).unwrap());
    let mut names = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().to_string();
        if name == "manifest.json" {
            let m: serde_json::Value = serde_json::from_reader(&mut e).unwrap();
            assert_eq!(
                m[0]["RepoTags"][0],
                format!("forge.local/mini:{}", &digest[7..19])
            );
            assert_eq!(m[0]["Layers"].as_array().unwrap().len(), 2);
        }
        names.push(name);
    }
    assert!(
        names.contains(&"manifest.json".to_string()) && names.contains(&"index.json".to_string())
    );
}

#[test]
fn json_flag_prints_the_report() {
    let p = Project::new(MINI);
    let o = p.run(&["build", "mini", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(report["name"], "mini");
    assert_eq!(report["layers"].as_array().unwrap().len(), 2);
}

#[test]
fn same_inputs_give_the_same_digest_across_paths_caches_umask_tz_and_tmpdir() {
    let a = Project::new(MINI);
    let b = Project::new(MINI);
    let oa = a.run(&["build", "mini"]);
    let tmp = tempfile::tempdir().unwrap();
    let ob = b
        .forge(&["build", "mini"])
        .env("TZ", "Asia/Kathmandu")
        .env("TMPDIR", tmp.path())
        .pre_exec_umask(0o077)
        .output()
        .unwrap();
    assert!(
        oa.status.success() && ob.status.success(),
        "{}{}",
        stderr(&oa),
        stderr(&ob)
    );
    assert_eq!(stdout(&oa), stdout(&ob));
    assert_eq!(
        std::fs::read(a.root().join("out/mini.tar")).unwrap(),
        std::fs::read(b.root().join("out/mini.tar")).unwrap()
    );
    // A different epoch is a different image.
    let oc = a
        .forge(&["build", "mini"])
        .env("SOURCE_DATE_EPOCH", "1")
        .output()
        .unwrap();
    assert!(oc.status.success(), "{}", stderr(&oc));
    assert_ne!(stdout(&oa), stdout(&oc));
}

#[test]
fn unchanged_rebuild_leaves_out_alone() {
    let p = Project::new(MINI);
    assert!(p.run(&["build", "mini"]).status.success());
    let index = p.root().join("out/mini/index.json");
    let before = std::fs::metadata(&index).unwrap().modified().unwrap();
    let o = p.run(&["build", "mini"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("up to date"), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&index).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn missing_lock_says_run_forge_lock() {
    let p = Project::new(MINI);
    std::fs::remove_file(p.root().join("recipes/forge.lock")).unwrap();
    let o = p.run(&["build", "mini"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("recipes/forge.lock does not exist")
            && stderr(&o).contains("run `forge lock`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stale_lock_says_run_forge_lock() {
    let p = Project::new(MINI);
    std::fs::write(
        p.root().join("recipes/mini.toml"),
        format!("{MINI}\n[debian]\npackages = [\"libc6\"]\n"),
    )
    .unwrap();
    let o = p.run(&["build", "mini"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("out of date for recipe `mini`") && e.contains("run `forge lock`"),
        "{e}"
    );
}

#[test]
fn recipe_missing_from_lock_says_run_forge_lock() {
    let p = Project::new(MINI);
    std::fs::write(p.root().join("recipes/other.toml"), "name = \"other\"\n").unwrap();
    let o = p.run(&["build", "other"]);
    let e = stderr(&o);
    assert!(
        !o.status.success()
            && e.contains("no entry for recipe `other`")
            && e.contains("run `forge lock`"),
        "{e}"
    );
}

#[test]
fn bad_recipe_is_reported_with_file_line_and_key() {
    let p = Project::new(MINI);
    std::fs::write(
        p.root().join("recipes/mini.toml"),
        "name = \"mini\"\n[image]\nuser = \"root\"\n",
    )
    .unwrap();
    let o = p.run(&["build", "mini"]);
    let e = stderr(&o);
    assert!(
        !o.status.success()
            && e.contains("recipes/mini.toml:3:8: key `image.user`: invalid user `root`"),
        "{e}"
    );
}

#[test]
fn unknown_recipe_and_empty_selection_are_errors() {
    let p = Project::new(MINI);
    let e = stderr(&p.run(&["build", "nope"]));
    assert!(e.contains("no recipe named `nope`"), "{e}");
    let e = stderr(&p.run(&["build"]));
    assert!(e.contains("--all"), "{e}");
}

/// A recipe on `mini` that exposes no port (the policy allows none for it).
fn on_mini(name: &str) -> String {
    format!("name = \"{name}\"\nbase = \"mini\"\n[image]\nports = []\n[[files]]\ncontent = \"{name}\\n\"\ndest = \"/etc/{name}\"\n")
}

#[test]
fn images_on_one_base_build_at_once_sharing_its_layers() {
    let p = Project::new(MINI);
    p.add_recipe("left", &on_mini("left"));
    p.add_recipe("right", &on_mini("right"));
    let o = p.run(&["build", "left", "right", "mini", "--scan=skip"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["left", "right", "mini"],
        "reports come in the order asked"
    );
    let report = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(p.root().join(format!("out/{name}/forge-report.json")))
                .unwrap(),
        )
        .unwrap()
    };
    let layers = |name: &str| -> Vec<String> {
        report(name)["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect()
    };
    let base = layers("mini");
    for name in ["left", "right"] {
        let own = layers(name);
        assert_eq!(
            own[..base.len()],
            base[..],
            "{name} starts with mini's layers"
        );
        assert_eq!(own.len(), base.len() + 1, "{name} adds one files layer");
    }
}

#[test]
fn a_base_loop_is_an_error_naming_the_chain_not_a_hang() {
    let p = Project::new(MINI);
    p.add_recipe(
        "mini",
        &MINI.replace("name = \"mini\"", "name = \"mini\"\nbase = \"other\""),
    );
    p.add_recipe("other", "name = \"other\"\nbase = \"mini\"\n");
    // Both ends of the loop at once: each thread must see the loop before it waits on the other.
    let mut child = p
        .forge(&["build", "mini", "other", "--scan=skip"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("forge build hung on a base loop");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("recipe base chain loops: mini -> other -> mini"),
        "{e}"
    );
    assert!(
        e.contains("recipe base chain loops: other -> mini -> other"),
        "{e}"
    );
}

/// Runs git in `dir` (as a throwaway committer) and returns its trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

#[test]
fn revision_label_is_the_last_commit_that_changed_the_image_inputs() {
    let p = Project::new(MINI);
    let digest = |p: &Project| {
        let o = p.run(&["build", "mini", "--scan=skip"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).split_whitespace().nth(1).unwrap().to_string()
    };
    git(p.root(), &["init", "-q"]);
    git(p.root(), &["add", "recipes"]);
    git(p.root(), &["commit", "-qm", "recipe"]);
    let first = digest(&p);
    // A commit that touches nothing the image is made of keeps its digest: a deploy of the
    // new commit does not restart this image's workloads.
    std::fs::write(p.root().join("README"), "unrelated\n").unwrap();
    git(p.root(), &["add", "README"]);
    git(p.root(), &["commit", "-qm", "unrelated"]);
    assert_eq!(digest(&p), first);
    // A commit to the recipe is a new revision.
    p.add_recipe(
        "mini",
        &MINI.replace("GREETING = \"hi\"", "GREETING = \"hello\""),
    );
    git(p.root(), &["add", "recipes"]);
    git(p.root(), &["commit", "-qm", "greeting"]);
    assert_ne!(digest(&p), first);
    let config: serde_json::Value = {
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(p.root().join("out/mini/forge-report.json")).unwrap(),
        )
        .unwrap();
        let hex = report["config_digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_string();
        serde_json::from_slice(
            &std::fs::read(p.root().join(format!("out/mini/blobs/sha256/{hex}"))).unwrap(),
        )
        .unwrap()
    };
    let head = git(p.root(), &["rev-parse", "HEAD"]);
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.revision"],
        head
    );
}

#[test]
fn killed_build_leaves_previous_out_intact() {
    // A large incompressible extra file makes the build take long enough to be killed mid-way.
    let p = Project::new(MINI);
    let mut data = vec![0u8; 64 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(p.root().join("recipes/big.bin"), &data).unwrap();
    let recipe = format!("{MINI}\n[[files]]\nsrc = \"big.bin\"\ndest = \"/big\"\n");
    std::fs::write(p.root().join("recipes/mini.toml"), recipe).unwrap();
    p.lock();
    assert!(p.run(&["build", "mini"]).status.success());
    let snapshot = || tree_digest(&p.root().join("out"));
    let good = snapshot();
    for delay_ms in [150u64, 400, 900] {
        let mut child = p
            .forge(&["build", "mini"])
            .env("SOURCE_DATE_EPOCH", format!("{}", 1_800_000_000 + delay_ms))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if !finished {
            assert_eq!(
                snapshot(),
                good,
                "out/ changed after a kill at {delay_ms} ms"
            );
        }
    }
}

/// sha256 over every path and file content under `dir`, skipping forge's temp dirs.
fn tree_digest(dir: &Path) -> String {
    use sha2::Digest;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".forge-tmp-")
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut h = sha2::Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap());
    }
    hex::encode(h.finalize())
}

/// Sets the child's umask (the parent's is process-wide, so it cannot be changed per test).
trait UmaskExt {
    fn pre_exec_umask(&mut self, mask: u32) -> &mut Self;
}

impl UmaskExt for Command {
    fn pre_exec_umask(&mut self, mask: u32) -> &mut Self {
        use std::os::unix::process::CommandExt;
        // SAFETY: umask is async-signal-safe and touches no memory.
        unsafe {
            self.pre_exec(move || {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
                Ok(())
            })
        }
    }
}
