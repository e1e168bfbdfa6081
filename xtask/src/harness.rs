//! Driving a QEMU session over its serial console, and matching what it
//! printed.
//!
//! # Driving
//!
//! [`drive`] starts QEMU with the serial port on stdio and acts as a patient
//! typist: it waits until the output ends with the shell prompt `/ # `, then
//! writes the next command and a newline (the kernel echoes it), and so on.
//! Typing ahead instead would race the kernel's UART setup. After the last
//! command it keeps reading until QEMU exits, or kills QEMU when the timeout
//! expires. The result is a [`Transcript`]: every byte of output, where the
//! boot ended (the first prompt) and which output each command produced.
//!
//! With [`Options::type_ahead`] it is an impatient typist instead: all of
//! the input goes to QEMU's serial port the moment QEMU starts, before the
//! kernel has even booted (what `printf 'poweroff\n' | qemu-system-arm ...`
//! does). The kernel must keep every character; there are no per-command
//! segments then, only the whole output. To make that deterministic rather
//! than a race with QEMU's I/O thread, [`Options::release`] has QEMU start
//! paused (`-S`): the harness watches the UART's flag register over QMP
//! until the first character sits in the receiver, and only then lets the
//! CPU run (`cont`).
//!
//! # Matching
//!
//! A [`Check`] is a [`Match`] in a [`Scope`]: all output, the boot log, or
//! one command's output (echo removed). Kernel log lines carry Linux's
//! printk time, `[%5u.%06u] `, which is stripped before matching, so
//! expectations are written as Linux prints them without the time; a check
//! made [`Check::raw`] sees the times (e.g. to match `dmesg`'s output).
//! Carriage returns are dropped everywhere.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use regex::Regex;

use crate::process;

/// The kernel shell's prompt (busybox ash's, as root in `/`): the kernel's
/// own definition, shared through kobold-common.
pub use kobold_common::shell::PROMPT;

// ---------------------------------------------------------------------------
// Driving QEMU
// ---------------------------------------------------------------------------

/// Where the commands typed at the prompt come from.
#[derive(Debug)]
pub enum Input {
    /// A fixed list (tests).
    Lines(Vec<String>),
    /// xtask's own stdin, line by line (`run` with piped stdin).
    Stdin,
}

/// How to drive a session.
#[derive(Clone, Debug)]
pub struct Options {
    /// Kill QEMU after this long; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Copy QEMU's output to our stdout as it arrives, and let its stderr
    /// through (for `run`); otherwise both are only captured.
    pub live: bool,
    /// Write all of a [`Input::Lines`] input at once, as soon as QEMU
    /// starts, instead of one line per prompt.
    pub type_ahead: bool,
    /// QEMU was started paused: start it once the input has reached the
    /// UART (see [`Release`]).
    pub release: Option<Release>,
    /// Give up early when the prompt is back after the last command and
    /// nothing more is printed for this long: the last command was meant
    /// to end the session (poweroff, a crash) and did not. `None` waits.
    pub settle: Option<Duration>,
    /// When the input ends and the shell is back at its prompt, type
    /// `poweroff` (unless it was typed), and kill QEMU if it still runs
    /// this long afterwards (`run` with piped stdin). `None`: wait.
    pub power_off_at_end: Option<Duration>,
}

/// The command that ends a session.
pub const POWEROFF: &str = "poweroff";

/// How to start a QEMU that was started paused (`-S`) with a QMP socket:
/// when the UART's flag register shows received data, `cont`.
#[derive(Clone, Debug)]
pub struct Release {
    /// QEMU's `-qmp unix:PATH,server=on,wait=off` socket.
    pub qmp: std::path::PathBuf,
    /// Physical address of the UART's flag register.
    pub flag_register: u32,
    /// The flag bit that says "nothing received".
    pub empty_bit: u32,
}

/// How the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// QEMU exited with this status (`None`: killed by a signal).
    Exited(Option<i32>),
    /// QEMU was still running at the timeout and was killed.
    TimedOut(Duration),
    /// The prompt came back after the last command and QEMU neither printed
    /// nor exited for this long ([`Options::settle`]); it was killed.
    StuckAtPrompt(Duration),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(Some(code)) => write!(f, "exit status {code}"),
            Outcome::Exited(None) => write!(f, "killed by a signal"),
            Outcome::TimedOut(t) => write!(f, "timed out after {} s", t.as_secs_f32()),
            Outcome::StuckAtPrompt(t) => write!(
                f,
                "back at the prompt after the last command, silent for {} s",
                t.as_secs_f32()
            ),
        }
    }
}

/// The output one command produced: bytes `start..end` of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub command: String,
    pub start: usize,
    /// Where the next prompt begins, or the end of the output.
    pub end: usize,
}

/// Everything a session printed, and how it ended.
#[derive(Clone, Debug)]
pub struct Transcript {
    /// QEMU's stdout (the serial console), as received.
    pub raw: Vec<u8>,
    /// Where the first prompt begins: the end of the boot log.
    pub boot_end: Option<usize>,
    /// One segment per command sent, in order.
    pub segments: Vec<Segment>,
    /// QEMU's stderr (empty when it was passed through).
    pub stderr: String,
    pub outcome: Outcome,
}

enum Event {
    Output(Vec<u8>),
    OutputClosed,
    Input(String),
    InputClosed,
}

/// Runs `cmd` (QEMU with its serial port on stdio) and types `input` at
/// each prompt. See the module doc.
pub fn drive(cmd: &mut Command, input: Input, options: Options) -> Result<Transcript> {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    cmd.stderr(if options.live {
        Stdio::inherit()
    } else {
        Stdio::piped()
    });
    if process::verbose() {
        eprintln!("+ {}", process::describe(cmd));
    }
    let mut child = cmd.spawn().with_context(|| {
        format!(
            "could not start `{}`: is QEMU installed?",
            process::describe(cmd)
        )
    })?;
    let started = Instant::now();
    let deadline = options.timeout.map(|t| started + t);

    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().context("QEMU's stdout is not piped")?;
    let out_tx = tx.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out_tx.send(Event::Output(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = out_tx.send(Event::OutputClosed);
    });
    // Through a channel rather than a join, so a stray process still
    // holding the pipe cannot hang us.
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            let _ = err_tx.send(String::from_utf8_lossy(&s).into_owned());
        });
    }
    let mut ahead = String::new();
    match input {
        Input::Lines(lines) if options.type_ahead => {
            for line in lines {
                ahead.push_str(&line);
                ahead.push('\n');
            }
            let _ = tx.send(Event::InputClosed);
        }
        Input::Lines(lines) => {
            for line in lines {
                let _ = tx.send(Event::Input(line));
            }
            let _ = tx.send(Event::InputClosed);
        }
        Input::Stdin => {
            let in_tx = tx.clone();
            // Detached: it may block on our stdin for ever, which is fine.
            thread::spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { break };
                    if in_tx.send(Event::Input(line)).is_err() {
                        return;
                    }
                }
                let _ = in_tx.send(Event::InputClosed);
            });
        }
    }
    drop(tx);

    let mut stdin = child.stdin.take();
    let mut raw: Vec<u8> = Vec::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    // Typed ahead: everything written now, in one go; nothing is queued.
    let mut typed_ahead = false;
    if options.type_ahead {
        if let Some(pipe) = stdin.as_mut()
            && pipe
                .write_all(ahead.as_bytes())
                .and_then(|()| pipe.flush())
                .is_err()
        {
            stdin = None;
        }
        typed_ahead = true;
    }
    if let Some(release) = &options.release
        && let Err(e) = start_when_received(release, deadline)
    {
        let _ = kill(&mut child);
        return Err(e);
    }
    let mut boot_end = None;
    let mut segments: Vec<Segment> = Vec::new();
    let mut open_segment = false;
    // Output since the last command was sent: the next prompt must be in it.
    let mut since = 0;
    let mut input_closed = false;
    let mut timed_out = false;
    let mut stuck = false;
    let mut live_out = std::io::stdout();
    // `poweroff` typed (by the input, or by us at its end), and when we
    // typed it.
    let mut powering_off = false;
    let mut auto_poweroff_at: Option<Instant> = None;
    loop {
        if let Some(grace) = options.power_off_at_end
            && !powering_off
            && input_closed
            && queue.is_empty()
            && raw[since..].ends_with(PROMPT.as_bytes())
        {
            process::note(format!(
                "end of input: typing `{POWEROFF}` (QEMU is killed if it still runs {} s later)",
                grace.as_secs()
            ));
            queue.push_back(POWEROFF.to_string());
            powering_off = true;
            auto_poweroff_at = Some(Instant::now() + grace);
            continue;
        }
        if !queue.is_empty() && raw[since..].ends_with(PROMPT.as_bytes()) {
            let at_prompt = raw.len() - PROMPT.len();
            boot_end.get_or_insert(at_prompt);
            if open_segment {
                segments.last_mut().expect("open segment").end = at_prompt;
            }
            let line = queue.pop_front().expect("queue is not empty");
            powering_off |= line.trim() == POWEROFF;
            if let Some(pipe) = stdin.as_mut() {
                // QEMU may already be gone; its exit status will tell.
                if pipe
                    .write_all(format!("{line}\n").as_bytes())
                    .and_then(|()| pipe.flush())
                    .is_err()
                {
                    stdin = None;
                }
            }
            segments.push(Segment {
                command: line,
                start: raw.len(),
                end: raw.len(),
            });
            open_segment = true;
            since = raw.len();
            continue;
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            timed_out = true;
            break;
        }
        let done_and_back_at_prompt = (input_closed || typed_ahead)
            && queue.is_empty()
            && (!segments.is_empty() || typed_ahead)
            && raw[since..].ends_with(PROMPT.as_bytes());
        let settle = options.settle.filter(|_| done_and_back_at_prompt);
        let settle = match (settle, auto_poweroff_at) {
            (settle, None) => settle,
            (settle, Some(at)) => {
                let grace = at.saturating_duration_since(Instant::now());
                Some(settle.map_or(grace, |s| s.min(grace)))
            }
        };
        let wait = match (left, settle) {
            (Some(left), Some(settle)) => Some(left.min(settle)),
            (left, settle) => left.or(settle),
        };
        let event = match wait {
            Some(wait) => match rx.recv_timeout(wait) {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        timed_out = true;
                    } else {
                        stuck = true;
                    }
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(event) => event,
                Err(mpsc::RecvError) => break,
            },
        };
        match event {
            Event::Output(bytes) => {
                if options.live {
                    let _ = live_out.write_all(&bytes).and_then(|()| live_out.flush());
                }
                raw.extend_from_slice(&bytes);
            }
            Event::OutputClosed => break,
            Event::Input(line) if !typed_ahead => queue.push_back(line),
            Event::Input(_) => {}
            Event::InputClosed => input_closed = true,
        }
    }
    if open_segment {
        let last = segments.last_mut().expect("open segment");
        last.end = raw.len();
        if raw[last.start..].ends_with(PROMPT.as_bytes()) {
            last.end -= PROMPT.len();
        }
    }

    if typed_ahead {
        boot_end = find(&raw, PROMPT.as_bytes());
    }

    let outcome = if timed_out {
        kill(&mut child)?;
        Outcome::TimedOut(options.timeout.unwrap_or_default())
    } else if stuck {
        kill(&mut child)?;
        Outcome::StuckAtPrompt(options.settle.unwrap_or_default())
    } else {
        wait(&mut child, deadline, options.timeout.unwrap_or_default())?
    };
    drop(stdin);
    let stderr = err_rx
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    Ok(Transcript {
        raw,
        boot_end,
        segments,
        stderr,
        outcome,
    })
}

/// Waits (until `deadline`, or 30 s) for the UART behind `r` to hold a
/// received character, then resumes the paused QEMU.
fn start_when_received(r: &Release, deadline: Option<Instant>) -> Result<()> {
    use std::os::unix::net::UnixStream;
    let give_up = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(30));
    let stream = loop {
        match UnixStream::connect(&r.qmp) {
            Ok(s) => break s,
            Err(e) if Instant::now() >= give_up => {
                return Err(e).context(format!(
                    "connecting to QEMU's QMP socket {}",
                    r.qmp.display()
                ));
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    };
    let left = give_up.saturating_duration_since(Instant::now());
    stream
        .set_read_timeout(Some(left.max(Duration::from_millis(1))))
        .context("QMP socket")?;
    let mut reader = std::io::BufReader::new(stream.try_clone().context("QMP socket")?);
    let mut writer = stream;
    let mut call = |command: &str| -> Result<String> {
        writer
            .write_all(command.as_bytes())
            .and_then(|()| writer.write_all(b"\n"))
            .context("writing to QMP")?;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).context("reading from QMP")? == 0 {
                anyhow::bail!("QMP closed the connection");
            }
            if line.contains("\"return\"") {
                return Ok(line.clone());
            }
            if line.contains("\"error\"") {
                anyhow::bail!("QMP: {}", line.trim());
            }
        }
    };
    call(r#"{"execute": "qmp_capabilities"}"#)?; // skips the greeting
    let peek = format!(
        r#"{{"execute": "human-monitor-command", "arguments": {{"command-line": "xp /1wx {:#x}"}}}}"#,
        r.flag_register
    );
    let value = Regex::new(r": 0x([0-9a-fA-F]+)").expect("valid regex");
    loop {
        let reply = call(&peek)?;
        let flags = value
            .captures(&reply)
            .and_then(|c| u32::from_str_radix(&c[1], 16).ok())
            .with_context(|| format!("unexpected reply to `xp`: {}", reply.trim()))?;
        if flags & r.empty_bit == 0 {
            break;
        }
        if Instant::now() >= give_up {
            anyhow::bail!("the typed-ahead input never reached the UART (flags {flags:#x})");
        }
        thread::sleep(Duration::from_millis(10));
    }
    call(r#"{"execute": "cont"}"#)?;
    Ok(())
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn kill(child: &mut Child) -> Result<()> {
    // It may have exited on its own in the meantime; that is fine.
    let _ = child.kill();
    child.wait().context("waiting for the killed QEMU")?;
    Ok(())
}

/// Waits for `child` to exit, killing it at `deadline`.
fn wait(child: &mut Child, deadline: Option<Instant>, timeout: Duration) -> Result<Outcome> {
    let Some(deadline) = deadline else {
        let status = child.wait().context("waiting for QEMU")?;
        return Ok(Outcome::Exited(status.code()));
    };
    loop {
        if let Some(status) = child.try_wait().context("waiting for QEMU")? {
            return Ok(Outcome::Exited(status.code()));
        }
        if Instant::now() >= deadline {
            kill(child)?;
            return Ok(Outcome::TimedOut(timeout));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/// Bytes as text, carriage returns dropped.
pub fn normalize(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "")
}

/// Splits Linux's printk time off a line: `[    1.234567] text` gives
/// `(1_234_567 µs, "text")`. The seconds are right-aligned in 5 columns
/// (wider when they need it), the fraction is always 6 digits.
pub fn printk_time(line: &str) -> Option<(u64, &str)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find("] ")?;
    let (secs, micros) = rest[..close].trim_start_matches(' ').split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || micros.len() != 6 || !digits(micros) {
        return None;
    }
    let time = secs.parse::<u64>().ok()?.checked_mul(1_000_000)? + micros.parse::<u64>().ok()?;
    Some((time, &rest[close + 2..]))
}

/// The line without its printk time, if it has one.
pub fn strip_printk_time(line: &str) -> &str {
    printk_time(line).map_or(line, |(_, text)| text)
}

/// The lines of `text`, without a trailing empty one.
pub fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

impl Transcript {
    /// All output as text.
    pub fn text(&self) -> String {
        normalize(&self.raw)
    }

    /// The output before the first prompt (all of it if none came).
    pub fn boot_text(&self) -> String {
        normalize(&self.raw[..self.boot_end.unwrap_or(self.raw.len())])
    }

    /// The output of every run of `command`, echo lines removed; `None` if
    /// it was never sent.
    pub fn output_of(&self, command: &str) -> Option<String> {
        let mut found = false;
        let mut out = String::new();
        for seg in self.segments.iter().filter(|s| s.command == command) {
            found = true;
            let text = normalize(&self.raw[seg.start..seg.end]);
            let body = match text.split_once('\n') {
                Some((echo, rest)) if echo.trim() == command.trim() => rest.to_string(),
                None if text.trim() == command.trim() => String::new(),
                _ => text,
            };
            out.push_str(&body);
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        }
        found.then_some(out)
    }

    /// The output of each run of `command`, echo lines removed, in order.
    pub fn outputs_of(&self, command: &str) -> Vec<String> {
        self.segments
            .iter()
            .filter(|s| s.command == command)
            .map(|seg| {
                let text = normalize(&self.raw[seg.start..seg.end]);
                match text.split_once('\n') {
                    Some((echo, rest)) if echo.trim() == command.trim() => rest.to_string(),
                    None if text.trim() == command.trim() => String::new(),
                    _ => text,
                }
            })
            .collect()
    }

    /// The last `n` lines of output, for failure reports.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let text = self.text();
        let all = lines(&text);
        all[all.len().saturating_sub(n)..]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

/// Which output a check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    All,
    /// The boot log up to the first prompt.
    Boot,
    /// The output of this command (every run of it), without its echo.
    Output(&'static str),
}

/// What a check looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// A line equal to this.
    Line(&'static str),
    /// A line matching this regex.
    Regex(&'static str),
    /// These lines, consecutively and exactly.
    Block(&'static [&'static str]),
    /// Consecutive lines matching these regexes one by one.
    RegexBlock(&'static [&'static str]),
    /// No line equal to this.
    ForbidLine(&'static str),
    /// No line matching this regex.
    ForbidRegex(&'static str),
    /// Exactly this many lines equal to this.
    Count(&'static str, usize),
    /// The printk times never go backwards (and there is at least one).
    MonotonicTimestamps,
    /// The decimal numbers captured by the regex's first group, in output
    /// order: at least one of them is `dip` or more below the first, and
    /// the last is within `tolerance` of the first. For "memory is taken,
    /// then comes back" (e.g. MemFree across insmod and rmmod).
    ComesBack {
        re: &'static str,
        dip: u64,
        tolerance: u64,
    },
    /// This command was typed at least twice and printed the same each time
    /// (e.g. `cat /proc/meminfo` around something that must not leak).
    SameOutput(&'static str),
    /// The decimal numbers captured by the regex's first group: at least
    /// one, and every one `min` or more (e.g. jiffies slept by `msleep`).
    AtLeast { re: &'static str, min: u64 },
    /// The decimal numbers captured by the regex's first group, in output
    /// order: at least two, and the last is `by` or more above the first
    /// (e.g. an interrupt count read twice).
    Grows { re: &'static str, by: u64 },
}

/// One expectation about a session's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub scope: Scope,
    /// Match lines with their printk time instead of without.
    pub raw: bool,
    /// The expected text is a template: its `{kind:args}` placeholders are
    /// filled before matching (see [`Check::computed`]).
    pub computed: bool,
    pub matcher: Match,
}

/// A line equal to `s`.
pub const fn line(s: &'static str) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::Line(s),
    }
}

/// A line matching the regex `re`.
pub const fn regex(re: &'static str) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::Regex(re),
    }
}

/// These lines, consecutively and exactly.
pub const fn block(lines: &'static [&'static str]) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::Block(lines),
    }
}

/// Consecutive lines matching these regexes.
pub const fn regex_block(res: &'static [&'static str]) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::RegexBlock(res),
    }
}

/// No line equal to `s`.
pub const fn forbid_line(s: &'static str) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::ForbidLine(s),
    }
}

/// No line matching `re`.
pub const fn forbid_regex(re: &'static str) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::ForbidRegex(re),
    }
}

/// Exactly `n` lines equal to `s`.
pub const fn count(s: &'static str, n: usize) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::Count(s, n),
    }
}

/// The numbers captured by `re` dip by `dip` or more and end within
/// `tolerance` of where they started (see [`Match::ComesBack`]).
pub const fn comes_back(re: &'static str, dip: u64, tolerance: u64) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::ComesBack { re, dip, tolerance },
    }
}

/// Every number `re` captures is `min` or more (see [`Match::AtLeast`]).
pub const fn at_least(re: &'static str, min: u64) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::AtLeast { re, min },
    }
}

/// The numbers `re` captures end `by` or more above where they began (see
/// [`Match::Grows`]).
pub const fn grows(re: &'static str, by: u64) -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::Grows { re, by },
    }
}

/// Every run of `command` (at least two) printed exactly the same.
pub const fn same_output(command: &'static str) -> Check {
    Check {
        scope: Scope::All,
        raw: true,
        computed: false,
        matcher: Match::SameOutput(command),
    }
}

/// printk times never decrease.
pub const fn monotonic_timestamps() -> Check {
    Check {
        scope: Scope::All,
        raw: false,
        computed: false,
        matcher: Match::MonotonicTimestamps,
    }
}

impl Check {
    /// The same check on `command`'s output only.
    pub const fn of(self, command: &'static str) -> Check {
        Check {
            scope: Scope::Output(command),
            ..self
        }
    }

    /// The same check on the boot log only.
    pub const fn at_boot(self) -> Check {
        Check {
            scope: Scope::Boot,
            ..self
        }
    }

    /// The same check on lines as printed, printk times included.
    pub const fn raw(self) -> Check {
        Check { raw: true, ..self }
    }

    /// The same check with its expected text computed from the built
    /// files: each `{kind:args}` placeholder in it (a lower-case kind, so
    /// a regex's `{4}` stays a quantifier) is replaced by its value, e.g.
    /// `{size:hello}` by hello.ko's core size (see [`crate::figures`]), so
    /// an expectation never hard-codes what one compiler emitted.
    pub const fn computed(self) -> Check {
        Check {
            computed: true,
            ..self
        }
    }

    /// Every regex in the check, for validating the case table.
    pub fn regexes(&self) -> Vec<&'static str> {
        match self.matcher {
            Match::Regex(re)
            | Match::ForbidRegex(re)
            | Match::ComesBack { re, .. }
            | Match::AtLeast { re, .. }
            | Match::Grows { re, .. } => vec![re],
            Match::RegexBlock(res) => res.to_vec(),
            _ => Vec::new(),
        }
    }

    /// The expected strings of the check (lines, regexes), in order.
    pub fn expected(&self) -> Vec<&'static str> {
        match self.matcher {
            Match::Line(s)
            | Match::Regex(s)
            | Match::ForbidLine(s)
            | Match::ForbidRegex(s)
            | Match::Count(s, _)
            | Match::ComesBack { re: s, .. }
            | Match::AtLeast { re: s, .. }
            | Match::Grows { re: s, .. } => vec![s],
            Match::Block(v) | Match::RegexBlock(v) => v.to_vec(),
            Match::MonotonicTimestamps | Match::SameOutput(_) => Vec::new(),
        }
    }

    /// `Ok` if the transcript satisfies the check, else what is wrong. A
    /// [`computed`](Check::computed) check fails: it needs
    /// [`Check::evaluate_with`].
    pub fn evaluate(&self, t: &Transcript) -> Result<(), String> {
        self.evaluate_with(t, &|key| Err(format!("no value for `{{{key}}}` here")))
    }

    /// [`Check::evaluate`], with `fill` giving the value of each
    /// placeholder of a [`computed`](Check::computed) check.
    pub fn evaluate_with(&self, t: &Transcript, fill: &Fill<'_>) -> Result<(), String> {
        if let Match::SameOutput(cmd) = self.matcher {
            return same_runs(cmd, &t.outputs_of(cmd));
        }
        let text = match self.scope {
            Scope::All => t.text(),
            Scope::Boot => t.boot_text(),
            Scope::Output(cmd) => t
                .output_of(cmd)
                .ok_or_else(|| format!("`{cmd}` was never typed (no prompt before it)"))?,
        };
        let raw = lines(&text);
        if self.raw {
            return self.evaluate_lines_with(&raw, &raw, fill);
        }
        let stripped: Vec<&str> = raw.iter().map(|l| strip_printk_time(l)).collect();
        self.evaluate_lines_with(&stripped, &raw, fill)
    }

    /// The check on already-split lines: `lines` for matching, `raw` (with
    /// printk times) for the timestamp check.
    pub fn evaluate_lines(&self, lines: &[&str], raw: &[&str]) -> Result<(), String> {
        self.evaluate_lines_with(lines, raw, &|key| {
            Err(format!("no value for `{{{key}}}` here"))
        })
    }

    /// [`Check::evaluate_lines`] with placeholder values from `fill`.
    pub fn evaluate_lines_with(
        &self,
        lines: &[&str],
        raw: &[&str],
        fill: &Fill<'_>,
    ) -> Result<(), String> {
        let filled: Vec<String> = if self.computed {
            self.expected()
                .iter()
                .map(|s| fill_placeholders(s, fill))
                .collect::<Result<_, _>>()?
        } else {
            self.expected().iter().map(|s| s.to_string()).collect()
        };
        let want: Vec<&str> = filled.iter().map(String::as_str).collect();
        self.match_lines(&want, lines, raw)
    }

    /// The matcher's logic with `want` as its expected strings (the
    /// matcher's own, or filled in).
    fn match_lines(&self, want: &[&str], lines: &[&str], raw: &[&str]) -> Result<(), String> {
        let compile = |re: &str| Regex::new(re).map_err(|e| format!("bad regex /{re}/: {e}"));
        let first = want.first().copied().unwrap_or_default();
        match self.matcher {
            Match::Line(_) => {
                let want = first;
                if lines.contains(&want) {
                    Ok(())
                } else {
                    Err(format!("no line `{want}`"))
                }
            }
            Match::Regex(_) => {
                let re = compile(first)?;
                if lines.iter().any(|l| re.is_match(l)) {
                    Ok(())
                } else {
                    Err(format!("no line matches /{re}/"))
                }
            }
            Match::ForbidLine(_) => {
                let bad = first;
                if lines.contains(&bad) {
                    Err(format!("unexpected line `{bad}`"))
                } else {
                    Ok(())
                }
            }
            Match::ForbidRegex(_) => {
                let re = compile(first)?;
                match lines.iter().find(|l| re.is_match(l)) {
                    Some(l) => Err(format!("unexpected line `{l}` (matches /{re}/)")),
                    None => Ok(()),
                }
            }
            Match::Count(_, n) => {
                let want = first;
                let got = lines.iter().filter(|l| **l == want).count();
                if got == n {
                    Ok(())
                } else {
                    Err(format!("`{want}` appears {got} times, expected {n}"))
                }
            }
            Match::Block(_) => find_block(lines, want.len(), |i, l| l == want[i])
                .map_err(|e| e.describe(want, "`", "`")),
            Match::RegexBlock(_) => {
                let res: Vec<Regex> = want.iter().map(|r| compile(r)).collect::<Result<_, _>>()?;
                find_block(lines, res.len(), |i, l| res[i].is_match(l)).map_err(|e| {
                    let pats: Vec<&str> = res.iter().map(Regex::as_str).collect();
                    e.describe(&pats, "/", "/")
                })
            }
            Match::ComesBack { dip, tolerance, .. } => {
                let re = compile(first)?;
                let values: Vec<u64> = lines
                    .iter()
                    .filter_map(|l| re.captures(l)?.get(1)?.as_str().parse().ok())
                    .collect();
                let (Some(&first), Some(&last)) = (values.first(), values.last()) else {
                    return Err(format!("no line matches /{re}/ with a number"));
                };
                let lowest = values.iter().copied().min().unwrap_or(first);
                if first - lowest < dip {
                    Err(format!(
                        "/{re}/: {values:?} never dips {dip} below the first value"
                    ))
                } else if first.abs_diff(last) > tolerance {
                    Err(format!(
                        "/{re}/: {values:?} ends {} away from where it started (tolerance {tolerance})",
                        first.abs_diff(last)
                    ))
                } else {
                    Ok(())
                }
            }
            Match::SameOutput(cmd) => Err(format!(
                "the runs of `{cmd}` can only be compared on a transcript"
            )),
            Match::AtLeast { min, .. } => {
                let re = compile(first)?;
                let values = captured_numbers(&re, lines);
                if values.is_empty() {
                    Err(format!("no line matches /{re}/ with a number"))
                } else if let Some(v) = values.iter().find(|v| **v < min) {
                    Err(format!("/{re}/: {v} is below {min} (all: {values:?})"))
                } else {
                    Ok(())
                }
            }
            Match::Grows { by, .. } => {
                let re = compile(first)?;
                let values = captured_numbers(&re, lines);
                match (values.first(), values.last()) {
                    (Some(&a), Some(&b)) if values.len() >= 2 => {
                        if b >= a.saturating_add(by) {
                            Ok(())
                        } else {
                            Err(format!("/{re}/: {values:?} does not grow by {by} or more"))
                        }
                    }
                    _ => Err(format!(
                        "/{re}/: {values:?}: needs at least two lines with a number"
                    )),
                }
            }
            Match::MonotonicTimestamps => {
                let mut last: Option<(u64, &str)> = None;
                for l in raw {
                    let Some((time, _)) = printk_time(l) else {
                        continue;
                    };
                    if let Some((prev, prev_line)) = last
                        && time < prev
                    {
                        return Err(format!(
                            "printk time goes backwards: `{prev_line}` then `{l}`"
                        ));
                    }
                    last = Some((time, l));
                }
                match last {
                    Some(_) => Ok(()),
                    None => Err("no line with a printk time".to_string()),
                }
            }
        }
    }
}

/// The decimal numbers `re`'s first group captures, line by line.
fn captured_numbers(re: &Regex, lines: &[&str]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| re.captures(l)?.get(1)?.as_str().parse().ok())
        .collect()
}

/// Gives the value of a placeholder (`size:hello` for `{size:hello}`).
pub type Fill<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

/// `template` with each `{kind:args}` (`kind` lower-case letters) replaced
/// by `fill("kind:args")`, right-aligned in `N` columns if written
/// `{kind:args:>N}`; other braces (a regex's `{4}`) are kept.
pub fn fill_placeholders(template: &str, fill: &Fill<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let kind_len = after
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(after.len());
        let close = after.find('}');
        match close {
            Some(close) if kind_len > 0 && after[kind_len..].starts_with(':') => {
                let key = &after[..close];
                // `{key:>N}`: right-aligned in N columns (printf's `%Nu`).
                let (key, width) = match key.rsplit_once(":>") {
                    Some((k, w)) if w.parse::<usize>().is_ok() => (k, w.parse().unwrap_or(0)),
                    _ => (key, 0),
                };
                out.push_str(&format!("{:>width$}", fill(key)?));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `Ok` if there are at least two runs and all are identical; else the
/// first line where a run differs from the first run.
fn same_runs(cmd: &str, runs: &[String]) -> Result<(), String> {
    let Some((first, rest)) = runs.split_first() else {
        return Err(format!("`{cmd}` was never typed (no prompt before it)"));
    };
    if rest.is_empty() {
        return Err(format!("`{cmd}` ran once: nothing to compare"));
    }
    for (i, run) in rest.iter().enumerate() {
        if run != first {
            let (a, b) = (lines(first), lines(run));
            let at = (0..a.len().max(b.len()))
                .find(|&k| a.get(k) != b.get(k))
                .unwrap_or(0);
            return Err(format!(
                "run {} of `{cmd}` differs from run 1 at line {}: `{}` then `{}`",
                i + 2,
                at + 1,
                a.get(at).copied().unwrap_or("<end>"),
                b.get(at).copied().unwrap_or("<end>")
            ));
        }
    }
    Ok(())
}

/// Why a block was not found: the longest partial match, if any.
struct BlockMiss<'a> {
    matched: usize,
    got: Option<&'a str>,
}

impl BlockMiss<'_> {
    fn describe(&self, want: &[&str], open: &str, close: &str) -> String {
        let all: Vec<String> = want
            .iter()
            .map(|w| format!("    {open}{w}{close}"))
            .collect();
        let why = match (self.matched, self.got) {
            (0, _) => format!("its first line {open}{}{close} never appears", want[0]),
            (k, Some(got)) => {
                format!(
                    "after {k} matching lines, expected {open}{}{close}, got `{got}`",
                    want[k]
                )
            }
            (k, None) => format!("output ends after {k} matching lines"),
        };
        format!("block not found ({why}); expected:\n{}", all.join("\n"))
    }
}

fn find_block<'a>(
    lines: &[&'a str],
    len: usize,
    matches: impl Fn(usize, &str) -> bool,
) -> Result<(), BlockMiss<'a>> {
    if len == 0 {
        return Ok(());
    }
    let mut best = BlockMiss {
        matched: 0,
        got: None,
    };
    for start in 0..lines.len() {
        let k = (0..len)
            .take_while(|&i| lines.get(start + i).is_some_and(|l| matches(i, l)))
            .count();
        if k == len {
            return Ok(());
        }
        if k > best.matched {
            best = BlockMiss {
                matched: k,
                got: lines.get(start + k).copied(),
            };
        }
    }
    Err(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transcript as `drive` would record it for `output` with the
    /// commands typed at successive prompts.
    fn transcript(output: &str, commands: &[&str]) -> Transcript {
        let raw = output.as_bytes().to_vec();
        let mut segments = Vec::new();
        let prompts: Vec<usize> = output.match_indices(PROMPT).map(|(i, _)| i).collect();
        for (i, cmd) in commands.iter().enumerate() {
            let start = prompts[i] + PROMPT.len();
            let end = prompts.get(i + 1).copied().unwrap_or(raw.len());
            segments.push(Segment {
                command: cmd.to_string(),
                start,
                end,
            });
        }
        Transcript {
            raw,
            boot_end: prompts.first().copied(),
            segments,
            stderr: String::new(),
            outcome: Outcome::Exited(Some(0)),
        }
    }

    const LOG: &str = "\
[    0.000000] Booting Kobold on physical CPU 0x0\r
[    0.000000] Memory: 1000K/65536K available (1K kernel code, 0K highmem)\r
[    0.000000] Virtual kernel memory layout:\r
[    0.000000]     vector  : 0xffff0000 - 0xffff1000   (   4 kB)\r
[    0.000000]     fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)\r
[    0.012345] Run /init\r
/ # cat /proc/cmdline\r
console=ttyAMA0 quiet=0\r
/ # dmesg\r
[    0.000000] Booting Kobold on physical CPU 0x0\r
[    0.012345] Run /init\r
/ # poweroff\r
[   12.500000] reboot: Power down\r
";

    #[test]
    fn comes_back_needs_a_dip_and_a_return() {
        let check = comes_back(r"^MemFree: +(\d+) kB$", 3000, 1024);
        let run = |values: &[u64]| {
            let text: String = values
                .iter()
                .map(|v| format!("MemFree: {v:>12} kB\n"))
                .collect();
            let lines = lines(&text);
            check.evaluate_lines(&lines, &lines)
        };
        assert_eq!(run(&[100_000, 96_000, 99_500]), Ok(()));
        assert!(run(&[100_000, 99_000, 100_000]).is_err(), "no dip");
        assert!(
            run(&[100_000, 96_000, 98_000]).is_err(),
            "did not come back"
        );
        assert!(run(&[]).is_err(), "no numbers at all");
    }

    #[test]
    fn at_least_and_grows_compare_numbers() {
        let text = "slept 11 jiffies\nslept 12 jiffies\n";
        let l = lines(text);
        assert_eq!(
            at_least(r"^slept (\d+) jiffies$", 11).evaluate_lines(&l, &l),
            Ok(())
        );
        assert!(
            at_least(r"^slept (\d+) jiffies$", 12)
                .evaluate_lines(&l, &l)
                .is_err()
        );
        assert!(
            at_least(r"^nothing (\d+)$", 0)
                .evaluate_lines(&l, &l)
                .is_err()
        );
        assert_eq!(grows(r"^slept (\d+)", 1).evaluate_lines(&l, &l), Ok(()));
        assert!(grows(r"^slept (\d+)", 2).evaluate_lines(&l, &l).is_err());
        let one = lines("slept 11 jiffies\n");
        assert!(
            grows(r"^slept (\d+)", 0)
                .evaluate_lines(&one, &one)
                .is_err()
        );
    }

    #[test]
    fn printk_times() {
        assert_eq!(printk_time("[    0.001234] text"), Some((1234, "text")));
        assert_eq!(printk_time("[12345.000001] x"), Some((12_345_000_001, "x")));
        assert_eq!(
            printk_time("[123456.500000] wide"),
            Some((123_456_500_000, "wide"))
        );
        assert_eq!(printk_time("[    0.001234] "), Some((1234, "")));
        for bad in [
            "[    0.00123] x",
            "[ 1.0000000] x",
            "[    .001234] x",
            "[    0.001234]x",
            "0.001234] x",
            "[ a.000000] x",
        ] {
            assert_eq!(printk_time(bad), None, "{bad}");
        }
        assert_eq!(
            strip_printk_time("[    1.000000]     vector  : 0x"),
            "    vector  : 0x"
        );
        assert_eq!(strip_printk_time("/ # [x] y"), "/ # [x] y");
        assert_eq!(strip_printk_time("plain"), "plain");
    }

    #[test]
    fn lines_and_normalisation() {
        assert_eq!(lines(&normalize(b"a\r\nb\r\n")), ["a", "b"]);
        assert_eq!(lines("a\n\nb"), ["a", "", "b"]);
        assert!(lines("").is_empty());
    }

    #[test]
    fn scopes() {
        let t = transcript(LOG, &["cat /proc/cmdline", "dmesg", "poweroff"]);
        assert!(t.boot_text().ends_with("Run /init\n"));
        assert_eq!(
            t.output_of("cat /proc/cmdline").unwrap(),
            "console=ttyAMA0 quiet=0\n"
        );
        assert_eq!(
            t.output_of("poweroff").unwrap(),
            "[   12.500000] reboot: Power down\n"
        );
        assert!(t.output_of("help").is_none());
        assert_eq!(
            t.tail(2),
            ["/ # poweroff", "[   12.500000] reboot: Power down"]
        );
    }

    #[test]
    fn line_regex_forbid_count() {
        let t = transcript(LOG, &["cat /proc/cmdline", "dmesg", "poweroff"]);
        assert_eq!(line("reboot: Power down").evaluate(&t), Ok(()));
        assert_eq!(
            line("console=ttyAMA0 quiet=0")
                .of("cat /proc/cmdline")
                .evaluate(&t),
            Ok(())
        );
        assert!(
            line("console=ttyAMA0 quiet=0")
                .of("dmesg")
                .evaluate(&t)
                .is_err()
        );
        assert!(
            line("Power down").evaluate(&t).is_err(),
            "lines match whole"
        );
        assert_eq!(
            regex(r"^Memory: \d+K/65536K available .*, 0K highmem\)$").evaluate(&t),
            Ok(())
        );
        assert_eq!(
            regex(r"^\[\s*\d+\.\d{6}\] Run /init$")
                .of("dmesg")
                .raw()
                .evaluate(&t),
            Ok(())
        );
        // Unless the check is raw, the time is stripped.
        assert!(regex(r"^\[").evaluate(&t).is_err());
        assert!(regex(r"^\[").of("dmesg").evaluate(&t).is_err());
        assert_eq!(regex(r"^\[").raw().evaluate(&t), Ok(()));
        assert_eq!(forbid_regex(r"^\s*pkmap\s*:").evaluate(&t), Ok(()));
        assert!(forbid_line("Run /init").evaluate(&t).is_err());
        assert_eq!(
            count("Booting Kobold on physical CPU 0x0", 2).evaluate(&t),
            Ok(())
        );
        assert_eq!(
            count("Booting Kobold on physical CPU 0x0", 1)
                .at_boot()
                .evaluate(&t),
            Ok(())
        );
        let err = count("Run /init", 1).evaluate(&t).unwrap_err();
        assert!(err.contains("appears 2 times"), "{err}");
        assert!(regex("(").evaluate(&t).unwrap_err().contains("bad regex"));
        let err = line("x").of("help").evaluate(&t).unwrap_err();
        assert!(err.contains("never typed"), "{err}");
    }

    #[test]
    fn blocks() {
        let t = transcript(LOG, &["cat /proc/cmdline", "dmesg", "poweroff"]);
        let good: &'static [&'static str] = &[
            "Virtual kernel memory layout:",
            "    vector  : 0xffff0000 - 0xffff1000   (   4 kB)",
            "    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)",
        ];
        assert_eq!(block(good).evaluate(&t), Ok(()));
        let wrong: &'static [&'static str] = &[
            "Virtual kernel memory layout:",
            "    vector  : 0xffff0000 - 0xffff1000   (   4 kB)",
            "    fixmap  : 0xffc00000 - 0xffe00000   (   2 MB)",
        ];
        let err = block(wrong).evaluate(&t).unwrap_err();
        assert!(err.contains("after 2 matching lines"), "{err}");
        assert!(
            err.contains("got `    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)`"),
            "{err}"
        );
        // Consecutive means consecutive.
        let gap: &'static [&'static str] = &[
            "Virtual kernel memory layout:",
            "    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)",
        ];
        assert!(block(gap).evaluate(&t).is_err());
        let err = block(&["nope"]).evaluate(&t).unwrap_err();
        assert!(err.contains("never appears"), "{err}");
        assert_eq!(
            regex_block(&[
                r"^Virtual kernel memory layout:$",
                r"^    vector  : 0xffff0000 - 0x[0-9a-f]{8}   \( *\d+ kB\)$"
            ])
            .evaluate(&t),
            Ok(())
        );
    }

    #[test]
    fn computed_checks_fill_placeholders() {
        let fill = |key: &str| match key {
            "size:m" => Ok("4096".to_string()),
            _ => Err(format!("unknown `{key}`")),
        };
        assert_eq!(
            fill_placeholders(r"^m {size:m} x{2,3} {size:m:>6}$", &fill),
            Ok(r"^m 4096 x{2,3}   4096$".to_string())
        );
        assert!(fill_placeholders("{size:n}", &fill).is_err());
        assert_eq!(
            fill_placeholders("{} {x} {", &fill),
            Ok("{} {x} {".to_string())
        );
        let t = transcript("/ # lsmod\nm 4096 0\n/ # ", &["lsmod"]);
        let check = line("m {size:m} 0").computed();
        assert_eq!(check.evaluate_with(&t, &fill), Ok(()));
        assert!(check.evaluate(&t).unwrap_err().contains("no value"));
        // Not computed: the braces are matched as written.
        assert!(line("m {size:m} 0").evaluate_with(&t, &fill).is_err());
        let block = regex_block(&[r"^m {size:m} \d$"]).computed();
        assert_eq!(block.evaluate_with(&t, &fill), Ok(()));
        assert!(
            forbid_line("m {size:m} 0")
                .computed()
                .evaluate_with(&t, &fill)
                .is_err()
        );
    }

    #[test]
    fn monotonic() {
        let t = transcript(LOG, &["cat /proc/cmdline", "dmesg", "poweroff"]);
        assert_eq!(monotonic_timestamps().at_boot().evaluate(&t), Ok(()));
        assert_eq!(monotonic_timestamps().of("dmesg").evaluate(&t), Ok(()));
        // All of it includes dmesg's replay of the boot log.
        let err = monotonic_timestamps().evaluate(&t).unwrap_err();
        assert!(err.contains("backwards"), "{err}");
        let err = monotonic_timestamps()
            .of("cat /proc/cmdline")
            .evaluate(&t)
            .unwrap_err();
        assert!(err.contains("no line with a printk time"), "{err}");
    }

    /// A stand-in for QEMU: a shell that prints a boot line and a prompt,
    /// echoes commands, and powers off.
    const FAKE_KERNEL: &str = r#"
        printf '[    0.000000] booting\r\n/ # '
        while IFS= read -r l; do
            printf '%s\r\n' "$l"
            case "$l" in
                poweroff) printf '[    1.000000] reboot: Power down\r\n'; exit 0 ;;
                panic) printf 'Kernel panic - not syncing: test\r\n'; exit 3 ;;
                hang) sleep 30 ;;
                *) printf 'out:%s\r\n/ # ' "$l" ;;
            esac
        done
        exit 9
    "#;

    fn fake(commands: &[&str], timeout_ms: u64) -> Transcript {
        fake_with(FAKE_KERNEL, commands, timeout_ms, false)
    }

    fn fake_with(script: &str, commands: &[&str], timeout_ms: u64, ahead: bool) -> Transcript {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let input = Input::Lines(commands.iter().map(|s| s.to_string()).collect());
        let options = Options {
            timeout: Some(Duration::from_millis(timeout_ms)),
            live: false,
            settle: Some(Duration::from_millis(500)),
            type_ahead: ahead,
            release: None,
            power_off_at_end: None,
        };
        drive(&mut cmd, input, options).unwrap()
    }

    /// As `cargo xtask run` drives a piped session: no timeout, no settle,
    /// `poweroff` typed at the end of the input.
    fn fake_run(script: &str, commands: &[&str], grace_ms: u64) -> Transcript {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let input = Input::Lines(commands.iter().map(|s| s.to_string()).collect());
        let options = Options {
            timeout: None,
            live: false,
            settle: None,
            type_ahead: false,
            release: None,
            power_off_at_end: Some(Duration::from_millis(grace_ms)),
        };
        drive(&mut cmd, input, options).unwrap()
    }

    #[test]
    fn powers_off_when_the_input_ends() {
        // `printf 'echo a\n' | cargo xtask run`: poweroff is typed for the
        // user, and the kernel's status is the session's.
        let t = fake_run(FAKE_KERNEL, &["echo a"], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(0)));
        assert_eq!(t.output_of("echo a").unwrap(), "out:echo a\n");
        assert_eq!(
            line("reboot: Power down").of("poweroff").evaluate(&t),
            Ok(())
        );
        assert_eq!(t.segments.len(), 2);
        // Empty input: powered off at the first prompt.
        let t = fake_run(FAKE_KERNEL, &[], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(0)));
        assert_eq!(t.segments.len(), 1);
        // The user's own poweroff is not typed twice.
        let t = fake_run(FAKE_KERNEL, &["poweroff"], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(0)));
        assert_eq!(t.segments.len(), 1);
        // A crash ends the session before any poweroff: its status counts.
        let t = fake_run(FAKE_KERNEL, &["panic"], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(3)));
        // A kernel that ignores poweroff is killed after the grace period.
        const DEAF: &str = r#"
            printf '/ # '
            while IFS= read -r l; do printf '%s\r\n/ # ' "$l"; done
            sleep 30
        "#;
        let t = fake_run(DEAF, &["x"], 300);
        assert!(
            matches!(t.outcome, Outcome::StuckAtPrompt(_)),
            "{:?}",
            t.outcome
        );
        assert_eq!(t.segments.len(), 2);
    }

    #[test]
    fn types_ahead_before_the_first_prompt() {
        // A "kernel" that reads all its input before it prints anything:
        // with a patient typist it would wait for ever.
        const EAGER: &str = r#"
            IFS= read -r a; IFS= read -r b
            printf '[    0.000000] booting\r\n/ # %s\r\ngot:%s\r\n/ # %s\r\n' "$a" "$a" "$b"
            [ "$b" = poweroff ] && exit 0
            exit 9
        "#;
        let t = fake_with(EAGER, &["echo hi", "poweroff"], 10_000, true);
        assert_eq!(t.outcome, Outcome::Exited(Some(0)));
        assert!(t.segments.is_empty());
        assert_eq!(t.boot_text(), "[    0.000000] booting\n");
        assert_eq!(line("got:echo hi").evaluate(&t), Ok(()));
        // Back at the prompt and silent: given up after the settle time.
        let t = fake_with(
            r#"IFS= read -r a; printf '/ # %s\r\n/ # ' "$a"; sleep 30"#,
            &["x"],
            10_000,
            true,
        );
        assert_eq!(
            t.outcome,
            Outcome::StuckAtPrompt(Duration::from_millis(500))
        );
    }

    #[test]
    fn same_output_compares_runs() {
        let log = "/ # m\r\nfree 1\r\n/ # x\r\n/ # m\r\nfree 1\r\n/ # m\r\nfree 2\r\n/ # ";
        let t = transcript(log, &["m", "x", "m", "m"]);
        assert_eq!(t.outputs_of("m"), ["free 1\n", "free 1\n", "free 2\n"]);
        let err = same_output("m").evaluate(&t).unwrap_err();
        assert!(
            err.contains("run 3 of `m` differs from run 1 at line 1: `free 1` then `free 2`"),
            "{err}"
        );
        let t = transcript(log, &["m", "x", "m"]);
        assert_eq!(same_output("m").evaluate(&t), Ok(()));
        let err = same_output("x").evaluate(&t).unwrap_err();
        assert!(err.contains("ran once"), "{err}");
        assert!(same_output("y").evaluate(&t).is_err());
    }

    #[test]
    fn drives_a_prompt_driven_session() {
        let t = fake(&["echo a", "echo b", "poweroff"], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(0)));
        assert_eq!(t.boot_text(), "[    0.000000] booting\n");
        assert_eq!(t.output_of("echo a").unwrap(), "out:echo a\n");
        assert_eq!(t.output_of("echo b").unwrap(), "out:echo b\n");
        assert_eq!(
            line("reboot: Power down").of("poweroff").evaluate(&t),
            Ok(())
        );
        assert!(
            line("reboot: Power down")
                .of("poweroff")
                .raw()
                .evaluate(&t)
                .is_err()
        );
        assert_eq!(t.segments.len(), 3);

        let t = fake(&["panic"], 10_000);
        assert_eq!(t.outcome, Outcome::Exited(Some(3)));
        assert_eq!(regex("^Kernel panic - not syncing: ").evaluate(&t), Ok(()));
    }

    #[test]
    fn gives_up_when_the_last_command_does_not_end_the_session() {
        let started = Instant::now();
        let t = fake(&["echo a"], 10_000);
        assert_eq!(
            t.outcome,
            Outcome::StuckAtPrompt(Duration::from_millis(500))
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(t.output_of("echo a").unwrap(), "out:echo a\n");
    }

    #[test]
    fn times_out_and_kills() {
        let started = Instant::now();
        let t = fake(&["hang", "poweroff"], 300);
        assert!(matches!(t.outcome, Outcome::TimedOut(_)));
        assert!(started.elapsed() < Duration::from_secs(10));
        // "poweroff" was never typed: no prompt came after "hang".
        assert_eq!(t.segments.len(), 1);
    }
}
