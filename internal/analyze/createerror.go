package analyze

// Containers the container runtime refuses to create (CreateContainerError):
// the image lacks the command the pod runs (CRI-O and runc check it at
// create time), or a hostPath/subPath mount source does not exist on the
// node. The kubelet's Failed events quote the runtime's error.

import (
	"fmt"
	"regexp"
	"strings"
)

type createErrorAnalyzer struct{}

func (createErrorAnalyzer) Name() string { return "kube-create" }

var (
	// runc/crun via CRI-O or containerd: the command is not in the image.
	createExecNotFound = regexp.MustCompile(`exec: \\?"([^"\\]+)\\?": (?:executable file not found in \$PATH|stat \S+: no such file or directory)`)
	// A bind mount whose source is missing or of the wrong type: containerd's
	// "failed to generate container … spec" / runc's "error mounting …".
	createMountTarget = regexp.MustCompile(`to rootfs at \\?"([^"\\]+)\\?"`)
	createMountSource = regexp.MustCompile(`(?:failed to generate (?:container "[^"]*" )?spec|error mounting|failed to apply OCI options|mounting \\?"?/|failed to mkdir|lstat|stat) \\?"?(/[^"\\:\s]+)\\?"?.*?(no such file or directory|not a directory|is a directory)`)
)

// createErrorMessages returns the runtime errors the pod's Failed events (and
// container c's waiting message, when c is given) quote for c.
func createErrorMessages(p *podInfo, c *containerInfo) (msgs []string, ids []int) {
	if c != nil {
		ids = append(ids, c.IDs...)
		if m := strings.TrimSpace(c.State.Message); m != "" {
			msgs = append(msgs, m)
		}
	}
	for _, e := range p.warnings("Failed") {
		if !strings.HasPrefix(e.Message, "Error: ") || isPullEvent(e) || containsAny(e.Message, "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError") {
			continue
		}
		if c != nil {
			if m := eventContainer.FindStringSubmatch(e.Message); m != nil && m[1] != c.Name {
				continue // another container's
			}
		}
		msgs = append(msgs, strings.TrimPrefix(e.Message, "Error: "))
		ids = addID(ids, e.Item)
	}
	return msgs, ids
}

// classifyCreateError names the cause a runtime's create error states.
func classifyCreateError(msg string) (category, culprit, what string, ok bool) {
	if m := createExecNotFound.FindStringSubmatch(msg); m != nil {
		return CategoryApplicationErr, "command " + m[1],
			fmt.Sprintf("its command %q is not in the image (executable file not found): the image or the pod's command is wrong", m[1]), true
	}
	if m := createMountSource.FindStringSubmatch(msg); m != nil {
		target := ""
		if t := createMountTarget.FindStringSubmatch(msg); t != nil {
			target = t[1]
		}
		if strings.Contains(m[1], "/volume-subpaths/") {
			// The kubelet prepared a subPath of a volume (often a ConfigMap
			// key) that the runtime cannot bind where the pod asks: a file
			// over a directory of the image, or a subPath gone stale.
			culprit, at := "subPath mount", ""
			if target != "" {
				culprit, at = "subPath mount at "+target, fmt.Sprintf(" at %q", target)
			}
			return CategoryMissingConfig, culprit,
				fmt.Sprintf("the subPath mount%s cannot be bind-mounted (%s): a file mounted over a directory of the image (or the reverse), or a stale subPath", at, m[2]), true
		}
		return CategoryStorage, "mount source " + m[1],
			fmt.Sprintf("the source %q of a hostPath mount cannot be bind-mounted (%s) on the node", m[1], m[2]), true
	}
	return "", "", "", false
}

func (a createErrorAnalyzer) Analyze(in *Input) []Finding {
	var fs []Finding
	for _, p := range collectPods(in) {
		var waiting []*containerInfo
		for _, c := range p.Containers {
			if c.State.Reason == "CreateContainerError" {
				waiting = append(waiting, c)
			}
		}
		switch {
		case len(waiting) > 0:
		case len(p.Containers) == 0 && (p.TableStatus == "CreateContainerError" || !p.stateKnown()):
			waiting = []*containerInfo{nil} // table or events only
		default:
			continue
		}
		for _, c := range waiting {
			msgs, ids := createErrorMessages(p, c)
			if len(msgs) == 0 {
				continue
			}
			msg := msgs[len(msgs)-1] // the latest
			cat, culprit, what, ok := classifyCreateError(msg)
			if !ok {
				if !p.stateKnown() {
					continue // events only: not known to be a create error
				}
				cat, culprit, what = CategoryUnknown, clip(msg, 120), "the runtime refuses it"
			}
			name := ""
			if c != nil {
				name = fmt.Sprintf("container %q of ", c.Name)
			}
			f := Finding{Analyzer: a.Name(), Category: cat, Object: p.ref(), Culprit: culprit,
				Summary:  fmt.Sprintf("%spod %s cannot be created (CreateContainerError): %s (%q)", name, p.path(), what, clip(msg, 240)),
				Evidence: addID(append([]int(nil), p.IDs...), ids...), Direct: true, Score: 0.9, Related: p.related()}
			switch {
			case cat == CategoryUnknown:
				f.Direct, f.Score = false, 0.55
			case !p.stateKnown():
				f.Direct, f.Score = false, 0.75 // events only: it may have started since
			}
			fs = append(fs, f)
		}
	}
	return finishFindings(fs)
}
