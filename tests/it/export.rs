//! Round trips: an exported network loads back with identical weights, a recorded run replays
//! to an identical history, a recorded GIF decodes to the frames it was given, and an
//! unwritable path gives a message instead of a panic.

use crate::support::preset;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use relu_lab::media::{GifRecorder, GifSettings, RgbaImage, write_png};
use relu_lab::nn::Activation;
use relu_lab::train::export::{NetworkFile, history_csv};
use relu_lab::train::{HistoryPoint, ReplayCursor, RunRecord, Session, SessionCommand, Verification};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relu-lab-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
    dir.join(name)
}

#[test]
fn an_exported_network_loads_back_with_identical_weights() {
    let mut session = Session::new(preset("prelu")).unwrap();
    for _ in 0..300 {
        session.step();
    }
    let file = session.network_file();
    // PyTorch layout: weight is [out_features][in_features].
    assert_eq!(file.layers[0].weight.len(), 8);
    assert_eq!(file.layers[0].weight[0].len(), 2);
    assert_eq!(file.layers[0].weight[3][1], session.network().layers[0].weights[[1, 3]]);
    let loaded = NetworkFile::from_json(&file.to_json()).unwrap();
    let restored = Session::from_network_file(&loaded).unwrap();
    assert_eq!(restored.network(), session.network());
    let bits = |s: &Session| -> Vec<u32> {
        s.network()
            .layers
            .iter()
            .flat_map(|l| l.weights.iter().chain(&l.biases).chain(&l.prelu_slopes))
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&restored), bits(&session));
}

#[test]
fn a_network_file_with_the_wrong_shape_is_refused_with_a_message() {
    let session = Session::new(preset("healthy-relu")).unwrap();
    let mut file = session.network_file();
    file.layers[1].weight.pop();
    let error = NetworkFile::from_json(&file.to_json()).unwrap_err().to_string();
    assert!(error.contains("layer 2"), "{error}");
    assert!(NetworkFile::from_json("{ not json").unwrap_err().to_string().contains("not a network file"));
}

fn history_of(session: &mut Session, every: u64, points: &mut Vec<HistoryPoint>) {
    if session.step_count().is_multiple_of(every) {
        points.push(HistoryPoint::from_evaluation(&session.evaluate()));
    }
}

#[test]
fn a_recorded_run_replays_to_an_identical_history() {
    let mut session = Session::new(preset("high-learning-rate")).unwrap();
    let mut live = Vec::new();
    let script: [(u64, SessionCommand); 3] = [
        (100, SessionCommand::SetLearningRate { learning_rate: 0.5 }),
        (250, SessionCommand::SetActivation { activation: Activation::Elu { alpha: 0.5 } }),
        (400, SessionCommand::SetBiasOffset { bias_offset: -1.0 }),
    ];
    for step in 0..600 {
        for (at, command) in &script {
            if *at == step {
                session.apply(command.clone()).unwrap();
            }
        }
        session.step();
        history_of(&mut session, 50, &mut live);
    }
    let record = RunRecord::from_json(&RunRecord::single(session.record(), None).to_json()).unwrap();
    let mut replayed = Vec::new();
    let (mut end, mut cursor) = ReplayCursor::start(&record.lanes[0]).unwrap();
    let verification = cursor.run_to_end(&mut end, |s| {
        history_of(s, 50, &mut replayed);
        Ok::<(), ()>(())
    });
    assert_eq!(verification.unwrap(), Verification::Matches);
    assert_eq!(end.network(), session.network());
    assert_eq!(replayed, live);
    assert_eq!(history_csv(&replayed), history_csv(&live));
    assert!(history_csv(&live).starts_with("step,epoch,learning_rate,train_loss,test_loss"));
}

fn test_frame(width: usize, height: usize, shade: u8) -> RgbaImage {
    let mut image = RgbaImage::filled(width, height, [shade, 255 - shade, 40, 255]);
    for x in 0..width {
        let at = ((height / 2) * width + x) * 4;
        image.pixels[at..at + 4].copy_from_slice(&[255, 255, 255, 255]);
    }
    image
}

fn wait_finished(recorder: &GifRecorder) -> relu_lab::media::RecorderStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = recorder.status();
        if status.is_finished {
            return status;
        }
        assert!(Instant::now() < deadline, "the encoder did not finish: {status:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_recorded_gif_decodes_with_the_expected_frames_and_size() {
    let path = temp_path("frames.gif");
    let mut recorder = GifRecorder::start(&path, GifSettings { frames_per_second: 20, max_width: 100 }).unwrap();
    let mut offered = 0;
    for index in 0..12_u8 {
        // Frames wider than max_width are scaled down: 200x120 becomes 100x60.
        while !recorder.push(test_frame(200, 120, index * 20)) {
            std::thread::sleep(Duration::from_millis(5));
        }
        offered += 1;
    }
    recorder.finish();
    let status = wait_finished(&recorder);
    assert_eq!(status.error, None);
    assert_eq!(status.frames_written, offered);
    let mut decoder = gif::DecodeOptions::new();
    decoder.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = decoder.read_info(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!((decoder.width(), decoder.height()), (100, 60));
    // Each frame shows until the next one arrived (real time, at least 2 centiseconds); the
    // last one for 1/fps.
    let mut delays = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        delays.push(frame.delay);
    }
    assert_eq!(delays.len(), 12);
    assert!(delays.iter().all(|&delay| delay >= 2), "{delays:?}");
    assert_eq!(delays.last(), Some(&5));
}

#[test]
fn an_unwritable_gif_path_gives_a_message_and_no_panic() {
    let mut recorder =
        GifRecorder::start(&PathBuf::from("/nonexistent-folder/relu-lab.gif"), GifSettings::default()).unwrap();
    while !recorder.push(test_frame(32, 32, 0)) {
        std::thread::sleep(Duration::from_millis(5));
    }
    recorder.finish();
    let deadline = Instant::now() + Duration::from_secs(10);
    while recorder.status().error.is_none() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(recorder.status().error.unwrap().contains("cannot create"));
}

#[test]
fn a_full_disk_stops_the_recording_cleanly() {
    let full = PathBuf::from("/dev/full");
    if !full.exists() {
        return;
    }
    let mut recorder = GifRecorder::start(&full, GifSettings::default()).unwrap();
    for index in 0..40_u8 {
        let _ = recorder.push(test_frame(300, 200, index.wrapping_mul(7)));
        std::thread::sleep(Duration::from_millis(2));
    }
    recorder.finish();
    let status = wait_finished(&recorder);
    let error = status.error.expect("writing to a full disk must fail");
    assert!(error.contains("/dev/full"), "{error}");
}

#[test]
fn png_files_decode_and_unwritable_paths_are_reported() {
    let path = temp_path("shot.png");
    write_png(&path, &test_frame(40, 30, 90), "step 10, ReLU").unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (40, 30));
    let error = write_png(&PathBuf::from("/nonexistent-folder/x.png"), &test_frame(4, 4, 0), "").unwrap_err();
    assert!(error.to_string().contains("cannot create /nonexistent-folder/x.png"), "{error}");
}

/// A file whose top-level activation and config disagree is refused, naming both; a live
/// change of activation keeps them in step, so such a file loads back.
#[test]
fn a_network_file_whose_activation_and_config_disagree_is_refused() {
    let mut session = Session::new(preset("healthy-relu")).unwrap();
    let mut file = session.network_file();
    file.config.network.activation = relu_lab::nn::ActivationKind::Tanh;
    let error = NetworkFile::from_json(&file.to_json()).unwrap_err();
    assert!(matches!(error, relu_lab::train::export::NetworkFileError::ActivationMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("activation is ReLU, but its config (config.network) says tanh"), "{error}");
    session.apply(SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.2 } }).unwrap();
    NetworkFile::from_json(&session.network_file().to_json()).expect("a live change keeps both in step");
}

/// A UTF-8 byte-order mark before the JSON is skipped.
#[test]
fn a_network_file_with_a_byte_order_mark_loads() {
    let file = Session::new(preset("healthy-relu")).unwrap().network_file();
    let loaded = NetworkFile::from_json(&format!("\u{feff}{}", file.to_json())).unwrap();
    assert_eq!(loaded, file);
}
