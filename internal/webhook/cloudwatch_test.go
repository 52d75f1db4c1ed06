package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// cwBody is an SNS HTTPS Notification carrying alarm as its Message.
func cwBody(t testing.TB, alarm map[string]any, edit func(m map[string]any)) []byte {
	t.Helper()
	msg, err := json.Marshal(alarm)
	mustNil(t, err)
	m := map[string]any{
		"Type":             "Notification",
		"MessageId":        "11111111-2222-5333-8444-555555555555",
		"TopicArn":         "arn:aws:sns:eu-central-1:123456789012:alarms",
		"Subject":          "ALARM: x",
		"Message":          string(msg),
		"Timestamp":        "2025-09-01T10:00:01.000Z",
		"SignatureVersion": "1",
		"Signature":        "EXAMPLE",
		"SigningCertURL":   "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem",
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	mustNil(t, err)
	return b
}

func cwAlarm(edit func(a map[string]any)) map[string]any {
	a := map[string]any{
		"AlarmName":       "disk-full",
		"AWSAccountId":    "123456789012",
		"NewStateValue":   "ALARM",
		"NewStateReason":  "Threshold Crossed",
		"StateChangeTime": "2025-09-01T10:00:00.500+0000",
		"Region":          "EU (Frankfurt)",
		"AlarmArn":        "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:disk-full",
		"OldStateValue":   "OK",
		"Trigger": map[string]any{
			"MetricName": "disk_used_percent", "Namespace": "CWAgent", "Statistic": "AVERAGE",
			"Dimensions": []any{map[string]any{"name": "host", "value": "db-1"}},
			"Period":     300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 90.0,
		},
	}
	if edit != nil {
		edit(a)
	}
	return a
}

func cwParseOne(t *testing.T, body []byte) alert.Alert {
	t.Helper()
	alerts, err := Parse("cloudwatch", body, now)
	mustNil(t, err)
	mustLen(t, alerts, 1)
	return alerts[0]
}

func TestCloudWatchLifecycle(t *testing.T) {
	t.Parallel()
	fire := parseFile(t, "cloudwatch", "https_notification_alarm.json")
	res := parseFile(t, "cloudwatch", "https_ok_resolved.json")
	mustLen(t, fire, 1)
	mustLen(t, res, 1)
	equal(t, alert.StatusFiring, fire[0].Status)
	equal(t, alert.StatusResolved, res[0].Status)
	equal(t, "cloudwatch:1234567890:eu-west-1:bucketbytesAlarm", fire[0].Fingerprint)
	equal(t, fire[0].Fingerprint, res[0].Fingerprint)
	equal(t, time.Date(2019, 2, 16, 23, 53, 45, 211e6, time.UTC), res[0].EndsAt)
	equal(t, time.Date(2019, 2, 15, 23, 53, 45, 93e6, time.UTC), fire[0].StartsAt)

	// With AlarmArn, the key is the ARN, whatever the state.
	a := cwParseOne(t, cwBody(t, cwAlarm(nil), nil))
	ok := cwParseOne(t, cwBody(t, cwAlarm(func(a map[string]any) { a["NewStateValue"] = "OK"; a["OldStateValue"] = "ALARM" }), nil))
	ins := cwParseOne(t, cwBody(t, cwAlarm(func(a map[string]any) { a["NewStateValue"] = "INSUFFICIENT_DATA" }), nil))
	equal(t, "cloudwatch:arn:aws:cloudwatch:eu-central-1:123456789012:alarm:disk-full", a.Fingerprint)
	equal(t, a.Fingerprint, ok.Fingerprint)
	equal(t, a.Fingerprint, ins.Fingerprint)
	equal(t, alert.StatusResolved, ok.Status)
	equal(t, alert.StatusFiring, ins.Status)
}

func TestCloudWatchFields(t *testing.T) {
	t.Parallel()
	a := cwParseOne(t, cwBody(t, cwAlarm(nil), nil))
	equal(t, "disk-full", a.Name)
	equal(t, "disk-full", a.Title)
	equal(t, "Threshold Crossed", a.Description)
	equal(t, alert.SeverityUnknown, a.Severity)
	equal(t, map[string]string{
		"alarm_name": "disk-full", "aws_account": "123456789012", "region": "eu-central-1",
		"metric_name": "disk_used_percent", "metric_namespace": "CWAgent", "dimension_host": "db-1",
		"topic_arn": "arn:aws:sns:eu-central-1:123456789012:alarms", "aws_state": "ALARM",
	}, a.Labels)
	equal(t, "90", a.Annotations["threshold"])
	equal(t, "host=db-1", a.Annotations["dimensions"])
	equal(t, "EU (Frankfurt)", a.Annotations["region_name"])
	equal(t, []alert.Link{{Text: "console", URL: "https://console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/disk-full"}}, a.Links)
	equal(t, time.Date(2025, 9, 1, 10, 0, 0, 5e8, time.UTC), a.StartsAt)
	isTrue(t, a.EndsAt.IsZero())
	equal(t, "", a.Namespace, "metric namespaces are not Kubernetes namespaces")
}

func TestCloudWatchDerived(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		alarm func(a map[string]any)
		body  func(m map[string]any)
		check func(t *testing.T, a alert.Alert)
	}{
		{"severity pair in description", func(a map[string]any) { a["AlarmDescription"] = "Disk almost full. Severity: Critical" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityCritical, a.Severity)
			equal(t, "Threshold Crossed\n\nDisk almost full. Severity: Critical", a.Description)
		}},
		{"priority pair", func(a map[string]any) { a["AlarmDescription"] = "priority=P3" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityWarning, a.Severity)
		}},
		{"tag in name", func(a map[string]any) { a["AlarmName"] = "[P2] disk-full" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityHigh, a.Severity)
			equal(t, "https://console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/%5BP2%5D%20disk-full", a.Links[0].URL)
		}},
		{"sev tag in description", func(a map[string]any) { a["AlarmDescription"] = "[SEV-1] paging" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityCritical, a.Severity)
		}},
		{"unrecognised pair falls back to tag", func(a map[string]any) { a["AlarmDescription"] = "severity=whatever [p4]" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityInfo, a.Severity)
		}},
		{"severity dimension", func(a map[string]any) {
			a["Trigger"].(map[string]any)["Dimensions"] = []any{map[string]any{"name": "Severity", "value": "warning"}}
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityWarning, a.Severity)
			equal(t, "warning", a.Labels["dimension_Severity"])
		}},
		{"bracketed words are not severities", func(a map[string]any) { a["AlarmName"] = "[Alert] [prod] disk" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.SeverityUnknown, a.Severity)
		}},
		{"no AlarmArn: key from account, topic region, name", func(a map[string]any) { delete(a, "AlarmArn") }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, "cloudwatch:123456789012:eu-central-1:disk-full", a.Fingerprint)
			equal(t, "eu-central-1", a.Labels["region"])
		}},
		{"no AlarmArn, no account: the topic's account", func(a map[string]any) { delete(a, "AlarmArn"); delete(a, "AWSAccountId") }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, "cloudwatch:123456789012:eu-central-1:disk-full", a.Fingerprint)
			equal(t, "123456789012", a.Labels["aws_account"])
		}},
		{"no usable region code: region name in key, no link", func(a map[string]any) { delete(a, "AlarmArn") }, func(m map[string]any) {
			m["TopicArn"] = "arn:aws:sns:EXAMPLE"
		}, func(t *testing.T, a alert.Alert) {
			equal(t, "cloudwatch:123456789012:EU (Frankfurt):disk-full", a.Fingerprint)
			equal(t, "", a.Labels["region"])
			mustLen(t, a.Links, 0)
		}},
		{"alarm region wins over topic region", func(a map[string]any) {
			a["AlarmArn"] = "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:disk-full"
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, "cn-north-1", a.Labels["region"])
			equal(t, "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/disk-full", a.Links[0].URL)
		}},
		{"gov console", func(a map[string]any) {
			a["AlarmArn"] = "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:a/b?c#d"
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/disk-full", a.Links[0].URL)
		}},
		{"long ARN is hashed", func(a map[string]any) {
			a["AlarmArn"] = "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:" + strings.Repeat("x", 255)
		}, nil, func(t *testing.T, a alert.Alert) {
			isTrue(t, strings.HasPrefix(a.Fingerprint, "cloudwatch:sha256:"), a.Fingerprint)
			equal(t, len("cloudwatch:sha256:")+64, len(a.Fingerprint))
		}},
		{"no StateChangeTime: SNS Timestamp", func(a map[string]any) { delete(a, "StateChangeTime") }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, time.Date(2025, 9, 1, 10, 0, 1, 0, time.UTC), a.StartsAt)
		}},
		{"RFC 3339 StateChangeTime", func(a map[string]any) { a["StateChangeTime"] = "2025-09-01T12:00:00+02:00" }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC), a.StartsAt)
		}},
		{"state case forgiven", func(a map[string]any) { a["NewStateValue"] = " ok " }, nil, func(t *testing.T, a alert.Alert) {
			equal(t, alert.StatusResolved, a.Status)
			equal(t, "OK", a.Labels["aws_state"])
		}},
		{"composite alarm without Trigger", func(a map[string]any) {
			delete(a, "Trigger")
			a["AlarmRule"] = `ALARM("cpu") AND ALARM("mem")`
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, `ALARM("cpu") AND ALARM("mem")`, a.Annotations["alarm_rule"])
			equal(t, "", a.Labels["metric_name"])
		}},
		{"TreatMissingData cleaned", func(a map[string]any) {
			a["Trigger"].(map[string]any)["TreatMissingData"] = "- TreatMissingData:                    missing"
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, "missing", a.Annotations["treat_missing_data"])
		}},
		{"Lambda-style null Subject and capitalised dimension members", func(a map[string]any) {
			a["Trigger"].(map[string]any)["Dimensions"] = []any{map[string]any{"Name": "InstanceId", "Value": "i-1"}, map[string]any{"name": "", "value": "x"}}
		}, func(m map[string]any) { m["Subject"] = nil }, func(t *testing.T, a alert.Alert) {
			equal(t, "i-1", a.Labels["dimension_InstanceId"])
			equal(t, "", a.Annotations["subject"])
		}},
		{"over-long dimension name kept only in the annotation", func(a map[string]any) {
			a["Trigger"].(map[string]any)["Dimensions"] = []any{map[string]any{"name": strings.Repeat("n", 250), "value": "v"}}
		}, nil, func(t *testing.T, a alert.Alert) {
			equal(t, strings.Repeat("n", 250)+"=v", a.Annotations["dimensions"])
			for k := range a.Labels {
				isTrue(t, len(k) <= MaxKeyBytes, k)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.check(t, cwParseOne(t, cwBody(t, cwAlarm(c.alarm), c.body)))
		})
	}
}

func TestCloudWatchMetricMath(t *testing.T) {
	t.Parallel()
	one := parseFile(t, "cloudwatch", "lambda_sns_alarm_multiple_metrics.json")[0]
	equal(t, "NetworkOut", one.Labels["metric_name"], "one MetricStat gives the metric labels")
	equal(t, "AWS/EC2", one.Labels["metric_namespace"])
	equal(t, "TestInstance", one.Labels["dimension_InstanceId"])
	equal(t, "e1 = m1*1 (Expression1) [alarmed on]; m1 = Average of AWS/EC2 NetworkOut {InstanceId=TestInstance} per 60s", one.Annotations["metrics"])

	two := parseFile(t, "cloudwatch", "https_metric_math_alarm.json")[0]
	equal(t, "", two.Labels["metric_name"], "two MetricStats: no single metric")
	equal(t, alert.SeverityCritical, two.Severity, "[P1] in the name")
	contains(t, two.Annotations["metrics"], "e1 = 100*(m1/m2) (5xx rate (%)) [alarmed on]; m1 = Sum of AWS/ApplicationELB HTTPCode_Target_5XX_Count")
}

func TestCloudWatchIgnored(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile(filepath.Join("testdata", "cloudwatch", "ignored", "sns_subscription_confirmation_docs.json"))
	mustNil(t, err)
	unsub := bytes.Replace(docs, []byte(`"SubscriptionConfirmation"`), []byte(`"UnsubscribeConfirmation"`), 1)
	lambda := []byte(`{"Records":[{"Sns":` + string(docs) + `}]}`)
	for name, body := range map[string][]byte{"subscription": docs, "unsubscribe": unsub, "lambda": lambda} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("cloudwatch", body, now)
			errIs(t, err, ErrIgnored)
			isTrue(t, !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed), err)
			isTrue(t, alerts == nil)
		})
	}
	// In a Lambda batch, confirmations are skipped and notifications kept.
	note, err := os.ReadFile(filepath.Join("testdata", "cloudwatch", "https_notification_alarm.json"))
	mustNil(t, err)
	alerts, err := Parse("cloudwatch", []byte(`{"Records":[{"Sns":`+string(docs)+`},{"Sns":`+string(note)+`}]}`), now)
	mustNil(t, err)
	mustLen(t, alerts, 1)
	equal(t, "bucketbytesAlarm", alerts[0].Name)
}

func TestCloudWatchBadInput(t *testing.T) {
	t.Parallel()
	withMsg := func(msg string) []byte {
		return cwBody(t, nil, func(m map[string]any) { m["Message"] = msg })
	}
	alarm := func(edit func(a map[string]any)) []byte { return cwBody(t, cwAlarm(edit), nil) }
	good := string(cwBody(t, cwAlarm(nil), nil))
	cases := []struct {
		name    string
		body    []byte
		wantErr error
		wantMsg string
	}{
		{"not json", []byte(`Type=Notification`), ErrMalformed, "invalid character"},
		{"empty", []byte(``), ErrMalformed, "empty body"},
		{"array", []byte(`[]`), ErrInvalid, "body: must be a JSON object"},
		{"plain text message", withMsg("Hello from SNS!"), ErrInvalid, `Message: not a CloudWatch alarm notification: the SNS Message is not JSON (it begins "Hello from SNS!")`},
		{"JSON string message", withMsg(`"x"`), ErrInvalid, "Message: not a CloudWatch alarm notification: the SNS Message is not a JSON object"},
		{"other JSON message", withMsg(`{"hello":"world"}`), ErrInvalid, "Message: not a CloudWatch alarm notification (no AlarmName, no NewStateValue)"},
		{"EventBridge event", withMsg(`{"detail-type":"CloudWatch Alarm State Change","detail":{}}`), ErrInvalid, "an EventBridge event"},
		{"no state", alarm(func(a map[string]any) { delete(a, "NewStateValue") }), ErrInvalid, "Message.NewStateValue: required"},
		{"unknown state", alarm(func(a map[string]any) { a["NewStateValue"] = "PENDING" }), ErrInvalid, `Message.NewStateValue: must be ALARM, OK or INSUFFICIENT_DATA, got "PENDING"`},
		{"no name", alarm(func(a map[string]any) { a["AlarmName"] = " " }), ErrInvalid, "Message.AlarmName: required"},
		{"name not string", alarm(func(a map[string]any) { a["AlarmName"] = 1 }), ErrInvalid, "Message.AlarmName: must be a string, got number"},
		{"bad StateChangeTime", alarm(func(a map[string]any) { a["StateChangeTime"] = "15/02/19 23:53" }), ErrInvalid, `Message.StateChangeTime: must be a time like 2019-02-15T23:53:45.093+0000, got "15/02/19 23:53"`},
		{"StateChangeTime out of range", alarm(func(a map[string]any) { a["StateChangeTime"] = "0000-01-01T00:30:00.000+0100" }), ErrInvalid, "Message.StateChangeTime: time"},
		{"Trigger not object", alarm(func(a map[string]any) { a["Trigger"] = "x" }), ErrInvalid, "Message.Trigger: must be an object, got string"},
		{"Dimensions not array", alarm(func(a map[string]any) { a["Trigger"].(map[string]any)["Dimensions"] = map[string]any{} }), ErrInvalid, "Message.Trigger.Dimensions: must be an array, got object"},
		{"dimension not object", alarm(func(a map[string]any) { a["Trigger"].(map[string]any)["Dimensions"] = []any{"x"} }), ErrInvalid, "Message.Trigger.Dimensions[0]: must be an object, got string"},
		{"Threshold object", alarm(func(a map[string]any) { a["Trigger"].(map[string]any)["Threshold"] = []any{} }), ErrInvalid, "Message.Trigger.Threshold: must be a string or number, got array"},
		{"Metrics entry not object", alarm(func(a map[string]any) { a["Trigger"].(map[string]any)["Metrics"] = []any{1} }), ErrInvalid, "Message.Trigger.Metrics[0]: must be an object, got number"},
		{"NUL in reason", alarm(func(a map[string]any) { a["NewStateReason"] = "a\x00b" }), ErrInvalid, "Message.NewStateReason: must not contain a NUL character"},
		{"NUL in TopicArn", cwBody(t, cwAlarm(nil), func(m map[string]any) { m["TopicArn"] = "arn:aws:sns:eu-central-1:1:a\x00" }), ErrInvalid, "must not contain a NUL character"},
		{"huge description", alarm(func(a map[string]any) { a["AlarmDescription"] = strings.Repeat("d", MaxValueBytes+1) }), ErrInvalid, "description is 16385 bytes"},
		{"unknown SNS type", cwBody(t, cwAlarm(nil), func(m map[string]any) { m["Type"] = "Note" }), ErrInvalid, `not an SNS message: Type: must be Notification`},
		{"SNS message without Message", cwBody(t, cwAlarm(nil), func(m map[string]any) { delete(m, "Message") }), ErrInvalid, "not an SNS message: Message: required"},
		{"duplicate Message", []byte(strings.Replace(good, `"Type":`, `"Message":"{}","Type":`, 1)), ErrInvalid, `key "Message": duplicate`},
		{"case variant of Message", []byte(strings.Replace(good, `"Type":`, `"message":"{}","Type":`, 1)), ErrInvalid, `key "message": unexpected spelling`},
		{"both Type and Records", []byte(`{"Type":"Notification","Records":[]}`), ErrInvalid, "both an SNS message (Type) and a Lambda event (Records)"},
		{"empty Records", []byte(`{"Records":[]}`), ErrInvalid, "Records: must be a non-empty array"},
		{"Records not array", []byte(`{"Records":{}}`), ErrInvalid, "Records: must be an array, got object"},
		{"record not object", []byte(`{"Records":[1]}`), ErrInvalid, "Records[0]: must be an object, got number"},
		{"record without Sns", []byte(`{"Records":[{"EventSource":"aws:sns"}]}`), ErrInvalid, "Records[0].Sns: required"},
		{"record Sns not SNS", []byte(`{"Records":[{"Sns":{"Type":"x"}}]}`), ErrInvalid, `Records[0].Sns: not an SNS message: Type: must be`},
		{"record with plain text", []byte(`{"Records":[{"Sns":{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:EXAMPLE","Message":"hi","Timestamp":"2015-06-03T17:43:27.123Z"}}]}`), ErrInvalid, `Records[0].Sns.Message: not a CloudWatch alarm notification`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("cloudwatch", c.body, now)
			if err == nil {
				t.Fatalf("Parse succeeded, want %v", c.wantErr)
			}
			isTrue(t, alerts == nil)
			errIs(t, err, c.wantErr)
			for _, other := range []error{ErrMalformed, ErrInvalid, ErrIgnored} {
				if other != c.wantErr && errors.Is(err, other) {
					t.Errorf("%v also wraps %v", err, other)
				}
			}
			contains(t, err.Error(), c.wantMsg)
		})
	}
}

func TestCloudWatchApplyInsufficientData(t *testing.T) {
	t.Parallel()
	alarm := parseFile(t, "cloudwatch", "https_notification_alarm.json")
	ins := parseFile(t, "cloudwatch", "https_insufficient_data.json")
	equal(t, alert.StatusFiring, ins[0].Status)
	equal(t, CloudWatchInsufficientData, ins[0].Labels[CloudWatchStateLabel])
	equal(t, alert.SeverityHigh, ins[0].Severity, "severity=high in the description")
	both := append(append([]alert.Alert{}, alarm...), ins...)

	for _, mode := range []string{"", "firing"} {
		got, err := CloudWatchApplyInsufficientData(both, mode)
		mustNil(t, err)
		equal(t, both, got)
	}
	got, err := CloudWatchApplyInsufficientData(both, "resolved")
	mustNil(t, err)
	mustLen(t, got, 2)
	equal(t, alarm[0], got[0])
	equal(t, alert.StatusResolved, got[1].Status)
	equal(t, ins[0].StartsAt, got[1].EndsAt)
	equal(t, alert.StatusFiring, ins[0].Status, "the input is not modified")

	got, err = CloudWatchApplyInsufficientData(both, "ignore")
	mustNil(t, err)
	equal(t, alarm, got)
	got, err = CloudWatchApplyInsufficientData(ins, "ignore")
	mustNil(t, err)
	mustLen(t, got, 0)

	_, err = CloudWatchApplyInsufficientData(nil, "drop")
	isTrue(t, err != nil)
	contains(t, err.Error(), `insufficient_data: must be firing, resolved or ignore, got "drop"`)
}

func TestCloudWatchContentType(t *testing.T) {
	t.Parallel()
	// SNS posts with Content-Type: text/plain; charset=UTF-8.
	isTrue(t, AcceptsContentType("cloudwatch", "text/plain; charset=UTF-8"))
	isTrue(t, AcceptsContentType("cloudwatch", "application/json"))
	isTrue(t, !AcceptsContentType("cloudwatch", "application/x-www-form-urlencoded"))
}

func TestURIComponent(t *testing.T) {
	t.Parallel()
	equal(t, "a-b_c.d!e~f*g'h(i)j%20k%2Fl%3Fm%23n%25o%C3%A9", uriComponent("a-b_c.d!e~f*g'h(i)j k/l?m#n%oé"))
}

// FuzzCloudWatch is fuzzSource's check for this source, which may also
// answer ErrIgnored (SNS subscription messages).
func FuzzCloudWatch(f *testing.F) {
	for _, dir := range []string{"cloudwatch", filepath.Join("cloudwatch", "ignored")} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, ".golden.json") {
				continue
			}
			body, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(body)
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"Records":[]}`, `{"Records":[{"Sns":{}}]}`,
		`{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"OK\",\"StateChangeTime\":\"9999-12-31T23:59:59.000-0100\"}","Timestamp":"2025-01-01T00:00:00Z"}`,
		`{"Type":"Notification","MessageId":"1","TopicArn":"t","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"ALARM\",\"Trigger\":{\"Metrics\":[{\"MetricStat\":{\"Metric\":{\"Dimensions\":[{\"name\":\"n\",\"value\":1}]}}}]}}","Timestamp":"2025-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkCloudWatch(t, body) })
}

// FuzzCloudWatchMessage fuzzes the alarm JSON inside a valid SNS
// Notification, which FuzzCloudWatch rarely reaches.
func FuzzCloudWatchMessage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "cloudwatch", "https_*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var m struct{ Message string }
		if err := json.Unmarshal(body, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(m.Message)
	}
	f.Add(`{"AlarmName":"a","NewStateValue":"INSUFFICIENT_DATA","Trigger":{"Dimensions":[{"Name":"Severity","Value":"p1"}]}}`)
	f.Fuzz(func(t *testing.T, msg string) {
		body, err := json.Marshal(map[string]string{
			"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
			"Message": msg, "Timestamp": "2025-09-01T10:00:00.000Z",
		})
		if err != nil {
			t.Fatal(err)
		}
		checkCloudWatch(t, body)
	})
}

// checkCloudWatch holds fuzzSource's invariants, plus ErrIgnored and the
// CloudWatch state contract.
func checkCloudWatch(t *testing.T, body []byte) {
	t.Helper()
	fuzzNow := time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
	alerts, err := Parse("cloudwatch", body, fuzzNow)
	if err != nil {
		n := 0
		for _, e := range []error{ErrMalformed, ErrInvalid, ErrIgnored} {
			if errors.Is(err, e) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error must wrap exactly one of ErrMalformed, ErrInvalid, ErrIgnored: %v", err)
		}
		if alerts != nil {
			t.Fatalf("alerts returned with error %v", err)
		}
		return
	}
	if len(alerts) == 0 || len(alerts) > MaxAlerts {
		t.Fatalf("%d alerts", len(alerts))
	}
	for i, a := range alerts {
		checkAlert(t, "cloudwatch", i, a)
		if !strings.HasPrefix(a.Fingerprint, "cloudwatch:") {
			t.Fatalf("fingerprint %q", a.Fingerprint)
		}
		switch a.Labels[CloudWatchStateLabel] {
		case "ALARM", CloudWatchInsufficientData:
			if a.Status != alert.StatusFiring {
				t.Fatalf("%s is %s", a.Labels[CloudWatchStateLabel], a.Status)
			}
		case "OK":
			if a.Status != alert.StatusResolved {
				t.Fatalf("OK is %s", a.Status)
			}
		default:
			t.Fatalf("aws_state %q", a.Labels[CloudWatchStateLabel])
		}
	}
	out, err := json.Marshal(alerts)
	if err != nil {
		t.Fatalf("result does not marshal: %v", err)
	}
	if bytes.Contains(out, []byte(`\u0000`)) {
		t.Fatalf("result holds a NUL character: %s", out)
	}
}
