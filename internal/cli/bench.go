package cli

import (
	"context"
	"fmt"
	"io"
)

// benchMain is replaced by the load generator (bench ingest).
func benchMain(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "aurora bench: not built yet")
	return 2
}
