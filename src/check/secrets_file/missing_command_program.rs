//! KS102: a `$(…)` whose program is not installed.

use super::is_kamal_helper;
use crate::check::{Context, Rule};
use crate::findings::{Finding, Level};
use crate::kamal::dotenv;

pub const RULE: Rule = Rule {
    code: "KS102",
    name: "missing-command-program",
    summary: "`$(cmd)` in `.kamal/secrets*` whose program is not on PATH: Kamal silently drops the whole file",
    level: Level::Error,
    fix: "install the program, or feed the value through the environment (`NAME=$NAME` and \
          `kseal run`)",
    doc: r#"
## What it does
Flags a command substitution in a secrets file whose program (run directly,
without a shell, because the command has no shell syntax) cannot be found
on `PATH`.

## Why is this bad?
Ruby raises when such a program is missing, and Kamal's dotenv call
swallows the error: the whole file reads as empty, without a word. Every
secret it defines is then missing at deploy time, and the failure shows up
far from its cause.

## Example
```shell
DB_PASSWORD=$(op read op://app/db/password)
```
on a machine without the 1Password CLI.

## Use instead
Install the program on every machine that deploys, or write
`DB_PASSWORD=$DB_PASSWORD` and deploy with `kseal run`.

## Known problems
The check looks at the `PATH` of the machine running kseal. In CI, where
the deploy tools may not be installed, turn it off in `.kseal.toml`
(`ignore = ["KS102"]`).
"#,
    check,
};

// KS102
fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for file in &ctx.secrets_files {
        for entry in &file.entries {
            for (command, span) in entry.commands() {
                if is_kamal_helper(command) {
                    continue;
                }
                let Some(program) = dotenv::direct_program(command) else {
                    continue;
                };
                // Kamal runs from the app root; so does a relative path.
                let at_root;
                let lookup = if program.contains('/') && !program.starts_with('/') {
                    at_root = ctx.source.root.join(program).display().to_string();
                    at_root.as_str()
                } else {
                    program
                };
                if dotenv::program_exists(lookup) {
                    continue;
                }
                out.push(ctx.at_text(
                    &RULE,
                    &file.path,
                    &file.text,
                    span,
                    format!(
                        "program {program:?} is not on PATH: Kamal would read nothing from {}",
                        file.path
                    ),
                    None,
                ));
            }
        }
    }
}
