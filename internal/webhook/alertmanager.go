package webhook

import (
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// parseAlertmanager reads Prometheus Alertmanager's webhook payload
// (version "4"): a notification group carrying many alerts.
func parseAlertmanager(body []byte, now time.Time) ([]alert.Alert, error) {
	return parseAlertmanagerShape(body, now, nil)
}

// alertmanagerExtra reads the per-alert fields a dialect of the Alertmanager
// payload adds (Grafana does), after the common fields are set.
type alertmanagerExtra func(o object, a *alert.Alert, l *links) error

// parseAlertmanagerShape reads the Alertmanager group payload, which Grafana
// also sends with additions. Group-level labels and annotations are not
// merged in: each alert's own labels already hold the group's.
func parseAlertmanagerShape(body []byte, now time.Time, extra alertmanagerExtra) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	groupStatus, err := status(root, "status")
	if err != nil {
		return nil, err
	}
	items, err := root.alertList()
	if err != nil {
		return nil, err
	}
	out := make([]alert.Alert, 0, len(items))
	for _, o := range items {
		a, err := alertmanagerAlert(o, groupStatus, now, extra)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func alertmanagerAlert(o object, groupStatus alert.Status, now time.Time, extra alertmanagerExtra) (alert.Alert, error) {
	// A group can mix firing and resolved alerts, so the alert's own status
	// is the truth and the group's only a default.
	st, err := status(o, "status")
	if err != nil {
		return alert.Alert{}, err
	}
	if st == "" {
		st = groupStatus
	}
	if st == "" {
		return alert.Alert{}, invalidf("%s: required when the payload has no group status", o.at("status"))
	}
	labels, err := stringMap(o, "labels", false)
	if err != nil {
		return alert.Alert{}, err
	}
	if len(labels) == 0 {
		return alert.Alert{}, invalidf("%s: must hold at least one non-empty label", o.at("labels"))
	}
	annotations, err := stringMap(o, "annotations", false)
	if err != nil {
		return alert.Alert{}, err
	}
	fp, err := fingerprint(o, "fingerprint")
	if err != nil {
		return alert.Alert{}, err
	}
	if fp == "" {
		// Alertmanager before 0.19 sent none; computing it the same way keeps
		// an alert's key stable when the sender is upgraded.
		fp = alert.Fingerprint(labels)
	}
	startsAt, err := o.time("startsAt")
	if err != nil {
		return alert.Alert{}, err
	}
	if startsAt.IsZero() {
		startsAt = now.UTC()
	}
	// endsAt is checked even when it is then ignored: a payload with an
	// unreadable time is broken, whichever alert it is on.
	endsAt, err := o.time("endsAt")
	if err != nil {
		return alert.Alert{}, err
	}
	switch {
	case st == alert.StatusFiring:
		// Older senders put a future "expected end" here while firing; it is
		// not an end.
		endsAt = time.Time{}
	case endsAt.IsZero():
		endsAt = now.UTC()
	}
	generatorURL, err := o.str("generatorURL")
	if err != nil {
		return alert.Alert{}, err
	}
	var l links
	l.add("source", generatorURL)
	l.annotationLinks(annotations)

	a := alert.Alert{
		Fingerprint: fp,
		Status:      st,
		Severity:    severityFrom(labels["severity"], labels["priority"], annotations["severity"]),
		Name:        labels["alertname"],
		Title:       first(annotations["summary"], annotations["title"], labels["alertname"]),
		Description: first(annotations["description"], annotations["message"]),
		Service:     alert.ServiceFromLabels(labels),
		Environment: environment(labels),
		Namespace:   labels["namespace"],
		Labels:      labels,
		Annotations: annotations,
		StartsAt:    startsAt,
		EndsAt:      endsAt,
	}
	if extra != nil {
		if err := extra(o, &a, &l); err != nil {
			return alert.Alert{}, err
		}
	}
	a.Links = l
	return a, nil
}
