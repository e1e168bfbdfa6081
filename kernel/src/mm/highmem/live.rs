//! kmap and kmap_atomic on the running kernel: the pkmap table and the
//! atomic slot count as globals, the page-table edits that map a slot.
//! Target only; the slot bookkeeping ([`PkmapTable`]) is host-tested.

use super::{KM_TYPE_NR, PkmapTable, Slot, pkmap_addr};
use crate::errno::Errno;
use crate::mm::{fixmap, map_page, pgtable::Prot, unmap_page};
use crate::sync::Mutex;
use kobold_layout::{PAGE_SHIFT, phys_to_virt};

static PKMAP: Mutex<PkmapTable> = Mutex::new(PkmapTable::new());
static ATOMIC_DEPTH: Mutex<usize> = Mutex::new(0);

fn is_lowmem(pfn: u32) -> bool {
    let limit = crate::mm::init::lowmem_limit();
    ((pfn as u64) << PAGE_SHIFT) < limit
}

/// Maps page frame `pfn` and returns its kernel virtual address.
pub fn kmap(pfn: u32) -> Result<u32, Errno> {
    if is_lowmem(pfn) {
        return Ok(phys_to_virt(pfn << PAGE_SHIFT));
    }
    let mut t = PKMAP.lock();
    match t.get(pfn).ok_or(Errno::ENOMEM)? {
        Slot::Existing(i) => Ok(pkmap_addr(i)),
        Slot::New(i) => {
            // SAFETY: slot `i` was free, so nothing uses its address.
            if unsafe { map_page(pkmap_addr(i), pfn << PAGE_SHIFT, Prot::KERNEL_RW) }.is_err() {
                let _ = t.put(pfn);
                return Err(Errno::ENOMEM);
            }
            Ok(pkmap_addr(i))
        }
    }
}

/// Releases a mapping made by [`kmap`].
pub fn kunmap(pfn: u32) -> Result<(), Errno> {
    if is_lowmem(pfn) {
        return Ok(());
    }
    match PKMAP.lock().put(pfn) {
        // SAFETY: the slot's last user just released it.
        Ok(Some(i)) => unsafe { unmap_page(pkmap_addr(i)) },
        Ok(None) => {}
        Err(_) => return Err(Errno::EINVAL),
    }
    Ok(())
}

/// Slots of the pkmap window in use.
pub fn pkmap_in_use() -> usize {
    PKMAP.lock().in_use()
}

/// `kmap_atomic`: maps `pfn` at the next fixmap slot. Pair every call
/// with [`kunmap_atomic`], innermost first.
pub fn kmap_atomic(pfn: u32) -> Result<u32, Errno> {
    if is_lowmem(pfn) {
        return Ok(phys_to_virt(pfn << PAGE_SHIFT));
    }
    let mut depth = ATOMIC_DEPTH.lock();
    if *depth == KM_TYPE_NR {
        return Err(Errno::ENOMEM);
    }
    let virt = fixmap::fix_to_virt(fixmap::FIX_KMAP_BEGIN + *depth);
    // SAFETY: slots above `depth` are unused.
    unsafe { map_page(virt, pfn << PAGE_SHIFT, Prot::KERNEL_RW) }.map_err(|_| Errno::ENOMEM)?;
    *depth += 1;
    Ok(virt)
}

/// Undoes the innermost [`kmap_atomic`] (`virt` is its address).
pub fn kunmap_atomic(virt: u32) {
    let mut depth = ATOMIC_DEPTH.lock();
    if *depth > 0 && virt == fixmap::fix_to_virt(fixmap::FIX_KMAP_BEGIN + *depth - 1) {
        *depth -= 1;
        // SAFETY: the innermost atomic mapping, released by its user.
        unsafe { unmap_page(virt) };
    }
}
