//! The Map: where networks die, over two settings. A sweep of the current run's settings (see
//! [`crate::train::sweep`]) runs on a named background thread and sends each cell over a
//! bounded channel as it finishes; the map fills in live. Clicking a cell opens its run (seed
//! 1) as the current run.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::thread::JoinHandle;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Stroke, Ui, pos2, vec2};
use web_time::Instant;

use super::shared::{Intent, ViewSettings};
use crate::media::heatmap::color_of;
use crate::train::sweep::{Axis, CellResult, CellSummary, SweepSpec, SweepTable, run_cells};
use crate::train::{RunConfig, WorkerCommand};

/// A grid the Map offers: two settings and their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapGrid {
    /// What it is called in the picker.
    pub title: &'static str,
    /// The columns: a setting and its values, separated by commas.
    pub x: (&'static str, &'static str),
    /// The rows.
    pub y: (&'static str, &'static str),
}

/// The grids offered, the story's first.
pub const GRIDS: [MapGrid; 4] = [
    MapGrid {
        title: "Learning rate × initial bias",
        x: ("learning_rate", "0.01,0.1,1,3"),
        y: ("initial_bias", "0,-2,-5"),
    },
    MapGrid { title: "Learning rate × init", x: ("learning_rate", "0.01,0.1,1,3"), y: ("init", "he-normal,rai") },
    MapGrid { title: "Width × depth", x: ("width", "2,4,8,16"), y: ("depth", "1,2,4,8") },
    MapGrid {
        title: "Activation × learning rate",
        x: ("activation", "relu,leaky-relu,elu,gelu"),
        y: ("learning_rate", "0.03,0.3,3"),
    },
];

/// Cells of work the sweep thread may have sent ahead of the UI.
const CHANNEL_CAPACITY: usize = 64;

/// What the sweep thread sends.
enum MapMessage {
    /// A cell finished.
    Cell(CellResult),
    /// The sweep ended (stopped, or failed with the message).
    Ended(Result<(), String>),
}

/// A sweep in progress on its thread. Dropping it stops the thread and joins it.
struct MapJob {
    /// Cells, UI side (from the sweep thread).
    receiver: Option<Receiver<MapMessage>>,
    /// Tells the sweep to take no more runs (UI to sweep thread).
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    started: Instant,
}

impl Drop for MapJob {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A send blocked on a full queue fails once the receiver is gone.
        self.receiver = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Map view.
pub struct MapView {
    /// Whether it takes the centre in place of the network.
    is_open: bool,
    /// Which of [`GRIDS`].
    choice: usize,
    /// Steps per run.
    steps: u64,
    /// Seeds per cell (1 to this).
    seeds: u64,
    /// The sweep being mapped (or last mapped).
    spec: Option<SweepSpec>,
    /// Its cells so far.
    table: Option<SweepTable>,
    job: Option<MapJob>,
    /// How long the last sweep took, once it ended.
    took_seconds: Option<f64>,
    /// Something went wrong.
    message: Option<String>,
}

impl Default for MapView {
    fn default() -> Self {
        Self {
            is_open: false,
            choice: 0,
            steps: 1000,
            seeds: 3,
            spec: None,
            table: None,
            job: None,
            took_seconds: None,
            message: None,
        }
    }
}

impl MapView {
    /// A map of grid `choice` at `steps` steps and `seeds` seeds (for tests and lessons).
    pub fn with_settings(choice: usize, steps: u64, seeds: u64) -> Self {
        Self { choice: choice.min(GRIDS.len() - 1), steps, seeds: seeds.max(1), ..Self::default() }
    }

    /// Whether it is shown (in place of the network).
    pub fn is_open(&self) -> bool {
        self.is_open
    }

    /// Shows it, or goes back to the network (its sweep goes on).
    pub fn toggle(&mut self) {
        self.is_open = !self.is_open;
    }

    /// Whether a sweep is running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The cells so far.
    pub fn table(&self) -> Option<&SweepTable> {
        self.table.as_ref()
    }

    /// Draws the map of sweeps of `base` (the current run's settings, `base_name`) and returns
    /// what the user asked for.
    pub fn ui(&mut self, ui: &mut Ui, base: &RunConfig, base_name: &str, settings: &ViewSettings) -> Vec<Intent> {
        self.poll();
        let mut intents = Vec::new();
        self.controls_ui(ui, base, base_name, &mut intents);
        self.status_ui(ui, base_name);
        let table = self.table.clone().unwrap_or_else(|| self.preview(base, base_name));
        if let Some(cell) = heatmap_ui(ui, &table, settings) {
            intents.extend(self.open_cell(cell));
        }
        if self.is_running() {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(250));
        }
        intents
    }

    fn controls_ui(&mut self, ui: &mut Ui, base: &RunConfig, base_name: &str, intents: &mut Vec<Intent>) {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Where does a ReLU network die?").strong());
            let running = self.is_running();
            ui.add_enabled_ui(!running, |ui| {
                egui::ComboBox::from_id_salt("map_grid")
                    .selected_text(GRIDS[self.choice].title)
                    .show_ui(ui, |ui| {
                        for (index, grid) in GRIDS.iter().enumerate() {
                            ui.selectable_value(&mut self.choice, index, grid.title);
                        }
                    })
                    .response
                    .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Map grid"));
                let steps = ui.label("steps");
                ui.add(egui::DragValue::new(&mut self.steps).range(10..=20_000).speed(10)).labelled_by(steps.id);
                let seeds = ui.label("seeds");
                ui.add(egui::DragValue::new(&mut self.seeds).range(1..=10)).labelled_by(seeds.id);
            });
            if running {
                if ui.button("Stop").on_hover_text("Stop the sweep; the cells done stay").clicked() {
                    self.job = None;
                }
            } else if ui
                .button("Start")
                .on_hover_text("Train every cell's seeds on background threads; the map fills in as they finish")
                .clicked()
            {
                self.start(ui.ctx(), base, base_name);
            }
            if ui.button("Back to the network").clicked() {
                intents.push(Intent::ToggleMap);
            }
        });
    }

    fn status_ui(&self, ui: &mut Ui, base_name: &str) {
        let text = match (&self.table, &self.job) {
            (None, _) => format!(
                "Each cell trains {} seed(s) of {base_name} for {} steps with the two settings changed. Press Start.",
                self.seeds, self.steps
            ),
            (Some(table), job) => {
                let done = table.cells.iter().filter(|cell| cell.is_some()).count();
                let seconds =
                    job.as_ref().map_or(self.took_seconds.unwrap_or(0.0), |job| job.started.elapsed().as_secs_f64());
                let state = if job.is_some() { "running" } else { "done" };
                format!(
                    "{done} of {} cells ({state}, {seconds:.1} s): {}, {} steps, seeds {}. Colour: the median share of \
                     hidden neurons dead. Click a cell to open its run (seed {}).",
                    table.cells.len(),
                    table.base,
                    table.steps,
                    table.seeds,
                    table.seeds.split('-').next().unwrap_or("1")
                )
            }
        };
        ui.label(text);
        if let Some(message) = &self.message {
            ui.label(RichText::new(message).color(ui.visuals().warn_fg_color));
        }
    }

    /// The grid before any sweep: its axes, no cells.
    fn preview(&self, base: &RunConfig, base_name: &str) -> SweepTable {
        self.spec_for(base, base_name).map_or_else(
            |_| SweepTable {
                x_setting: GRIDS[self.choice].x.0.to_owned(),
                y_setting: GRIDS[self.choice].y.0.to_owned(),
                x_values: GRIDS[self.choice].x.1.split(',').map(str::to_owned).collect(),
                y_values: GRIDS[self.choice].y.1.split(',').map(str::to_owned).collect(),
                base: base_name.to_owned(),
                steps: self.steps,
                seeds: format!("1-{}", self.seeds),
                cells: Vec::new(),
            },
            |spec| spec.table(),
        )
    }

    fn spec_for(&self, base: &RunConfig, base_name: &str) -> Result<SweepSpec, String> {
        let grid = GRIDS[self.choice];
        let axis = |(key, values): (&str, &str)| Axis::parse(key, values).map_err(|error| error.to_string());
        SweepSpec::new(base.clone(), base_name, axis(grid.x)?, axis(grid.y)?, 1..=self.seeds, self.steps)
            .map_err(|error| error.to_string())
    }

    /// Starts the sweep of `base` on a named thread.
    fn start(&mut self, ctx: &egui::Context, base: &RunConfig, base_name: &str) {
        self.job = None;
        self.message = None;
        self.took_seconds = None;
        let spec = match self.spec_for(base, base_name) {
            Ok(spec) => spec,
            Err(message) => {
                self.message = Some(format!("Cannot map these settings: {message}"));
                return;
            }
        };
        let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_spec, thread_stop, wake) = (spec.clone(), Arc::clone(&stop), ctx.clone());
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let work = move || {
            let cells: Vec<usize> = (0..thread_spec.cell_count()).collect();
            let should_stop = || thread_stop.load(Ordering::Relaxed);
            let result = run_cells(&thread_spec, &cells, threads, &should_stop, &mut |cell| {
                if sender.send(MapMessage::Cell(cell.clone())).is_err() {
                    thread_stop.store(true, Ordering::Relaxed);
                }
                wake.request_repaint();
            });
            let _ = sender.send(MapMessage::Ended(result.map(|_| ()).map_err(|error| error.to_string())));
            wake.request_repaint();
        };
        match crate::train::threads::spawn("map-sweep".to_owned(), work) {
            Ok(thread) => {
                self.table = Some(spec.table());
                self.spec = Some(spec);
                self.job =
                    Some(MapJob { receiver: Some(receiver), stop, thread: Some(thread), started: Instant::now() });
            }
            Err(error) => {
                self.message = Some(format!(
                    "The map needs a background thread, and none could start ({error}). `relu-lab sweep` on the command \
                     line draws the same map."
                ));
            }
        }
    }

    /// Takes the cells that have come (never blocks).
    fn poll(&mut self) {
        let Some(job) = &self.job else { return };
        let Some(receiver) = &job.receiver else { return };
        let mut ended = None;
        loop {
            match receiver.try_recv() {
                Ok(MapMessage::Cell(cell)) => {
                    if let Some(table) = &mut self.table {
                        table.set(&cell);
                    }
                }
                Ok(MapMessage::Ended(result)) => {
                    ended = Some(result);
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    ended = Some(Err("the sweep thread stopped".to_owned()));
                    break;
                }
            }
        }
        if let Some(result) = ended {
            self.took_seconds = Some(job.started.elapsed().as_secs_f64());
            self.job = None;
            if let Err(message) = result {
                self.message = Some(format!("The sweep failed: {message}"));
            }
        }
    }

    /// Opens `cell`'s run, seed 1 of the sweep, as the current run.
    fn open_cell(&self, cell: usize) -> Vec<Intent> {
        let Some(spec) = &self.spec else { return Vec::new() };
        match spec.cell_config(cell, *spec.seeds.start()) {
            Ok(config) => vec![
                Intent::Trainer(WorkerCommand::Load(Box::new(config))),
                Intent::Trainer(WorkerCommand::Resume),
                Intent::ToggleMap,
            ],
            Err(_) => Vec::new(),
        }
    }
}

/// A cell's figures in words, for its label and tooltip.
pub fn cell_words(table: &SweepTable, cell: usize) -> String {
    let columns = table.x_values.len().max(1);
    let label = |key: &str| Axis { key: key.to_owned(), values: Vec::new() }.label();
    let (x, y) = (cell % columns, cell / columns);
    let place = format!(
        "{} {}, {} {}",
        label(&table.x_setting),
        table.x_values.get(x).map_or("?", String::as_str),
        label(&table.y_setting),
        table.y_values.get(y).map_or("?", String::as_str)
    );
    match table.cells.get(cell).and_then(Option::as_ref) {
        Some(summary) => format!("{place}: {}", summary_words(summary, table.seed_count())),
        None => format!("{place}: not computed yet"),
    }
}

fn summary_words(summary: &CellSummary, seeds: u64) -> String {
    let accuracy = summary.median_test_accuracy.map_or_else(
        || format!("test loss {:.3}", summary.median_test_loss),
        |accuracy| format!("accuracy {:.1}%", accuracy * 100.0),
    );
    let mut text = format!(
        "dead {:.0}%, collapsed {}/{seeds}, {accuracy}",
        summary.median_dead_fraction * 100.0,
        summary.collapsed_seeds
    );
    if summary.diverged_seeds > 0 {
        let _ = write!(text, ", diverged {}/{seeds}", summary.diverged_seeds);
    }
    text
}

/// The heatmap: a cell per grid point (grey until computed), its figures written in, the axes
/// labelled, a colour bar. Returns the cell clicked, if one was (and was computed).
fn heatmap_ui(ui: &mut Ui, table: &SweepTable, settings: &ViewSettings) -> Option<usize> {
    let font = FontId::proportional(if settings.presentation { 17.0 } else { 13.0 });
    let label_font = FontId::proportional(if settings.presentation { 19.0 } else { 14.0 });
    let ink = ui.visuals().text_color();
    let size = ui.available_size().max(vec2(300.0, 200.0));
    let (area, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(area);
    let label = |key: &str| Axis { key: key.to_owned(), values: Vec::new() }.label();
    let y_tick_width = table
        .y_values
        .iter()
        .map(|value| painter.layout_no_wrap(value.clone(), font.clone(), ink).size().x)
        .fold(0.0, f32::max);
    let line = label_font.size + 6.0;
    let grid = Rect::from_min_max(
        pos2(area.left() + line + y_tick_width + 12.0, area.top() + line),
        pos2(area.right() - 90.0, area.bottom() - 2.0 * line - 8.0),
    );
    let (columns, rows) = (table.x_values.len().max(1), table.y_values.len().max(1));
    let cell_size = vec2(grid.width() / columns as f32, grid.height() / rows as f32);
    let mut clicked = None;
    for row in 0..rows {
        for column in 0..columns {
            let cell = row * columns + column;
            let rect =
                Rect::from_min_size(grid.min + vec2(column as f32 * cell_size.x, row as f32 * cell_size.y), cell_size)
                    .shrink(1.0);
            if let Some(index) = cell_ui(ui, &painter, table, cell, rect, &font) {
                clicked = Some(index);
            }
        }
    }
    for (column, value) in table.x_values.iter().enumerate() {
        let x = grid.left() + (column as f32 + 0.5) * cell_size.x;
        painter.text(pos2(x, grid.bottom() + 4.0), Align2::CENTER_TOP, value, font.clone(), ink);
    }
    painter.text(
        pos2(grid.center().x, grid.bottom() + line + 6.0),
        Align2::CENTER_TOP,
        label(&table.x_setting),
        label_font.clone(),
        ink,
    );
    for (row, value) in table.y_values.iter().enumerate() {
        let y = grid.top() + (row as f32 + 0.5) * cell_size.y;
        painter.text(pos2(grid.left() - 6.0, y), Align2::RIGHT_CENTER, value, font.clone(), ink);
    }
    let y_label = painter.layout_no_wrap(label(&table.y_setting), label_font.clone(), ink);
    let y_label_at = pos2(area.left(), grid.center().y + y_label.size().x / 2.0);
    painter.add(egui::epaint::TextShape::new(y_label_at, y_label, ink).with_angle(-std::f32::consts::FRAC_PI_2));
    color_bar_ui(
        &painter,
        Rect::from_min_max(pos2(grid.right() + 16.0, grid.top()), pos2(grid.right() + 34.0, grid.bottom())),
        &font,
        ink,
    );
    clicked
}

/// One cell; returns its index when clicked.
fn cell_ui(
    ui: &Ui,
    painter: &egui::Painter,
    table: &SweepTable,
    cell: usize,
    rect: Rect,
    font: &FontId,
) -> Option<usize> {
    let response = ui.interact(rect, ui.scope_id().with(("map_cell", cell)), Sense::click());
    let words = cell_words(table, cell);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &words));
    let Some(summary) = table.cells.get(cell).and_then(Option::as_ref) else {
        painter.rect_filled(rect, 2.0, ui.visuals().faint_bg_color);
        painter.text(rect.center(), Align2::CENTER_CENTER, "…", font.clone(), ui.visuals().weak_text_color());
        return None;
    };
    let [r, g, b, _] = color_of(summary.median_dead_fraction);
    let background = Color32::from_rgb(r, g, b);
    painter.rect_filled(rect, 2.0, background);
    if response.hovered() {
        painter.rect_stroke(rect, 2.0, Stroke::new(2.0, ui.visuals().strong_text_color()), egui::StrokeKind::Inside);
    }
    let luminance = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    let ink = if luminance > 140.0 { Color32::from_gray(20) } else { Color32::WHITE };
    let seeds = table.seed_count();
    let mut lines = vec![
        format!("dead {:.0}%", summary.median_dead_fraction * 100.0),
        format!("collapsed {}/{seeds}", summary.collapsed_seeds),
    ];
    lines.push(summary.median_test_accuracy.map_or_else(
        || format!("loss {:.3}", summary.median_test_loss),
        |accuracy| format!("accuracy {:.1}%", accuracy * 100.0),
    ));
    let line_height = font.size + 3.0;
    let top = rect.center().y - line_height * lines.len() as f32 / 2.0;
    for (index, text) in lines.iter().enumerate() {
        let at = pos2(rect.center().x, top + line_height * (index as f32 + 0.5));
        painter.text(at, Align2::CENTER_CENTER, text, font.clone(), ink);
    }
    let response = response.on_hover_text(format!(
        "{words}. Click to open this run (seed {}).",
        table.seeds.split('-').next().unwrap_or("1")
    ));
    response.clicked().then_some(cell)
}

/// The colour bar: 100% dead at the top, 0% at the bottom.
fn color_bar_ui(painter: &egui::Painter, rect: Rect, font: &FontId, ink: Color32) {
    let steps = 64;
    for index in 0..steps {
        let value = 1.0 - f64::from(index) / f64::from(steps - 1);
        let [r, g, b, _] = color_of(value);
        let height = rect.height() / steps as f32;
        let band = Rect::from_min_size(
            pos2(rect.left(), rect.top() + index as f32 * height),
            vec2(rect.width(), height + 0.5),
        );
        painter.rect_filled(band, 0.0, Color32::from_rgb(r, g, b));
    }
    for (text, share) in [("100%", 0.0), ("50%", 0.5), ("0%", 1.0)] {
        let y = rect.top() + rect.height() * share;
        painter.text(pos2(rect.right() + 4.0, y), Align2::LEFT_CENTER, text, font.clone(), ink);
    }
    painter.text(pos2(rect.center().x, rect.top() - 2.0), Align2::CENTER_BOTTOM, "dead", font.clone(), ink);
}
