//! The hidden `debug-crash-writer` subcommand that tests/crash.rs kills at random moments: it
//! applies a fixed sequence of commands to a case (create a person, edit the label, undo the
//! edit, redo it, and again), printing `committed N` after each commit. Not part of the
//! program's interface.

use crate::model::{NewEntity, PersonCategory};
use crate::store::{Actor, Case, Command};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// One step of the crash-test writer's fixed sequence of commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashStep {
    /// Create person `p{n}`.
    Create(u64),
    /// Append `*` to the label of person `p{n}`.
    Edit(u64),
    Undo,
    Redo,
}

/// The crash writer's step `n`: create, edit, undo the edit, redo it, and again.
fn crash_step(n: u64) -> CrashStep {
    let base = n - n % 4;
    match n % 4 {
        0 => CrashStep::Create(base),
        1 => CrashStep::Edit(base),
        2 => CrashStep::Undo,
        _ => CrashStep::Redo,
    }
}

/// The labels a case holds after the first `steps` crash-writer steps, in creation order.
#[cfg(test)]
fn crash_expected_labels(steps: u64) -> Vec<String> {
    let mut labels = std::collections::BTreeMap::new();
    for n in 0..steps {
        let base = n - n % 4;
        let label = match n % 4 {
            0 | 2 => format!("p{base}"),
            _ => format!("p{base}*"),
        };
        labels.insert(base, label);
    }
    labels.into_values().collect()
}

/// How many crash-writer steps a case has committed: each step writes exactly one audit
/// record in the same transaction as its change, so the audit log is the counter.
fn crash_steps_committed(case: &Case) -> Result<u64> {
    Ok(case
        .audit_records()?
        .iter()
        .filter(|r| {
            matches!(
                r.action.as_str(),
                "create entity" | "edit entity" | "undo" | "redo"
            )
        })
        .count() as u64)
}

pub(super) fn crash_writer(path: &Path, actor: Actor) -> Result<ExitCode> {
    if !path.exists() {
        Case::create(path, "crash test", actor.clone(), "crash test")?;
    }
    let mut case = Case::open(path, actor, "crash test")?;
    // Resume the sequence where the previous (killed) writer left it.
    let mut n = crash_steps_committed(&case)?;
    let stdout = std::io::stdout();
    let mut ids = std::collections::HashMap::new();
    for e in case.snapshot()?.entities.iter() {
        let i: u64 = e
            .label
            .trim_start_matches('p')
            .trim_end_matches('*')
            .parse()
            .unwrap_or(0);
        ids.insert(i, e.id);
    }
    loop {
        match crash_step(n) {
            CrashStep::Create(i) => {
                let mut entity = NewEntity::new("Person", format!("p{i}"))
                    .with("phone", &format!("+44 7700 {i:06}"))
                    .with("birthDate", "1982-05");
                entity.category = Some(PersonCategory::Suspect);
                let applied = case.apply(Command::CreateEntity { entity })?;
                if let Some(crate::model::ItemRef::Entity(id)) = applied.created.first() {
                    ids.insert(i, *id);
                }
            }
            CrashStep::Edit(i) => {
                let id = *ids
                    .get(&i)
                    .context("crash writer lost track of an entity")?;
                case.apply(Command::EditEntity {
                    id,
                    label: Some(format!("p{i}*")),
                    entity_type: None,
                    source_id: None,
                    reason: "crash test".into(),
                })?;
            }
            CrashStep::Undo => {
                if case.undo()?.is_none() {
                    bail!("crash writer: nothing to undo at step {n}");
                }
            }
            CrashStep::Redo => {
                if case.redo()?.is_none() {
                    bail!("crash writer: nothing to redo at step {n}");
                }
            }
        }
        n += 1;
        let mut out = stdout.lock();
        writeln!(out, "committed {n}")?;
        out.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_creates_edits_undoes_and_redoes() {
        assert_eq!(crash_step(0), CrashStep::Create(0));
        assert_eq!(crash_step(5), CrashStep::Edit(4));
        assert_eq!(crash_step(6), CrashStep::Undo);
        assert_eq!(crash_step(7), CrashStep::Redo);
        assert_eq!(crash_expected_labels(3), vec!["p0"]);
        assert_eq!(crash_expected_labels(5), vec!["p0*", "p4"]);
    }
}
