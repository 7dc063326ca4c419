//! The outcome of a deploy: one row per host (changed / unchanged / failed with the reason) and
//! a closing line; the caller exits non-zero when any host failed.

use std::time::Duration;

/// What happened on one host (or to the client config).
#[derive(Debug, Clone)]
pub struct HostOutcome {
    /// The host.
    pub host: String,
    /// Its roles.
    pub roles: String,
    /// What changed, in words; empty when nothing did.
    pub changes: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl HostOutcome {
    /// `changed`, `unchanged` or `failed`.
    pub fn result(&self) -> &'static str {
        if self.error.is_some() {
            "failed"
        } else if self.changes.is_empty() {
            "unchanged"
        } else {
            "changed"
        }
    }
}

/// A whole deploy.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every host's outcome, in inventory order.
    pub outcomes: Vec<HostOutcome>,
    /// Warnings about the deploy config.
    pub warnings: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Report {
    /// How many hosts had `result`.
    pub fn count(&self, result: &str) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.result() == result)
            .count()
    }

    /// True when no host failed.
    pub fn success(&self) -> bool {
        self.count("failed") == 0
    }

    /// The summary table and closing line.
    pub fn render(&self) -> String {
        let rows: Vec<[String; 5]> = self
            .outcomes
            .iter()
            .map(|o| {
                let detail = match &o.error {
                    Some(e) => e.lines().next().unwrap_or("").to_owned(),
                    None => o.changes.join(", "),
                };
                [
                    o.host.clone(),
                    o.roles.clone(),
                    o.result().to_owned(),
                    format!("{:.1}s", o.elapsed.as_secs_f64()),
                    detail,
                ]
            })
            .collect();
        let mut out = table(&["HOST", "ROLES", "RESULT", "TIME", "DETAIL"], &rows);
        for o in &self.outcomes {
            if let Some(e) = o.error.as_ref().filter(|e| e.lines().count() > 1) {
                out.push_str(&format!("\n{}:\n", o.host));
                for l in e.lines() {
                    out.push_str(&format!("  {l}\n"));
                }
            }
        }
        let (c, u, f) = (
            self.count("changed"),
            self.count("unchanged"),
            self.count("failed"),
        );
        let secs = self.elapsed.as_secs_f64();
        if c == 0 && f == 0 {
            out.push_str(&format!(
                "\nnothing changed: {u} host(s) already up to date ({secs:.1} s)\n"
            ));
        } else {
            out.push_str(&format!(
                "\n{} host(s): {c} changed, {u} unchanged, {f} failed ({secs:.1} s)\n",
                self.outcomes.len()
            ));
        }
        out
    }
}

/// A plain text table with a header row.
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut width = [0usize; N];
    for (i, h) in header.iter().enumerate() {
        width[i] = h.len();
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(host: &str, changes: &[&str], error: Option<&str>) -> HostOutcome {
        HostOutcome {
            host: host.into(),
            roles: "worker x86_64:17".into(),
            changes: changes.iter().map(|s| s.to_string()).collect(),
            error: error.map(str::to_owned),
            elapsed: Duration::from_millis(1500),
        }
    }

    #[test]
    fn the_summary_names_every_outcome() {
        let r = Report {
            outcomes: vec![
                o("h1", &["binary", "config"], None),
                o("h2", &[], None),
                o("h3", &[], Some("h3: cannot connect: Connection refused")),
            ],
            ..Default::default()
        };
        let t = r.render();
        assert!(
            t.contains("h1    worker x86_64:17  changed    1.5s  binary, config"),
            "{t}"
        );
        assert!(
            t.contains("h3    worker x86_64:17  failed     1.5s  h3: cannot connect"),
            "{t}"
        );
        assert!(
            t.contains("3 host(s): 1 changed, 1 unchanged, 1 failed"),
            "{t}"
        );
        assert!(!r.success());
        let r = Report {
            outcomes: vec![o("h1", &[], None)],
            ..Default::default()
        };
        assert!(
            r.render()
                .contains("nothing changed: 1 host(s) already up to date")
        );
    }
}
