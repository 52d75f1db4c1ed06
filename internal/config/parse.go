package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// parsers replace caarlos0/env's defaults for the types whose accepted
// forms Aurora widens: durations also as bare seconds (the original
// deployment's TTLs are integers), booleans also as yes/no, and lists with
// the blanks around commas that hand-written env files tend to have.
var parsers = map[reflect.Type]env.ParserFunc{
	reflect.TypeFor[time.Duration](): func(s string) (any, error) { return parseDuration(s) },
	reflect.TypeFor[bool]():          func(s string) (any, error) { return parseBool(s) },
	reflect.TypeFor[ByteSize]():      func(s string) (any, error) { return ParseByteSize(s) },
	reflect.TypeFor[[]string]():      func(s string) (any, error) { return parseList(s), nil },
}

// parse fills c from getenv and returns the raw values it saw (so messages
// can quote what the user wrote) and one problem per value that did not
// parse. The error is for programming mistakes in the struct tags only.
func parse(c *Config, getenv func(string) (string, bool)) (map[string]string, []Problem, error) {
	fs := fields()
	raw := make(map[string]string, len(fs)) // non-nil, or env would read os.Environ
	for _, f := range fs {
		v, ok := getenv(f.name)
		if !ok {
			continue
		}
		// Secrets are taken verbatim: silently trimming a password would
		// make a rare but baffling authentication failure.
		if !f.secret {
			v = strings.TrimSpace(v)
		}
		raw[f.name] = v
	}

	// Each group is parsed on its own because env names a failing field by
	// its Go name only, and names such as Port repeat across groups.
	rv := reflect.ValueOf(c).Elem()
	var probs []Problem
	for gi := range rv.NumField() {
		err := env.ParseWithOptions(rv.Field(gi).Addr().Interface(), env.Options{Environment: raw, FuncMap: parsers})
		if err == nil {
			continue
		}
		var agg env.AggregateError
		if !errors.As(err, &agg) {
			return nil, nil, err
		}
		for _, e := range agg.Errors {
			var pe env.ParseError
			if !errors.As(e, &pe) {
				return nil, nil, e
			}
			f := fieldByGoName(gi, pe.Name)
			if f == nil {
				return nil, nil, e
			}
			got := raw[f.name]
			if got == "" {
				got = f.def
			}
			probs = append(probs, f.problem(f.expect(), got))
		}
	}
	normalize(c)
	return raw, probs, nil
}

func fieldByGoName(group int, name string) *field {
	fs := fields()
	for i := range fs {
		if fs[i].index[0] == group && fs[i].sf.Name == name {
			return &fs[i]
		}
	}
	return nil
}

// normalize makes enumerated values case-insensitive, so "INFO" works, and
// turns the severity list "none" into an empty list: an empty variable
// means "default", so disabling needs a word of its own.
func normalize(c *Config) {
	rv := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		kind, _, _ := strings.Cut(f.check, "=")
		v := rv.FieldByIndex(f.index)
		switch kind {
		case "oneof":
			v.SetString(strings.ToLower(v.String()))
		case "each":
			list := v.Interface().([]string)
			for i := range list {
				list[i] = strings.ToLower(list[i])
			}
		}
	}
	if s := c.Intake.InvestigateSeverities; len(s) == 1 && s[0] == "none" {
		c.Intake.InvestigateSeverities = []string{}
	}
}

var errNegative = errors.New("negative duration")

// parseDuration accepts Go durations ("90s", "1h30m") and whole seconds
// ("3600"). Negative values are refused: no setting means anything by them.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, errNegative
		}
		if n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is too long", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errNegative
	}
	return d, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

func parseList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ByteSize is a size in bytes.
type ByteSize int64

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
	"gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseByteSize reads a whole number of bytes with an optional unit:
// decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB), case-insensitive,
// e.g. "4194304", "512KiB", "1MB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("byte size %q does not start with a number", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	unit, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("unknown byte size unit in %q", s)
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("byte size %q is too large", s)
	}
	return ByteSize(n * unit), nil
}

// String prints the size in the largest binary unit that divides it
// exactly, so the default shows as "4MiB" and any value parses back.
func (b ByteSize) String() string {
	for _, u := range []struct {
		size ByteSize
		name string
	}{{GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
