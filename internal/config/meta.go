package config

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Setting describes one variable: its name, a value, what it means, and
// whether it is sensitive.
type Setting struct {
	Name string
	// Value is the effective value in Redacted and the default in Variables.
	// Secrets read "<redacted>" when set and "" when unset; URLs that may
	// carry a password (DATABASE_URL, REDIS_URL…) keep everything but the
	// password, because the host is what operators need to check.
	Value       string
	Description string
	Secret      bool
	// Default is the value used when the variable is unset or empty.
	Default string
	// Group is the area the variable belongs to, as in docs/configuration.md.
	Group string
	// Reserved marks variables read and validated now but used by a later
	// feature.
	Reserved bool
}

// redactedMark replaces secret values.
const redactedMark = "<redacted>"

// field is the metadata of one variable, read once from the struct tags.
type field struct {
	name      string
	def       string
	desc      string
	group     string
	check     string
	unit      string
	secret    bool
	urlSecret bool // only the password inside the URL is secret
	reserved  bool
	index     []int // path from Config to the field
	sf        reflect.StructField
}

var fields = sync.OnceValue(func() []field {
	var out []field
	ct := reflect.TypeFor[Config]()
	for gi := range ct.NumField() {
		g := ct.Field(gi)
		for fi := range g.Type.NumField() {
			sf := g.Type.Field(fi)
			name, _, _ := strings.Cut(sf.Tag.Get("env"), ",")
			if name == "" || name == "-" {
				continue
			}
			secret := sf.Tag.Get("secret")
			out = append(out, field{
				name:      name,
				def:       sf.Tag.Get("envDefault"),
				desc:      sf.Tag.Get("desc"),
				group:     g.Tag.Get("group"),
				check:     sf.Tag.Get("check"),
				unit:      sf.Tag.Get("unit"),
				secret:    secret != "",
				urlSecret: secret == "url",
				reserved:  g.Tag.Get("reserved") == "true" || sf.Tag.Get("reserved") == "true",
				index:     []int{gi, fi},
				sf:        sf,
			})
		}
	}
	return out
})

// fieldOrder gives each variable's position, so problems are reported in
// the same order as the docs list the variables.
var fieldOrder = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for i, f := range fields() {
		m[f.name] = i
	}
	return m
})

func (f *field) setting(value string) Setting {
	return Setting{
		Name:        f.name,
		Value:       value,
		Description: f.desc,
		Secret:      f.secret,
		Default:     f.def,
		Group:       f.group,
		Reserved:    f.reserved,
	}
}

// Variables lists every variable Aurora reads, in documentation order, with
// its default as Value.
func Variables() []Setting {
	fs := fields()
	out := make([]Setting, len(fs))
	for i := range fs {
		out[i] = fs[i].setting(fs[i].def)
	}
	return out
}

// Redacted lists every variable with its effective value, secrets hidden,
// for `aurora config`.
func (c *Config) Redacted() []Setting {
	rv := reflect.ValueOf(c).Elem()
	fs := fields()
	out := make([]Setting, len(fs))
	for i := range fs {
		f := &fs[i]
		var v string
		switch {
		case f.name == "AURORA_PUBLIC_URL":
			// Operators run `aurora config` to see the links Aurora will
			// produce, so show the derived value too.
			v = c.PublicURL()
		case f.name == "AURORA_INVESTIGATE_SEVERITIES" && len(c.Intake.InvestigateSeverities) == 0:
			v = "none"
		default:
			v = f.format(rv.FieldByIndex(f.index))
		}
		out[i] = f.setting(v)
	}
	return out
}

// format renders a field's value the way a user would write it, hiding
// secrets.
func (f *field) format(v reflect.Value) string {
	if f.urlSecret {
		return redactURL(v.String())
	}
	if f.secret {
		if v.IsZero() {
			return ""
		}
		return redactedMark
	}
	return formatValue(v, f.unit)
}

func formatValue(v reflect.Value, unit string) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		if unit == "seconds" && x%time.Second == 0 {
			return strconv.FormatInt(int64(x/time.Second), 10)
		}
		return formatDuration(x)
	case ByteSize:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		return strings.Join(x, ",")
	case string:
		return x
	}
	panic("config: no formatter for " + v.Type().String())
}

// formatDuration drops the zero tails time.Duration.String adds, so the
// defaults print as users write them ("1h", not "1h0m0s").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// redactURL hides the password of a URL, in the userinfo or in a query
// parameter, and keeps the rest. A value that does not parse is hidden
// whole, since its password cannot be located.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedMark
	}
	const placeholder = "REDACTEDPLACEHOLDER"
	if pw, ok := u.User.Password(); ok && pw != "" {
		u.User = url.UserPassword(u.User.Username(), placeholder)
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			switch strings.ToLower(k) {
			case "password", "pass", "sslpassword", "token":
				q.Set(k, placeholder)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	// url.URL would percent-encode the angle brackets of the mark.
	return strings.ReplaceAll(u.String(), placeholder, redactedMark)
}
