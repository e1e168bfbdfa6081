//! vmalloc: virtually contiguous, physically scattered kernel memory
//! (Linux mm/vmalloc.c), and the vm areas behind it.
//!
//! [`vmalloc_node_range`] is the one primitive, as Linux's
//! `__vmalloc_node_range(size, align, start, end, gfp, prot, caller)`:
//!
//! 1. reserve a vmap area of `size` + one guard page in the window
//!    (`mm::vmap`, O(log n));
//! 2. take the pages one at a time from the buddy allocator — from HighMem
//!    first when `gfp` has `__GFP_HIGHMEM`, so they are physically scattered
//!    and need no lowmem;
//! 3. map each at the next virtual page with `prot`; with `__GFP_ZERO` the
//!    page is cleared first through `kmap_atomic` (it may have no other
//!    kernel mapping).
//!
//! Any failure unwinds everything done so far: no page, no area, no mapping
//! is left behind (second-level tables stay: they belong to the window and
//! are reused, as Linux keeps its vmalloc page tables).
//!
//! The request is checked before anything is allocated, as Linux's
//! `__vmalloc_node_range` does (`!size || size >> PAGE_SHIFT >
//! totalram_pages` → NULL): size 0, a size that overflows when rounded up,
//! more pages than the machine has, or an area (guard page included)
//! larger than the window is -ENOMEM at once. Every allocation on the
//! vmalloc, vfree, vmap and module_alloc paths is fallible: the `pages`
//! vector (`try_reserve_exact`), the areas list (`mm::vm_areas`: a vector
//! per window sorted by address, grown with `try_reserve` before the vmap
//! area is taken), and
//! the vmap allocator's own arena (see `mm::vmap`); vfree allocates
//! nothing. The vmap-area reservation consults fault injection
//! (`fail_vmap_area=`).
//!
//! Two windows exist: the vmalloc range `[VMALLOC_START, VMALLOC_END)` and
//! the module window `[MODULES_VADDR, MODULES_END)` that `module_alloc`
//! uses. `/proc/vmallocinfo` lists both, in Linux's 3.18 format.

use super::buddy::{Gfp, Pfn};
use super::fault_inject::{self, Site};
use super::pgtable::Prot;
use super::vm_areas::{AreaIndex, AreaList, AreaStart};
use super::vmap::{VmapAllocator, with_guard};
use super::{highmem, map_page, page_alloc, unmap_page};
use crate::errno::Errno;
use crate::sync::Mutex;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE};

/// Which window an area lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// `[VMALLOC_START, VMALLOC_END)`.
    Vmalloc,
    /// `[MODULES_VADDR, MODULES_END)`.
    Modules,
}

/// What an area holds (Linux's VM_* flags shown by /proc/vmallocinfo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vmalloc,
    /// Pages the caller owns, mapped by `vmap` (not freed by `vunmap`).
    Vmap,
    Ioremap {
        phys: u32,
    },
}

/// Linux's `struct vm_struct`.
#[derive(Debug)]
pub struct VmArea {
    pub addr: u32,
    /// Bytes including the guard page, as Linux's `vm->size`.
    pub size: u32,
    pub pages: Vec<Pfn>,
    /// The allocating function's address, shown as `symbol+off/size`.
    pub caller: u32,
    pub kind: Kind,
}

impl AreaStart for VmArea {
    fn start(&self) -> u32 {
        self.addr
    }
}

struct Vm {
    vmalloc: VmapAllocator,
    modules: VmapAllocator,
    /// Every area, listed by address (one sorted vector per window:
    /// `mm::vm_areas`).
    areas: AreaList<VmArea>,
}

/// Both windows and the area list: a plain static, not a `Once`, so that
/// [`init`] sets the allocators up in place (built and then moved into a
/// `Once`, they were copied from frame to frame on the way in). Until
/// `init` has run ([`READY`]) nothing here is used: [`vm`] fails as an
/// empty `Once` did.
static VM: Mutex<Vm> = Mutex::new(UNSET);

/// Before [`init`]: no windows, no areas, no memory.
const UNSET: Vm = Vm {
    vmalloc: VmapAllocator::unset(),
    modules: VmapAllocator::unset(),
    areas: AreaList::new((0, 0)),
};

/// Whether [`init`] has set the windows up.
static READY: AtomicBool = AtomicBool::new(false);

fn vm() -> Result<&'static Mutex<Vm>, Errno> {
    if READY.load(Ordering::Acquire) {
        Ok(&VM)
    } else {
        Err(Errno::ENOMEM)
    }
}

/// Room reserved when the windows are set up for the vmalloc window's
/// first areas, in its allocator's busy vector and in the areas list: the
/// boot's five `ioremap`s (UART, system registers, GIC distributor and CPU
/// interface, SP804) and the initramfs's `vmap` are recorded without
/// regrowing either. Eight is what both had grown to by the fifth
/// `ioremap` (four, doubled), so the heap hands out the same bytes as
/// before (/proc/meminfo's `Slab:`); what goes is the regrowth itself
/// (allocate, copy, free the old vector), which was the boot's only
/// `realloc` and `dealloc`.
const BOOT_AREAS: usize = 8;

/// Sets up both windows and records the static DEBUG_LL mapping made by
/// boot.S as an area (Linux's `iotable_init` → `vm_area_add_early`).
pub fn init(
    vmalloc: (u32, u32),
    modules: (u32, u32),
    static_maps: &[(u32, u32, u32, u32)],
) -> Result<(), Errno> {
    let mut vm = VM.lock();
    // As with a `Once`: the first set-up stays.
    if READY.load(Ordering::Acquire) {
        return Ok(());
    }
    let set_up = set_up(&mut vm, vmalloc, modules, static_maps);
    match set_up {
        Ok(()) => READY.store(true, Ordering::Release),
        Err(_) => *vm = UNSET,
    }
    set_up
}

/// [`init`]'s work, in place in the locked static.
fn set_up(
    vm: &mut Vm,
    vmalloc: (u32, u32),
    modules: (u32, u32),
    static_maps: &[(u32, u32, u32, u32)],
) -> Result<(), Errno> {
    let Vm {
        vmalloc: v,
        modules: m,
        areas,
    } = vm;
    v.set_window(vmalloc.0, vmalloc.1, BOOT_AREAS)
        .map_err(|_| Errno::EINVAL)?;
    m.set_window(modules.0, modules.1, 0)
        .map_err(|_| Errno::EINVAL)?;
    areas
        .set_up(modules, BOOT_AREAS)
        .map_err(|_| Errno::ENOMEM)?;
    for &(virt, size, phys, caller) in static_maps {
        if virt >= vmalloc.0 && virt < vmalloc.1 {
            areas.try_reserve(false).map_err(|_| Errno::ENOMEM)?;
            if v.reserve(virt, size).is_ok() {
                let area = VmArea {
                    addr: virt,
                    size,
                    pages: Vec::new(),
                    caller,
                    kind: Kind::Ioremap { phys },
                };
                // Room was reserved just above.
                areas.insert(area).map_err(|_| Errno::ENOMEM)?;
            }
        }
    }
    Ok(())
}

impl Vm {
    /// Reserves a vmap area of `size` bytes (guard included) in `w`, with
    /// room in the areas list for its record: the one place vmap areas are
    /// allocated (and where `fail_vmap_area` is consulted).
    fn alloc_area(&mut self, w: Window, size: u32, align: u32) -> Result<u32, Errno> {
        if fault_inject::should_fail(Site::VmapArea, size as usize) {
            return Err(Errno::ENOMEM);
        }
        self.areas
            .try_reserve(w == Window::Modules)
            .map_err(|_| Errno::ENOMEM)?;
        self.window(w).alloc(size, align).map_err(|_| Errno::ENOMEM)
    }

    /// Records an area (room was reserved by `alloc_area`; if it is gone,
    /// the area is handed back to the caller to unwind).
    fn insert(&mut self, area: VmArea) -> Result<(), VmArea> {
        self.areas.insert(area)
    }

    fn find(&self, addr: u32) -> Option<AreaIndex> {
        self.areas.find(addr)
    }

    fn window(&mut self, w: Window) -> &mut VmapAllocator {
        match w {
            Window::Vmalloc => &mut self.vmalloc,
            Window::Modules => &mut self.modules,
        }
    }

    fn window_of(&mut self, addr: u32) -> &mut VmapAllocator {
        let (s, e) = self.modules.window();
        if (addr as u64) >= s && (addr as u64) < e {
            &mut self.modules
        } else {
            &mut self.vmalloc
        }
    }
}

/// Undoes the first `mapped` pages of an area and gives everything back.
fn unwind(addr: u32, pages: &[Pfn], mapped: usize) {
    for i in 0..mapped {
        // SAFETY: these pages were mapped by this area and nothing else
        // refers to them.
        unsafe { unmap_page(addr + (i as u32) * PAGE_SIZE) };
    }
    for &pfn in pages {
        let _ = page_alloc::free_pages(pfn, 0);
    }
}

/// Linux's `__vmalloc_node_range`: `size` bytes (page rounded), aligned to
/// `align`, in `window`, pages from `gfp`, mapped with `prot`.
pub fn vmalloc_node_range(
    size: u32,
    align: u32,
    window: Window,
    gfp: Gfp,
    prot: Prot,
    caller: u32,
) -> Result<u32, Errno> {
    let area_size = check_request(size, window)?;
    let npages = ((area_size - PAGE_SIZE) / PAGE_SIZE) as usize;
    let mut pages = Vec::new();
    pages.try_reserve_exact(npages).map_err(|_| Errno::ENOMEM)?;
    let addr = vm()?.lock().alloc_area(window, area_size, align)?;
    let fail = |pages: &[Pfn], mapped: usize| {
        unwind(addr, pages, mapped);
        let _ = vm().map(|v| v.lock().window(window).free(addr));
        Err(Errno::ENOMEM)
    };
    for i in 0..npages {
        let Some(pfn) = page_alloc::alloc_pages(gfp, 0) else {
            return fail(&pages, i);
        };
        // Within the capacity reserved above.
        pages.push(pfn);
        if gfp.contains(Gfp::ZERO) {
            match highmem::kmap_atomic(pfn) {
                Ok(v) => {
                    // SAFETY: `v` maps the whole fresh page.
                    unsafe { core::ptr::write_bytes(v as *mut u8, 0, PAGE_SIZE as usize) };
                    highmem::kunmap_atomic(v);
                }
                Err(_) => return fail(&pages, i),
            }
        }
        // SAFETY: the virtual page belongs to the area just reserved.
        if unsafe { map_page(addr + (i as u32) * PAGE_SIZE, pfn << PAGE_SHIFT, prot) }.is_err() {
            return fail(&pages, i);
        }
    }
    let area = VmArea {
        addr,
        size: area_size,
        pages,
        caller,
        kind: Kind::Vmalloc,
    };
    let inserted = vm()?.lock().insert(area);
    if let Err(area) = inserted {
        return fail(&area.pages, npages);
    }
    Ok(addr)
}

/// The request checks of Linux's `__vmalloc_node_range`, before anything
/// is allocated: the area size (page rounded, guard page included), or
/// -ENOMEM for 0, overflow, more pages than RAM, or more than the window.
fn check_request(size: u32, window: Window) -> Result<u32, Errno> {
    if size == 0 {
        return Err(Errno::ENOMEM);
    }
    let size = size
        .checked_next_multiple_of(PAGE_SIZE)
        .ok_or(Errno::ENOMEM)?;
    if (size / PAGE_SIZE) as u64 > page_alloc::counters().totalram {
        return Err(Errno::ENOMEM);
    }
    let area_size = with_guard(size).ok_or(Errno::ENOMEM)?;
    let vm = vm()?.lock();
    let (start, end) = match window {
        Window::Vmalloc => vm.vmalloc.window(),
        Window::Modules => vm.modules.window(),
    };
    if area_size as u64 > end - start {
        return Err(Errno::ENOMEM);
    }
    Ok(area_size)
}

/// Linux's `vmalloc(size)`: GFP_KERNEL | __GFP_HIGHMEM, PAGE_KERNEL.
pub fn vmalloc(size: u32, caller: u32) -> Result<u32, Errno> {
    vmalloc_node_range(
        size,
        1,
        Window::Vmalloc,
        Gfp::KERNEL.union(Gfp::HIGHMEM),
        Prot::KERNEL_RW,
        caller,
    )
}

/// Linux's `vzalloc(size)`: vmalloc, zeroed.
pub fn vzalloc(size: u32, caller: u32) -> Result<u32, Errno> {
    let gfp = Gfp::KERNEL.union(Gfp::HIGHMEM).union(Gfp::ZERO);
    vmalloc_node_range(size, 1, Window::Vmalloc, gfp, Prot::KERNEL_RW, caller)
}

/// Linux's `vfree(addr)`: -EINVAL for an address that starts no area
/// (Linux warns "Trying to vfree() nonexistent vm area").
pub fn vfree(addr: u32) -> Result<(), Errno> {
    let mut vm = vm()?.lock();
    let i = vm.find(addr).ok_or(Errno::EINVAL)?;
    let area = vm.areas.remove(i).ok_or(Errno::EINVAL)?;
    match area.kind {
        Kind::Vmalloc => unwind(addr, &area.pages, area.pages.len()),
        Kind::Vmap => {
            // SAFETY: the area's own pages; they stay the caller's.
            unsafe { super::unmap_range(addr, area.size - PAGE_SIZE) };
        }
        Kind::Ioremap { .. } => {
            // Pages, or whole sections for a static map made by boot.S.
            let end = addr as u64 + area.size as u64;
            let mut v = addr as u64;
            while v < end {
                let va = v as u32;
                if let super::pgtable::L1Entry::Section { .. } =
                    super::pgtable::decode_l1(super::read_l1(va))
                {
                    // SAFETY: the area's own section, no longer used.
                    unsafe { super::set_l1(va, 0) };
                    v = (v | 0xf_ffff) + 1;
                } else {
                    // SAFETY: the area's own mapping, no longer used.
                    unsafe { unmap_page(va) };
                    v += PAGE_SIZE as u64;
                }
            }
        }
    }
    vm.window_of(addr).free(addr).map_err(|_| Errno::EINVAL)?;
    Ok(())
}

/// Linux's `vmap(pages, count, flags, prot)`: maps pages the caller owns
/// contiguously in the vmalloc range (with a guard page). [`vunmap`]
/// removes the mapping and leaves the pages to the caller.
pub fn vmap(pages: &[Pfn], prot: Prot, caller: u32) -> Result<u32, Errno> {
    let size = u32::try_from(pages.len())
        .ok()
        .and_then(|n| n.checked_mul(PAGE_SIZE))
        .ok_or(Errno::EINVAL)?;
    if size == 0 {
        return Err(Errno::EINVAL);
    }
    let mut owned = Vec::new();
    owned
        .try_reserve_exact(pages.len())
        .map_err(|_| Errno::ENOMEM)?;
    owned.extend_from_slice(pages);
    let area_size = with_guard(size).ok_or(Errno::ENOMEM)?;
    let addr = vm()?.lock().alloc_area(Window::Vmalloc, area_size, 1)?;
    for (i, &pfn) in pages.iter().enumerate() {
        // SAFETY: pages of the area just reserved.
        if unsafe { map_page(addr + i as u32 * PAGE_SIZE, pfn << PAGE_SHIFT, prot) }.is_err() {
            // SAFETY: undoing exactly the pages mapped above.
            unsafe { super::unmap_range(addr, i as u32 * PAGE_SIZE) };
            let _ = vm()?.lock().vmalloc.free(addr);
            return Err(Errno::ENOMEM);
        }
    }
    let inserted = vm()?.lock().insert(VmArea {
        addr,
        size: area_size,
        pages: owned,
        caller,
        kind: Kind::Vmap,
    });
    if inserted.is_err() {
        // SAFETY: undoing exactly the pages mapped above.
        unsafe { super::unmap_range(addr, size) };
        let _ = vm()?.lock().vmalloc.free(addr);
        return Err(Errno::ENOMEM);
    }
    Ok(addr)
}

/// Linux's `vunmap(addr)`: only for areas made by [`vmap`].
pub fn vunmap(addr: u32) -> Result<(), Errno> {
    let is_vmap = {
        let vm = vm()?.lock();
        vm.find(addr)
            .and_then(|i| vm.areas.get(i))
            .is_some_and(|a| a.kind == Kind::Vmap)
    };
    if !is_vmap {
        return Err(Errno::EINVAL);
    }
    vfree(addr)
}

/// Linux's `ioremap(phys, size)`: device memory in the vmalloc range,
/// aligned like Linux's IOREMAP_MAX_ORDER rule.
pub fn ioremap(phys: u32, size: u32, caller: u32) -> Result<u32, Errno> {
    let offset = phys & (PAGE_SIZE - 1);
    let base = phys - offset;
    let len = (size.checked_add(offset).ok_or(Errno::EINVAL)?)
        .checked_next_multiple_of(PAGE_SIZE)
        .ok_or(Errno::EINVAL)?;
    let order = (32 - len.leading_zeros()).clamp(12, 24);
    let addr = vm()?.lock().alloc_area(
        Window::Vmalloc,
        with_guard(len).ok_or(Errno::ENOMEM)?,
        1 << order,
    )?;
    // SAFETY: the pages of the area just reserved; map_range unwinds itself.
    if unsafe { super::map_range(addr, base, len, Prot::DEVICE) }.is_err() {
        let _ = vm()?.lock().vmalloc.free(addr);
        return Err(Errno::ENOMEM);
    }
    let area = VmArea {
        addr,
        size: len + PAGE_SIZE,
        pages: Vec::new(),
        caller,
        kind: Kind::Ioremap { phys: base },
    };
    let inserted = vm()?.lock().insert(area);
    if inserted.is_err() {
        // SAFETY: the mapping just made, nothing else uses it.
        unsafe { super::unmap_range(addr, len) };
        let _ = vm()?.lock().vmalloc.free(addr);
        return Err(Errno::ENOMEM);
    }
    Ok(addr + offset)
}

/// VmallocUsed and VmallocChunk in bytes (Linux 3.18 `get_vmalloc_info`:
/// areas inside the vmalloc range only, guard pages included).
pub fn vmalloc_info() -> (u64, u64) {
    match vm() {
        Ok(v) => {
            let v = v.lock();
            (v.vmalloc.busy_bytes(), v.vmalloc.largest_free() as u64)
        }
        Err(_) => (0, 0),
    }
}

/// Number of live areas in both windows.
pub fn area_count() -> usize {
    vm().map_or(0, |v| v.lock().areas.len())
}

/// One /proc/vmallocinfo line (mm/vmalloc.c `s_show`, 3.18):
/// `0x%pK-0x%pK %7ld %pS pages=%d phys=%llx ioremap|vmalloc`.
pub fn write_area(
    out: &mut dyn Write,
    a: &VmArea,
    syms: Option<&crate::kallsyms::Table<'_>>,
) -> fmt::Result {
    write!(
        out,
        "0x{:08x}-0x{:08x} {:7} ",
        a.addr,
        a.addr as u64 + a.size as u64,
        a.size
    )?;
    crate::kallsyms::write_symbol(out, syms, a.caller)?;
    match a.kind {
        Kind::Vmalloc => writeln!(out, " pages={} vmalloc", a.pages.len()),
        Kind::Vmap => writeln!(out, " pages={} vmap", a.pages.len()),
        Kind::Ioremap { phys } => writeln!(out, " phys={phys:x} ioremap"),
    }
}

/// Writes /proc/vmallocinfo.
pub fn write_vmallocinfo(out: &mut dyn Write) -> fmt::Result {
    let Ok(v) = vm() else { return Ok(()) };
    let syms = crate::kallsyms::kernel_table();
    for a in v.lock().areas.iter() {
        write_area(out, a, syms.as_ref())?;
    }
    Ok(())
}

/// The physical page behind each page of the area at `addr` (for tests
/// and `pt` demonstrations); `None` also when the copy cannot be allocated.
pub fn area_pages(addr: u32) -> Option<Vec<Pfn>> {
    let vm = vm().ok()?.lock();
    let a = vm.areas.get(vm.find(addr)?)?;
    let mut v = Vec::new();
    v.try_reserve_exact(a.pages.len()).ok()?;
    v.extend_from_slice(&a.pages);
    Some(v)
}
