//! Any text parses as a `.kamal/secrets` file or fails cleanly; every span
//! lies inside the text on a character boundary, and resolving the entries
//! (without running commands) never panics.

#![no_main]

use kseal::kamal::dotenv::{parse, resolve_without_commands};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(entries) = parse(text) else {
        return;
    };
    for entry in &entries {
        for part in &entry.parts {
            let span = part.span();
            assert!(span.start <= span.end && span.end <= text.len());
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
    let _ = resolve_without_commands(&entries, &|_| None);
});
