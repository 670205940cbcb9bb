package model

import (
	"unsafe"

	"github.com/gptviz/gptviz/model/trace"
)

// slab hands out slices of T carved from large chunks, so a recorder
// that stores many small slices in a Trace allocates a chunk now and then
// instead of each slice. The slices it returns are the Trace's: a chunk is
// never reused or written again once carved (a full chunk is dropped and a
// fresh one started), and each slice is capped at its length, so an
// append by a reader copies instead of writing into a neighbour.
type slab[T any] struct {
	buf  []T
	next int // the next chunk's length, in elements
}

// slabChunkBytes bounds a chunk: chunks start at slabFirstBytes and double
// up to this size, so a short run keeps little and a long one allocates
// rarely.
const (
	slabFirstBytes = 16 << 10
	slabChunkBytes = 4 << 20
)

// take returns a zeroed slice of n elements (non-nil, also for n = 0).
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return make([]T, 0) // no allocation: a zero-length make is not nil
	}
	if cap(s.buf)-len(s.buf) < n {
		var zero T
		size := max(int(unsafe.Sizeof(zero)), 1)
		if s.next == 0 {
			s.next = max(slabFirstBytes/size, 1)
		}
		c := max(s.next, n)
		if s.next*size < slabChunkBytes {
			s.next *= 2
		}
		s.buf = make([]T, 0, c)
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i+n : i+n]
}

// copyOf returns a slab copy of x.
func (s *slab[T]) copyOf(x []T) []T {
	out := s.take(len(x))
	copy(out, x)
	return out
}

// recSlabs are the recorder's slabs, one per element type a Step holds.
type recSlabs struct {
	f32      slab[float32]
	rows     slab[[]float32]   // rows of a matrix: attention rows, norms, K/V rows
	mats     slab[[][]float32] // the heads of a layer's attention
	layers   slab[trace.LayerAttention]
	ints     slab[int]
	lens     slab[trace.LensEntry]
	lensRows slab[[]trace.LensEntry]
	cands    slab[trace.Candidate]
	filters  slab[trace.FilterResult]
	preds    slab[trace.Prediction]
	tops     slab[trace.TopLogits]
	kvw      slab[trace.KVWrite]
}

// split returns x as rows of n, copied into the slabs.
func (s *recSlabs) split(x []float32, n int) [][]float32 {
	out := s.rows.take(len(x) / n)
	data := s.f32.copyOf(x[:len(out)*n])
	for i := range out {
		out[i] = data[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}

// rowNorms returns the L2 norm of each row of x [rows][C], in the slabs.
func (s *recSlabs) rowNorms(x []float32, C int) []float32 {
	out := s.f32.take(len(x) / C)
	rowNormsInto(out, x, C)
	return out
}

// blockAverage is trace.BlockAverage(row, stride) written into the slabs
// (the same float32 sums and quotients).
func (s *recSlabs) blockAverage(row []float32, stride int) []float32 {
	if stride <= 1 {
		return s.f32.copyOf(row)
	}
	out := s.f32.take((len(row) + stride - 1) / stride)
	for i := range out {
		blk := row[i*stride : min((i+1)*stride, len(row))]
		var v float32
		for _, x := range blk {
			v += x
		}
		out[i] = v / float32(len(blk))
	}
	return out
}
