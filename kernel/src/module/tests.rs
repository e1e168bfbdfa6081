//! The load / unload sequence against a fake kernel: memory is a map of
//! byte vectors, init returns what the test says, and every allocation is
//! counted so that each failure can be shown to leave nothing behind.

extern crate std;
use super::*;
use object::write::{Object, Relocation, StandardSection, Symbol as WSymbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope, elf,
};
use std::collections::BTreeMap;
use std::format;
use std::string::String;
use std::vec;

const PRINTK: u32 = 0xc001_0000;
const PARAM_OPS_INT: u32 = 0xc050_0000;
const PARAM_OPS_CHARP: u32 = 0xc050_0010;
const GPL_ONLY: u32 = 0xc002_0000;
const MCOUNT: u32 = 0xc003_0000;

/// A module_alloc area of the fake: leaked for the test's lifetime (so the
/// loader may hold `&'static mut` to it, as to real module memory).
struct Area {
    ptr: *mut u8,
    len: usize,
}

impl Area {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` came from a leaked boxed slice of `len` bytes that
        // is never freed; the loader's mutable borrow of it has ended by
        // the time tests read module memory.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

#[derive(Default)]
struct Fake {
    /// Allocated areas: base -> bytes.
    mem: BTreeMap<u32, Area>,
    next: u32,
    strings: BTreeMap<u32, String>,
    protects: Vec<(u32, u32, Perm)>,
    log: Vec<String>,
    init_ret: i32,
    inits: Vec<u32>,
    exits: Vec<u32>,
    /// Fail module_alloc after this many successes.
    alloc_budget: Option<usize>,
    /// `write_module_word` calls: (addr, value).
    words: Vec<(u32, u32)>,
}

impl Fake {
    fn new() -> Self {
        Fake {
            next: 0xbf00_0000,
            ..Default::default()
        }
    }
    fn read32(&self, addr: u32) -> u32 {
        let (base, area) = self.mem.range(..=addr).next_back().unwrap();
        let bytes = area.bytes();
        let at = (addr - base) as usize;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }
}

impl Backend for Fake {
    fn module_alloc(&mut self, size: u32) -> Result<ModuleMem, Errno> {
        if let Some(b) = self.alloc_budget.as_mut() {
            if *b == 0 {
                return Err(Errno::ENOMEM);
            }
            *b -= 1;
        }
        // First fit from the window's start, like the vmap allocator.
        let mut addr = 0xbf00_0000;
        for (&b, v) in &self.mem {
            if addr + size <= b {
                break;
            }
            addr = addr.max(b + v.len as u32 + 4096);
        }
        self.next = addr;
        // Not zeroed, as vmalloc memory is not: the loader must clear it.
        let bytes: &'static mut [u8] = vec![0xa5; size as usize].leak();
        self.mem.insert(
            addr,
            Area {
                ptr: bytes.as_mut_ptr(),
                len: bytes.len(),
            },
        );
        Ok(ModuleMem {
            addr,
            bytes,
            zeroed: false,
        })
    }
    fn module_memfree(&mut self, addr: u32) {
        assert!(self.mem.remove(&addr).is_some(), "double free {addr:#x}");
    }
    unsafe fn module_bytes(&self, addr: u32, len: u32) -> &[u8] {
        &self.mem[&addr].bytes()[..len as usize]
    }
    fn protect(&mut self, addr: u32, len: u32, perm: Perm) {
        self.protects.push((addr, len, perm));
    }
    fn flush_icache(&mut self, _: u32, _: u32) {}
    unsafe fn call_init(&mut self, addr: u32) -> i32 {
        self.inits.push(addr);
        self.init_ret
    }
    unsafe fn call_exit(&mut self, addr: u32) {
        self.exits.push(addr);
    }
    unsafe fn write_module_word(&mut self, addr: u32, value: u32) {
        let (base, area) = self.mem.range(..=addr).next_back().unwrap();
        let at = (addr - base) as usize;
        assert!(
            at + 4 <= area.len && addr.is_multiple_of(4),
            "write outside {base:#x}"
        );
        // SAFETY: inside a leaked area of the fake (checked above), whose
        // loader borrow has ended.
        unsafe {
            area.ptr
                .add(at)
                .cast::<[u8; 4]>()
                .write(value.to_le_bytes())
        };
        self.words.push((addr, value));
    }
    fn kernel_symbol(&self, abi: Abi, name: &str) -> Option<KernelSymbol> {
        if abi == Abi::Linux61 {
            // The 6.1 personality's table of this fake.
            let value = match name {
                "__gnu_mcount_nc" => MCOUNT,
                "param_ops_int" => PARAM_OPS_INT,
                "_printk" => PRINTK,
                _ => return None,
            };
            return Some(KernelSymbol {
                value,
                is_func: true,
                gpl_only: false,
            });
        }
        let (value, gpl_only) = match name {
            "printk" => (PRINTK, false),
            "param_ops_int" => (PARAM_OPS_INT, false),
            "param_ops_charp" => (PARAM_OPS_CHARP, false),
            "gpl_thing" => (GPL_ONLY, true),
            _ => return None,
        };
        Some(KernelSymbol {
            value,
            is_func: true,
            gpl_only,
        })
    }
    fn alloc_string(&mut self, s: &str) -> Result<u32, Errno> {
        let addr = 0xd000_0000 + self.strings.len() as u32 * 0x100;
        self.strings.insert(addr, s.into());
        Ok(addr)
    }
    unsafe fn free_string(&mut self, addr: u32) {
        self.strings.remove(&addr).unwrap();
    }
    fn log(&mut self, _: Level, msg: fmt::Arguments<'_>) {
        self.log.push(format!("{msg}"));
    }
}

/// What a test module contains.
#[derive(Clone)]
struct Spec {
    name: &'static str,
    license: &'static str,
    /// Undefined functions `init_module` calls (one BL each).
    calls: Vec<&'static str>,
    exports: Vec<&'static str>,
    exit: bool,
    /// An `int count` parameter and a `charp who` parameter.
    params: bool,
}

impl Spec {
    fn new(name: &'static str) -> Self {
        Spec {
            name,
            license: "GPL",
            calls: vec!["printk"],
            exports: vec![],
            exit: true,
            params: false,
        }
    }
}

fn abs32(
    o: &mut Object<'_>,
    section: object::write::SectionId,
    offset: u64,
    symbol: object::write::SymbolId,
) {
    o.add_relocation(
        section,
        Relocation {
            offset,
            symbol,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: elf::R_ARM_ABS32,
            },
        },
    )
    .unwrap();
}

fn build(spec: &Spec) -> Vec<u8> {
    let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
    let text = o.section_id(StandardSection::Text);
    // init_module: push {lr}; bl X (per call); mov r0, #0; pop {pc}
    let mut code = vec![0x04, 0xe0, 0x2d, 0xe5];
    for _ in &spec.calls {
        code.extend_from_slice(&[0xfe, 0xff, 0xff, 0xeb]);
    }
    code.extend_from_slice(&[0x00, 0x00, 0xa0, 0xe3, 0x04, 0xf0, 0x9d, 0xe4]);
    let init_size = code.len() as u64;
    // cleanup_module / exported functions: bx lr
    code.extend_from_slice(&[0x1e, 0xff, 0x2f, 0xe1]);
    o.append_section_data(text, &code, 4);
    let func = |o: &mut Object<'_>, name: &str, value: u64, size: u64, section| {
        o.add_symbol(WSymbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section,
            flags: SymbolFlags::None,
        })
    };
    func(
        &mut o,
        "init_module",
        0,
        init_size,
        SymbolSection::Section(text),
    );
    if spec.exit {
        func(
            &mut o,
            "cleanup_module",
            init_size,
            4,
            SymbolSection::Section(text),
        );
    }
    for (i, c) in spec.calls.iter().enumerate() {
        let s = func(&mut o, c, 0, 0, SymbolSection::Undefined);
        o.add_relocation(
            text,
            Relocation {
                offset: 4 + 4 * i as u64,
                symbol: s,
                addend: 0,
                flags: RelocationFlags::Elf {
                    r_type: elf::R_ARM_CALL,
                },
            },
        )
        .unwrap();
    }
    let modinfo = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyData);
    o.append_section_data(
        modinfo,
        format!("license={}\0name={}\0", spec.license, spec.name).as_bytes(),
        1,
    );
    if !spec.exports.is_empty() {
        let strings = o.add_section(
            vec![],
            b"__ksymtab_strings".to_vec(),
            SectionKind::ReadOnlyData,
        );
        let table = o.add_section(vec![], b"__ksymtab".to_vec(), SectionKind::ReadOnlyData);
        let strings_sym = o.section_symbol(strings);
        for (i, e) in spec.exports.iter().enumerate() {
            let off = o.append_section_data(strings, format!("{e}\0").as_bytes(), 1);
            let sym = func(&mut o, e, init_size, 4, SymbolSection::Section(text));
            let at = o.append_section_data(table, &(off as u32).to_le_bytes(), 4);
            let _ = o.append_section_data(table, &[0; 4], 4);
            // value = &sym, name = strings + off (implicit addend in the data).
            let data = o.section_mut(table).data_mut();
            data[at as usize..at as usize + 4].copy_from_slice(&[0; 4]);
            data[at as usize + 4..at as usize + 8].copy_from_slice(&(off as u32).to_le_bytes());
            abs32(&mut o, table, at, sym);
            abs32(&mut o, table, at + 4, strings_sym);
            let _ = i;
        }
    }
    if spec.params {
        let data = o.section_id(StandardSection::Data);
        let vars = o.append_section_data(data, &[7, 0, 0, 0, 0, 0, 0, 0], 4);
        let data_sym = o.section_symbol(data);
        let rodata = o.section_id(StandardSection::ReadOnlyData);
        let names = o.append_section_data(rodata, b"count\0who\0", 1);
        let rodata_sym = o.section_symbol(rodata);
        let param = o.add_section(vec![], b"__param".to_vec(), SectionKind::ReadOnlyData);
        for (i, (name_off, ops)) in [(0u32, "param_ops_int"), (6, "param_ops_charp")]
            .into_iter()
            .enumerate()
        {
            let mut entry = [0u8; 16];
            entry[0..4].copy_from_slice(&(names as u32 + name_off).to_le_bytes());
            entry[8..10].copy_from_slice(&0o644u16.to_le_bytes());
            entry[12..16].copy_from_slice(&(vars as u32 + 4 * i as u32).to_le_bytes());
            let at = o.append_section_data(param, &entry, 4);
            let ops_sym = func(&mut o, ops, 0, 0, SymbolSection::Undefined);
            abs32(&mut o, param, at, rodata_sym);
            abs32(&mut o, param, at + 4, ops_sym);
            abs32(&mut o, param, at + 12, data_sym);
        }
    }
    o.write().unwrap()
}

fn load_spec(
    r: &Mutex<Modules>,
    f: &mut Fake,
    spec: &Spec,
    args: &[&str],
) -> Result<String, Errno> {
    let bytes = build(spec);
    load(
        r,
        f,
        &format!("/lib/modules/{}.ko", spec.name),
        &bytes,
        args,
    )
    .map(|n| n.to_string())
}

fn proc_modules(r: &Mutex<Modules>) -> String {
    let mut s = String::new();
    r.lock().write_proc_modules(&mut s).unwrap();
    s
}

#[test]
fn first_module_lands_at_the_window_start_and_init_is_freed() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    assert_eq!(
        load_spec(&r, &mut f, &Spec::new("hello"), &[]).unwrap(),
        "hello"
    );
    assert_eq!(f.inits, [0xbf00_0000]);
    assert_eq!(proc_modules(&r), "hello 4096 0 - Live 0xbf000000 (O)\n");
    let mods = r.lock();
    assert_eq!((mods.addr_min, mods.addr_max), (0xbf00_0000, 0xbf00_1000));
    // Text became RX and the BL reaches printk.
    assert!(f.protects.contains(&(0xbf00_0000, 4096, Perm::ReadExec)));
    let bl = f.read32(0xbf00_0004);
    let dest = 0xbf00_0004u32
        .wrapping_add(8)
        .wrapping_add(((bl << 8) as i32 >> 6) as u32);
    assert_eq!(dest, PRINTK);
    assert_eq!(
        mods.lookup(0xbf00_0008),
        Some(("hello", "init_module", 8, 16))
    );
    let mut s = String::new();
    mods.write_kallsyms(&mut s).unwrap();
    assert!(s.contains("bf000000 T init_module\t[hello]\n"), "{s}");
    let mut s = String::new();
    mods.write_lsmod(&mut s).unwrap();
    assert_eq!(
        s,
        "Module                  Size  Used by\nhello                   4096  0\n"
    );
    assert!(
        f.log
            .iter()
            .any(|l| l == "hello: loading out-of-tree module taints kernel.")
    );
}

#[test]
fn duplicates_unknown_symbols_and_failing_init_leave_nothing() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    load_spec(&r, &mut f, &Spec::new("hello"), &[]).unwrap();
    let before = f.mem.len();
    assert_eq!(
        load_spec(&r, &mut f, &Spec::new("hello"), &[]),
        Err(Errno::EEXIST)
    );
    let mut bad = Spec::new("bad");
    bad.calls = vec!["printk", "no_such_function"];
    assert_eq!(load_spec(&r, &mut f, &bad, &[]), Err(Errno::ENOENT));
    assert_eq!(
        f.log.last().unwrap(),
        "bad: Unknown symbol no_such_function (err -2)"
    );
    f.init_ret = -19;
    assert_eq!(
        load_spec(&r, &mut f, &Spec::new("fails"), &[]),
        Err(Errno(19))
    );
    assert_eq!(f.mem.len(), before);
    assert_eq!(r.lock().len(), 1);
    // Not a module at all.
    assert_eq!(
        load(&r, &mut f, "/x.ko", b"\x7fELF nope", &[]),
        Err(Errno::ENOEXEC)
    );
    // A text file: Linux's line, then what the file is, in words.
    assert_eq!(
        load(&r, &mut f, "/data/notes.txt", b"hello world\n", &[]),
        Err(Errno::ENOEXEC)
    );
    assert_eq!(
        f.log[f.log.len() - 2..],
        [
            "notes.txt: Module len 12 truncated",
            "notes.txt: not an ELF file (starts with \"hello wo\")"
        ]
    );
    // The window is full.
    f.init_ret = 0;
    f.alloc_budget = Some(0);
    assert_eq!(
        load_spec(&r, &mut f, &Spec::new("big"), &[]),
        Err(Errno::ENOMEM)
    );
    assert_eq!(f.mem.len(), before);
}

#[test]
fn gpl_only_symbols_need_a_gpl_license() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut p = Spec::new("prop");
    p.license = "Proprietary";
    p.calls = vec!["gpl_thing"];
    assert_eq!(load_spec(&r, &mut f, &p, &[]), Err(Errno::ENOENT));
    assert!(
        f.log.iter().any(|l| l
            == "prop: gpl_thing is exported GPL-only and this module's license is 'Proprietary'")
    );
    assert!(
        f.log
            .iter()
            .any(|l| l == "prop: module license 'Proprietary' taints kernel.")
    );
    p.calls = vec!["printk"];
    load_spec(&r, &mut f, &p, &[]).unwrap();
    assert_eq!(proc_modules(&r), "prop 4096 0 - Live 0xbf000000 (PO)\n");
    // What an oops prints about modules.
    let mods = r.lock();
    let mut s = String::new();
    mods.write_linked_in(&mut s).unwrap();
    assert_eq!(s, " prop(PO)");
    assert_eq!(mods.taint(), Some(*b"P           O "));
    drop(mods);
    assert_eq!(Modules::new().taint(), None);
    // A WARN's TAINT_WARN (9) shows as W, beside the modules' letters.
    let mut w = Modules::new();
    w.add_taint(9);
    w.add_taint(40);
    assert_eq!(w.taint(), Some(*b"G        W    "));
    let mut g = Spec::new("free");
    g.calls = vec!["gpl_thing"];
    load_spec(&r, &mut f, &g, &[]).unwrap();
}

#[test]
fn dependencies_and_refcounts() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut a = Spec::new("provider");
    a.exports = vec!["shared_fn"];
    load_spec(&r, &mut f, &a, &[]).unwrap();
    let mut b = Spec::new("consumer");
    b.calls = vec!["shared_fn"];
    load_spec(&r, &mut f, &b, &[]).unwrap();
    assert_eq!(
        proc_modules(&r),
        "consumer 4096 0 - Live 0xbf003000 (O)\n\
         provider 8192 1 consumer, Live 0xbf000000 (O)\n"
    );
    // The consumer's BL reaches the provider's export.
    let bl = f.read32(0xbf00_3004);
    let dest = 0xbf00_3004u32
        .wrapping_add(8)
        .wrapping_add(((bl << 8) as i32 >> 6) as u32);
    assert_eq!(dest, 0xbf00_0000 + 16);
    assert_eq!(unload(&r, &mut f, "provider"), Err(Errno::EAGAIN));
    assert_eq!(unload(&r, &mut f, "nosuch"), Err(Errno::ENOENT));
    // An export clashing with a loaded one is refused.
    let mut c = Spec::new("clash");
    c.exports = vec!["shared_fn"];
    assert_eq!(load_spec(&r, &mut f, &c, &[]), Err(Errno::ENOEXEC));
    unload(&r, &mut f, "consumer").unwrap();
    unload(&r, &mut f, "provider").unwrap();
    assert_eq!(f.exits.len(), 2);
    assert!(f.mem.is_empty());
    assert_eq!(proc_modules(&r), "");
}

#[test]
fn permanent_modules_cannot_be_removed() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut p = Spec::new("perm");
    p.exit = false;
    load_spec(&r, &mut f, &p, &[]).unwrap();
    assert_eq!(
        proc_modules(&r),
        "perm 4096 0 [permanent], Live 0xbf000000 (O)\n"
    );
    assert_eq!(unload(&r, &mut f, "perm"), Err(Errno::EBUSY));
}

#[test]
fn parameters() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut p = Spec::new("params");
    p.params = true;
    load_spec(&r, &mut f, &p, &["count=0x10", "who=kobold", "nosuch=1"]).unwrap();
    // .data sits after text and rodata pages: find `count` through the
    // relocated __param table instead of guessing: the first entry's arg.
    let m = r.lock();
    let (base, size) = (
        m.get("params").unwrap().core_base,
        m.get("params").unwrap().core_size,
    );
    drop(m);
    let words: Vec<u32> = (0..size).step_by(4).map(|o| f.read32(base + o)).collect();
    // The charp points at the kernel copy of "kobold".
    let (&addr, s) = f.strings.iter().next().unwrap();
    assert_eq!(s, "kobold");
    let at = words.iter().position(|&w| w == addr).expect("who is set");
    assert_eq!(words[at - 1], 16, "count precedes who");
    assert!(
        f.log
            .iter()
            .any(|l| l == "params: unknown parameter 'nosuch' ignored")
    );
    unload(&r, &mut f, "params").unwrap();
    assert!(f.strings.is_empty());
    // A bad value refuses the load and frees the string already made.
    assert_eq!(
        load_spec(&r, &mut f, &p, &["who=x", "count=many"]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        f.log.last().unwrap(),
        "params: `many' invalid for parameter `count'"
    );
    assert_eq!(
        f.log[f.log.len() - 2],
        "params: parameter count takes an int: a number from -2147483648 to 2147483647 (0x... hex, 0... octal)"
    );
    assert!(f.strings.is_empty());
    assert!(f.mem.is_empty());
}

#[test]
fn names_that_could_forge_proc_modules_are_refused() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    for bad in [
        "nl\nfake 4096 0 - Live 0xc0000000",
        "has space",
        "a/b",
        "",
        "x123456789x123456789x123456789x123456789x123456789x12345",
    ] {
        let spec = Spec::new(std::boxed::Box::leak(bad.to_string().into_boxed_str()));
        assert_eq!(
            load_spec(&r, &mut f, &spec, &[]),
            Err(Errno::EINVAL),
            "{bad:?}"
        );
        assert!(
            f.log.last().unwrap().contains("is invalid"),
            "{:?}",
            f.log.last()
        );
    }
    assert!(f.mem.is_empty() && r.lock().is_empty());
    // 55 bytes of the allowed characters are fine.
    let longest = "x123456789x123456789x123456789x123456789x123456789-1234";
    assert_eq!(
        load_spec(&r, &mut f, &Spec::new(longest), &[]).as_deref(),
        Ok(longest)
    );
    assert!(ModName::from_path("/lib/modules/my-mod.ko").is_some_and(|n| &*n == "my_mod"));
    assert!(ModName::from_path("/lib/modules/my mod.ko").is_none());
}

#[test]
fn charp_without_value_and_bool_spellings() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut p = Spec::new("params");
    p.params = true;
    // Linux's parse_one: only bool parameters may come without `=`.
    assert_eq!(load_spec(&r, &mut f, &p, &["who"]), Err(Errno::EINVAL));
    assert_eq!(load_spec(&r, &mut f, &p, &["count"]), Err(Errno::EINVAL));
    assert!(f.mem.is_empty() && f.strings.is_empty());
}

#[test]
fn module_memory_is_linked_in_place_and_cleared() {
    // The fake's module_alloc hands out memory full of 0xa5, as vmalloc
    // hands out whatever the pages held: everything the module does not
    // define must read as zero after loading (.bss, padding).
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    load_spec(&r, &mut f, &Spec::new("hello"), &[]).unwrap();
    let m = r.lock();
    let hello = m.get("hello").unwrap();
    let core = f.mem[&hello.core_base].bytes();
    assert!(!core.windows(4).any(|w| w == [0xa5; 4]), "stale bytes left");
}

#[test]
fn verbose_load_logs_each_step_and_records_the_groups() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let mut a = Spec::new("provider");
    a.exports = vec!["shared_fn"];
    load_spec(&r, &mut f, &a, &[]).unwrap();
    assert!(f.log.iter().all(|l| !l.contains("reloc")), "{:?}", f.log);
    let mut b = Spec::new("consumer");
    b.calls = vec!["printk", "shared_fn"];
    let bytes = build(&b);
    let verbose = LoadFlags {
        verbose: true,
        ..LoadFlags::default()
    };
    load_flags(&r, &mut f, "/lib/modules/consumer.ko", &bytes, &[], verbose).unwrap();
    let has = |prefix: &str| f.log.iter().any(|l| l.starts_with(prefix));
    assert!(has("consumer: section .text"), "{:?}", f.log);
    assert!(
        has(&format!(
            "consumer: symbol  printk -> {PRINTK:#010x} (from kernel)"
        )),
        "{:?}",
        f.log
    );
    assert!(
        has("consumer: symbol  shared_fn -> 0xbf000010 (from module) `provider`"),
        "{:?}",
        f.log
    );
    let bl = f
        .log
        .iter()
        .find(|l| l.contains("R_ARM_CALL printk"))
        .expect("the BL to printk");
    assert!(bl.contains(&format!("S={PRINTK:#010x} A=-0x8")), "{bl}");
    // The groups are recorded for `pt --module`.
    let mods = r.lock();
    let m = mods.get("consumer").unwrap();
    assert!(m.groups.iter().any(|g| g.1 == Group::Text && g.2 == 0));
}

// ---------------------------------------------------------------------------
// Issue 11: the Linux 6.1 personality, chosen per module.

#[path = "../../../loader/tests/hostile/mod.rs"]
mod hostile;
use hostile::{L61, linux61_module};

fn load_l61(
    r: &Mutex<Modules>,
    f: &mut Fake,
    o: L61,
    args: &[&str],
    force: bool,
) -> Result<ModName, Errno> {
    let flags = LoadFlags {
        verbose: true,
        force,
    };
    load_flags(r, f, "/lib/modules/l61.ko", &linux61_module(o), args, flags)
}

#[test]
fn a_61_module_links_against_the_61_table_and_becomes_live() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    load_l61(&r, &mut f, L61::DEBIAN, &["count=5"], false).unwrap();
    let mods = r.lock();
    let m = mods.get("l61").unwrap();
    assert_eq!(m.abi, Abi::Linux61);
    assert!(!m.forced);
    // struct module: COMING while init ran, then LIVE (0); the name is ours.
    let tm = m.this_module.expect("6.1 struct module");
    assert_eq!(f.words, [(tm, 0)]);
    assert_eq!(f.read32(tm), 0);
    assert_eq!(f.read32(tm + 0xc), u32::from_le_bytes(*b"l61\0"));
    // init/exit as the module relocated them in its struct module.
    assert_eq!(Some(f.read32(tm + 0xcc)), f.inits.first().copied());
    assert_eq!(Some(f.read32(tm + 0x230)), m.exit_fn);
    // ftrace: both calls became `pop {lr}`, the entry that is no call was
    // left, and both counts were said.
    assert!(
        f.log
            .iter()
            .any(|l| l
                == "l61: ftrace: 2 __mcount_loc call sites patched to nop (pop {lr}), 1 skipped"),
        "{:?}",
        f.log
    );
    assert!(f.log.iter().any(|l| {
        l.contains("l61: ftrace: 1 __mcount_loc entries are not a call to __gnu_mcount_nc")
    }));
    assert_eq!(f.read32(m.core_base + 4), 0xe8bd_4000);
    // The 20-byte kernel_param: count=5 reached the variable.
    assert!(!f.log.iter().any(|l| l.contains("unknown parameter")));
    let mut s = String::new();
    let charp = |_: u32, _: &mut dyn Write| Ok(());
    sysfs::read(
        &mods,
        &f,
        &charp,
        "/sys/module/l61/parameters/count",
        &mut s,
    )
    .unwrap();
    sysfs::read(&mods, &f, &charp, "/sys/module/l61/abi", &mut s).unwrap();
    assert_eq!(s, "5\nlinux-6.1\n");
    drop(mods);
    unload(&r, &mut f, "l61").unwrap();
    assert_eq!(f.words, [(tm, 0), (tm, 2)], "GOING before exit");
    assert!(f.mem.is_empty());
}

/// `try_module_get`/`module_put` on a 6.1 module's `struct module`: a
/// pinned module counts in `/proc/modules`' refcount and cannot be removed
/// (`-EAGAIN`, Linux's `-EWOULDBLOCK`) until the pin is dropped.
#[test]
fn pins_keep_a_module_loaded() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    load_l61(&r, &mut f, L61::DEBIAN, &[], false).unwrap();
    let tm = r.lock().get("l61").unwrap().this_module.unwrap();
    // Built-in (NULL) owners always succeed; unknown addresses never.
    assert!(r.lock().try_module_get(0));
    assert!(!r.lock().try_module_get(tm + 4));
    assert!(r.lock().try_module_get(tm));
    assert!(r.lock().try_module_get(tm));
    assert_eq!(r.lock().refcount("l61"), 2);
    assert!(proc_modules(&r).starts_with("l61 "));
    assert!(
        proc_modules(&r).contains(" 2 - Live"),
        "{}",
        proc_modules(&r)
    );
    assert_eq!(unload(&r, &mut f, "l61"), Err(Errno::EAGAIN));
    assert!(r.lock().module_put(tm));
    assert_eq!(unload(&r, &mut f, "l61"), Err(Errno::EAGAIN));
    assert!(r.lock().module_put(tm));
    // A put without a pin is refused, and changes nothing.
    assert!(!r.lock().module_put(tm));
    assert_eq!(r.lock().refcount("l61"), 0);
    unload(&r, &mut f, "l61").unwrap();
    // Gone: nothing to pin.
    assert!(!r.lock().try_module_get(tm));
}

#[test]
fn a_61_module_does_not_resolve_against_kobolds_table() {
    // Without vermagic it is taken for one of Kobold's own: its imports
    // are looked up in the 3.18 table, which has no __gnu_mcount_nc.
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let o = L61 {
        vermagic: None,
        ..L61::DEBIAN
    };
    assert_eq!(load_l61(&r, &mut f, o, &[], false), Err(Errno::ENOENT));
    assert_eq!(
        f.log.last().unwrap(),
        "l61: Unknown symbol __gnu_mcount_nc (err -2)"
    );
    assert!(f.mem.is_empty());
}

/// Linux's `MODULE_INIT_IGNORE_VERMAGIC`: `-f` taints F even when the
/// vermagic is right ("bad vermagic", as `check_modinfo` no longer reads
/// it), and `try_to_force_load` says so only while the kernel is not
/// tainted F already.
#[test]
fn forcing_taints_f_whatever_the_vermagic_and_says_it_once() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let said = |f: &Fake| {
        f.log
            .iter()
            .filter(|l| *l == "l61: bad vermagic: kernel tainted.")
            .count()
    };
    load_l61(&r, &mut f, L61::DEBIAN, &[], true).unwrap();
    assert!(r.lock().get("l61").unwrap().forced);
    assert_eq!(r.lock().get("l61").unwrap().abi, Abi::Linux61);
    assert_eq!(said(&f), 1);
    // Tainted F: a second forced load (refused as loaded already) is silent.
    assert_eq!(
        load_l61(&r, &mut f, L61::DEBIAN, &[], true),
        Err(Errno::EEXIST)
    );
    assert_eq!(said(&f), 1);
    unload(&r, &mut f, "l61").unwrap();
    // Kobold's F goes with the module: said again.
    load_l61(&r, &mut f, L61::DEBIAN, &[], true).unwrap();
    assert_eq!(said(&f), 2);
    unload(&r, &mut f, "l61").unwrap();
    assert!(f.mem.is_empty());
}

#[test]
fn vermagic_refusals_and_forcing() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let v = "6.1.0-99-rt-armmp SMP preempt mod_unload ARMv7 p2v8 ";
    let other = L61 {
        vermagic: Some(v),
        ..L61::DEBIAN
    };
    assert_eq!(load_l61(&r, &mut f, other, &[], false), Err(Errno::ENOEXEC));
    assert_eq!(
        f.log.last().unwrap(),
        &format!(
            "l61: version magic '{v}' should be '6.1.0-57-armmp SMP mod_unload modversions ARMv7 p2v8 '"
        )
    );
    assert!(f.mem.is_empty());
    // Forced: loaded with the 6.1 table, tainted F.
    load_l61(&r, &mut f, other, &[], true).unwrap();
    assert!(
        f.log
            .iter()
            .any(|l| l == "l61: bad vermagic: kernel tainted.")
    );
    assert_eq!(
        proc_modules(&r),
        "l61 4096 0 - Live 0xbf000000 (OF)\n"
            .replace("4096", &r.lock().get("l61").unwrap().size().to_string())
    );
    assert_eq!(&r.lock().taint().unwrap(), b"GF          O ");
    let mut s = String::new();
    let charp = |_: u32, _: &mut dyn Write| Ok(());
    sysfs::read(&r.lock(), &f, &charp, "/sys/module/l61/taint", &mut s).unwrap();
    assert_eq!(s, "OF\n");
    unload(&r, &mut f, "l61").unwrap();
    // struct module of another size: refused, forced or not.
    let small = L61 {
        this_module: 512,
        ..L61::DEBIAN
    };
    for force in [false, true] {
        assert_eq!(load_l61(&r, &mut f, small, &[], force), Err(Errno::ENOEXEC));
        assert_eq!(
            f.log.last().unwrap(),
            "l61: disagrees about version of symbol module_layout"
        );
    }
    assert!(f.mem.is_empty());
}

#[test]
fn signature_trailers_are_stripped_or_refused() {
    let r = Mutex::new(Modules::new());
    let mut f = Fake::new();
    let trailer = |elf: &[u8], sig: &[u8], id_type: u8, len: u32| {
        let mut v = elf.to_vec();
        v.extend_from_slice(sig);
        v.extend_from_slice(&[0, 0, id_type, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(kobold_loader::signature::MODULE_SIG_STRING);
        v
    };
    let elf = linux61_module(L61::DEBIAN);
    let signed = trailer(&elf, b"\x30\x03abc", 2, 5);
    let flags = LoadFlags::default();
    load_flags(&r, &mut f, "/l61.ko", &signed, &[], flags).unwrap();
    unload(&r, &mut f, "l61").unwrap();
    let bad = trailer(&elf, b"\x30\x03abc", 2, 0x7fff_ffff);
    assert_eq!(
        load_flags(&r, &mut f, "/l61.ko", &bad, &[], flags),
        Err(Errno::EBADMSG)
    );
    assert_eq!(
        f.log.last().unwrap(),
        "l61.ko: module signature trailer is truncated"
    );
    let pgp = trailer(&elf, b"\x30\x03abc", 0, 5);
    load_flags(&r, &mut f, "/l61.ko", &pgp, &[], flags).unwrap();
    assert!(
        f.log
            .iter()
            .any(|l| l == "l61.ko: Module is not signed with expected PKCS#7 message")
    );
    unload(&r, &mut f, "l61").unwrap();
    assert!(f.mem.is_empty());
}

/// `ModName`'s comparison (the name's own bytes, in line) answers the
/// derived one (both fields, all 55 bytes): names that share a prefix,
/// differ in their last byte or only in length, the longest name, and
/// names made from a path (dashes turned into underscores).
#[test]
fn mod_name_equality_is_the_fields_equality() {
    let longest = "x123456789x123456789x123456789x123456789x123456789-1234";
    let mut names: Vec<ModName> = [
        "a",
        "ab",
        "b",
        "crc7",
        "crc8",
        "crc_itu_t",
        "crc_itu_x",
        "my_mod",
        longest,
    ]
    .iter()
    .map(|n| ModName::new(n).unwrap())
    .collect();
    names.extend(
        ["/lib/modules/my-mod.ko", "crc-itu-t.ko", "a.ko"]
            .iter()
            .map(|p| ModName::from_path(p).unwrap()),
    );
    let mut equal = 0;
    for a in &names {
        for b in &names {
            let fields = a.len == b.len && a.bytes == b.bytes;
            assert_eq!(*a == *b, fields, "{} {}", a.as_str(), b.as_str());
            equal += usize::from(fields);
        }
    }
    // Each name equals itself, and the three made from paths equal
    // `my_mod`, `crc_itu_t` and `a` (both ways).
    assert_eq!(equal, names.len() + 6);
}

/// `ModName` is word-aligned and no larger than its fields (the length
/// byte and 55 name bytes).
#[test]
fn mod_name_is_aligned_and_unpadded() {
    assert_eq!(core::mem::align_of::<ModName>(), 4);
    assert_eq!(core::mem::size_of::<ModName>(), 1 + MODULE_NAME_MAX);
}

/// `ModName::as_bytes` is `as_str`'s bytes.
#[test]
fn mod_name_bytes_are_its_str() {
    for n in [
        "a",
        "crc_itu_t",
        "x123456789x123456789x123456789x123456789x123456789-1234",
    ] {
        let name = ModName::new(n).unwrap();
        assert_eq!(name.as_bytes(), name.as_str().as_bytes());
        // `as_str` without decoding answers what `from_utf8` gave.
        assert_eq!(core::str::from_utf8(name.as_bytes()), Ok(n));
        assert_eq!(name.as_str(), n);
    }
    let from_path = ModName::from_path("/lib/modules/crc-itu-t.ko").unwrap();
    assert_eq!(from_path.as_bytes(), b"crc_itu_t");
    assert_eq!(from_path.as_str(), "crc_itu_t");
    // What cannot be a name is never stored: not ASCII, too long, empty.
    for bad in ["caf\u{e9}", "", "a.b"] {
        assert!(ModName::new(bad).is_err(), "{bad:?}");
    }
    assert!(ModName::new(&"x".repeat(MODULE_NAME_MAX + 1)).is_err());
    assert!(ModName::from_path("/lib/modules/caf\u{e9}.ko").is_none());
}

/// `Shown` writes what the eager `rsplit` gave: the file name of the path.
#[test]
fn shown_is_the_file_name() {
    for p in [
        "/lib/modules/crc7.ko",
        "crc7.ko",
        "/a/",
        "",
        "/",
        "a/b/c",
        "caf\u{e9}/\u{e9}.ko",
    ] {
        let old = p.rsplit('/').next().unwrap_or(p);
        assert_eq!(alloc::format!("{}", super::Shown(p)), old, "{p:?}");
    }
}
