package endpoint

import (
	"fmt"
	"strings"
)

// ValidateProject reports whether name is a valid SLS project name: 3 to 63
// characters, only lower-case letters, digits and hyphens, starting and
// ending with a letter or digit. The error names the broken rule.
func ValidateProject(name string) error {
	if rule := checkName(name, 3, 63, "-", "project names"); rule != "" {
		return fmt.Errorf("endpoint: invalid project name %q: %s", name, rule)
	}
	return nil
}

// ValidateLogstore reports whether name is a valid SLS logstore name: 2 to
// 63 characters, only lower-case letters, digits, "_" and "-", starting and
// ending with a letter or digit. The error names the broken rule.
//
// A Kafka topic such as "app.json" is not a logstore name; the logstore is
// "app".
func ValidateLogstore(name string) error {
	if base, ok := strings.CutSuffix(name, ".json"); ok && checkName(base, 2, 63, "_-", "") == "" {
		return fmt.Errorf("endpoint: invalid logstore name %q: pass the logstore name %q without the \".json\" topic suffix", name, base)
	}
	if rule := checkName(name, 2, 63, "_-", "logstore names"); rule != "" {
		return fmt.Errorf("endpoint: invalid logstore name %q: %s", name, rule)
	}
	return nil
}

// ValidateRegion reports whether id looks like an Alibaba Cloud region id:
// lower-case, hyphen-separated words of letters and digits, the first of
// them letters, such as "cn-hangzhou", "ap-southeast-1" or
// "cn-shanghai-finance-1". It rejects SLS endpoints and the "-intranet"
// suffix, which selects the network rather than the region. It does not
// check that the region exists.
func ValidateRegion(id string) error {
	if rule := checkRegion(id); rule != "" {
		return fmt.Errorf("endpoint: invalid region id %q: %s", id, rule)
	}
	return nil
}

// checkName returns the first rule name breaks, or "" if it is valid. extra
// holds the punctuation allowed besides lower-case letters and digits; what
// is the subject of the rule sentences ("project names").
func checkName(name string, minLen, maxLen int, extra, what string) string {
	allowed := "lower-case letters, digits and hyphens"
	if strings.Contains(extra, "_") {
		allowed = `lower-case letters, digits, "_" and "-"`
	}
	switch {
	case name == "":
		return "the name is empty"
	case len(name) < minLen || len(name) > maxLen:
		return fmt.Sprintf("%s are %d to %d characters long, this one has %d", what, minLen, maxLen, len(name))
	}
	for i, r := range name {
		switch {
		case isLowerAlnum(r), strings.ContainsRune(extra, r):
			continue
		case r >= 'A' && r <= 'Z':
			return fmt.Sprintf("%s are lower-case (use %q)", what, strings.ToLower(name))
		default:
			return fmt.Sprintf("%s contain only %s, found %q at byte %d", what, allowed, r, i)
		}
	}
	if !isLowerAlnum(rune(name[0])) || !isLowerAlnum(rune(name[len(name)-1])) {
		return fmt.Sprintf("%s start and end with a lower-case letter or digit", what)
	}
	return ""
}

// checkRegion returns the first rule id breaks, or "" if it is valid.
func checkRegion(id string) string {
	const example = "such as cn-hangzhou, ap-southeast-1 or cn-shanghai-finance-1"
	switch {
	case id == "":
		return "the region id is empty: pass the region of the project, " + example
	case len(id) > 63:
		return fmt.Sprintf("region ids are at most 63 characters long, this one has %d", len(id))
	case strings.Contains(id, "."):
		return "a region id has no dots: pass only the region, " + example + ", or call endpoint.FromSLS with the SLS endpoint"
	case strings.ToLower(id) != id:
		return fmt.Sprintf("region ids are lower-case (use %q)", strings.ToLower(id))
	case strings.HasSuffix(id, intranetSuffix):
		return fmt.Sprintf("the %q suffix selects the network, not the region: pass %q and endpoint.Intranet", intranetSuffix, strings.TrimSuffix(id, intranetSuffix))
	}
	for i, r := range id {
		if !isLowerAlnum(r) && r != '-' {
			return fmt.Sprintf("region ids contain only lower-case letters, digits and hyphens, found %q at byte %d", r, i)
		}
	}
	words := strings.Split(id, "-")
	if len(words) < 2 {
		return "region ids have at least two hyphen-separated words, " + example
	}
	for _, w := range words {
		if w == "" {
			return "region ids are words separated by single hyphens, " + example
		}
	}
	for _, r := range words[0] {
		if r < 'a' || r > 'z' {
			return "region ids start with letters, " + example
		}
	}
	return ""
}

func isLowerAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }
