package analyze

// All returns every analyzer Aurora runs.
func All() []Analyzer {
	var out []Analyzer
	out = append(out, KubeAnalyzers()...)
	out = append(out, LogAnalyzers()...)
	out = append(out, NetworkAnalyzers()...)
	out = append(out, NodeAnalyzers()...)
	return out
}
