package sns

import (
	"regexp"
	"strings"
)

// snsHost matches an SNS regional endpoint: sns.<region>.amazonaws.com, or
// .amazonaws.com.cn for the China regions.
var snsHost = regexp.MustCompile(`^sns\.([a-z]{2}(?:-gov)?-[a-z]+-[0-9]+)\.amazonaws\.com(\.cn)?$`)

// IsSNSHost reports whether host (a URL's Host: name and optional port) is an
// SNS regional endpoint, the only hosts SNS signing certificates and
// subscription URLs are served from: sns.<region>.amazonaws.com, and
// sns.cn-<…>.amazonaws.com.cn for the China partition (a cn- region on
// .com, or another region on .com.cn, is refused). Regions look like
// us-east-1, us-gov-west-1 or cn-north-1. Only port 443 may be given.
// Anything else is refused: upper case, user info, a trailing dot, IP
// literals and lookalikes such as sns.us-east-1.amazonaws.com.evil.com.
func IsSNSHost(host string) bool {
	if len(host) > 100 { // the longest valid host is far shorter
		return false
	}
	name, port, hasPort := strings.Cut(host, ":")
	if hasPort && port != "443" {
		return false
	}
	m := snsHost.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	china := m[2] != ""
	return china == strings.HasPrefix(m[1], "cn-")
}
