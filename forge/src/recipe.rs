//! The recipe model (`recipes/<name>.toml`) and its parser.
//!
//! A recipe is plain data: what goes into an image, never how. Every value is validated while
//! it is deserialised, so a bad recipe fails with `file:line:column: key: reason` before any
//! download or build starts.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Errors from reading or validating a recipe file.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("cannot read recipe {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a bad value, located in the file.
    #[error("{}:{line}:{column}: {}{message}\n  hint: fix the recipe; the format is described in recipes/README.md",
        path.display(), key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        message: String,
    },
}

/// A validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub description: Option<String>,
    /// Another recipe whose layers come first and whose image config is the default.
    pub base: Option<String>,
    pub debian: Option<DebianSection>,
    pub node: Option<NodeSection>,
    pub build: Option<BuildSection>,
    pub image: ImageSection,
    pub files: Vec<FileSpec>,
    /// The recipe file itself; relative paths inside the recipe are resolved from its directory.
    pub path: PathBuf,
}

/// `[debian]`: packages whose dependency closure goes into the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianSection {
    pub packages: Vec<String>,
    /// Dependencies deliberately not followed.
    pub exclude: Vec<String>,
    pub suites: Vec<String>,
    pub arch: String,
}

/// Suites a recipe resolves against unless it says otherwise.
pub const DEFAULT_SUITES: [&str; 3] = ["trixie", "trixie-updates", "trixie-security"];
/// Architecture a recipe targets unless it says otherwise.
pub const DEFAULT_ARCH: &str = "amd64";

/// `[node]`: the official Node.js runtime (issue 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSection {
    pub version: String,
}

/// `[build]`: how the application layer(s) are produced (issue 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSection {
    pub builder: Builder,
    /// Absolute path of the source tree (the recipe gives it relative to the recipe file).
    pub source: PathBuf,
    /// Build outputs left out of the image, relative to the app directory (e.g.
    /// `node_modules/sharp`): things a tracer includes that the app never loads.
    pub exclude: Vec<String>,
}

/// The application builders forge knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    PythonUv,
    NextStandalone,
    /// One C file compiled with the host's `cc` into `/usr/local/bin/<file stem>`.
    C,
}

/// `[image]`: config values; `None` means "inherit from the base recipe, else the default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageSection {
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub ports: Option<Vec<u16>>,
    /// Merged over the base's env (recipe wins).
    pub env: BTreeMap<String, String>,
    /// Merged over the base's labels (recipe wins).
    pub labels: BTreeMap<String, String>,
}

/// `[[files]]`: an extra file copied into the image's top layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub source: FileSource,
    /// Path inside the image, normalised without the leading `/`.
    pub dest: String,
    pub mode: u32,
}

/// Where an extra file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Absolute host path (the recipe gives it relative to the recipe file).
    Path(PathBuf),
    Inline(String),
}

impl Recipe {
    /// Reads and validates `path`; the file stem must equal the recipe's `name`.
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Recipe::parse(path, &text)
    }

    /// Validates recipe `text` as if it were read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Recipe, RecipeError> {
        let invalid = |span: Option<Range<usize>>, message: String| {
            let span = span.unwrap_or(0..0);
            let (line, column) = line_column(text, span.start);
            RecipeError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                key: key_at(text, &span),
                message,
            }
        };
        let raw: RawRecipe =
            toml::from_str(text).map_err(|e| invalid(e.span(), e.message().trim().to_string()))?;

        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if raw.name.get_ref().0 != stem {
            return Err(invalid(
                Some(raw.name.span()),
                format!(
                    "name `{}` must equal the file name `{stem}` (rename one of them)",
                    raw.name.get_ref().0
                ),
            ));
        }
        if let Some(base) = &raw.base {
            if base.get_ref().0 == stem {
                return Err(invalid(
                    Some(base.span()),
                    "a recipe cannot be its own base".into(),
                ));
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut files = Vec::new();
        for file in raw.files {
            let span = file.span();
            let file = file.into_inner();
            let source = match (file.src, file.content) {
                (Some(src), None) => FileSource::Path(dir.join(src.0)),
                (None, Some(content)) => FileSource::Inline(content),
                _ => {
                    return Err(invalid(
                        Some(span),
                        "each [[files]] entry needs exactly one of `src` or `content`".into(),
                    ))
                }
            };
            files.push(FileSpec {
                source,
                dest: file.dest.0,
                mode: file.mode.map_or(0o644, |m| m.0),
            });
        }

        Ok(Recipe {
            name: raw.name.into_inner().0,
            description: raw.description,
            base: raw.base.map(|b| b.into_inner().0),
            debian: raw.debian.map(|d| DebianSection {
                packages: d.packages.into_iter().map(|p| p.0).collect(),
                exclude: d.exclude.into_iter().map(|p| p.0).collect(),
                suites: d.suites.map_or_else(
                    || DEFAULT_SUITES.iter().map(|s| s.to_string()).collect(),
                    |s| s.into_iter().map(|s| s.0).collect(),
                ),
                arch: d.arch.map_or_else(|| DEFAULT_ARCH.to_string(), |a| a.0),
            }),
            node: raw.node.map(|n| NodeSection {
                version: n.version.0,
            }),
            build: raw.build.map(|b| BuildSection {
                builder: b.builder,
                source: dir.join(b.source.0),
                exclude: b.exclude.into_iter().map(|p| p.0).collect(),
            }),
            image: raw
                .image
                .map_or_else(ImageSection::default, |i| ImageSection {
                    user: i.user.map(|u| u.0),
                    workdir: i.workdir.map(|w| format!("/{}", w.0)),
                    entrypoint: i.entrypoint,
                    cmd: i.cmd,
                    ports: i.ports.map(|p| p.into_iter().map(|p| p.0).collect()),
                    env: i.env.into_iter().map(|(k, v)| (k.0, v)).collect(),
                    labels: i.labels.into_iter().map(|(k, v)| (k.0, v)).collect(),
                }),
            files,
            path: path.to_path_buf(),
        })
    }

    /// Directory the recipe's relative paths are resolved from.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Dotted path of the innermost key whose key or value covers `span` (e.g. `image.user`,
/// `files[1].mode`), so an error can name the key even when the parser only knows a span.
/// Table headers' spans do not cover their bodies, so the whole tree is searched.
fn key_at(text: &str, span: &Range<usize>) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut best: Option<(usize, Vec<String>)> = None;
    visit_table(doc.get_ref(), span.start, &mut Vec::new(), &mut best);
    best.map(|(_, path)| path.join(".").replace(".[", "["))
}

/// Records in `best` the smallest key or value span around `offset` and its path.
fn consider(
    r: Range<usize>,
    offset: usize,
    path: &[String],
    best: &mut Option<(usize, Vec<String>)>,
) {
    let len = r.end.saturating_sub(r.start).max(1);
    if r.start <= offset && offset < r.start + len && best.as_ref().is_none_or(|(l, _)| len <= *l) {
        *best = Some((len, path.to_vec()));
    }
}

fn visit_table(
    table: &toml::de::DeTable<'_>,
    offset: usize,
    path: &mut Vec<String>,
    best: &mut Option<(usize, Vec<String>)>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        consider(key.span(), offset, path, best);
        consider(value.span(), offset, path, best);
        visit_value(value.get_ref(), offset, path, best);
        path.pop();
    }
}

fn visit_value(
    value: &toml::de::DeValue<'_>,
    offset: usize,
    path: &mut Vec<String>,
    best: &mut Option<(usize, Vec<String>)>,
) {
    match value {
        toml::de::DeValue::Table(t) => visit_table(t, offset, path, best),
        toml::de::DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                consider(item.span(), offset, path, best);
                visit_value(item.get_ref(), offset, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

// ---- raw (serde) shape: every field type validates itself, so errors carry the value's span.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    name: Spanned<RecipeName>,
    description: Option<String>,
    base: Option<Spanned<BaseName>>,
    debian: Option<RawDebian>,
    node: Option<RawNode>,
    build: Option<RawBuild>,
    image: Option<RawImage>,
    #[serde(default)]
    files: Vec<Spanned<RawFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebian {
    packages: Vec<PackageName>,
    #[serde(default)]
    exclude: Vec<PackageName>,
    suites: Option<Vec<SuiteName>>,
    arch: Option<ArchName>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    version: Version,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    builder: Builder,
    source: RelativePath,
    #[serde(default)]
    exclude: Vec<BuildOutputPath>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    user: Option<User>,
    workdir: Option<ImagePath>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    ports: Option<Vec<Port>>,
    #[serde(default)]
    env: BTreeMap<EnvName, String>,
    #[serde(default)]
    labels: BTreeMap<LabelKey, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    src: Option<RelativePath>,
    content: Option<String>,
    dest: ImagePath,
    mode: Option<Mode>,
}

/// Declares a string newtype that validates itself during deserialisation.
macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
        #[serde(try_from = "String")]
        struct $name(String);
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value).map(|()| $name(value))
            }
        }
    };
}

validated_string!(
    /// `[a-z0-9][a-z0-9-]*`: used in file names, image references and Kubernetes objects.
    RecipeName,
    |s| {
        let ok = s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && s.len() <= 63;
        ok.then_some(()).ok_or_else(|| {
            format!("invalid recipe name `{s}`: use lowercase letters, digits and `-` (at most 63, starting with a letter or digit)")
        })
    }
);
validated_string!(
    /// `base`: a recipe name. A registry reference (it has `/`, `:` or `@`) must be pinned by
    /// digest (policies: "any registry base pinned by digest"); even pinned, forge cannot use
    /// one yet, since it builds every layer from the lock and has no registry client, and says so.
    BaseName,
    |s| {
        if !s.contains(['/', ':', '@']) {
            return RecipeName::try_from(s.to_string()).map(|_| ());
        }
        let repository = s.split('@').next().unwrap_or(s);
        let pinned = s.split_once("@sha256:").is_some_and(|(repo, hex)| {
            !repo.is_empty() && hex.len() == 64 && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        });
        Err(if pinned {
            format!("registry base `{s}` is pinned by digest, but forge builds bases only from recipes (it has no registry client); name a recipe from recipes/ as base, e.g. `base = \"base\"`")
        } else {
            format!("registry base `{s}` is not pinned by digest; pin it as `{repository}@sha256:<64 hex digits of its manifest>`, or name a recipe from recipes/ as base")
        })
    }
);
validated_string!(
    /// Debian policy 5.6.7: `[a-z0-9][a-z0-9+.-]+`.
    PackageName,
    |s| {
        let ok = s.len() >= 2
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        ok.then_some(()).ok_or_else(|| format!("invalid Debian package name `{s}`"))
    }
);
validated_string!(SuiteName, |s| {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(())
        .ok_or_else(|| format!("invalid suite `{s}` (e.g. `trixie-security`)"))
});
validated_string!(ArchName, |s| {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    ok.then_some(())
        .ok_or_else(|| format!("invalid architecture `{s}` (e.g. `amd64`)"))
});
validated_string!(
    /// `MAJOR.MINOR.PATCH`.
    Version,
    |s| {
        let parts: Vec<&str> = s.split('.').collect();
        let ok = parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        ok.then_some(()).ok_or_else(|| format!("invalid version `{s}`: expected MAJOR.MINOR.PATCH, e.g. `22.23.5`"))
    }
);
validated_string!(
    /// A numeric `uid[:gid]`: names would need the image's passwd at run time, and Kubernetes'
    /// `runAsNonRoot` can only check numbers.
    User,
    |s| {
        let numeric = |p: &str| !p.is_empty() && p.len() <= 10 && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u32>().is_ok();
        let ok = match s.split_once(':') {
            Some((u, g)) => numeric(u) && numeric(g),
            None => numeric(s),
        };
        ok.then_some(()).ok_or_else(|| format!("invalid user `{s}`: expected numeric `uid:gid`, e.g. `65532:65532`"))
    }
);
validated_string!(EnvName, |s| {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(())
        .ok_or_else(|| format!("invalid environment variable name `{s}`"))
});
validated_string!(LabelKey, |s| {
    let ok = !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(())
        .ok_or_else(|| format!("invalid label key `{s}`"))
});

/// A path relative to the recipe file (may climb with `..`, e.g. `../apps/backend`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct RelativePath(PathBuf);
impl TryFrom<String> for RelativePath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.is_empty() || s.starts_with('/') || s.contains('\0') {
            return Err(format!(
                "invalid path `{s}`: give a non-empty path relative to the recipe file"
            ));
        }
        Ok(RelativePath(PathBuf::from(s)))
    }
}

/// A path inside a build's output: relative, no `.`/`..` components, no empty components.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct BuildOutputPath(String);
impl TryFrom<String> for BuildOutputPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty() && !s.contains('\0') && s.split('/').all(|p| !p.is_empty() && p != "." && p != "..");
        ok.then(|| BuildOutputPath(s.clone()))
            .ok_or_else(|| format!("invalid build output path `{s}`: expected a relative path such as `node_modules/sharp`"))
    }
}

/// An absolute path inside the image, stored normalised without its leading `/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct ImagePath(String);
impl TryFrom<String> for ImagePath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || {
            format!("invalid image path `{s}`: expected an absolute path without `.`/`..` components, e.g. `/app`")
        };
        let rest = s.strip_prefix('/').ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        if parts.iter().any(|p| *p == "." || *p == "..") || s.contains('\0') {
            return Err(bad());
        }
        Ok(ImagePath(parts.join("/")))
    }
}

/// A TCP port, 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
struct Port(u16);
impl TryFrom<i64> for Port {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        u16::try_from(n)
            .ok()
            .filter(|p| *p != 0)
            .map(Port)
            .ok_or_else(|| format!("invalid port {n}: expected 1..=65535"))
    }
}

/// Permission bits written as an octal string, e.g. `"0755"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct Mode(u32);
impl TryFrom<String> for Mode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = (3..=4).contains(&s.len()) && s.chars().all(|c| ('0'..='7').contains(&c));
        let mode = u32::from_str_radix(&s, 8).ok().filter(|_| ok);
        // Set-id bits on an extra file would be a privilege escalation waiting to happen.
        match mode {
            Some(m) if m & 0o6000 == 0 => Ok(Mode(m)),
            Some(_) => Err(format!(
                "mode `{s}` sets setuid/setgid bits, which forge refuses"
            )),
            None => Err(format!(
                "invalid mode `{s}`: expected an octal string such as \"0644\""
            )),
        }
    }
}

impl fmt::Display for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Builder::PythonUv => "python-uv",
            Builder::NextStandalone => "next-standalone",
            Builder::C => "c",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Recipe, RecipeError> {
        Recipe::parse(Path::new(&format!("/p/recipes/{name}.toml")), text)
    }

    fn error(name: &str, text: &str) -> String {
        parse(name, text).unwrap_err().to_string()
    }

    #[test]
    fn full_recipe_parses_with_defaults() {
        let r = parse(
            "backend",
            r#"
name = "backend"
base = "base"
[debian]
packages = ["python3.13-minimal"]
exclude = ["debconf"]
[node]
version = "22.23.5"
[build]
builder = "python-uv"
source = "../apps/backend"
[image]
entrypoint = ["/usr/bin/python3.13", "-m", "app"]
ports = [8000]
env = { PYTHONUNBUFFERED = "1" }
workdir = "/app/"
[[files]]
content = "hi"
dest = "/etc/motd"
mode = "0600"
"#,
        )
        .unwrap();
        let d = r.debian.unwrap();
        assert_eq!(d.suites, DEFAULT_SUITES);
        assert_eq!(d.arch, "amd64");
        assert_eq!(r.image.workdir.as_deref(), Some("/app"));
        assert_eq!(r.image.user, None);
        assert_eq!(
            r.build.unwrap().source,
            Path::new("/p/recipes/../apps/backend")
        );
        assert_eq!(r.files[0].dest, "etc/motd");
        assert_eq!(r.files[0].mode, 0o600);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = error("base", "name = \"base\"\n[image]\nusr = \"1\"\n");
        assert!(
            e.starts_with("/p/recipes/base.toml:3:1: key `image.usr`: unknown field `usr`"),
            "{e}"
        );
    }

    #[test]
    fn bad_value_names_file_line_and_key() {
        let e = error("base", "name = \"base\"\n\n[image]\nuser = \"nonroot\"\n");
        assert!(
            e.starts_with("/p/recipes/base.toml:4:8: key `image.user`: invalid user `nonroot`"),
            "{e}"
        );
        let e = error("base", "name = \"base\"\n[image]\nports = [80, 70000]\n");
        assert!(
            e.contains(":3:")
                && e.contains("key `image.ports`")
                && e.contains("invalid port 70000"),
            "{e}"
        );
        let e = error(
            "base",
            "name = \"base\"\n[[files]]\ncontent = \"x\"\ndest = \"/a\"\nmode = \"4755\"\n",
        );
        assert!(
            e.contains(":5:") && e.contains("key `files[0].mode`") && e.contains("setuid"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_is_located() {
        let e = error("base", "name = \"base\"\n[debian]\npackages = \"libc6\"\n");
        assert!(
            e.contains(":3:") && e.contains("key `debian.packages`"),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let e = error("base", "name = \"base\"\n[image\n");
        assert!(e.starts_with("/p/recipes/base.toml:2:"), "{e}");
    }

    #[test]
    fn missing_name_is_an_error() {
        let e = error("base", "description = \"x\"\n");
        assert!(e.contains("missing field `name`"), "{e}");
    }

    #[test]
    fn name_must_match_file_stem() {
        let e = error("base", "name = \"other\"\n");
        assert!(
            e.contains(":1:8: key `name`") && e.contains("must equal the file name `base`"),
            "{e}"
        );
    }

    #[test]
    fn hostile_paths_are_rejected() {
        let e = error(
            "x",
            "name = \"x\"\n[[files]]\ncontent = \"x\"\ndest = \"/etc/../../root\"\n",
        );
        assert!(
            e.contains("key `files[0].dest`") && e.contains("invalid image path"),
            "{e}"
        );
        let e = error(
            "x",
            "name = \"x\"\n[[files]]\ncontent = \"x\"\ndest = \"relative\"\n",
        );
        assert!(e.contains("invalid image path"), "{e}");
        let e = error(
            "x",
            "name = \"x\"\n[build]\nbuilder = \"python-uv\"\nsource = \"/abs\"\n",
        );
        assert!(e.contains("key `build.source`"), "{e}");
    }

    #[test]
    fn registry_base_must_be_pinned_by_digest() {
        for unpinned in ["debian:trixie", "gcr.io/distroless/cc-debian13", "docker.io/library/debian@sha256:abc", "debian:13@sha512:00"] {
            let e = error("x", &format!("name = \"x\"\nbase = \"{unpinned}\"\n"));
            assert!(e.starts_with("/p/recipes/x.toml:2:8: key `base`: registry base"), "{e}");
            assert!(e.contains("is not pinned by digest; pin it as `") && e.contains("@sha256:<64 hex digits"), "{e}");
        }
        let e = error("x", "name = \"x\"\nbase = \"debian:trixie\"\n");
        assert!(e.contains("pin it as `debian:trixie@sha256:"), "{e}");
        let pinned = format!("gcr.io/distroless/cc-debian13@sha256:{}", "0a".repeat(32));
        let e = error("x", &format!("name = \"x\"\nbase = \"{pinned}\"\n"));
        assert!(e.contains(&format!("registry base `{pinned}` is pinned by digest, but forge builds bases only from recipes")), "{e}");
    }

    #[test]
    fn file_needs_exactly_one_source() {
        let e = error("x", "name = \"x\"\n[[files]]\ndest = \"/a\"\n");
        assert!(e.contains("exactly one of `src` or `content`"), "{e}");
    }

    #[test]
    fn bad_names_are_rejected() {
        assert!(
            error("x", "name = \"x\"\nbase = \"Base\"\n").contains("invalid recipe name `Base`")
        );
        assert!(error("x", "name = \"x\"\nbase = \"-x\"\n").contains("invalid recipe name `-x`"));
        assert!(error(
            "x",
            "name = \"x\"\n[debian]\npackages = [\"libc6\", \"Bad_Pkg\"]\n"
        )
        .contains("key `debian.packages`"));
        assert!(error(
            "x",
            "name = \"x\"\n[build]\nbuilder = \"make\"\nsource = \"a\"\n"
        )
        .contains("key `build.builder`"));
        assert!(
            error("x", "name = \"x\"\n[node]\nversion = \"22\"\n").contains("MAJOR.MINOR.PATCH")
        );
        let e = error("x", "name = \"x\"\n[build]\nbuilder = \"c\"\nsource = \"a.c\"\nexclude = [\"../etc\"]\n");
        assert!(e.contains(":5:") && e.contains("key `build.exclude`") && e.contains("invalid build output path"), "{e}");
    }
}
