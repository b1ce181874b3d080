//! SARIF 2.1.0, as GitHub code scanning reads it: one run whose driver
//! lists every rule with its help text, results with a physical location
//! relative to `%SRCROOT%`, and partial fingerprints so that alerts follow
//! code as lines move.
//!
//! Columns are Unicode code points, declared with the run's `columnKind`.
//! Every result has a region with a start line, which GitHub needs to show
//! it; a finding about a whole file points at line 1.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Finding, RuleInfo};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(
    out: &mut dyn Write,
    tool: &str,
    rules: &[RuleInfo],
    findings: &[Finding],
) -> io::Result<()> {
    let sarif = document(tool, rules, findings);
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub fn document(tool: &str, rules: &[RuleInfo], findings: &[Finding]) -> Value {
    let rule_objects: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": r.help, "markdown": r.help },
                "defaultConfiguration": { "level": r.level.as_str() },
                "properties": { "tags": ["security", "secrets"] },
            })
        })
        .collect();

    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            // GitHub places a result only through its region, and needs at
            // least a start line; a finding about a whole file points at
            // its first line.
            let mut region = serde_json::Map::new();
            region.insert("startLine".into(), json!(f.line.max(1)));
            if f.line > 0 && f.column > 0 {
                region.insert("startColumn".into(), json!(f.column));
                if f.span_len > 0 {
                    region.insert("endColumn".into(), json!(f.column + f.span_len));
                }
            }
            let location = json!({
                "artifactLocation": {
                    "uri": uri(&f.path.to_string_lossy()),
                    "uriBaseId": "%SRCROOT%",
                },
                "region": Value::Object(region),
            });
            let mut text = f.message.clone();
            if let Some(fix) = &f.fix {
                text.push_str(". Fix: ");
                text.push_str(fix);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "message": { "text": text },
                "locations": [{ "physicalLocation": location }],
                "partialFingerprints": { "ksealFingerprint/v1": f.fingerprint() },
            });
            if let Some(index) = rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(index);
                result["level"] = json!(rules[index].level.as_str());
            }
            result
        })
        .collect();

    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kseal",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rule_objects,
                    "properties": { "command": tool },
                }
            },
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "the app root" } } },
            "results": results,
        }]
    })
}

/// A relative path as a URI reference: `/` separators, each segment
/// percent-encoded where it has to be.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_spaces() {
        assert_eq!(uri("config/my deploy.yml"), "config/my%20deploy.yml");
    }
}
