package config

import (
	"os"
	"strings"
	"testing"
)

const docsPath = "../../docs/configuration.md"

// The reference page is the users' only list of variables, so it must
// name every variable exactly once, with the default the code applies, in
// the right section (reserved variables only under the reserved heading),
// and nothing the code does not read.
func TestDocsListEveryVariable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		def      string
		reserved bool
	}
	rows := map[string]row{}
	inReserved := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "## ") {
			inReserved = strings.HasPrefix(line, "## Reserved for later features")
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 {
			t.Errorf("short table row: %s", line)
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := rows[name]; dup {
			t.Errorf("%s is listed twice", name)
		}
		rows[name] = row{def: strings.TrimSpace(cells[1]), reserved: inReserved}
	}

	for _, v := range Variables() {
		r, ok := rows[v.Name]
		if !ok {
			t.Errorf("%s is not documented in %s", v.Name, docsPath)
			continue
		}
		delete(rows, v.Name)
		want := "—"
		if v.Default != "" {
			want = "`" + v.Default + "`"
		}
		if r.def != want {
			t.Errorf("%s: docs give default %s, code %s", v.Name, r.def, want)
		}
		if r.reserved != v.Reserved {
			t.Errorf("%s: reserved=%v in code but listed with reserved=%v in the docs", v.Name, v.Reserved, r.reserved)
		}
	}
	for name := range rows {
		t.Errorf("%s is documented but not read by the code", name)
	}
}

// The example error on the reference page must be what Load really says.
func TestDocsExampleError(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = load(t, map[string]string{"AURORA_HTTP_ADDR": "8080", "DB_POOL_MAX": "x"})
	if err == nil || !strings.Contains(string(b), err.Error()) {
		t.Errorf("docs example is stale; Load now says:\n%v", err)
	}
}
