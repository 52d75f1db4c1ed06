package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserKnowledgeBase: upload a runbook in the UI, see it become
// ready, search it, and get the passage with the query's words marked —
// and a passage carrying markup shows it as text.
func TestBrowserKnowledgeBase(t *testing.T) {
	t.Parallel()
	p := startAurora(t, nil)
	b := newBrowser(t, p.URL)
	b.signIn("admin@localhost", adminPassword)
	b.waitJS("dashboard", `document.querySelector("#dash-live")`, 10*time.Second)
	b.navigate("/kb")
	b.waitJS("empty knowledge base", `document.querySelector("#kb-empty")`, 10*time.Second)

	file := filepath.Join(t.TempDir(), "checkout.md")
	runbook := "# Checkout runbook\n\n## CheckoutHighErrorRate\n\nRoll back the last checkout deploy. <img src=x onerror=alert(1)>\n"
	if err := os.WriteFile(file, []byte(runbook), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("upload",
		chromedp.SetUploadFiles(chromedp.CSS(`#kb-upload-form input[name=file]`), []string{file}),
		chromedp.SetValue(chromedp.CSS(`#kb-upload-form input[name=source_url]`), "https://wiki.example.com/checkout"),
		chromedp.Click(chromedp.CSS(`#kb-upload-form button[type=submit]`)))
	b.waitJS("document ready", `document.querySelector('[data-kb-status="ready"]')`, 30*time.Second)
	if got := eval[string](b, `document.querySelector('[data-kb-status="ready"] td').textContent`); !contains(got, "Checkout runbook") || !contains(got, "https://wiki.example.com/checkout") {
		t.Fatalf("document row: %q", got)
	}

	b.do("search",
		chromedp.SetValue(chromedp.CSS(`#kb-search-form input[name=q]`), "roll back checkout"),
		chromedp.Click(chromedp.CSS(`#kb-search-form button[type=submit]`)))
	b.waitJS("hit", `document.querySelector("#kb-results [data-kb-hit] mark")`, 15*time.Second)
	marks := eval[[]string](b, `Array.from(document.querySelectorAll("#kb-results [data-kb-hit]:first-child mark")).map(m => m.textContent.toLowerCase())`)
	if len(marks) < 3 {
		t.Fatalf("highlighted words %v, want roll, back and checkout marked", marks)
	}
	if n := eval[int](b, `document.querySelectorAll("#kb-results img").length`); n != 0 {
		t.Fatal("markup in a passage was rendered as HTML")
	}
	if b.dialogs.Load() != 0 {
		t.Fatal("a dialog opened: injected script ran")
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
