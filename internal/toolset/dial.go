package toolset

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"
)

// SafeDialer returns a dial function that refuses link-local addresses
// (169.254.0.0/16, fe80::/10): cloud metadata services answer there with
// the host's credentials, and a toolset URL an org admin sets through the
// API must not reach them. The check runs on the address actually dialled,
// after DNS resolution, so a name resolving there is refused too.
func SafeDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				host = address
			}
			if ip := net.ParseIP(host); ip != nil && (ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast()) {
				return fmt.Errorf("refusing to connect to the link-local address %s (cloud metadata service)", host)
			}
			return nil
		}}
	return d.DialContext
}
