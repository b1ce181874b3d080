//! Findings the team has decided about: an inline `# kseal:ignore RULE
//! reason` on the finding's line or the line above it, and the baseline
//! file of findings that existed when it was written
//! (`kseal check --write-baseline`).
//!
//! An ignore comment must give a reason; one without a reason suppresses
//! nothing and is itself reported (KS001), so that the reason is never
//! skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::Context as _;
use regex::Regex;

use super::{Context, Report, Settings, codes};
use crate::findings::Finding;
use crate::hint::ResultExt;

/// Bumped when the baseline's layout changes.
pub const BASELINE_VERSION: u32 = 1;

/// An inline ignore comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub line: usize,
    pub column: usize,
    pub rules: Vec<String>,
    pub reason: String,
}

static IGNORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"#\s*kseal:ignore\b[ \t]*((?:KS[0-9]{3}[ \t]*,?[ \t]*)*)(.*)$")
        .expect("the ignore pattern is valid")
});

/// Every ignore comment in `text`.
pub fn ignores(text: &str) -> Vec<Ignore> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if !line.contains("kseal:ignore") {
            continue;
        }
        let Some(caps) = IGNORE.captures(line) else {
            continue;
        };
        let start = caps.get(0).expect("group 0 is the whole match").start();
        let rules = caps[1]
            .split([',', ' ', '\t'])
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        out.push(Ignore {
            line: i + 1,
            column: line[..start].chars().count() + 1,
            rules,
            reason: caps[2].trim().to_owned(),
        });
    }
    out
}

/// Drops findings an inline ignore with a reason covers; adds a KS001
/// finding for each ignore without a reason or without a rule.
pub fn inline(context: &Context, findings: Vec<Finding>, report: &mut Report) -> Vec<Finding> {
    let mut texts: Vec<(&str, &str)> = Vec::new();
    for file in &context.deploy_files {
        texts.push((&file.path, &file.text));
    }
    for file in &context.secrets_files {
        texts.push((&file.path, &file.text));
    }

    let mut kept = Vec::new();
    let mut invalid = Vec::new();
    let mut all_ignores = Vec::new();
    for (path, text) in &texts {
        for ignore in ignores(text) {
            if ignore.reason.is_empty() || ignore.rules.is_empty() {
                let what = if ignore.rules.is_empty() {
                    "names no rule"
                } else {
                    "gives no reason"
                };
                let mut f = context.at_file(
                    &codes::IGNORE_WITHOUT_REASON,
                    path,
                    ignore.line,
                    format!("`kseal:ignore` {what}; it suppresses nothing"),
                );
                f.column = ignore.column;
                f.span_len = "# kseal:ignore".len();
                f.snippet = context.excerpt(path, text, ignore.line);
                invalid.push(f);
            } else {
                all_ignores.push((path.to_string(), ignore));
            }
        }
    }

    for f in findings {
        let path = f.path.to_string_lossy();
        let covered = all_ignores.iter().any(|(p, ig)| {
            *p == path
                && f.line > 0
                && (ig.line == f.line || ig.line + 1 == f.line)
                && ig.rules.contains(&f.rule)
        });
        if covered {
            report.ignored += 1;
        } else {
            kept.push(f);
        }
    }
    if context.settings.enabled(codes::IGNORE_WITHOUT_REASON.code) {
        kept.extend(invalid);
    }
    kept
}

/// The findings a team accepted when it adopted kseal check.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct BaselineEntry {
    pub rule: String,
    pub path: String,
    pub fingerprint: String,
}

impl Baseline {
    /// Reads the baseline named in `settings`; an empty one when the file
    /// does not exist.
    pub fn load(root: &Path, settings: &Settings) -> anyhow::Result<Baseline> {
        let rel = &settings.baseline;
        let text = match std::fs::read_to_string(root.join(rel)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Baseline::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {rel}")),
        };
        let baseline: Baseline = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{rel}:{}: {e}", e.line()))
            .hint("write it again with `kseal check --write-baseline`")?;
        if baseline.version != BASELINE_VERSION {
            return Err(anyhow::anyhow!(
                "{rel}: baseline version {} is not one this kseal reads",
                baseline.version
            ))
            .hint("write it again with `kseal check --write-baseline`");
        }
        Ok(baseline)
    }

    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                rule: f.rule.clone(),
                path: f.path.to_string_lossy().into_owned(),
                fingerprint: f.fingerprint(),
            })
            .collect();
        // Duplicates stay: two findings with the same fingerprint (the
        // same message twice in a file) need two entries.
        entries.sort();
        Baseline {
            version: BASELINE_VERSION,
            findings: entries,
        }
    }

    pub fn filter(&self, findings: Vec<Finding>, report: &mut Report) -> Vec<Finding> {
        if self.findings.is_empty() {
            return findings;
        }
        // Each entry accepts one finding, so a third copy of a problem
        // the baseline lists twice is still reported.
        let mut known: BTreeMap<&str, usize> = BTreeMap::new();
        for entry in &self.findings {
            *known.entry(entry.fingerprint.as_str()).or_default() += 1;
        }
        findings
            .into_iter()
            .filter(|f| match known.get_mut(f.fingerprint().as_str()) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    report.baselined += 1;
                    false
                }
                _ => true,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_comments() {
        let found =
            ignores("a: 1 # kseal:ignore KS201, KS203 vendor sandbox key\n# kseal:ignore KS101\n");
        assert_eq!(found[0].rules, vec!["KS201", "KS203"]);
        assert_eq!(found[0].reason, "vendor sandbox key");
        assert_eq!(found[0].column, 6);
        assert_eq!(found[1].reason, "");
    }

    fn finding(line: usize) -> Finding {
        Finding {
            rule: "KS206".into(),
            message: "key_data holds a private key".into(),
            path: "config/deploy.yml".into(),
            line,
            column: 7,
            span_len: 1,
            preview: None,
            fix: None,
            origin: None,
            snippet: None,
        }
    }

    #[test]
    fn baseline_accepts_as_many_copies_as_it_lists() {
        let baseline = Baseline::from_findings(&[finding(3), finding(9)]);
        let mut report = Report::default();
        let left = baseline.filter(vec![finding(4), finding(10), finding(20)], &mut report);
        assert_eq!(left.len(), 1);
        assert_eq!(report.baselined, 2);
    }
}
