"""A minimal Python grpcio server for remotemedia.v1 StreamPipeline.

The peer for bench/remote: what the older SDK's Python service path costs.
Each audio chunk (f32 mono, 48 kHz) is resampled to 16 kHz with
scipy.signal.resample_poly and judged by a 20 ms frame energy detector in
numpy, then answered with a ChunkResult (audio + a JSON verdict), one per
chunk, as our server does. The stubs are generated at start from the
project's .proto files with grpc_tools. Prints "listening on HOST:PORT" on
stderr once ready.

    python python_grpc_server.py [--port 0]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import numpy as np
from grpc_tools import protoc  # type: ignore[import-untyped]
from scipy.signal import resample_poly  # type: ignore[import-untyped]

PROTO_DIR = Path(__file__).resolve().parents[2] / "crates" / "remotemedia-remote" / "proto"


def load_stubs() -> tuple[Any, Any]:
    out = tempfile.mkdtemp(prefix="remotemedia-v1-")
    files = [str(PROTO_DIR / f) for f in ("common.proto", "execution.proto", "streaming.proto")]
    rc = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", f"--grpc_python_out={out}", *files])
    if rc != 0:
        raise SystemExit(f"protoc failed ({rc})")
    sys.path.insert(0, out)
    return importlib.import_module("streaming_pb2"), importlib.import_module("streaming_pb2_grpc")


pb, pb_grpc = load_stubs()
common = importlib.import_module("common_pb2")


def vad(audio: np.ndarray, rate: int) -> dict[str, Any]:
    frame = rate // 50
    n = len(audio) // frame
    frames = audio[: n * frame].reshape(n, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1) + 1e-12)
    decisions = (20 * np.log10(rms) > -40.0).tolist()
    return {"is_speech": any(decisions), "speech_frames": sum(decisions), "total_frames": n}


class Streaming(pb_grpc.StreamingPipelineServiceServicer):  # type: ignore[misc,name-defined]
    def StreamPipeline(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:
        for req in requests:
            kind = req.WhichOneof("request")
            if kind == "init":
                yield pb.StreamResponse(ready=pb.StreamReady(session_id="py", recommended_chunk_size=960))
            elif kind == "audio_chunk":
                b = req.audio_chunk.buffer
                x = np.frombuffer(b.samples, dtype="<f4")
                y = resample_poly(x, 1, 3).astype(np.float32)
                out = common.AudioBuffer(
                    samples=y.tobytes(), sample_rate=16000, channels=1, format=b.format, num_samples=len(y)
                )
                result = pb.ChunkResult(sequence=req.audio_chunk.sequence)
                result.audio_outputs["vad"].CopyFrom(out)
                result.data_outputs["vad"] = json.dumps(vad(y, 16000))
                yield pb.StreamResponse(result=result)
            else:
                yield pb.StreamResponse(closed=pb.StreamClosed(session_id="py", reason="closed by client"))
                return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_StreamingPipelineServiceServicer_to_server(Streaming(), server)
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print(f"listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
