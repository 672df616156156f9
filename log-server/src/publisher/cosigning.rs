//! The publisher's decisions, without I/O or clocks of their own: which
//! witness to ask to cosign which checkpoint, and when a checkpoint is
//! published. The publisher ([`super`]) feeds it events — a new integrated
//! checkpoint, a witness's answer, the time — and carries out the
//! [`Action`]s it returns. The rules are those of `docs/log.md`
//! ("witnessing"); property tests drive this state machine with arbitrary
//! event orders.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Integrated, Published};
use crate::witnessing::Answer;

/// What the publisher must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ask witness `witness` to cosign `checkpoint`; it last cosigned size
    /// `known` as far as the log knows.
    Ask {
        /// Index of the witness in the configured list.
        witness: usize,
        /// The checkpoint to cosign.
        checkpoint: Integrated,
        /// The size the witness is believed to have cosigned.
        known: u64,
    },
    /// Make this the published checkpoint (a new size, or the same size
    /// with more cosignatures).
    Publish(Published),
}

/// What the log knows about one witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WitnessState {
    /// Its last exchange ended with a valid cosignature in time. A witness
    /// that is down is still asked, but no publication waits for it.
    up: bool,
    /// A request to it is in flight (at most one is).
    busy: bool,
    /// The size it last cosigned, as far as the log knows.
    known: u64,
    /// The largest size it was asked to cosign (each size once).
    asked: u64,
}

/// One checkpoint waiting for cosignatures before it is published.
#[derive(Debug)]
struct Attempt {
    checkpoint: Integrated,
    /// Witnesses that were up when the attempt began and have not answered.
    waiting: BTreeSet<usize>,
    /// Valid cosignature lines so far, by witness, in arrival order.
    cosignatures: Cosignatures,
    /// When it is published with what arrived (fail open).
    deadline: Instant,
}

/// Cosignature lines by witness, in arrival order, one entry per witness.
type Cosignatures = Vec<(usize, Vec<u8>)>;

/// Whether `witness` has lines in `cosignatures`.
fn has(cosignatures: &Cosignatures, witness: usize) -> bool {
    cosignatures.iter().any(|(w, _)| *w == witness)
}

/// The publisher's state. See the module documentation.
#[derive(Debug)]
pub struct Cosigning {
    quorum: usize,
    timeout: Duration,
    witnesses: Vec<WitnessState>,
    /// The published checkpoint, without its cosignatures.
    published: Integrated,
    /// The cosignatures published with it, in the order they arrived (a
    /// republication only appends).
    published_cosignatures: Cosignatures,
    /// The checkpoint being cosigned, if any.
    attempt: Option<Attempt>,
    /// The newest checkpoint integrated while an attempt was open: the next
    /// attempt publishes it, coalescing everything integrated meanwhile.
    newest: Option<Integrated>,
}

impl Cosigning {
    /// `witnesses` witnesses (all up until they fail), a checkpoint waiting
    /// for `quorum` cosignatures or `timeout`, and `stored` as published.
    pub fn new(witnesses: usize, quorum: usize, timeout: Duration, stored: Integrated) -> Self {
        Cosigning {
            quorum,
            timeout,
            witnesses: vec![
                WitnessState {
                    up: true,
                    busy: false,
                    known: 0,
                    asked: 0,
                };
                witnesses
            ],
            published: stored,
            published_cosignatures: Vec::new(),
            attempt: None,
            newest: None,
        }
    }

    /// Begins cosigning the stored checkpoint, if there is a witness and
    /// something to cosign (a tree of size 0 is not). Until that attempt
    /// publishes ([`Cosigning::is_starting`]), the log does not serve.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        if self.witnesses.is_empty() || self.published.size == 0 {
            return Vec::new();
        }
        let stored = self.published.clone();
        self.begin(stored, now)
    }

    /// Whether the stored checkpoint is still being cosigned at start.
    pub fn is_starting(&self) -> bool {
        self.attempt
            .as_ref()
            .is_some_and(|a| a.checkpoint.size == self.published.size)
    }

    /// The sequencer integrated `checkpoint`.
    pub fn integrated(&mut self, checkpoint: Integrated, now: Instant) -> Vec<Action> {
        let newest = self
            .newest
            .as_ref()
            .or(self.attempt.as_ref().map(|a| &a.checkpoint))
            .unwrap_or(&self.published);
        if checkpoint.size <= newest.size {
            // Sizes only grow; an older one has nothing to add.
            return Vec::new();
        }
        if self.attempt.is_some() {
            self.newest = Some(checkpoint);
            return Vec::new();
        }
        self.begin(checkpoint, now)
    }

    /// Witness `witness` answered the request for size `size`.
    pub fn answered(
        &mut self,
        witness: usize,
        size: u64,
        answer: Answer,
        now: Instant,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(w) = self.witnesses.get_mut(witness) else {
            return actions;
        };
        w.busy = false;
        match answer {
            Answer::Cosigned(lines) => {
                w.up = true;
                w.known = size;
                match &mut self.attempt {
                    Some(a) if a.checkpoint.size == size => {
                        if !has(&a.cosignatures, witness) {
                            a.cosignatures.push((witness, lines));
                        }
                        a.waiting.remove(&witness);
                    }
                    _ if self.published.size == size
                        && !has(&self.published_cosignatures, witness) =>
                    {
                        // Late, but for the size still published: add it.
                        self.published_cosignatures.push((witness, lines));
                        actions.push(Action::Publish(self.published()));
                    }
                    _ => {}
                }
            }
            Answer::Failed { known, .. } => {
                w.up = false;
                if let Some(k) = known {
                    w.known = k;
                }
                if let Some(a) = &mut self.attempt {
                    a.waiting.remove(&witness);
                }
            }
        }
        actions.extend(self.tick(now));
        // The witness is free: ask it for what it has not been asked yet.
        let free = self.witnesses.get(witness).filter(|w| !w.busy).copied();
        if let Some(w) = free {
            match &self.attempt {
                Some(a) if w.asked < a.checkpoint.size => {
                    let checkpoint = a.checkpoint.clone();
                    actions.push(self.ask(witness, checkpoint));
                }
                None if w.asked < self.published.size
                    && !has(&self.published_cosignatures, witness) =>
                {
                    let checkpoint = self.published.clone();
                    actions.push(self.ask(witness, checkpoint));
                }
                _ => {}
            }
        }
        actions
    }

    /// Publishes the open attempt if its quorum is met, every witness it
    /// waits for answered, or its deadline passed; then begins the next
    /// one if a newer checkpoint was integrated meanwhile.
    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        while let Some(a) = &self.attempt {
            let done =
                a.cosignatures.len() >= self.quorum || a.waiting.is_empty() || now >= a.deadline;
            if !done {
                break;
            }
            let Some(a) = self.attempt.take() else {
                break;
            };
            self.published = a.checkpoint;
            self.published_cosignatures = a.cosignatures;
            actions.push(Action::Publish(self.published()));
            if let Some(next) = self.newest.take() {
                actions.extend(self.open(next, now));
            }
        }
        actions
    }

    /// When the open attempt publishes at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        self.attempt.as_ref().map(|a| a.deadline)
    }

    /// Nothing waits to be published.
    pub fn is_idle(&self) -> bool {
        self.attempt.is_none() && self.newest.is_none()
    }

    /// Whether witness `witness` is up (its last exchange succeeded in time).
    pub fn is_up(&self, witness: usize) -> bool {
        self.witnesses.get(witness).is_some_and(|w| w.up)
    }

    /// The published checkpoint with its cosignatures, in the order they
    /// arrived.
    pub fn published(&self) -> Published {
        let mut checkpoint = self.published.note.clone();
        for (_, lines) in &self.published_cosignatures {
            checkpoint.extend_from_slice(lines);
        }
        Published {
            size: self.published.size,
            root: self.published.root,
            checkpoint,
        }
    }

    /// Opens an attempt for `checkpoint` and publishes it at once if there
    /// is nothing to wait for.
    fn begin(&mut self, checkpoint: Integrated, now: Instant) -> Vec<Action> {
        let mut actions = self.open(checkpoint, now);
        actions.extend(self.tick(now));
        actions
    }

    /// Opens an attempt: it waits for the witnesses that are up; every
    /// witness without a request in flight is asked now, the others when
    /// their request ends.
    fn open(&mut self, checkpoint: Integrated, now: Instant) -> Vec<Action> {
        let waiting = (0..self.witnesses.len())
            .filter(|&i| self.witnesses[i].up)
            .collect();
        self.attempt = Some(Attempt {
            checkpoint: checkpoint.clone(),
            waiting,
            cosignatures: Vec::new(),
            deadline: now + self.timeout,
        });
        let free: Vec<usize> = (0..self.witnesses.len())
            .filter(|&i| !self.witnesses[i].busy)
            .collect();
        free.into_iter()
            .map(|i| self.ask(i, checkpoint.clone()))
            .collect()
    }

    fn ask(&mut self, witness: usize, checkpoint: Integrated) -> Action {
        let known = match self.witnesses.get_mut(witness) {
            Some(w) => {
                w.busy = true;
                w.asked = checkpoint.size;
                w.known
            }
            None => 0,
        };
        Action::Ask {
            witness,
            checkpoint,
            known,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::witnessing::Failure;
    use proptest::strategy::Strategy as _;
    use std::collections::BTreeMap;

    fn cp(size: u64) -> Integrated {
        Integrated {
            size,
            root: [size as u8; 32],
            note: format!("note {size}\n").into_bytes(),
        }
    }

    fn failed() -> Answer {
        Answer::Failed {
            known: None,
            why: Failure::TimedOut(Duration::from_secs(1)),
        }
    }

    fn cosigned(w: usize) -> Answer {
        Answer::Cosigned(format!("w{w}\n").into_bytes())
    }

    fn asks(actions: &[Action]) -> Vec<(usize, u64)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Ask {
                    witness,
                    checkpoint,
                    ..
                } => Some((*witness, checkpoint.size)),
                Action::Publish(_) => None,
            })
            .collect()
    }

    fn published(actions: &[Action]) -> Vec<(u64, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Publish(p) => {
                    Some((p.size, String::from_utf8(p.checkpoint.clone()).unwrap()))
                }
                Action::Ask { .. } => None,
            })
            .collect()
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn without_witnesses_every_checkpoint_is_published_at_once() {
        let now = Instant::now();
        let mut c = Cosigning::new(0, 0, T, cp(0));
        assert!(c.start(now).is_empty());
        let a = c.integrated(cp(3), now);
        assert_eq!(published(&a), vec![(3, "note 3\n".into())]);
        assert!(c.is_idle());
    }

    #[test]
    fn the_quorum_publishes_without_waiting_for_a_slow_witness() {
        let now = Instant::now();
        let mut c = Cosigning::new(2, 1, T, cp(0));
        let a = c.integrated(cp(1), now);
        assert_eq!(asks(&a), vec![(0, 1), (1, 1)]);
        assert!(published(&a).is_empty());
        let a = c.answered(0, 1, cosigned(0), now);
        assert_eq!(published(&a), vec![(1, "note 1\nw0\n".into())]);
        // Witness 1 is still busy: the next size asks only witness 0.
        let a = c.integrated(cp(2), now);
        assert_eq!(asks(&a), vec![(0, 2)]);
        let a = c.answered(0, 2, cosigned(0), now);
        assert_eq!(published(&a), vec![(2, "note 2\nw0\n".into())]);
        // Witness 1 answers late for size 1: too old, dropped; it is then
        // asked for the published size.
        let a = c.answered(1, 1, cosigned(1), now);
        assert!(published(&a).is_empty());
        assert_eq!(asks(&a), vec![(1, 2)]);
        // Its cosignature of the published size is added and republished.
        let a = c.answered(1, 2, cosigned(1), now);
        assert_eq!(published(&a), vec![(2, "note 2\nw0\nw1\n".into())]);
        assert!(asks(&a).is_empty());
    }

    #[test]
    fn a_down_witness_is_asked_but_not_waited_for() {
        let now = Instant::now();
        let mut c = Cosigning::new(1, 1, T, cp(0));
        c.integrated(cp(1), now);
        // Times out: published without it (fail open).
        let a = c.tick(now + T);
        assert_eq!(published(&a), vec![(1, "note 1\n".into())]);
        let a = c.answered(0, 1, failed(), now + T);
        assert!(asks(&a).is_empty(), "each size is asked once");
        assert!(!c.is_up(0));
        // The next checkpoint asks it again, and is published at once.
        let a = c.integrated(cp(2), now + T);
        assert_eq!(asks(&a), vec![(0, 2)]);
        assert_eq!(published(&a), vec![(2, "note 2\n".into())]);
        // While that request is in flight, it is not asked again.
        let a = c.integrated(cp(3), now + T);
        assert!(asks(&a).is_empty());
        assert_eq!(published(&a), vec![(3, "note 3\n".into())]);
        // It answers in time again: up, asked for what is published.
        let a = c.answered(0, 2, cosigned(0), now + T);
        assert!(c.is_up(0));
        assert_eq!(asks(&a), vec![(0, 3)]);
        // And waited for again.
        let a = c.integrated(cp(4), now + T);
        assert!(published(&a).is_empty());
    }

    #[test]
    fn commits_during_an_attempt_are_coalesced() {
        let now = Instant::now();
        let mut c = Cosigning::new(1, 1, T, cp(0));
        c.integrated(cp(1), now);
        for size in 2..10 {
            assert!(c.integrated(cp(size), now).is_empty());
        }
        let a = c.answered(0, 1, cosigned(0), now);
        assert_eq!(published(&a), vec![(1, "note 1\nw0\n".into())]);
        assert_eq!(asks(&a), vec![(0, 9)]);
        let a = c.answered(0, 9, cosigned(0), now);
        assert_eq!(published(&a), vec![(9, "note 9\nw0\n".into())]);
        assert!(c.is_idle());
    }

    #[test]
    fn the_stored_checkpoint_is_cosigned_at_start() {
        let now = Instant::now();
        let mut c = Cosigning::new(2, 2, T, cp(5));
        let a = c.start(now);
        assert_eq!(asks(&a), vec![(0, 5), (1, 5)]);
        assert!(c.is_starting());
        c.answered(1, 5, failed(), now);
        let a = c.answered(0, 5, cosigned(0), now);
        // Every witness that is up answered: published below the quorum.
        assert_eq!(published(&a), vec![(5, "note 5\nw0\n".into())]);
        assert!(!c.is_starting());
        // An empty log has nothing to cosign.
        assert!(Cosigning::new(2, 2, T, cp(0)).start(now).is_empty());
    }

    #[test]
    fn a_409_teaches_the_known_size() {
        let now = Instant::now();
        let mut c = Cosigning::new(1, 1, T, cp(0));
        c.integrated(cp(4), now);
        c.answered(
            0,
            4,
            Answer::Failed {
                known: Some(3),
                why: Failure::StillConflicting(3),
            },
            now,
        );
        let a = c.integrated(cp(6), now);
        assert!(a.contains(&Action::Ask {
            witness: 0,
            checkpoint: cp(6),
            known: 3
        }));
    }

    /// Time between two events of the property test.
    const STEP: Duration = Duration::from_millis(700);

    /// An event of the property test.
    #[derive(Debug, Clone)]
    enum Event {
        Integrate,
        Answer { witness: usize, ok: bool },
        Tick,
    }

    fn event(witnesses: usize) -> impl proptest::strategy::Strategy<Value = Event> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Event::Integrate),
            (0..witnesses, any::<bool>()).prop_map(|(witness, ok)| Event::Answer { witness, ok }),
            Just(Event::Tick),
        ]
    }

    proptest::proptest! {
        /// Whatever witnesses answer and whenever: at most one request is in
        /// flight per witness, each witness is asked each size at most once,
        /// published sizes never go back, a republication keeps the size and
        /// only adds cosignatures, a checkpoint waits at most two timeouts
        /// (the attempt in flight when it was integrated, then its own; plus
        /// the test's time step per tick), and once the witnesses are done
        /// everything integrated is published.
        #[test]
        fn publication_is_monotonic_bounded_and_complete(
            (witnesses, quorum, events) in (0usize..4).prop_flat_map(|n| {
                (proptest::strategy::Just(n), 0..=n, proptest::collection::vec(event(n.max(1)), 0..60))
            }),
        ) {
            let mut now = Instant::now();
            let mut c = Cosigning::new(witnesses, quorum, T, cp(0));
            let mut in_flight: Vec<Option<u64>> = vec![None; witnesses];
            let mut asked: BTreeSet<(usize, u64)> = BTreeSet::new();
            let mut integrated = 0u64;
            let mut last: Option<Published> = None;
            let mut waiting_since: BTreeMap<u64, Instant> = BTreeMap::new();
            let mut apply = |actions: Vec<Action>, now: Instant,
                             in_flight: &mut Vec<Option<u64>>,
                             waiting_since: &mut BTreeMap<u64, Instant>| {
                for a in actions {
                    match a {
                        Action::Ask { witness, checkpoint, .. } => {
                            proptest::prop_assert!(in_flight[witness].is_none(), "two requests in flight");
                            proptest::prop_assert!(asked.insert((witness, checkpoint.size)), "asked twice");
                            in_flight[witness] = Some(checkpoint.size);
                        }
                        Action::Publish(p) => {
                            if let Some(prev) = &last {
                                proptest::prop_assert!(p.size >= prev.size);
                                if p.size == prev.size {
                                    proptest::prop_assert!(p.checkpoint.starts_with(&prev.checkpoint));
                                    proptest::prop_assert!(p.checkpoint.len() > prev.checkpoint.len());
                                }
                            }
                            for since in waiting_since.range(..=p.size).map(|(_, t)| *t) {
                                proptest::prop_assert!(now.duration_since(since) <= 2 * (T + STEP));
                            }
                            waiting_since.retain(|&s, _| s > p.size);
                            last = Some(p);
                        }
                    }
                }
                Ok(())
            };
            for e in events {
                now += STEP;
                let actions = match e {
                    Event::Integrate => {
                        integrated += 1;
                        waiting_since.insert(integrated, now);
                        c.integrated(cp(integrated), now)
                    }
                    Event::Answer { witness, ok } => {
                        // A witness with nothing in flight has nothing to
                        // answer: only time passes.
                        match in_flight.get_mut(witness).and_then(Option::take) {
                            Some(size) => {
                                let answer = if ok { cosigned(witness) } else { failed() };
                                c.answered(witness, size, answer, now)
                            }
                            None => Vec::new(),
                        }
                    }
                    Event::Tick => c.tick(now),
                };
                apply(actions, now, &mut in_flight, &mut waiting_since)?;
                // Time never passes a deadline without a tick in the real
                // loop: tick at each deadline reached.
                if c.deadline().is_some_and(|d| d <= now) {
                    apply(c.tick(now), now, &mut in_flight, &mut waiting_since)?;
                }
            }
            // Every witness fails its request in flight; time runs out.
            for (w, size) in in_flight.clone().into_iter().enumerate() {
                if let Some(size) = size {
                    in_flight[w] = None;
                    apply(c.answered(w, size, failed(), now), now, &mut in_flight, &mut waiting_since)?;
                }
            }
            now += T;
            apply(c.tick(now), now, &mut in_flight, &mut waiting_since)?;
            // Requests made meanwhile fail too, until none is left.
            while let Some(w) = in_flight.iter().position(Option::is_some) {
                let size = in_flight[w].take().unwrap_or(0);
                apply(c.answered(w, size, failed(), now), now, &mut in_flight, &mut waiting_since)?;
                now += T;
                apply(c.tick(now), now, &mut in_flight, &mut waiting_since)?;
            }
            proptest::prop_assert!(c.is_idle());
            proptest::prop_assert_eq!(c.published().size, integrated);
        }
    }
}
