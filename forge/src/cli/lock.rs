//! `forge lock [NAME...]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use forge::build::debian_request;
use forge::cache::Cache;
use forge::debian::{self, Mirrors, RecipeRequest};
use forge::lock::Lock;
use forge::node;
use forge::project::Project;
use forge::recipe::Recipe;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipes to (re)lock with their base chains; default: every recipe, and the lock is
    /// rewritten from scratch.
    pub names: Vec<String>,
}

pub fn run(project: &Project, args: Args) -> Result<()> {
    let partial = !args.names.is_empty();
    let mut pending = if partial {
        args.names.clone()
    } else {
        project.all_recipes()?
    };
    let mut requests: Vec<RecipeRequest> = Vec::new();
    // Node.js versions asked for, each with a recipe that asks (named in errors).
    let mut node_versions: BTreeMap<String, PathBuf> = BTreeMap::new();
    while let Some(name) = pending.pop() {
        if requests.iter().any(|r| r.name == name) {
            continue;
        }
        let recipe = Recipe::load(&project.find_recipe(&name)?)?;
        if let Some(base) = &recipe.base {
            pending.push(base.clone());
        }
        if let Some(node) = &recipe.node {
            node_versions.insert(node.version.clone(), recipe.path.clone());
        }
        requests.push(RecipeRequest {
            name: recipe.name.clone(),
            base: recipe.base.clone(),
            debian: debian_request(&recipe, Vec::new()),
        });
    }
    let fresh = debian::lock_project(&requests, &Mirrors::from_env(), &Cache::from_env())?;
    let mut node_runtimes = Vec::new();
    for (version, recipe_path) in node_versions {
        node_runtimes.push(node::resolve(&version, &recipe_path)?);
    }
    let lock_path = project.lock_path();
    let mut lock = if partial && lock_path.exists() {
        let mut old = Lock::load(&lock_path)?;
        for suite in fresh.suites {
            old.suites.retain(|s| s.name != suite.name);
            old.suites.push(suite);
        }
        old.source_date_epoch = old.source_date_epoch.max(fresh.source_date_epoch);
        for recipe in fresh.recipes {
            old.upsert_recipe(recipe);
        }
        old
    } else {
        fresh
    };
    for runtime in node_runtimes {
        lock.upsert_node(runtime);
    }
    lock.save_atomic(&lock_path)
        .with_context(|| format!("cannot write {}", lock_path.display()))?;
    for r in &lock.recipes {
        if requests.iter().any(|q| q.name == r.name) {
            println!("{} {} packages", r.name, r.packages.len());
        }
    }
    eprintln!("wrote {}", project.relative(&lock_path));
    Ok(())
}
