//! Minikube destination. The profile and its container runtime come from
//! `minikube profile list -o json`. With the docker runtime the image goes through the Docker
//! daemon inside the node, at the address `minikube docker-env` names, so the docker
//! publisher's "already there, moved 0 bytes" check applies unchanged; with containerd or
//! cri-o, `minikube image load` does the transfer after `minikube image ls` is consulted.

use std::collections::HashMap;
use std::process::Command;

use serde::Deserialize;

use super::docker::{DockerConnection, DockerPublisher};
use super::{ImageRef, PublishError, Published, Publisher};

/// A minikube profile as `profile list -o json` reports it (only the fields forge needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub status: String,
    pub runtime: String,
    pub active: bool,
    pub cpus: u64,
    pub memory_mib: u64,
}

#[derive(Deserialize)]
struct ProfileList {
    #[serde(default)]
    valid: Vec<RawProfile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawProfile {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    active: bool,
    config: RawConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default)]
    memory: u64,
    #[serde(default, rename = "CPUs")]
    cpus: u64,
    kubernetes_config: RawKubernetesConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawKubernetesConfig {
    #[serde(default)]
    container_runtime: String,
}

/// Parses `minikube profile list -o json`.
pub fn parse_profile_list(json: &str) -> Result<Vec<Profile>, String> {
    let list: ProfileList = serde_json::from_str(json).map_err(|e| format!("not the JSON of `minikube profile list -o json`: {e}"))?;
    Ok(list
        .valid
        .into_iter()
        .map(|p| Profile {
            name: p.name,
            status: p.status,
            // minikube leaves the runtime empty in old profiles; its default then was docker.
            runtime: if p.config.kubernetes_config.container_runtime.is_empty() {
                "docker".to_string()
            } else {
                p.config.kubernetes_config.container_runtime
            },
            active: p.active,
            cpus: p.config.cpus,
            memory_mib: p.config.memory,
        })
        .collect())
}

/// The profile to use: the one asked for, else the active one, else minikube's default name.
pub fn select_profile(profiles: &[Profile], wanted: Option<&str>) -> Result<Profile, String> {
    let names = || profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let found = match wanted {
        Some(name) => profiles.iter().find(|p| p.name == name),
        None => profiles.iter().find(|p| p.active).or_else(|| profiles.iter().find(|p| p.name == "minikube")),
    };
    match (found, wanted) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(name)) => Err(format!("no minikube profile {name:?} (profiles: {}); create it with `minikube start -p {name}`", names())),
        (None, None) if profiles.is_empty() => Err("minikube has no profiles; run `minikube start`".to_string()),
        (None, None) => Err(format!("no active minikube profile among {}; pass --profile NAME", names())),
    }
}

/// Parses `minikube docker-env --shell none` (KEY=VALUE lines); also accepts the bash form
/// (`export KEY="VALUE"`) and ignores comments.
pub fn parse_docker_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// Whether `minikube image ls --format json` lists an image whose ID is `config_digest`.
pub fn image_list_has(json: &str, config_digest: &str) -> Result<bool, String> {
    #[derive(Deserialize)]
    struct Listed {
        id: String,
    }
    let listed: Vec<Listed> = serde_json::from_str(json).map_err(|e| format!("not the JSON of `minikube image ls --format json`: {e}"))?;
    let hex = config_digest.trim_start_matches("sha256:");
    Ok(listed.iter().any(|i| i.id.trim_start_matches("sha256:") == hex))
}

/// Arguments of every minikube invocation forge makes, in one place so tests can check them.
pub mod args {
    pub fn profile_list() -> Vec<String> {
        vec!["profile".into(), "list".into(), "-o".into(), "json".into()]
    }
    pub fn docker_env(profile: &str) -> Vec<String> {
        vec!["-p".into(), profile.into(), "docker-env".into(), "--shell".into(), "none".into()]
    }
    pub fn image_ls(profile: &str) -> Vec<String> {
        vec!["-p".into(), profile.into(), "image".into(), "ls".into(), "--format".into(), "json".into()]
    }
    pub fn image_load(profile: &str, archive: &str) -> Vec<String> {
        vec!["-p".into(), profile.into(), "image".into(), "load".into(), archive.into()]
    }
}

/// How an image reaches a given profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// docker runtime: through the node's Docker daemon.
    Docker(DockerConnection),
    /// any other runtime: `minikube image load`.
    ImageLoad,
}

/// Picks the route for a profile; `docker_env` is the parsed `minikube docker-env` output,
/// needed only for the docker runtime.
pub fn route(profile: &Profile, docker_env: Option<&HashMap<String, String>>) -> Result<Route, String> {
    if profile.runtime == "docker" {
        let env = docker_env.ok_or("the docker runtime needs `minikube docker-env` output")?;
        if !env.contains_key("DOCKER_HOST") {
            return Err(format!("`minikube -p {} docker-env` printed no DOCKER_HOST; is the profile running?", profile.name));
        }
        Ok(Route::Docker(DockerConnection::from_vars(env)))
    } else {
        Ok(Route::ImageLoad)
    }
}

/// Loads images into a minikube cluster.
#[derive(Debug, Clone)]
pub struct MinikubePublisher {
    /// The minikube program (`$MINIKUBE` or `minikube`).
    pub program: String,
    /// Profile asked for with --profile; None means the active one.
    pub profile: Option<String>,
}

impl MinikubePublisher {
    pub fn from_env(profile: Option<String>) -> MinikubePublisher {
        let program = std::env::var("MINIKUBE").unwrap_or_else(|_| "minikube".to_string());
        MinikubePublisher { program, profile: profile.or_else(|| std::env::var("MINIKUBE_PROFILE").ok()) }
    }

    fn run(&self, args: &[String]) -> Result<String, PublishError> {
        let command = format!("{} {}", self.program, args.join(" "));
        let output = Command::new(&self.program).args(args).output().map_err(|e| PublishError::Command {
            command: command.clone(),
            reason: e.to_string(),
            hint: "install minikube (https://minikube.sigs.k8s.io) or set MINIKUBE to its path".into(),
        })?;
        if !output.status.success() {
            return Err(PublishError::Command {
                command,
                reason: format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim()),
                hint: "check `minikube status` and start the cluster with `minikube start`".into(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The selected profile, from `minikube profile list -o json`.
    pub fn profile(&self) -> Result<Profile, PublishError> {
        let listing = self.run(&args::profile_list())?;
        let problem = |reason: String| PublishError::Unexpected { destination: "minikube".into(), reason };
        let profiles = parse_profile_list(&listing).map_err(problem)?;
        select_profile(&profiles, self.profile.as_deref()).map_err(problem)
    }
}

impl Publisher for MinikubePublisher {
    fn destination(&self) -> String {
        match &self.profile {
            Some(p) => format!("minikube (profile {p})"),
            None => "minikube".to_string(),
        }
    }

    fn publish(&self, image: &ImageRef) -> Result<Published, PublishError> {
        let profile = self.profile()?;
        let destination = format!("minikube (profile {}, runtime {})", profile.name, profile.runtime);
        let problem = |reason: String| PublishError::Unexpected { destination: destination.clone(), reason };
        let docker_env = if profile.runtime == "docker" {
            Some(parse_docker_env(&self.run(&args::docker_env(&profile.name))?))
        } else {
            None
        };
        match route(&profile, docker_env.as_ref()).map_err(problem)? {
            Route::Docker(connection) => {
                let mut published = DockerPublisher::new(connection).publish(image)?;
                published.destination = destination;
                Ok(published)
            }
            Route::ImageLoad => {
                let listed = self.run(&args::image_ls(&profile.name))?;
                let already_present = image_list_has(&listed, &image.config.digest).map_err(problem)?;
                if !already_present {
                    self.run(&args::image_load(&profile.name, &image.archive.to_string_lossy()))?;
                }
                let bytes_moved = if already_present {
                    0
                } else {
                    std::fs::metadata(&image.archive).map_err(|e| PublishError::io(&image.archive, e))?.len()
                };
                Ok(Published {
                    image: image.name.clone(),
                    destination,
                    reference: image.local_tag(),
                    digest: image.config.digest.clone(),
                    bytes_moved,
                    already_present,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Minikube itself cannot run on this machine (it needs to download its node image), so
    //! these tests check detection and command construction against real `minikube` output
    //! samples; the docker-runtime route is exercised against a real dockerd in
    //! forge/tests/delivery_minikube.rs.
    use super::*;

    /// Shaped like `minikube profile list -o json` of minikube v1.34 (field names from its
    /// ClusterConfig), with a docker-runtime profile
    /// (active) and a containerd one.
    pub(crate) const PROFILE_LIST: &str = include_str!("testdata/minikube-profile-list.json");

    #[test]
    fn parses_profiles_with_runtime_and_resources() {
        let profiles = parse_profile_list(PROFILE_LIST).unwrap();
        assert_eq!(profiles.len(), 2);
        assert_eq!(
            profiles[0],
            Profile { name: "minikube".into(), status: "OK".into(), runtime: "docker".into(), active: true, cpus: 2, memory_mib: 3900 }
        );
        assert_eq!(profiles[1].name, "ctr");
        assert_eq!(profiles[1].runtime, "containerd");
        assert!(!profiles[1].active);
    }

    #[test]
    fn selects_the_active_profile_unless_one_is_named() {
        let profiles = parse_profile_list(PROFILE_LIST).unwrap();
        assert_eq!(select_profile(&profiles, None).unwrap().name, "minikube");
        assert_eq!(select_profile(&profiles, Some("ctr")).unwrap().runtime, "containerd");
        let err = select_profile(&profiles, Some("prod")).unwrap_err();
        assert!(err.contains("no minikube profile \"prod\"") && err.contains("minikube start -p prod"), "{err}");
        let err = select_profile(&[], None).unwrap_err();
        assert!(err.contains("run `minikube start`"), "{err}");
    }

    #[test]
    fn garbage_profile_list_is_a_clear_error() {
        let err = parse_profile_list("🔥  Exiting due to ...").unwrap_err();
        assert!(err.contains("minikube profile list -o json"), "{err}");
    }

    #[test]
    fn docker_env_in_none_and_bash_form() {
        let none = "DOCKER_TLS_VERIFY=1\nDOCKER_HOST=tcp://192.168.49.2:2376\nDOCKER_CERT_PATH=/root/.minikube/certs\nMINIKUBE_ACTIVE_DOCKERD=minikube\n";
        let bash = "export DOCKER_TLS_VERIFY=\"1\"\nexport DOCKER_HOST=\"tcp://192.168.49.2:2376\"\nexport DOCKER_CERT_PATH=\"/root/.minikube/certs\"\n\n# To point your shell to minikube's docker-daemon, run:\n# eval $(minikube -p minikube docker-env)\n";
        for text in [none, bash] {
            let env = parse_docker_env(text);
            assert_eq!(env["DOCKER_HOST"], "tcp://192.168.49.2:2376");
            let conn = DockerConnection::from_vars(&env);
            assert!(conn.tls_verify);
            assert_eq!(conn.cert_path.as_deref(), Some(std::path::Path::new("/root/.minikube/certs")));
        }
    }

    #[test]
    fn routes_by_runtime() {
        let profiles = parse_profile_list(PROFILE_LIST).unwrap();
        let env = parse_docker_env("DOCKER_HOST=tcp://192.168.49.2:2376\n");
        assert!(matches!(route(&profiles[0], Some(&env)).unwrap(), Route::Docker(c) if c.host == "tcp://192.168.49.2:2376"));
        assert_eq!(route(&profiles[1], None).unwrap(), Route::ImageLoad);
        let err = route(&profiles[0], Some(&HashMap::new())).unwrap_err();
        assert!(err.contains("printed no DOCKER_HOST"), "{err}");
    }

    #[test]
    fn command_lines() {
        assert_eq!(args::profile_list().join(" "), "profile list -o json");
        assert_eq!(args::docker_env("dev").join(" "), "-p dev docker-env --shell none");
        assert_eq!(args::image_ls("dev").join(" "), "-p dev image ls --format json");
        assert_eq!(args::image_load("dev", "/p/out/backend.tar").join(" "), "-p dev image load /p/out/backend.tar");
    }

    #[test]
    fn image_list_matches_on_the_config_digest() {
        let listed = r#"[{"id":"sha256:1111111111111111111111111111111111111111111111111111111111111111","repoDigests":[],"repoTags":["forge.local/backend:abc"],"size":"1000"},
                         {"id":"2222222222222222222222222222222222222222222222222222222222222222","repoDigests":[],"repoTags":["registry.k8s.io/pause:3.10"],"size":"1"}]"#;
        assert!(image_list_has(listed, &format!("sha256:{}", "1".repeat(64))).unwrap());
        assert!(image_list_has(listed, &format!("sha256:{}", "2".repeat(64))).unwrap());
        assert!(!image_list_has(listed, &format!("sha256:{}", "3".repeat(64))).unwrap());
    }

    #[test]
    fn missing_minikube_binary_says_how_to_get_it() {
        let publisher = MinikubePublisher { program: "/nonexistent/minikube".into(), profile: None };
        let err = publisher.profile().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/minikube profile list -o json"), "{err}");
        assert!(err.contains("set MINIKUBE to its path"), "{err}");
    }
}
