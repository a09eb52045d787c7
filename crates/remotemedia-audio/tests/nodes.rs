//! The audio nodes inside the engine: manifests, batch vs streaming, format
//! handling, zero-copy pass-through and parameter errors.

use std::sync::Arc;

use remotemedia_audio::nodes::VadInfo;
use remotemedia_core::{AudioData, Engine, Manifest, Node, Pipeline, Registry, RuntimeData, Samples, SinkOutput};
use serde_json::{Value, json};

fn engine() -> Engine {
    let mut r = Registry::with_builtins();
    remotemedia_audio::register(&mut r);
    Engine::new(r)
}

fn pipeline(e: &Engine, nodes: Value) -> Arc<Pipeline> {
    let n = nodes.as_array().unwrap().len();
    let connections: Vec<Value> = (1..n)
        .map(|i| json!({"from": nodes[i - 1]["id"], "to": nodes[i]["id"]}))
        .collect();
    e.compile(Manifest::from_value(json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap())
        .unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A chirp-like test signal (deterministic, broadband within 0-7 kHz).
fn signal(frames: usize, rate: u32) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            let t = i as f32 / rate as f32;
            0.3 * (2.0 * std::f32::consts::PI * (200.0 + 3000.0 * t) * t).sin()
        })
        .collect()
}

fn run_chunks(
    e: &Engine,
    p: &Arc<Pipeline>,
    audio: &[f32],
    channels: usize,
    rate: u32,
    chunk: usize,
) -> Vec<SinkOutput> {
    let frames = audio.len() / channels;
    let mut inputs = Vec::new();
    let mut start = 0;
    while start < frames {
        let end = (start + chunk).min(frames);
        let mut planar = Vec::with_capacity((end - start) * channels);
        for c in 0..channels {
            planar.extend_from_slice(&audio[c * frames + start..c * frames + end]);
        }
        inputs.push(RuntimeData::Audio(AudioData::new(planar, channels, rate).unwrap()));
        start = end;
    }
    block_on(e.run_batch(p, inputs)).unwrap()
}

/// Concatenates the f32 audio of the outputs, per channel.
fn concat(outputs: &[SinkOutput]) -> (Vec<Vec<f32>>, u32) {
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut rate = 0;
    for o in outputs {
        let a = o.data.audio().unwrap();
        rate = a.sample_rate();
        let Samples::F32(s) = a.samples() else {
            panic!("expected f32")
        };
        channels.resize(a.channels(), Vec::new());
        for (c, ch) in channels.iter_mut().enumerate() {
            ch.extend_from_slice(&s[c * a.frames()..(c + 1) * a.frames()]);
        }
    }
    (channels, rate)
}

#[test]
fn resampling_in_chunks_equals_one_call_and_has_the_exact_length() {
    let e = engine();
    let p = pipeline(
        &e,
        json!([{"id": "r", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}}]),
    );
    let frames = 48_000 + 7;
    let mut stereo = signal(frames, 48_000);
    stereo.extend(signal(frames, 48_000).iter().map(|x| -0.5 * x));
    let (whole, rate) = concat(&run_chunks(&e, &p, &stereo, 2, 48_000, frames));
    assert_eq!(rate, 16_000);
    assert_eq!(whole.len(), 2);
    assert_eq!(whole[0].len(), (frames as f64 / 3.0).round() as usize);
    for chunk in [1, 7, 480, 960, 1013] {
        let (chunked, _) = concat(&run_chunks(&e, &p, &stereo, 2, 48_000, chunk));
        assert_eq!(chunked, whole, "chunk {chunk}");
    }
    // The second channel is the first scaled by -0.5, and stays so.
    for (a, b) in whole[0].iter().zip(&whole[1]) {
        assert!((b + 0.5 * a).abs() < 1e-5);
    }
}

#[test]
fn same_rate_passes_the_same_buffer() {
    let e = engine();
    let p = pipeline(
        &e,
        json!([{"id": "r", "node_type": "ResampleNode", "params": {"target_sample_rate": 16000}}]),
    );
    let audio = AudioData::new(vec![1i16, 2, 3, 4], 1, 16_000).unwrap();
    let out = block_on(e.run_batch(&p, [RuntimeData::Audio(audio.clone())])).unwrap();
    assert_eq!(out.len(), 1);
    assert!(out[0].data.audio().unwrap().samples().ptr_eq(audio.samples()));
}

#[test]
fn integer_audio_is_resampled_as_f32() {
    let e = engine();
    let p = pipeline(
        &e,
        json!([{"id": "r", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 8000, "quality": "low"}}]),
    );
    let pcm: Vec<i16> = signal(16_000, 16_000).iter().map(|x| (x * 32768.0) as i16).collect();
    let out = block_on(e.run_batch(&p, [RuntimeData::Audio(AudioData::new(pcm, 1, 16_000).unwrap())])).unwrap();
    let (ch, rate) = concat(&out);
    assert_eq!((rate, ch[0].len()), (8000, 8000));
    let peak = ch[0].iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.2 && peak < 0.35, "peak {peak}");
}

#[test]
fn format_conversion_follows_the_documented_arithmetic() {
    let e = engine();
    let to_i16 = pipeline(
        &e,
        json!([{"id": "c", "node_type": "FormatConverterNode", "params": {"target_format": "i16"}}]),
    );
    let f = AudioData::new(vec![1.0f32, -1.0, 0.5, f32::NAN, 2.0, -0.000_01], 2, 8000).unwrap();
    let out = block_on(e.run_batch(&to_i16, [RuntimeData::Audio(f)])).unwrap();
    let a = out[0].data.audio().unwrap();
    assert_eq!((a.channels(), a.frames()), (2, 3));
    let Samples::I16(s) = a.samples() else { panic!() };
    assert_eq!(&s[..], &[32767, -32768, 16384, 0, 32767, 0]);

    let to_f32 = pipeline(&e, json!([{"id": "c", "node_type": "FormatConverterNode"}]));
    let i = AudioData::new(vec![-32768i16, 16384, 0, 32767], 1, 8000).unwrap();
    let out = block_on(e.run_batch(&to_f32, [RuntimeData::Audio(i)])).unwrap();
    let Samples::F32(s) = out[0].data.audio().unwrap().samples() else {
        panic!()
    };
    assert_eq!(&s[..], &[-1.0, 0.5, 0.0, 32767.0 / 32768.0]);

    let same = AudioData::new(vec![0.25f32; 16], 1, 8000).unwrap();
    let out = block_on(e.run_batch(&to_f32, [RuntimeData::Audio(same.clone())])).unwrap();
    assert!(out[0].data.audio().unwrap().samples().ptr_eq(same.samples()));
}

#[test]
fn vad_results_survive_downstream_audio_nodes() {
    let e = engine();
    let p = pipeline(
        &e,
        json!([
            {"id": "vad", "node_type": "VADNode", "params": {"energy_threshold": 0.02}},
            {"id": "r", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 8000}},
            {"id": "c", "node_type": "FormatConverterNode", "params": {"target_format": "i16"}}
        ]),
    );
    // 0.5 s silence, 0.5 s loud tone, 0.5 s silence: energy mode finds the tone.
    let mut x = vec![0.0f32; 8000];
    x.extend(signal(8000, 16_000).iter().map(|v| v * 2.0));
    x.extend(vec![0.0f32; 8000]);
    let out = run_chunks(&e, &p, &x, 1, 16_000, 320);
    let mut segments = Vec::new();
    let mut frames = 0;
    let (tail, annotated) = out.split_last().unwrap();
    // The resampler's flush releases its held-back tail as plain audio.
    assert!(matches!(&tail.data, RuntimeData::Audio(a) if a.format() == remotemedia_core::SampleFormat::I16));
    for o in annotated {
        let RuntimeData::Annotated { audio, annotation } = &o.data else {
            panic!("expected VAD results, got {:?}", o.data)
        };
        let info = annotation.downcast_ref::<VadInfo>().expect("VAD results");
        assert!(matches!(audio.samples(), Samples::I16(_)));
        frames += info.total_frames;
        segments.extend(info.segments.iter().cloned());
    }
    assert_eq!(frames, 50, "1.5 s of 30 ms frames");
    assert_eq!(segments.len(), 1, "{segments:?}");
    assert!(
        (segments[0].start - 0.5).abs() <= 0.03 && (segments[0].end - 1.0).abs() <= 0.03,
        "{segments:?}"
    );
}

#[test]
fn vad_streaming_equals_one_call() {
    let e = engine();
    let p = pipeline(&e, json!([{"id": "vad", "node_type": "VADNode"}]));
    let mut x = vec![0.0f32; 4000];
    x.extend(signal(16_000, 16_000));
    x.extend(vec![0.0f32; 9000]);
    let collect = |chunk| {
        let out = run_chunks(&e, &p, &x, 1, 16_000, chunk);
        let mut decisions = Vec::new();
        let mut segments = Vec::new();
        for o in out {
            let RuntimeData::Annotated { annotation, .. } = o.data else {
                panic!()
            };
            let info = annotation.downcast_ref::<VadInfo>().expect("VAD results");
            decisions.extend(info.frame_decisions.iter().copied());
            segments.extend(info.segments.iter().cloned());
        }
        (decisions, segments)
    };
    let whole = collect(x.len());
    assert_eq!(whole.0.len(), x.len() / 480);
    for chunk in [1, 160, 479, 1000] {
        assert_eq!(collect(chunk), whole, "chunk {chunk}");
    }
}

#[test]
fn bad_params_are_refused_with_their_path() {
    let e = engine();
    let cases = [
        (
            json!({"id": "v", "node_type": "VADNode", "params": {"frame_duration_ms": 25}}),
            "nodes[0].params.frame_duration_ms",
        ),
        (
            json!({"id": "v", "node_type": "VADNode", "params": {"threshold": -30}}),
            "nodes[0].params.threshold",
        ),
        (
            json!({"id": "v", "node_type": "VADNode", "params": {"mode": "loud"}}),
            "nodes[0].params.mode",
        ),
        (
            json!({"id": "v", "node_type": "VADNode", "params": {"energy_threshold": -1.0}}),
            "nodes[0].params.energy_threshold",
        ),
        (
            json!({"id": "r", "node_type": "AudioResampleNode", "params": {"quality": "ultra"}}),
            "nodes[0].params.quality",
        ),
        (
            json!({"id": "r", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 0}}),
            "nodes[0].params.target_sample_rate",
        ),
        (
            json!({"id": "r", "node_type": "AudioResampleNode", "params": {"target_sample_rate": -16000}}),
            "nodes[0].params.target_sample_rate",
        ),
        (
            json!({"id": "c", "node_type": "FormatConverterNode", "params": {"target_format": "f64"}}),
            "nodes[0].params.target_format",
        ),
    ];
    for (node, path) in cases {
        let m = Manifest::from_value(json!({"version": "v1", "nodes": [node]})).unwrap();
        let problems = e.compile(m).unwrap_err().problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, path, "{}", problems[0]);
    }
}

#[test]
fn unsupported_vad_rate_is_a_clear_fatal_error() {
    let e = engine();
    let p = pipeline(&e, json!([{"id": "vad", "node_type": "VADNode"}]));
    let audio = AudioData::mono_f32(vec![0.0; 9600], 96_000).unwrap();
    let err = block_on(e.run_batch(&p, [RuntimeData::Audio(audio)])).unwrap_err();
    assert!(err.to_string().contains("unsupported sample rate 96000 Hz"), "{err}");
}

#[test]
fn non_audio_input_is_refused() {
    let e = engine();
    for t in ["VADNode", "AudioResampleNode", "FormatConverterNode"] {
        let p = pipeline(&e, json!([{"id": "n", "node_type": t}]));
        let err = block_on(e.run_batch(&p, [RuntimeData::Json(json!(1))])).unwrap_err();
        assert!(err.to_string().contains("expects audio, got json"), "{err}");
    }
}

#[test]
fn empty_multichannel_audio_is_fine() {
    let e = engine();
    for (t, params) in [
        ("AudioResampleNode", json!({"target_sample_rate": 16000})),
        ("VADNode", json!({})),
        ("FormatConverterNode", json!({"target_format": "i16"})),
    ] {
        let p = pipeline(&e, json!([{"id": "n", "node_type": t, "params": params}]));
        let empty = AudioData::new(Vec::<f32>::new(), 2, 48_000).unwrap();
        let out = block_on(e.run_batch(&p, [RuntimeData::Audio(empty)])).unwrap();
        for o in &out {
            let a = o.data.audio().unwrap();
            assert_eq!((a.channels(), a.frames()), (2, 0), "{t}");
        }
    }
}

/// Every output of a run, flush included, in one sample format: integer
/// audio passed through a VAD must not turn into f32 at the end of the
/// stream (a WAV writer or a Python caller would see the stream change
/// shape).
#[test]
fn integer_audio_keeps_its_format_through_the_flush() {
    let e = engine();
    let speech = signal(48_000, 48_000);
    let i16s: Vec<i16> = speech.iter().map(|&s| (s * 32767.0) as i16).collect();
    let i32s: Vec<i32> = speech.iter().map(|&s| (s * 2_147_483_000.0) as i32).collect();
    for nodes in [
        json!([{"id": "vad", "node_type": "VADNode"}]),
        json!([{"id": "vad", "node_type": "VADNode", "params": {"energy_threshold": 0.02}}]),
        json!([{"id": "vad", "node_type": "VADNode", "params": {"frame_duration_ms": 10}},
               {"id": "pass", "node_type": "PassThroughNode"}]),
    ] {
        let p = pipeline(&e, nodes.clone());
        for samples in [Samples::from(i16s.clone()), Samples::from(i32s.clone())] {
            let want = samples.format();
            let audio = AudioData::new(samples, 1, 48_000).unwrap();
            // A rate change mid-stream flushes the first stream too.
            let other = AudioData::new(
                match want {
                    remotemedia_core::SampleFormat::I16 => Samples::from(vec![1000i16; 16_000]),
                    _ => Samples::from(vec![1 << 24; 16_000]),
                },
                1,
                16_000,
            )
            .unwrap();
            let inputs = [audio.clone(), audio, other].map(RuntimeData::Audio);
            let out = block_on(e.run_batch(&p, inputs)).unwrap();
            assert!(
                out.iter().any(|o| o.data.audio().unwrap().frames() == 0),
                "{nodes}: no flush output"
            );
            for o in &out {
                let a = o.data.audio().unwrap();
                assert_eq!(
                    a.format(),
                    want,
                    "{nodes}: {} frames at {} Hz",
                    a.frames(),
                    a.sample_rate()
                );
            }
        }
    }
}

#[test]
fn audio_buffer_hands_on_exact_blocks_and_the_remainder() {
    use remotemedia_audio::nodes::{AudioBufferNode, AudioBufferParams};
    let mut node = AudioBufferNode::new(AudioBufferParams {
        buffer_size_samples: 400,
    });
    let mut out = Vec::new();
    let samples: Vec<i16> = (0..2000).map(|i| (i % 1000) as i16).collect();
    // Stereo, planar: the second channel is the first negated.
    for piece in samples.chunks(333) {
        let mut planar = piece.to_vec();
        planar.extend(piece.iter().map(|s| -s));
        node.process(RuntimeData::Audio(AudioData::new(planar, 2, 8000).unwrap()), &mut out)
            .unwrap();
    }
    node.flush(&mut out).unwrap();
    let blocks: Vec<&AudioData> = out.iter().map(|d| d.audio().unwrap()).collect();
    assert_eq!(
        blocks.iter().map(|a| a.frames()).collect::<Vec<_>>(),
        [400, 400, 400, 400, 400]
    );
    let mut left = Vec::new();
    for a in &blocks {
        assert_eq!(
            (a.channels(), a.sample_rate(), a.format()),
            (2, 8000, remotemedia_core::SampleFormat::I16)
        );
        let Samples::I16(s) = a.samples() else {
            panic!("format kept")
        };
        left.extend_from_slice(&s[..a.frames()]);
        assert!(s[..a.frames()].iter().zip(&s[a.frames()..]).all(|(l, r)| *r == -*l));
    }
    assert_eq!(left, samples);
}

#[test]
fn audio_buffer_flushes_what_it_holds_when_the_shape_changes() {
    use remotemedia_audio::nodes::{AudioBufferNode, AudioBufferParams};
    let mut node = AudioBufferNode::new(AudioBufferParams {
        buffer_size_samples: 1000,
    });
    let mut out = Vec::new();
    node.process(
        RuntimeData::Audio(AudioData::mono_f32(vec![0.5; 300], 16_000).unwrap()),
        &mut out,
    )
    .unwrap();
    node.process(
        RuntimeData::Audio(AudioData::new(vec![7i16; 500], 1, 16_000).unwrap()),
        &mut out,
    )
    .unwrap();
    node.flush(&mut out).unwrap();
    let shapes: Vec<_> = out
        .iter()
        .map(|d| (d.audio().unwrap().frames(), d.audio().unwrap().format()))
        .collect();
    assert_eq!(
        shapes,
        [
            (300, remotemedia_core::SampleFormat::F32),
            (500, remotemedia_core::SampleFormat::I16)
        ]
    );
}

#[test]
fn audio_transform_mixes_down_before_and_up_after_resampling() {
    use remotemedia_audio::nodes::{AudioTransformNode, AudioTransformParams};
    let frames = 4800;
    let mut planar: Vec<f32> = (0..frames).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
    planar.extend(vec![0.25f32; frames]);
    let mut mono = AudioTransformNode::new(AudioTransformParams {
        output_sample_rate: 16_000,
        output_channels: 1,
        ..AudioTransformParams::default()
    });
    let mut out = Vec::new();
    mono.process(RuntimeData::Audio(AudioData::new(planar, 2, 48_000).unwrap()), &mut out)
        .unwrap();
    mono.flush(&mut out).unwrap();
    let total: usize = out.iter().map(|d| d.audio().unwrap().frames()).sum();
    assert_eq!(total, frames / 3);
    assert!(
        out.iter()
            .all(|d| d.audio().unwrap().channels() == 1 && d.audio().unwrap().sample_rate() == 16_000)
    );
    let mut stereo = AudioTransformNode::new(AudioTransformParams::default());
    let mut up = Vec::new();
    stereo
        .process(
            RuntimeData::Audio(AudioData::mono_f32(vec![0.1; 4410], 44_100).unwrap()),
            &mut up,
        )
        .unwrap();
    assert!(up.iter().all(|d| d.audio().unwrap().channels() == 2));
}

#[test]
fn resolved_vad_params_state_every_default_the_detector_uses() {
    let registry = engine().registry().clone();
    let (_, vad) = registry
        .get("VADNode")
        .unwrap()
        .resolve(remotemedia_core::RuntimeHint::Rust)
        .unwrap();
    let speech = vad.resolve(&json!({})).unwrap();
    assert_eq!(speech["mode"], "speech");
    assert_eq!(speech["frame_duration_ms"], 30);
    assert_eq!(speech["hangover_ms"], 0);
    assert_eq!(speech["min_speech_ms"], 180);
    assert_eq!(speech["min_silence_ms"], 120);
    assert_eq!(speech["threshold_db"], -60.0);
    // energy_threshold alone selects energy mode, unsmoothed, at its level.
    let energy = vad
        .resolve(&json!({"energy_threshold": 0.02, "frame_duration_ms": 10}))
        .unwrap();
    assert_eq!(energy["mode"], "energy");
    assert_eq!(energy["frame_duration_ms"], 10);
    assert_eq!(
        (energy["min_speech_ms"].clone(), energy["min_silence_ms"].clone()),
        (json!(0), json!(0))
    );
    assert!((energy["threshold_db"].as_f64().unwrap() + 33.98).abs() < 0.01);
    let bad = vad.resolve(&json!({"frame_duration_ms": 25})).unwrap_err();
    assert_eq!(bad.path, "frame_duration_ms");
}
