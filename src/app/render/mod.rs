//! Takes that play the same every time: the app rendered to video frame by frame, offline,
//! with no window, no display and no GPU.
//!
//! A [`Take`] owns an egui context and a [`ReluLabApp`] whose trainer runs on a virtual clock
//! ([`TrainerBackend::Virtual`]). For each frame the [`Director`] says how many steps to train
//! and which changes to apply; the take trains exactly those steps, reads *every* event the
//! trainer sent (the live app reads them for at most 10 ms a frame; a take must not depend on
//! that), moves the virtual clock so that the trainer publishes its snapshot, and then runs the
//! app's own UI code (`ReluLabApp::show`) at the frame's virtual time, with the director's
//! caption strip below it and its ring on top. egui's meshes are then painted by a CPU
//! rasterizer ([`raster`]), so frame `n` is the same pixels on every run on this machine,
//! however fast it is.
//!
//! Why a CPU rasterizer rather than egui-wgpu on a software adapter: it needs no Vulkan
//! driver (CI installs nothing), it is deterministic by construction (plain `f32` arithmetic in
//! a fixed order, no driver or shader compiler in between), and on a 2-core machine it is
//! fast enough (see the README for measured figures).

pub mod job;
mod overlay;
pub mod raster;

use std::collections::HashMap;
use std::time::Duration;

use egui::{Color32, Pos2, RawInput, Rect, ViewportId};
use web_time::Instant;

use self::overlay::StripText;
use self::raster::Rasterizer;
use super::capture::CaptureArea;
use super::shared::Intent;
use super::{AppOptions, ReluLabApp, lesson_config};
use crate::media::RgbaImage;
use crate::media::director::{Beat, Director, FramePlan, RingTarget, Script, lesson_take};
use crate::train::trainer::SNAPSHOT_INTERVAL;
use crate::train::worker::TrainerBackend;
use crate::train::{RunConfig, RunRecord, Speed, WorkerCommand};

/// The window a take draws, in points: the size the app is designed for (16:9, 720p at one
/// pixel per point). Larger videos draw the same layout at more pixels per point.
pub const TAKE_POINTS: (f32, f32) = (1280.0, 720.0);
/// Training steps per second of video unless told otherwise: the app's own default speed, so
/// a lesson's 3000 steps take 15 seconds, as they do live.
pub const DEFAULT_STEPS_PER_SECOND: u64 = 200;
/// How long the frame after a lesson's "try it" is held, in seconds.
const TRY_IT_HOLD_SECONDS: u32 = 1;
/// Frames drawn (and thrown away) before the first one: panels settle their sizes.
const WARM_UP_PASSES: usize = 2;

/// What a take shows of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The whole window, as on a desktop.
    Normal,
    /// The whole window in presentation mode (larger text, thicker lines).
    Presentation,
    /// One panel (the network, the output or the plots), enlarged to fill the frame.
    Panel(CaptureArea),
}

/// Where a take starts.
#[derive(Clone, Debug)]
pub enum TakeSource {
    /// A lesson (from 1) as its script plays it today: its preset, then its "try it".
    Lesson(usize),
    /// A link (`lesson=2&lr=3`): that lesson with those settings, then its "try it".
    Link(String),
    /// A run record, replayed at the take's speed with its commands at their steps.
    Record {
        /// The record.
        record: Box<RunRecord>,
        /// Its file name, for the caption.
        name: String,
    },
}

/// How to render a take.
#[derive(Clone, Debug)]
pub struct TakeSettings {
    /// The frame size in pixels (even numbers for an MP4).
    pub size: (usize, usize),
    /// Frames per second of video.
    pub frames_per_second: u32,
    /// Training steps per second of video (the script's slow motion and holds aside).
    pub steps_per_second: u64,
    /// How many frames; `None` until the script ends.
    pub frames: Option<u64>,
    /// What is shown.
    pub layout: Layout,
    /// Director beats added to the source's own (captions, rings, slow motion, holds).
    pub beats: Vec<Beat>,
}

impl Default for TakeSettings {
    fn default() -> Self {
        Self {
            size: (1280, 720),
            frames_per_second: 30,
            steps_per_second: DEFAULT_STEPS_PER_SECOND,
            frames: None,
            layout: Layout::Normal,
            beats: Vec::new(),
        }
    }
}

/// Why a take cannot start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TakeError {
    /// The source names a lesson that does not exist, or a link with problems.
    #[error("{0}")]
    Source(String),
    /// A size or rate out of range.
    #[error("{0}")]
    Settings(String),
    /// The trainer did not start.
    #[error("the trainer did not start: {0}")]
    Trainer(String),
}

/// Where the time of a take went, measured on the wall clock (for reports only: nothing a
/// take draws depends on it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TakeTimes {
    /// Training the frames' steps and reading the trainer's events.
    pub training: Duration,
    /// Running the app's UI code and tessellating it.
    pub interface: Duration,
    /// Painting the meshes into pixels.
    pub painting: Duration,
}

/// A take being rendered, frame by frame.
pub struct Take {
    ctx: egui::Context,
    app: ReluLabApp,
    rasterizer: Rasterizer,
    director: Director,
    settings: TakeSettings,
    pixels_per_point: f32,
    frame_count: u64,
    /// The run's settings where the take began (the lesson's preset, or the record's config):
    /// the caption strip lists what differs from them.
    start_config: Option<RunConfig>,
    /// The virtual time the trainer's clock moves each frame.
    clock_step: Duration,
    /// Where each labelled widget was in the last pass (from the accessibility tree).
    widget_rects: HashMap<String, Rect>,
    frames_drawn: u64,
    times: TakeTimes,
}

impl Take {
    /// A take of `source` as `settings` say, at frame 0 (nothing drawn yet).
    pub fn new(source: &TakeSource, settings: TakeSettings) -> Result<Self, TakeError> {
        check_settings(&settings)?;
        let ctx = egui::Context::default();
        ctx.enable_accesskit();
        ctx.all_styles_mut(|style| style.visuals.text_cursor.blink = false);
        let (options, record) = match source {
            TakeSource::Lesson(number) => {
                (AppOptions { link: Some(format!("lesson={number}")), ..virtual_options() }, None)
            }
            TakeSource::Link(link) => (AppOptions { link: Some(link.clone()), ..virtual_options() }, None),
            TakeSource::Record { record, .. } => {
                let config = record.first().map(|lane| lane.config.clone());
                (AppOptions { config, ..virtual_options() }, Some(record.clone()))
            }
        };
        let mut app = ReluLabApp::with_options(options, None, &ctx);
        if let Some(notice) = app.notice().filter(|_| matches!(source, TakeSource::Link(_))) {
            return Err(TakeError::Source(notice.to_owned()));
        }
        if let &TakeSource::Lesson(number) = source
            && (number == 0 || number > app.lessons().len())
        {
            return Err(TakeError::Source(format!("there is no lesson {number}; there are {}", app.lessons().len())));
        }
        app.settings.presentation = settings.layout == Layout::Presentation;
        // A record is no lesson: the lessons panel would name the wrong one.
        app.preferences.is_lessons_panel_open = !matches!(source, TakeSource::Record { .. });
        let hold = settings.frames_per_second * TRY_IT_HOLD_SECONDS;
        let (mut script, start_config) = match source {
            TakeSource::Record { record, name } => {
                app.loaded_from = Some(name.clone());
                let script = Script { beats: Vec::new(), end_step: record.steps() };
                let start = record.first().map(|lane| lane.config.clone());
                (script.with(Beat::at(0, caption(format!("Replay of {name}")))), start)
            }
            TakeSource::Lesson(_) | TakeSource::Link(_) => {
                let lesson = app.lessons.get(app.settings.lesson).cloned();
                let script = lesson.as_ref().map(|lesson| lesson_take(lesson, hold)).unwrap_or_default();
                (script, lesson_config(&app.lessons, app.settings.lesson).ok())
            }
        };
        script.beats.extend(settings.beats.iter().cloned());
        let director = Director::new(script, settings.steps_per_second, settings.frames_per_second);
        let frame_count = settings.frames.unwrap_or_else(|| director.count_frames(u64::MAX));
        let pixels_per_point = settings.size.1 as f32 / TAKE_POINTS.1;
        let frame_time = Duration::from_secs(1) / settings.frames_per_second;
        let mut take = Self {
            ctx,
            app,
            rasterizer: Rasterizer::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get)),
            director,
            settings,
            pixels_per_point,
            frame_count,
            start_config,
            clock_step: frame_time.max(SNAPSHOT_INTERVAL),
            widget_rects: HashMap::new(),
            frames_drawn: 0,
            times: TakeTimes::default(),
        };
        take.start_trainer(record)?;
        Ok(take)
    }

    /// Pauses the trainer (it starts running), takes it to full speed (a frame's steps are
    /// counted, not paced) and, for a record, starts its replay, paused.
    fn start_trainer(&mut self, record: Option<Box<RunRecord>>) -> Result<(), TakeError> {
        self.app.send(WorkerCommand::Pause);
        self.app.send(WorkerCommand::SetSpeed(Speed::Max));
        if let Some(record) = record {
            self.app.send(WorkerCommand::ReplayLive(record));
            self.app.send(WorkerCommand::Pause);
        }
        self.settle();
        match self.app.status() {
            super::top_bar::RunStatus::WorkerDied(message) => Err(TakeError::Trainer(message.clone())),
            _ => Ok(()),
        }
    }

    /// Frames in the take.
    pub fn frame_count(&self) -> u64 {
        self.frame_count
    }

    /// Where the time went so far.
    pub fn times(&self) -> TakeTimes {
        self.times
    }

    /// The step the trainer is at (branch A's while comparing).
    pub fn step(&self) -> u64 {
        self.app.snapshot().map_or(0, |snapshot| snapshot.step())
    }

    /// The notice the app shows, if any (a refused command, a replay's verdict).
    pub fn notice(&self) -> Option<&str> {
        self.app.notice()
    }

    /// The next frame, or `None` once the take has all its frames.
    pub fn next_frame(&mut self) -> Option<RgbaImage> {
        if self.frames_drawn >= self.frame_count {
            return None;
        }
        let plan = self.director.next_frame();
        let started = Instant::now();
        self.app.advance_take(&plan, self.clock_step);
        self.app.link.show_as_running(Speed::StepsPerSecond(self.settings.steps_per_second as f64));
        self.times.training += started.elapsed();
        self.frames_drawn += 1;
        Some(self.draw(&plan))
    }

    /// Reads every event the trainer has for the app (see [`super::trainer_link`]).
    fn settle(&mut self) {
        self.app.settle_trainer();
    }

    /// Draws frame `plan.frame`: the app, the caption strip below it, the ring on top.
    fn draw(&mut self, plan: &FramePlan) -> RgbaImage {
        let started = Instant::now();
        let strip = StripText {
            caption: plan.caption.clone(),
            settings: self.app.take_settings_line(self.start_config.as_ref()),
        };
        let is_panel = matches!(self.settings.layout, Layout::Panel(_));
        // A panel is drawn at twice the pixels, then cut out and scaled to the frame.
        let pixels_per_point = if is_panel { self.pixels_per_point * 2.0 } else { self.pixels_per_point };
        // A ring on a neuron is placed where the tile was in the pass before: one more pass
        // puts it where the tile is now (a fork moves every tile).
        let needs_layout_pass = matches!(plan.ring, Some(RingTarget::Neuron { .. }));
        let passes = if plan.frame == 0 { WARM_UP_PASSES + 1 } else { 1 + usize::from(needs_layout_pass) };
        let time = plan.frame as f64 / f64::from(self.settings.frames_per_second);
        let mut painted = None;
        for pass in 0..passes {
            let input = self.raw_input(time, pixels_per_point);
            let app = &mut self.app;
            let widget_rects = &self.widget_rects;
            let mut strip_rect = Rect::NOTHING;
            let mut output = self.ctx.run_ui(input, |ui| {
                strip_rect = overlay::strip_ui(ui, &strip);
                app.show(ui);
                if let Some(target) = plan.ring
                    && let Some(rect) = app.ring_rect(target, widget_rects)
                {
                    overlay::paint_ring(ui.ctx(), rect);
                }
            });
            self.rasterizer.set_textures(&output.textures_delta);
            self.widget_rects = labelled_rects(&mut output);
            if pass + 1 == passes {
                let shapes = std::mem::take(&mut output.shapes);
                let primitives = self.ctx.tessellate(shapes, output.pixels_per_point);
                self.times.interface += started.elapsed();
                let painting = Instant::now();
                let size = self.canvas_size(pixels_per_point);
                let background = self.ctx.global_style().visuals.panel_fill;
                let frame = self.rasterizer.paint(&primitives, output.pixels_per_point, size, background);
                painted = Some(self.compose(frame, strip_rect, pixels_per_point, background));
                self.times.painting += painting.elapsed();
            }
            self.rasterizer.free_textures(&output.textures_delta);
            // Handled: egui checks that no texture change goes unapplied.
            output.textures_delta.clear();
        }
        painted.unwrap_or_else(|| RgbaImage::filled(self.settings.size.0, self.settings.size.1, [0, 0, 0, 255]))
    }

    /// The canvas the app is painted on, in pixels.
    fn canvas_size(&self, pixels_per_point: f32) -> [usize; 2] {
        let (width, height) = self.window_points();
        [(width * pixels_per_point).round() as usize, (height * pixels_per_point).round() as usize]
    }

    /// The window in points: the frame at the take's pixels per point.
    fn window_points(&self) -> (f32, f32) {
        (self.settings.size.0 as f32 / self.pixels_per_point, self.settings.size.1 as f32 / self.pixels_per_point)
    }

    /// The input of one pass: the window, the virtual time, no events.
    fn raw_input(&self, time: f64, pixels_per_point: f32) -> RawInput {
        let (width, height) = self.window_points();
        let mut input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, egui::vec2(width, height))),
            time: Some(time),
            predicted_dt: 1.0 / self.settings.frames_per_second as f32,
            focused: true,
            ..RawInput::default()
        };
        input.viewports.entry(ViewportId::ROOT).or_default().native_pixels_per_point = Some(pixels_per_point);
        input
    }

    /// The frame from the painted canvas: as it is, or, for a panel, the panel scaled into
    /// the frame above the caption strip.
    fn compose(&self, canvas: RgbaImage, strip: Rect, pixels_per_point: f32, background: Color32) -> RgbaImage {
        let Layout::Panel(area) = self.settings.layout else { return canvas };
        let (width, height) = self.settings.size;
        let to_pixels = |rect: Rect| {
            let left = (rect.left() * pixels_per_point).round().max(0.0) as usize;
            let top = (rect.top() * pixels_per_point).round().max(0.0) as usize;
            let right = (rect.right() * pixels_per_point).round().max(0.0) as usize;
            let bottom = (rect.bottom() * pixels_per_point).round().max(0.0) as usize;
            (left, top, right.saturating_sub(left), bottom.saturating_sub(top))
        };
        let strip_pixels = if strip.is_positive() { to_pixels(strip) } else { (0, canvas.height, canvas.width, 0) };
        let strip_image = (strip_pixels.3 > 0).then(|| {
            canvas
                .crop(strip_pixels.0, strip_pixels.1, strip_pixels.2, strip_pixels.3)
                .resized(width, (strip_pixels.3 / 2).max(1))
        });
        let strip_height = strip_image.as_ref().map_or(0, |image| image.height);
        let room = (width, height.saturating_sub(strip_height).max(1));
        let mut frame = RgbaImage::filled(width, room.1, background.to_array());
        if let Some(rect) = self.app.area_rects.get(area) {
            let (left, top, panel_width, panel_height) = to_pixels(rect);
            let panel = canvas.crop(left, top, panel_width.max(1), panel_height.max(1));
            let scale = (room.0 as f32 / panel.width as f32).min(room.1 as f32 / panel.height as f32);
            let fitted =
                ((panel.width as f32 * scale).floor() as usize, (panel.height as f32 * scale).floor() as usize);
            let fitted = panel.resized(fitted.0.clamp(1, room.0), fitted.1.clamp(1, room.1));
            frame.paste(&fitted, (room.0 - fitted.width) / 2, (room.1 - fitted.height) / 2);
        }
        match strip_image {
            Some(strip) => frame.with_strip_below(&strip).unwrap_or(frame),
            None => frame,
        }
    }
}

/// Options for an app whose trainer runs on a virtual clock.
fn virtual_options() -> AppOptions {
    // The take's director makes the lesson's beats (with its captions, holds and slow motion).
    AppOptions { backend: TrainerBackend::Virtual, leaves_script_to_caller: true, ..AppOptions::default() }
}

/// A caption beat's action.
fn caption(text: String) -> crate::media::director::BeatAction {
    crate::media::director::BeatAction::Caption(Some(text))
}

/// Checks sizes and rates before anything starts.
fn check_settings(settings: &TakeSettings) -> Result<(), TakeError> {
    let (width, height) = settings.size;
    if !(160..=7680).contains(&width) || !(90..=4320).contains(&height) {
        return Err(TakeError::Settings(format!("a frame of {width}×{height} is out of range (160×90 to 7680×4320)")));
    }
    if !(1..=120).contains(&settings.frames_per_second) {
        return Err(TakeError::Settings(format!(
            "{} frames per second is out of range (1 to 120)",
            settings.frames_per_second
        )));
    }
    if settings.steps_per_second > 10_000_000 {
        return Err(TakeError::Settings("at most 10,000,000 steps per second".to_owned()));
    }
    Ok(())
}

/// Where each labelled widget is, by its label up to the colon ("Layer 1 neuron 3"), from the
/// pass's accessibility tree (the first one wins: branch A's tile while comparing).
fn labelled_rects(output: &mut egui::FullOutput) -> HashMap<String, Rect> {
    let mut rects = HashMap::new();
    let Some(update) = output.platform_output.accesskit_update.take() else { return rects };
    for (_, node) in &update.nodes {
        if let (Some(label), Some(bounds)) = (node.label(), node.bounds()) {
            let key = label.split(':').next().unwrap_or(label).to_owned();
            let rect = Rect::from_min_max(
                Pos2::new(bounds.x0 as f32, bounds.y0 as f32),
                Pos2::new(bounds.x1 as f32, bounds.y1 as f32),
            );
            rects.entry(key).or_insert(rect);
        }
    }
    rects
}

/// What a take needs of the app beyond its public face.
impl ReluLabApp {
    /// Trains `plan.steps` steps, applies `plan.commands`, moves the trainer's virtual clock by
    /// `clock_step` (so that it publishes a snapshot of where it is now) and reads every event.
    fn advance_take(&mut self, plan: &FramePlan, clock_step: Duration) {
        if plan.steps > 0 {
            self.send(WorkerCommand::Step(plan.steps));
            self.settle_trainer();
        }
        if !plan.commands.is_empty() {
            for command in &plan.commands {
                self.apply(Intent::Trainer(command.clone()));
            }
            self.settle_trainer();
        }
        self.link.advance_clock(clock_step);
        self.settle_trainer();
    }

    /// Runs the virtual-clock trainer until it has nothing left to do now, and takes in
    /// every event it sent.
    fn settle_trainer(&mut self) {
        for news in self.link.settle() {
            self.take_news(news);
        }
    }

    /// The strip's second line: the step, the activation and learning rate, and every setting
    /// that differs from `start` (of each branch, while comparing).
    fn take_settings_line(&self, start: Option<&RunConfig>) -> String {
        let Some(snapshot) = self.link.snapshot() else { return String::new() };
        let mut line = format!(
            "step {} · {} · learning rate {}",
            snapshot.step(),
            snapshot.activation,
            crate::train::settings::short(snapshot.evaluation.learning_rate)
        );
        let Some(start) = start else { return line };
        let differ = |config: &RunConfig| crate::media::caption::settings_that_differ(start, config).join(", ");
        let a = differ(&snapshot.config);
        match self.link.view().and_then(|view| view.branch_b()) {
            Some(b) => {
                let a = if a.is_empty() { "as the lesson starts".to_owned() } else { a };
                line = format!("{line} · A: {a} · B: {}", differ(&b.config));
            }
            None if a.is_empty() => {}
            None => line = format!("{line} · changed: {a}"),
        }
        line
    }

    /// Where the ring goes for `target`, in points: a neuron's tile as the last pass laid it
    /// out, or a plot's column or the output view as this pass did.
    fn ring_rect(&self, target: RingTarget, widget_rects: &HashMap<String, Rect>) -> Option<Rect> {
        match target {
            RingTarget::Neuron { layer, neuron } => {
                widget_rects.get(&format!("Layer {} neuron {}", layer + 1, neuron + 1)).copied()
            }
            RingTarget::Output => self.area_rects.output_view,
            RingTarget::Plot(plot) => {
                let plots = self.area_rects.plots?;
                let key =
                    self.lessons.get(self.settings.lesson).map_or(crate::train::lessons::KeyPlot::Loss, |l| l.plot);
                let column = super::plot_order(key).iter().position(|&shown| shown == plot)?;
                let min_width = if self.settings.presentation { 300.0 * 1.45 } else { 300.0 };
                let columns = ((plots.width() / min_width).floor() as usize).clamp(2, 6);
                (column < columns).then(|| {
                    let width = plots.width() / columns as f32;
                    Rect::from_min_size(
                        Pos2::new(plots.left() + width * column as f32, plots.top()),
                        egui::vec2(width, plots.height()),
                    )
                })
            }
        }
    }
}
