package cli

import (
	"testing"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/toolconfig"
	"github.com/aurora-oss/aurora/internal/toolset"
)

func TestWithWebSearch(t *testing.T) {
	t.Parallel()
	shared, _ := toolset.NewRegistry()
	res := &toolconfig.Resolved{Tools: shared}
	if got, err := withWebSearch(res, nil); err != nil || got != res {
		t.Fatalf("without SEARXNG_URL: %v %v", got, err)
	}
	web, err := toolset.NewSearXNG("http://searxng:8080", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := withWebSearch(res, web)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Tools.Get("web.search"); !ok {
		t.Error("web.search not registered")
	}
	if _, ok := shared.Get("web.search"); ok {
		t.Error("the shared cached registry was changed")
	}
	// Twice on the same cached result: no "already registered".
	if _, err := withWebSearch(res, web); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "SEARXNG_URL" {
			return "http://searxng:8080", true
		}
		return "", false
	})
	if err != nil || cfg.Toolsets.SearXNGURL == "" {
		t.Fatalf("SEARXNG_URL not read: %v", err)
	}
}
