//! Configuration: the daemon config, the client config, and the parts of deploy.conf daemons read.
