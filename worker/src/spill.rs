//! [`TempSpill`]: spill storage for index builds in a temporary directory, one file a sorted
//! run. `feed` does no I/O, so its index builder takes spill storage from the caller through
//! [`feed::index::Spill`]; this is the one the `feedpipe` CLI and the check job give it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use feed::index::Spill;

/// A new temporary directory `feedpipe-XXXXXX` under `parent` (the system's temporary
/// directory when `None`), removed when dropped.
pub fn temp_dir(parent: Option<&Path>) -> io::Result<tempfile::TempDir> {
    let builder = tempfile::Builder::new().prefix("feedpipe-").to_owned();
    match parent {
        Some(dir) => builder.tempdir_in(dir).map_err(|e| {
            let what = format!("cannot create a temporary directory in {}", dir.display());
            io::Error::new(e.kind(), format!("{what}: {e}"))
        }),
        None => builder.tempdir().map_err(|e| {
            let what = "cannot create a temporary directory (set FEEDPIPE_TMPDIR)";
            io::Error::new(e.kind(), format!("{what}: {e}"))
        }),
    }
}

/// Spill storage in a temporary directory of its own: run `N` is the file `run-N`. The
/// directory and whatever is left in it go when the storage is dropped (with the index that
/// holds it).
pub struct TempSpill {
    dir: tempfile::TempDir,
}

impl TempSpill {
    /// Storage in a new directory under `parent` (see [`temp_dir`]).
    pub fn new(parent: Option<&Path>) -> io::Result<TempSpill> {
        Ok(TempSpill {
            dir: temp_dir(parent)?,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, run: u64) -> PathBuf {
        self.dir.path().join(format!("run-{run}"))
    }
}

/// The error `e` about `path`, naming it.
fn about(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Spill for TempSpill {
    fn create(&mut self, run: u64) -> io::Result<Box<dyn Write + Send>> {
        let path = self.run(run);
        Ok(Box::new(File::create(&path).map_err(|e| about(&path, e))?))
    }

    fn open(&self, run: u64) -> io::Result<Box<dyn Read + Send>> {
        let path = self.run(run);
        Ok(Box::new(File::open(&path).map_err(|e| about(&path, e))?))
    }

    fn remove(&mut self, run: u64) -> io::Result<()> {
        let path = self.run(run);
        std::fs::remove_file(&path).map_err(|e| about(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_files_that_go_with_the_storage() {
        let parent = tempfile::tempdir().unwrap();
        let mut spill = TempSpill::new(Some(parent.path())).unwrap();
        let dir = spill.path().to_path_buf();
        assert!(dir.starts_with(parent.path()));
        spill.create(3).unwrap().write_all(b"sorted").unwrap();
        let mut back = String::new();
        spill.open(3).unwrap().read_to_string(&mut back).unwrap();
        assert_eq!(back, "sorted");
        spill.remove(3).unwrap();
        let e = spill.open(3).err().unwrap();
        assert!(e.to_string().contains("run-3"), "{e}");
        spill.create(4).unwrap();
        drop(spill);
        assert!(!dir.exists());
        let e = TempSpill::new(Some(&parent.path().join("none")))
            .err()
            .unwrap();
        assert!(e.to_string().contains("none"), "{e}");
    }
}
