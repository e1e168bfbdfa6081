//! RAII guards for what a self-test holds: buddy pages, kmaps, vm areas,
//! kmalloc blocks and loaded modules. Each gives its resource back when it
//! is dropped, so a test that returns early (an `?` on a failed operation)
//! leaves the counters it checks where they were. A test that must see the
//! result of giving something back calls the guard's consuming method
//! (`free`, `remove`) instead of letting it drop.

use crate::errno::Errno;
use crate::mm::{self, buddy::Gfp, highmem};
use crate::module::ModName;
use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

/// Blocks of buddy pages, `(pfn, order)`, freed on drop.
pub struct Pages(Vec<(u32, usize)>);

impl Pages {
    /// Room for `n` blocks, reserved up front so that pushing never
    /// allocates (and never takes pages) while the test counts them.
    pub fn with_capacity(n: usize) -> Result<Self, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        Ok(Pages(v))
    }

    /// Allocates a block of `1 << order` pages; `None` when the allocator
    /// has none or the reserved room is full.
    pub fn alloc(&mut self, gfp: Gfp, order: usize) -> Option<u32> {
        if self.0.len() == self.0.capacity() {
            return None;
        }
        let pfn = mm::page_alloc::alloc_pages(gfp, order)?;
        self.0.push((pfn, order));
        Some(pfn)
    }

    /// Takes ownership of a block allocated elsewhere; a full guard frees
    /// it at once instead.
    pub fn adopt(&mut self, pfn: u32, order: usize) {
        if self.0.len() < self.0.capacity() {
            self.0.push((pfn, order));
        } else {
            let _ = mm::page_alloc::free_pages(pfn, order);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first pfn of each block, in allocation order.
    pub fn pfns(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|&(pfn, _)| pfn)
    }

    /// Frees every block now (the guard stays, empty).
    pub fn free_all(&mut self) {
        for (pfn, order) in self.0.drain(..) {
            let _ = mm::page_alloc::free_pages(pfn, order);
        }
    }

    /// Moves the blocks out without freeing them.
    pub fn take(&mut self) -> Vec<(u32, usize)> {
        core::mem::take(&mut self.0)
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// A `kmap` of one page (a pkmap slot for highmem), `kunmap`ped on drop.
pub struct Kmap {
    pfn: u32,
    virt: u32,
}

impl Kmap {
    pub fn new(pfn: u32) -> Result<Self, Errno> {
        Ok(Kmap {
            pfn,
            virt: highmem::kmap(pfn)?,
        })
    }

    /// The page's kernel virtual address while the guard lives.
    pub fn addr(&self) -> u32 {
        self.virt
    }
}

impl Drop for Kmap {
    fn drop(&mut self) {
        let _ = highmem::kunmap(self.pfn);
    }
}

/// A `kmap_atomic` (a fixmap slot), undone on drop. Atomic kmaps stack:
/// declare nested ones after the outer one, so they drop first.
pub struct KmapAtomic(u32);

impl KmapAtomic {
    pub fn new(pfn: u32) -> Result<Self, Errno> {
        highmem::kmap_atomic(pfn).map(KmapAtomic)
    }

    pub fn addr(&self) -> u32 {
        self.0
    }
}

impl Drop for KmapAtomic {
    fn drop(&mut self) {
        highmem::kunmap_atomic(self.0);
    }
}

/// How a [`VmArea`] is given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Release {
    /// `vfree`: the area and its pages (vmalloc, module_alloc).
    Vfree,
    /// `vunmap`: the area only; the pages belong to someone else (vmap).
    Vunmap,
}

/// A vmalloc, module_alloc or vmap area, released on drop.
pub struct VmArea {
    addr: u32,
    release: Release,
}

impl VmArea {
    /// An area from `vmalloc`, `vzalloc`, `vmalloc_node_range` or
    /// `module_alloc` (freed with `vfree`).
    pub fn vmalloced(addr: u32) -> Self {
        VmArea {
            addr,
            release: Release::Vfree,
        }
    }

    /// An area from `vmap` (released with `vunmap`).
    pub fn vmapped(addr: u32) -> Self {
        VmArea {
            addr,
            release: Release::Vunmap,
        }
    }

    pub fn addr(&self) -> u32 {
        self.addr
    }

    /// Releases the area now and says how that went.
    pub fn free(self) -> Result<(), Errno> {
        let this = ManuallyDrop::new(self);
        this.release_now()
    }

    fn release_now(&self) -> Result<(), Errno> {
        match self.release {
            Release::Vfree => mm::vmalloc::vfree(self.addr),
            Release::Vunmap => mm::vmalloc::vunmap(self.addr),
        }
    }
}

impl Drop for VmArea {
    fn drop(&mut self) {
        let _ = self.release_now();
    }
}

/// A block from `kmalloc`, `kfree`d on drop.
pub struct Kmalloc(NonNull<u8>);

impl Kmalloc {
    pub fn new(size: usize) -> Option<Self> {
        mm::heap::kmalloc(size, Gfp::KERNEL).map(Kmalloc)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr()
    }
}

impl Drop for Kmalloc {
    fn drop(&mut self) {
        // SAFETY: the block came from kmalloc and only this guard frees it.
        unsafe { mm::heap::kfree(self.0) };
    }
}

/// A module this test loaded, `rmmod`ed on drop.
pub struct Loaded(ModName);

impl Loaded {
    /// `insmod` of `path` (its bytes are `bytes`) with `args`.
    pub fn insmod(path: &str, bytes: &[u8], args: &[&str]) -> Result<Self, Errno> {
        crate::module::insmod(path, bytes, args).map(Loaded)
    }

    pub fn name(&self) -> &ModName {
        &self.0
    }

    /// `rmmod` now, and how it went.
    pub fn remove(self) -> Result<(), Errno> {
        let this = ManuallyDrop::new(self);
        crate::module::rmmod(&this.0)
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let _ = crate::module::rmmod(&self.0);
    }
}
