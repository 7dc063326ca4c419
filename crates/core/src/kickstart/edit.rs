//! Reading and changing a parsed kickstart: the accessors later stages use, and the two
//! edits the side repo needs — a new `repo` line, and `--excludepkgs` on the base repos so
//! the side repo's packages win. An edited line is rewritten in place: every other line, and
//! every other word of the edited line, stays as written.

use super::error::{KsError, Loc};
use super::lex::{self, quote};
use super::model::{Command, Item, Kickstart, Packages, Repo, RepoSource, Script, UrlCommand};
use super::parse;

impl Kickstart {
    /// The command lines, in order.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.items.iter().filter_map(|i| match i {
            Item::Command(c) => Some(c),
            _ => None,
        })
    }

    /// The `repo` lines, in order.
    pub fn repos(&self) -> impl Iterator<Item = &Repo> {
        self.commands().filter_map(Command::repo)
    }

    /// The `url` command, if any (the last one wins, as in anaconda).
    pub fn url(&self) -> Option<&UrlCommand> {
        self.commands()
            .filter_map(|c| match c.kind() {
                super::model::CommandKind::Url(u) => Some(u),
                _ => None,
            })
            .last()
    }

    /// The `%packages` sections, in order.
    pub fn packages(&self) -> impl Iterator<Item = &Packages> {
        self.items.iter().filter_map(|i| match i {
            Item::Packages(p) => Some(p),
            _ => None,
        })
    }

    /// The script sections, in order.
    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        self.items.iter().filter_map(|i| match i {
            Item::Script(s) => Some(s),
            _ => None,
        })
    }

    /// Adds a `repo` line for `repo` after the last `repo` line (at the end when there is
    /// none). Fails when a repo of that name exists.
    pub fn add_repo(&mut self, repo: &Repo) -> Result<(), KsError> {
        if self.repos().any(|r| r.name == repo.name) {
            return Err(KsError::DuplicateRepo {
                name: repo.name.clone(),
            });
        }
        let line = render_repo(repo);
        let cmd = reparse(&line)?;
        let after = self
            .items
            .iter()
            .rposition(|i| matches!(i, Item::Command(c) if c.repo().is_some()));
        match after {
            Some(i) => {
                ensure_newline(&mut self.items[i]);
                self.items.insert(i + 1, Item::Command(cmd));
            }
            None => {
                if let Some(last) = self.items.last_mut() {
                    ensure_newline(last);
                }
                self.items.push(Item::Command(cmd));
            }
        }
        Ok(())
    }

    /// Sets `--excludepkgs` of every `repo` line named `name` to exactly `pkgs` (an empty
    /// list removes the option).
    pub fn set_repo_excludes<S: AsRef<str>>(
        &mut self,
        name: &str,
        pkgs: &[S],
    ) -> Result<(), KsError> {
        let pkgs: Vec<String> = pkgs.iter().map(|p| p.as_ref().to_string()).collect();
        self.edit_repos(name, |_| pkgs.clone())
    }

    /// Adds `pkgs` to `--excludepkgs` of every `repo` line named `name`, keeping those it
    /// already excludes.
    pub fn add_repo_excludes<S: AsRef<str>>(
        &mut self,
        name: &str,
        pkgs: &[S],
    ) -> Result<(), KsError> {
        self.edit_repos(name, |repo| {
            let mut all = repo.excludepkgs.clone();
            for p in pkgs {
                if !all.iter().any(|e| e == p.as_ref()) {
                    all.push(p.as_ref().to_string());
                }
            }
            all
        })
    }

    fn edit_repos(
        &mut self,
        name: &str,
        excludes: impl Fn(&Repo) -> Vec<String>,
    ) -> Result<(), KsError> {
        let mut found = false;
        for item in &mut self.items {
            let Item::Command(cmd) = item else { continue };
            let Some(repo) = cmd.repo().filter(|r| r.name == name) else {
                continue;
            };
            let list = excludes(repo);
            let value = (!list.is_empty()).then(|| list.join(","));
            *cmd = cmd.with_option("excludepkgs", value.as_deref())?;
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(KsError::NoSuchRepo {
                name: name.to_string(),
            })
        }
    }
}

impl Command {
    /// This command with `--name` set to `value` (or removed when `None`): the first
    /// occurrence is replaced in place, later ones removed, and a new option goes after the
    /// last word (before a trailing comment).
    pub fn with_option(&self, name: &str, value: Option<&str>) -> Result<Command, KsError> {
        let spans: Vec<(usize, usize)> = match self.kind() {
            super::model::CommandKind::Other => option_spans_any(self, name),
            _ => option_spans_known(self, name)?,
        };
        let new = value.map(|v| format!("--{name}={}", quote(v)));
        let mut raw = self.raw.clone();
        // Work from the end so earlier offsets stay valid.
        for (k, &(start, end)) in spans.iter().enumerate().rev() {
            match (&new, k) {
                (Some(n), 0) => raw.replace_range(start..end, n),
                _ => {
                    let from = raw[..start].trim_end_matches([' ', '\t']).len();
                    raw.replace_range(from..end, "");
                }
            }
        }
        if let (Some(n), true) = (&new, spans.is_empty()) {
            let at = self.words.last().map_or(0, |w| w.end);
            raw.insert_str(at, &format!(" {n}"));
        }
        reparse(&raw)
    }
}

fn option_spans_known(cmd: &Command, name: &str) -> Result<Vec<(usize, usize)>, KsError> {
    let spec = match cmd.name() {
        "repo" => &super::options::REPO,
        _ => &super::options::URL,
    };
    let (opts, _) = super::options::parse_opts(cmd.words.get(1..).unwrap_or_default(), spec)
        .map_err(|message| KsError::Invalid {
            at: Loc::new("(edited kickstart)", 0),
            message,
        })?;
    Ok(opts
        .iter()
        .filter(|o| o.name == name)
        .map(|o| o.span)
        .collect())
}

fn option_spans_any(cmd: &Command, name: &str) -> Vec<(usize, usize)> {
    let flag = format!("--{name}");
    cmd.words
        .iter()
        .filter(|w| w.text == flag || w.text.starts_with(&format!("{flag}=")))
        .map(|w| (w.start, w.end))
        .collect()
}

fn reparse(raw: &str) -> Result<Command, KsError> {
    let at = Loc::new("(edited kickstart)", 0);
    let words = lex::split(raw, true).map_err(|error| KsError::Quoting {
        at: at.clone(),
        error,
    })?;
    parse::command(raw, words, &at)
}

fn ensure_newline(item: &mut Item) {
    let raw = match item {
        Item::Blank(r) => r,
        Item::Command(c) => &mut c.raw,
        Item::Include(i) => &mut i.raw,
        Item::Packages(p) => &mut p.end,
        Item::Script(s) => &mut s.end,
        Item::Section(s) => &mut s.end,
    };
    if !raw.is_empty() && !raw.ends_with('\n') {
        raw.push('\n');
    }
}

/// The `repo` line for `repo`, quoted so pykickstart reads it back as the same repo.
pub fn render_repo(repo: &Repo) -> String {
    let mut line = format!("repo --name={}", quote(&repo.name));
    match &repo.source {
        Some(RepoSource::Baseurl(u)) => line += &format!(" --baseurl={}", quote(u)),
        Some(RepoSource::Mirrorlist(u)) => line += &format!(" --mirrorlist={}", quote(u)),
        Some(RepoSource::Metalink(u)) => line += &format!(" --metalink={}", quote(u)),
        None => {}
    }
    if let Some(c) = repo.cost {
        line += &format!(" --cost={c}");
    }
    if !repo.excludepkgs.is_empty() {
        line += &format!(" --excludepkgs={}", quote(&repo.excludepkgs.join(",")));
    }
    if !repo.includepkgs.is_empty() {
        line += &format!(" --includepkgs={}", quote(&repo.includepkgs.join(",")));
    }
    if let Some(p) = &repo.proxy {
        line += &format!(" --proxy={}", quote(p));
    }
    if repo.install {
        line += " --install";
    }
    if repo.noverifyssl {
        line += " --noverifyssl";
    }
    line.push('\n');
    line
}
