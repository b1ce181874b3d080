//! The JSON format: one object with the producing tool, a format version,
//! and the findings, each with its fingerprint.

use std::io::{self, Write};

use serde::Serialize;

use super::Finding;

/// Bumped when a field changes meaning or goes away.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    tool: String,
    version: u32,
    findings: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    fingerprint: String,
}

pub fn render(out: &mut dyn Write, tool: &str, findings: &[Finding]) -> io::Result<()> {
    let report = Report {
        tool: format!("kseal {tool}"),
        version: JSON_VERSION,
        findings: findings
            .iter()
            .map(|finding| Item {
                finding,
                fingerprint: finding.fingerprint(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
