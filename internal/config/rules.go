package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Problem is one invalid variable and what is wrong with it.
type Problem struct {
	Name    string
	Message string
}

// String renders the problem as "NAME: message".
func (p Problem) String() string { return p.Name + ": " + p.Message }

// Error lists every invalid variable, in documentation order, so one
// restart can fix them all.
type Error struct {
	Problems []Problem
}

// Error renders all problems on one line, as a start-up log line needs.
func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

func newError(probs []Problem) *Error {
	order := fieldOrder()
	sort.SliceStable(probs, func(i, j int) bool { return order[probs[i].Name] < order[probs[j].Name] })
	return &Error{Problems: probs}
}

// problem quotes the offending value unless it is secret: an error message
// ends up in logs, where a key or password must never appear.
func (f *field) problem(msg, got string) Problem {
	switch {
	case f.urlSecret:
		got = redactURL(got)
	case f.secret:
		return Problem{Name: f.name, Message: msg}
	}
	return Problem{Name: f.name, Message: fmt.Sprintf("%s, got %q", msg, got)}
}

// rule splits a check tag such as "oneof=a|b" into its kind and arguments.
func (f *field) rule() (kind string, args []string) {
	kind, arg, _ := strings.Cut(f.check, "=")
	if arg != "" {
		args = strings.Split(arg, "|")
	}
	return kind, args
}

// expect says what a valid value looks like, from the check tag or, for
// values that failed to parse, from the field's type.
func (f *field) expect() string {
	kind, args := f.rule()
	switch kind {
	case "addr":
		return `must be host:port such as ":8080" or "127.0.0.1:8080"`
	case "url":
		schemes := make([]string, len(args))
		for i, s := range args {
			schemes[i] = s + "://"
		}
		return "must be a URL starting with " + orList(schemes)
	case "email":
		return `must be an email address containing "@"`
	case "oneof":
		return "must be one of " + orList(args)
	case "each":
		return "each entry must be one of " + orList(args)
	case "host":
		return "must be a host name or IP address, without scheme or path"
	case "port":
		return "must be a port number from 1 to 65535"
	}
	bound := ""
	if kind == "min" {
		bound = " ≥ " + args[0]
	}
	switch f.sf.Type {
	case reflect.TypeFor[time.Duration]():
		switch {
		case f.unit == "seconds":
			return `must be a whole number of seconds such as "300", or a duration such as "5m"`
		case kind == "positive":
			return `must be a duration greater than zero such as "90s", "1h30m" or "3600" (seconds)`
		default:
			return `must be a non-negative duration such as "90s", "1h30m" or "3600" (seconds)`
		}
	case reflect.TypeFor[ByteSize]():
		return "must be a byte size" + bound + ` such as "4194304", "512KiB" or "4MiB"`
	case reflect.TypeFor[bool]():
		return "must be true or false (or 1/0, yes/no)"
	case reflect.TypeFor[int]():
		return "must be an integer" + bound
	case reflect.TypeFor[float64]():
		return "must be a number" + bound
	}
	return "is invalid"
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// problems checks every field and the rules spanning several. raw, when
// known, holds what the user wrote, which messages quote in preference to
// the parsed value.
func (c *Config) problems(raw map[string]string) []Problem {
	rv := reflect.ValueOf(c).Elem()
	var out []Problem
	fs := fields()
	for i := range fs {
		f := &fs[i]
		msg, got := f.validate(rv.FieldByIndex(f.index))
		if msg == "" {
			continue
		}
		if r := raw[f.name]; r != "" && !strings.HasPrefix(f.check, "each=") {
			got = r
		}
		out = append(out, f.problem(msg, got))
	}

	d := c.Database
	if d.PoolMin >= 0 && d.PoolMax >= 1 && d.PoolMax < d.PoolMin {
		got := strconv.Itoa(d.PoolMax)
		out = append(out, Problem{"DB_POOL_MAX", fmt.Sprintf("must be ≥ DB_POOL_MIN (%d), got %q", d.PoolMin, got)})
	}
	if !c.Embedded() && c.Security.SecretKey == "" {
		out = append(out, Problem{"AURORA_SECRET_KEY", "required when using PostgreSQL so every replica shares it"})
	}
	return out
}

// validate returns what is wrong with v ("" when nothing) and the offending
// value as the user would write it.
func (f *field) validate(v reflect.Value) (msg, got string) {
	kind, args := f.rule()
	bad := func() (string, string) { return f.expect(), formatValue(v, f.unit) }

	switch x := v.Interface().(type) {
	case time.Duration:
		if x < 0 || (x == 0 && kind == "positive") {
			return bad()
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return bad()
		}
		if kind == "min" {
			if m, _ := strconv.ParseFloat(args[0], 64); x < m {
				return bad()
			}
		}
	case int:
		switch kind {
		case "port":
			if x < 1 || x > 65535 {
				return bad()
			}
		case "min":
			if m, _ := strconv.Atoi(args[0]); x < m {
				return bad()
			}
		}
	case ByteSize:
		if kind == "min" {
			if m, _ := strconv.ParseInt(args[0], 10, 64); int64(x) < m {
				return bad()
			}
		}
	case []string:
		if kind == "each" {
			for _, s := range x {
				if !slices.Contains(args, s) {
					return f.expect(), s
				}
			}
		}
	case string:
		if !validString(kind, args, x) {
			return bad()
		}
		if kind == "keyring" && x != "" {
			if _, err := ParseKeyRing(x); err != nil {
				return err.Error(), ""
			}
		}
	}
	return "", ""
}

// validString applies the string rules. Optional variables (URLs, hosts)
// may be empty; enumerations and addresses always have a default.
func validString(kind string, args []string, s string) bool {
	switch kind {
	case "addr":
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			return false
		}
		n, err := strconv.Atoi(port)
		return err == nil && n >= 0 && n <= 65535
	case "oneof":
		return slices.Contains(args, s)
	case "email":
		i := strings.LastIndex(s, "@")
		return i > 0 && i < len(s)-1
	case "host":
		return !strings.ContainsAny(s, "/?#@ \t\r\n")
	case "url":
		return s == "" || validURL(s, args)
	}
	return true
}

func validURL(s string, schemes []string) bool {
	u, err := url.Parse(s)
	if err != nil || !slices.Contains(schemes, strings.ToLower(u.Scheme)) {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "unix":
		return u.Path != ""
	case "postgres", "postgresql":
		// libpq URLs may leave the host to a query parameter (Unix sockets).
		return u.Host != "" || u.Query().Get("host") != ""
	}
	return u.Host != ""
}
