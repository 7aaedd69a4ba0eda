package wfs

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckEndpoint checks a bind endpoint given as flag: tcp://ADDR:PORT with
// PORT 1-65535 or * (a free port), or ipc://PATH. libzmq itself takes a
// port past 65535 modulo 65536 and binds somewhere else.
func CheckEndpoint(flag, ep string) error {
	if strings.HasPrefix(ep, "ipc://") && len(ep) > len("ipc://") {
		return nil
	}
	_, port, ok := splitTCP(ep)
	if !ok {
		return fmt.Errorf("%s %q: want tcp://ADDR:PORT or ipc://PATH", flag, ep)
	}
	if port == "*" {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s %q: port %q: want 1-65535 or *", flag, ep, port)
	}
	return nil
}

func splitTCP(ep string) (host, port string, ok bool) {
	rest, found := strings.CutPrefix(ep, "tcp://")
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
