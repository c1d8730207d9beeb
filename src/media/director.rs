//! Director beats: what a rendered take does besides training, as plain data placed at
//! training steps (a change of the run, a caption, a ring around a neuron or a plot, slow
//! motion, a hold), and the [`Director`] that turns them into a plan for each video frame.
//!
//! Everything here is counted in steps and frames, never in seconds of wall time: frame `n`
//! of a take shows the same step, caption and ring on any machine. A lesson's script maps its
//! beats onto [`Beat`]; today a lesson's take is its preset plus its "try it" ([`lesson_take`]).
//!
//! How a frame is planned: frame 0 shows step 0. Each later frame first trains the steps that
//! the rate gives it (the take's steps per second over its frame rate, exactly, in integers),
//! cut short so that it lands on the next beat's step; then the beats at the step it landed
//! on take effect (their trainer commands are applied after those steps and before the frame
//! is drawn, so the frame shows the change); a hold then repeats that frame.

use crate::train::WorkerCommand;
use crate::train::lessons::{KeyPlot, Lesson};

/// What a ring points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingTarget {
    /// A hidden neuron's tile: its hidden layer and its place in it, both from 0 (of branch A
    /// while comparing).
    Neuron {
        /// The hidden layer, from 0.
        layer: usize,
        /// The neuron within the layer, from 0.
        neuron: usize,
    },
    /// One of the plots along the bottom.
    Plot(KeyPlot),
    /// What the network computes (the output view).
    Output,
}

/// What happens at a beat.
#[derive(Clone, Debug, PartialEq)]
pub enum BeatAction {
    /// Changes to the run (a setting, a fork), applied once the take reaches the beat's step,
    /// before that frame is drawn.
    Trainer(Vec<WorkerCommand>),
    /// The caption from here on (`None`: no caption).
    Caption(Option<String>),
    /// The ring from here on (`None`: no ring).
    Ring(Option<RingTarget>),
    /// From here to `until_step`, `steps_per_frame` steps a frame instead of the take's rate.
    SlowMotion {
        /// Where normal speed resumes.
        until_step: u64,
        /// Steps per frame meanwhile (at least 1).
        steps_per_frame: u64,
    },
    /// Shows the frame at this step for this many more frames (training waits).
    Hold {
        /// Extra frames.
        frames: u32,
    },
}

/// A beat: an action at a training step.
#[derive(Clone, Debug, PartialEq)]
pub struct Beat {
    /// The step at which it takes effect.
    pub step: u64,
    /// What it does.
    pub action: BeatAction,
}

impl Beat {
    /// `action` at `step`.
    pub fn at(step: u64, action: BeatAction) -> Self {
        Self { step, action }
    }
}

/// A take's script: its beats and where it ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// The beats, in any order (the director takes them by step, then in this order).
    pub beats: Vec<Beat>,
    /// The step at which the take ends when no length is given.
    pub end_step: u64,
}

impl Script {
    /// This script with `beat` added.
    pub fn with(mut self, beat: Beat) -> Self {
        self.beats.push(beat);
        self
    }
}

/// What the renderer does for one frame, in this order: train `steps` steps, apply
/// `commands`, draw the frame with `caption` and `ring`.
#[derive(Clone, Debug, PartialEq)]
pub struct FramePlan {
    /// The frame's number, from 0.
    pub frame: u64,
    /// Steps to train before drawing.
    pub steps: u64,
    /// The step the frame shows.
    pub step: u64,
    /// Changes to the run, after the steps.
    pub commands: Vec<WorkerCommand>,
    /// The caption.
    pub caption: Option<String>,
    /// The ring.
    pub ring: Option<RingTarget>,
}

/// Plans a take frame by frame (see the module documentation).
#[derive(Clone, Debug)]
pub struct Director {
    beats: Vec<Beat>,
    /// Beats already taken.
    next_beat: usize,
    end_step: u64,
    steps_per_second: u64,
    frames_per_second: u64,
    /// Steps owed by the rate but not yet given to a frame, times the frame rate.
    owed: u64,
    step: u64,
    frame: u64,
    caption: Option<String>,
    ring: Option<RingTarget>,
    /// `(until_step, steps_per_frame)` while in slow motion.
    slow_motion: Option<(u64, u64)>,
    hold_frames: u32,
}

impl Director {
    /// A director for `script` at `steps_per_second` training steps per second of video and
    /// `frames_per_second` frames.
    pub fn new(script: Script, steps_per_second: u64, frames_per_second: u32) -> Self {
        let mut beats = script.beats;
        // Stable: beats at the same step keep the script's order.
        beats.sort_by_key(|beat| beat.step);
        Self {
            beats,
            next_beat: 0,
            end_step: script.end_step,
            steps_per_second,
            frames_per_second: u64::from(frames_per_second.max(1)),
            owed: 0,
            step: 0,
            frame: 0,
            caption: None,
            ring: None,
            slow_motion: None,
            hold_frames: 0,
        }
    }

    /// Whether the script is played out: its end step reached and no hold left.
    pub fn is_finished(&self) -> bool {
        self.frame > 0 && self.step >= self.end_step && self.hold_frames == 0
    }

    /// How many frames the script takes to play out (at most `limit`), by planning it.
    pub fn count_frames(&self, limit: u64) -> u64 {
        let mut director = self.clone();
        let mut frames = 0;
        while frames < limit && !director.is_finished() {
            director.next_frame();
            frames += 1;
        }
        frames
    }

    /// The plan for the next frame.
    pub fn next_frame(&mut self) -> FramePlan {
        let frame = self.frame;
        self.frame += 1;
        let mut commands = Vec::new();
        let steps = if frame == 0 {
            self.take_beats(&mut commands);
            0
        } else if self.hold_frames > 0 {
            self.hold_frames -= 1;
            0
        } else {
            let steps = self.steps_this_frame();
            self.step += steps;
            if self.slow_motion.is_some_and(|(until, _)| self.step >= until) {
                self.slow_motion = None;
            }
            self.take_beats(&mut commands);
            steps
        };
        FramePlan { frame, steps, step: self.step, commands, caption: self.caption.clone(), ring: self.ring }
    }

    /// The steps the rate gives this frame, cut short at the next beat, the end of slow
    /// motion or the end of the script.
    fn steps_this_frame(&mut self) -> u64 {
        let wanted = if let Some((_, steps_per_frame)) = self.slow_motion {
            steps_per_frame.max(1)
        } else {
            self.owed += self.steps_per_second;
            let steps = self.owed / self.frames_per_second;
            self.owed %= self.frames_per_second;
            steps
        };
        let stops = [
            self.beats.get(self.next_beat).map(|beat| beat.step),
            self.slow_motion.map(|(until, _)| until),
            Some(self.end_step).filter(|&end| end > self.step),
        ];
        let room = stops.into_iter().flatten().filter(|&stop| stop > self.step).map(|stop| stop - self.step).min();
        room.map_or(wanted, |room| wanted.min(room))
    }

    /// Takes effect: every beat at or before the current step not yet taken.
    fn take_beats(&mut self, commands: &mut Vec<WorkerCommand>) {
        while let Some(beat) = self.beats.get(self.next_beat).filter(|beat| beat.step <= self.step) {
            match &beat.action {
                BeatAction::Trainer(more) => commands.extend(more.iter().cloned()),
                BeatAction::Caption(caption) => self.caption.clone_from(caption),
                BeatAction::Ring(ring) => self.ring = *ring,
                BeatAction::SlowMotion { until_step, steps_per_frame } => {
                    self.slow_motion = Some((*until_step, (*steps_per_frame).max(1)));
                }
                BeatAction::Hold { frames } => self.hold_frames += frames,
            }
            self.next_beat += 1;
        }
    }
}

/// A lesson's take: its script's beats on the take's clock (the lesson's own steps): each
/// beat's caption (after the lesson's title), its ring, its change (the trainer commands the
/// lesson's button sends), and a hold of `hold_frames` where the lesson pauses; the end at the
/// last beat.
pub fn lesson_take(lesson: &Lesson, hold_frames: u32) -> Script {
    let end_step = lesson.beats.last().map_or(0, |beat| beat.at);
    let mut script =
        Script { beats: Vec::new(), end_step }.with(Beat::at(0, BeatAction::Caption(Some(lesson.title.clone()))));
    for beat in &lesson.beats {
        if let Some(change) = &beat.change {
            script = script.with(Beat::at(beat.at, BeatAction::Trainer(change.worker_commands())));
        }
        if let Some(caption) = &beat.caption {
            let text = format!("{} · {caption}", lesson.title);
            script = script.with(Beat::at(beat.at, BeatAction::Caption(Some(text))));
        }
        if let Some(ring) = beat.ring {
            let target =
                RingTarget::Neuron { layer: ring.layer.saturating_sub(1), neuron: ring.neuron.saturating_sub(1) };
            script = script.with(Beat::at(beat.at, BeatAction::Ring(Some(target))));
        }
        if beat.pause {
            script = script.with(Beat::at(beat.at, BeatAction::Hold { frames: hold_frames }));
        }
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans(director: &mut Director, count: usize) -> Vec<FramePlan> {
        (0..count).map(|_| director.next_frame()).collect()
    }

    #[test]
    fn the_rate_gives_each_frame_its_exact_share_of_steps() {
        // 200 steps a second at 30 frames: 6 or 7 a frame, exactly 200 after 30 frames.
        let mut director = Director::new(Script { beats: Vec::new(), end_step: 10_000 }, 200, 30);
        let frames = plans(&mut director, 31);
        assert_eq!(frames[0].steps, 0, "frame 0 shows step 0");
        assert!(frames[1..].iter().all(|plan| plan.steps == 6 || plan.steps == 7));
        assert_eq!(frames[30].step, 200);
        assert_eq!(frames.iter().map(|plan| plan.frame).collect::<Vec<_>>(), (0..31).collect::<Vec<_>>());
    }

    #[test]
    fn a_frame_lands_on_each_beat_and_the_beat_shows_in_it() {
        let script = Script { beats: Vec::new(), end_step: 100 }
            .with(Beat::at(0, BeatAction::Caption(Some("start".to_owned()))))
            .with(Beat::at(15, BeatAction::Trainer(vec![WorkerCommand::Pause])))
            .with(Beat::at(15, BeatAction::Caption(Some("changed".to_owned()))))
            .with(Beat::at(15, BeatAction::Ring(Some(RingTarget::Neuron { layer: 0, neuron: 3 }))))
            .with(Beat::at(15, BeatAction::Hold { frames: 2 }));
        // 10 steps a frame: frames at 0, 10, 15 (cut short), 15, 15 (held), 25, …
        let mut director = Director::new(script, 100, 10);
        let frames = plans(&mut director, 6);
        let steps: Vec<u64> = frames.iter().map(|plan| plan.step).collect();
        assert_eq!(steps, [0, 10, 15, 15, 15, 25]);
        assert_eq!(frames[1].caption.as_deref(), Some("start"));
        assert_eq!(frames[2].commands, [WorkerCommand::Pause], "applied once, in the frame that lands on it");
        assert!(frames[3].commands.is_empty() && frames[3].steps == 0);
        assert_eq!(frames[2].caption.as_deref(), Some("changed"));
        assert_eq!(frames[4].ring, Some(RingTarget::Neuron { layer: 0, neuron: 3 }));
    }

    #[test]
    fn slow_motion_takes_its_steps_per_frame_until_its_end() {
        let script = Script { beats: Vec::new(), end_step: 40 }
            .with(Beat::at(10, BeatAction::SlowMotion { until_step: 13, steps_per_frame: 1 }));
        let mut director = Director::new(script, 100, 10);
        let steps: Vec<u64> = plans(&mut director, 7).iter().map(|plan| plan.step).collect();
        assert_eq!(steps, [0, 10, 11, 12, 13, 23, 33]);
        assert!(!director.is_finished());
        assert_eq!(director.next_frame().step, 40, "cut short at the end");
        assert!(director.is_finished());
    }

    #[test]
    fn a_take_counts_its_frames_without_playing_them() {
        let script = Script { beats: vec![Beat::at(50, BeatAction::Hold { frames: 5 })], end_step: 100 };
        let director = Director::new(script, 100, 10);
        // 10 frames of 10 steps, after frame 0, plus 5 held.
        assert_eq!(director.count_frames(1000), 16);
        assert_eq!(director.count_frames(7), 7);
    }

    #[test]
    fn a_lesson_take_applies_its_suggestion_at_its_scripted_step() {
        let lessons = crate::train::lessons::load_lessons().unwrap();
        let lesson = &lessons[1];
        let script = lesson_take(lesson, 25);
        assert_eq!(Some(script.end_step), lesson.measured_at(crate::train::lessons::Phase::TryIt));
        let fork = script.beats.iter().find(|beat| matches!(beat.action, BeatAction::Trainer(_))).unwrap();
        assert_eq!(Some(fork.step), lesson.try_it_at());
        assert!(
            matches!(&fork.action, BeatAction::Trainer(commands) if matches!(commands[..], [WorkerCommand::Fork { .. }]))
        );
    }
}
