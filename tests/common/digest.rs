//! Comparing window digests with h5py's, shared by the native and the browser tests.

use serde_json::Value;

/// Fields of a window digest, named as in h5py's manifest and `strobe window --json`.
pub const DIGEST_FIELDS: [&str; 7] = [
    "events",
    "first_index",
    "sum_x",
    "sum_y",
    "sum_t",
    "sum_p",
    "positive",
];

/// Each field where `got` differs from h5py's `want`, as "field: h5py A vs strobe B".
pub fn digest_mismatches(got: &Value, want: &Value) -> Vec<String> {
    DIGEST_FIELDS
        .iter()
        .filter(|k| got[**k].is_null() || got[**k].as_i64() != want[**k].as_i64())
        .map(|k| format!("{k}: h5py {} vs strobe {}", want[*k], got[*k]))
        .collect()
}
