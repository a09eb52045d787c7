//! Streams that end leave nothing behind on a long-lived connection, even
//! when the client reads the whole response before ending its own side (as
//! many clients do): the server's heap after 200 more such streams is what
//! it was after the first 50. Measured with the engine's counting
//! allocator; this binary holds this one test so nothing else allocates
//! meanwhile.

mod support;

use remotemedia_core::Manifest;
use remotemedia_core::metrics::alloc::{TrackingAllocator, live_bytes};
use remotemedia_remote::proto::stream_control::Command;
use remotemedia_remote::proto::stream_response::Response as Out;
use remotemedia_remote::{ServerConfig, manifest_codec};
use support::{TestServer, chunk, control, f32_buffer, init};
use tokio_stream::wrappers::ReceiverStream;

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_streams_leave_no_residue_on_a_kept_connection() {
    let server = TestServer::start(ServerConfig::default()).await;
    let client = server.streaming().await;
    // No fields the server notes on stderr (which the test harness would
    // keep, per stream).
    let manifest = manifest_codec::to_wire(
        &Manifest::from_json(r#"{"version": "v1", "nodes": [{"id": "p", "node_type": "PassThroughNode"}]}"#).unwrap(),
    );
    let one_stream = || {
        let mut client = client.clone();
        let manifest = manifest.clone();
        async move {
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tx.send(init(manifest)).await.unwrap();
            tx.send(chunk(f32_buffer(&[0.25; 160], 16_000), 0)).await.unwrap();
            tx.send(control(Command::Close)).await.unwrap();
            let mut responses = client
                .stream_pipeline(ReceiverStream::new(rx))
                .await
                .unwrap()
                .into_inner();
            let mut closed = false;
            // Read to the end of the call (its trailers) first...
            while let Some(r) = responses.message().await.unwrap() {
                closed |= matches!(r.response, Some(Out::Closed(_)));
            }
            assert!(closed);
            // ...and only then end the request side.
            drop(tx);
        }
    };
    let settle = || tokio::time::sleep(std::time::Duration::from_millis(2_500));
    for _ in 0..50 {
        one_stream().await;
    }
    settle().await;
    let before = live_bytes();
    for _ in 0..200 {
        one_stream().await;
    }
    settle().await;
    let grown = live_bytes() as i64 - before as i64;
    // Before the fix each stream left about 0.5 KiB (100 KiB here).
    assert!(
        grown < 16 * 1024,
        "200 closed streams left {grown} bytes on the server and client heaps"
    );
}
