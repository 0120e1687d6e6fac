//! Shell-style patterns for `strobe info 'data/*.h5'` and `s3://bucket/dsec/*/events.h5`:
//! `*` and `?` match within one path segment, `**` across segments. Quoted on the command
//! line, the same pattern works for local paths and bucket keys alike.

/// Whether `text` contains a wildcard.
pub fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// The part of `pattern` before its first segment holding a wildcard (`data/` of
/// `data/*/e.h5`): where to start listing.
pub fn fixed_prefix(pattern: &str) -> &str {
    let first = pattern.find(['*', '?']).unwrap_or(pattern.len());
    match pattern[..first].rfind('/') {
        Some(slash) => &pattern[..=slash],
        None => "",
    }
}

/// Whether `text` matches `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_from(&p, &t)
}

fn match_from(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => {
            let (across, rest) = match rest.split_first() {
                Some(('*', r)) => (true, r),
                _ => (false, rest),
            };
            // `**/` also matches no directory at all.
            if across && rest.first() == Some(&'/') && match_from(&rest[1..], t) {
                return true;
            }
            for skip in 0..=t.len() {
                if match_from(rest, &t[skip..]) {
                    return true;
                }
                if t.get(skip).is_some_and(|&c| c == '/' && !across) {
                    return false;
                }
            }
            false
        }
        Some(('?', rest)) => match t.split_first() {
            Some((c, t_rest)) if *c != '/' => match_from(rest, t_rest),
            _ => false,
        },
        Some((c, rest)) => match t.split_first() {
            Some((d, t_rest)) if d == c => match_from(rest, t_rest),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_stay_in_their_segment_unless_doubled() {
        assert!(matches("data/*.h5", "data/a.h5"));
        assert!(!matches("data/*.h5", "data/x/a.h5"));
        assert!(!matches("data/*.h5", "data/a.h5.bak"));
        assert!(matches("data/**/e.h5", "data/x/y/e.h5"));
        assert!(matches("data/**/e.h5", "data/e.h5"));
        assert!(matches(
            "d?ta/*/events.h5",
            "data/zurich_city_00_a/events.h5"
        ));
        assert!(!matches("d?ta/*", "d/ta/x"));
        assert!(matches("*", "anything"));
    }

    #[test]
    fn listing_starts_at_the_fixed_directory() {
        assert_eq!(fixed_prefix("data/*/e.h5"), "data/");
        assert_eq!(fixed_prefix("dsec/train/*.h5"), "dsec/train/");
        assert_eq!(fixed_prefix("*.h5"), "");
        assert!(is_pattern("a/*.h5") && !is_pattern("a/b.h5"));
    }
}
