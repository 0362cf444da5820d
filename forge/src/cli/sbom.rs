//! `forge sbom NAME [--validate]`: write the image's CycloneDX SBOM (sbom/NAME.cdx.json, also
//! attached to out/NAME as an OCI referrer), or validate the one written.

use anyhow::{bail, Context, Result};
use forge::project::Project;
use forge::{sbom, supply_chain};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image (built into out/NAME).
    pub name: String,
    /// Validate sbom/NAME.cdx.json against the CycloneDX spec and check it describes
    /// out/NAME and equals the copy attached there, instead of writing it.
    #[arg(long)]
    pub validate: bool,
}

pub fn run(project: &Project, args: Args) -> Result<()> {
    let mut out = supply_chain::open(project, &args.name)?;
    let path = project.root.join("sbom").join(format!("{}.cdx.json", args.name));
    if !args.validate {
        let path = supply_chain::write_sbom(project, &mut out)?;
        println!("{}", project.relative(&path));
        return Ok(());
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {} (write it with `forge sbom {}`)", path.display(), args.name))?;
    sbom::validate_json(&bytes).with_context(|| format!("{} is not a valid SBOM", path.display()))?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
    if doc["metadata"]["component"]["version"] != out.image.digest.as_str() {
        bail!("{} describes {}, not out/{} ({}); regenerate it with `forge sbom {}`", path.display(), doc["metadata"]["component"]["version"], args.name, out.image.digest, args.name);
    }
    match sbom::attach::attached(&out.dir, &args.name)? {
        Some(attached) if attached == bytes => {}
        Some(_) => bail!("the SBOM attached to out/{} differs from {}; regenerate both with `forge sbom {}`", args.name, path.display(), args.name),
        None => bail!("out/{} has no attached SBOM; run `forge sbom {}`", args.name, args.name),
    }
    println!("{}: valid CycloneDX {} for {}", project.relative(&path), doc["specVersion"].as_str().unwrap_or("?"), out.image.digest);
    Ok(())
}
