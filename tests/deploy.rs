//! `fbs deploy` and `fbs fleet` against real hosts: the test environment's network namespaces
//! h1..h4, each with its own sshd, host key and overlay /etc, /opt, /srv and /var
//! (scripts/testenv/hosts.sh). Assertions read each host's own overlay upper dir, so nothing
//! passes because hosts share a directory. The hosts are shared by these tests, which take a
//! lock and reset them first.

mod converge;
mod failures;
mod fleet;
mod local;
mod rig;
