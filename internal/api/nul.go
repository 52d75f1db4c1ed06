package api

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/aurora-oss/aurora/internal/storage"
)

// PostgreSQL text holds neither U+0000 nor invalid UTF-8, which JSON
// ("\u0000") and URLs ("%00", "%FF") can carry. Refused at the door, they
// are a 400 or 422 naming the field; let through, a look-up or insert fails
// in the database, which the client sees as a 500 and retries.

// badText reports whether s cannot be stored as PostgreSQL text.
func badText(s string) bool { return !storage.IsText(s) }

// badURL names the part of a request's URL that cannot be stored as text,
// or returns "".
func badURL(u *url.URL) string {
	if badText(u.Path) {
		return "the path"
	}
	// The pairs handlers will see (r.URL.Query() keeps the well-formed ones
	// of a query with a malformed escape; so does this).
	q, _ := url.ParseQuery(u.RawQuery)
	for k, vs := range q {
		if badText(k) {
			return "a query parameter's name"
		}
		for _, v := range vs {
			if badText(v) {
				return "query parameter " + strconv.Quote(k)
			}
		}
	}
	return ""
}

// nulField finds the first string in a decoded request body holding U+0000
// (encoding/json already replaced invalid UTF-8) and returns its path, as
// the webhook parsers name fields: name.sub, list[2], map["key"].
func nulField(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := name
			switch {
			case f.Anonymous:
				p = path
			case path != "":
				p = path + "." + name
			}
			if bad, ok := nulField(v.Field(i), p); ok {
				return bad, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // []byte: raw bytes, not text
		}
		for i := range v.Len() {
			if bad, ok := nulField(v.Index(i), path+"["+strconv.Itoa(i)+"]"); ok {
				return bad, true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			kp := path + "[" + strconv.Quote(it.Key().String()) + "]"
			if _, ok := nulField(it.Key(), kp); ok {
				return kp, true
			}
			if bad, ok := nulField(it.Value(), kp); ok {
				return bad, true
			}
		}
	}
	return "", false
}
