//! Fetching kickstarts over HTTP from real local servers: Python's `http.server` for the
//! ordinary cases, and a raw TCP listener for servers that misbehave. (FTP is covered by
//! unit tests; the FTP server of the test environment serves staging tests.)

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use fbs_core::kickstart::{self, KsError, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helper;

/// `python -m http.server` on a free loopback port, serving `dir`; killed on drop.
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn start(dir: &Path) -> Option<HttpServer> {
        let python = helper::venv_tool("python3")?;
        let mut child = Command::new(python)
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start http.server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read http.server banner");
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Some(HttpServer { child, port })
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/{path}", self.port)).expect("url")
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn served_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    let w = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    };
    w(
        "ks/top.ks",
        "lang C\n%include sub/pkgs.ks\n%include /tmp/fbs-part-include\n%pre\necho 'part / --size=1' > /tmp/fbs-part-include\n%end\n",
    );
    w(
        "ks/sub/pkgs.ks",
        "%packages\n%include ../../more/extra.pkgs\n%end\n",
    );
    w("more/extra.pkgs", "bash\n");
    w("ks/elsewhere.ks", "%include http://192.0.2.1/x.ks\n");
    w("ks/local.ks", "%include /etc/fbs-not-here.ks\n");
    w("big.ks", &"# padding\n".repeat(300));
    d
}

#[tokio::test]
async fn fetches_and_flattens_over_http() {
    let tree = served_tree();
    let Some(server) = HttpServer::start(tree.path()) else {
        return;
    };
    let text = kickstart::fetch_url(&server.url("more/extra.pkgs"), 1000)
        .await
        .expect("fetch");
    assert_eq!(text, "bash\n");

    let flat = kickstart::flatten_url(&server.url("ks/top.ks"), 10_000)
        .await
        .expect("flatten");
    assert_eq!(
        flat.text,
        "lang C\n%packages\nbash\n%end\n%include /tmp/fbs-part-include\n%pre\necho 'part / --size=1' > /tmp/fbs-part-include\n%end\n"
    );
    assert_eq!(flat.urls.len(), 3);
    assert_eq!(flat.runtime_includes, ["/tmp/fbs-part-include"]);

    let e = kickstart::flatten_url(&server.url("ks/elsewhere.ks"), 10_000)
        .await
        .expect_err("must fail");
    assert!(e.to_string().contains("elsewhere.ks:1: %include http://192.0.2.1/x.ks: http://192.0.2.1/x.ks is not on the server"), "{e}");
    let e = kickstart::flatten_url(&server.url("ks/local.ks"), 10_000)
        .await
        .expect_err("must fail");
    assert!(e.to_string().contains("local.ks:1: %include /etc/fbs-not-here.ks: a kickstart fetched from a URL cannot include a local file"), "{e}");
}

#[tokio::test]
async fn http_errors_and_limits() {
    let tree = served_tree();
    let Some(server) = HttpServer::start(tree.path()) else {
        return;
    };
    let e = kickstart::fetch_url(&server.url("nope.ks"), 1000)
        .await
        .expect_err("must fail");
    assert!(matches!(e, KsError::HttpStatus { status: 404, .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with("/nope.ks: the server answered HTTP 404"),
        "{e}"
    );
    assert_eq!(e.exit_code(), fbs_core::exit::INVALID_INPUT);

    let e = kickstart::fetch_url(&server.url("big.ks"), 1000)
        .await
        .expect_err("must fail");
    assert!(
        matches!(e, KsError::FetchTooLarge { limit: 1000, .. }),
        "{e}"
    );
    // The limit counts every document of a flattened kickstart.
    let e = kickstart::flatten_url(&server.url("ks/top.ks"), 150)
        .await
        .expect_err("must fail");
    assert!(
        matches!(e, KsError::FetchTooLarge { .. } | KsError::TooLarge { .. }),
        "{e}"
    );

    drop(server);
    let Some(server) = HttpServer::start(tree.path()) else {
        return;
    };
    let port = server.port;
    drop(server);
    let url = Url::parse(&format!("http://127.0.0.1:{port}/ks/top.ks")).expect("url");
    let e = kickstart::fetch_url(&url, 1000)
        .await
        .expect_err("must fail");
    assert!(matches!(e, KsError::Fetch { .. }), "{e}");
    assert_eq!(e.exit_code(), fbs_core::exit::UNAVAILABLE);
}

/// A server that answers every request with `head` and then `body_len` bytes of `#`, then
/// closes. Returns the URL to fetch.
async fn raw_server(head: &'static str, body_len: usize) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = sock.write_all(head.as_bytes()).await;
                let chunk = vec![b'#'; 8192];
                let mut left = body_len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if sock.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    Url::parse(&format!("http://127.0.0.1:{port}/ks.ks")).expect("url")
}

#[tokio::test]
async fn the_limit_holds_whatever_the_server_announces() {
    const LIMIT: u64 = 4096;
    // No Content-Length: the body ends when the connection closes; the limit is enforced on
    // the bytes as they arrive.
    let url = raw_server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1 << 20).await;
    let e = kickstart::fetch_url(&url, LIMIT)
        .await
        .expect_err("must fail");
    assert!(matches!(e, KsError::FetchTooLarge { .. }), "{e}");

    // A Content-Length under the limit but a megabyte sent: nothing past the announced
    // length is taken.
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
        1 << 20,
    )
    .await;
    match kickstart::fetch_url(&url, LIMIT).await {
        Ok(text) => assert_eq!(text.len(), 100),
        Err(e) => assert!(matches!(e, KsError::Fetch { .. }), "{e}"),
    }

    // A Content-Length over the limit is refused before reading.
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 999999\r\nConnection: close\r\n\r\n",
        10,
    )
    .await;
    let e = kickstart::fetch_url(&url, LIMIT)
        .await
        .expect_err("must fail");
    assert!(matches!(e, KsError::FetchTooLarge { .. }), "{e}");

    // A Content-Length larger than what is sent: the short body is an error, not a kickstart.
    let url = raw_server(
        "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n",
        20,
    )
    .await;
    let e = kickstart::fetch_url(&url, LIMIT)
        .await
        .expect_err("must fail");
    assert!(matches!(e, KsError::Fetch { .. }), "{e}");

    // Chunked, with a small Content-Length beside it: still cut at the limit.
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2000\r\n";
    let url = raw_server(head, 0x2000).await;
    assert!(kickstart::fetch_url(&url, LIMIT).await.is_err());
}
