//! Findings shared by `kseal check` and `kseal scan`: one record per problem,
//! rendered as human text, JSON or SARIF 2.1.0, filtered by inline ignores and
//! a baseline.

use std::path::PathBuf;

/// One problem found at one place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Rule or detector id, for example `KS101` or `github-pat`.
    pub rule: String,
    /// One line saying what is wrong. Never contains a secret value.
    pub message: String,
    /// File the finding is in, relative to the scanned root where possible.
    pub path: PathBuf,
    /// 1-based line and column of the start of the span; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// Length of the span in bytes on its line, for the caret; 0 for none.
    pub span_len: usize,
    /// A masked preview of the offending text (`ghp_****…9f2a`), if any.
    pub preview: Option<String>,
    /// What to do about it.
    pub fix: Option<String>,
    /// Where the finding came from beyond the path: a commit, an image layer.
    pub origin: Option<String>,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// What a reporter needs to know about a rule or detector: SARIF lists
/// every rule with its help text, and the human format links to it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    /// Short name, for example `plaintext-secret-in-secrets-file`.
    pub name: String,
    /// One line: what the rule catches.
    pub summary: String,
    /// The full explanation (`kseal explain` prints it).
    pub help: String,
}

/// Writes `findings` to `out` in `format`. `tool` names the producing
/// command (`check` or `scan`) in machine-readable output; `color` applies to
/// the human format only.
pub fn render(
    out: &mut dyn std::io::Write,
    format: Format,
    tool: &str,
    rules: &[RuleInfo],
    findings: &[Finding],
    color: bool,
) -> std::io::Result<()> {
    let _ = (out, format, tool, rules, findings, color);
    todo!("findings::render")
}
