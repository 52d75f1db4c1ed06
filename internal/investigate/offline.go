package investigate

import (
	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/bundle"
)

// Bundle investigates an evidence bundle offline: every evidence file is
// analysed, findings are ranked and the report written. Nothing is fetched.
func Bundle(b *bundle.Bundle) Report {
	c := analyze.Run(analyze.All(), &analyze.Input{Items: b.Items}, FocusOf(b.Alert))
	rep := FromConclusion(b.Alert, b.Items, c)
	if len(b.Items) == 0 {
		rep.NotChecked = append(rep.NotChecked, NotChecked{Source: "evidence", Reason: "the bundle holds no evidence files"})
	}
	return rep
}
