package kb

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// HashEmbedder is a deterministic bag-of-words embedder: each word (lower
// case, a plural "s" dropped) is hashed to one of Dims signed buckets,
// weighted 1+log(tf). It knows no meaning — only shared words — so it is
// the fallback for unknown words and for tests, not the default.
type HashEmbedder struct{ Dims int }

// NewHashEmbedder returns a hashing embedder of dims dimensions (256 when
// dims ≤ 0).
func NewHashEmbedder(dims int) HashEmbedder {
	if dims <= 0 {
		dims = 256
	}
	return HashEmbedder{Dims: dims}
}

// Name identifies the vector space.
func (h HashEmbedder) Name() string { return "builtin/hash-" + itoa(h.Dims) }

// Dimensions is the vector length.
func (h HashEmbedder) Dimensions() int { return h.Dims }

// Embed hashes each text.
func (h HashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.vector(t)
	}
	return out, nil
}

func (h HashEmbedder) vector(text string) []float32 {
	v := make([]float32, h.Dims)
	tf := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		tf[w]++
	}
	for w, n := range tf {
		f := fnv.New64a()
		f.Write([]byte(w))
		x := f.Sum64()
		sign := float32(1)
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(h.Dims)] += sign * float32(1+math.Log(float64(n)))
	}
	return v
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
