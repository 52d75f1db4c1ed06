package webhook

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// ErrMalformed marks a body that is not valid JSON; the API answers 400.
var ErrMalformed = errors.New("malformed JSON")

// ErrInvalid marks a body that is valid JSON but not a valid payload for the
// source (no alerts, a missing or mistyped field, a bad status or time…); the
// API answers 422. The wrapped message names the offending field.
var ErrInvalid = errors.New("invalid payload")

// ErrIgnored marks a well-formed delivery that carries nothing Aurora acts
// on (e.g. a PagerDuty event type it does not track, or an Opsgenie action
// unrelated to status). The API stores the raw payload and answers 202 with
// accepted 0; the wrapped message says why.
var ErrIgnored = errors.New("ignored")

// ErrUnknownSource marks a source name no parser is registered for.
var ErrUnknownSource = errors.New("unknown webhook source")

// parseFunc turns one request body into alerts. It need not set Source, nor
// normalise times or lengths: Parse does that for every source alike.
type parseFunc func(body []byte, now time.Time) ([]alert.Alert, error)

// parser is one registered source.
type parser struct {
	parse parseFunc
	// textPlain lets a source's senders label JSON as text/plain (SNS does;
	// so do clients that cannot set headers).
	textPlain bool
}

// sources is the registry; a new source is one new file plus a line here.
var sources = map[string]parser{
	"alertmanager": {parse: parseAlertmanager},
	"grafana":      {parse: parseGrafana},
	"generic":      {parse: parseGeneric, textPlain: true},
	"pagerduty":    {parse: parsePagerDuty},
	"opsgenie":     {parse: parseOpsgenie},
	"datadog":      {parse: parseDatadog},
	"newrelic":     {parse: parseNewRelic},
	"cloudwatch":   {parse: parseCloudWatch, textPlain: true},
}

// Parse turns one request body from the named source into normalised alerts,
// one per alert the sender described. now stands in for start (and, for
// resolved alerts, end) times a payload lacks. Errors wrap ErrUnknownSource,
// ErrMalformed or ErrInvalid.
func Parse(source string, body []byte, now time.Time) ([]alert.Alert, error) {
	s, ok := sources[source]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSource, short(source))
	}
	alerts, err := s.parse(body, now)
	if err != nil {
		return nil, err
	}
	if len(alerts) == 0 {
		return nil, invalidf("no alerts")
	}
	if len(alerts) > MaxAlerts {
		return nil, invalidf("%d alerts, at most %d per payload", len(alerts), MaxAlerts)
	}
	for i := range alerts {
		finish(&alerts[i], source, now)
	}
	return alerts, nil
}

// finish applies the rules every source shares, so a parser that forgets one
// still yields an alert storage can key and show.
func finish(a *alert.Alert, source string, now time.Time) {
	a.Source = source
	if a.Status != alert.StatusResolved {
		a.Status = alert.StatusFiring
	}
	if !a.Severity.Valid() {
		a.Severity = alert.SeverityUnknown
	}
	if a.Fingerprint == "" {
		a.Fingerprint = alert.Fingerprint(a.Labels)
	}
	a.Title = truncateRunes(strings.TrimSpace(a.Title), MaxTitleRunes)
	if a.Title == "" {
		a.Title = "alert " + a.Fingerprint
	}
	// Name is bounded like the title: it is shown and indexed for correlation.
	a.Name = truncateRunes(strings.TrimSpace(a.Name), MaxTitleRunes)
	if a.Name == "" {
		a.Name = a.Title
	}
	a.Description = truncateBytes(strings.TrimSpace(a.Description), MaxDescriptionBytes)
	if a.StartsAt.IsZero() {
		a.StartsAt = now
	}
	a.StartsAt = a.StartsAt.UTC()
	switch {
	case a.Status == alert.StatusFiring:
		a.EndsAt = time.Time{}
	case a.EndsAt.IsZero():
		a.EndsAt = now.UTC()
	default:
		a.EndsAt = a.EndsAt.UTC()
	}
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(a.Annotations) == 0 {
		a.Annotations = nil
	}
}

// Sources lists the supported source names, sorted.
func Sources() []string {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// AcceptsContentType reports whether the named source may send a body with
// this Content-Type header value. Parameters such as charset are ignored.
// Every source accepts application/json, application/*+json and a missing
// header (many senders omit it); text/plain only for sources that say so. All
// else, notably form and multipart bodies, is refused so the API can answer
// 415 rather than report a confusing JSON error.
func AcceptsContentType(source, contentType string) bool {
	s, ok := sources[source]
	if !ok {
		return false
	}
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json":
		return true
	case strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return true
	case mt == "text/plain":
		return s.textPlain
	}
	return false
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
