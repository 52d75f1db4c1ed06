package cli

import (
	"github.com/aurora-oss/aurora/internal/toolconfig"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// withWebSearch adds web.search (SEARXNG_URL) to an org's resolved tools.
// It copies the registry: the resolved one is cached and shared.
func withWebSearch(res *toolconfig.Resolved, web *toolset.SearXNG) (*toolconfig.Resolved, error) {
	if web == nil {
		return res, nil
	}
	reg, err := toolset.NewRegistry(append(res.Tools.List(), web)...)
	if err != nil {
		return nil, err
	}
	out := *res
	out.Tools = reg
	return &out, nil
}
