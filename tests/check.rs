//! `kseal check` and the Kamal model it stands on.

use std::collections::BTreeMap;
use std::process::Command;

use kseal::kamal::dotenv::{self, CommandOutcome, CommandRunner, Part, Resolved};
use kseal::kamal::{envfile, secrets_files};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/compat/kamal");

/// Runs a command the way Ruby's backticks do: directly when it has no
/// shell metacharacters, else through `/bin/sh -c`. Only tests run commands.
struct ShellRunner<'a> {
    env: &'a BTreeMap<String, String>,
}

impl CommandRunner for ShellRunner<'_> {
    fn run(&mut self, command: &str) -> CommandOutcome {
        let mut cmd = match dotenv::direct_program(command) {
            Some(_) => {
                let mut words = command.split([' ', '\t']).filter(|w| !w.is_empty());
                let mut c = Command::new(words.next().unwrap());
                c.args(words);
                c
            }
            None => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c").arg(command);
                c
            }
        };
        cmd.envs(self.env);
        match cmd.output() {
            Ok(out) => CommandOutcome::Output(String::from_utf8(out.stdout).unwrap()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CommandOutcome::NotFound,
            Err(e) => panic!("cannot run {command:?}: {e}"),
        }
    }
}

fn vectors() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{SHARED}/dotenv_kamal_vectors.json"))
        .expect("the shared Kamal vectors are next to the repository");
    serde_json::from_str(&text).unwrap()
}

fn string_map(v: &serde_json::Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn resolve_file(text: &str, env: &BTreeMap<String, String>) -> Resolved {
    let entries = dotenv::parse(text).unwrap();
    let lookup = |k: &str| env.get(k).cloned();
    dotenv::resolve(&entries, &lookup, &mut ShellRunner { env })
}

fn as_pairs(r: &Resolved) -> Vec<(String, String)> {
    r.values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().expect("every value resolves")))
        .collect()
}

#[test]
fn every_golden_dotenv_vector_agrees() {
    let mut agreed = 0;
    for case in vectors() {
        let name = case["name"].as_str().unwrap();
        let env = string_map(&case["env"]);
        let expected: Vec<(String, String)> = case["parsed"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default();

        if let Some(text) = case["secrets_file"].as_str() {
            let resolved = resolve_file(text, &env);
            let got = as_pairs(&resolved);
            assert_eq!(got, expected, "vector {name}: values");

            let bytes = envfile::encode(got.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            assert_eq!(
                bytes,
                case["env_file"].as_str().unwrap(),
                "vector {name}: env file"
            );

            // Without running anything, values made of literals and
            // variables still resolve, and every `$(…)` is a command part
            // whose span is exactly the substitution as written.
            let entries = dotenv::parse(text).unwrap();
            let lookup = |k: &str| env.get(k).cloned();
            let keyless = dotenv::resolve_without_commands(&entries, &lookup);
            for entry in &entries {
                let has_command = entry.commands().next().is_some();
                for part in &entry.parts {
                    let s = part.span();
                    let src = &text[s.start..s.end];
                    match part {
                        Part::Command { command, .. } => {
                            assert!(src.starts_with("$(") && src.ends_with(')'), "{name}");
                            assert!(!command.is_empty(), "{name}");
                        }
                        Part::Variable { name: var, .. } => {
                            assert!(src.starts_with('$') && src.contains(var.as_str()), "{name}")
                        }
                        Part::Literal { .. } => assert!(!src.is_empty(), "{name}"),
                    }
                }
                if !has_command && !keyless.dropped {
                    let depends_on_command = entries.iter().any(|e| {
                        e.commands().next().is_some()
                            && entry
                                .parts
                                .iter()
                                .any(|p| matches!(p, Part::Variable { name, .. } if *name == e.key))
                    });
                    if !depends_on_command {
                        assert!(
                            keyless.get(&entry.key).unwrap().is_some(),
                            "{name}: {} resolves without commands",
                            entry.key
                        );
                    }
                }
            }
        } else if let Some(files) = case["files"].as_object() {
            let dest = case["destination"].as_str();
            let per_file = secrets_files::file_names(dest)
                .into_iter()
                .filter_map(|f| files.get(&f).and_then(|t| t.as_str()))
                .map(|text| resolve_file(text, &env));
            let merged = secrets_files::merge(per_file);
            assert_eq!(as_pairs(&merged), expected, "vector {name}: merge");
        } else {
            let values = string_map(&case["values"]);
            let ordered: Vec<(String, String)> = case["values"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, _)| (k.clone(), values[k].clone()))
                .collect();
            let bytes = envfile::encode(ordered.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            assert_eq!(bytes, case["env_file"].as_str().unwrap(), "vector {name}");
        }
        agreed += 1;
    }
    println!("{agreed} golden Kamal dotenv vectors agree");
    assert_eq!(agreed, vectors().len());
}
