//! Debian version numbers (`[epoch:]upstream[-revision]`) and their ordering, as dpkg defines it
//! in deb-version(7): compare epochs numerically, then upstream and revision with the
//! alternating non-digit / digit algorithm where `~` sorts before everything, even the end.

use std::cmp::Ordering;

/// Compares two Debian version strings the way `dpkg --compare-versions` does.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| compare_part(ua, ub))
        .then_with(|| compare_part(ra, rb))
}

/// Splits into (epoch, upstream, revision). A missing epoch is 0, a missing revision is "".
fn split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), rest)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((upstream, revision)) => (epoch, upstream, revision),
        None => (epoch, rest, ""),
    }
}

/// Sort weight of one non-digit character: `~` lowest, then the end of the string, then
/// letters, then everything else.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit run, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            let order = weight(ca).cmp(&weight(cb));
            if order != Ordering::Equal {
                return order;
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Digit run, numerically (leading zeros ignored, arbitrary length).
        let start_a = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let start_b = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let order = compare_digits(&a[start_a..i], &b[start_b..j]);
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[trim(a)..], &b[trim(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A version relation from a dependency field (`<<`, `<=`, `=`, `>=`, `>>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    Less,
    LessEq,
    Eq,
    GreaterEq,
    Greater,
}

impl Relation {
    /// Parses the operator; the obsolete `<` and `>` mean `<=` and `>=` (deb-control(5)).
    pub fn parse(op: &str) -> Option<Relation> {
        Some(match op {
            "<<" => Relation::Less,
            "<=" | "<" => Relation::LessEq,
            "=" => Relation::Eq,
            ">=" | ">" => Relation::GreaterEq,
            ">>" => Relation::Greater,
            _ => return None,
        })
    }

    /// Whether `candidate <op> wanted` holds.
    pub fn holds(self, candidate: &str, wanted: &str) -> bool {
        let order = compare(candidate, wanted);
        match self {
            Relation::Less => order == Ordering::Less,
            Relation::LessEq => order != Ordering::Greater,
            Relation::Eq => order == Ordering::Equal,
            Relation::GreaterEq => order != Ordering::Less,
            Relation::Greater => order == Ordering::Greater,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Less => "<<",
            Relation::LessEq => "<=",
            Relation::Eq => "=",
            Relation::GreaterEq => ">=",
            Relation::Greater => ">>",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Cases from dpkg's own test suite (lib/dpkg/t/t-version.c) and deb-version(7).
    #[test]
    fn ordering_matches_dpkg() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("0:1.0", "1.0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1.0", "1.1", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0+", Less),
            ("1.0-1", "1.0-2", Less),
            ("1.0-10", "1.0-9", Greater),
            ("1.00", "1.0", Equal),
            ("1.001", "1.1", Equal),
            ("2.41-12", "2.41-12+deb13u1", Less),
            ("2.41-12+deb13u1", "2.41-12+deb13u2", Less),
            ("3.13.5-2", "3.13.5-2+b1", Less),
            ("1.2.3-1~bpo13+1", "1.2.3-1", Less),
            ("7.4.0-1", "7.4-1", Greater),
            ("1:0.1", "9.9", Greater),
            ("a", "b", Less),
            ("1.0-a", "1.0-B", Greater),
            ("1.0.", "1.0-", Greater),
            ("99999999999999999999", "1", Greater),
            ("2025b-4", "2025b-4+deb13u1", Less),
            ("1.0-1-1", "1.0-1", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "compare({a}, {b})");
            assert_eq!(compare(b, a), want.reverse(), "compare({b}, {a})");
        }
    }

    #[test]
    fn relations() {
        assert!(Relation::parse(">=").unwrap().holds("2.41-12", "2.41"));
        assert!(!Relation::parse("<<").unwrap().holds("2.41", "2.41"));
        assert!(Relation::parse("<<").unwrap().holds("2.41~", "2.41"));
        assert!(Relation::parse("=").unwrap().holds("1:2.0", "1:2.0-0"));
        assert!(Relation::parse(">>").unwrap().holds("1:0", "99"));
        assert!(Relation::parse("!=").is_none());
    }
}
