//! `cargo xtask map`: the 4 GB virtual address space of the running kernel,
//! drawn as an SVG (and a PNG beside it when `rsvg-convert` or ImageMagick's
//! `convert` is on PATH).
//!
//! 32-bit ARM Linux splits the 4 GB of virtual addresses 3G/1G: user space
//! below `TASK_SIZE`, then the module window (`MODULES_VADDR` =
//! `PAGE_OFFSET - 16 MB`, 0xbf000000), pkmap (the last 2 MB below
//! `PAGE_OFFSET`, highmem kernels only), lowmem (RAM mapped linearly from
//! `PAGE_OFFSET`, 0xc0000000, the kernel image at its start), an 8 MB hole
//! (`VMALLOC_OFFSET`), the vmalloc/ioremap range, fixmap and the vector
//! page. Linux prints these boundaries at boot as `Virtual kernel memory
//! layout:` (`mem_init` in arch/arm/mm/init.c), and Kobold prints the same
//! block. The textbook picture of that split is drawn by hand; this command
//! draws it from what the kernel says:
//!
//! 1. builds the kernel and the initramfs (the sample modules plus each
//!    `--module`), boots it in QEMU and types `insmod` for the samples
//!    [`SAMPLES`] and the given modules, `cat /proc/modules` (each module's
//!    core address and size, as Linux's `m_show` prints them) and
//!    `cat /proc/vmallocinfo` (each vmalloc/ioremap area, guard page
//!    included in its size, as Linux's `s_show` prints it), then `poweroff`;
//! 2. parses the transcript into a [`Map`]: the layout block, the modules
//!    and the areas. No boundary is a constant of this file: user space ends
//!    where the log's module window starts, holes are whatever lies between
//!    two printed regions;
//! 3. draws it to a readable, not linear, scale ([`height`]: a region's
//!    height grows with log2 of its size, from a minimum), with the start
//!    and end address and the size of every region, and each module, guard
//!    page, kernel section and vmalloc area inside its region;
//! 4. checks the SVG it wrote against the transcript
//!    ([`check_against_log`]): every region, section, module and area of the
//!    log is a rectangle with exactly its boundaries, every rectangle's
//!    boundaries come from the log, and the rectangles stack in address
//!    order. `cargo xtask test` runs the whole command as its `map` test.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use kobold_layout::PAGE_SIZE;
use regex::Regex;

use crate::build::{self, rel};
use crate::config::{Build, Console, DEFAULT_APPEND, Qemu};
use crate::harness::{self, Input, Outcome};
use crate::{KernelArgs, process, setup};

/// Sample modules loaded before the map is read (unless `--no-samples`):
/// a small one and one with a 64 KB table, so the window shows two modules
/// of different sizes, each followed by its guard page.
pub const SAMPLES: &[&str] = &["hello", "bigmod"];
/// Where the picture goes unless `-o` says otherwise.
pub const DEFAULT_OUTPUT: &str = "target/kobold/map.svg";
/// The end of the 32-bit address space (exclusive).
pub const TOP: u64 = 1 << 32;
/// How long one map session may take (boot, a few commands, poweroff).
pub const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Args)]
pub struct MapArgs {
    /// RAM size in MiB, 64 to 1024 (above ~760 MB the rest is highmem).
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub mem: u32,

    /// Also load this module (put into the initramfs, then insmod; repeatable).
    #[arg(long, value_name = "FILE.ko")]
    pub module: Vec<PathBuf>,

    /// Do not load the sample modules (hello, bigmod).
    #[arg(long)]
    pub no_samples: bool,

    /// The kernel command line (e.g. `console=ttyAMA0 vmalloc=400M`).
    #[arg(long, value_name = "ARGS", default_value = DEFAULT_APPEND)]
    pub append: String,

    /// The SVG to write (default target/kobold/map.svg); a PNG goes beside it.
    #[arg(short = 'o', long = "output", value_name = "FILE.svg")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub kernel: KernelArgs,
}

// ---------------------------------------------------------------------------
// The model: what the kernel printed
// ---------------------------------------------------------------------------

/// One named address range `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub name: String,
    pub start: u64,
    pub end: u64,
}

impl Range {
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// The `Virtual kernel memory layout:` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootLayout {
    /// vector, fixmap, vmalloc, lowmem, pkmap (highmem only), modules: in
    /// the order printed.
    pub regions: Vec<Range>,
    /// The kernel image's `.text`, `.init`, `.data`, `.bss`.
    pub sections: Vec<Range>,
}

impl BootLayout {
    pub fn region(&self, name: &str) -> Option<&Range> {
        self.regions.iter().find(|r| r.name == name)
    }
}

/// One line of `/proc/modules`: the module's core region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedModule {
    pub name: String,
    pub addr: u64,
    pub size: u64,
}

/// One line of `/proc/vmallocinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmArea {
    pub start: u64,
    /// Exclusive; the guard page is included, as in Linux.
    pub end: u64,
    /// `func+off/len` of the caller.
    pub caller: String,
    /// Mapped pages (`pages=N`), when printed.
    pub pages: Option<u64>,
    /// `phys=ADDR` of an ioremap, when printed.
    pub phys: Option<u64>,
    /// The flags printed at the end: `vmalloc`, `ioremap`, `vmap`, ...
    pub kind: String,
}

/// Everything the picture is drawn from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    pub layout: BootLayout,
    pub modules: Vec<LoadedModule>,
    pub areas: Vec<VmArea>,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// Parses the layout block of a boot log (printk times allowed).
pub fn parse_layout(log: &str) -> Result<BootLayout> {
    let re = Regex::new(r"^\s*(\S+)\s*:\s*0x([0-9a-fA-F]+)\s*-\s*0x([0-9a-fA-F]+)\s*\(")
        .expect("static regex");
    let mut lines = log.lines().map(harness::strip_printk_time);
    lines
        .by_ref()
        .find(|l| l.trim() == "Virtual kernel memory layout:")
        .context("the boot log has no `Virtual kernel memory layout:` block")?;
    let mut layout = BootLayout {
        regions: Vec::new(),
        sections: Vec::new(),
    };
    for line in lines {
        let Some(c) = re.captures(line) else { break };
        let (Some(start), Some(end)) = (hex(&c[2]), hex(&c[3])) else {
            break;
        };
        if end < start {
            bail!("layout line `{}`: the end is below the start", line.trim());
        }
        let range = Range {
            name: c[1].to_string(),
            start,
            end,
        };
        if range.name.starts_with('.') {
            layout.sections.push(range);
        } else {
            layout.regions.push(range);
        }
    }
    for needed in ["modules", "lowmem", "vmalloc"] {
        if layout.region(needed).is_none() {
            bail!("the layout block has no `{needed}` line");
        }
    }
    Ok(layout)
}

/// Parses `/proc/modules` (`name size refs deps state addr [taint]`).
pub fn parse_modules(text: &str) -> Result<Vec<LoadedModule>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = (|| {
            let name = f.first()?.to_string();
            let size = f.get(1)?.parse().ok()?;
            let addr = hex(f.get(5)?.strip_prefix("0x")?)?;
            Some(LoadedModule { name, addr, size })
        })();
        out.push(parsed.with_context(|| format!("not a /proc/modules line: `{line}`"))?);
    }
    Ok(out)
}

/// Parses `/proc/vmallocinfo` (`start-end size caller [pages=N] [phys=A] flags`).
pub fn parse_vmallocinfo(text: &str) -> Result<Vec<VmArea>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = (|| {
            let (s, e) = f.first()?.split_once('-')?;
            let (start, end) = (hex(s)?, hex(e)?);
            if end < start {
                return None;
            }
            let mut area = VmArea {
                start,
                end,
                caller: f.get(2)?.to_string(),
                pages: None,
                phys: None,
                kind: String::new(),
            };
            for word in f.get(3..)? {
                if let Some(n) = word.strip_prefix("pages=") {
                    area.pages = Some(n.parse().ok()?);
                } else if let Some(p) = word.strip_prefix("phys=") {
                    area.phys = Some(hex(p)?);
                } else {
                    if !area.kind.is_empty() {
                        area.kind.push(' ');
                    }
                    area.kind.push_str(word);
                }
            }
            Some(area)
        })();
        out.push(parsed.with_context(|| format!("not a /proc/vmallocinfo line: `{line}`"))?);
    }
    Ok(out)
}

/// The output of `command` typed at the shell prompt in a console log: the
/// lines after `/ # command` up to the next prompt.
pub fn command_output(log: &str, command: &str) -> Option<String> {
    let echo = format!("{}{command}", harness::PROMPT);
    let mut lines = log.lines();
    lines.by_ref().find(|l| l.trim_end() == echo)?;
    let mut out = String::new();
    for l in lines.take_while(|l| !l.starts_with(harness::PROMPT)) {
        out.push_str(l);
        out.push('\n');
    }
    Some(out)
}

impl Map {
    /// The map of a console log: the boot log's layout block and the output
    /// of `cat /proc/modules` and `cat /proc/vmallocinfo`.
    pub fn from_log(log: &str) -> Result<Map> {
        let layout = parse_layout(log)?;
        let modules = command_output(log, "cat /proc/modules")
            .context("the log has no `cat /proc/modules`")?;
        let areas = command_output(log, "cat /proc/vmallocinfo")
            .context("the log has no `cat /proc/vmallocinfo`")?;
        Ok(Map {
            layout,
            modules: parse_modules(&modules)?,
            areas: parse_vmallocinfo(&areas)?,
        })
    }
}

// ---------------------------------------------------------------------------
// Bands: the picture's rectangles, in address order
// ---------------------------------------------------------------------------

/// What a rectangle is (the SVG's `data-kind`, and its colour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A region of the layout block.
    Region,
    /// Below the module window.
    User,
    /// Between two regions: nothing is mapped there.
    Hole,
    /// A kernel image section inside lowmem.
    Section,
    /// A module's core region (from /proc/modules).
    Module,
    /// The unmapped page at the end of a vmalloc area.
    Guard,
    /// A vmalloc/ioremap area (its mapped part when pages= says it).
    Area,
    /// Unused space inside a region.
    Free,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Region => "region",
            Kind::User => "user",
            Kind::Hole => "hole",
            Kind::Section => "section",
            Kind::Module => "module",
            Kind::Guard => "guard",
            Kind::Area => "area",
            Kind::Free => "free",
        }
    }
}

/// One rectangle: `[start, end)`, labelled, maybe with rectangles inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub kind: Kind,
    pub name: String,
    /// A short explanation drawn under the name.
    pub note: String,
    pub start: u64,
    pub end: u64,
    pub children: Vec<Band>,
}

impl Band {
    fn new(kind: Kind, name: impl Into<String>, start: u64, end: u64) -> Band {
        Band {
            kind,
            name: name.into(),
            note: String::new(),
            start,
            end,
            children: Vec::new(),
        }
    }

    fn with_note(mut self, note: impl Into<String>) -> Band {
        self.note = note.into();
        self
    }
}

/// What each layout region is for (words, not boundaries).
fn region_note(name: &str) -> &'static str {
    match name {
        "vector" => "exception vectors (high vectors)",
        "fixmap" => "fixed mappings: kmap_atomic, early I/O",
        "vmalloc" => "vmalloc(), ioremap(): virtually contiguous",
        "lowmem" => "RAM mapped linearly from PAGE_OFFSET",
        "pkmap" => "kmap() of highmem pages",
        "modules" => "module window: .ko core regions",
        _ => "",
    }
}

/// Fills `[start, end)` with `items` (sorted, clamped to the range,
/// overlaps dropped) and `gap` bands between them.
fn tile(start: u64, end: u64, mut items: Vec<Band>, gap: &dyn Fn(u64, u64) -> Band) -> Vec<Band> {
    items.sort_by_key(|b| (b.start, b.end));
    let mut out = Vec::new();
    let mut at = start;
    for mut b in items {
        b.start = b.start.max(at);
        b.end = b.end.min(end);
        if b.start >= b.end {
            continue;
        }
        if b.start > at {
            out.push(gap(at, b.start));
        }
        at = b.end;
        out.push(b);
    }
    if at < end {
        out.push(gap(at, end));
    }
    out
}

/// The short name of a caller: `a::b::uart::init+0x0/0x44` gives `uart::init`.
fn short_caller(caller: &str) -> String {
    let func = caller.split('+').next().unwrap_or(caller);
    let parts: Vec<&str> = func.split("::").collect();
    parts[parts.len().saturating_sub(2)..].join("::")
}

/// A vmalloc area as bands: the mapped part and the guard page after it
/// (when `pages=` tells the mapped size), or one band.
fn area_bands(a: &VmArea) -> Vec<Band> {
    let mut name = format!("{} {}", a.kind, short_caller(&a.caller));
    if let Some(p) = a.phys {
        let _ = write!(name, " phys {p:#x}");
    }
    let mapped = a
        .pages
        .and_then(|p| p.checked_mul(PAGE_SIZE as u64))
        .and_then(|m| a.start.checked_add(m))
        .filter(|&e| e <= a.end);
    match mapped {
        Some(e) if e < a.end && e > a.start => vec![
            Band::new(Kind::Area, name, a.start, e).with_note(a.caller.clone()),
            Band::new(Kind::Guard, "guard page", e, a.end),
        ],
        _ => vec![
            Band::new(
                Kind::Area,
                format!("{name}, incl. guard page"),
                a.start,
                a.end,
            )
            .with_note(a.caller.clone()),
        ],
    }
}

impl Map {
    /// The top-level bands covering `[0, 4 GB)`, highest address first
    /// (as the picture reads, top down).
    pub fn bands(&self) -> Result<Vec<Band>> {
        let modules = self
            .layout
            .region("modules")
            .context("the layout has no module window")?;
        let mut top = vec![
            Band::new(Kind::User, "user space", 0, modules.start)
                .with_note("ends at TASK_SIZE; Kobold runs no processes"),
        ];
        for r in &self.layout.regions {
            let mut band = Band::new(Kind::Region, r.name.clone(), r.start, r.end)
                .with_note(region_note(&r.name));
            band.children = self.children(r);
            top.push(band);
        }
        top.sort_by_key(|b| (b.start, b.end));
        for pair in top.windows(2) {
            if pair[1].start < pair[0].end {
                bail!(
                    "the layout's regions overlap: {} ({:#x}-{:#x}) and {} ({:#x}-{:#x})",
                    pair[0].name,
                    pair[0].start,
                    pair[0].end,
                    pair[1].name,
                    pair[1].start,
                    pair[1].end
                );
            }
        }
        if top.last().is_some_and(|b| b.end > TOP) {
            bail!("a region ends above 4 GB");
        }
        let vmalloc_start = self.layout.region("vmalloc").map(|r| r.start);
        let hole = |s: u64, e: u64| {
            let b = Band::new(Kind::Hole, "unused", s, e);
            if Some(e) == vmalloc_start {
                b.with_note("VMALLOC_OFFSET: catches overruns off the end of lowmem")
            } else {
                b
            }
        };
        let mut bands = tile(0, TOP, top, &hole);
        bands.reverse();
        Ok(bands)
    }

    /// The bands inside one layout region, lowest address first.
    fn children(&self, r: &Range) -> Vec<Band> {
        let inside = |s: u64, e: u64| s >= r.start && e <= r.end && s < e;
        let mut items = Vec::new();
        match r.name.as_str() {
            "lowmem" => {
                for s in self
                    .layout
                    .sections
                    .iter()
                    .filter(|s| inside(s.start, s.end))
                {
                    items.push(Band::new(Kind::Section, s.name.clone(), s.start, s.end));
                }
                if items.is_empty() {
                    return Vec::new();
                }
                return tile(r.start, r.end, items, &|s, e| {
                    Band::new(Kind::Free, "RAM", s, e)
                });
            }
            "modules" => {
                for m in &self.modules {
                    let end = m.addr.saturating_add(m.size);
                    if !inside(m.addr, end) {
                        continue;
                    }
                    items.push(Band::new(Kind::Module, m.name.clone(), m.addr, end));
                    if let Some(a) = self.areas.iter().find(|a| a.start == m.addr && a.end > end) {
                        items.push(Band::new(Kind::Guard, "guard page", end, a.end));
                    }
                }
                for a in &self.areas {
                    let taken = self.modules.iter().any(|m| m.addr == a.start);
                    if inside(a.start, a.end) && !taken {
                        items.extend(area_bands(a));
                    }
                }
            }
            _ => {
                for a in self.areas.iter().filter(|a| inside(a.start, a.end)) {
                    items.extend(area_bands(a));
                }
            }
        }
        if items.is_empty() {
            return Vec::new();
        }
        tile(r.start, r.end, items, &|s, e| {
            Band::new(Kind::Free, "free", s, e)
        })
    }
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

/// Smallest height of a top-level region, px (name and size fit).
pub const REGION_MIN: f64 = 38.0;
/// Smallest height of a band inside a region, px (one line of text).
pub const CHILD_MIN: f64 = 20.0;
/// px per doubling of the size above one page.
pub const PX_PER_DOUBLING: f64 = 6.0;

/// A band's height: `min` for a page or less, growing with log2 of the
/// size. Readable, not linear: 4 KB and 3 GB differ by ~120 px, not 10^6.
pub fn height(size: u64, min: f64) -> f64 {
    let pages = (size as f64 / PAGE_SIZE as f64).max(1.0);
    (min + PX_PER_DOUBLING * pages.log2()).round()
}

/// An address as the kernel prints it; the end of the address space as
/// `0x100000000`.
pub fn fmt_addr(a: u64) -> String {
    format!("{a:#010x}")
}

/// A size as a person reads it: `4 kB`, `14 MB`, `759.5 MB`, `2.98 GB`.
pub fn fmt_size(n: u64) -> String {
    const K: u64 = 1024;
    // Two decimals, truncated (239.98 MB is not 240 MB), zeros dropped.
    let num = |v: f64| {
        let s = format!("{:.2}", (v * 100.0).floor() / 100.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if n < K {
        format!("{n} B")
    } else if n < K * K {
        format!("{} kB", num(n as f64 / K as f64))
    } else if n < K * K * K {
        format!("{} MB", num(n as f64 / (K * K) as f64))
    } else {
        format!("{} GB", num(n as f64 / (K * K * K) as f64))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fill(kind: Kind, name: &str) -> &'static str {
    match (kind, name) {
        (Kind::User, _) => "#e8e8e8",
        (Kind::Hole, _) => "#ffffff",
        (Kind::Region, "modules") => "#fde2b8",
        (Kind::Region, "pkmap") => "#f6c9d9",
        (Kind::Region, "lowmem") => "#c9e4f6",
        (Kind::Region, "vmalloc") => "#d4f0c9",
        (Kind::Region, "fixmap") => "#e6d6f5",
        (Kind::Region, "vector") => "#f5e6a8",
        (Kind::Region, _) => "#dddddd",
        (Kind::Section, _) => "#5b9bd5",
        (Kind::Module, _) => "#f0a030",
        (Kind::Guard, _) => "#c0392b",
        (Kind::Area, _) => "#6ab04c",
        (Kind::Free, _) => "#ffffff",
    }
}

/// Geometry of the picture, px.
const ADDR_X: f64 = 130.0;
const MAIN_X: f64 = 140.0;
const MAIN_W: f64 = 270.0;
const CHILD_X: f64 = MAIN_X + MAIN_W;
const CHILD_W: f64 = 110.0;
const LABEL_X: f64 = CHILD_X + CHILD_W + 12.0;
const NAME_X: f64 = LABEL_X + 250.0;
const WIDTH: f64 = 1260.0;
const TOP_Y: f64 = 70.0;

fn rect(svg: &mut String, b: &Band, x: f64, y: f64, w: f64, h: f64, stroke: &str) {
    let _ = writeln!(
        svg,
        r#"<rect data-kind="{}" data-name="{}" data-start="{}" data-end="{}" x="{x}" y="{y}" width="{w}" height="{h}" fill="{}" stroke="{stroke}"><title>{} {} - {} ({})</title></rect>"#,
        b.kind.name(),
        escape(&b.name),
        fmt_addr(b.start),
        fmt_addr(b.end),
        fill(b.kind, &b.name),
        escape(&b.name),
        fmt_addr(b.start),
        fmt_addr(b.end),
        fmt_size(b.end - b.start),
    );
}

fn text(svg: &mut String, x: f64, y: f64, class: &str, s: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{x}" y="{y}" class="{class}">{}</text>"#,
        escape(s)
    );
}

/// The SVG of `map` (hand-written: rectangles and text), titled `title`.
pub fn render(map: &Map, title: &str) -> Result<String> {
    let bands = map.bands()?;
    // Heights first: a region with bands inside is as tall as they are.
    let heights: Vec<(f64, Vec<f64>)> = bands
        .iter()
        .map(|b| {
            let own = height(b.end - b.start, REGION_MIN);
            let mut kids: Vec<f64> = b
                .children
                .iter()
                .map(|c| height(c.end - c.start, CHILD_MIN))
                .collect();
            let sum: f64 = kids.iter().sum();
            if sum < own {
                // Give the spare height to the largest band inside.
                if let Some(i) =
                    (0..kids.len()).max_by_key(|&i| b.children[i].end - b.children[i].start)
                {
                    kids[i] += own - sum;
                }
            }
            (own.max(sum), kids)
        })
        .collect();
    let total: f64 = heights.iter().map(|(h, _)| h).sum();
    let height_px = TOP_Y + total + 60.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height_px}" viewBox="0 0 {WIDTH} {height_px}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
    );
    svg.push_str(
        "<style>\n\
         .title{font-size:17px;font-weight:bold}\n\
         .sub{font-size:11px;fill:#555}\n\
         .addr{font-size:11px;font-family:DejaVu Sans Mono,monospace;text-anchor:end}\n\
         .name{font-size:14px;font-weight:bold}\n\
         .size{font-size:11px;font-family:DejaVu Sans Mono,monospace}\n\
         .note{font-size:10px;fill:#444;font-style:italic}\n\
         .kid{font-size:11px;font-family:DejaVu Sans Mono,monospace}\n\
         .kidname{font-size:11px;font-weight:bold}\n\
         </style>\n",
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{height_px}" fill="white"/>"#
    );
    text(&mut svg, 20.0, 26.0, "title", title);
    text(
        &mut svg,
        20.0,
        44.0,
        "sub",
        "Not to scale: a region's height grows with log2 of its size. Every address below was printed by the running kernel",
    );
    text(
        &mut svg,
        20.0,
        58.0,
        "sub",
        "(boot log's Virtual kernel memory layout, /proc/modules, /proc/vmallocinfo). Ends are exclusive, as Linux prints them.",
    );
    let mut y = TOP_Y;
    let _ = writeln!(
        svg,
        r#"<text x="{ADDR_X}" y="{}" class="addr">{}</text>"#,
        y + 4.0,
        fmt_addr(TOP)
    );
    for (b, (h, kids)) in bands.iter().zip(&heights) {
        let h = *h;
        rect(&mut svg, b, MAIN_X, y, MAIN_W, h, "#333");
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{y}" x2="{MAIN_X}" y2="{y}" stroke="#333"/>"##,
            ADDR_X + 3.0
        );
        let name_y = y + 16.0;
        text(&mut svg, MAIN_X + 8.0, name_y, "name", &b.name);
        let size = fmt_size(b.end - b.start);
        if h >= 50.0 || b.note.is_empty() {
            text(
                &mut svg,
                MAIN_X + 8.0,
                name_y + 14.0,
                "size",
                &format!("{size}  {} - {}", fmt_addr(b.start), fmt_addr(b.end)),
            );
            if !b.note.is_empty() {
                text(&mut svg, MAIN_X + 8.0, name_y + 27.0, "note", &b.note);
            }
        } else {
            text(&mut svg, MAIN_X + 8.0, name_y + 14.0, "size", &size);
        }
        // Children, lowest address at the bottom.
        let mut cy = y + h;
        for (c, ch) in b.children.iter().zip(kids) {
            cy -= ch;
            rect(&mut svg, c, CHILD_X, cy, CHILD_W, *ch, "#555");
            let mid = cy + ch / 2.0 + 4.0;
            let label = format!(
                "{} - {}  {}",
                fmt_addr(c.start),
                fmt_addr(c.end),
                fmt_size(c.end - c.start)
            );
            text(&mut svg, LABEL_X, mid, "kid", &label);
            text(&mut svg, NAME_X, mid, "kidname", &c.name);
            let _ = writeln!(
                svg,
                r##"<line x1="{}" y1="{cy}" x2="{}" y2="{cy}" stroke="#ccc"/>"##,
                CHILD_X + CHILD_W,
                WIDTH - 20.0
            );
        }
        y += h;
        let _ = writeln!(
            svg,
            r#"<text x="{ADDR_X}" y="{}" class="addr">{}</text>"#,
            y + 4.0,
            fmt_addr(b.start)
        );
    }
    // The legend: colours of the bands inside regions (no data-kind: not
    // address rectangles).
    let ly = y + 30.0;
    let mut lx = MAIN_X;
    for (kind, label) in [
        (Kind::Module, "module core (/proc/modules)"),
        (Kind::Guard, "guard page"),
        (Kind::Area, "vmalloc/ioremap area"),
        (Kind::Section, "kernel image section"),
        (Kind::Free, "free / RAM"),
    ] {
        let _ = writeln!(
            svg,
            r##"<rect x="{lx}" y="{}" width="14" height="14" fill="{}" stroke="#555"/>"##,
            ly - 11.0,
            fill(kind, "")
        );
        text(&mut svg, lx + 20.0, ly, "kid", label);
        lx += 40.0 + 7.0 * label.len() as f64;
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

// ---------------------------------------------------------------------------
// Checking the picture against the log
// ---------------------------------------------------------------------------

/// One rectangle read back from an SVG.
#[derive(Clone, Debug, PartialEq)]
pub struct SvgRect {
    pub kind: String,
    pub name: String,
    pub start: u64,
    pub end: u64,
    pub x: f64,
    pub y: f64,
    pub height: f64,
}

/// The address rectangles of an SVG written by [`render`].
pub fn svg_rects(svg: &str) -> Result<Vec<SvgRect>, String> {
    let re = Regex::new(
        r#"<rect data-kind="(\w+)" data-name="([^"]*)" data-start="0x([0-9a-f]+)" data-end="0x([0-9a-f]+)" x="([0-9.]+)" y="([0-9.]+)" width="[0-9.]+" height="([0-9.]+)""#,
    )
    .expect("static regex");
    re.captures_iter(svg)
        .map(|c| {
            let num = |i: usize| c[i].parse::<f64>().map_err(|e| format!("{}: {e}", &c[0]));
            Ok(SvgRect {
                kind: c[1].to_string(),
                name: c[2]
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\""),
                start: hex(&c[3]).ok_or("bad start")?,
                end: hex(&c[4]).ok_or("bad end")?,
                x: num(5)?,
                y: num(6)?,
                height: num(7)?,
            })
        })
        .collect()
}

/// Checks an SVG of [`render`] against the console log it was drawn from:
/// every layout region, kernel section, module and vmalloc area of the log
/// is drawn with exactly its boundaries; every boundary drawn is one the
/// log printed (or 0 and 4 GB); the top-level rectangles tile 0..4 GB and
/// stack in address order (higher addresses higher up, no gaps, no
/// overlaps); and each band inside a region lies within it, in order.
pub fn check_against_log(svg: &str, log: &str) -> Result<(), String> {
    let map = Map::from_log(log).map_err(|e| format!("reading the log: {e:#}"))?;
    let rects = svg_rects(svg)?;
    if rects.is_empty() {
        return Err("the SVG has no address rectangles".into());
    }
    let drawn = |kind: &str, name: &str, start: u64, end: u64| {
        rects
            .iter()
            .any(|r| r.kind == kind && r.name == name && r.start == start && r.end == end)
    };
    let mut errors = Vec::new();
    let mut known = vec![0, TOP];
    for r in &map.layout.regions {
        known.extend([r.start, r.end]);
        if !drawn("region", &r.name, r.start, r.end) {
            errors.push(format!(
                "region {} {:#x}-{:#x} is not drawn",
                r.name, r.start, r.end
            ));
        }
    }
    for s in &map.layout.sections {
        known.extend([s.start, s.end]);
        if !drawn("section", &s.name, s.start, s.end) {
            errors.push(format!(
                "section {} {:#x}-{:#x} is not drawn",
                s.name, s.start, s.end
            ));
        }
    }
    for m in &map.modules {
        known.extend([m.addr, m.addr + m.size]);
        if !drawn("module", &m.name, m.addr, m.addr + m.size) {
            errors.push(format!(
                "module {} at {:#x} ({} bytes) is not drawn",
                m.name, m.addr, m.size
            ));
        }
    }
    for a in &map.areas {
        known.extend([a.start, a.end]);
        if let Some(p) = a.pages {
            known.push(a.start + p * PAGE_SIZE as u64);
        }
        // The area is a run of adjacent rectangles from its start to its end.
        let mut at = a.start;
        while at < a.end {
            let Some(r) = rects.iter().find(|r| {
                r.start == at
                    && r.end <= a.end
                    && matches!(r.kind.as_str(), "module" | "guard" | "area")
            }) else {
                break;
            };
            at = r.end;
        }
        if at != a.end {
            errors.push(format!(
                "vmalloc area {:#x}-{:#x} is not drawn",
                a.start, a.end
            ));
        }
    }
    for r in &rects {
        for edge in [r.start, r.end] {
            if !known.contains(&edge) {
                errors.push(format!(
                    "{} {} has boundary {edge:#x}, which the log never printed",
                    r.kind, r.name
                ));
            }
        }
    }
    // Top-level rectangles: the ones in the main column.
    let mut top: Vec<&SvgRect> = rects.iter().filter(|r| r.x == MAIN_X).collect();
    top.sort_by_key(|r| r.start);
    if top.first().map(|r| r.start) != Some(0) || top.last().map(|r| r.end) != Some(TOP) {
        errors.push("the regions do not cover 0 to 4 GB".into());
    }
    for w in top.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        if lo.end != hi.start {
            errors.push(format!(
                "{} and {} do not meet ({:#x} vs {:#x})",
                lo.name, hi.name, lo.end, hi.start
            ));
        }
        if (hi.y + hi.height - lo.y).abs() > 0.01 {
            errors.push(format!("{} is not drawn right above {}", hi.name, lo.name));
        }
    }
    for inner in rects.iter().filter(|r| r.x != MAIN_X) {
        let Some(parent) = top
            .iter()
            .find(|p| p.start <= inner.start && inner.end <= p.end)
        else {
            errors.push(format!("{} {} lies in no region", inner.kind, inner.name));
            continue;
        };
        if inner.y < parent.y - 0.01 || inner.y + inner.height > parent.y + parent.height + 0.01 {
            errors.push(format!(
                "{} {} is drawn outside {}",
                inner.kind, inner.name, parent.name
            ));
        }
    }
    let mut inner: Vec<&SvgRect> = rects.iter().filter(|r| r.x != MAIN_X).collect();
    inner.sort_by_key(|r| r.start);
    for w in inner.windows(2) {
        if w[0].end > w[1].start {
            errors.push(format!("{} and {} overlap", w[0].name, w[1].name));
        } else if w[1].y + w[1].height > w[0].y + 0.01 {
            errors.push(format!("{} is not drawn above {}", w[1].name, w[0].name));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

/// The commands typed at the prompt: one `insmod` per module, then the two
/// files the map is read from. `poweroff` ends the session.
pub fn commands(modules: &[String]) -> Vec<String> {
    let mut cmds: Vec<String> = modules
        .iter()
        .map(|m| format!("insmod /lib/modules/{m}"))
        .collect();
    cmds.push("cat /proc/modules".into());
    cmds.push("cat /proc/vmallocinfo".into());
    cmds.push(harness::POWEROFF.into());
    cmds
}

/// The module files to load: the samples (unless `no_samples`) and each
/// extra module's file name, once each.
pub fn module_files(no_samples: bool, extra: &[PathBuf]) -> Result<Vec<String>> {
    let mut files: Vec<String> = if no_samples {
        Vec::new()
    } else {
        SAMPLES.iter().map(|s| format!("{s}.ko")).collect()
    };
    for m in extra {
        let file = m
            .file_name()
            .and_then(|f| f.to_str())
            .with_context(|| format!("--module {}: the file name is not UTF-8", m.display()))?;
        if !files.iter().any(|f| f == file) {
            files.push(file.to_string());
        }
    }
    Ok(files)
}

/// Boots `qemu`, loads `files`, reads the two /proc files and powers off;
/// returns the console log.
pub fn session(qemu: &Qemu, files: &[String]) -> Result<String> {
    let mut cmd = qemu.command();
    let transcript = harness::drive(
        &mut cmd,
        Input::Lines(commands(files)),
        harness::Options {
            timeout: Some(TIMEOUT),
            live: false,
            settle: Some(Duration::from_secs(5)),
            type_ahead: false,
            release: None,
            power_off_at_end: None,
        },
    )?;
    let log = transcript.text();
    if transcript.outcome != Outcome::Exited(Some(0)) {
        let tail = transcript.tail(30).join("\n");
        bail!(
            "QEMU did not power off cleanly ({}):\n{tail}",
            transcript.outcome
        );
    }
    for file in files {
        let out = transcript
            .output_of(&format!("insmod /lib/modules/{file}"))
            .unwrap_or_default();
        if let Some(err) = out.lines().find(|l| l.starts_with("insmod:")) {
            process::note(format!("{file} is not on the map: {err}"));
        }
    }
    Ok(log)
}

/// Converts the SVG to a PNG beside it with the first converter on PATH;
/// returns the PNG's path, or `None` when there is no converter (or it
/// failed: the SVG is the result, the PNG a convenience).
pub fn write_png(svg: &Path) -> Option<PathBuf> {
    let png = svg.with_extension("png");
    let mut cmd = if process::find_in_path("rsvg-convert").is_some() {
        let mut c = std::process::Command::new("rsvg-convert");
        c.arg("-o").arg(&png).arg(svg);
        c
    } else if process::find_in_path("convert").is_some() {
        let mut c = std::process::Command::new("convert");
        c.arg(svg).arg(&png);
        c
    } else {
        return None;
    };
    let ok = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        process::note(format!("no PNG: `{}` failed", process::describe(&cmd)));
    }
    (ok && png.is_file()).then_some(png)
}

/// Draws the map of one console log into `out` (and a PNG beside it),
/// after checking the picture against the log.
pub fn draw(log: &str, title: &str, out: &Path) -> Result<Map> {
    let map = Map::from_log(log)?;
    let svg = render(&map, title)?;
    if let Err(e) = check_against_log(&svg, log) {
        bail!("the picture does not match the kernel's output:\n{e}");
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, &svg).with_context(|| format!("writing {}", out.display()))?;
    Ok(map)
}

/// The picture's title: the board, the RAM and the kernel variant.
pub fn title(mem: u32, kernel: KernelArgs, append: &str) -> String {
    format!(
        "Kobold's 4 GB virtual address space: vexpress-a9, -m {mem}, {} kernel, \"{append}\"",
        if kernel.no_highmem {
            "no-HIGHMEM"
        } else {
            "HIGHMEM"
        }
    )
}

/// `cargo xtask map`.
pub fn map(root: &Path, args: &MapArgs) -> Result<u8> {
    crate::run::check_mem(args.mem)?;
    setup::ensure_rust_target()?;
    setup::ensure_qemu()?;
    let artifacts = build::build(root, Build::from(args.kernel))?;
    let initrd = crate::modules::build_initrd(root, &args.module)?;
    let files = module_files(args.no_samples, &args.module)?;
    let qemu = Qemu {
        mem_mb: args.mem,
        kernel: artifacts.uimage.clone(),
        append: Some(args.append.clone()),
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: Some(initrd),
        paused_qmp: None,
    };
    process::step(format!(
        "booting {} with {} MB, loading {}",
        rel(root, &artifacts.uimage),
        args.mem,
        if files.is_empty() {
            "no modules".to_string()
        } else {
            files.join(", ")
        }
    ));
    let log = session(&qemu, &files)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| root.join(DEFAULT_OUTPUT));
    let map = draw(&log, &title(args.mem, args.kernel, &args.append), &out)?;
    process::step(format!(
        "map: {} regions, {} modules, {} vmalloc areas; checked against the boot log",
        map.layout.regions.len(),
        map.modules.len(),
        map.areas.len()
    ));
    println!("{}", out.display());
    if let Some(png) = write_png(&out) {
        println!("{}", png.display());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask map --mem 1024` as the highmem kernel printed it.
    const LOG_1024: &str = "\
[    0.049111] Memory: 1044612K/1048576K available (464K kernel code, 0K rwdata, 161K rodata, 8K init, 113K bss, 3900K reserved, 270336K highmem)
[    0.049689] Virtual kernel memory layout:
[    0.049779]     vector  : 0xffff0000 - 0xffff1000   (   4 kB)
[    0.050066]     fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)
[    0.050188]     vmalloc : 0xf0000000 - 0xff000000   ( 240 MB)
[    0.050287]     lowmem  : 0xc0000000 - 0xef800000   ( 760 MB)
[    0.050364]     pkmap   : 0xbfe00000 - 0xc0000000   (   2 MB)
[    0.050439]     modules : 0xbf000000 - 0xbfe00000   (  14 MB)
[    0.050512]       .text : 0xc0008000 - 0xc007c548   ( 466 kB)
[    0.050652]       .init : 0xc007d000 - 0xc007f000   (   8 kB)
[    0.050733]       .data : 0xc007f000 - 0xc007f110   (   1 kB)
[    0.050810]        .bss : 0xc007f400 - 0xc009bad8   ( 114 kB)
[    0.061119] Unpacking initramfs... 14 files
/ # insmod /lib/modules/hello.ko
[    0.080034] Hello, world! (1 of 1)
/ # insmod /lib/modules/bigmod.ko
[    0.086476] bigmod: table bf005058 (65536 bytes), data bf016000, bss bf01e000, checksum 98c9e000, 0 bad
/ # cat /proc/modules
bigmod 122880 0 - Live 0xbf004000 (O)
hello 12288 0 - Live 0xbf000000 (O)
/ # cat /proc/vmallocinfo
0xbf000000-0xbf004000   16384 kernel::module::exports::module_alloc+0x0/0x3c pages=3 vmalloc
0xbf004000-0xbf023000  126976 kernel::module::exports::module_alloc+0x0/0x3c pages=30 vmalloc
0xf0000000-0xf0002000    8192 kernel::board::vexpress_a9::uart::init+0x0/0x44 phys=10009000 ioremap
0xf0002000-0xf0004000    8192 kernel::board::vexpress_a9::sysregs::counter_24mhz+0x0/0x1c phys=10000000 ioremap
/ # poweroff
[    0.104032] reboot: Power down
";

    /// The no-highmem kernel at -m 256: no pkmap, the module window runs up
    /// to PAGE_OFFSET, vmalloc starts 8 MB above lowmem's end.
    const LOG_256_NOHIGHMEM: &str = "\
[    0.031071] Virtual kernel memory layout:
[    0.031155]     vector  : 0xffff0000 - 0xffff1000   (   4 kB)
[    0.031443]     fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)
[    0.031548]     vmalloc : 0xd0800000 - 0xff000000   ( 744 MB)
[    0.031632]     lowmem  : 0xc0000000 - 0xd0000000   ( 256 MB)
[    0.031712]     modules : 0xbf000000 - 0xc0000000   (  16 MB)
[    0.031775]       .text : 0xc0008000 - 0xc007c548   ( 466 kB)
[    0.031919]       .init : 0xc007d000 - 0xc007f000   (   8 kB)
[    0.031983]       .data : 0xc007f000 - 0xc007f110   (   1 kB)
[    0.032046]        .bss : 0xc007f400 - 0xc009bad8   ( 114 kB)
[    0.041817] Unpacking initramfs... 14 files
/ # insmod /lib/modules/hello.ko
[    0.064486] Hello, world! (1 of 1)
/ # cat /proc/modules
hello 12288 0 - Live 0xbf000000 (O)
/ # cat /proc/vmallocinfo
0xbf000000-0xbf004000   16384 kernel::module::exports::module_alloc+0x0/0x3c pages=3 vmalloc
0xd0800000-0xd0802000    8192 kernel::board::vexpress_a9::uart::init+0x0/0x44 phys=10009000 ioremap
0xd0802000-0xd0804000    8192 kernel::board::vexpress_a9::sysregs::counter_24mhz+0x0/0x1c phys=10000000 ioremap
/ # poweroff
";

    fn range(name: &str, start: u64, end: u64) -> Range {
        Range {
            name: name.into(),
            start,
            end,
        }
    }

    #[test]
    fn layout_block_parsed() {
        let l = parse_layout(LOG_1024).unwrap();
        let names: Vec<&str> = l.regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["vector", "fixmap", "vmalloc", "lowmem", "pkmap", "modules"]
        );
        assert_eq!(
            l.region("vmalloc"),
            Some(&range("vmalloc", 0xf000_0000, 0xff00_0000))
        );
        assert_eq!(l.region("pkmap").unwrap().size(), 2 << 20);
        assert_eq!(l.sections.len(), 4);
        assert_eq!(l.sections[3], range(".bss", 0xc007_f400, 0xc009_bad8));
        let l = parse_layout(LOG_256_NOHIGHMEM).unwrap();
        assert!(l.region("pkmap").is_none());
        assert_eq!(l.region("lowmem").unwrap().end, 0xd000_0000);
    }

    #[test]
    fn proc_files_parsed() {
        let map = Map::from_log(LOG_1024).unwrap();
        assert_eq!(
            map.modules,
            [
                LoadedModule {
                    name: "bigmod".into(),
                    addr: 0xbf00_4000,
                    size: 122_880
                },
                LoadedModule {
                    name: "hello".into(),
                    addr: 0xbf00_0000,
                    size: 12_288
                }
            ]
        );
        assert_eq!(map.areas.len(), 4);
        assert_eq!(map.areas[0].pages, Some(3));
        assert_eq!(map.areas[0].kind, "vmalloc");
        assert_eq!(map.areas[2].phys, Some(0x1000_9000));
        assert_eq!(map.areas[2].kind, "ioremap");
        assert_eq!(
            (map.areas[3].start, map.areas[3].end),
            (0xf000_2000, 0xf000_4000)
        );
        assert_eq!(
            command_output(LOG_1024, "cat /proc/modules")
                .unwrap()
                .lines()
                .count(),
            2
        );
        assert_eq!(command_output(LOG_1024, "lsmod"), None);
    }

    #[test]
    fn bad_input_is_an_error_not_a_picture() {
        assert!(Map::from_log("no layout here\n").is_err());
        assert!(parse_modules("hello 12x 0 - Live 0xbf000000\n").is_err());
        assert!(parse_modules("hello 12288 0 - Live\n").is_err());
        assert!(parse_vmallocinfo("0xbf004000-0xbf000000 1 f vmalloc\n").is_err());
        assert!(parse_vmallocinfo("0xbf000000-0xbf004000 16384 f pages=x vmalloc\n").is_err());
        let no_window = LOG_1024.replace("    modules : ", "    nodules : ");
        let err = format!("{:#}", Map::from_log(&no_window).unwrap_err());
        assert!(err.contains("modules"), "{err}");
        // Overlapping regions cannot be drawn as a stack.
        let overlap = LOG_1024.replace("pkmap   : 0xbfe00000", "pkmap   : 0xbfd00000");
        let err = format!(
            "{:#}",
            Map::from_log(&overlap).unwrap().bands().unwrap_err()
        );
        assert!(err.contains("overlap"), "{err}");
    }

    #[test]
    fn bands_tile_the_address_space_from_the_log() {
        let map = Map::from_log(LOG_1024).unwrap();
        let bands = map.bands().unwrap();
        // Top down: the first band ends at 4 GB, the last starts at 0, and
        // each starts where the one below it ends.
        assert_eq!(bands.first().unwrap().end, TOP);
        assert_eq!(bands.last().unwrap().start, 0);
        for w in bands.windows(2) {
            assert_eq!(w[0].start, w[1].end, "{} / {}", w[0].name, w[1].name);
        }
        let user = bands.last().unwrap();
        assert_eq!((user.kind, user.end), (Kind::User, 0xbf00_0000));
        // The VMALLOC_OFFSET hole is found, not assumed.
        let hole = bands.iter().find(|b| b.end == 0xf000_0000).unwrap();
        assert_eq!((hole.kind, hole.start), (Kind::Hole, 0xef80_0000));
        let window = bands.iter().find(|b| b.name == "modules").unwrap();
        let kids: Vec<(Kind, &str, u64, u64)> = window
            .children
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.start, c.end))
            .collect();
        assert_eq!(
            kids,
            [
                (Kind::Module, "hello", 0xbf00_0000, 0xbf00_3000),
                (Kind::Guard, "guard page", 0xbf00_3000, 0xbf00_4000),
                (Kind::Module, "bigmod", 0xbf00_4000, 0xbf02_2000),
                (Kind::Guard, "guard page", 0xbf02_2000, 0xbf02_3000),
                (Kind::Free, "free", 0xbf02_3000, 0xbfe0_0000),
            ]
        );
        // No highmem: no pkmap, and the window meets lowmem.
        let bands = Map::from_log(LOG_256_NOHIGHMEM).unwrap().bands().unwrap();
        assert!(bands.iter().all(|b| b.name != "pkmap"));
        let lowmem = bands.iter().position(|b| b.name == "lowmem").unwrap();
        assert_eq!(bands[lowmem + 1].name, "modules");
    }

    #[test]
    fn svg_has_every_label_and_address() {
        for log in [LOG_1024, LOG_256_NOHIGHMEM] {
            let map = Map::from_log(log).unwrap();
            let svg = render(&map, "test").unwrap();
            assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
            for r in map.layout.regions.iter().chain(&map.layout.sections) {
                assert!(svg.contains(&format!(">{}</text>", r.name)), "{}", r.name);
                let label = format!("{} - {}", fmt_addr(r.start), fmt_addr(r.end));
                assert!(svg.contains(&label), "{label}");
                assert!(svg.contains(&fmt_size(r.size())), "{}", r.name);
            }
            for m in &map.modules {
                assert!(svg.contains(&format!(">{}</text>", m.name)));
                assert!(svg.contains(&format!(
                    "{} - {}  {}",
                    fmt_addr(m.addr),
                    fmt_addr(m.addr + m.size),
                    fmt_size(m.size)
                )));
            }
            for a in &map.areas {
                assert!(svg.contains(&fmt_addr(a.start)) && svg.contains(&fmt_addr(a.end)));
            }
            assert!(svg.contains(">user space</text>"));
            assert!(svg.contains("ioremap uart::init phys 0x10009000, incl. guard page"));
            assert_eq!(
                svg.matches(r#"data-kind="guard""#).count(),
                map.modules.len()
            );
        }
    }

    #[test]
    fn svg_matches_its_boot_log() {
        for log in [LOG_1024, LOG_256_NOHIGHMEM] {
            let svg = render(&Map::from_log(log).unwrap(), "test").unwrap();
            check_against_log(&svg, log).unwrap();
        }
    }

    #[test]
    fn check_against_log_catches_a_wrong_picture() {
        let svg = render(&Map::from_log(LOG_1024).unwrap(), "test").unwrap();
        // One boundary moved.
        let moved = svg.replace(
            r#"data-name="vmalloc" data-start="0xf0000000""#,
            r#"data-name="vmalloc" data-start="0xf0100000""#,
        );
        assert_ne!(moved, svg);
        let err = check_against_log(&moved, LOG_1024).unwrap_err();
        assert!(
            err.contains("region vmalloc 0xf0000000-0xff000000 is not drawn"),
            "{err}"
        );
        assert!(
            err.contains("0xf0100000, which the log never printed"),
            "{err}"
        );
        // The other kernel's picture.
        let other = render(&Map::from_log(LOG_256_NOHIGHMEM).unwrap(), "test").unwrap();
        let err = check_against_log(&other, LOG_1024).unwrap_err();
        assert!(err.contains("region pkmap"), "{err}");
        assert!(err.contains("module bigmod"), "{err}");
        // A module missing from the picture.
        let log = LOG_1024.replace(
            "hello 12288 0 - Live 0xbf000000 (O)",
            "hello 12288 0 - Live 0xbf000000 (O)\nextra 4096 0 - Live 0xbf100000 (O)",
        );
        let err = check_against_log(&svg, &log).unwrap_err();
        assert!(err.contains("module extra at 0xbf100000"), "{err}");
        // Regions drawn out of address order.
        let swapped = svg
            .replace(r#"data-name="fixmap""#, r#"data-name="TMP""#)
            .replace(r#"data-name="vector""#, r#"data-name="fixmap""#)
            .replace(r#"data-name="TMP""#, r#"data-name="vector""#);
        assert!(check_against_log(&swapped, LOG_1024).is_err());
        assert!(check_against_log("<svg></svg>", LOG_1024).is_err());
    }

    #[test]
    fn scale_is_readable_not_linear() {
        assert_eq!(height(1, CHILD_MIN), CHILD_MIN);
        assert_eq!(height(PAGE_SIZE as u64, REGION_MIN), REGION_MIN);
        let (page, window, user) = (
            height(4096, REGION_MIN),
            height(14 << 20, REGION_MIN),
            height(0xbf00_0000, REGION_MIN),
        );
        assert!(page < window && window < user && user < 4.0 * window);
        assert_eq!(fmt_size(4096), "4 kB");
        assert_eq!(fmt_size(272), "272 B");
        assert_eq!(fmt_size(240 << 20), "240 MB");
        assert_eq!(fmt_size((240 << 20) - 0x4000), "239.98 MB");
        assert_eq!(fmt_size(0xbf00_0000), "2.98 GB");
        assert_eq!(fmt_addr(TOP), "0x100000000");
        assert_eq!(fmt_addr(0xbf00_0000), "0xbf000000");
        assert_eq!(short_caller("a::b::uart::init+0x0/0x44"), "uart::init");
        assert_eq!(short_caller("hello_init+0x0/0x78"), "hello_init");
    }

    #[test]
    fn session_commands() {
        let files = module_files(
            false,
            &[PathBuf::from("/x/mine.ko"), PathBuf::from("hello.ko")],
        )
        .unwrap();
        assert_eq!(files, ["hello.ko", "bigmod.ko", "mine.ko"]);
        assert_eq!(module_files(true, &[]).unwrap(), Vec::<String>::new());
        assert_eq!(
            commands(&["hello.ko".into()]),
            [
                "insmod /lib/modules/hello.ko",
                "cat /proc/modules",
                "cat /proc/vmallocinfo",
                "poweroff"
            ]
        );
    }

    #[test]
    fn command_line() {
        use clap::Parser;
        let cli = crate::Cli::try_parse_from([
            "xtask",
            "map",
            "--mem",
            "512",
            "--module",
            "a.ko",
            "--no-highmem",
            "-o",
            "out/m.svg",
        ])
        .unwrap();
        match cli.command.resolve_paths(Path::new("/home/me")) {
            crate::Command::Map(args) => {
                assert_eq!(args.mem, 512);
                assert!(args.kernel.no_highmem && !args.no_samples);
                assert_eq!(args.module, [PathBuf::from("/home/me/a.ko")]);
                assert_eq!(args.output, Some(PathBuf::from("/home/me/out/m.svg")));
                assert_eq!(args.append, DEFAULT_APPEND);
            }
            other => panic!("{other:?}"),
        }
    }
}
