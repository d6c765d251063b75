package storage

import (
	"errors"
	"net"
	"syscall"
)

// DescribeNetError words the network failures every network backend
// meets, in German for the user: an unknown host, a refused or reset
// connection, an unreachable host or network. It returns "" for anything
// else, which the backend words itself.
func DescribeNetError(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return "Hostname unbekannt"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Verbindung abgelehnt"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return "Host nicht erreichbar"
	case errors.Is(err, syscall.ENETUNREACH):
		return "Netz nicht erreichbar"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "Verbindung vom Server zurückgesetzt"
	}
	return ""
}
