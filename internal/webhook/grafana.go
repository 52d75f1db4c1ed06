package webhook

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// parseGrafana reads Grafana unified alerting's webhook payload: the
// Alertmanager group shape plus per-alert URLs and query values. Grafana's
// deprecated group-level title/state/message are ignored; they summarise the
// whole group and contradict per-alert statuses (state "ok" beside a
// resolved alert is the same fact, a mixed group is not).
func parseGrafana(body []byte, now time.Time) ([]alert.Alert, error) {
	return parseAlertmanagerShape(body, now, grafanaAlert)
}

var grafanaLinks = []struct{ key, text string }{
	{"dashboardURL", "dashboard"},
	{"panelURL", "panel"},
	{"silenceURL", "silence"},
	{"imageURL", "image"},
}

func grafanaAlert(o object, a *alert.Alert, l *links) error {
	for _, f := range grafanaLinks {
		u, err := o.str(f.key)
		if err != nil {
			return err
		}
		l.add(f.text, u)
	}
	valueString, err := o.str("valueString")
	if err != nil {
		return err
	}
	values, err := grafanaValues(o)
	if err != nil {
		return err
	}
	// The query value is often all that explains a Grafana alert, but it is
	// not a description: it is used only when the rule has none, and labelled.
	if strings.TrimSpace(a.Description) == "" {
		switch {
		case strings.TrimSpace(valueString) != "":
			a.Description = "Value: " + strings.TrimSpace(valueString)
		case values != "":
			a.Description = "Values: " + values
		}
	}
	return nil
}

// grafanaValues renders the "values" object (query refId -> number) as
// "B=44.2, C=1", sorted by refId.
func grafanaValues(o object) (string, error) {
	sub, ok, err := o.obj("values")
	if err != nil || !ok {
		return "", err
	}
	refs := make([]string, 0, len(sub.m))
	for k := range sub.m {
		refs = append(refs, k)
	}
	slices.Sort(refs)
	parts := make([]string, 0, len(refs))
	for _, k := range refs {
		p := sub.path + "[" + strconv.Quote(short(k)) + "]"
		if err := noNUL(p, k); err != nil {
			return "", err
		}
		var s string
		switch v := sub.m[k].(type) {
		case json.Number:
			s = v.String()
		case nil:
			s = "null"
		case string:
			if err := noNUL(p, v); err != nil {
				return "", err
			}
			s = v
		case bool:
			s = strconv.FormatBool(v)
		default:
			return "", invalidf("%s: must be a number, got %s", p, kind(v))
		}
		parts = append(parts, k+"="+s)
	}
	return strings.Join(parts, ", "), nil
}
