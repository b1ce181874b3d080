//! Any text parses as a Kamal deploy file or fails with an error; ERB
//! masking keeps the line count, and every node's position lies inside the
//! file.

#![no_main]

use kseal::kamal::deploy::{BASE_PATH, DeployFile};
use kseal::kamal::erb;
use kseal::kamal::yaml::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let masked = erb::mask(text);
    assert_eq!(
        masked.text.matches('\n').count(),
        text.matches('\n').count(),
        "ERB masking moved lines"
    );
    let Ok(file) = DeployFile::parse(BASE_PATH, text, 0) else {
        return;
    };
    let Some(root) = &file.root else {
        return;
    };
    // YAML breaks lines at `\n`, `\r\n` and a lone `\r`; a node may sit
    // on the line after the last break.
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        assert!(
            node.pos.line <= breaks + 2,
            "node at line {}",
            node.pos.line
        );
        let _ = file.span_len(node);
        let _ = file.scalar(node);
        match &node.value {
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => stack.extend(entries.iter().flat_map(|(k, v)| [k, v])),
            Value::Scalar { .. } => {}
        }
    }
});
