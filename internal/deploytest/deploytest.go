// Package deploytest holds the tests of Aurora's deployment artefacts: the
// Helm chart (deploy/helm/aurora), deploy/compose, the Dockerfile, the
// Grafana dashboard, the Prometheus rules and the k6 scripts. They render
// or parse each artefact with the tool that consumes it (helm, promtool,
// compose-go, BuildKit's parser, node) and check the promises the
// operator's guide (docs/operations/scaling.md) makes about them.
//
// The package has no code of its own besides this file: its tests are the
// point.
package deploytest
