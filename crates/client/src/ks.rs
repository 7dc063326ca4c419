//! `fbs ks flatten FILE [--root DIR]`: print a kickstart with its `%include`s inlined, as
//! fbs would put it in a job, so a user can see (and diff) what the builder will get.

use std::io::Write;
use std::path::Path;

use fbs_core::exit;
use fbs_core::kickstart;

/// Flattens `file` (includes must stay inside `root`, by default the file's directory) and
/// prints the text on stdout; errors go to stderr. Returns the exit code: 0, 2 for an invalid
/// kickstart, 3 when a file cannot be read.
pub fn flatten_cmd(file: &Path, root: Option<&Path>) -> u8 {
    let default_root = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match kickstart::flatten_file(file, root.unwrap_or(default_root)) {
        Ok(flat) => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(flat.text.as_bytes())
                .and_then(|()| out.flush())
            {
                Ok(()) => exit::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::SUCCESS,
                Err(e) => {
                    eprintln!("fbs: cannot write the kickstart: {e}");
                    exit::UNAVAILABLE
                }
            }
        }
        Err(e) => {
            eprintln!("fbs: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let Ok(d) = tempfile::tempdir() else { return };
        let ok = d.path().join("ok.ks");
        let bad = d.path().join("bad.ks");
        assert!(std::fs::write(&ok, "lang C\n").is_ok());
        assert!(std::fs::write(&bad, "%packages\n").is_ok());
        assert_eq!(flatten_cmd(&ok, None), exit::SUCCESS);
        assert_eq!(flatten_cmd(&bad, Some(d.path())), exit::INVALID_INPUT);
        assert_eq!(
            flatten_cmd(&d.path().join("none.ks"), None),
            exit::UNAVAILABLE
        );
    }
}
