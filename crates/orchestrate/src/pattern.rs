//! Shell-style globs for `--hosts`: `*` (any run), `?` (one character), `[abc]`, `[a-z]`,
//! `[!x]`. Nothing else is special.

/// True when `pattern` matches all of `text`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t)
}

fn matches(p: &[char], t: &[char]) -> bool {
    // Iterative with one backtrack point for the last `*` (linear in practice).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => class(&p[pi..], t[ti])
                .map(|(ok, len)| ok.then_some(pi + len))
                .unwrap_or_else(|| (t[ti] == '[').then_some(pi + 1)),
            Some(&c) => (c == t[ti]).then_some(pi + 1),
            None => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Match `c` against the class at the start of `p`; returns (matched, class length), or
/// `None` when the `[` does not open a class.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let &x = p.get(i)?;
        if x == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let hi = p[i + 2];
            hit |= x <= c && c <= hi;
            i += 3;
        } else {
            hit |= x == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_like_the_shell() {
        for (p, t, want) in [
            ("*", "h1", true),
            ("h*", "h1", true),
            ("h?", "h12", false),
            ("h[1-3]", "h2", true),
            ("h[1-3]", "h4", false),
            ("h[!1]", "h2", true),
            ("root@*", "root@h1", true),
            ("*.example.org", "a.example.org", true),
            ("*.example.org", "example.org", false),
            ("h1", "h1", true),
            ("h1", "h10", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("[", "[", true),
        ] {
            assert_eq!(glob(p, t), want, "{p} vs {t}");
        }
    }
}
