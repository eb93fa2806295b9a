//! State machines created through `feedpipe serve`'s API (CreateStateMachine), besides the
//! feedpipe machine of the configuration. Each has its own folder, with its executions kept in
//! an [`ExecutionStore`] of their own:
//!
//! ```text
//! machines/NAME/machine.json          type, role, dates, revision (replaced atomically)
//! machines/NAME/definition.asl.json   the current definition
//! machines/NAME/executions/...        its executions, as .feedpipe/executions/ (see store)
//! machines/NAME/logs/...              their Batch jobs' logs
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::RunsError;
use crate::store::ExecutionStore;

/// A created state machine's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// Its name (unique among the machines of this folder).
    pub name: String,
    /// `STANDARD` or `EXPRESS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The role it was created with (kept and shown; the local engine needs none).
    pub role_arn: String,
    /// When it was created, epoch milliseconds.
    pub creation_date_ms: i64,
    /// When it was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_date_ms: Option<i64>,
    /// Changes with every update.
    pub revision_id: String,
    /// The description given at creation or update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Machine {
    /// Whether it is an EXPRESS machine.
    pub fn is_express(&self) -> bool {
        self.kind == "EXPRESS"
    }
}

/// The folder of the created state machines (`.feedpipe/machines/`).
#[derive(Debug, Clone)]
pub struct MachineStore {
    root: PathBuf,
}

/// A state machine name as Step Functions accepts it: 1 to 80 letters, digits, `-` and `_`.
pub fn is_machine_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> RunsError {
    let path = path.to_path_buf();
    move |source| RunsError::Io { path, op, source }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunsError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp, "write"))?;
    std::fs::rename(&tmp, path).map_err(io(path, "replace"))
}

impl MachineStore {
    /// The machines under `state_dir/machines`.
    pub fn new(state_dir: &Path) -> MachineStore {
        MachineStore {
            root: state_dir.join("machines"),
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The execution store of machine `name`.
    pub fn executions(&self, name: &str) -> ExecutionStore {
        ExecutionStore::new(self.dir(name))
    }

    /// Machine `name` and its definition; `None` when there is no such machine.
    pub fn get(&self, name: &str) -> Result<Option<(Machine, String)>, RunsError> {
        if !is_machine_name(name) {
            return Ok(None);
        }
        let file = self.dir(name).join("machine.json");
        let text = match std::fs::read(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&file, "read")(e)),
        };
        let machine: Machine = serde_json::from_slice(&text).map_err(|e| RunsError::Corrupt {
            path: file.clone(),
            what: e.to_string(),
        })?;
        let def_file = self.dir(name).join("definition.asl.json");
        let definition = std::fs::read_to_string(&def_file).map_err(io(&def_file, "read"))?;
        Ok(Some((machine, definition)))
    }

    /// Writes a machine and its definition (creating its folder).
    pub fn put(&self, machine: &Machine, definition: &str) -> Result<(), RunsError> {
        let dir = self.dir(&machine.name);
        std::fs::create_dir_all(&dir).map_err(io(&dir, "create"))?;
        // The definition first: a machine.json always has its definition beside it.
        write_atomic(&dir.join("definition.asl.json"), definition.as_bytes())?;
        let text = serde_json::to_vec_pretty(machine).map_err(|e| RunsError::Corrupt {
            path: dir.join("machine.json"),
            what: e.to_string(),
        })?;
        write_atomic(&dir.join("machine.json"), &text)
    }

    /// Removes machine `name` with its executions and logs; false when there was none.
    pub fn delete(&self, name: &str) -> Result<bool, RunsError> {
        if !is_machine_name(name) {
            return Ok(false);
        }
        let dir = self.dir(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&dir, "remove")(e)),
        }
    }

    /// Every machine, by name.
    pub fn list(&self) -> Result<Vec<Machine>, RunsError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.root, "list")(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(&self.root, "list"))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if let Some((m, _)) = self.get(&name)? {
                out.push(m);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(name: &str) -> Machine {
        Machine {
            name: name.into(),
            kind: "STANDARD".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            creation_date_ms: 1,
            update_date_ms: None,
            revision_id: "r1".into(),
            description: None,
        }
    }

    #[test]
    fn machines_are_kept_listed_and_deleted_with_their_executions() {
        let dir = tempfile::tempdir().unwrap();
        let store = MachineStore::new(dir.path());
        assert!(store.list().unwrap().is_empty());
        store.put(&machine("b"), "{\"B\":1}").unwrap();
        store.put(&machine("a"), "{\"A\":1}").unwrap();
        let names: Vec<String> = store.list().unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["a", "b"]);
        let (m, def) = store.get("a").unwrap().unwrap();
        assert_eq!((m, def.as_str()), (machine("a"), "{\"A\":1}"));
        let run = store.executions("a").create("run-1").unwrap();
        assert!(run.starts_with(dir.path().join("machines/a/executions")));
        assert!(run.is_dir());
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap());
        assert!(store.get("a").unwrap().is_none());
        assert!(!run.exists());
        // Names that are not machine names never reach the file system.
        assert!(store.get("../a").unwrap().is_none());
        assert!(!store.delete("..").unwrap());
        assert!(!is_machine_name("a/b") && !is_machine_name("") && is_machine_name("A_b-1"));
    }
}
