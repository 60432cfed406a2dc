//! [`InlineVec`]: a list that keeps its first items inline.

/// How many members are kept on the stack before the list moves to the heap.
pub(crate) const INLINE_MEMBERS: usize = 40;

/// A list that keeps its first `N` items inline and moves to the heap past that.
#[derive(Clone, Debug)]
pub(crate) struct InlineVec<T: Copy + Default, const N: usize> {
    len: usize,
    inline: [T; N],
    heap: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        Self { len: 0, inline: [T::default(); N], heap: Vec::new() }
    }
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    #[inline(always)]
    pub(crate) fn push(&mut self, item: T) {
        if self.len < N {
            self.inline[self.len] = item;
            self.len += 1;
        } else {
            self.push_on_heap(item);
        }
    }

    /// [`push`](Self::push) past the first `N` items (rare): out of line, so that the
    /// common case inlines to a store.
    #[cold]
    #[inline(never)]
    fn push_on_heap(&mut self, item: T) {
        if self.len == N {
            self.heap.reserve(2 * N);
            self.heap.extend_from_slice(&self.inline);
        }
        self.heap.push(item);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        if self.len <= N { &self.inline[..self.len] } else { &self.heap }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.len <= N { &mut self.inline[..self.len] } else { &mut self.heap }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }
}
