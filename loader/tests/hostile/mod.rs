//! Hostile but well-formed `.ko` files, built byte by byte: the inputs of
//! issue 8 ("no module file panics, freezes or corrupts the kernel").
//!
//! One source for two users: the loader's host tests (`loader/tests/trust.rs`
//! declares it as a module) and xtask, which includes this file with
//! `#[path]` and puts the files into a QEMU case's initramfs, so the kernel
//! itself is shown loading or refusing each (`hostile_modules` in
//! `xtask/src/cases.rs`). Nothing here is committed as a binary: every file
//! is generated when the tests run.
#![allow(dead_code)]

pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_STRTAB: u32 = 3;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;
pub const W: u32 = 1;
pub const A: u32 = 2;
pub const X: u32 = 4;
pub const SHN_ABS: u16 = 0xfff1;
pub const SHN_COMMON: u16 = 0xfff2;
pub const GLOBAL_FUNC: u8 = 0x12;
pub const GLOBAL_OBJECT: u8 = 0x11;
pub const LOCAL_SECTION: u8 = 0x03;
pub const LOCAL_OBJECT: u8 = 0x01;
pub const R_ARM_ABS32: u32 = 2;
pub const R_ARM_THM_CALL: u32 = 10;

pub struct Sec {
    name: String,
    ty: u32,
    flags: u32,
    data: Vec<u8>,
    /// Size of a NOBITS section.
    nobits: u32,
    link: u32,
    info: u32,
    entsize: u32,
}

#[derive(Default)]
pub struct Ko {
    secs: Vec<Sec>,
}

pub fn sym(name: u32, value: u32, size: u32, info: u8, shndx: u16) -> [u8; 16] {
    let mut s = [0u8; 16];
    s[0..4].copy_from_slice(&name.to_le_bytes());
    s[4..8].copy_from_slice(&value.to_le_bytes());
    s[8..12].copy_from_slice(&size.to_le_bytes());
    s[12] = info;
    s[14..16].copy_from_slice(&shndx.to_le_bytes());
    s
}

pub fn rel(offset: u32, symbol: u32, r_type: u32) -> [u8; 8] {
    let mut r = [0u8; 8];
    r[0..4].copy_from_slice(&offset.to_le_bytes());
    r[4..8].copy_from_slice(&((symbol << 8) | r_type).to_le_bytes());
    r
}

impl Ko {
    /// Adds a section; returns its index.
    pub fn add(&mut self, name: &str, ty: u32, flags: u32, data: Vec<u8>) -> u32 {
        self.secs.push(Sec {
            name: name.into(),
            ty,
            flags,
            data,
            nobits: 0,
            link: 0,
            info: 0,
            entsize: 0,
        });
        self.secs.len() as u32
    }

    pub fn nobits(&mut self, name: &str, flags: u32, size: u32) -> u32 {
        let i = self.add(name, SHT_NOBITS, flags, vec![]);
        self.secs[i as usize - 1].nobits = size;
        i
    }

    /// `.strtab` and `.symtab` (symbol 0 is added); returns the symtab's
    /// index.
    pub fn symtab(&mut self, strtab: Vec<u8>, syms: &[[u8; 16]]) -> u32 {
        let str_index = self.add(".strtab", SHT_STRTAB, 0, strtab);
        let mut data = vec![0u8; 16];
        for s in syms {
            data.extend_from_slice(s);
        }
        let i = self.add(".symtab", SHT_SYMTAB, 0, data);
        let s = &mut self.secs[i as usize - 1];
        (s.link, s.info, s.entsize) = (str_index, 1, 16);
        i
    }

    pub fn rel(&mut self, target: u32, symtab: u32, rels: &[[u8; 8]]) -> u32 {
        let name = format!(".rel{}", self.secs[target as usize - 1].name);
        let i = self.add(&name, SHT_REL, 0, rels.concat());
        let s = &mut self.secs[i as usize - 1];
        (s.link, s.info, s.entsize) = (symtab, target, 8);
        i
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut shstr = b"\0.shstrtab\0".to_vec();
        let mut out = vec![0u8; 52];
        let mut hdrs = vec![[0u32; 10]];
        for s in &self.secs {
            let name = shstr.len() as u32;
            shstr.extend_from_slice(s.name.as_bytes());
            shstr.push(0);
            while !out.len().is_multiple_of(4) {
                out.push(0);
            }
            let offset = out.len() as u32;
            let size = if s.ty == SHT_NOBITS {
                s.nobits
            } else {
                out.extend_from_slice(&s.data);
                s.data.len() as u32
            };
            hdrs.push([
                name, s.ty, s.flags, 0, offset, size, s.link, s.info, 4, s.entsize,
            ]);
        }
        let shstr_offset = out.len() as u32;
        out.extend_from_slice(&shstr);
        hdrs.push([
            1,
            SHT_STRTAB,
            0,
            0,
            shstr_offset,
            shstr.len() as u32,
            0,
            0,
            1,
            0,
        ]);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        let shoff = out.len() as u32;
        for h in &hdrs {
            for w in h {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        let ident = [0x7f, b'E', b'L', b'F', 1, 1, 1];
        out[..7].copy_from_slice(&ident);
        let put16 = |o: &mut Vec<u8>, at: usize, v: u16| {
            o[at..at + 2].copy_from_slice(&v.to_le_bytes());
        };
        put16(&mut out, 16, 1); // ET_REL
        put16(&mut out, 18, 40); // EM_ARM
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[32..36].copy_from_slice(&shoff.to_le_bytes());
        out[36..40].copy_from_slice(&0x0500_0000u32.to_le_bytes());
        put16(&mut out, 40, 52);
        put16(&mut out, 46, 40);
        put16(&mut out, 48, hdrs.len() as u16);
        put16(&mut out, 50, hdrs.len() as u16 - 1);
        out
    }
}

// ---------------------------------------------------------------------------
// The files.

/// A module that is only a `.bss`-like NOBITS section `name` of `size`
/// bytes (row 1: 4, 8, 13 MB load; more than the window is refused).
pub fn big_bss(size: u32, name: &str) -> Vec<u8> {
    let mut ko = Ko::default();
    ko.nobits(name, A | W, size);
    ko.symtab(b"\0".to_vec(), &[]);
    ko.bytes()
}

/// `n` symbols (local or global) all named by string-table offset 1, where
/// a name of `len` bytes starts.
pub fn shared_name(n: usize, len: usize, info: u8) -> Vec<u8> {
    let mut ko = Ko::default();
    let text = ko.add(".text", SHT_PROGBITS, A | X, vec![0; 4]);
    let mut strtab = vec![0u8];
    strtab.extend(std::iter::repeat_n(b'n', len));
    strtab.push(0);
    let syms: Vec<[u8; 16]> = (0..n).map(|_| sym(1, 0, 4, info, text as u16)).collect();
    ko.symtab(strtab, &syms);
    ko.bytes()
}

/// `records` {value, name} `__ksymtab` records whose name words are all
/// relocated (R_ARM_ABS32, addend 0) to the start of `__ksymtab_strings`,
/// which holds one string of `len` bytes.
pub fn shared_export_name(records: usize, len: usize) -> Vec<u8> {
    let mut ko = Ko::default();
    let mut strings = vec![b'e'; len];
    strings.push(0);
    let strs = ko.add("__ksymtab_strings", SHT_PROGBITS, A, strings);
    let table = ko.add("__ksymtab", SHT_PROGBITS, A, vec![0; 8 * records]);
    let symtab = ko.symtab(b"\0".to_vec(), &[sym(0, 0, 0, LOCAL_SECTION, strs as u16)]);
    let rels: Vec<[u8; 8]> = (0..records as u32)
        .map(|i| rel(8 * i + 4, 1, R_ARM_ABS32))
        .collect();
    ko.rel(table, symtab, &rels);
    ko.bytes()
}

/// `n` COMMON symbols of 4 bytes, all named `c` (row 3: 150,000 make a
/// 2.4 MB file).
pub fn commons(n: u32) -> Vec<u8> {
    let mut ko = Ko::default();
    let syms: Vec<[u8; 16]> = (0..n)
        .map(|_| sym(1, 4, 4, GLOBAL_OBJECT, SHN_COMMON))
        .collect();
    ko.symtab(b"\0c\0".to_vec(), &syms);
    ko.bytes()
}

/// The addend of Thumb branch `i` in [`thumb_branches`].
pub fn branch_addend_of(i: u32) -> i32 {
    -4 + 2 * i as i32
}

/// Thumb-2 BL with branch offset `imm` (the REL addend).
pub fn thumb_bl(imm: i32) -> [u8; 4] {
    let v = imm as u32;
    let s = (v >> 24) & 1;
    let (i1, i2) = ((v >> 23) & 1, (v >> 22) & 1);
    let (j1, j2) = (!(i1 ^ s) & 1, !(i2 ^ s) & 1);
    let upper = 0xf000 | (s << 10) | ((v >> 12) & 0x3ff);
    let lower = 0xd000 | (j1 << 13) | (j2 << 11) | ((v >> 1) & 0x7ff);
    let mut b = [0u8; 4];
    b[0..2].copy_from_slice(&(upper as u16).to_le_bytes());
    b[2..4].copy_from_slice(&(lower as u16).to_le_bytes());
    b
}

/// `n` Thumb-2 BLs to `printk`, each with its own addend, so each needs
/// its own veneer when printk is out of reach (row 4: 100,000 make a
/// 1.2 MB file).
pub fn thumb_branches(n: u32) -> Vec<u8> {
    let mut ko = Ko::default();
    let text: Vec<u8> = (0..n).flat_map(|i| thumb_bl(branch_addend_of(i))).collect();
    let text = ko.add(".text", SHT_PROGBITS, A | X, text);
    let symtab = ko.symtab(b"\0printk\0".to_vec(), &[sym(1, 0, 0, GLOBAL_FUNC, 0)]);
    let rels: Vec<[u8; 8]> = (0..n).map(|i| rel(4 * i, 1, R_ARM_THM_CALL)).collect();
    ko.rel(text, symtab, &rels);
    ko.bytes()
}

/// A COMMON symbol of 0xfff00000 bytes (row 6).
pub fn huge_common() -> Vec<u8> {
    let mut ko = Ko::default();
    ko.symtab(
        b"\0huge\0".to_vec(),
        &[sym(1, 4, 0xfff0_0000, GLOBAL_OBJECT, SHN_COMMON)],
    );
    ko.bytes()
}

/// A module with an `int` parameter `p` whose variable (`kernel_param.arg`)
/// is the first word of its own `.text` (row 7: a parameter must never
/// write past W^X). `init_module` is `mov r0, #0; bx lr`.
pub fn param_into_text() -> Vec<u8> {
    let mut ko = Ko::default();
    let text = ko.add(
        ".text",
        SHT_PROGBITS,
        A | X,
        [0xe3a0_0000u32, 0xe12f_ff1e]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect(),
    );
    let name = ko.add(".rodata", SHT_PROGBITS, A, b"p\0".to_vec());
    // struct kernel_param (3.18): {name, ops, perm|level|flags, arg}.
    let mut param = vec![0u8; 16];
    param[8..10].copy_from_slice(&0o644u16.to_le_bytes());
    let table = ko.add("__param", SHT_PROGBITS, A, param);
    ko.add(".modinfo", SHT_PROGBITS, A, b"license=GPL\0".to_vec());
    let symtab = ko.symtab(
        b"\0init_module\0param_ops_int\0".to_vec(),
        &[
            sym(0, 0, 0, LOCAL_SECTION, text as u16),
            sym(0, 0, 0, LOCAL_SECTION, name as u16),
            sym(1, 0, 8, GLOBAL_FUNC, text as u16),
            sym(13, 0, 0, GLOBAL_OBJECT, 0),
        ],
    );
    ko.rel(
        table,
        symtab,
        &[
            rel(0, 2, R_ARM_ABS32),
            rel(4, 4, R_ARM_ABS32),
            rel(12, 1, R_ARM_ABS32),
        ],
    );
    ko.bytes()
}

/// A module whose `.modinfo` says `name=NAME` (row 8: a name with a newline
/// could forge a line of /proc/modules).
pub fn named(name: &str) -> Vec<u8> {
    let mut ko = Ko::default();
    ko.add(
        ".text",
        SHT_PROGBITS,
        A | X,
        0xe12f_ff1eu32.to_le_bytes().to_vec(),
    );
    let mut modinfo = b"license=GPL\0name=".to_vec();
    modinfo.extend_from_slice(name.as_bytes());
    modinfo.push(0);
    ko.add(".modinfo", SHT_PROGBITS, A, modinfo);
    ko.symtab(b"\0".to_vec(), &[]);
    ko.bytes()
}

/// How [`linux61_module`] builds its file.
#[derive(Clone, Copy)]
pub struct L61 {
    /// `vermagic=` in `.modinfo` (none if `None`).
    pub vermagic: Option<&'static str>,
    /// Size of `.gnu.linkonce.this_module` (576 is 6.1's `struct module`;
    /// 0 leaves the section out).
    pub this_module: u32,
    /// Thumb-2 text (`bl` sites) instead of ARM.
    pub thumb: bool,
}

impl L61 {
    pub const DEBIAN: L61 = L61 {
        vermagic: Some("6.1.0-57-armmp SMP mod_unload modversions ARMv7 p2v8 "),
        this_module: 576,
        thumb: false,
    };
}

pub const R_ARM_CALL: u32 = 28;

/// A module shaped as Debian's 6.1 armhf ones: functions that start
/// `push {lr}; bl __gnu_mcount_nc` with the `bl`s listed in
/// `__mcount_loc` (plus one entry that is no call), a 6.1 `struct module`
/// whose `init`/`exit` (+0xcc, +0x230) the module relocates itself, a
/// `__versions` table of two entries, and one `int` parameter in 6.1's
/// 20-byte `struct kernel_param` (`{name, mod, ops, perm, arg}`).
pub fn linux61_module(o: L61) -> Vec<u8> {
    let mut ko = Ko::default();
    let words: Vec<u32> = if o.thumb {
        // push {lr} (b500); bl (f7ff fffe: addend -4); movs r0, #0; bx lr
        vec![
            0xf7ff_b500, // 0x00 init: push {lr}; 0x02 bl (upper)
            0x2000_fffe, // 0x04 bl (lower); 0x06 movs r0, #0
            0xb500_4770, // 0x08 bx lr; 0x0a exit: push {lr}
            0xfffe_f7ff, // 0x0c bl
            0xbf00_4770, // 0x10 bx lr; 0x12 nop
            0xbf00_bf00, // 0x14 nop; nop (not a call)
        ]
    } else {
        vec![
            0xe52d_e004, // 0x00 init: push {lr}
            0xebff_fffe, // 0x04 bl __gnu_mcount_nc
            0xe3a0_0000, // 0x08 mov r0, #0
            0xe12f_ff1e, // 0x0c bx lr
            0xe52d_e004, // 0x10 exit: push {lr}
            0xebff_fffe, // 0x14 bl __gnu_mcount_nc
            0xe12f_ff1e, // 0x18 bx lr
            0xe1a0_0000, // 0x1c nop: not a call
        ]
    };
    let (sites, calls, exit, thumb_bit) = if o.thumb {
        ([2u32, 0xc, 0x14], [2u32, 0xc], 0xau32, 1u32)
    } else {
        ([4u32, 0x14, 0x1c], [4u32, 0x14], 0x10u32, 0)
    };
    let text = ko.add(
        ".text",
        SHT_PROGBITS,
        A | X,
        words.iter().flat_map(|w| w.to_le_bytes()).collect(),
    );
    let mcount_loc = ko.add(
        "__mcount_loc",
        SHT_PROGBITS,
        A,
        sites.iter().flat_map(|w| w.to_le_bytes()).collect(),
    );
    let mut this = vec![0u8; o.this_module as usize];
    if let Some(name) = this.get_mut(0xc..0xf) {
        name.copy_from_slice(b"l61");
    }
    let this_module =
        (o.this_module > 0).then(|| ko.add(".gnu.linkonce.this_module", SHT_PROGBITS, W | A, this));
    let mut modinfo = b"license=GPL\0name=l61\0".to_vec();
    if let Some(v) = o.vermagic {
        modinfo.extend_from_slice(format!("vermagic={v}\0").as_bytes());
    }
    ko.add(".modinfo", SHT_PROGBITS, A, modinfo);
    let mut versions = vec![0u8; 128];
    versions[0..4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    versions[4..17].copy_from_slice(b"module_layout");
    versions[64..68].copy_from_slice(&0xdead_beefu32.to_le_bytes());
    versions[68..83].copy_from_slice(b"__gnu_mcount_nc");
    ko.add("__versions", SHT_PROGBITS, A, versions);
    let data = ko.add(".data", SHT_PROGBITS, W | A, 7u32.to_le_bytes().to_vec());
    let rodata = ko.add(".rodata", SHT_PROGBITS, A, b"count\0".to_vec());
    let mut param = vec![0u8; 20];
    param[12..14].copy_from_slice(&0o644u16.to_le_bytes());
    let params = ko.add("__param", SHT_PROGBITS, A, param);
    let strtab = b"\0init_module\0cleanup_module\0__gnu_mcount_nc\0param_ops_int\0".to_vec();
    let symtab = ko.symtab(
        strtab,
        &[
            sym(0, 0, 0, LOCAL_SECTION, text as u16),   // 1
            sym(0, 0, 0, LOCAL_SECTION, data as u16),   // 2
            sym(0, 0, 0, LOCAL_SECTION, rodata as u16), // 3
            sym(0, 0, 0, LOCAL_SECTION, this_module.unwrap_or(text) as u16), // 4
            sym(1, thumb_bit, exit, GLOBAL_FUNC, text as u16), // 5 init_module
            sym(13, exit | thumb_bit, 8, GLOBAL_FUNC, text as u16), // 6 cleanup_module
            sym(28, 0, 0, 0x10, 0),                     // 7 __gnu_mcount_nc
            sym(44, 0, 0, 0x10, 0),                     // 8 param_ops_int
        ],
    );
    let call = if o.thumb { R_ARM_THM_CALL } else { R_ARM_CALL };
    let text_rels: Vec<[u8; 8]> = calls.iter().map(|&at| rel(at, 7, call)).collect();
    ko.rel(text, symtab, &text_rels);
    let loc_rels: Vec<[u8; 8]> = (0..3).map(|i| rel(i * 4, 1, R_ARM_ABS32)).collect();
    ko.rel(mcount_loc, symtab, &loc_rels);
    if let Some(tm) = this_module
        && o.this_module >= 0x234
    {
        ko.rel(
            tm,
            symtab,
            &[rel(0xcc, 5, R_ARM_ABS32), rel(0x230, 6, R_ARM_ABS32)],
        );
    }
    let mut prels = vec![
        rel(0, 3, R_ARM_ABS32),
        rel(8, 8, R_ARM_ABS32),
        rel(16, 2, R_ARM_ABS32),
    ];
    if this_module.is_some() {
        prels.push(rel(4, 4, R_ARM_ABS32));
    }
    ko.rel(params, symtab, &prels);
    ko.bytes()
}
