//! The scan engine on any bytes: the four-lane keyword search finds exactly
//! what the aho-corasick crate's own overlapping search finds, and every
//! hit lies inside the buffer, in order.

#![no_main]

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use kseal::scan::Engine;
use kseal::scan::keywords::{Keywords, Occurrence};
use libfuzzer_sys::fuzz_target;

const WORDS: &[&str] = &[
    "token",
    "ok",
    "secret_key",
    "_key",
    "key",
    "ghp_",
    "AKIA",
    "://",
    "sk",
];

struct Fixture {
    engine: Engine,
    keywords: Keywords,
    reference: AhoCorasick,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        engine: Engine::new(None),
        keywords: Keywords::new(WORDS),
        reference: AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(WORDS)
            .unwrap(),
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut found = Vec::new();
    f.keywords.find_all(data, &mut found);
    let mut expected: Vec<Occurrence> = f
        .reference
        .find_overlapping_iter(data)
        .map(|m| Occurrence {
            start: m.start(),
            end: m.end(),
            keyword: m.pattern().as_usize(),
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(found, expected);

    let hits = f.engine.scan("fuzz/input.txt", data);
    for pair in hits.windows(2) {
        assert!(pair[0].start <= pair[1].start);
    }
    for hit in &hits {
        assert!(hit.start < hit.end && hit.end <= data.len());
    }
});
