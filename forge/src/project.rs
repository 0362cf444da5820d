//! Where things live in a forge project: the root (nearest ancestor holding `recipes/`),
//! recipe files, the lock, `out/`, and the cache directory.

use std::path::{Path, PathBuf};

/// Errors locating the project or a recipe.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no `recipes/` directory in {} or any parent\n  hint: run forge inside the project, or pass `--root DIR`", start.display())]
    NoRoot { start: PathBuf },
    #[error("no recipe named `{name}`: looked for {}\n  hint: list recipes with `ls {}`", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "), recipes.display())]
    UnknownRecipe {
        name: String,
        tried: Vec<PathBuf>,
        recipes: PathBuf,
    },
    #[error("cannot list recipes in {}: {source}", dir.display())]
    List {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// A located forge project.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

/// Subdirectories of `recipes/` searched by name after `recipes/` itself; `--all` and
/// `forge build` without names only take the top level.
const RECIPE_SUBDIRS: [&str; 2] = ["lab", "test"];

impl Project {
    /// `root` if given, else the nearest ancestor of `cwd` that has a `recipes/` directory.
    pub fn locate(root: Option<&Path>, cwd: &Path) -> Result<Project, ProjectError> {
        if let Some(root) = root {
            let root = cwd.join(root);
            return if root.join("recipes").is_dir() {
                Ok(Project { root })
            } else {
                Err(ProjectError::NoRoot { start: root })
            };
        }
        cwd.ancestors()
            .find(|d| d.join("recipes").is_dir())
            .map(|d| Project {
                root: d.to_path_buf(),
            })
            .ok_or_else(|| ProjectError::NoRoot {
                start: cwd.to_path_buf(),
            })
    }

    pub fn recipes_dir(&self) -> PathBuf {
        self.root.join("recipes")
    }

    /// `recipes/forge.lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.recipes_dir().join("forge.lock")
    }

    /// `out/`.
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("out")
    }

    /// `path` relative to the root, for messages and reports.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The recipe file for `name`: `recipes/NAME.toml`, else `recipes/lab/NAME.toml`, else
    /// `recipes/test/NAME.toml`.
    pub fn find_recipe(&self, name: &str) -> Result<PathBuf, ProjectError> {
        let dir = self.recipes_dir();
        let mut tried = vec![dir.join(format!("{name}.toml"))];
        tried.extend(
            RECIPE_SUBDIRS
                .iter()
                .map(|sub| dir.join(sub).join(format!("{name}.toml"))),
        );
        let valid = !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.');
        match tried.iter().find(|p| valid && p.is_file()) {
            Some(p) => Ok(p.clone()),
            None => Err(ProjectError::UnknownRecipe {
                name: name.into(),
                tried,
                recipes: dir,
            }),
        }
    }

    /// Names of the top-level recipes (`recipes/*.toml`), sorted.
    pub fn top_level_recipes(&self) -> Result<Vec<String>, ProjectError> {
        toml_stems(&self.recipes_dir())
    }

    /// Names of every recipe, top level then `lab/` and `test/`, sorted within each.
    pub fn all_recipes(&self) -> Result<Vec<String>, ProjectError> {
        let mut names = self.top_level_recipes()?;
        for sub in RECIPE_SUBDIRS {
            let dir = self.recipes_dir().join(sub);
            if dir.is_dir() {
                names.extend(toml_stems(&dir)?);
            }
        }
        Ok(names)
    }
}

fn toml_stems(dir: &Path) -> Result<Vec<String>, ProjectError> {
    let list = |source| ProjectError::List {
        dir: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list)? {
        let path = entry.map_err(list)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_root_and_recipes_in_subdirs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("recipes/test")).unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("recipes/base.toml"), "").unwrap();
        std::fs::write(d.path().join("recipes/test/bb.toml"), "").unwrap();
        let p = Project::locate(None, &d.path().join("a/b")).unwrap();
        assert_eq!(p.root, d.path());
        assert_eq!(p.top_level_recipes().unwrap(), ["base"]);
        assert_eq!(p.all_recipes().unwrap(), ["base", "bb"]);
        assert!(p
            .find_recipe("bb")
            .unwrap()
            .ends_with("recipes/test/bb.toml"));
        let e = p.find_recipe("../base").unwrap_err().to_string();
        assert!(e.contains("no recipe named `../base`"), "{e}");
    }
}
