package endpoint

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
)

// Ports on which SLS serves the Kafka protocol.
const (
	// PublicPort is the Kafka port of the public endpoint.
	PublicPort = 10012
	// IntranetPort is the Kafka port of the intranet endpoint.
	IntranetPort = 10011
)

// domain is the DNS suffix shared by every SLS endpoint.
const domain = ".log.aliyuncs.com"

// intranetSuffix turns a region id into the intranet host label.
const intranetSuffix = "-intranet"

// Network selects the network an SLS Kafka endpoint is reached on. The zero
// value is [Public].
type Network int

const (
	// Public is the endpoint on the internet,
	// <project>.<region>.log.aliyuncs.com:10012. It works from anywhere,
	// including from inside Alibaba Cloud.
	Public Network = iota
	// Intranet is the endpoint on the Alibaba Cloud internal network (VPC),
	// <project>.<region>-intranet.log.aliyuncs.com:10011. It works only from
	// Alibaba Cloud in the project's region.
	Intranet
)

// String returns "public" or "intranet".
func (n Network) String() string {
	switch n {
	case Public:
		return "public"
	case Intranet:
		return "intranet"
	}
	return "Network(" + strconv.Itoa(int(n)) + ")"
}

// Port returns the Kafka port SLS serves on the network: [PublicPort] or
// [IntranetPort]. It returns 0 for a value that is neither [Public] nor
// [Intranet].
func (n Network) Port() int {
	switch n {
	case Public:
		return PublicPort
	case Intranet:
		return IntranetPort
	}
	return 0
}

// MarshalText returns "public" or "intranet", so that a Network can be
// written to JSON, YAML or TOML configuration.
func (n Network) MarshalText() ([]byte, error) {
	if n != Public && n != Intranet {
		return nil, fmt.Errorf("endpoint: cannot marshal %v: use endpoint.Public or endpoint.Intranet", n)
	}
	return []byte(n.String()), nil
}

// UnmarshalText accepts "public" or "intranet" (in any case, surrounding
// spaces ignored), so that a Network can be read from configuration files and
// environment variables.
func (n *Network) UnmarshalText(text []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(text))) {
	case "public":
		*n = Public
	case "intranet":
		*n = Intranet
	default:
		return fmt.Errorf("endpoint: unknown network %q: use \"public\" or \"intranet\"", text)
	}
	return nil
}

// Endpoint is the address of an SLS Kafka endpoint, or of anything that
// speaks like one (an emulator, a private link).
type Endpoint struct {
	// Host is a DNS name or an IP address, without brackets for IPv6.
	Host string
	// Port is the TCP port.
	Port int
}

// String returns "host:port", with brackets around an IPv6 host, in the form
// Kafka clients take as a seed broker.
func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// For returns the Kafka endpoint of an SLS project:
// <project>.<region>.log.aliyuncs.com:10012 on [Public], and
// <project>.<region>-intranet.log.aliyuncs.com:10011 on [Intranet].
//
// The project and region are validated with [ValidateProject] and
// [ValidateRegion]; region is the bare region id ("cn-hangzhou"), the network
// is chosen by n.
func For(project, region string, n Network) (Endpoint, error) {
	if err := ValidateProject(project); err != nil {
		return Endpoint{}, err
	}
	if err := ValidateRegion(region); err != nil {
		return Endpoint{}, err
	}
	switch n {
	case Public:
		return Endpoint{Host: project + "." + region + domain, Port: PublicPort}, nil
	case Intranet:
		return Endpoint{Host: project + "." + region + intranetSuffix + domain, Port: IntranetPort}, nil
	}
	return Endpoint{}, fmt.Errorf("endpoint: unknown network %v: use endpoint.Public or endpoint.Intranet", n)
}

// FromSLS returns the Kafka endpoint of project from the SLS HTTP endpoint
// of its region, the value most SLS configurations already hold. It accepts
//
//	cn-hangzhou.log.aliyuncs.com                  public,   port 10012
//	cn-hangzhou-intranet.log.aliyuncs.com         intranet, port 10011
//	https://cn-shanghai-finance-1.log.aliyuncs.com/
//	my-project.cn-hangzhou.log.aliyuncs.com:10012 (a Kafka bootstrap address)
//
// with or without http:// or https://, a trailing slash or dot, surrounding
// spaces, in any case, and with port 80, 443 or the Kafka port of its network.
// The project is prepended unless the endpoint already starts with it; an
// endpoint that starts with another project is an error.
//
// For a host that is not an SLS endpoint, use [Parse].
func FromSLS(project, slsEndpoint string) (Endpoint, error) {
	if err := ValidateProject(project); err != nil {
		return Endpoint{}, err
	}
	shown := withoutUserInfo(slsEndpoint)
	s := strings.ToLower(strings.TrimSpace(slsEndpoint))
	if s == "" {
		return Endpoint{}, errors.New("endpoint: SLS endpoint is empty: pass the endpoint of the project's region, such as cn-hangzhou.log.aliyuncs.com")
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if scheme != "http" && scheme != "https" {
			return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q has scheme %q: pass the host, such as cn-hangzhou.log.aliyuncs.com, optionally after http:// or https://", shown, scheme)
		}
		s = rest
	}
	s = strings.TrimRight(s, "/")
	if strings.ContainsAny(s, "/?#@") {
		return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q has a path, query or user: pass only the host, such as cn-hangzhou.log.aliyuncs.com", shown)
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q contains white space: pass only the host, such as cn-hangzhou.log.aliyuncs.com", shown)
	}

	host, port := s, 0
	if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q: %w; pass the host, such as cn-hangzhou.log.aliyuncs.com", shown, err)
		}
		n, ok := parsePort(p)
		if !ok {
			return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q has port %q, which is not a number between 1 and 65535: leave the port out", shown, p)
		}
		host, port = h, n
	}
	host = strings.TrimSuffix(host, ".")

	rest, ok := strings.CutSuffix(host, domain)
	if !ok || rest == "" {
		if checkRegion(host) == "" {
			return Endpoint{}, fmt.Errorf("endpoint: %q is a region id, not an SLS endpoint: call endpoint.For(project, %q, endpoint.Public) or pass %s%s", shown, host, host, domain)
		}
		if near := nearDomain(host); near != "" {
			return Endpoint{}, fmt.Errorf("endpoint: %q is not an SLS endpoint (<region>%s or <region>-intranet%s): did you mean %s?", shown, domain, domain, near)
		}
		return Endpoint{}, fmt.Errorf("endpoint: %q is not an SLS endpoint (<region>%s or <region>-intranet%s): fix the endpoint, or call endpoint.Parse for a literal host:port such as an emulator or a private link", shown, domain, domain)
	}

	// rest is "<region>[-intranet]" or "<project>.<region>[-intranet]".
	if p, r, ok := strings.Cut(rest, "."); ok {
		if p != project {
			return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q belongs to project %q, not %q: remove the project from the endpoint or fix the project name", shown, p, project)
		}
		rest = r
	}
	if strings.Contains(rest, ".") {
		return Endpoint{}, fmt.Errorf("endpoint: %q is not an SLS endpoint (<region>%s or <region>-intranet%s): fix the endpoint, or call endpoint.Parse for a literal host:port", shown, domain, domain)
	}

	region, n := rest, Public
	if r, ok := strings.CutSuffix(rest, intranetSuffix); ok {
		region, n = r, Intranet
	}
	if r, ok := strings.CutSuffix(region, "-share"); ok {
		if checkRegion(r) != "" {
			return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q is a cross-region (-share) endpoint, and SLS serves Kafka only on the public and intranet endpoints: use <region>%s (public) or <region>-intranet%s (VPC), or call endpoint.Parse for a literal host:port", shown, domain, domain)
		}
		return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q is the cross-region (-share) endpoint, and SLS serves Kafka only on the public and intranet endpoints: use %s%s (public) or %s-intranet%s (VPC), or call endpoint.Parse for a literal host:port", shown, r, domain, r, domain)
	}
	if rule := checkRegion(region); rule != "" {
		return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q names region %q, which is not a region id: %s", shown, region, rule)
	}
	if port != 0 && port != 80 && port != 443 && port != n.Port() {
		return Endpoint{}, fmt.Errorf("endpoint: SLS endpoint %q has port %d, but SLS serves Kafka on port %d on the %v network: leave the port out", shown, port, n.Port(), n)
	}
	return For(project, region, n)
}

// Parse parses a literal "host:port", such as "127.0.0.1:9093" or
// "[::1]:9093", for an emulator, a private link or a test. Surrounding spaces
// are ignored; the host is not checked against SLS naming.
func Parse(hostport string) (Endpoint, error) {
	shown := withoutUserInfo(hostport)
	s := strings.TrimSpace(hostport)
	if s == "" {
		return Endpoint{}, errors.New("endpoint: address is empty: write host:port, such as 127.0.0.1:9093")
	}
	if strings.Contains(s, "://") {
		return Endpoint{}, fmt.Errorf("endpoint: address %q has a scheme: write host:port without it, or call endpoint.FromSLS for an SLS endpoint", shown)
	}
	if strings.Contains(s, "@") {
		return Endpoint{}, fmt.Errorf("endpoint: address %q has user info: write host:port; credentials go in Config.Credentials", shown)
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		host := strings.ToLower(strings.TrimRight(s, "/."))
		if !strings.Contains(host, ":") {
			// net's "missing port in address" does not say what to do.
			switch {
			case strings.HasSuffix(host, domain):
				return Endpoint{}, fmt.Errorf("endpoint: address %q has no port: for an SLS endpoint call endpoint.FromSLS, which adds the project and the Kafka port", shown)
			case nearDomain(host) != "":
				return Endpoint{}, fmt.Errorf("endpoint: address %q has no port, and its domain is not SLS's: did you mean %s? For an SLS endpoint call endpoint.FromSLS, which adds the project and the Kafka port", shown, nearDomain(host))
			}
			return Endpoint{}, fmt.Errorf("endpoint: address %q has no port: write host:port, such as 127.0.0.1:9093 or [::1]:9093", shown)
		}
		return Endpoint{}, fmt.Errorf("endpoint: address %q: %w; write host:port, such as 127.0.0.1:9093 or [::1]:9093", shown, err)
	}
	if h == "" {
		return Endpoint{}, fmt.Errorf("endpoint: address %q has no host: write host:port, such as 127.0.0.1:9093", shown)
	}
	n, ok := parsePort(p)
	if !ok {
		return Endpoint{}, fmt.Errorf("endpoint: address %q has port %q: write a port number between 1 and 65535", shown, p)
	}
	return Endpoint{Host: h, Port: n}, nil
}

// parsePort accepts a decimal port from 1 to 65535, without sign.
func parsePort(p string) (int, bool) {
	n, err := strconv.ParseUint(p, 10, 16)
	return int(n), err == nil && n > 0
}

// withoutUserInfo returns s with anything before an '@' replaced, so that
// errors quoting a mistyped endpoint never repeat a password in it.
func withoutUserInfo(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	prefix := ""
	if scheme, _, ok := strings.Cut(s[:at], "://"); ok {
		prefix = scheme + "://"
	}
	return prefix + "[user info not shown]" + s[at:]
}

// Warning returns a warning about e for its user, or "" when there is
// none. An endpoint in a region that is not an SLS region this package knows
// of ("cn-hangzou"), or on a host whose domain is close to SLS's but not it
// ("log.aliyuncs.con"), is most likely mistyped, and would otherwise show
// only when its name fails to resolve. The warning names the closest known
// region or the SLS domain. It is not an error: For, FromSLS and Parse
// accept such endpoints, so that a region opened after this release works.
// Log it where the user will see it; producer.New logs it to Config.Logger.
func (e Endpoint) Warning() string {
	host := strings.TrimSuffix(strings.ToLower(e.Host), ".")
	rest, ok := strings.CutSuffix(host, domain)
	if !ok {
		if near := nearDomain(host); near != "" {
			return fmt.Sprintf("endpoint: host %q is not an SLS endpoint: did you mean %s?", e.Host, near)
		}
		return ""
	}
	region := rest[strings.LastIndexByte(rest, '.')+1:] // after the project, if any
	region = strings.TrimSuffix(region, intranetSuffix)
	if checkRegion(region) != "" {
		return "" // no region id at all: For and FromSLS refuse such hosts
	}
	return regionWarning(region)
}

// nearDomain returns host with its domain replaced by SLS's when the domain
// is a typo of it ("log.aliyuncs.con", "log.aliyun.com"), or "".
func nearDomain(host string) string {
	labels := strings.Split(host, ".")
	if strings.HasSuffix(host, domain) || len(labels) < 4 {
		return ""
	}
	// The last three labels against "log.aliyuncs.com".
	if distance(strings.Join(labels[len(labels)-3:], "."), domain[1:]) > 2 {
		return ""
	}
	return strings.Join(labels[:len(labels)-3], ".") + domain
}
