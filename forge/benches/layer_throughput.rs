//! Layer assembly throughput: forge's deterministic tar+gzip writer against `tar -c | gzip`
//! on the same directory, in the same run. Usage: `cargo bench -p forge --bench
//! layer_throughput -- DIR` (DIR: e.g. an unpacked image root file system).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use forge::fsentry::{Entry, EntryKind};

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<Entry>) {
    let mut children: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    children.sort();
    for path in children {
        let meta = std::fs::symlink_metadata(&path).expect("stat");
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .to_string();
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Symlink(
                std::fs::read_link(&path)
                    .expect("readlink")
                    .to_string_lossy()
                    .to_string(),
            )
        } else if meta.is_dir() {
            EntryKind::Dir
        } else if meta.is_file() {
            EntryKind::File(std::fs::read(&path).expect("read"))
        } else {
            continue;
        };
        let is_dir = kind == EntryKind::Dir;
        out.push(Entry {
            path: rel,
            kind,
            mode: meta.permissions().mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        });
        if is_dir {
            read_tree(root, &path, out);
        }
    }
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .expect("usage: layer_throughput DIR");
    let dir = Path::new(&dir);
    let out = tempfile::tempdir().expect("temp dir");
    let rounds = 3;

    let mut best_forge = f64::MAX;
    let mut bytes = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut entries = Vec::new();
        read_tree(dir, dir, &mut entries);
        let blob = forge::layer::write_layer(entries, 0, out.path()).expect("layer");
        best_forge = best_forge.min(start.elapsed().as_secs_f64());
        bytes = blob.uncompressed_size;
        std::fs::remove_file(out.path().join(&blob.digest[7..])).expect("remove blob");
    }

    let mut best_baseline = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg("tar -c -C \"$1\" . | gzip -6 > \"$2\"")
            .arg("sh")
            .arg(dir)
            .arg(out.path().join("baseline.tar.gz"))
            .stdout(Stdio::null())
            .status()
            .expect("tar | gzip");
        assert!(status.success(), "tar | gzip failed");
        best_baseline = best_baseline.min(start.elapsed().as_secs_f64());
    }

    let mb = bytes as f64 / 1e6;
    let forge_rate = mb / best_forge;
    let base_rate = mb / best_baseline;
    println!("layer assembly: {mb:.1} MB uncompressed tar, best of {rounds}");
    println!("  forge layer writer: {best_forge:.3} s = {forge_rate:.1} MB/s");
    println!("  tar -c | gzip -6:   {best_baseline:.3} s = {base_rate:.1} MB/s");
    println!(
        "  ratio forge/baseline: {:.2}x (goal >= 0.90x)",
        forge_rate / base_rate
    );
}
