//! `user@host[:port]`, the way deploy.conf names a host (an IPv6 address in brackets).

use std::fmt;

/// How to log in to one host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login {
    /// The user (default: the ssh config's, else the local user).
    pub user: Option<String>,
    /// Host name or address, as ssh is given it (so `Host` blocks of the ssh config apply).
    pub host: String,
    /// The port (default: the ssh config's, else 22).
    pub port: Option<u16>,
}

impl Login {
    /// Parse `user@host[:port]`, `host`, or `user@[v6addr]:port`.
    pub fn parse(raw: &str) -> Result<Login, String> {
        let raw = raw.trim();
        let (user, rest) = match raw.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_owned()), r),
            Some(_) => return Err(format!("`{raw}`: empty user before `@`")),
            None => (None, raw),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{raw}`: unclosed `[`"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').unwrap_or(p)),
            };
            (addr, port)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{raw}` names no host (expected user@host[:port])"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '\'' | '"' | ';' | '@'))
        {
            return Err(format!("`{raw}`: `{host}` is not a host name"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("`{raw}`: `{p}` is not a port number"))?,
            ),
        };
        Ok(Login {
            user,
            host: host.to_owned(),
            port,
        })
    }

    /// True when this names the machine `fbs deploy` runs on.
    pub fn is_local(&self) -> bool {
        let me = gethostname::gethostname().to_string_lossy().into_owned();
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1") || self.host == me
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_parse_and_print_back() {
        for (raw, user, host, port) in [
            ("root@10.0.0.27", Some("root"), "10.0.0.27", None),
            ("gene@localhost", Some("gene"), "localhost", None),
            ("h1", None, "h1", None),
            ("root@h2:2222", Some("root"), "h2", Some(2222)),
            ("root@[::1]:22", Some("root"), "::1", Some(22)),
        ] {
            let l = Login::parse(raw).expect(raw);
            assert_eq!(l.user.as_deref(), user, "{raw}");
            assert_eq!(l.host, host, "{raw}");
            assert_eq!(l.port, port, "{raw}");
            assert_eq!(l.to_string(), raw);
        }
        for bad in [
            "",
            "@h",
            "root@",
            "root@h:99999",
            "root@h:x",
            "a b",
            "root@[::1",
        ] {
            assert!(Login::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
