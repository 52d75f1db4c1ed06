package webhook

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Small assertion helpers: the module's testify would pull new go.sum
// entries, and these few cover what the tests need.

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustLen[T any](t testing.TB, s []T, n int) {
	t.Helper()
	if len(s) != n {
		t.Fatalf("len = %d, want %d: %v", len(s), n, s)
	}
}

func equal(t testing.TB, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("got  %#v\nwant %#v%s", got, want, describe(msg))
	}
}

func notEqual(t testing.TB, a, b any, msg ...any) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		t.Errorf("both are %#v%s", a, describe(msg))
	}
}

func isTrue(t testing.TB, ok bool, msg ...any) {
	t.Helper()
	if !ok {
		t.Errorf("not true%s", describe(msg))
	}
}

func contains(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}

func errIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("err = %v, want one wrapping %v", err, target)
	}
}

func describe(msg []any) string {
	if len(msg) == 0 {
		return ""
	}
	if f, ok := msg[0].(string); ok {
		return ": " + fmt.Sprintf(f, msg[1:]...)
	}
	return ""
}
