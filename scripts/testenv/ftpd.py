#!/usr/bin/env python3
"""The test FTP server: pyftpdlib with a user account and anonymous write access, both rooted
at one directory, on a given loopback port.

    ftpd.py --port PORT --root DIR [--passive-ports 30000-30009] [--user NAME]
            [--tls-cert PEM] [--max-upload-rate BYTES_PER_S] [--log FILE]

The user's password is read from the environment variable FBS_FTPD_PASSWORD (so it does not
show in the process list). With --tls-cert (certificate and key in one PEM file) the server
offers explicit FTPS (AUTH TLS) and requires it on control and data connections.
--max-upload-rate slows uploads down (tests that interrupt a transfer).
"""
import argparse
import logging
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

PERMS = "elradfmwMT"  # list, cwd, retrieve, append, delete, rename, mkdir, store, chmod, mtime


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--passive-ports", default="")
    p.add_argument("--user", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--max-upload-rate", type=int, default=0)
    p.add_argument("--log", default="")
    a = p.parse_args()

    os.makedirs(a.root, exist_ok=True)
    authorizer = DummyAuthorizer()
    if a.user:
        password = os.environ.get("FBS_FTPD_PASSWORD", "")
        authorizer.add_user(a.user, password, a.root, perm=PERMS)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "write permissions for anonymous"
        authorizer.add_anonymous(a.root, perm=PERMS)

    handler = FTPHandler
    if a.tls_cert:
        from pyftpdlib.handlers import TLS_FTPHandler

        handler = TLS_FTPHandler
        handler.certfile = a.tls_cert
        handler.tls_control_required = True
        handler.tls_data_required = True
    handler.authorizer = authorizer
    if a.max_upload_rate:
        from pyftpdlib.handlers import ThrottledDTPHandler

        dtp = ThrottledDTPHandler
        dtp.read_limit = a.max_upload_rate
        if a.tls_cert:
            from pyftpdlib.handlers import TLS_DTPHandler

            class ThrottledTLS(TLS_DTPHandler, ThrottledDTPHandler):
                pass

            dtp = ThrottledTLS
        handler.dtp_handler = dtp
    if a.passive_ports:
        lo, hi = (int(x) for x in a.passive_ports.split("-"))
        handler.passive_ports = range(lo, hi + 1)
    if a.log:
        logging.basicConfig(filename=a.log, level=logging.INFO)
    server = FTPServer((a.host, a.port), handler)
    server.max_cons = 64
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
