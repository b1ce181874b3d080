//! The human format: `file:line:col`, the rule, the message, the source
//! line with any secret masked and a caret under the span, then the masked
//! preview and the fix.
//!
//! ```text
//! config/deploy.yml:8:13: error[KS201] registry password is a literal string
//!    8 |   password: **
//!      |             ^^
//!      = preview: **** (2 chars)
//!      = fix: list a secret name instead
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Finding, Level, RuleInfo, sanitize};

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

pub fn render(
    out: &mut dyn Write,
    tool: &str,
    rules: &[RuleInfo],
    findings: &[Finding],
    color: bool,
) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = paint(RESET);

    for f in findings {
        let level = rules
            .iter()
            .find(|r| r.id == f.rule)
            .map_or(Level::Error, |r| r.level);
        let level_color = match level {
            Level::Error => paint(RED),
            Level::Warning => paint(YELLOW),
            Level::Note => paint(CYAN),
        };
        let path = sanitize(&f.path.to_string_lossy());
        let place = match (f.line, f.column) {
            (0, _) => path,
            (line, 0) => format!("{path}:{line}"),
            (line, col) => format!("{path}:{line}:{col}"),
        };
        writeln!(
            out,
            "{}{place}{reset}: {level_color}{}[{}]{reset} {}",
            paint(BOLD),
            level.as_str(),
            f.rule,
            sanitize(&f.message)
        )?;

        let gutter = f.line.to_string().len().max(3);
        if let (Some(snippet), true) = (&f.snippet, f.line > 0) {
            let dim = paint(DIM);
            writeln!(
                out,
                "{dim}{:>gutter$} |{reset} {}",
                f.line,
                sanitize(snippet)
            )?;
            if f.column > 0 && f.span_len > 0 {
                let pad = " ".repeat(f.column - 1);
                let carets = "^".repeat(f.span_len);
                writeln!(
                    out,
                    "{dim}{:>gutter$} |{reset} {pad}{level_color}{carets}{reset}",
                    ""
                )?;
            }
        }
        if let Some(preview) = &f.preview {
            writeln!(out, "{:>gutter$} = preview: {}", "", sanitize(preview))?;
        }
        if let Some(origin) = &f.origin {
            writeln!(out, "{:>gutter$} = in: {}", "", sanitize(origin))?;
        }
        if let Some(fix) = &f.fix {
            writeln!(out, "{:>gutter$} = fix: {fix}", "")?;
        }
        writeln!(out, "{:>gutter$} = see: kseal explain {}", "", f.rule)?;
        writeln!(out)?;
    }

    if !findings.is_empty() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for f in findings {
            *counts.entry(f.rule.as_str()).or_default() += 1;
        }
        let by_rule: Vec<String> = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let noun = if findings.len() == 1 {
            "finding"
        } else {
            "findings"
        };
        writeln!(
            out,
            "kseal {tool}: {} {noun} ({})",
            findings.len(),
            by_rule.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        Finding {
            rule: "KS201".into(),
            message: "registry password is a literal string".into(),
            path: "config/deploy.yml".into(),
            line: 8,
            column: 13,
            span_len: 2,
            preview: Some("**** (2 chars)".into()),
            fix: Some("list a secret name".into()),
            origin: None,
            snippet: Some("  password: **".into()),
        }
    }

    #[test]
    fn caret_sits_under_the_span() {
        let mut out = Vec::new();
        render(&mut out, "check", &[], &[finding()], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "config/deploy.yml:8:13: error[KS201] registry password is a literal string"
        );
        let code = lines[1].find("  password").unwrap();
        let caret = lines[2].find('^').unwrap();
        assert_eq!(caret - code, 12);
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn color_only_when_asked() {
        let mut out = Vec::new();
        render(&mut out, "check", &[], &[finding()], true).unwrap();
        assert!(String::from_utf8(out).unwrap().contains('\x1b'));
    }
}
