// Package webhook turns webhook request bodies from alert senders into
// normalised alerts (alert.Alert), one parser per source in a small registry
// (the sources map in webhook.go): a new source is one file and one line.
// Parse, Sources and AcceptsContentType are safe for concurrent use.
//
// Sources: "alertmanager" (Prometheus Alertmanager webhook, version 4),
// "grafana" (Grafana unified alerting webhook), "pagerduty" (v3 webhooks),
// "opsgenie", "datadog", "newrelic" (workflows), "cloudwatch" (CloudWatch
// alarms through Amazon SNS) and "generic" (Aurora's own format, for
// anything else). Each source file documents its own mapping; the rules
// below are shared. Deliveries that carry nothing to act on return
// ErrIgnored.
//
// # Errors
//
// Errors wrap ErrMalformed (not JSON; HTTP 400), ErrInvalid (JSON, but not a
// valid payload; 422), ErrIgnored (stored, nothing to act on; 202) or
// ErrUnknownSource, and name the offending field by
// its path, e.g. `alerts[2].status: must be firing or resolved, got "foo"`.
// A payload is accepted or refused whole: one bad alert refuses the batch, so
// the sender sees the error and retries, instead of losing alerts silently.
//
// # Rules shared by all sources
//
//   - Times are RFC 3339 (fractional seconds allowed) and returned in UTC. A
//     missing, empty or zero (0001-01-01T00:00:00Z) start is now. Firing
//     alerts never have an end time: older Alertmanagers put a future
//     "expected end" there. Resolved alerts keep theirs, or end now. An
//     unreadable time is refused even where it would then be ignored, and so
//     is a time that falls outside years 1–9999 once in UTC.
//   - Statuses are firing or resolved, in any case; an empty string counts as
//     absent.
//   - Severity is alert.ParseSeverity of the first recognised of: (generic
//     only: the severity field), labels severity, labels priority,
//     annotations severity; otherwise unknown.
//   - Labels and annotations: empty values are dropped (Prometheus treats an
//     empty label as absent). Names longer than MaxKeyBytes, values longer
//     than MaxValueBytes and empty names are refused, not cut, because a cut
//     label would silently change the alert's identity. Fingerprints longer
//     than MaxKeyBytes are refused too.
//   - Titles are cut to MaxTitleRunes and descriptions to MaxDescriptionBytes,
//     ending in "…"; both are trimmed of surrounding space. A title is never
//     empty (last resort: "alert <fingerprint>"), nor is Name (the alertname
//     label, else the title; cut like the title).
//   - At most MaxAlerts alerts per payload.
//   - Strings holding U+0000 are refused: PostgreSQL text cannot store it.
//   - Links are kept only when they are absolute http or https URLs, since
//     they become hrefs in the UI; each URL appears once. Links found in
//     alert fields or annotations (generatorURL as "source", runbook_url or
//     runbook as "runbook", dashboard_url or grafana_url as "dashboard") are
//     dropped quietly when unusable; links a generic sender lists explicitly
//     are refused with ErrInvalid instead, so the sender learns of it.
//   - A leading UTF-8 byte order mark is ignored; anything after the JSON
//     value is malformed; unknown fields are ignored.
//
// # Alertmanager
//
// One body carries a group of alerts; each becomes one alert. The alert's
// own status wins over the group's, which is only its default (the group
// status must still be valid when present). Each alert's own labels are
// authoritative: groupLabels, commonLabels and commonAnnotations are not
// merged in (an alert's labels already include them). Labels must be an
// object of strings with at least one non-empty value. A missing fingerprint
// (Alertmanager before 0.19) is alert.Fingerprint(labels), Alertmanager's own
// algorithm. Title: annotations summary, else title, else alertname.
// Description: annotations description, else message. Service is
// alert.ServiceFromLabels; Namespace is labels namespace; Environment labels
// env, else environment. The group's externalURL is not kept: it is the
// Alertmanager's home page, not a link about any one alert. version,
// groupKey, receiver and truncatedAlerts are ignored.
//
// # Grafana
//
// The Alertmanager shape with Grafana's additions. dashboardURL, panelURL,
// silenceURL and imageURL become links ("dashboard", "panel", "silence",
// "image"). The fingerprint is Grafana's when sent (Grafana computes its own,
// which is not the labels' Alertmanager fingerprint), else computed as for
// Alertmanager. When the rule has no description, the description is
// "Value: <valueString>", else "Values: A=1, B=2" from values: it is
// labelled as a value and never mixed into a real description. The
// deprecated group-level title, state and message, and orgId, are ignored:
// they summarise the group and the per-alert fields say the same per alert.
//
// # Generic
//
// Either one alert object or {"alerts": [...]} of them; a body with an
// "alerts" member is a batch, whatever else it holds. Fields: title (required
// non-empty string), status (firing|resolved, default firing), severity,
// fingerprint, service, environment, namespace, description (strings),
// labels and annotations (objects), starts_at and ends_at (RFC 3339), links
// (array of URL strings or {"text","url"} objects). Label and annotation
// values may be strings, numbers or booleans; numbers and booleans are kept
// in their JSON text form (8080, 1e3, true), null counts as empty. Explicit
// service, environment and namespace win over labels (service falls back to
// alert.ServiceFromLabels, environment to labels env/environment, namespace
// to labels namespace); over-long ones are refused like label values.
// Description falls back to annotations description, then message.
//
// A missing fingerprint is alert.Fingerprint over the labels plus
// pseudo-labels: __title__ (the trimmed, uncut title) when the labels have no
// alertname, so that "disk full" and "CPU high" sent without labels stay two
// alerts, while with an alertname the title may change ("CPU at 93%")
// without splitting the alert; and __service__, __environment__ and
// __namespace__ for the explicit fields, so that one title on two services is
// two alerts. With an alertname and no explicit fields this is exactly
// Alertmanager's fingerprint of the labels.
//
// # Content types
//
// Every source accepts application/json, application/*+json and an empty
// Content-Type; parameters such as charset are ignored. generic also accepts
// text/plain, because scripts and browsers without CORS cannot always set the
// header. Everything else is refused so the API can answer 415.
package webhook
