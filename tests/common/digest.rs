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
/// Integers are compared exactly by their decimal digits: sums beyond `i64` travel as
/// strings (both in the manifest and in Strobe's JSON); a value that is neither an exact
/// integer nor such a string never matches.
pub fn digest_mismatches(got: &Value, want: &Value) -> Vec<String> {
    DIGEST_FIELDS
        .iter()
        .filter(
            |k| match (exact_integer(&got[**k]), exact_integer(&want[**k])) {
                (Some(g), Some(w)) => g != w,
                _ => true,
            },
        )
        .map(|k| format!("{k}: h5py {} vs strobe {}", want[*k], got[*k]))
        .collect()
}

/// The decimal digits of an exact integer: a JSON integer, or a string of digits.
fn exact_integer(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| n.as_u64().map(|u| u.to_string())),
        Value::String(s) => s.parse::<i128>().ok().map(|i| i.to_string()),
        _ => None,
    }
}

/// Where the returned column types (`dtypes` of the digest, numpy names) differ from the
/// stored dtypes h5py reports, for manifest windows that list them.
pub fn dtype_mismatches(got: &Value, want: &Value) -> Vec<String> {
    let Some(want) = want["dtypes"].as_object() else {
        return Vec::new();
    };
    want.iter()
        .filter(|(k, v)| got["dtypes"][k.as_str()] != **v)
        .map(|(k, v)| {
            format!(
                "dtype of {k}: h5py {v} vs strobe {}",
                got["dtypes"][k.as_str()]
            )
        })
        .collect()
}
