//! The one replay engine: a cursor over a run record that the command line, the app's "Load
//! run record" and "Replay live" all advance, one step at a time, so that a caller can stop,
//! pause or take other commands between any two steps.
//!
//! A replay ends in one of three ways: it made the record's steps (and, if the record says the
//! run diverged, tried that step too); or the run did something the record does not say (a
//! divergence at another step, a refused command): an error that names the step. Either way it
//! ends: a record whose divergence never happens stops at its step count.

use super::command::{Annotation, Divergence, StampedCommand};
use super::ensemble::{Ensemble, ForkPoint, Lane};
use super::record::{ForkRecord, LaneRecord, RecordError, RunRecord, parameter_digest};
use super::session::{CommandError, Session, StepOutcome};

/// Why a replay stopped before the record's end.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReplayError {
    /// The record cannot start a session.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A recorded command was refused.
    #[error("step {step}: the recorded command was refused: {error}")]
    Command {
        /// The command's stamp.
        step: u64,
        /// Why it was refused.
        error: CommandError,
    },
    /// The run diverged where the record says it did not.
    #[error("the replay diverged at step {} ({}), where the recorded run went on", .divergence.step, .divergence.cause.describe())]
    DivergedEarly {
        /// How it diverged.
        divergence: Divergence,
    },
    /// The record says the run diverged, but the replay did not.
    #[error("the record says the run diverged at step {}, but the replay made that step: the record was edited or made by another version", .recorded.step)]
    DidNotDiverge {
        /// The divergence the record states.
        recorded: Divergence,
    },
}

/// How the final parameters compare with the record's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// The digests agree: the replay reproduced the run bit for bit.
    Matches,
    /// They differ.
    Differs {
        /// The record's digest.
        recorded: String,
        /// The replay's.
        replayed: String,
    },
    /// The record has no digest (format 1): nothing to compare.
    NotRecorded,
}

impl Verification {
    /// A sentence for the user.
    pub fn describe(&self) -> String {
        match self {
            Self::Matches => "the final weights match the record bit for bit".to_owned(),
            Self::Differs { recorded, replayed } => {
                format!("the final weights differ from the record's (record {recorded}, replay {replayed})")
            }
            Self::NotRecorded => {
                "the record has no digest of its final weights, so the result is not checked".to_owned()
            }
        }
    }
}

/// What one call to [`ReplayCursor::next`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayStep {
    /// The recorded commands applied before the step, in words.
    pub annotations: Vec<Annotation>,
    /// The step's outcome; `None` when only end-of-record commands were applied.
    pub outcome: Option<StepOutcome>,
}

/// A position in a record: the commands still to apply and the steps still to make.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayCursor {
    commands: Vec<StampedCommand>,
    next_command: usize,
    steps: u64,
    divergence: Option<Divergence>,
    digest: Option<String>,
    is_finished: bool,
}

impl ReplayCursor {
    /// A session at the record's start and a cursor at its first command.
    pub fn start(record: &LaneRecord) -> Result<(Session, Self), ReplayError> {
        let session = match record.initial_mlp()? {
            Some(mlp) => Session::with_network(record.config.clone(), mlp)
                .map_err(|error| ReplayError::Command { step: 0, error })?,
            None => Session::new(record.config.clone())
                .map_err(|error| RecordError::Config { lane: String::new(), error })?,
        };
        Ok((session, Self::new(record)))
    }

    /// A cursor at the first command of `record`, for a session already at its start.
    pub fn new(record: &LaneRecord) -> Self {
        Self {
            commands: record.commands.clone(),
            next_command: 0,
            steps: record.steps,
            divergence: record.divergence,
            digest: record.parameter_digest.clone(),
            is_finished: false,
        }
    }

    /// A cursor at command `first` of `record`, for a session that has applied the ones
    /// before it (branch B, copied from A at the fork).
    fn starting_at(record: &LaneRecord, first: usize) -> Self {
        Self { next_command: first, ..Self::new(record) }
    }

    /// Applies the commands before number `count`, whatever their stamps (the record's check
    /// put them at or before the session's step).
    fn apply_first(&mut self, session: &mut Session, count: usize) -> Result<Vec<Annotation>, ReplayError> {
        let mut annotations = Vec::new();
        while self.next_command < count
            && let Some(stamped) = self.commands.get(self.next_command)
        {
            let (step, command) = (stamped.step, stamped.command.clone());
            self.next_command += 1;
            annotations.push(session.apply(command).map_err(|error| {
                self.is_finished = true;
                ReplayError::Command { step, error }
            })?);
        }
        Ok(annotations)
    }

    /// The record's step count.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether the replay has reached the record's end.
    pub fn is_finished(&self) -> bool {
        self.is_finished
    }

    /// Applies the commands due and makes one step. `Ok(None)` once the record's end is
    /// reached (then [`ReplayCursor::verify`] says whether the bits match).
    pub fn next(&mut self, session: &mut Session) -> Result<Option<ReplayStep>, ReplayError> {
        if self.is_finished {
            return Ok(None);
        }
        let annotations = self.apply_due(session)?;
        let is_at_end = session.step_count() >= self.steps;
        if is_at_end && (self.divergence.is_none() || session.divergence().is_some()) {
            self.is_finished = true;
            return Ok((!annotations.is_empty()).then_some(ReplayStep { annotations, outcome: None }));
        }
        let outcome = session.step();
        match (outcome, self.divergence) {
            (StepOutcome::Trained { .. }, Some(recorded)) if is_at_end => {
                self.is_finished = true;
                return Err(ReplayError::DidNotDiverge { recorded });
            }
            (StepOutcome::Trained { .. }, _) => {}
            (StepOutcome::Diverged(divergence), _) => self.on_divergence(session, divergence)?,
        }
        Ok(Some(ReplayStep { annotations, outcome: Some(outcome) }))
    }

    /// Applies every command stamped at or before the session's step.
    fn apply_due(&mut self, session: &mut Session) -> Result<Vec<Annotation>, ReplayError> {
        let mut annotations = Vec::new();
        while let Some(stamped) = self.commands.get(self.next_command)
            && stamped.step <= session.step_count()
        {
            let (step, command) = (stamped.step, stamped.command.clone());
            self.next_command += 1;
            match session.apply(command) {
                Ok(annotation) => annotations.push(annotation),
                Err(error) => {
                    self.is_finished = true;
                    return Err(ReplayError::Command { step, error });
                }
            }
        }
        Ok(annotations)
    }

    /// A divergence is fine where the record has commands at that step (the live run received
    /// them while diverged) or where the record ends with it; anywhere else it is a mismatch.
    fn on_divergence(&mut self, session: &Session, divergence: Divergence) -> Result<(), ReplayError> {
        let has_commands_now =
            self.commands.get(self.next_command).is_some_and(|next| next.step <= session.step_count());
        if has_commands_now {
            return Ok(());
        }
        if session.step_count() >= self.steps && self.divergence == Some(divergence) {
            self.is_finished = true;
            return Ok(());
        }
        self.is_finished = true;
        Err(ReplayError::DivergedEarly { divergence })
    }

    /// Replays to the end, calling `after_step` after every step. Returns how the final
    /// parameters compare with the record's digest.
    pub fn run_to_end<E>(
        &mut self,
        session: &mut Session,
        mut after_step: impl FnMut(&mut Session) -> Result<(), E>,
    ) -> Result<Verification, RunToEndError<E>> {
        while let Some(step) = self.next(session).map_err(RunToEndError::Replay)? {
            if step.outcome.is_some() {
                after_step(session).map_err(RunToEndError::Callback)?;
            }
        }
        Ok(self.verify(session))
    }

    /// How `session`'s parameters compare with the record's digest.
    pub fn verify(&self, session: &Session) -> Verification {
        match &self.digest {
            None => Verification::NotRecorded,
            Some(recorded) => {
                let replayed = parameter_digest(session.network());
                if &replayed == recorded {
                    Verification::Matches
                } else {
                    Verification::Differs { recorded: recorded.clone(), replayed }
                }
            }
        }
    }
}

/// What one call to [`LaneCursor::next`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum LaneStep {
    /// Before the fork: a step of the run alone.
    Single(ReplayStep),
    /// The fork happened: branch B exists now. `a` holds A's commands applied just before it,
    /// `b` B's first commands (what it was given at the fork).
    Forked {
        /// A's annotations.
        a: Vec<Annotation>,
        /// B's annotations.
        b: Vec<Annotation>,
    },
    /// After the fork: a step of each branch that has not reached its record's end.
    Both {
        /// A's step, if A went on.
        a: Option<ReplayStep>,
        /// B's step, if B went on.
        b: Option<ReplayStep>,
    },
}

impl LaneStep {
    /// Whether a step was made (not only commands applied or a fork made).
    pub fn made_a_step(&self) -> bool {
        let stepped = |step: &Option<ReplayStep>| step.as_ref().is_some_and(|step| step.outcome.is_some());
        match self {
            Self::Single(step) => step.outcome.is_some(),
            Self::Forked { .. } => false,
            Self::Both { a, b } => stepped(a) || stepped(b),
        }
    }
}

/// A cursor over one lane's record, which may hold a comparison: the run alone up to the fork,
/// then A and B in lockstep, each to the end of its own record. Without a fork it is a plain
/// replay.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneCursor {
    a: ReplayCursor,
    b: Option<ReplayCursor>,
    fork: Option<ForkRecord>,
}

impl LaneCursor {
    /// A session at the lane's start and a cursor at its first command.
    pub fn start(record: &LaneRecord) -> Result<(Session, Self), ReplayError> {
        let (session, a) = ReplayCursor::start(record)?;
        Ok((session, Self { a, b: None, fork: record.fork.clone() }))
    }

    /// Whether every branch reached its record's end.
    pub fn is_finished(&self) -> bool {
        self.a.is_finished()
            && self.b.as_ref().is_none_or(ReplayCursor::is_finished)
            && (self.fork.is_none() || self.b.is_some())
    }

    /// The next step of `lane`: of A alone before the fork, the fork itself, then a lockstep
    /// step of both. `Ok(None)` once both branches reached their ends.
    pub fn next(&mut self, lane: &mut Lane) -> Result<Option<LaneStep>, ReplayError> {
        let (a, b) = lane.replay_parts();
        let Some(record) = &self.fork else { return Ok(self.a.next(a)?.map(LaneStep::Single)) };
        if let (Some(b_cursor), Some((b, _))) = (&mut self.b, b.as_mut()) {
            let a_step = if self.a.is_finished() { None } else { self.a.next(a)? };
            let b_step = if b_cursor.is_finished() { None } else { b_cursor.next(b)? };
            if self.a.is_finished() && b_cursor.is_finished() && a_step.is_none() && b_step.is_none() {
                return Ok(None);
            }
            return Ok(Some(LaneStep::Both { a: a_step, b: b_step }));
        }
        if a.step_count() < record.step {
            return match self.a.next(a)? {
                Some(step) => Ok(Some(LaneStep::Single(step))),
                None => Err(ReplayError::Record(RecordError::Fork {
                    lane: String::new(),
                    reason: format!("the run ended at step {} before the fork at step {}", a.step_count(), record.step),
                })),
            };
        }
        let a_annotations = self.a.apply_first(a, record.after_command)?;
        let (mut b_session, mut b_cursor) = if record.b_restarted {
            ReplayCursor::start(&record.b)?
        } else {
            (a.clone(), ReplayCursor::starting_at(&record.b, record.after_command))
        };
        let b_annotations = b_cursor.apply_due(&mut b_session)?;
        let point =
            ForkPoint { step: record.step, after_command: record.after_command, b_restarted: record.b_restarted };
        *b = Some((b_session, point));
        self.b = Some(b_cursor);
        Ok(Some(LaneStep::Forked { a: a_annotations, b: b_annotations }))
    }

    /// How each branch's parameters compare with its record's digest: A's, then B's if the
    /// replay reached the fork.
    pub fn verify(&self, lane: &Lane) -> (Verification, Option<Verification>) {
        let b = self.b.as_ref().zip(lane.b()).map(|(cursor, b)| cursor.verify(b));
        (self.a.verify(lane.a()), b)
    }
}

/// What one lane did in an [`EnsembleCursor::next`].
#[derive(Clone, Debug, PartialEq)]
pub struct LaneEvent {
    /// The lane, by index.
    pub lane: usize,
    /// What it did.
    pub step: LaneStep,
}

/// A cursor over a whole record: every lane in lockstep, each to the end of its own record.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleCursor {
    lanes: Vec<LaneCursor>,
}

impl EnsembleCursor {
    /// The ensemble at the record's start and a cursor at its first commands.
    pub fn start(record: &RunRecord) -> Result<(Ensemble, Self), ReplayError> {
        let mut lanes = Vec::with_capacity(record.lanes.len());
        let mut cursors = Vec::with_capacity(record.lanes.len());
        for lane in &record.lanes {
            let (session, cursor) = LaneCursor::start(lane)?;
            lanes.push((lane.config.seed, session));
            cursors.push(cursor);
        }
        Ok((Ensemble::from_sessions(lanes, 0), Self { lanes: cursors }))
    }

    /// Whether every lane reached its record's end.
    pub fn is_finished(&self) -> bool {
        self.lanes.iter().all(LaneCursor::is_finished)
    }

    /// The next lockstep step of every lane that has not reached its end. `Ok(None)` once all
    /// have. A lane that fails stops the replay with its error.
    pub fn next(&mut self, ensemble: &mut Ensemble) -> Result<Option<Vec<LaneEvent>>, ReplayError> {
        let mut events = Vec::new();
        for (index, cursor) in self.lanes.iter_mut().enumerate() {
            let Some(lane) = ensemble.lane_mut(index) else { continue };
            if let Some(step) = cursor.next(lane)? {
                events.push(LaneEvent { lane: index, step });
            }
        }
        if events.is_empty() {
            return Ok(None);
        }
        if events.iter().any(|event| event.step.made_a_step()) {
            ensemble.advance_clock(1);
        }
        let forked = events.iter().filter_map(|event| match &event.step {
            LaneStep::Forked { b, .. } => Some(b.iter().map(|annotation| annotation.text.clone()).collect()),
            _ => None,
        });
        if let Some(words) = forked.into_iter().next() {
            ensemble.note_replayed_fork(words);
        }
        Ok(Some(events))
    }

    /// Every lane's verification: (seed, A's, B's if it forked).
    pub fn verify(&self, ensemble: &Ensemble) -> Vec<(u64, Verification, Option<Verification>)> {
        self.lanes
            .iter()
            .zip(ensemble.lanes())
            .map(|(cursor, lane)| {
                let (a, b) = cursor.verify(lane);
                (lane.seed(), a, b)
            })
            .collect()
    }
}

/// Why [`ReplayCursor::run_to_end`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunToEndError<E> {
    /// The replay itself failed.
    #[error(transparent)]
    Replay(ReplayError),
    /// The caller's callback failed (for example, an interrupt).
    #[error("the replay was stopped")]
    Callback(E),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::command::SessionCommand;
    use crate::train::config::RunConfig;

    fn recorded_run(steps: u64) -> (Session, LaneRecord) {
        let mut session = Session::new(RunConfig::default()).unwrap();
        for step in 0..steps {
            if step == 40 {
                session.apply(SessionCommand::SetLearningRate { learning_rate: 0.3 }).unwrap();
            }
            session.step();
        }
        let record = session.record();
        (session, record)
    }

    #[test]
    fn a_replay_reproduces_the_bits_and_says_so() {
        let (live, record) = recorded_run(120);
        let (mut session, mut cursor) = ReplayCursor::start(&record).unwrap();
        let verification = cursor.run_to_end(&mut session, |_| Ok::<(), ()>(())).unwrap();
        assert_eq!(verification, Verification::Matches);
        assert_eq!(session.network(), live.network());
        assert_eq!(session.step_count(), 120);
    }

    #[test]
    fn an_edited_record_is_caught_by_its_digest() {
        let (_, mut record) = recorded_run(120);
        record.commands[0].step = 41;
        let (mut session, mut cursor) = ReplayCursor::start(&record).unwrap();
        let verification = cursor.run_to_end(&mut session, |_| Ok::<(), ()>(())).unwrap();
        assert!(matches!(verification, Verification::Differs { .. }), "{verification:?}");
    }

    #[test]
    fn a_stated_divergence_that_does_not_happen_ends_the_replay_at_its_step_count() {
        let (_, mut record) = recorded_run(60);
        record.divergence = Some(Divergence { step: 60, cause: crate::train::command::DivergenceCause::NonFiniteLoss });
        let (mut session, mut cursor) = ReplayCursor::start(&record).unwrap();
        let error = cursor.run_to_end(&mut session, |_| Ok::<(), ()>(())).unwrap_err();
        assert!(matches!(error, RunToEndError::Replay(ReplayError::DidNotDiverge { .. })), "{error:?}");
        assert_eq!(session.step_count(), 61, "one step past the end, no more");
    }
}
