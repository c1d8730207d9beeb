//! `relu-lab render`: a lesson, a link or a run record rendered to a video file, offline and
//! headless (no window, no display, no GPU), frame-exact: the same inputs give the same bytes
//! on the same machine, however fast it is.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Completion;
use super::files::{MAX_DATA_BYTES, OutputPlan, read_capped};
use super::interrupt::{self, Interruption};
use relu_lab::app::capture::CaptureArea;
use relu_lab::app::render::{DEFAULT_STEPS_PER_SECOND, Layout, Take, TakeSettings, TakeSource};
use relu_lab::media::director::{Beat, BeatAction, RingTarget};
use relu_lab::media::video::{VideoEncoder, VideoFormat};
use relu_lab::train::RunRecord;
use relu_lab::train::lessons::KeyPlot;

/// What to render and how.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// A lesson (its number, from 1): its preset, then its "try it" at step 3000, captioned
    /// with its title.
    #[arg(long, conflicts_with_all = ["open", "record"], required_unless_present_any = ["open", "record"])]
    pub lesson: Option<usize>,
    /// A shared link (`lesson=2&lr=3`, as `relu-lab --open` takes): that lesson with those
    /// settings, then its "try it".
    #[arg(long, value_name = "LINK", conflicts_with = "record")]
    pub open: Option<String>,
    /// A run record (from `relu-lab run --record` or the app), replayed with its commands at
    /// their steps.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The file to write: `.mp4` (H.264), `.gif`, or a name without an extension for a folder
    /// of numbered PNGs.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The frame size in pixels: 1280x720, 1920x1080 or 3840x2160 (any 16:9 size draws the
    /// same layout, sharper).
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: (usize, usize),
    /// Frames per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub fps: u32,
    /// Seconds of video (default: until the script ends; a lesson's ends 3000 steps after its
    /// "try it").
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Training steps per second of video (the app's default speed unless told).
    #[arg(long, default_value_t = DEFAULT_STEPS_PER_SECOND)]
    pub steps_per_second: u64,
    /// What to show: normal, presentation, or one panel: network, output or plots.
    #[arg(long, default_value = "normal", value_parser = parse_layout)]
    pub layout: Layout,
    /// A caption from a step on: `STEP:TEXT` (repeat for several; an empty text clears it).
    #[arg(long, value_name = "STEP:TEXT", value_parser = parse_caption)]
    pub caption: Vec<Beat>,
    /// A ring from a step on: `STEP:LAYER:NEURON` (both from 1), `STEP:plot:NAME` (loss,
    /// states, activation-curve, neuron-time, gradient-norms, activation-matrix),
    /// `STEP:output`, or `STEP:none`.
    #[arg(long, value_name = "STEP:TARGET", value_parser = parse_ring)]
    pub ring: Vec<Beat>,
    /// Slow motion: `FROM-TO:STEPS_PER_FRAME`, e.g. `2900-3100:1`.
    #[arg(long, value_name = "FROM-TO:STEPS", value_parser = parse_slow_motion)]
    pub slow: Vec<Beat>,
    /// Hold the frame at a step: `STEP:FRAMES`.
    #[arg(long, value_name = "STEP:FRAMES", value_parser = parse_hold)]
    pub hold: Vec<Beat>,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Renders the take, writes it, and prints what was written and where the time went.
pub(crate) fn render(args: &RenderArgs, out: &mut dyn Write) -> Result<Completion> {
    let format = VideoFormat::from_path(&args.out).ok_or_else(|| {
        anyhow!(
            "{}: choose a .mp4 or .gif file, or a name without an extension for a folder of PNGs",
            args.out.display()
        )
    })?;
    let mut plan = OutputPlan::default();
    let source = source(args, &mut plan)?;
    let mut destination = Destination::open(format, &args.out, args.force, &mut plan)?;
    let settings = TakeSettings {
        size: args.size,
        frames_per_second: args.fps,
        steps_per_second: args.steps_per_second,
        frames: args.seconds.map(|seconds| frames_for(seconds, args.fps)).transpose()?,
        layout: args.layout,
        beats: args.caption.iter().chain(&args.ring).chain(&args.slow).chain(&args.hold).cloned().collect(),
    };
    let mut take = Take::new(&source, settings)?;
    let mut encoder = VideoEncoder::new(format, args.size, args.fps, destination.folder())?;
    let progress = progress_bar(take.frame_count());
    let started = Instant::now();
    let mut encoding = Duration::ZERO;
    let interruption = loop {
        if let Some(interruption) = interrupt::received() {
            break Some(interruption);
        }
        let Some(frame) = take.next_frame() else { break None };
        let encoding_started = Instant::now();
        encoder.push(&frame)?;
        encoding += encoding_started.elapsed();
        progress.inc(1);
    };
    progress.finish_and_clear();
    let frames = encoder.frames();
    if frames == 0 {
        bail!("{}; no frame was drawn, so nothing was written", interruption.map_or("stopped", Interruption::describe));
    }
    let finishing = Instant::now();
    let bytes = encoder.finish()?;
    encoding += finishing.elapsed();
    let path = destination.finish(&bytes)?;
    let times = take.times();
    let seconds = frames as f64 / f64::from(args.fps);
    writeln!(
        out,
        "Wrote {}: {frames} frames, {}×{} at {} fps ({seconds:.2} s of video, up to step {}), {}",
        path.display(),
        args.size.0,
        args.size.1,
        args.fps,
        take.step(),
        size_text(&bytes, format)
    )?;
    writeln!(
        out,
        "Took {:.1} s: training {:.1} s, drawing {:.1} s (interface {:.1} s, painting {:.1} s), encoding {:.1} s",
        started.elapsed().as_secs_f64(),
        times.training.as_secs_f64(),
        (times.interface + times.painting).as_secs_f64(),
        times.interface.as_secs_f64(),
        times.painting.as_secs_f64(),
        encoding.as_secs_f64()
    )?;
    if let Some(notice) = take.notice() {
        writeln!(out, "The app said: {notice}")?;
    }
    Ok(interruption.map_or(Completion::Done, Completion::Interrupted))
}

/// The take's source from `--lesson`, `--open` or `--record`.
fn source(args: &RenderArgs, plan: &mut OutputPlan) -> Result<TakeSource> {
    if let Some(path) = &args.record {
        plan.input(path);
        let text = read_capped(path, MAX_DATA_BYTES, "run record")?;
        let record =
            RunRecord::from_json(&text).with_context(|| format!("run record {} is invalid", path.display()))?;
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
        return Ok(TakeSource::Record { record: Box::new(record), name });
    }
    if let Some(link) = &args.open {
        return Ok(TakeSource::Link(link.clone()));
    }
    args.lesson.map(TakeSource::Lesson).context("give --lesson N, --open LINK or --record FILE")
}

/// Whole frames in `seconds` at `fps`.
fn frames_for(seconds: f64, fps: u32) -> Result<u64> {
    let frames = (seconds * f64::from(fps)).round();
    if !(1.0..=1e7).contains(&frames) {
        bail!("--seconds {seconds} at {fps} fps is not between 1 frame and 10 million");
    }
    Ok(frames as u64)
}

fn size_text(bytes: &[u8], format: VideoFormat) -> String {
    match format {
        VideoFormat::PngFolder => "numbered PNGs".to_owned(),
        VideoFormat::Mp4 | VideoFormat::Gif => format!("{} bytes", bytes.len()),
    }
}

fn progress_bar(frames: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(frames);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} frame {pos}/{len}, {per_sec}, about {eta} left") {
        bar.set_style(style);
    }
    bar
}

/// Where the video goes: a file through the same safe path as every output (a temporary
/// file moved into place when complete), or a folder of PNGs written in a temporary folder
/// and moved into place the same way.
enum Destination {
    File(Option<super::files::OutputFile>),
    Folder(FrameFolder),
}

/// A folder of PNG frames being written beside its final name.
struct FrameFolder {
    path: PathBuf,
    temporary: PathBuf,
    is_in_place: bool,
}

impl Destination {
    fn open(format: VideoFormat, path: &Path, force: bool, plan: &mut OutputPlan) -> Result<Self> {
        if format != VideoFormat::PngFolder {
            return Ok(Self::File(plan.output("video", Some(path), force)?));
        }
        if path.exists() {
            if !force {
                bail!("{} already exists; pass --force to replace it, or choose another name", path.display());
            }
            if !is_frame_folder(path) {
                bail!("{} holds more than rendered frames; it is not replaced, choose another name", path.display());
            }
        }
        let name = path.file_name().context("the folder has no name")?.to_string_lossy().into_owned();
        let temporary = path.with_file_name(format!(".{name}.relu-lab-{}.tmp", std::process::id()));
        std::fs::create_dir_all(&temporary)
            .with_context(|| format!("cannot create the folder for the frames beside {}", path.display()))?;
        Ok(Self::Folder(FrameFolder { path: path.to_owned(), temporary, is_in_place: false }))
    }

    /// The folder PNG frames are written to, for a folder.
    fn folder(&self) -> Option<&Path> {
        match self {
            Self::File(_) => None,
            Self::Folder(folder) => Some(&folder.temporary),
        }
    }

    /// Writes `bytes` (a file) and moves the output into place.
    fn finish(&mut self, bytes: &[u8]) -> Result<PathBuf> {
        match self {
            Self::File(file) => {
                let mut file = file.take().context("the video was already written")?;
                file.append_bytes(bytes)?;
                file.finish()
            }
            Self::Folder(folder) => {
                if folder.path.exists() {
                    std::fs::remove_dir_all(&folder.path)
                        .with_context(|| format!("cannot replace {}", folder.path.display()))?;
                }
                std::fs::rename(&folder.temporary, &folder.path)
                    .with_context(|| format!("cannot write {}", folder.path.display()))?;
                folder.is_in_place = true;
                Ok(folder.path.clone())
            }
        }
    }
}

impl Drop for FrameFolder {
    /// A folder never finished leaves nothing behind.
    fn drop(&mut self) {
        if !self.is_in_place {
            let _ = std::fs::remove_dir_all(&self.temporary);
        }
    }
}

/// Whether `path` is a folder of rendered frames only (so `--force` may replace it).
fn is_frame_folder(path: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(path) else { return false };
    entries.flatten().all(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        name.starts_with("frame-") && path.extension().is_some_and(|extension| extension == "png") && path.is_file()
    })
}

fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("'{text}' is not a size such as 1280x720");
    let (width, height) = text.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let width: usize = width.trim().parse().map_err(|_| bad())?;
    let height: usize = height.trim().parse().map_err(|_| bad())?;
    Ok((width, height))
}

fn parse_layout(text: &str) -> Result<Layout, String> {
    Ok(match text {
        "normal" => Layout::Normal,
        "presentation" => Layout::Presentation,
        "network" => Layout::Panel(CaptureArea::NetworkView),
        "output" => Layout::Panel(CaptureArea::OutputView),
        "plots" => Layout::Panel(CaptureArea::Plots),
        _ => return Err(format!("'{text}' is not a layout: normal, presentation, network, output or plots")),
    })
}

/// `STEP:REST` split at the first colon, the step parsed.
fn step_and(text: &str, form: &str) -> Result<(u64, String), String> {
    let bad = || format!("'{text}' is not {form}");
    let (step, rest) = text.split_once(':').ok_or_else(bad)?;
    Ok((step.trim().parse().map_err(|_| bad())?, rest.to_owned()))
}

fn parse_caption(text: &str) -> Result<Beat, String> {
    let (step, caption) = step_and(text, "STEP:TEXT")?;
    Ok(Beat::at(step, BeatAction::Caption(Some(caption).filter(|caption| !caption.is_empty()))))
}

fn parse_ring(text: &str) -> Result<Beat, String> {
    let form = "STEP:LAYER:NEURON, STEP:plot:NAME, STEP:output or STEP:none";
    let (step, target) = step_and(text, form)?;
    let bad = || format!("'{text}' is not {form}");
    let ring = match target.split_once(':') {
        None if target == "none" => None,
        None if target == "output" => Some(RingTarget::Output),
        None => return Err(bad()),
        Some(("plot", name)) => Some(RingTarget::Plot(parse_plot(name).ok_or_else(bad)?)),
        Some((layer, neuron)) => {
            let layer: usize = layer.trim().parse().map_err(|_| bad())?;
            let neuron: usize = neuron.trim().parse().map_err(|_| bad())?;
            if layer == 0 || neuron == 0 {
                return Err(format!("'{text}': layers and neurons count from 1"));
            }
            Some(RingTarget::Neuron { layer: layer - 1, neuron: neuron - 1 })
        }
    };
    Ok(Beat::at(step, BeatAction::Ring(ring)))
}

fn parse_plot(name: &str) -> Option<KeyPlot> {
    Some(match name {
        "loss" => KeyPlot::Loss,
        "states" => KeyPlot::States,
        "activation-curve" => KeyPlot::ActivationCurve,
        "neuron-time" => KeyPlot::NeuronTime,
        "gradient-norms" => KeyPlot::GradientNorms,
        "activation-matrix" => KeyPlot::ActivationMatrix,
        _ => return None,
    })
}

fn parse_slow_motion(text: &str) -> Result<Beat, String> {
    let bad = || format!("'{text}' is not FROM-TO:STEPS_PER_FRAME, such as 2900-3100:1");
    let (range, steps) = text.split_once(':').ok_or_else(bad)?;
    let (from, to) = range.split_once('-').ok_or_else(bad)?;
    let from: u64 = from.trim().parse().map_err(|_| bad())?;
    let until_step: u64 = to.trim().parse().map_err(|_| bad())?;
    let steps_per_frame: u64 = steps.trim().parse().map_err(|_| bad())?;
    if until_step <= from || steps_per_frame == 0 {
        return Err(bad());
    }
    Ok(Beat::at(from, BeatAction::SlowMotion { until_step, steps_per_frame }))
}

fn parse_hold(text: &str) -> Result<Beat, String> {
    let (step, frames) = step_and(text, "STEP:FRAMES")?;
    let frames: u32 = frames.trim().parse().map_err(|_| format!("'{text}' is not STEP:FRAMES"))?;
    Ok(Beat::at(step, BeatAction::Hold { frames }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_read_from_the_command_line() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert!(parse_size("1920").is_err());
        assert_eq!(
            parse_ring("3000:1:4").unwrap(),
            Beat::at(3000, BeatAction::Ring(Some(RingTarget::Neuron { layer: 0, neuron: 3 })))
        );
        assert_eq!(parse_ring("10:plot:loss").unwrap().action, BeatAction::Ring(Some(RingTarget::Plot(KeyPlot::Loss))));
        assert!(parse_ring("10:0:1").is_err());
        assert_eq!(
            parse_slow_motion("2900-3100:1").unwrap(),
            Beat::at(2900, BeatAction::SlowMotion { until_step: 3100, steps_per_frame: 1 })
        );
        assert_eq!(
            parse_caption("5:Watch: layer 1").unwrap().action,
            BeatAction::Caption(Some("Watch: layer 1".to_owned()))
        );
        assert_eq!(parse_hold("3000:25").unwrap(), Beat::at(3000, BeatAction::Hold { frames: 25 }));
        assert_eq!(frames_for(4.0, 25).unwrap(), 100);
    }
}
