//! The kernel's export tables looked up by name length first.
//!
//! Every symbol a module imports, and every symbol it exports (Linux's
//! `verify_exported_symbols` refuses one the kernel already has), is looked
//! up in the kernel's export table of the module's ABI. Linux 6.1
//! binary-searches its sorted `__ksymtab` (`find_exported_symbol_in_section`,
//! `bsearch` with `strcmp`); Kobold's tables are short (about a hundred
//! names), and a scan that compares lengths first cost about 590
//! instructions a lookup, a binary search about as much (its `memcmp`s).
//! [`ExportIndex`] lists each table's entries by name length once, when
//! the table is built (a counting sort, stable), so a lookup only compares
//! the few names of the right length: the answer is the scan's, the first
//! entry of that name in table order.

/// Names of this many bytes or more share the last bucket (and are compared
/// whole); shorter ones have a bucket per length. The kernel's longest
/// export name is 31 bytes.
pub const INDEX_LENGTHS: usize = 40;

/// Table positions by name length; `N` is the table's length (at most
/// `u16::MAX` entries).
pub struct ExportIndex<const N: usize> {
    /// `order[starts[l]..starts[l + 1]]` are the positions of the names of
    /// `l` bytes (`l == INDEX_LENGTHS`: that many or more), in table order.
    starts: [u16; INDEX_LENGTHS + 2],
    order: [u16; N],
}

fn bucket(len: usize) -> usize {
    len.min(INDEX_LENGTHS)
}

impl<const N: usize> ExportIndex<N> {
    /// The index of the table whose `i`th name is `name(i)`.
    pub fn new<'n>(name: impl Fn(usize) -> &'n str) -> Self {
        const { assert!(N <= u16::MAX as usize) };
        let mut count = [0u16; INDEX_LENGTHS + 2];
        for i in 0..N {
            count[bucket(name(i).len()) + 1] += 1;
        }
        let mut starts = count;
        for l in 1..starts.len() {
            starts[l] += starts[l - 1];
        }
        let mut next = starts;
        let mut order = [0u16; N];
        for i in 0..N {
            let b = bucket(name(i).len());
            order[next[b] as usize] = i as u16;
            next[b] += 1;
        }
        ExportIndex { starts, order }
    }

    /// The position of the first entry of `table` named `name`, where
    /// `name_of` gives an entry's name: `table.iter().position(|e|
    /// name_of(e) == name)`, comparing only names of `name`'s length.
    pub fn find<'t, T>(
        &self,
        table: &'t [T],
        name_of: impl Fn(&'t T) -> &'t str,
        name: &str,
    ) -> Option<usize> {
        let b = bucket(name.len());
        let (from, to) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        let want = name.as_bytes();
        self.order
            .get(from..to)?
            .iter()
            .map(|&i| i as usize)
            .find(|&i| {
                // Compared in line, a byte at a time, not through `memcmp`
                // (its call and set-up cost more than these short names:
                // most of the same length differ at once).
                table
                    .get(i)
                    .is_some_and(|e| kobold_loader::name_is_bytes(name_of(e).as_bytes(), want))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// `find` answers the scan's `position` for every name of a table with
    /// names on both sides of the last bucket's bound, repeated names (the
    /// first wins), the empty name, names that share a first byte and a
    /// length, and for names the table lacks.
    #[test]
    fn index_answers_the_scan() {
        let long = |n: usize, c: char| -> String { core::iter::repeat_n(c, n).collect() };
        let mut names: Vec<String> = [
            "printk", "kfree", "kmalloc", "kzalloc", "", "memcpy", "memset", "kfree", "a", "b",
        ]
        .iter()
        .map(|s| String::from(*s))
        .collect();
        for n in [
            INDEX_LENGTHS - 1,
            INDEX_LENGTHS,
            INDEX_LENGTHS + 1,
            3 * INDEX_LENGTHS,
        ] {
            names.push(long(n, 'x'));
            names.push(long(n, 'y'));
            names.push(long(n, 'x'));
        }
        let table: [String; 22] = core::array::from_fn(|i| names[i].clone());
        let index = ExportIndex::<22>::new(|i| table[i].as_str());
        let name_of = String::as_str;
        let mut probes: Vec<String> = table.to_vec();
        for p in ["printz", "kfref", "c", "memcp", "memcpyy"] {
            probes.push(String::from(p));
        }
        for n in [
            INDEX_LENGTHS - 1,
            INDEX_LENGTHS,
            INDEX_LENGTHS + 1,
            2 * INDEX_LENGTHS,
        ] {
            probes.push(long(n, 'z'));
        }
        probes.push(long(3 * INDEX_LENGTHS, 'x'));
        let mut found = 0;
        for p in &probes {
            let want = table.iter().position(|e| e == p);
            assert_eq!(index.find(&table, name_of, p), want, "{p:?}");
            found += usize::from(want.is_some());
        }
        // The repeated names answer their first position.
        assert_eq!(index.find(&table, name_of, "kfree"), Some(1));
        assert_eq!(found, table.len() + 1);
    }
}
