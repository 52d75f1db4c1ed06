package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/sns"
)

// # CloudWatch (source "cloudwatch")
//
// Body: the JSON an SNS topic POSTs to an HTTPS subscription (read with
// sns.ParseMessage, the same function the API verifies the signature of, so
// both see the same fields), or — for tests and forwarders — a Lambda SNS
// event {"Records":[{"Sns":{…}}]}, one alert per Notification record. A body
// with both Type and Records is refused. SubscriptionConfirmation and
// UnsubscribeConfirmation are ErrIgnored: the API confirms subscriptions
// before parsing and they never become alerts. The SNS Message must be a
// CloudWatch alarm state-change notification (a JSON object with AlarmName
// and NewStateValue), decoded a second time; anything else (plain text, an
// EventBridge event) is ErrInvalid.
//
// Status: NewStateValue ALARM is firing, OK is resolved, INSUFFICIENT_DATA
// is firing. Every alert carries the label aws_state (CloudWatchStateLabel)
// = the new state, so the API can apply an integration's insufficient_data
// setting with CloudWatchApplyInsufficientData.
//
// Identity: the fingerprint is "cloudwatch:" + AlarmArn; without AlarmArn
// (older notifications) "cloudwatch:<account>:<region>:<AlarmName>", where
// account is AWSAccountId (else the topic's) and region the region code of
// the TopicArn (else the Region name as sent). Over MaxKeyBytes it becomes
// "cloudwatch:sha256:<hex of that text>". The ALARM and the OK of one alarm
// therefore share the fingerprint.
//
// Fields: Name and Title are AlarmName; Description is NewStateReason, then
// AlarmDescription. StartsAt is StateChangeTime (layout
// 2006-01-02T15:04:05.000+0000, RFC 3339 also read), else the SNS
// Timestamp; an OK also ends then. Labels: alarm_name, aws_account, region
// (code, e.g. eu-west-1), metric_name, metric_namespace (not "namespace",
// which Aurora reads as a Kubernetes namespace), dimension_<Name> per metric
// dimension, topic_arn, aws_state. For a metric-math alarm, metric_name,
// metric_namespace and dimensions come from its one MetricStat metric when
// it has exactly one. Annotations: description, reason, old_state,
// region_name, subject, alarm_arn, message_id, statistic,
// comparison_operator, threshold, period, evaluation_periods,
// datapoints_to_alarm, unit, treat_missing_data, dimensions, metrics
// (metric-math summary), alarm_rule (composite alarms). Link "console": the
// alarm in the AWS console, when the region code is known.
//
// Severity: unknown, unless a hint names one: "severity=<s>" or
// "priority=<s>" (also with ":") in AlarmDescription, a tag [P0]…[P5] or
// [SEV0]…[SEV5] in AlarmDescription or AlarmName, or a metric dimension
// named Severity or Priority; the first recognised by alert.ParseSeverity
// wins.

// CloudWatchStateLabel is the label holding an alarm's new state (ALARM, OK,
// INSUFFICIENT_DATA).
const CloudWatchStateLabel = "aws_state"

// CloudWatchInsufficientData is the state CloudWatch reports when an alarm
// lacks data; the parser turns it into a firing alert labelled
// aws_state="INSUFFICIENT_DATA".
const CloudWatchInsufficientData = "INSUFFICIENT_DATA"

// CloudWatchApplyInsufficientData applies a cloudwatch integration's
// insufficient_data setting to parsed alerts: "" or "firing" (the default)
// keeps INSUFFICIENT_DATA alerts firing; "resolved" resolves them (ending at
// their state change time), so an alarm that loses its data resolves its
// incident; "ignore" drops them (if none remain, answer like ErrIgnored).
// Other alerts pass unchanged. An unknown mode is an error (call it with nil
// alerts to validate a setting).
func CloudWatchApplyInsufficientData(alerts []alert.Alert, mode string) ([]alert.Alert, error) {
	switch mode {
	case "", "firing", "resolved", "ignore":
	default:
		return nil, fmt.Errorf("insufficient_data: must be firing, resolved or ignore, got %q", short(mode))
	}
	out := make([]alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		if a.Labels[CloudWatchStateLabel] == CloudWatchInsufficientData {
			switch mode {
			case "ignore":
				continue
			case "resolved":
				a.Status = alert.StatusResolved
				if a.EndsAt.IsZero() {
					a.EndsAt = a.StartsAt
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func parseCloudWatch(body []byte, now time.Time) ([]alert.Alert, error) {
	root, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if _, lambda := root.m["Records"]; lambda {
		if _, ok := root.m["Type"]; ok {
			return nil, invalidf("body: holds both an SNS message (Type) and a Lambda event (Records)")
		}
		return cloudWatchRecords(root, now)
	}
	m, err := sns.ParseMessage(body)
	if err != nil {
		return nil, invalidf("body: %s", snsReason(err))
	}
	if m.Type != sns.TypeNotification {
		return nil, fmt.Errorf("%w: SNS %s: subscriptions are confirmed by the API, never turned into alerts", ErrIgnored, m.Type)
	}
	a, err := cloudWatchAlert(m, "", now)
	if err != nil {
		return nil, err
	}
	return []alert.Alert{a}, nil
}

// cloudWatchRecords reads a Lambda SNS event: Records[].Sns.
func cloudWatchRecords(root object, now time.Time) ([]alert.Alert, error) {
	list, _, err := root.arr("Records")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, invalidf("Records: must be a non-empty array")
	}
	if len(list) > MaxAlerts {
		return nil, invalidf("Records: %d records, at most %d per payload", len(list), MaxAlerts)
	}
	var out []alert.Alert
	for i, v := range list {
		p := "Records[" + strconv.Itoa(i) + "]"
		rec, ok := v.(map[string]any)
		if !ok {
			return nil, invalidf("%s: must be an object, got %s", p, kind(v))
		}
		o, ok, err := object{m: rec, path: p}.obj("Sns")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalidf("%s.Sns: required", p)
		}
		raw, err := json.Marshal(o.m)
		if err != nil {
			return nil, invalidf("%s: %v", o.path, err)
		}
		m, err := sns.ParseMessage(raw)
		if err != nil {
			return nil, invalidf("%s: %s", o.path, snsReason(err))
		}
		if m.Type != sns.TypeNotification {
			continue
		}
		a, err := cloudWatchAlert(m, o.path, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no SNS Notification in Records", ErrIgnored)
	}
	return out, nil
}

func snsReason(err error) string {
	return strings.TrimPrefix(err.Error(), "sns: ")
}

var (
	// awsRegion is a region code such as us-east-1, us-gov-west-1, cn-north-1.
	awsRegion = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$`)
	// Severity hints: "severity=critical", "priority: P2", "[P1]", "[SEV-2]".
	severityPair = regexp.MustCompile(`(?i)\b(?:severity|priority)\s*[:=]\s*["']?([a-z0-9-]+)`)
	severityTag  = regexp.MustCompile(`(?i)\[\s*(p[0-5]|sev-?[0-5])\s*\]`)
)

// cloudWatchAlert turns one SNS Notification carrying a CloudWatch alarm
// into an alert; path locates the SNS message in the body for errors.
func cloudWatchAlert(m sns.Message, path string, now time.Time) (alert.Alert, error) {
	at := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	o, err := decodeObject([]byte(m.Message))
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			return alert.Alert{}, invalidf("%s: not a CloudWatch alarm notification: the SNS Message is not JSON (it begins %q)", at("Message"), short(m.Message))
		}
		return alert.Alert{}, invalidf("%s: not a CloudWatch alarm notification: the SNS Message is not a JSON object", at("Message"))
	}
	o.path = at("Message")
	_, hasName := o.m["AlarmName"]
	_, hasState := o.m["NewStateValue"]
	if !hasName && !hasState {
		if _, ok := o.m["detail-type"]; ok {
			return alert.Alert{}, invalidf("%s: an EventBridge event, not a CloudWatch alarm notification: set the SNS topic as the alarm's action instead", o.path)
		}
		return alert.Alert{}, invalidf("%s: not a CloudWatch alarm notification (no AlarmName, no NewStateValue)", o.path)
	}
	f, err := strs(o, "AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue", "NewStateReason", "Region", "AlarmArn", "OldStateValue", "AlarmRule")
	if err != nil {
		return alert.Alert{}, err
	}
	name := f["AlarmName"]
	if strings.TrimSpace(name) == "" {
		return alert.Alert{}, invalidf("%s: required, a non-empty string", o.at("AlarmName"))
	}
	state := strings.ToUpper(strings.TrimSpace(f["NewStateValue"]))
	var st alert.Status
	switch state {
	case "ALARM", CloudWatchInsufficientData:
		st = alert.StatusFiring
	case "OK":
		st = alert.StatusResolved
	case "":
		return alert.Alert{}, invalidf("%s: required", o.at("NewStateValue"))
	default:
		return alert.Alert{}, invalidf("%s: must be ALARM, OK or INSUFFICIENT_DATA, got %q", o.at("NewStateValue"), short(f["NewStateValue"]))
	}
	changed, err := cloudWatchTime(o, "StateChangeTime")
	if err != nil {
		return alert.Alert{}, err
	}
	if changed.IsZero() {
		t, err := time.Parse(time.RFC3339Nano, m.Timestamp) // checked by ParseMessage
		if err != nil || t.UTC().Year() < 1 || t.UTC().Year() > 9999 {
			return alert.Alert{}, invalidf("%s: time %q is out of range", at("Timestamp"), short(m.Timestamp))
		}
		changed = t.UTC()
	}

	// Where the alarm is: region code and account, from the ARNs.
	alarmRegion, alarmAccount := arnParts(f["AlarmArn"])
	topic, _ := sns.ParseTopicArn(m.TopicArn) // checked by ParseMessage
	region := first(validRegion(alarmRegion), validRegion(topic.Region))
	account := strings.TrimSpace(first(f["AWSAccountId"], alarmAccount, topic.Account))

	key := "cloudwatch:" + f["AlarmArn"]
	if strings.TrimSpace(f["AlarmArn"]) == "" {
		key = "cloudwatch:" + account + ":" + first(region, strings.TrimSpace(f["Region"])) + ":" + name
	}
	if len(key) > MaxKeyBytes {
		sum := sha256.Sum256([]byte(key))
		key = "cloudwatch:sha256:" + hex.EncodeToString(sum[:])
	}

	labels := kv{m: map[string]string{}, path: o.path}
	ann := kv{m: map[string]string{}, path: o.path}
	labels.set("alarm_name", name)
	labels.set("aws_account", account)
	labels.set("region", region)
	labels.set("topic_arn", m.TopicArn)
	labels.set(CloudWatchStateLabel, state)
	ann.set("description", f["AlarmDescription"])
	ann.set("reason", f["NewStateReason"])
	ann.set("old_state", f["OldStateValue"])
	ann.set("region_name", f["Region"])
	ann.set("subject", m.Subject)
	ann.set("alarm_arn", f["AlarmArn"])
	ann.set("message_id", m.MessageID)
	ann.set("alarm_rule", f["AlarmRule"])
	dims, err := cloudWatchTrigger(o, &labels, &ann)
	if err != nil {
		return alert.Alert{}, err
	}
	if labels.err != nil {
		return alert.Alert{}, labels.err
	}
	if ann.err != nil {
		return alert.Alert{}, ann.err
	}

	var l links
	if region != "" {
		l.add("console", cloudWatchConsoleURL(region, name))
	}
	a := alert.Alert{
		Fingerprint: key,
		Status:      st,
		Severity:    cloudWatchSeverity(name, f["AlarmDescription"], dims),
		Name:        name,
		Title:       name,
		Description: joinNonBlank("\n\n", f["NewStateReason"], f["AlarmDescription"]),
		Labels:      labels.m,
		Annotations: ann.m,
		StartsAt:    changed,
		Links:       l,
	}
	if st == alert.StatusResolved {
		a.EndsAt = changed
	}
	return a, nil
}

// cloudWatchTrigger reads the alarm's Trigger into labels and annotations
// and returns its metric dimensions (name → value).
func cloudWatchTrigger(o object, labels, ann *kv) ([][2]string, error) {
	t, ok, err := o.obj("Trigger")
	if err != nil || !ok {
		return nil, err
	}
	f, err := strs(t, "MetricName", "Namespace", "ComparisonOperator", "TreatMissingData")
	if err != nil {
		return nil, err
	}
	sc, err := scalars(t, "Statistic", "ExtendedStatistic", "Unit", "Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold")
	if err != nil {
		return nil, err
	}
	dims, err := cloudWatchDimensions(t, "Dimensions")
	if err != nil {
		return nil, err
	}
	metricName, namespace := f["MetricName"], f["Namespace"]
	summary, stats, err := cloudWatchMetrics(t)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(metricName) == "" && len(stats) == 1 {
		metricName, namespace, dims = stats[0].name, stats[0].namespace, stats[0].dims
	}
	labels.set("metric_name", metricName)
	labels.set("metric_namespace", namespace)
	for _, d := range dims {
		if n := "dimension_" + d[0]; len(n) <= MaxKeyBytes {
			labels.set(n, d[1])
		}
	}
	ann.set("statistic", first(sc["Statistic"], sc["ExtendedStatistic"]))
	ann.set("comparison_operator", f["ComparisonOperator"])
	ann.set("threshold", sc["Threshold"])
	ann.set("period", sc["Period"])
	ann.set("evaluation_periods", sc["EvaluationPeriods"])
	ann.set("datapoints_to_alarm", sc["DatapointsToAlarm"])
	ann.set("unit", sc["Unit"])
	// CloudWatch writes "- TreatMissingData:                    missing".
	ann.set("treat_missing_data", strings.TrimPrefix(strings.TrimSpace(f["TreatMissingData"]), "- TreatMissingData:"))
	ann.set("dimensions", dimensionText(dims))
	ann.set("metrics", summary)
	return dims, nil
}

// metricStat is one MetricStat of a metric-math alarm.
type metricStat struct {
	name, namespace string
	dims            [][2]string
}

// cloudWatchMetrics reads Trigger.Metrics (metric-math alarms): a summary
// such as "e1 = m1*1 (Expression1) [alarmed on]; m1 = Average of AWS/EC2
// NetworkOut {InstanceId=i-1} per 60s", and the MetricStat metrics.
func cloudWatchMetrics(t object) (string, []metricStat, error) {
	list, _, err := t.arr("Metrics")
	if err != nil {
		return "", nil, err
	}
	var parts []string
	var stats []metricStat
	for i, v := range list {
		p := t.at("Metrics") + "[" + strconv.Itoa(i) + "]"
		mm, ok := v.(map[string]any)
		if !ok {
			return "", nil, invalidf("%s: must be an object, got %s", p, kind(v))
		}
		e := object{m: mm, path: p}
		f, err := strs(e, "Id", "Expression", "Label")
		if err != nil {
			return "", nil, err
		}
		ret, err := scalars(e, "ReturnData")
		if err != nil {
			return "", nil, err
		}
		var b strings.Builder
		b.WriteString(first(f["Id"], "?"))
		b.WriteString(" = ")
		if strings.TrimSpace(f["Expression"]) != "" {
			b.WriteString(strings.TrimSpace(f["Expression"]))
		}
		ms, ok, err := e.obj("MetricStat")
		if err != nil {
			return "", nil, err
		}
		if ok {
			sc, err := scalars(ms, "Stat", "Period", "Unit")
			if err != nil {
				return "", nil, err
			}
			var s metricStat
			if metric, ok, err := ms.obj("Metric"); err != nil {
				return "", nil, err
			} else if ok {
				mf, err := strs(metric, "MetricName", "Namespace")
				if err != nil {
					return "", nil, err
				}
				s.name, s.namespace = mf["MetricName"], mf["Namespace"]
				if s.dims, err = cloudWatchDimensions(metric, "Dimensions"); err != nil {
					return "", nil, err
				}
			}
			stats = append(stats, s)
			fmt.Fprintf(&b, "%s of %s", first(sc["Stat"], "?"), joinNonBlank(" ", s.namespace, s.name))
			if d := dimensionText(s.dims); d != "" {
				b.WriteString(" {" + d + "}")
			}
			if sc["Period"] != "" {
				b.WriteString(" per " + sc["Period"] + "s")
			}
		}
		if strings.TrimSpace(f["Label"]) != "" {
			b.WriteString(" (" + strings.TrimSpace(f["Label"]) + ")")
		}
		if ret["ReturnData"] == "true" {
			b.WriteString(" [alarmed on]")
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "; "), stats, nil
}

// cloudWatchDimensions reads [{"name":…,"value":…}] (either case of the
// member names), in order.
func cloudWatchDimensions(o object, key string) ([][2]string, error) {
	list, _, err := o.arr(key)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for i, v := range list {
		p := o.at(key) + "[" + strconv.Itoa(i) + "]"
		dm, ok := v.(map[string]any)
		if !ok {
			return nil, invalidf("%s: must be an object, got %s", p, kind(v))
		}
		d := object{m: dm, path: p}
		f, err := scalars(d, "name", "Name", "value", "Value")
		if err != nil {
			return nil, err
		}
		n, val := strings.TrimSpace(first(f["name"], f["Name"])), strings.TrimSpace(first(f["value"], f["Value"]))
		if n != "" && val != "" {
			out = append(out, [2]string{n, val})
		}
	}
	return out, nil
}

func dimensionText(dims [][2]string) string {
	parts := make([]string, 0, len(dims))
	for _, d := range dims {
		parts = append(parts, d[0]+"="+d[1])
	}
	return strings.Join(parts, ", ")
}

// cloudWatchSeverity finds a severity hint (see the CloudWatch section).
func cloudWatchSeverity(name, description string, dims [][2]string) alert.Severity {
	var c []string
	if m := severityPair.FindStringSubmatch(description); m != nil {
		c = append(c, m[1])
	}
	for _, s := range []string{description, name} {
		if m := severityTag.FindStringSubmatch(s); m != nil {
			c = append(c, m[1])
		}
	}
	for _, d := range dims {
		if strings.EqualFold(d[0], "severity") || strings.EqualFold(d[0], "priority") {
			c = append(c, d[1])
		}
	}
	return severityFrom(c...)
}

// cloudWatchConsoleURL links to the alarm in the AWS console of its
// partition.
func cloudWatchConsoleURL(region, name string) string {
	host := "console.aws.amazon.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		host = "console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		host = "console.amazonaws-us-gov.com"
	}
	return "https://" + host + "/cloudwatch/home?region=" + region + "#alarmsV2:alarm/" + uriComponent(name)
}

// uriComponent escapes like JavaScript's encodeURIComponent, which the
// console uses for alarm names in its fragment.
func uriComponent(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&0xf])
	}
	return b.String()
}

// cloudWatchTime reads CloudWatch's 2006-01-02T15:04:05.000+0000 (or RFC
// 3339); absent, null or "" is the zero Time.
func cloudWatchTime(o object, key string) (time.Time, error) {
	s, err := o.str(key)
	if err != nil || strings.TrimSpace(s) == "" {
		return time.Time{}, err
	}
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if t.Year() < 1 || t.Year() > 9999 {
			return time.Time{}, invalidf("%s: time %q is out of range", o.at(key), short(s))
		}
		return t, nil
	}
	return time.Time{}, invalidf("%s: must be a time like 2019-02-15T23:53:45.093+0000, got %q", o.at(key), short(s))
}

// arnParts returns an ARN's region and account fields, or "".
func arnParts(arn string) (region, account string) {
	p := strings.SplitN(strings.TrimSpace(arn), ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return "", ""
	}
	return p[3], p[4]
}

func validRegion(r string) string {
	if awsRegion.MatchString(r) {
		return r
	}
	return ""
}

// strs reads string members (absent or null: "").
func strs(o object, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		s, err := o.str(k)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// scalars reads members that may be strings, numbers or booleans, in their
// text form (absent or null: ""): CloudWatch writes Threshold as a number
// and Unit as null or a string.
func scalars(o object, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		switch v := o.m[k].(type) {
		case nil:
		case string:
			if err := noNUL(o.at(k), v); err != nil {
				return nil, err
			}
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			return nil, invalidf("%s: must be a string or number, got %s", o.at(k), kind(v))
		}
	}
	return out, nil
}

// kv collects labels or annotations under the shared rules: trimmed, empty
// values dropped, over-long values and NUL refused (the first error is
// kept).
type kv struct {
	m    map[string]string
	path string
	err  error
}

func (k *kv) set(name, value string) {
	value = strings.TrimSpace(value)
	if k.err != nil || value == "" {
		return
	}
	if err := noNUL(k.path+": "+name, value); err != nil {
		k.err = err
		return
	}
	if len(value) > MaxValueBytes {
		k.err = invalidf("%s: %s is %d bytes, at most %d", k.path, name, len(value), MaxValueBytes)
		return
	}
	k.m[name] = value
}

func joinNonBlank(sep string, parts ...string) string {
	kept := slices.DeleteFunc(slices.Clone(parts), func(s string) bool { return strings.TrimSpace(s) == "" })
	for i := range kept {
		kept[i] = strings.TrimSpace(kept[i])
	}
	return strings.Join(kept, sep)
}
