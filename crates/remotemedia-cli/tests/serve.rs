//! `remotemedia serve` as a process: logs its bound address, accepts
//! connections, refuses a bad `--pipelines` directory, and drains on SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[cfg(unix)]
#[test]
fn serves_on_an_ephemeral_port_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args(["serve", "--bind", "127.0.0.1:0", "--auth-token", "t"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(a) = line.trim().strip_prefix("listening on ") {
            addr = Some(a.to_owned());
            break;
        }
        line.clear();
    }
    let addr = addr.expect("a 'listening on' line");
    TcpStream::connect(&addr).expect("accepts connections");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "exit after SIGTERM; stderr:\n{rest}");
    assert!(rest.contains("draining") && rest.contains("stopped"), "{rest}");
}

#[test]
fn a_missing_pipelines_directory_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--pipelines",
            "/nonexistent/pipelines",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/pipelines"), "{err}");
}
