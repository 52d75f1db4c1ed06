package webhook

import (
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// parseGeneric reads Aurora's own format, for senders with no dedicated
// parser: one alert object, or {"alerts": [...]} of them. A body with an
// "alerts" member is always read as a batch, whatever else it holds.
func parseGeneric(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if _, batch := root.m["alerts"]; !batch {
		a, err := genericAlert(root, now)
		if err != nil {
			return nil, err
		}
		return []alert.Alert{a}, nil
	}
	items, err := root.alertList()
	if err != nil {
		return nil, err
	}
	out := make([]alert.Alert, 0, len(items))
	for _, o := range items {
		a, err := genericAlert(o, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func genericAlert(o object, now time.Time) (alert.Alert, error) {
	title, err := o.str("title")
	if err != nil {
		return alert.Alert{}, err
	}
	if strings.TrimSpace(title) == "" {
		return alert.Alert{}, invalidf("%s: required, a non-empty string", o.at("title"))
	}
	st, err := status(o, "status")
	if err != nil {
		return alert.Alert{}, err
	}
	if st == "" {
		st = alert.StatusFiring
	}
	// Hand-written senders put numbers and booleans in labels; their text
	// form is what a Prometheus-style label would hold.
	labels, err := stringMap(o, "labels", true)
	if err != nil {
		return alert.Alert{}, err
	}
	annotations, err := stringMap(o, "annotations", true)
	if err != nil {
		return alert.Alert{}, err
	}
	fields := map[string]string{}
	for _, k := range []string{"severity", "service", "description", "namespace", "environment"} {
		if fields[k], err = o.str(k); err != nil {
			return alert.Alert{}, err
		}
		fields[k] = strings.TrimSpace(fields[k])
		// Descriptions are cut to length later; the others are identifying
		// names, which are refused like over-long labels.
		if k != "description" && len(fields[k]) > MaxValueBytes {
			return alert.Alert{}, invalidf("%s: is %d bytes, at most %d", o.at(k), len(fields[k]), MaxValueBytes)
		}
	}
	fp, err := fingerprint(o, "fingerprint")
	if err != nil {
		return alert.Alert{}, err
	}
	if fp == "" {
		fp = genericFingerprint(title, labels, fields)
	}
	startsAt, err := o.time("starts_at")
	if err != nil {
		return alert.Alert{}, err
	}
	if startsAt.IsZero() {
		startsAt = now.UTC()
	}
	endsAt, err := o.time("ends_at")
	if err != nil {
		return alert.Alert{}, err
	}
	switch {
	case st == alert.StatusFiring:
		endsAt = time.Time{}
	case endsAt.IsZero():
		endsAt = now.UTC()
	}
	l, err := genericLinks(o)
	if err != nil {
		return alert.Alert{}, err
	}
	l.annotationLinks(annotations)

	return alert.Alert{
		Fingerprint: fp,
		Status:      st,
		Severity:    severityFrom(fields["severity"], labels["severity"], labels["priority"], annotations["severity"]),
		Name:        labels["alertname"], // Parse falls back to the cut title
		Title:       title,
		Description: first(fields["description"], annotations["description"], annotations["message"]),
		Service:     first(fields["service"], alert.ServiceFromLabels(labels)),
		Environment: first(fields["environment"], environment(labels)),
		Namespace:   first(fields["namespace"], labels["namespace"]),
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    startsAt,
		EndsAt:      endsAt,
		Links:       l,
	}, nil
}

// genericFingerprint keys an alert that came without a fingerprint. With an
// alertname label it is Alertmanager's fingerprint of the labels, so the
// title may carry changing text ("CPU at 93%") without splitting the alert.
// Without one, the labels alone could not tell "disk full" from "CPU high"
// (often both have no labels at all), so the title joins the key as the
// pseudo-label __title__. Explicit service, environment and namespace fields
// join it too (as __service__, …) for the same reason: "disk full" on two
// services is two alerts. Double-underscore names cannot clash with the
// sender's labels in Prometheus conventions.
func genericFingerprint(title string, labels, fields map[string]string) string {
	key := make(map[string]string, len(labels)+4)
	for k, v := range labels {
		key[k] = v
	}
	if labels["alertname"] == "" {
		key["__title__"] = strings.TrimSpace(title)
	}
	for _, f := range []string{"service", "environment", "namespace"} {
		if v := fields[f]; v != "" {
			key["__"+f+"__"] = v
		}
	}
	return alert.Fingerprint(key)
}

// genericLinks reads "links": an array of URL strings or {"text","url"}
// objects. Unlike URLs found in annotations, which are dropped quietly when
// unusable, a listed link that is not an http(s) URL is an error: the sender
// wrote it for Aurora and should learn it was refused.
func genericLinks(o object) (links, error) {
	list, _, err := o.arr("links")
	if err != nil {
		return nil, err
	}
	var l links
	for i, v := range list {
		p := o.at("links") + "[" + strconv.Itoa(i) + "]"
		var text, u string
		switch v := v.(type) {
		case string:
			u = v
		case map[string]any:
			lo := object{m: v, path: p}
			if text, err = lo.str("text"); err != nil {
				return nil, err
			}
			if u, err = lo.str("url"); err != nil {
				return nil, err
			}
			p = lo.at("url")
		default:
			return nil, invalidf("%s: must be a URL string or an object with url, got %s", p, kind(v))
		}
		if !l.add(truncateRunes(strings.TrimSpace(text), MaxTitleRunes), u) {
			return nil, invalidf("%s: must be an absolute http or https URL of at most %d bytes, got %q", p, MaxValueBytes, short(u))
		}
	}
	return l, nil
}
