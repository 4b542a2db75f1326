//! `ioc build-image`: a build request, the [`Engine`] that runs it, and the
//! pure reading of the build's output stream.
//!
//! The Docker Engine's (legacy builder) `/build` endpoint streams JSON
//! messages: text chunks (`Step 3/14 : RUN ...`, the step's output,
//! ` ---> Using cache`), an `aux` with the image ID, and on failure an error
//! message. [`BuildMonitor`] turns that stream into step notices for the
//! progress display, keeps the tail of the current step's output, and ends
//! in a [`BuildReport`] naming the failing step. The engine itself (bollard,
//! async) lives in `docker.rs` behind [`Engine`], so all of this is tested
//! without a daemon.

use std::collections::VecDeque;

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildRequest {
    /// The Dockerfile's name inside the context archive.
    pub dockerfile: String,
    /// The stage to stop at (`--target`).
    pub target: Option<String>,
    /// Names to tag the image with.
    pub tags: Vec<String>,
    /// Build arguments.
    pub build_args: Vec<(String, String)>,
    /// Network mode of `RUN` steps (`host`, `none`, ...).
    pub network: Option<String>,
    /// Build without the cache.
    pub no_cache: bool,
}

/// One message of the build stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// A chunk of build output (may hold several lines or part of one).
    Output(String),
    /// The built image's ID.
    ImageId(String),
    /// The build failed with this message.
    Error(String),
}

/// The daemon side of a build.
pub trait Engine {
    /// The error of this engine.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends the context archive with the request, passing every message of
    /// the build stream to `on_event` as it arrives. A failing step is an
    /// [`BuildEvent::Error`], not an `Err`: `Err` means the daemon could not
    /// be reached or the stream broke.
    fn build(
        &self,
        request: &BuildRequest,
        context: Vec<u8>,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> Result<(), Self::Error>;
}

/// What the progress display is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A step started: `index` of `total`, and its instruction.
    Step {
        /// 1-based.
        index: usize,
        /// Steps in the Dockerfile up to the target.
        total: usize,
        /// `RUN iocforge support build asyn`.
        instruction: String,
    },
    /// The current step was taken from the cache.
    Cached,
    /// A line of the current step's output.
    Line(String),
}

/// The step that failed and what it said last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFailure {
    /// `Step 7/14 : RUN iocforge support build counter`, when a step had started.
    pub step: Option<String>,
    /// The daemon's error message.
    pub message: String,
    /// The last lines of the step's output.
    pub tail: Vec<String>,
    /// The exit code of a failed `RUN`, when the message gives one.
    pub code: Option<i32>,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildReport {
    /// The image ID (`sha256:...`).
    pub image_id: Option<String>,
    /// Steps run or taken from the cache.
    pub steps: usize,
    /// Steps taken from the cache.
    pub cached: usize,
    /// Why it failed, if it did.
    pub failure: Option<BuildFailure>,
}

/// Reads the build stream.
#[derive(Debug)]
pub struct BuildMonitor {
    partial: String,
    step: Option<String>,
    tail: VecDeque<String>,
    keep: usize,
    report: BuildReport,
}

/// `Step 3/14 : RUN x` → (3, 14, `RUN x`).
fn parse_step(line: &str) -> Option<(usize, usize, &str)> {
    let rest = line.strip_prefix("Step ")?;
    let (counts, instruction) = rest.split_once(" : ")?;
    let (index, total) = counts.split_once('/')?;
    Some((index.parse().ok()?, total.parse().ok()?, instruction))
}

/// The exit code in `The command '/bin/sh -c x' returned a non-zero code: 2`.
pub fn exit_code(message: &str) -> Option<i32> {
    let (_, code) = message.rsplit_once("non-zero code: ")?;
    code.trim().parse().ok()
}

impl BuildMonitor {
    /// A monitor keeping `keep` lines of each step's output.
    pub fn new(keep: usize) -> BuildMonitor {
        BuildMonitor {
            partial: String::new(),
            step: None,
            tail: VecDeque::new(),
            keep: keep.max(1),
            report: BuildReport::default(),
        }
    }

    fn line(&mut self, line: &str, out: &mut Vec<Notice>) {
        let line = line.trim_end_matches('\r');
        if let Some((index, total, instruction)) = parse_step(line) {
            self.step = Some(line.to_string());
            self.tail.clear();
            self.report.steps += 1;
            out.push(Notice::Step {
                index,
                total,
                instruction: instruction.to_string(),
            });
            return;
        }
        let trimmed = line.trim();
        if trimmed == "---> Using cache" {
            self.report.cached += 1;
            out.push(Notice::Cached);
            return;
        }
        // the builder's own bookkeeping: layer IDs, container IDs
        if trimmed.starts_with("--->")
            || trimmed.starts_with("Removing intermediate container")
            || trimmed.is_empty()
        {
            return;
        }
        if self.tail.len() == self.keep {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
        out.push(Notice::Line(line.to_string()));
    }

    /// Reads one message; returns what the display should show.
    pub fn feed(&mut self, event: BuildEvent) -> Vec<Notice> {
        let mut out = Vec::new();
        match event {
            BuildEvent::Output(text) => {
                self.partial.push_str(&text);
                while let Some(i) = self.partial.find('\n') {
                    let line: String = self.partial.drain(..=i).collect();
                    self.line(&line[..line.len() - 1], &mut out);
                }
            }
            BuildEvent::ImageId(id) => self.report.image_id = Some(id),
            BuildEvent::Error(message) => {
                self.flush(&mut out);
                self.report.failure = Some(BuildFailure {
                    step: self.step.clone(),
                    code: exit_code(&message),
                    message: message.trim().to_string(),
                    tail: self.tail.iter().cloned().collect(),
                });
            }
        }
        out
    }

    fn flush(&mut self, out: &mut Vec<Notice>) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.line(&rest, out);
        }
    }

    /// Ends the stream.
    pub fn finish(mut self) -> BuildReport {
        let mut ignored = Vec::new();
        self.flush(&mut ignored);
        if self.report.image_id.is_none() && self.report.failure.is_none() {
            self.report.failure = Some(BuildFailure {
                step: self.step.clone(),
                message: "the build stream ended without an image".into(),
                tail: self.tail.iter().cloned().collect(),
                code: None,
            });
        }
        self.report
    }
}

/// Runs a build on an engine, passing notices to `show` as they come.
pub fn run_build<E: Engine>(
    engine: &E,
    request: &BuildRequest,
    context: Vec<u8>,
    keep: usize,
    show: &mut dyn FnMut(&Notice),
) -> Result<BuildReport, E::Error> {
    let mut monitor = BuildMonitor::new(keep);
    engine.build(request, context, &mut |event| {
        for notice in monitor.feed(event) {
            show(&notice);
        }
    })?;
    Ok(monitor.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine that replays a recorded stream and remembers the request.
    struct Replay {
        events: Vec<BuildEvent>,
        seen: std::cell::RefCell<Option<(BuildRequest, usize)>>,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("unreachable")]
    struct Down;

    impl Engine for Replay {
        type Error = Down;

        fn build(
            &self,
            request: &BuildRequest,
            context: Vec<u8>,
            on_event: &mut dyn FnMut(BuildEvent),
        ) -> Result<(), Down> {
            *self.seen.borrow_mut() = Some((request.clone(), context.len()));
            for e in &self.events {
                on_event(e.clone());
            }
            Ok(())
        }
    }

    fn out(s: &str) -> BuildEvent {
        BuildEvent::Output(s.into())
    }

    fn replay(events: Vec<BuildEvent>) -> (BuildReport, Vec<Notice>) {
        let engine = Replay {
            events,
            seen: std::cell::RefCell::default(),
        };
        let mut notices = Vec::new();
        let request = BuildRequest {
            dockerfile: "Dockerfile".into(),
            ..BuildRequest::default()
        };
        let report = run_build(&engine, &request, vec![0; 10], 3, &mut |n| {
            notices.push(n.clone());
        })
        .unwrap();
        assert_eq!(engine.seen.borrow().as_ref().unwrap().1, 10);
        (report, notices)
    }

    #[test]
    fn a_successful_build_counts_steps_and_cache_hits() {
        let (report, notices) = replay(vec![
            out("Step 1/3 : FROM base AS developer\n"),
            out(" ---> 883d95328b4c\n"),
            out("Step 2/3 : COPY iocforge /usr/local/bin/iocforge\n ---> Using cache\n"),
            out(" ---> 1234\nStep 3/3 : RUN iocforge support build counter\n"),
            out(" ---> Running in 5678\n"),
            out("[counter] build      make  (0.02s)\n"),
            out("Removing intermediate container 5678\n ---> abcd\n"),
            BuildEvent::ImageId("sha256:abcd".into()),
            out("Successfully built abcd\n"),
        ]);
        assert_eq!(report.image_id.as_deref(), Some("sha256:abcd"));
        assert_eq!((report.steps, report.cached), (3, 1));
        assert!(report.failure.is_none());
        assert_eq!(
            notices[..3],
            [
                Notice::Step {
                    index: 1,
                    total: 3,
                    instruction: "FROM base AS developer".into()
                },
                Notice::Step {
                    index: 2,
                    total: 3,
                    instruction: "COPY iocforge /usr/local/bin/iocforge".into()
                },
                Notice::Cached,
            ]
        );
        assert!(notices.contains(&Notice::Line("[counter] build      make  (0.02s)".into())));
    }

    #[test]
    fn a_failure_names_its_step_and_keeps_the_tail_of_its_output() {
        let (report, _) = replay(vec![
            out("Step 1/2 : FROM base\n ---> 1\n"),
            out("Step 2/2 : RUN iocforge support build broken\n ---> Running in 9\n"),
            out("line 1\nline 2\nline "),
            out("3\nerror: make failed\n"),
            BuildEvent::Error(
                "The command '/bin/sh -c iocforge support build broken' returned a non-zero code: 2"
                    .into(),
            ),
        ]);
        let failure = report.failure.unwrap();
        assert_eq!(
            failure.step.as_deref(),
            Some("Step 2/2 : RUN iocforge support build broken")
        );
        assert_eq!(failure.tail, ["line 2", "line 3", "error: make failed"]);
        assert_eq!(failure.code, Some(2));
    }

    #[test]
    fn a_stream_without_an_image_is_a_failure() {
        let (report, _) = replay(vec![out("Step 1/1 : FROM nothing\n")]);
        let failure = report.failure.unwrap();
        assert_eq!(failure.message, "the build stream ended without an image");
        assert_eq!(failure.code, None);
    }

    #[test]
    fn exit_codes_are_read_from_the_message() {
        assert_eq!(
            exit_code("The command '/bin/sh -c false' returned a non-zero code: 1"),
            Some(1)
        );
        assert_eq!(exit_code("pull access denied"), None);
    }
}
