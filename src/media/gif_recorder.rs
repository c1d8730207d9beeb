//! GIF recording, frame by frame, with memory bounded however long the recording: frames wait
//! in a short bounded queue, and a full queue drops a frame (and counts it) rather than making
//! the UI wait. Two ways to encode, the same frames and bytes either way:
//!
//! - **To a file, on a thread** (the desktop): a write error (full disk, unwritable folder)
//!   stops the recording, keeps what was written and says so. A recording that ends before its
//!   first frame leaves no file.
//! - **In memory, a frame per call** (the browser, which has neither threads nor files): the
//!   app calls [`GifRecorder::pump`] once a frame, each call encodes at most one waiting frame,
//!   and the finished GIF's bytes are taken with [`GifRecorder::take_bytes`] (and offered as a
//!   download).
//!
//! A recording started with a [`CaptionPainter`] gives every frame a caption strip below the
//! picture, drawn after the frame is scaled to the GIF's width, so the caption stays legible
//! however much the picture shrinks.

use std::collections::VecDeque;
#[cfg(not(target_arch = "wasm32"))]
use std::fs::File;
#[cfg(not(target_arch = "wasm32"))]
use std::io::BufWriter;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use web_time::Instant;

use super::RgbaImage;
use super::caption::{CaptionPainter, captioned};

/// Frames that may wait for the encoder.
const QUEUE_FRAMES: usize = 4;
/// NeuQuant's speed (1 best, 30 fastest); 10 is a good trade for screen content.
const QUANTIZE_SPEED: i32 = 10;
/// Captions are drawn at one pixel per point (the app's text size) in the GIF's own pixels,
/// whatever the scale of the picture above them.
const CAPTION_PIXELS_PER_POINT: f32 = 1.0;

/// How to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GifSettings {
    /// Frames per second (1 to 50).
    pub frames_per_second: u32,
    /// Frames wider than this are scaled down, keeping the aspect ratio.
    pub max_width: usize,
}

impl Default for GifSettings {
    fn default() -> Self {
        Self { frames_per_second: 10, max_width: 800 }
    }
}

/// What the encoder has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderStatus {
    /// Frames encoded and written.
    pub frames_written: u64,
    /// Frames the UI offered while the encoder was busy (not recorded).
    pub frames_dropped: u64,
    /// Frames waiting for the encoder.
    pub frames_queued: u64,
    /// The frame size, once known (with the caption strip, if there is one).
    pub frame_size: Option<(usize, usize)>,
    /// Why the recording stopped early, if it did.
    pub error: Option<String>,
    /// The file (or the bytes in memory) is closed: complete, or cut short by `error`.
    pub is_finished: bool,
    /// No frame was written, and the file reserved for them was removed (or never made; in
    /// memory: no bytes were made): the recording left nothing.
    pub is_file_removed: bool,
}

/// A frame on its way to the encoder.
struct QueuedFrame {
    image: RgbaImage,
    /// The caption for its strip (recordings with captions only).
    caption: Option<String>,
    /// When it arrived: it shows until the next one's arrival.
    arrived: Instant,
}

/// A recording in progress: owns the encoder (its thread, or its state in memory) and the
/// frame queue.
pub struct GifRecorder {
    backend: Backend,
    /// Progress and errors, written by the encoder.
    status: Arc<Mutex<RecorderStatus>>,
    /// Where the GIF goes (in memory: the name it will be offered under).
    path: PathBuf,
    is_finishing: bool,
}

/// The encoder's side of a [`GifRecorder`].
enum Backend {
    /// An encoder thread writing a file.
    #[cfg(not(target_arch = "wasm32"))]
    Thread {
        /// UI → encoder: frames, bounded.
        frames: std::sync::mpsc::SyncSender<QueuedFrame>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    /// Encoding in memory, a frame per [`GifRecorder::pump`].
    InMemory(Box<InMemory>),
}

/// An in-memory recording's state.
struct InMemory {
    /// Frames waiting for [`GifRecorder::pump`] (at most [`QUEUE_FRAMES`]).
    queue: VecDeque<QueuedFrame>,
    encoding: Encoding,
    /// The finished GIF, until taken.
    bytes: Option<Vec<u8>>,
}

impl GifRecorder {
    /// Starts recording to `path` on an encoder thread, frames without captions. The file is
    /// created on the encoder thread; a failure shows in [`GifRecorder::status`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start(path: &Path, settings: GifSettings) -> std::io::Result<Self> {
        Self::spawn(path, settings, None)
    }

    /// Starts recording to `path` on an encoder thread; every frame gets a caption strip below
    /// it, drawn by `captions` on the encoder thread (see [`GifRecorder::push_with_caption`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start_with_captions(
        path: &Path,
        settings: GifSettings,
        captions: Box<dyn CaptionPainter>,
    ) -> std::io::Result<Self> {
        Self::spawn(path, settings, Some(captions))
    }

    /// Starts recording in memory, to be offered as `name` when done; with `captions`, every
    /// frame gets a caption strip. Frames are encoded by [`GifRecorder::pump`].
    pub fn in_memory(name: &Path, settings: GifSettings, captions: Option<Box<dyn CaptionPainter>>) -> Self {
        let status = Arc::new(Mutex::new(RecorderStatus::default()));
        let writer = FrameWriter::new(Output::Memory, settings, Arc::clone(&status), captions);
        let encoding = Encoding::new(writer, settings);
        let backend = Backend::InMemory(Box::new(InMemory { queue: VecDeque::new(), encoding, bytes: None }));
        Self { backend, status, path: name.to_owned(), is_finishing: false }
    }

    /// Starts recording in memory at a fixed frame rate, for frames drawn at a fixed virtual
    /// time (a rendered take): each frame shows for exactly its share of the second however
    /// fast it arrives (10 fps: 10/100 s each; 30 fps: 3, 3, 4, … so that every second has
    /// 100 hundredths). No captions; frames are encoded by [`GifRecorder::pump`].
    pub fn in_memory_at_fixed_rate(name: &Path, settings: GifSettings) -> Self {
        let status = Arc::new(Mutex::new(RecorderStatus::default()));
        let writer = FrameWriter::new(Output::Memory, settings, Arc::clone(&status), None);
        let mut encoding = Encoding::new(writer, settings);
        encoding.frames_at_fixed_rate = Some(0);
        let backend = Backend::InMemory(Box::new(InMemory { queue: VecDeque::new(), encoding, bytes: None }));
        Self { backend, status, path: name.to_owned(), is_finishing: false }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn spawn(path: &Path, settings: GifSettings, captions: Option<Box<dyn CaptionPainter>>) -> std::io::Result<Self> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<QueuedFrame>(QUEUE_FRAMES);
        let status = Arc::new(Mutex::new(RecorderStatus::default()));
        let output = Output::File { path: path.to_owned(), has_opened: false };
        let writer = FrameWriter::new(output, settings, Arc::clone(&status), captions);
        let thread = std::thread::Builder::new().name("gif-encoder".to_owned()).spawn(move || {
            let mut encoding = Encoding::new(writer, settings);
            while let Ok(frame) = receiver.recv() {
                encoding.accept(frame);
            }
            encoding.close();
        })?;
        let backend = Backend::Thread { frames: sender, thread: Some(thread) };
        Ok(Self { backend, status, path: path.to_owned(), is_finishing: false })
    }

    /// Offers a frame without waiting, stamped with the time it arrives: each frame is shown
    /// until the next one's time, so the GIF plays in real time even when frames come slower
    /// than the chosen rate. Returns false if it was dropped (encoder busy or done).
    pub fn push(&mut self, frame: RgbaImage) -> bool {
        self.offer(frame, None)
    }

    /// Like [`GifRecorder::push`], with the caption for this frame's strip (the frame's own
    /// step, …). Ignored by a recording started without captions.
    pub fn push_with_caption(&mut self, frame: RgbaImage, caption: String) -> bool {
        self.offer(frame, Some(caption))
    }

    fn offer(&mut self, image: RgbaImage, caption: Option<String>) -> bool {
        if self.is_finishing || !image.is_consistent() {
            return false;
        }
        let frame = QueuedFrame { image, caption, arrived: Instant::now() };
        let is_queued = match &mut self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { frames, .. } => frames.try_send(frame).is_ok(),
            Backend::InMemory(memory) => {
                let has_room = memory.queue.len() < QUEUE_FRAMES;
                if has_room {
                    memory.queue.push_back(frame);
                }
                has_room
            }
        };
        if is_queued {
            set_status(&self.status, |status| status.frames_queued += 1);
        } else {
            set_status(&self.status, |status| status.frames_dropped += 1);
        }
        is_queued
    }

    /// In memory: encodes the oldest waiting frame (at most one a call), or, once finishing
    /// with no frame left, closes the GIF. Does nothing on a thread, which encodes on its own.
    pub fn pump(&mut self) {
        let is_finishing = self.is_finishing;
        let Some(memory) = self.memory_state() else { return };
        if let Some(frame) = memory.queue.pop_front() {
            memory.encoding.accept(frame);
        } else if is_finishing && !memory.encoding.is_closed() {
            memory.bytes = memory.encoding.close();
        }
    }

    /// In memory, once finished with at least one frame: the GIF's bytes (once).
    pub fn take_bytes(&mut self) -> Option<Vec<u8>> {
        self.memory_state().and_then(|memory| memory.bytes.take())
    }

    /// The state of a recording in memory (`None` on a thread).
    #[cfg_attr(
        target_arch = "wasm32",
        expect(clippy::unnecessary_wraps, reason = "a browser records in memory only; the desktop also on a thread")
    )]
    fn memory_state(&mut self) -> Option<&mut InMemory> {
        match &mut self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { .. } => None,
            Backend::InMemory(memory) => Some(memory),
        }
    }

    /// Asks the encoder to close the GIF after the queued frames; never waits.
    pub fn finish(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Backend::Thread { frames, .. } = &mut self.backend {
            // Closing the queue ends the encoder loop once the frames already queued are written.
            let (closed, _) = std::sync::mpsc::sync_channel(0);
            *frames = closed;
        }
        self.is_finishing = true;
    }

    /// Whether [`GifRecorder::finish`] was called.
    pub fn is_finishing(&self) -> bool {
        self.is_finishing
    }

    /// Progress, errors and whether the GIF is closed.
    pub fn status(&self) -> RecorderStatus {
        self.status.lock().map(|status| status.clone()).unwrap_or_default()
    }

    /// Where the GIF goes (in memory: the name it is offered under).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for GifRecorder {
    fn drop(&mut self) {
        self.finish();
        #[cfg(not(target_arch = "wasm32"))]
        if let Backend::Thread { thread, .. } = &mut self.backend
            && let Some(thread) = thread.take()
        {
            let _ = thread.join();
        }
    }
}

fn set_status(status: &Mutex<RecorderStatus>, change: impl FnOnce(&mut RecorderStatus)) {
    if let Ok(mut status) = status.lock() {
        change(&mut status);
    }
}

/// The frames' timing: each frame waits for the next one's arrival, which sets how long it
/// shows; the last one shows for the nominal 1/fps.
struct Encoding {
    writer: FrameWriter,
    held: Option<QueuedFrame>,
    nominal_delay: u16,
    is_closed: bool,
    /// At a fixed frame rate: the frames written so far (each frame's delay follows from its
    /// number, not from when it arrived). `None`: delays from arrival times.
    frames_at_fixed_rate: Option<u64>,
}

impl Encoding {
    fn new(writer: FrameWriter, settings: GifSettings) -> Self {
        let nominal_delay = (100 / settings.frames_per_second.clamp(1, 50)) as u16;
        Self { writer, held: None, nominal_delay, is_closed: false, frames_at_fixed_rate: None }
    }

    /// Takes the next frame: writes the one held, now that its duration is known (at a fixed
    /// rate: writes this one at once, for its share of the second).
    fn accept(&mut self, frame: QueuedFrame) {
        set_status(&self.writer.status, |s| s.frames_queued = s.frames_queued.saturating_sub(1));
        if let Some(written) = &mut self.frames_at_fixed_rate {
            let frames_per_second = u64::from(self.writer.settings.frames_per_second.clamp(1, 50));
            // Hundredths of a second from the start to a frame's start, rounded.
            let start = |index: u64| (index * 200 + frames_per_second) / (2 * frames_per_second);
            let delay = start(*written + 1) - start(*written);
            *written += 1;
            self.writer.write(&frame, delay as u16);
            return;
        }
        if let Some(previous) = self.held.take() {
            let centiseconds = frame.arrived.duration_since(previous.arrived).as_millis().div_ceil(10);
            self.writer.write(&previous, u16::try_from(centiseconds).unwrap_or(u16::MAX).max(2));
        }
        self.held = Some(frame);
    }

    /// Writes the last frame and closes the GIF; in memory, returns its bytes (if it has a
    /// frame).
    fn close(&mut self) -> Option<Vec<u8>> {
        if let Some(last) = self.held.take() {
            self.writer.write(&last, self.nominal_delay);
        }
        let bytes = self.writer.close();
        self.is_closed = true;
        set_status(&self.writer.status, |s| s.is_finished = true);
        bytes
    }

    fn is_closed(&self) -> bool {
        self.is_closed
    }
}

/// Where the GIF's bytes go.
enum Output {
    /// A file, created (truncated) at the first frame; `has_opened` says whether it was.
    #[cfg(not(target_arch = "wasm32"))]
    File { path: PathBuf, has_opened: bool },
    /// Memory.
    Memory,
}

/// The encoder's writer: a file or a buffer.
enum Sink {
    #[cfg(not(target_arch = "wasm32"))]
    File(BufWriter<File>),
    Memory(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Self::File(file) => file.write(bytes),
            Self::Memory(buffer) => buffer.write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Self::File(file) => file.flush(),
            Self::Memory(_) => Ok(()),
        }
    }
}

/// The encoder's output side: opens the output at the first frame, stops at the first error
/// and keeps what was written; removes a file if no frame was written.
struct FrameWriter {
    output: Output,
    settings: GifSettings,
    status: Arc<Mutex<RecorderStatus>>,
    /// Draws the caption strips, for a recording with captions.
    captions: Option<Box<dyn CaptionPainter>>,
    encoder: Option<gif::Encoder<Sink>>,
    /// The size of the picture above the strip, set by the first frame.
    content_size: Option<(usize, usize)>,
    /// The strip's height, set by the first frame: every frame has the same size.
    strip_height: Option<usize>,
    /// The GIF's size (picture and strip).
    frame_size: Option<(usize, usize)>,
    frames_written: u64,
    has_failed: bool,
}

impl FrameWriter {
    fn new(
        output: Output,
        settings: GifSettings,
        status: Arc<Mutex<RecorderStatus>>,
        captions: Option<Box<dyn CaptionPainter>>,
    ) -> Self {
        Self {
            output,
            settings,
            status,
            captions,
            encoder: None,
            content_size: None,
            strip_height: None,
            frame_size: None,
            frames_written: 0,
            has_failed: false,
        }
    }

    /// The output's name, for messages.
    fn describe(&self) -> String {
        match &self.output {
            #[cfg(not(target_arch = "wasm32"))]
            Output::File { path, .. } => path.display().to_string(),
            Output::Memory => "the recording".to_owned(),
        }
    }

    fn fail(&mut self, message: String) {
        self.has_failed = true;
        set_status(&self.status, |s| s.error = Some(message));
    }

    /// The picture scaled to the GIF's width, with its caption strip below if there is one.
    fn compose(&mut self, frame: &QueuedFrame) -> Result<RgbaImage, String> {
        let (width, height) =
            *self.content_size.get_or_insert_with(|| frame.image.fit_width(self.settings.max_width.max(16)));
        let picture = frame.image.resized(width, height);
        let Some(painter) = self.captions.as_mut() else { return Ok(picture) };
        let caption = frame.caption.as_deref().unwrap_or_default();
        let composed = captioned(&picture, caption, painter.as_mut(), CAPTION_PIXELS_PER_POINT, self.strip_height)
            .map_err(|error| error.to_string())?;
        self.strip_height.get_or_insert(composed.height - height);
        Ok(composed)
    }

    fn write(&mut self, frame: &QueuedFrame, delay: u16) {
        if self.has_failed {
            return;
        }
        let composed = match self.compose(frame) {
            Ok(composed) => composed,
            Err(message) => return self.fail(message),
        };
        let (width, height) = *self.frame_size.get_or_insert((composed.width, composed.height));
        // Every frame has the first one's size (a painter that ignored the strip height would
        // otherwise make a frame the GIF cannot hold).
        let composed = composed.resized(width, height);
        let (Ok(width16), Ok(height16)) = (u16::try_from(width), u16::try_from(height)) else {
            return self.fail("the frames are too large for a GIF".to_owned());
        };
        if self.encoder.is_none() {
            match self.open(width16, height16) {
                Ok(opened) => self.encoder = Some(opened),
                Err(message) => return self.fail(message),
            }
            set_status(&self.status, |s| s.frame_size = Some((width, height)));
        }
        let mut pixels = composed.pixels;
        let mut gif_frame = gif::Frame::from_rgba_speed(width16, height16, &mut pixels, QUANTIZE_SPEED);
        gif_frame.delay = delay;
        match self.encoder.as_mut().map(|encoder| encoder.write_frame(&gif_frame)) {
            Some(Ok(())) => {
                self.frames_written += 1;
                set_status(&self.status, |s| s.frames_written += 1);
            }
            Some(Err(error)) => {
                let message = format!(
                    "recording stopped: cannot write {} ({error}); the frames before are kept",
                    self.describe()
                );
                self.fail(message);
            }
            None => {}
        }
    }

    fn open(&mut self, width: u16, height: u16) -> Result<gif::Encoder<Sink>, String> {
        let sink = match &mut self.output {
            #[cfg(not(target_arch = "wasm32"))]
            Output::File { path, has_opened } => {
                *has_opened = true;
                let file =
                    File::create(&*path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
                Sink::File(BufWriter::new(file))
            }
            Output::Memory => Sink::Memory(Vec::new()),
        };
        let name = self.describe();
        let mut encoder =
            gif::Encoder::new(sink, width, height, &[]).map_err(|error| format!("cannot write {name}: {error}"))?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(|error| format!("cannot write {name}: {error}"))?;
        Ok(encoder)
    }

    /// Writes the GIF trailer and flushes; with no frame written, removes the file instead.
    /// In memory, returns the GIF's bytes (if a frame was written).
    fn close(&mut self) -> Option<Vec<u8>> {
        let mut bytes = None;
        if let Some(encoder) = self.encoder.take() {
            match encoder.into_inner() {
                Ok(Sink::Memory(buffer)) => bytes = Some(buffer),
                #[cfg(not(target_arch = "wasm32"))]
                Ok(Sink::File(mut file)) => {
                    if let Err(error) = file.flush() {
                        self.finish_error(&error.to_string());
                    }
                }
                Err(error) => self.finish_error(&error.to_string()),
            }
        }
        if self.frames_written == 0 {
            bytes = None;
            let removed = match &self.output {
                #[cfg(not(target_arch = "wasm32"))]
                Output::File { path, has_opened } => remove_unused(path, *has_opened),
                Output::Memory => Ok(true),
            };
            match removed {
                Ok(is_removed) => set_status(&self.status, |s| s.is_file_removed = is_removed),
                Err(message) => set_status(&self.status, |s| {
                    s.error.get_or_insert(message);
                }),
            }
        }
        bytes
    }

    /// Notes that the GIF could not be finished (unless an earlier error says more).
    fn finish_error(&self, error: &str) {
        let message = format!("cannot finish {}: {error}", self.describe());
        set_status(&self.status, |s| {
            s.error.get_or_insert(message);
        });
    }
}

/// Removes the file of a recording that wrote no frame: a regular file this recording created
/// (`has_opened`), or the empty one reserved for it. Anything else (a device such as
/// `/dev/full`, a file with content it did not write) is left alone. Returns whether nothing
/// is left at `path`.
#[cfg(not(target_arch = "wasm32"))]
fn remove_unused(path: &Path, has_opened: bool) -> Result<bool, String> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(error) => return Err(format!("cannot check {}: {error}", path.display())),
    };
    if !metadata.is_file() || !(has_opened || metadata.len() == 0) {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(format!("nothing was recorded, but the empty {} cannot be removed: {error}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A strip of one grey per caption: the step's last digit sets the shade.
    struct Shades;

    impl CaptionPainter for Shades {
        fn paint(&mut self, text: &str, width: usize, _: f32, height: Option<usize>) -> RgbaImage {
            let shade = text.bytes().last().map_or(0, |digit| digit.saturating_sub(b'0') * 25);
            RgbaImage::filled(width, height.unwrap_or(6), [shade, shade, shade, 255])
        }
    }

    fn temp_path(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("relu-lab-gif-recorder-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        folder.join(name)
    }

    fn wait_finished(recorder: &GifRecorder) -> RecorderStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = recorder.status();
            if status.is_finished {
                return status;
            }
            assert!(Instant::now() < deadline, "the encoder did not finish: {status:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn captioned_frames_grow_by_the_strip_and_carry_their_own_caption() {
        let path = temp_path("captioned.gif");
        let settings = GifSettings { frames_per_second: 10, max_width: 40 };
        let mut recorder = GifRecorder::start_with_captions(&path, settings, Box::new(Shades)).unwrap();
        for step in [2_u8, 8] {
            // 80×20 pictures become 40×10, plus a 6-row strip.
            while !recorder.push_with_caption(RgbaImage::filled(80, 20, [0, 0, 255, 255]), format!("step {step}")) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        recorder.finish();
        let status = wait_finished(&recorder);
        assert_eq!((status.error, status.frames_written, status.frame_size), (None, 2, Some((40, 16))));
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(File::open(&path).unwrap()).unwrap();
        let mut strip_shades = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            assert_eq!((frame.width, frame.height), (40, 16));
            assert_eq!(&frame.buffer[..4], &[0, 0, 255, 255], "the picture is on top");
            strip_shades.push(frame.buffer[frame.buffer.len() - 4]);
        }
        assert_eq!(strip_shades, [50, 200], "each frame's strip shows its own caption");
        let _ = std::fs::remove_file(path);
    }

    /// Every frame of a GIF, as RGBA.
    fn decoded_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(bytes).unwrap();
        let mut frames = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            frames.push(frame.buffer.to_vec());
        }
        frames
    }

    #[test]
    fn in_memory_a_frame_a_pump_makes_the_same_pictures_as_the_thread() {
        let settings = GifSettings { frames_per_second: 10, max_width: 40 };
        let pictures: Vec<RgbaImage> =
            (0..6_u8).map(|shade| RgbaImage::filled(80, 20, [shade * 40, 0, 255 - shade * 40, 255])).collect();
        let path = temp_path("same-as-memory.gif");
        let mut on_thread = GifRecorder::start_with_captions(&path, settings, Box::new(Shades)).unwrap();
        let mut in_memory = GifRecorder::in_memory(Path::new("same.gif"), settings, Some(Box::new(Shades)));
        for (step, picture) in pictures.iter().enumerate() {
            while !on_thread.push_with_caption(picture.clone(), format!("step {step}")) {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(in_memory.push_with_caption(picture.clone(), format!("step {step}")));
            assert_eq!(in_memory.status().frames_queued, 1, "queued until the next pump");
            in_memory.pump();
            assert_eq!(in_memory.status().frames_queued, 0, "one frame a pump");
        }
        on_thread.finish();
        in_memory.finish();
        assert_eq!(in_memory.take_bytes(), None, "not closed before its last pump");
        in_memory.pump();
        let status = in_memory.status();
        assert!(status.is_finished);
        assert_eq!((status.frames_written, status.frame_size, status.error), (6, Some((40, 16)), None));
        let bytes = in_memory.take_bytes().expect("the GIF's bytes");
        assert_eq!(in_memory.take_bytes(), None, "taken once");
        wait_finished(&on_thread);
        let from_file = decoded_frames(&std::fs::read(&path).unwrap());
        assert_eq!(from_file.len(), 6);
        assert_eq!(decoded_frames(&bytes), from_file, "the same frames, pixel for pixel");
        assert_eq!(in_memory.path(), Path::new("same.gif"));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn in_memory_a_full_queue_drops_frames_and_no_frame_leaves_no_bytes() {
        let mut recorder = GifRecorder::in_memory(Path::new("x.gif"), GifSettings::default(), None);
        for _ in 0..QUEUE_FRAMES {
            assert!(recorder.push(RgbaImage::filled(8, 8, [1, 2, 3, 255])));
        }
        assert!(!recorder.push(RgbaImage::filled(8, 8, [1, 2, 3, 255])), "the queue is bounded");
        assert_eq!(recorder.status().frames_dropped, 1);
        let mut empty = GifRecorder::in_memory(Path::new("y.gif"), GifSettings::default(), None);
        empty.finish();
        empty.pump();
        let status = empty.status();
        assert!(status.is_finished && status.is_file_removed && status.frames_written == 0);
        assert_eq!(empty.take_bytes(), None);
    }

    #[test]
    fn a_recording_without_frames_leaves_no_file() {
        // As the app does it: the file is reserved (created empty) before the recording starts.
        let path = temp_path("empty.gif");
        File::create(&path).unwrap();
        let mut recorder = GifRecorder::start(&path, GifSettings::default()).unwrap();
        recorder.finish();
        let status = wait_finished(&recorder);
        assert_eq!((status.frames_written, status.is_file_removed, status.error), (0, true, None));
        assert!(!path.exists());
    }

    #[test]
    fn a_file_with_content_is_never_removed() {
        let path = temp_path("not-ours.gif");
        std::fs::write(&path, b"someone else's").unwrap();
        let mut recorder = GifRecorder::start(&path, GifSettings::default()).unwrap();
        recorder.finish();
        assert!(!wait_finished(&recorder).is_file_removed);
        assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
        let _ = std::fs::remove_file(path);
    }
}
