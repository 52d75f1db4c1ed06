package storage

import (
	"fmt"
	"strings"
	"testing"
)

func TestEventRowsMerge(t *testing.T) {
	t.Parallel()
	ev := func(org, typ, data string) pendingEvent { return pendingEvent{orgID: org, typ: typ, data: data} }
	many := make([]pendingEvent, maxEventsPerRow+3)
	for i := range many {
		many[i] = ev("o", "a", fmt.Sprint(i))
	}
	for _, tc := range []struct {
		name string
		in   []pendingEvent
		want []string // "org type n data"
	}{
		{"none", nil, nil},
		{"one", []pendingEvent{ev("o", "a", "1")}, []string{"o a 1 1"}},
		{"a run of one type", []pendingEvent{ev("o", "a", "1"), ev("o", "a", "2"), ev("o", "b", "3"), ev("o", "a", "4")},
			[]string{"o a 2 1|2", "o b 1 3", "o a 1 4"}},
		{"another org", []pendingEvent{ev("o", "a", "1"), ev("p", "a", "2")}, []string{"o a 1 1", "p a 1 2"}},
		{"a newline keeps its own row", []pendingEvent{ev("o", "a", "1"), ev("o", "a", "x\ny"), ev("o", "a", "3"), ev("o", "a", "4")},
			[]string{"o a 1 1", "o a 1 x|y", "o a 2 3|4"}},
		{"rows are bounded", many, []string{"o a 100 ", "o a 3 100|101|102"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range eventRows(tc.in) {
				data := strings.ReplaceAll(r.data, "\n", "|")
				if r.n == maxEventsPerRow {
					data = "" // checked by count
				}
				got = append(got, fmt.Sprintf("%s %s %d %s", r.orgID, r.typ, r.n, data))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("rows %q, want %q", got, tc.want)
			}
		})
	}
}

// A row's events get ids id-n+1 … id; a row whose lines do not match its
// count (an older version's sequencer during an upgrade) gives every line
// the row's id rather than inventing ids.
func TestAppendEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		id, n       int64
		data        string
		after       int64
		wantIDs     []int64
		wantPayload []string
	}{
		{"single", 7, 1, `{"a":1}`, 0, []int64{7}, []string{`{"a":1}`}},
		{"row of three", 9, 3, "a\nb\nc", 0, []int64{7, 8, 9}, []string{"a", "b", "c"}},
		{"resumed within the row", 9, 3, "a\nb\nc", 7, []int64{8, 9}, []string{"b", "c"}},
		{"lines and count disagree", 9, 1, "a\nb", 0, []int64{9, 9}, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := appendEvents(nil, Event{ID: tc.id, Type: "t"}, []byte(tc.data), tc.n, tc.after)
			var ids []int64
			var data []string
			for _, e := range got {
				ids, data = append(ids, e.ID), append(data, string(e.Data))
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.wantIDs) || fmt.Sprint(data) != fmt.Sprint(tc.wantPayload) {
				t.Fatalf("ids %v data %q, want %v %q", ids, data, tc.wantIDs, tc.wantPayload)
			}
		})
	}
}
