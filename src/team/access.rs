//! Who can read what: every recipient of every sealed file, with how many
//! secrets each file gives them. Read without a key, from the files'
//! recipient lines, so an auditor needs no identity to run it.

use std::path::Path;

use serde::Serialize;

use crate::store::{self, Scope, SealedFile};

/// One sealed file's column of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeColumn {
    /// `shared`, `default` or the destination name.
    pub scope: String,
    /// The sealed file, relative to the app root.
    pub file: String,
    /// How many secrets the file holds.
    pub secrets: usize,
}

/// One recipient's row: the secrets they can read in each column.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientRow {
    pub key: String,
    /// Every label the key carries, in file order, without repeats.
    pub labels: Vec<String>,
    /// Per column, the number of secrets the key can open there, or `None`
    /// when it is not a recipient of that file.
    pub secrets: Vec<Option<usize>>,
    /// Secrets the key can open over every file.
    pub total: usize,
}

/// The recipients × scopes matrix.
#[derive(Debug, Clone, Serialize)]
pub struct AccessMatrix {
    pub scopes: Vec<ScopeColumn>,
    pub recipients: Vec<RecipientRow>,
}

/// The short name of a scope, as `kseal list` and `kseal access` show it.
pub fn scope_name(scope: &Scope) -> String {
    match scope {
        Scope::Shared => "shared".to_owned(),
        Scope::Default => "default".to_owned(),
        Scope::Destination(name) => name.clone(),
    }
}

/// The matrix for every sealed file under `root`.
pub fn matrix(root: &Path) -> anyhow::Result<AccessMatrix> {
    let mut scopes = Vec::new();
    let mut rows: Vec<RecipientRow> = Vec::new();
    let files = store::sealed_files(root)?;
    for (column, (scope, path)) in files.iter().enumerate() {
        let display = scope.relative_path().display().to_string();
        let file = SealedFile::read_path(path, &display)?;
        let count = file.entries().count();
        scopes.push(ScopeColumn {
            scope: scope_name(scope),
            file: display,
            secrets: count,
        });
        for recipient in file.recipients() {
            let key = recipient.key.as_str();
            let index = match rows.iter().position(|r| r.key == key) {
                Some(index) => index,
                None => {
                    rows.push(RecipientRow {
                        key: key.to_owned(),
                        labels: Vec::new(),
                        secrets: vec![None; files.len()],
                        total: 0,
                    });
                    rows.len() - 1
                }
            };
            let row = &mut rows[index];
            if !recipient.label.is_empty() && !row.labels.contains(&recipient.label) {
                row.labels.push(recipient.label.clone());
            }
            row.secrets[column] = Some(count);
            row.total += count;
        }
    }
    rows.sort_by(|a, b| {
        a.labels
            .first()
            .cmp(&b.labels.first())
            .then(a.key.cmp(&b.key))
    });
    Ok(AccessMatrix {
        scopes,
        recipients: rows,
    })
}
