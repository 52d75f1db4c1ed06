package investigate_test

import (
	"testing"

	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/investigate"
)

// BenchmarkBundle times offline investigations of scenario bundles: a
// typical pod incident and a 200-file noisy bundle. Loading is outside the
// timed loop; analysis, ranking and the report are inside.
func BenchmarkBundle(b *testing.B) {
	for _, name := range []string{"oom-cart-api", "node-notready-worker", "dependency-postgres-refused-orders"} {
		b.Run(name, func(b *testing.B) {
			bd, err := bundle.Load("../../testdata/scenarios/" + name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = investigate.Bundle(bd)
			}
			b.ReportMetric(float64(len(bd.Items)), "files")
		})
	}
}
