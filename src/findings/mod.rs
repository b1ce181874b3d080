//! Findings shared by `kseal check` and `kseal scan`: one record per problem,
//! rendered as human text ([`human`]), JSON ([`json`]) or SARIF 2.1.0
//! ([`sarif`]), filtered by inline ignores and a baseline.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub mod human;
pub mod json;
pub mod sarif;

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
    /// Columns count characters (Unicode scalar values).
    pub line: usize,
    pub column: usize,
    /// Length of the span in characters on its line, for the caret; 0 for
    /// none.
    pub span_len: usize,
    /// A masked preview of the offending text (`ghp_****…9f2a`), if any.
    pub preview: Option<String>,
    /// What to do about it.
    pub fix: Option<String>,
    /// Where the finding came from beyond the path: a commit, an image layer.
    pub origin: Option<String>,
    /// The source line, with any secret in it already masked, for the
    /// human format's excerpt.
    #[serde(skip)]
    pub snippet: Option<String>,
}

impl Finding {
    /// A stable identity for baselines and SARIF's partial fingerprints:
    /// rule, path and message, so it survives lines moving up or down. The
    /// message never holds a value, so neither does the fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.rule.as_bytes());
        hash.update([0]);
        hash.update(self.path.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(self.message.as_bytes());
        let digest = hash.finalize();
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// How serious a rule's findings are (SARIF's `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Note,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Note => "note",
            Level::Warning => "warning",
        }
    }
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
    /// The full explanation (`kseal explain` prints it), in Markdown.
    pub help: String,
    pub level: Level,
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
    match format {
        Format::Human => human::render(out, tool, rules, findings, color),
        Format::Json => json::render(out, tool, findings),
        Format::Sarif => sarif::render(out, tool, rules, findings),
    }
}

/// Whether the human format should use colour on stdout: only on a
/// terminal, never with `NO_COLOR` set (to anything but the empty string)
/// or `TERM=dumb`.
pub fn color_for_stdout() -> bool {
    use std::io::IsTerminal;

    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
        return false;
    }
    std::io::stdout().is_terminal()
}

/// A masked form of a secret for display: a known prefix or the first two
/// characters of a long value, then stars, then its length. Short values
/// show nothing of themselves.
pub fn mask(value: &str) -> String {
    const KNOWN: &[&str] = &[
        "AGE-SECRET-KEY-",
        "github_pat_",
        "dckr_pat_",
        "sk_live_",
        "rk_live_",
        "sk-ant-",
        "sk-proj-",
        "glpat-",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "xoxb-",
        "xoxp-",
        "npm_",
        "pypi-",
        "AKIA",
        "-----BEGIN",
    ];
    let chars = value.chars().count();
    if let Some(prefix) = KNOWN.iter().find(|p| value.starts_with(**p)) {
        return format!("{prefix}**** ({chars} chars)");
    }
    if chars >= 16 {
        let head: String = value.chars().take(2).collect();
        return format!("{head}**** ({chars} chars)");
    }
    format!("**** ({chars} chars)")
}

/// Replaces control characters so that file content cannot drive the
/// terminal; a tab becomes one space, so columns still line up.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_little() {
        assert_eq!(mask("pw"), "**** (2 chars)");
        assert_eq!(
            mask("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_**** (40 chars)"
        );
        assert!(!mask("correct horse battery staple").contains("horse"));
    }

    #[test]
    fn sanitize_strips_escapes() {
        assert_eq!(sanitize("a\x1b[31mb\tc"), "a?[31mb c");
    }
}
