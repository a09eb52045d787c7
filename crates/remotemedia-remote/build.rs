//! Generates the remotemedia.v1 messages and services from `proto/`.
//!
//! The `.proto` files are parsed by `protox`, a protobuf compiler written in
//! Rust, rather than a system `protoc`: a fresh machine needs nothing but
//! cargo, and the descriptor set it produces also feeds gRPC reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/common.proto", "proto/execution.proto", "proto/streaming.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("remotemedia_v1_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
