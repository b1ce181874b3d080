//! The keyword search: every place any detector keyword occurs in a
//! buffer, ignoring ASCII case, overlapping occurrences included.
//!
//! The keywords start with more than twenty different bytes, so no
//! single-byte or packed prefilter can skip ahead: every byte goes through
//! an Aho-Corasick DFA. One walk of a DFA is bound by the latency of its
//! transition lookups, each of which needs the state the one before it
//! produced. The search therefore cuts a buffer into [`LANES`] parts and
//! walks them in one loop, one state per part, so the lookups of the parts
//! overlap in the processor; on a source tree this about doubles the bytes
//! searched per second.
//!
//! A part's walk runs past its end by the longest keyword less one byte
//! and reports only the occurrences that start inside it, so an occurrence
//! across a cut is found once, by the part it starts in.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Parts walked at once. Four gave the best throughput on a two-core
/// x86-64 machine; more parts spill the states out of registers.
const LANES: usize = 4;

/// Below this many bytes per part, one walk does the whole buffer.
const MIN_PART: usize = 64;

/// One keyword found: `start..end` in the buffer, and the keyword's index
/// in the list the search was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    pub start: usize,
    pub end: usize,
    pub keyword: usize,
}

/// The compiled keywords.
pub struct Keywords {
    dfa: DFA,
    start: StateID,
}

impl Keywords {
    /// Compiles `words`, matched ignoring ASCII case.
    pub fn new<W: AsRef<[u8]>>(words: &[W]) -> Keywords {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(words)
            .expect("the keywords build a DFA");
        let start = dfa
            .start_state(Anchored::No)
            .expect("an unanchored DFA has an unanchored start state");
        Keywords { dfa, start }
    }

    /// Every occurrence in `hay`, appended to `out` in order of start, then
    /// end, then keyword.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<Occurrence>) {
        let first = out.len();
        let part = hay.len() / LANES;
        if part < MIN_PART {
            self.walk(hay, self.start, 0, hay.len(), usize::MAX, out);
        } else {
            self.walk_lanes(hay, part, out);
        }
        out[first..].sort_unstable();
    }

    /// Walks `hay[from..to]` from `state`, reporting occurrences that start
    /// before `limit`.
    fn walk(
        &self,
        hay: &[u8],
        mut state: StateID,
        from: usize,
        to: usize,
        limit: usize,
        out: &mut Vec<Occurrence>,
    ) {
        for (i, &byte) in hay[from..to].iter().enumerate() {
            state = self.dfa.next_state(Anchored::No, state, byte);
            if self.dfa.is_special(state) {
                self.report(state, from + i + 1, limit, out);
            }
        }
    }

    /// The lanes: parts `k * part .. (k + 1) * part`, the last one taking
    /// the remainder of the buffer.
    #[allow(
        clippy::needless_range_loop,
        reason = "one index steps every lane; an iterator per lane would hide that"
    )]
    fn walk_lanes(&self, hay: &[u8], part: usize, out: &mut Vec<Occurrence>) {
        let parts: [&[u8]; LANES] = std::array::from_fn(|k| &hay[k * part..(k + 1) * part]);
        let mut states = [self.start; LANES];
        for j in 0..part {
            let mut special = false;
            for k in 0..LANES {
                states[k] = self.dfa.next_state(Anchored::No, states[k], parts[k][j]);
                special |= self.dfa.is_special(states[k]);
            }
            if special {
                for (k, &state) in states.iter().enumerate() {
                    if self.dfa.is_special(state) {
                        self.report(state, k * part + j + 1, (k + 1) * part, out);
                    }
                }
            }
        }
        let overrun = self.dfa.max_pattern_len().saturating_sub(1);
        for (k, &state) in states.iter().enumerate() {
            let from = (k + 1) * part;
            if k + 1 < LANES {
                let to = (from + overrun).min(hay.len());
                self.walk(hay, state, from, to, from, out);
            } else {
                self.walk(hay, state, from, hay.len(), usize::MAX, out);
            }
        }
    }

    /// The keywords that end at `end` in `state`, those starting before
    /// `limit`.
    #[inline]
    fn report(&self, state: StateID, end: usize, limit: usize, out: &mut Vec<Occurrence>) {
        if !self.dfa.is_match(state) {
            return;
        }
        for i in 0..self.dfa.match_len(state) {
            let keyword = self.dfa.match_pattern(state, i);
            let start = end - self.dfa.pattern_len(keyword);
            if start < limit {
                out.push(Occurrence {
                    start,
                    end,
                    keyword: keyword.as_usize(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;
    use proptest::prelude::*;

    /// The reference: the crate's own overlapping search.
    fn reference(words: &[&str], hay: &[u8]) -> Vec<Occurrence> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(words)
            .unwrap();
        let mut all: Vec<Occurrence> = ac
            .find_overlapping_iter(hay)
            .map(|m| Occurrence {
                start: m.start(),
                end: m.end(),
                keyword: m.pattern().as_usize(),
            })
            .collect();
        all.sort_unstable();
        all
    }

    fn search(words: &[&str], hay: &[u8]) -> Vec<Occurrence> {
        let mut out = Vec::new();
        Keywords::new(words).find_all(hay, &mut out);
        out
    }

    const WORDS: &[&str] = &["token", "ok", "secret_key", "_key", "key", "ghp_", "AKIA"];

    #[test]
    fn occurrences_across_every_lane_cut_are_found_once() {
        // A buffer of four parts of 100 bytes, with `secret_key` placed
        // across each cut in turn, and at the very end.
        for cut in [100, 200, 300, 400] {
            for shift in 1..=10 {
                let mut hay = vec![b'.'; 400];
                let at = cut - shift;
                if at + 10 > hay.len() {
                    continue;
                }
                hay[at..at + 10].copy_from_slice(b"Secret_KEY");
                assert_eq!(search(WORDS, &hay), reference(WORDS, &hay), "at {at}");
                assert_eq!(search(WORDS, &hay).len(), 3, "at {at}");
            }
        }
    }

    #[test]
    fn short_buffers_take_the_single_walk() {
        let hay = b"aws token=ghp_x AKIA akia";
        assert_eq!(search(WORDS, hay), reference(WORDS, hay));
        assert_eq!(search(WORDS, b""), []);
    }

    proptest! {
        #[test]
        fn same_occurrences_as_the_overlapping_iterator(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("token"), Just("TOKEN"), Just("secret_key"), Just("_KEY"),
                    Just("ghp_"), Just("akia"), Just("k"), Just("o"), Just("e"),
                    Just(" "), Just("\n"), Just("xyz"),
                ],
                0..400,
            )
        ) {
            let hay = pieces.concat().into_bytes();
            prop_assert_eq!(search(WORDS, &hay), reference(WORDS, &hay));
        }
    }
}
