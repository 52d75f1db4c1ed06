package auth

import (
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("right password refused")
	}
	if CheckPassword(h, "correct horse batterx") {
		t.Error("wrong password accepted")
	}
	if CheckPassword("garbage", "x") {
		t.Error("garbage hash accepted")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("short password accepted")
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		have, need Role
		ok         bool
	}{
		{Admin, Viewer, true}, {Admin, Admin, true}, {Editor, Admin, false}, {Viewer, Editor, false}, {Editor, Editor, true}, {Role("x"), Viewer, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%s.Allows(%s) = %v", c.have, c.need, got)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := NewToken(APITokenPrefix), NewToken(APITokenPrefix)
	if a == b || !strings.HasPrefix(a, "aur_") || len(a) < 40 {
		t.Fatalf("bad tokens %q %q", a, b)
	}
	if !EqualHash(HashToken(a), HashToken(a)) || EqualHash(HashToken(a), HashToken(b)) {
		t.Error("hash comparison wrong")
	}
}
