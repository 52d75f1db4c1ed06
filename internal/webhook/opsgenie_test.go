package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
)

// TestGolden covers testdata/opsgenie/*.json; ignored deliveries are in
// testdata/opsgenie/ignored/ (see TestPagerDutyIgnoredGolden).

func TestOpsgenieIgnoredGolden(t *testing.T) { t.Parallel(); ignoredGolden(t, "opsgenie") }

// A nanosecond integer does not fit a float64: 1420452193166002000 would
// come back as …001920 if the JSON were decoded into float64.
func TestOpsgenieNanosecondsExact(t *testing.T) {
	t.Parallel()
	const ns = 1420452193166002000
	isTrue(t, int64(float64(ns)) != ns, "the test value must not survive float64")
	a := parseFile(t, "opsgenie", "create.json")[0]
	equal(t, int64(ns), a.StartsAt.UnixNano())

	// close.json mixes units: createdAt in ms, updatedAt in ns.
	c := parseFile(t, "opsgenie", "close.json")[0]
	equal(t, time.Date(2015, 1, 5, 10, 3, 11, 104e6, time.UTC), c.StartsAt)
	equal(t, int64(1420452374669001603), c.EndsAt.UnixNano())
}

func TestOpsgenieLifecycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file   string
		status alert.Status
		action alert.Action
		actor  string
	}{
		{"create.json", alert.StatusFiring, alert.ActionNone, "System"},
		{"acknowledge.json", alert.StatusFiring, alert.ActionAcknowledge, "alice@example.com"},
		{"unacknowledge.json", alert.StatusFiring, alert.ActionUnacknowledge, "alice@example.com"},
		{"addnote.json", alert.StatusFiring, alert.ActionNote, "bob@example.com"},
		{"escalate.json", alert.StatusFiring, alert.ActionNone, ""},
		{"assign_ownership.json", alert.StatusFiring, alert.ActionNone, "alice@example.com"},
		{"take_ownership.json", alert.StatusFiring, alert.ActionNone, "bob@example.com"},
		{"close.json", alert.StatusResolved, alert.ActionNone, "fili@ifountain.com"},
		{"delete.json", alert.StatusResolved, alert.ActionNone, "alice@example.com"},
	}
	for _, c := range cases {
		a := parseFile(t, "opsgenie", c.file)[0]
		equal(t, "opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c", a.Fingerprint, c.file)
		equal(t, c.status, a.Status, c.file)
		equal(t, c.action, a.Action, c.file)
		equal(t, c.actor, a.Actor, c.file)
	}
}

func TestOpsgenieFields(t *testing.T) {
	t.Parallel()
	a := parseFile(t, "opsgenie", "create.json")[0]
	equal(t, "Disk usage above 90% on db-1", a.Title)
	equal(t, a.Title, a.Name)
	equal(t, "Filesystem /var/lib/postgresql is 93% full.\nGrowth rate: 2%/h.", a.Description)
	equal(t, alert.SeverityHigh, a.Severity)
	equal(t, "orders-db", a.Service)
	equal(t, "prod", a.Environment)
	equal(t, map[string]string{
		"tags": "database,disk,prod", "teams": "Database,SRE", "priority": "P2", "entity": "db-1",
		"alias": "disk-usage-db-1", "tiny_id": "23", "source": "Prometheus", "integration": "Aurora",
	}, a.Labels)
	equal(t, map[string]string{"service": "orders-db", "env": "prod", "runbook": "https://runbooks.example.com/disk-full", "region": "eu-west-1"}, a.Annotations)
	equal(t, []alert.Link{{Text: "runbook", URL: "https://runbooks.example.com/disk-full"}}, a.Links)

	b := parseFile(t, "opsgenie", "alias_only.json")[0]
	equal(t, "opsgenie:heartbeat-batch-runner", b.Fingerprint)
	equal(t, alert.SeverityUnknown, b.Severity)
	equal(t, time.Date(2025, 9, 1, 11, 0, 0, 123e6, time.UTC), b.StartsAt)
}

// ogBody builds a delivery with the given action and extra alert members.
func ogBody(action, alertFields string) string {
	fields := `"alertId":"A1","message":"m"`
	if alertFields != "" {
		fields += "," + alertFields
	}
	return `{"action":"` + action + `","alert":{` + fields + `}}`
}

func TestOpsgenieActions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		body   string
		status alert.Status
		action alert.Action
		note   string
	}{
		{"create", ogBody("Create", ""), "firing", "", ""},
		{"case forgiven", ogBody(" unacknowledge ", ""), "firing", "unacknowledge", ""},
		{"acknowledge", ogBody("Acknowledge", ""), "firing", "acknowledge", ""},
		{"close", ogBody("Close", ""), "resolved", "", ""},
		{"delete", ogBody("Delete", ""), "resolved", "", "deleted"},
		{"note", ogBody("AddNote", `"note":" on it "`), "firing", "note", "on it"},
		{"note without text", ogBody("AddNote", ""), "firing", "note", "note added"},
		{"escalate", `{"action":"Escalate","alert":{"alertId":"A1"},"escalationNotify":{"name":"ops"}}`, "firing", "", "escalated to ops"},
		{"escalate without recipient", `{"action":"Escalate","alert":{"alertId":"A1"}}`, "firing", "", "escalated"},
		{"assign", ogBody("AssignOwnership", `"owner":"bo"`), "firing", "", "assigned to bo"},
		{"assign without owner", ogBody("AssignOwnership", ""), "firing", "", "ownership assigned"},
		{"take", ogBody("TakeOwnership", `"username":"cy"`), "firing", "", "ownership taken by cy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := parseOne(t, "opsgenie", c.body)
			equal(t, "opsgenie:A1", a.Fingerprint)
			equal(t, c.status, a.Status)
			equal(t, c.action, a.Action)
			equal(t, c.note, a.Note)
		})
	}
}

func TestOpsgenieDetails(t *testing.T) {
	t.Parallel()
	t.Run("severity", func(t *testing.T) {
		t.Parallel()
		for p, want := range map[string]alert.Severity{
			"P1": alert.SeverityCritical, "p2": alert.SeverityHigh, "P3": alert.SeverityWarning,
			"P4": alert.SeverityInfo, "P5": alert.SeverityInfo, "": alert.SeverityUnknown, "urgent": alert.SeverityUnknown,
		} {
			a := parseOne(t, "opsgenie", ogBody("Create", `"priority":"`+p+`"`))
			equal(t, want, a.Severity, p)
		}
	})
	t.Run("details keep strings only", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "opsgenie", ogBody("Create", `"details":{"a":"1","n":2,"b":true,"o":{"x":"y"},"z":null,"e":""}`))
		equal(t, map[string]string{"a": "1"}, a.Annotations)
	})
	t.Run("times", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			fields     string
			start, end time.Time
		}{
			{`"createdAt":1420452191104,"updatedAt":1420452374669001603`, time.UnixMilli(1420452191104), time.Unix(0, 1420452374669001603)},
			{`"createdAt":999999999999999`, time.Date(33658, 9, 27, 1, 46, 39, 999e6, time.UTC), time.Time{}}, // largest ms: refused below
			{`"createdAt":1000000000000000`, time.Unix(0, 1e15), time.Time{}},
			{`"createdAt":0,"updatedAt":null`, now, now},
		}
		for i, c := range cases {
			body := `{"action":"Close","alert":{"alertId":"A1",` + c.fields + `}}`
			alerts, err := Parse("opsgenie", []byte(body), now)
			if c.start.Year() > 9999 {
				errIs(t, err, ErrInvalid)
				continue
			}
			mustNil(t, err)
			a := alerts[0]
			isTrue(t, c.start.Equal(a.StartsAt), "%d: starts %v, want %v", i, a.StartsAt, c.start)
			if !c.end.IsZero() {
				isTrue(t, c.end.Equal(a.EndsAt), "%d: ends %v, want %v", i, a.EndsAt, c.end)
			}
		}
	})
	t.Run("tags and teams", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "opsgenie", ogBody("Create", `"tags":["b"," a ","","b"],"teams":[{"name":"T1"},"T2",{"id":"x"}]`))
		equal(t, "a,b", a.Labels["tags"])
		equal(t, "T1,T2", a.Labels["teams"])
	})
	t.Run("alias when alertId empty", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "opsgenie", `{"action":"Create","alert":{"alertId":"","alias":" al ","message":"m"}}`)
		equal(t, "opsgenie:al", a.Fingerprint)
	})
	t.Run("no message", func(t *testing.T) {
		t.Parallel()
		a := parseOne(t, "opsgenie", `{"action":"Create","alert":{"alertId":"A1","message":"  "}}`)
		equal(t, "alert opsgenie:A1", a.Title)
	})
}

func TestOpsgenieIgnored(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"AddTags", "RemoveTags", "AddRecipient", "AddTeam", "AddResponder", "AddDetails", "UpdatePriority", "Snooze", "RestartPod"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			// Ignored before validating the rest: custom actions may carry anything.
			alerts, err := Parse("opsgenie", []byte(`{"action":"`+action+`","alert":"x"}`), now)
			if alerts != nil {
				t.Errorf("alerts %v with error", alerts)
			}
			errIs(t, err, ErrIgnored)
			exactlyOneSentinel(t, err)
			contains(t, err.Error(), `Opsgenie action "`+action+`" does not change the alert's status`)
		})
	}
}

func TestOpsgenieBadInput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxValueBytes+1)
	cases := []struct {
		name    string
		body    string
		wantErr error
		msg     string
	}{
		{"empty", ``, ErrMalformed, "empty body"},
		{"truncated", `{"action":"Create","alert":{`, ErrMalformed, "unexpected EOF"},
		{"no action", `{"alert":{"alertId":"A1"}}`, ErrInvalid, "action: required"},
		{"action not string", `{"action":1}`, ErrInvalid, "action: must be a string, got number"},
		{"no alert", `{"action":"Create"}`, ErrInvalid, "alert: required, an object"},
		{"alert not object", `{"action":"Create","alert":[]}`, ErrInvalid, "alert: must be an object, got array"},
		{"no id", `{"action":"Create","alert":{"message":"m"}}`, ErrInvalid, "alert.alertId: required (or alert.alias)"},
		{"id not string", `{"action":"Create","alert":{"alertId":5}}`, ErrInvalid, "alert.alertId: must be a string, got number"},
		{"id too long", `{"action":"Create","alert":{"alertId":"` + strings.Repeat("i", MaxKeyBytes) + `"}}`, ErrInvalid, "alert.alertId: is 256 bytes, at most 247"},
		{"alias too long", `{"action":"Create","alert":{"alias":"` + strings.Repeat("i", MaxKeyBytes) + `"}}`, ErrInvalid, "alert.alias: is 256 bytes, at most 247"},
		{"float time", ogBody("Create", `"createdAt":1.4204521931660019e18`), ErrInvalid, "alert.createdAt: must be a whole number of milliseconds or nanoseconds since 1970, got 1.4204521931660019e18"},
		{"negative time", ogBody("Create", `"createdAt":-1`), ErrInvalid, "alert.createdAt: must be a whole number"},
		{"time beyond int64", ogBody("Close", `"updatedAt":99999999999999999999`), ErrInvalid, "alert.updatedAt: must be a whole number"},
		{"string time", ogBody("Create", `"createdAt":"1420452191104"`), ErrInvalid, "alert.createdAt: must be a number, got string"},
		{"ms time out of range", ogBody("Create", `"createdAt":999999999999999`), ErrInvalid, "alert.createdAt: time 999999999999999 is out of range"},
		{"tags not array", ogBody("Create", `"tags":"a,b"`), ErrInvalid, "alert.tags: must be an array, got string"},
		{"tag not string", ogBody("Create", `"tags":["a",1]`), ErrInvalid, "alert.tags[1]: must be a string, got number"},
		{"team name not string", ogBody("Create", `"teams":[{"name":1}]`), ErrInvalid, "alert.teams[0].name: must be a string, got number"},
		{"NUL in tag", ogBody("Create", `"tags":["a\u0000"]`), ErrInvalid, "alert.tags[0]: must not contain a NUL character"},
		{"details not object", ogBody("Create", `"details":["a"]`), ErrInvalid, "alert.details: must be an object, got array"},
		{"detail value too long", ogBody("Create", `"details":{"k":"`+long+`"}`), ErrInvalid, `alert.details["k"]: value is 16385 bytes, at most 16384`},
		{"entity too long", ogBody("Create", `"entity":"`+long+`"`), ErrInvalid, "alert.entity: is 16385 bytes, at most 16384"},
		{"message not string", ogBody("Create", `"message":{"text":"m"}`), ErrInvalid, "alert.message: must be a string, got object"},
		{"integration name not string", `{"action":"Create","alert":{"alertId":"A1"},"integrationName":3}`, ErrInvalid, "integrationName: must be a string, got number"},
		{"escalation notify not object", `{"action":"Escalate","alert":{"alertId":"A1"},"escalationNotify":"ops"}`, ErrInvalid, "escalationNotify: must be an object, got string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			alerts, err := Parse("opsgenie", []byte(c.body), now)
			if err == nil {
				t.Fatalf("parsed into %v, want %v", alerts, c.wantErr)
			}
			if alerts != nil {
				t.Errorf("alerts %v with error", alerts)
			}
			errIs(t, err, c.wantErr)
			exactlyOneSentinel(t, err)
			contains(t, err.Error(), c.msg)
		})
	}
}

func TestOpsgenieLongNoteCut(t *testing.T) {
	t.Parallel()
	body, err := json.Marshal(map[string]any{"action": "AddNote", "alert": map[string]any{"alertId": "A1", "note": strings.Repeat("€", MaxDescriptionBytes)}})
	mustNil(t, err)
	a := parseOne(t, "opsgenie", string(body))
	isTrue(t, len(a.Note) <= MaxDescriptionBytes && strings.HasSuffix(a.Note, "€…"), "note of %d bytes", len(a.Note))
}

func FuzzOpsgenie(f *testing.F) {
	fuzzVendor(f, "opsgenie", opsgenieKeyPrefix, []string{
		``, `{}`, `{"action":"Create"}`, `{"action":"Create","alert":{}}`,
		`{"action":"Close","alert":{"alias":"a","createdAt":999999999999999,"updatedAt":9223372036854775807}}`,
		`{"action":"AddNote","alert":{"alertId":"a","note":"\u0000"}}`,
		`{"action":"Create","alert":{"alertId":"a","details":{"k":1,"":"v"},"tags":[{"name":"t"}]}}`,
		`{"action":"Escalate","alert":{"alertId":"a"},"escalationNotify":{"name":null}}`,
	})
}
