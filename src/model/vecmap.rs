//! A map for a few keys (one per worker: at most 256): a vector scanned in
//! order. Each `HashMap` type costs its own copy of the hash table's code
//! (about 2 KB a type, `reserve_rehash` alone 1.4 KB), and the binary must
//! stay under 1 MiB; at 256 keys a scan is a few hundred comparisons.

#[derive(Debug, Clone)]
pub struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: PartialEq, V> VecMap<K, V> {
    pub fn get(&self, k: &K) -> Option<&V> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.0.iter_mut().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// Set `k` to `v` (in its place when it is there, else last).
    pub fn insert(&mut self, k: K, v: V) {
        match self.get_mut(&k) {
            Some(old) => *old = v,
            None => self.0.push((k, v)),
        }
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.0.iter().position(|(x, _)| x == k)?;
        Some(self.0.remove(i).1)
    }

    /// The value of `k`, made by `make` when there is none.
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.0.iter().position(|(x, _)| *x == k) {
            Some(i) => i,
            None => {
                self.0.push((k, make()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl<K: PartialEq, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(it: I) -> Self {
        let mut m = VecMap::default();
        for (k, v) in it {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut m: VecMap<u32, &str> = [(1, "a"), (2, "b"), (1, "c")].into_iter().collect();
        assert_eq!((m.len(), m.get(&1), m.get(&2), m.get(&3)), (2, Some(&"c"), Some(&"b"), None));
        assert_eq!(m.remove(&1), Some("c"));
        assert!(!m.contains_key(&1) && m.contains_key(&2));
        *m.get_or_insert_with(5, || "e") = "f";
        assert_eq!(m.get(&5), Some(&"f"));
        for v in m.values_mut() {
            *v = "z";
        }
        assert!(m.iter().all(|(_, v)| *v == "z"));
    }
}
