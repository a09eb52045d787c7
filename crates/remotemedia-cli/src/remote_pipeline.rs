//! `--remote host:port[,host:port...]` of `run` and `loadtest`: the
//! manifest runs on `remotemedia serve` servers, behind one local
//! `RemotePipelineNode` (id `remote`) that streams every chunk to them and
//! hands their results on.
//!
//! Each session of the local pipeline holds one remote stream, opened on
//! the next healthy server in turn. A transient failure (a server killed,
//! unreachable or overloaded) is retried at once on the next healthy server
//! with the chunk re-sent (the remote pipeline's state restarts there); see
//! `remotemedia_remote::remote_node`. All sinks' outputs come out of the
//! local node `remote`, in the sinks' id order.

use remotemedia_core::Manifest;
use serde_json::{Value, json};

/// The local node that stands for the remote pipeline.
pub const NODE_ID: &str = "remote";

/// Server options shared by `run` and `loadtest`.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// Run the pipeline on `remotemedia serve` servers (`host:port`, several
    /// separated by commas: sessions spread over them and fail over between
    /// them).
    #[arg(long, value_name = "HOST:PORT[,HOST:PORT...]")]
    pub remote: Option<String>,
    /// Bearer token for the servers (with --remote).
    #[arg(long, value_name = "TOKEN", requires = "remote")]
    pub auth_token: Option<String>,
    /// Longest one chunk's round trip (or connecting) may take before the
    /// chunk is retried on another server, in ms (with --remote).
    #[arg(long, value_name = "MS", default_value_t = 5_000, requires = "remote",
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub remote_timeout_ms: u64,
}

/// Splits and checks `list` (`host:port[,host:port...]`).
pub fn endpoints(list: &str) -> Result<Vec<String>, String> {
    let endpoints: Vec<String> = list.split(',').map(|e| e.trim().to_owned()).collect();
    for e in &endpoints {
        let ok = e
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            return Err(format!(
                "--remote: {e:?} is not host:port (a port in 1..=65535); give host:port[,host:port...]"
            ));
        }
    }
    Ok(endpoints)
}

/// `manifest` as a one-node local pipeline that runs it on the servers of
/// `args` (which must name some), retrying each failed chunk on the next
/// healthy server up to `retries` times.
pub fn wrap(manifest: &Manifest, args: &RemoteArgs, retries: u32) -> Result<Manifest, String> {
    let list = args.remote.as_deref().ok_or("--remote is not given")?;
    let mut params = json!({
        "endpoints": endpoints(list)?,
        "manifest": serde_json::to_value(manifest).map_err(|e| e.to_string())?,
        "timeout_ms": args.remote_timeout_ms,
    });
    if let Some(token) = &args.auth_token {
        params["auth_token"] = Value::String(token.clone());
    }
    // A failover is a reconnect to another server, not a wait for this one
    // to come back: retry at once, then back off a little.
    let retry = json!({"max_retries": retries, "initial_delay_ms": 0, "multiplier": 2.0, "max_delay_ms": 50});
    let name = manifest.metadata.name.clone().unwrap_or_else(|| "remote".into());
    Manifest::from_value(json!({
        "version": "v1",
        "metadata": {"name": format!("{name} (remote)")},
        "nodes": [{"id": NODE_ID, "node_type": "RemotePipelineNode", "params": params, "retry": retry}],
    }))
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(remote: &str) -> RemoteArgs {
        RemoteArgs {
            remote: Some(remote.into()),
            auth_token: Some("t".into()),
            remote_timeout_ms: 2_000,
        }
    }

    #[test]
    fn bad_endpoint_lists_are_refused_by_name() {
        for bad in ["", "host", "host:0", ":50051", "a:1,,b:2", "a:1,b:70000"] {
            let e = endpoints(bad).unwrap_err();
            assert!(e.starts_with("--remote:") && e.contains("host:port"), "{bad:?}: {e}");
        }
        assert_eq!(endpoints("a:1, b:2").unwrap(), ["a:1", "b:2"]);
    }

    #[test]
    fn wraps_the_manifest_into_one_remote_node() {
        let m = Manifest::from_value(json!({"version": "v1", "nodes": [{"id": "v", "node_type": "VADNode"}]})).unwrap();
        let wrapped = wrap(&m, &args("a:1,b:2"), 4).unwrap();
        assert_eq!(wrapped.nodes.len(), 1);
        let node = &wrapped.nodes[0];
        assert_eq!(
            (node.id.as_str(), node.node_type.as_str()),
            (NODE_ID, "RemotePipelineNode")
        );
        assert_eq!(node.params["endpoints"], json!(["a:1", "b:2"]));
        assert_eq!(node.params["manifest"]["nodes"][0]["node_type"], "VADNode");
        assert_eq!(node.params["auth_token"], "t");
        assert_eq!(node.retry.as_ref().unwrap().max_retries, 4);
    }
}
