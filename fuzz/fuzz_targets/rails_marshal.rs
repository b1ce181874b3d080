//! Any bytes read as a Ruby Marshal string (Rails credentials) give a
//! string taken from the input, or an error.

#![no_main]

use kseal::import::marshal::read_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(string) = read_string(data) {
        let inside = data.as_ptr_range();
        let range = string.as_ptr_range();
        assert!(
            string.is_empty() || (inside.start <= range.start && range.end <= inside.end),
            "the string is not a slice of the input"
        );
    }
});
