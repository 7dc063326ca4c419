//! FTP fetching against a minimal in-process FTP server (control and passive data
//! connections over loopback), which records the commands it gets.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::super::*;

type Log = Arc<Mutex<Vec<String>>>;

/// Serves `files` to any login; returns the port and the log of commands received.
async fn ftp_server(files: HashMap<&'static str, Vec<u8>>) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let files = Arc::new(files);
    let server_log = log.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (log, files) = (server_log.clone(), files.clone());
            tokio::spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut lines = BufReader::new(rd).lines();
                let _ = wr.write_all(b"220 fake ftp\r\n").await;
                let mut data: Option<TcpListener> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line.clone());
                    let (cmd, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                    let reply = match cmd {
                        "USER" => "331 password please\r\n".to_string(),
                        "PASS" => "230 logged in\r\n".to_string(),
                        "TYPE" => "200 type set\r\n".to_string(),
                        "PASV" => {
                            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                            let p = l.local_addr().unwrap().port();
                            data = Some(l);
                            format!(
                                "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                                p / 256,
                                p % 256
                            )
                        }
                        "RETR" => match (files.get(arg), data.take()) {
                            (Some(bytes), Some(l)) => {
                                let _ = wr.write_all(b"150 here it comes\r\n").await;
                                if let Ok((mut d, _)) = l.accept().await {
                                    let _ = d.write_all(bytes).await;
                                    let _ = d.shutdown().await;
                                }
                                "226 transfer complete\r\n".to_string()
                            }
                            _ => "550 no such file\r\n".to_string(),
                        },
                        "QUIT" => {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => "502 command not recognized\r\n".to_string(),
                    };
                    if wr.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, log)
}

#[tokio::test]
async fn ftp_fetch_is_binary_anonymous_and_bounded() {
    let ks = b"lang C\r\npart / --size=4096\r\n%packages\r\nbash\r\n%end\r\n".to_vec();
    let files = HashMap::from([("pub/ks/a.ks", ks.clone()), ("big.ks", vec![b'#'; 50_000])]);
    let (port, log) = ftp_server(files).await;

    let url = Url::parse(&format!("ftp://127.0.0.1:{port}/pub/ks/a.ks")).unwrap();
    let text = fetch_url(&url, 1000).await.unwrap();
    // Binary mode: the CRLFs arrive as stored.
    assert_eq!(text.as_bytes(), ks.as_slice());
    let cmds = log.lock().unwrap().clone();
    assert_eq!(cmds[..3], ["USER anonymous", "PASS anonymous@", "TYPE I"]);
    assert!(cmds.contains(&"RETR pub/ks/a.ks".to_string()), "{cmds:?}");

    let url = Url::parse(&format!("ftp://127.0.0.1:{port}/big.ks")).unwrap();
    let e = fetch_url(&url, 1000).await.unwrap_err();
    assert!(
        matches!(e, KsError::FetchTooLarge { limit: 1000, .. }),
        "{e}"
    );

    let url = Url::parse(&format!("ftp://qa:secret@127.0.0.1:{port}/none.ks")).unwrap();
    let e = fetch_url(&url, 1000).await.unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with(&format!("ftp://qa:***@127.0.0.1:{port}/none.ks: RETR")),
        "{s}"
    );
    assert!(!s.contains("secret"), "{s}");
    assert!(log.lock().unwrap().contains(&"USER qa".to_string()));
}

#[tokio::test]
async fn ftp_server_down_is_unavailable() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let url = Url::parse(&format!("ftp://127.0.0.1:{port}/a.ks")).unwrap();
    let e = fetch_url(&url, 1000).await.unwrap_err();
    assert!(matches!(e, KsError::Fetch { .. }), "{e}");
    assert_eq!(e.exit_code(), crate::exit::UNAVAILABLE);
}
