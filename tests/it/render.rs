//! `relu-lab render` as a video maker uses it (issue: "Takes that play the same every time"):
//! the binary spawned with no display, the files it writes opened and checked — an MP4's own
//! boxes, a GIF's frames and delays, PNG frames' pixels — and a take rendered twice compared
//! byte for byte.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn relu_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("cannot start relu-lab")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_success(output: &Output) {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
}

/// A fresh folder for one test, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("relu-lab-render-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Self(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 path").to_owned()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("readable")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What an MP4's boxes say about its video track, read here from the bytes (ISO/IEC 14496-12
/// and 14496-15), not from the writer.
#[derive(Debug, Default, PartialEq)]
struct Mp4Facts {
    brand: String,
    /// Sample entries in `stsd` (`avc1` for H.264).
    codec: String,
    /// From `tkhd` (16.16 fixed point).
    track_size: (u32, u32),
    /// From the `avc1` sample entry.
    coded_size: (u16, u16),
    /// From `stsz`.
    samples: u32,
    /// From `mdhd`.
    timescale: u32,
    /// The samples' durations added up, from `stts`.
    ticks: u64,
    /// Key frames, from `stss`.
    key_frames: u32,
    /// The H.264 profile from `avcC`.
    profile: u8,
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Walks the boxes in `bytes`, descending into the containers on the video track's path.
fn read_boxes(bytes: &[u8], facts: &mut Mp4Facts) {
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = be32(bytes, at) as usize;
        let kind = std::str::from_utf8(&bytes[at + 4..at + 8]).unwrap_or("????").to_owned();
        assert!(size >= 8 && at + size <= bytes.len(), "box {kind} at {at} has size {size} of {}", bytes.len());
        let body = &bytes[at + 8..at + size];
        match kind.as_str() {
            "moov" | "trak" | "mdia" | "minf" | "stbl" => read_boxes(body, facts),
            "ftyp" => facts.brand = String::from_utf8_lossy(&body[..4]).into_owned(),
            // Version 0: the width and height are its last 8 bytes.
            "tkhd" => facts.track_size = (be32(body, body.len() - 8) >> 16, be32(body, body.len() - 4) >> 16),
            "mdhd" => facts.timescale = if body[0] == 1 { be32(body, 20) } else { be32(body, 12) },
            "stsz" => facts.samples = be32(body, 8),
            "stss" => facts.key_frames = be32(body, 4),
            "stts" => {
                let entries = be32(body, 4) as usize;
                facts.ticks = (0..entries)
                    .map(|entry| u64::from(be32(body, 8 + entry * 8)) * u64::from(be32(body, 12 + entry * 8)))
                    .sum();
            }
            "stsd" => {
                // Full box header, entry count, then the first sample entry.
                let entry = &body[8..];
                facts.codec = String::from_utf8_lossy(&entry[4..8]).into_owned();
                // Sample entry: 8 header, 6 reserved, 2 index, 16 pre-defined, then the size.
                let visual = &entry[8..];
                facts.coded_size =
                    (u16::from_be_bytes([visual[24], visual[25]]), u16::from_be_bytes([visual[26], visual[27]]));
                // The avcC box follows the 78-byte visual sample entry.
                let avcc = &visual[78..];
                assert_eq!(&avcc[4..8], b"avcC", "avc1 carries its decoder configuration");
                facts.profile = avcc[9];
            }
            _ => {}
        }
        at += size;
    }
}

fn mp4_facts(path: &str) -> Mp4Facts {
    let bytes = std::fs::read(path).expect("the MP4 is written");
    let mut facts = Mp4Facts::default();
    read_boxes(&bytes, &mut facts);
    facts
}

/// Frames and their delays (hundredths of a second) of a GIF.
fn gif_frames(path: &str) -> (Vec<u16>, (u16, u16)) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(std::fs::File::open(path).expect("the GIF is written")).expect("a GIF");
    let size = (decoder.width(), decoder.height());
    let mut delays = Vec::new();
    while let Some(frame) = decoder.read_next_frame().expect("a frame") {
        delays.push(frame.delay);
    }
    (delays, size)
}

#[test]
fn a_take_rendered_twice_is_the_same_mp4_with_every_frame_in_its_boxes() {
    let folder = Folder::new("twice");
    let take = |name: &str, extra: &[&str]| {
        let out = folder.file(name);
        let mut args =
            vec!["render", "--lesson", "2", "--seconds", "0.8", "--fps", "25", "--size", "640x360", "--out", &out];
        args.extend_from_slice(extra);
        assert_success(&relu_lab(&args));
        out
    };
    let first = take("first.mp4", &[]);
    let second = take("second.mp4", &[]);
    let first_bytes = std::fs::read(&first).unwrap();
    assert!(first_bytes == std::fs::read(&second).unwrap(), "the same take gives the same bytes");
    let facts = mp4_facts(&first);
    assert_eq!(facts.codec, "avc1");
    assert_eq!(facts.samples, 20, "0.8 s at 25 fps: {facts:?}");
    assert_eq!((facts.track_size, facts.coded_size), ((640, 360), (640, 360)));
    assert_eq!(facts.ticks * 25, u64::from(facts.timescale) * 20, "each frame lasts 1/25 s: {facts:?}");
    assert!(facts.key_frames >= 1, "the first frame is a key frame");
    // 66: Baseline, which every browser, PowerPoint and Keynote decode.
    assert_eq!(facts.profile, 66);
    // Negative control: another rate of training is another take.
    let faster = take("faster.mp4", &["--steps-per-second", "400"]);
    assert!(std::fs::read(faster).unwrap() != first_bytes);
    assert_eq!(folder.names(), ["faster.mp4", "first.mp4", "second.mp4"], "no temporary file is left");
}

#[test]
fn a_gif_at_10_fps_for_6_seconds_has_60_frames_of_100_ms() {
    let folder = Folder::new("gif");
    let out = folder.file("take.gif");
    let args = ["render", "--lesson", "1", "--seconds", "6", "--fps", "10", "--size", "320x180", "--out", &out];
    assert_success(&relu_lab(&args));
    let (delays, size) = gif_frames(&out);
    assert_eq!(size, (320, 180));
    assert_eq!(delays.len(), 60);
    assert!(delays.iter().all(|&delay| delay == 10), "{delays:?}");
    // At 30 fps a frame lasts 3.33 hundredths: 3, 3, 4, … adding up to exactly a second.
    let thirty = folder.file("thirty.gif");
    assert_success(&relu_lab(&[
        "render",
        "--lesson",
        "1",
        "--seconds",
        "1",
        "--fps",
        "30",
        "--size",
        "320x180",
        "--out",
        &thirty,
    ]));
    let (delays, _) = gif_frames(&thirty);
    assert_eq!((delays.len(), delays.iter().map(|&d| u32::from(d)).sum::<u32>()), (30, 100), "{delays:?}");
}

/// Pixels of the ring's colour in a PNG frame.
fn ring_pixels(path: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).expect("a frame")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("pixels");
    assert_eq!((info.width, info.height), (640, 360));
    pixels[..info.buffer_size()].chunks(4).filter(|pixel| pixel[..3] == [255, 196, 0]).count()
}

#[test]
fn a_folder_of_pngs_has_numbered_frames_and_the_ring_is_in_them() {
    let folder = Folder::new("pngs");
    let frames = folder.file("frames");
    let args = ["render", "--lesson", "2", "--seconds", "0.2", "--fps", "10", "--size", "640x360", "--ring", "0:1:1"];
    assert_success(&relu_lab(&[&args[..], &["--out", &frames]].concat()));
    let frames_path = Path::new(&frames);
    let mut names: Vec<String> = std::fs::read_dir(frames_path)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["frame-00001.png", "frame-00002.png"]);
    assert!(ring_pixels(&frames_path.join("frame-00002.png")) > 60, "the ring is drawn");
    // Without --force an existing folder is kept; with it, rendered frames are replaced.
    let again = relu_lab(&[
        "render",
        "--lesson",
        "2",
        "--seconds",
        "0.1",
        "--fps",
        "10",
        "--size",
        "640x360",
        "--out",
        &frames,
    ]);
    assert!(!again.status.success() && text(&again.stderr).contains("--force"), "{}", text(&again.stderr));
    let plain = relu_lab(&[
        "render",
        "--lesson",
        "2",
        "--seconds",
        "0.1",
        "--fps",
        "10",
        "--size",
        "640x360",
        "--out",
        &frames,
        "--force",
    ]);
    assert_success(&plain);
    assert_eq!(ring_pixels(&frames_path.join("frame-00001.png")), 0, "no ring without --ring");
    assert_eq!(folder.names(), ["frames"], "no temporary folder is left");
}

#[test]
fn bad_requests_are_refused_before_anything_is_written() {
    let folder = Folder::new("bad");
    let existing = folder.file("take.mp4");
    std::fs::write(&existing, b"older take").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--lesson", "2", "--out", &existing], "already exists"),
        (&["--lesson", "99", "--out", &folder.file("new.mp4")], "there is no lesson 99"),
        (&["--lesson", "2", "--out", &folder.file("take.avi")], ".mp4 or .gif"),
        (&["--lesson", "2", "--size", "641x360", "--out", &folder.file("odd.mp4")], "even number of pixels"),
    ];
    for (args, expected) in cases {
        let output = relu_lab(&[&["render"], args].concat());
        let error = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {error}");
        assert!(error.contains(expected), "{args:?}: {error}");
    }
    assert_eq!(std::fs::read(&existing).unwrap(), b"older take");
    assert_eq!(folder.names(), ["take.mp4"]);
}

#[test]
fn ctrl_c_keeps_the_frames_rendered_so_far() {
    let folder = Folder::new("interrupt");
    let out = folder.file("long.mp4");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relu-lab"))
        .args(["render", "--lesson", "2", "--seconds", "600", "--fps", "10", "--size", "320x180", "--out", &out])
        .env_remove("DISPLAY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot start relu-lab");
    // Long enough for some frames (a few per second even in a debug build).
    std::thread::sleep(Duration::from_secs(8));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(status.is_ok_and(|status| status.success()));
    let deadline = Instant::now() + Duration::from_mins(1);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        assert!(Instant::now() < deadline, "relu-lab did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(130), "stderr: {}", text(&output.stderr));
    let facts = mp4_facts(&out);
    assert!((1..6000).contains(&facts.samples), "{facts:?}");
    assert!(text(&output.stdout).contains(&format!("{} frames", facts.samples)), "{}", text(&output.stdout));
    assert_eq!(folder.names(), ["long.mp4"]);
}
